/* client.h: one request/reply exchange with apilogind over its Unix socket, bounded by a
 * deadline. Used by the PAM module and apiloginctl; no threads, no signals, no allocation. */
#pragma once

#include "proto.h"

/* Connect to socket_path, send req, wait for the reply until timeout_ms has passed in all
 * (connect + send + receive), and decode it into ret_reply.
 * Returns 0, or -ENOENT/-ECONNREFUSED (no daemon), -ETIMEDOUT, -EBADMSG/-EPROTO (bad
 * reply), or another -errno. The encoded request (which may hold a secret) is wiped. */
int apilogin_client_call(const char *socket_path, const struct apilogin_msg *req,
                         struct apilogin_msg *ret_reply, int timeout_ms);
