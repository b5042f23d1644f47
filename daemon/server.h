/* server.h: apilogind's socket server and the daemon's shared state.
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
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "outcome.h"
#include "proto.h"

#define SERVER_IDLE_MS 10000     /* between requests */
#define SERVER_READ_MS 3000      /* a request, from its first byte to its last */
#define SERVER_LIFETIME_MS 30000 /* a connection, whatever it does (plus the login timeout) */
#define SRV_SESSION_MAX 64
#define SRV_PATH_MAX 256

struct loop;
struct apilogin_http;
struct apilogin_users;
struct lockout;
struct sessions;
struct logins;
struct server;
struct client;

/* A config with a reference count: the daemon holds one reference to the current config,
 * and every login in flight holds one to the config it started with, so a reload (SIGHUP)
 * never frees a provider section under a running login. */
struct cfg_box {
        struct apilogin_config *cfg;
        unsigned refs;
};

/* Wrap cfg (taken) with one reference; NULL on ENOMEM (cfg is then freed). */
struct cfg_box *cfg_box_new(struct apilogin_config *cfg);
struct cfg_box *cfg_box_ref(struct cfg_box *b);
/* Drop a reference; the last one frees the config. Accepts NULL; returns NULL. */
struct cfg_box *cfg_box_unref(struct cfg_box *b);

/* Everything the parts of the daemon share. Owned by main.c. */
struct apilogind {
        struct cfg_box *cfgbox;             /* current config */
        const struct apilogin_config *cfg;  /* == cfgbox->cfg */
        struct loop *loop;
        struct apilogin_http *http;
        struct localusers *local;           /* the local accounts (/etc/passwd) */
        struct apilogin_users *users;
        struct lockout *lockout;
        struct sessions *sessions;
        struct logins *logins;
        struct server *server;
        bool stopping;                      /* SIGTERM seen: finish, accept nothing new */
};

/* A reply; empty strings / false flags are "absent". message NULL means
 * apilogin_outcome_message(outcome). */
struct srv_reply {
        enum apilogin_outcome outcome;
        const char *message;
        bool has_uid;
        uint32_t uid;
        char session[SRV_SESSION_MAX + 1];   /* proto.h limit of the session tag */
        char token_file[SRV_PATH_MAX + 1];   /* limit of the token_file tag */
        const char *text;
        bool has_timeout;                    /* QUERY: how long an AUTH may take */
        uint32_t timeout_ms;
};

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

/* Peer credentials of c (SO_PEERCRED at accept). */
uid_t server_client_uid(const struct client *c);
pid_t server_client_pid(const struct client *c);
