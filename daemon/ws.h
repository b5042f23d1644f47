/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws.h: one WebSocket request/reply exchange (RFC 6455, client side), for login APIs that
 * speak JSON over a WebSocket (ws_auth, protocols.md section 3). The exchange:
 *
 *   1. connect: a CONNECT_ONLY transfer on the daemon's curl multi (apilogin_http_connect),
 *      so DNS, TCP and TLS are asynchronous and TLS is verified exactly as for https; the
 *      URL's ws:// / wss:// is read as http:// / https:// and the URL policy is
 *      apilogin_http_url_allowed's;
 *   2. handshake: GET with Upgrade: websocket and a random 16-byte Sec-WebSocket-Key
 *      (getrandom); the answer must be 101 with Upgrade/Connection and
 *      Sec-WebSocket-Accept = base64(SHA-1(key + RFC GUID)), no extension, no subprotocol;
 *   3. one masked text frame carrying the request (a secret: wiped once framed and once
 *      sent);
 *   4. frames are read until the reply: server frames must be unmasked with clear RSV
 *      bits; fragmented messages are reassembled; pings are answered with a pong of the
 *      same payload, pongs ignored; a frame or message over APILOGIN_WS_MSG_MAX, a binary
 *      message or a broken fragment sequence ends the exchange. A text message is the
 *      reply when it is a JSON object whose requestId is the request's match_id, or when
 *      it is not a JSON object at all (so a garbled answer fails fast, in the driver);
 *      a {"method":"event",...} notification or a reply to another requestId is skipped;
 *   5. a close frame (1000) is sent, and the connection closed.
 *
 * All I/O is non-blocking on the daemon's one loop: the socket is watched with loop_add_io
 * and read and written through curl_easy_recv/curl_easy_send; a loop timer cuts the
 * exchange at its deadline. This file never logs; failures travel as -errno in the
 * response, as for HTTP (http.h). Framing is our own rather than libwslay's: wslay copies
 * every payload (the PIN going out, the token coming in) into buffers it frees without
 * wiping, and it has no allocator hooks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "http.h"

#define APILOGIN_WS_MSG_MAX (64 * 1024)  /* largest frame or message accepted */
#define APILOGIN_WS_HEAD_MAX (8 * 1024)  /* largest handshake answer (status + headers) */
#define APILOGIN_WS_SKIP_MAX 256         /* messages skipped before the reply, at most */
#define APILOGIN_WS_STATUS 101           /* resp->status of every reply handed over */
/* Control frames (pongs) queued but not yet taken by the socket, at most: a server that
 * sends pings and never reads gets its connection closed (-ENOBUFS) past this, so the
 * outgoing queue never holds more than the handshake, the request frame and this. */
#define APILOGIN_WS_CTRL_QUEUE_MAX 4096

struct loop;
struct apilogin_ws;

/* Start an exchange. Takes ownership of *req (cleared on return, success or not): req->url
 * is the ws:// or wss:// endpoint (a path and query are kept; no fragment), req->body the
 * text of the request frame (1..APILOGIN_WS_MSG_MAX bytes, may hold a secret), and
 * req->match_id the requestId the reply must carry (NULL: the first message that is not
 * an event). The other members of req are ignored. deadline_ms is CLOCK_MONOTONIC ms.
 *
 * done is called exactly once (unless apilogin_ws_cancel comes first) with either the
 * reply (transport_error 0, status APILOGIN_WS_STATUS, body = the message text,
 * NUL-terminated) or a transport error: -ECONNREFUSED, -ETIMEDOUT (deadline), -EPROTO
 * (TLS, a handshake that is not a valid 101 (status then holds the HTTP status), a
 * protocol violation), -EMSGSIZE (over APILOGIN_WS_MSG_MAX or APILOGIN_WS_SKIP_MAX),
 * -ENOBUFS (pings answered faster than the server reads: APILOGIN_WS_CTRL_QUEUE_MAX),
 * -ECONNRESET (closed before the reply), -EIO, -ENOMEM. done may start or cancel other
 * exchanges and transfers; resp is cleared after it returns.
 *
 * Refusals come back at once without a callback: -EPERM (not ws:// or wss://, or the URL
 * policy), -EINVAL (no body, body too long, bad URL), -ETIMEDOUT (deadline passed),
 * -ENOMEM. Returns 0 and the exchange in *ret (may be NULL if not wanted). */
int apilogin_ws_start(struct apilogin_http *h, struct loop *loop,
                      const struct apilogin_provider_cfg *p, struct apilogin_http_req *req,
                      uint64_t deadline_ms, apilogin_http_done_fn done, void *userdata,
                      struct apilogin_ws **ret);

/* ---- spares: a connection opened ahead of its exchange ------------------------------------
 * A spare is connected and through the opening handshake before any request exists, so that
 * an exchange started on it costs one round trip (ws_warm.h keeps one per endpoint). While
 * idle it answers pings and skips whatever messages arrive; when it fails or the server
 * closes it, gone is called once (error -errno; was_open: the handshake had completed) and
 * the spare is freed after gone returns. */
typedef void (*apilogin_ws_gone_fn)(void *userdata, struct apilogin_ws *w, int error,
                                    bool was_open);

/* Open a spare to url (refusals as for apilogin_ws_start); deadline_ms bounds the connect
 * and the handshake only. Returns 0 and the spare in *ret. */
int apilogin_ws_spare_open(struct apilogin_http *h, struct loop *loop,
                           const struct apilogin_provider_cfg *p, const char *url,
                           uint64_t deadline_ms, apilogin_ws_gone_fn gone, void *userdata,
                           struct apilogin_ws **ret);

/* Whether w is a spare through its handshake, idle, with its connection open. */
bool apilogin_ws_spare_ready(const struct apilogin_ws *w);

/* Start an exchange on a ready spare: from here w is an exchange as apilogin_ws_start makes
 * (done, apilogin_ws_cancel), to the URL the spare was opened for, which the caller
 * matched. On success takes *req (cleared). On failure *req is untouched and w is either
 * still a spare (-EINVAL, -ETIMEDOUT, -ENOMEM) or, when the server had closed it meanwhile
 * (-ECONNRESET), ended: gone was called before this returns. */
int apilogin_ws_spare_use(struct apilogin_ws *w, struct apilogin_http_req *req,
                          uint64_t deadline_ms, apilogin_http_done_fn done, void *userdata);

/* Abort an exchange whose done callback has not started, or a spare: the connection is
 * closed at once (no close frame), neither done nor gone is called, every buffer is wiped.
 * Accepts NULL. */
void apilogin_ws_cancel(struct apilogin_ws *w);

/* Bytes queued to send on w's connection and not yet taken by the socket (for tests). */
size_t apilogin_ws_queued(const struct apilogin_ws *w);

/* Whether url is a ws:// or wss:// URL (scheme only, case-insensitive; no policy check). */
bool apilogin_ws_url(const char *url);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC 6455 GUID)),
 * 28 characters and a NUL into out. Pure. */
void apilogin_ws_accept_key(const char *key, char out[29]);
