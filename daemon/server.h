/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server.h: apilogind's socket server.
 *
 * The server owns the listening socket (from systemd, or created at cfg->socket_path) and
 * every client connection: it reads one whole request at a time (proto.h framing), checks
 * the caller's SO_PEERCRED against the request type, dispatches it, writes the reply
 * (non-blocking, buffered) and then waits for the next request on the same connection.
 * Who may hold how many connections and send how many requests is admit.h's business;
 * every connection also has a hard lifetime, and a request must arrive whole within
 * SERVER_READ_MS of its first byte, so slow or stuck peers are dropped.
 * A handler answers through server_reply, at once or later (AUTH waits for the API). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "apilogind.h"
#include "reply.h"

#define SERVER_IDLE_MS 10000     /* between requests */
#define SERVER_READ_MS 3000      /* a request, from its first byte to its last */
#define SERVER_LIFETIME_MS 30000 /* a connection, whatever it does (plus the login timeout) */

struct server;
struct client;

/* Open the listening socket: the one systemd passed (sd_listen_fds), else cfg->socket_path
 * (parent directory made 0755 if missing, a stale socket replaced, mode 0666), and watch
 * it in d->loop. 0 or -errno (logged here, with the path). */
int server_new(struct apilogind *d, struct server **ret);

/* Close every client and the listening socket (unlinking a socket it created). Accepts
 * NULL; returns NULL. Logins in flight must have been detached or finished. */
struct server *server_free(struct server *s);

/* Stop accepting and close idle clients; busy ones are closed once answered. */
void server_stop(struct server *s);

/* Number of open client connections. */
unsigned server_clients(const struct server *s);

/* Answer the request c is waiting on. Only valid while c is busy (between its dispatch and
 * its reply); c stays valid until the next loop iteration at least. Never fails: a client
 * that can not be written to is closed. */
void server_reply(struct client *c, const struct srv_reply *r);
