/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws_warm.h: WebSocket logins at one round trip. A WebSocket login on a fresh connection
 * pays TCP, TLS and the upgrade before its request (4 round trips), and ws_auth cannot
 * reuse a connection: `auth` binds it to one role. So for every ws:// or wss:// endpoint
 * that served a login recently, with keep_warm = yes (the default), a spare connection is
 * kept open through its handshake (ws.h), and the next login sends its request on it at
 * once; another spare is opened behind it. A burst of logins that outruns the spares being
 * opened raises the number kept for that endpoint, up to WS_WARM_PER_ENDPOINT; unused
 * extras are closed again. Bounded like http.c's warm connections: WS_WARM_MAX endpoints,
 * only for the warm window after the endpoint's last login (APILOGIND_WARM_FOR_S in tests),
 * re-opened when the server closes them, with a backoff after a failed open or a spare
 * that died young.
 *
 * One pool per process: the daemon has one loop and one curl multi. */
#pragma once

#include <stdint.h>

#include "conf.h"
#include "http.h"
#include "ws.h"

#define WS_WARM_MAX 16          /* endpoints */
#define WS_WARM_PER_ENDPOINT 4  /* spares of one endpoint, at most */

struct loop;

/* apilogin_ws_start, on the endpoint's spare when one is ready (same URL, CA file, proxy
 * and insecure_http), on a new connection otherwise. Same contract as apilogin_ws_start. */
int apilogin_ws_warm_start(struct apilogin_http *h, struct loop *loop,
                           const struct apilogin_provider_cfg *p, struct apilogin_http_req *req,
                           uint64_t deadline_ms, apilogin_http_done_fn done, void *userdata,
                           struct apilogin_ws **ret);

/* Close every spare and forget every endpoint; before the loop and h are freed. */
void apilogin_ws_warm_free(void);
