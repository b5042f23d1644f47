/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* http.h: every HTTP exchange of apilogind, on one curl multi handle that the event loop
 * drives. Connections stay warm in the multi's pool between logins. Security settings are
 * applied here and nowhere else: TLS verification always on (optional CA file), protocols
 * limited to https (and http only for loopback hosts or insecure_http = yes), no
 * redirects, connect and total timeouts from the deadline, response bodies capped at
 * APILOGIN_HTTP_BODY_MAX. Request bodies and secret headers are wiped after the send.
 * Cookies go through libcurl's cookie engine, in a jar per login (struct
 * apilogin_http_jar): in memory only, never on disk, never logged. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "daemon/providers/driver.h"

/* The request and response types (struct apilogin_http_req, apilogin_http_resp) are the
 * drivers' (daemon/providers/driver.h); the transfers are this file's business. */
/* A new, empty cookie jar: libcurl's cookie engine on a share handle of its own, so that
 * the requests of one login (each on whatever easy handle the pool gives) see the cookies
 * the earlier ones received, matched by domain, path, expiry and Secure exactly as curl
 * does for a browser-like client, while no other login ever sees them. Nothing is read
 * from or written to a file. 0 or -ENOMEM. */
int apilogin_http_jar_new(struct apilogin_http_jar **ret);

/* Forget every cookie of the jar and free it. Transfers that used it must be done or
 * cancelled (a done callback may free it: the transfer has let go of the jar by then).
 * Accepts NULL; returns NULL. */
struct apilogin_http_jar *apilogin_http_jar_free(struct apilogin_http_jar *jar);

struct apilogin_http;      /* the multi handle and its pool */
struct apilogin_http_xfer; /* one transfer in flight */

/* Called once per transfer from apilogin_http_dispatch, with the response. The callee may
 * keep nothing from resp after returning (it is cleared right after). */
typedef void (*apilogin_http_done_fn)(void *userdata, struct apilogin_http_resp *resp);

int apilogin_http_new(struct apilogin_http **ret);
struct apilogin_http *apilogin_http_free(struct apilogin_http *h);

/* Check a URL against the rules (scheme https, or http/ws only when the host is loopback
 * or insecure_http is set). Returns 0 or -EPERM/-EINVAL. Pure; also used by config checks. */
int apilogin_http_url_allowed(const char *url, bool insecure_http);

/* Start a transfer. Takes ownership of *req (cleared on return, success or not).
 * deadline_ms is a CLOCK_MONOTONIC time in ms; the transfer is cut there. The provider
 * gives ca_file and insecure_http. done is called exactly once unless cancelled.
 * Returns 0 and the transfer in *ret_xfer (may be NULL if not wanted), or -errno. */
int apilogin_http_start(struct apilogin_http *h, const struct apilogin_provider_cfg *p,
                        struct apilogin_http_req *req, uint64_t deadline_ms,
                        apilogin_http_done_fn done, void *userdata,
                        struct apilogin_http_xfer **ret_xfer);

/* Abort a transfer in flight; its done callback is not called. */
void apilogin_http_cancel(struct apilogin_http *h, struct apilogin_http_xfer *x);

/* Called once when a connect-only transfer (apilogin_http_connect) ends: error 0 and easy,
 * the connected curl easy handle (a CURL *), or error -errno as in transport_error, easy
 * NULL and why as in resp.why (valid during the call only). The handle stays attached to
 * the multi, since curl closes a CONNECT_ONLY connection when its handle leaves the multi;
 * the callee owns it from here, uses curl_easy_send/recv on it, and must give it back
 * with apilogin_http_disconnect. */
typedef void (*apilogin_http_connected_fn)(void *userdata, int error, const char *why,
                                          void *easy);

/* Open a TCP (http://) or TLS (https://, verified as every transfer is) connection to the
 * host of url through the multi, without sending anything: the transport of a WebSocket
 * (ws.c maps ws:// to http:// and wss:// to https://). Same URL policy, deadline and
 * refusals as apilogin_http_start; HTTP/1.1 only (no h2 by ALPN). connected is called
 * exactly once unless the transfer is cancelled (apilogin_http_cancel) before. */
int apilogin_http_connect(struct apilogin_http *h, const struct apilogin_provider_cfg *p,
                          const char *url, uint64_t deadline_ms,
                          apilogin_http_connected_fn connected, void *userdata,
                          struct apilogin_http_xfer **ret_xfer);

/* Close the connection of an easy handle handed over by a connected callback and free the
 * handle. Accepts NULL. */
void apilogin_http_disconnect(struct apilogin_http *h, void *easy);

/* For the event loop: wait on curl's sockets plus the caller's extra fds (struct pollfd
 * array, revents filled in) for at most timeout_ms, then run curl and call the done
 * callbacks of finished transfers. Returns 0 or -errno. */
struct pollfd;
int apilogin_http_poll(struct apilogin_http *h, struct pollfd *extra, unsigned n_extra,
                       int timeout_ms);

/* Number of transfers in flight. */
unsigned apilogin_http_in_flight(const struct apilogin_http *h);

/* Monotonic clock in ms, the time base of every deadline in the daemon. */
uint64_t apilogin_now_ms(void);

/* How long an endpoint is kept warm after its last login, in ms (10 minutes, or
 * APILOGIND_WARM_FOR_S in tests): ws_warm.c keeps its spares by the same window. */
uint64_t apilogin_http_warm_for_ms(const struct apilogin_http *h);

/* The keep-warm backoff both http.c and ws_warm.c follow: a connection closed sooner than
 * APILOGIN_WARM_MIN_LIFE_MS after it opened counts as a failure, as does a failed open;
 * after the n-th failure in a row the next open waits 1 s << n, at most 60 s. Pure. */
#define APILOGIN_WARM_MIN_LIFE_MS 500u
uint64_t apilogin_warm_backoff_ms(unsigned fails);
