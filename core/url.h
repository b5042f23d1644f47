/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* url.h: the one URL policy of apilogin, used by the config parser and by the daemon's
 * HTTP and WebSocket layers: https (wss), or plain http (ws) only to a loopback host
 * (127.0.0.0/8, [::1], localhost) or with insecure_http. Pure functions. */
#pragma once

#include <stdbool.h>

enum apilogin_url_verdict {
        APILOGIN_URL_OK,
        APILOGIN_URL_MALFORMED, /* no scheme://, empty host, bad port, userinfo, blanks... */
        APILOGIN_URL_SCHEME,    /* not https/http (wss/ws when ws is set) */
        APILOGIN_URL_INSECURE,  /* plain scheme to a non-loopback host without insecure_http */
};

/* Judge url; ws selects the WebSocket schemes (wss, ws) instead of https, http. Numeric
 * hosts must be strict dotted quads ("127.1" is not loopback), userinfo is refused. */
enum apilogin_url_verdict apilogin_url_check(const char *url, bool ws, bool insecure_http);
