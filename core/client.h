/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client.h: one request/reply exchange with apilogind over its Unix socket, bounded by a
 * deadline. Used by the PAM module and apiloginctl; no threads, no signals, no allocation. */
#pragma once

#include "proto.h"

/* Connect to socket_path, check that the peer is root (SO_PEERCRED uid 0), send req, wait
 * for the reply until timeout_ms has passed in all (connect + send + receive), and decode
 * it into ret_reply.
 * Returns 0, or -ENOENT/-ECONNREFUSED (no daemon), -EPERM (the socket is served by a
 * process that is not root: nothing was sent), -ETIMEDOUT, -EBADMSG/-EPROTO (bad
 * reply), or another -errno. The encoded request (which may hold a secret) is wiped. */
int apilogin_client_call(const char *socket_path, const struct apilogin_msg *req,
                         struct apilogin_msg *ret_reply, int timeout_ms);

/* A connection kept for the next request of the same caller: the PAM module sends its
 * QUERY and the AUTH (or ACCT, OPEN, CLOSE) that follows on one connection, saving a
 * connect and a peer check per login. Start from APILOGIN_CLIENT_INIT; close with
 * apilogin_client_close. */
struct apilogin_client {
        int fd;              /* -1: none */
        long long used_ms;   /* CLOCK_MONOTONIC ms of its last reply */
};
#define APILOGIN_CLIENT_INIT { .fd = -1, .used_ms = 0 }

/* A connection idle longer than this is not reused: apilogind closes connections idle for
 * 10 s (SERVER_IDLE_MS), and a request must never race that close. */
#define APILOGIN_CLIENT_REUSE_MS 5000

/* As apilogin_client_call, on c's connection when it is fresh, else on a new one (kept in
 * c for the next call). A kept connection found closed before the request went out (the
 * daemon restarted) is replaced once; one that fails later is not retried, since the
 * daemon may have acted on the request. On failure c is closed. */
int apilogin_client_exchange(struct apilogin_client *c, const char *socket_path,
                             const struct apilogin_msg *req, struct apilogin_msg *ret_reply,
                             int timeout_ms);

void apilogin_client_close(struct apilogin_client *c);
