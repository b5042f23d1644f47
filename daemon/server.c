/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server.c: apilogind's Unix socket: listening, client connections, request framing, the
 * per-request rules on peer credentials, dispatch, and the small admin requests (see
 * server.h). Each client reads exactly one message at a time, so a request that is being
 * handled leaves any next one in the kernel's buffer until the reply is out. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "admin.h"
#include "admit.h"
#include "daemon/http.h"
#include "daemon/users.h"
#include "dlog.h"
#include "lockout.h"
#include "login.h"
#include "loop.h"
#include "macro.h"
#include "query.h"
#include "secure.h"
#include "server.h"
#include "sessions.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Deep enough for every connection a flooding uid can have waiting at once, so that a
 * full queue never turns root's connect() away before we get to see who it is. */
#define LISTEN_BACKLOG 4096
#define ACCEPT_BATCH 256
#define ACCEPT_PAUSE_MS 100   /* after EMFILE and friends */
#define TEXT_MAX 8192         /* proto.h limit of the text tag */

enum client_state {
        C_READ,   /* waiting for (the rest of) a request */
        C_BUSY,   /* a request is being handled */
        C_WRITE,  /* the reply is being written */
};

struct client {
        struct server *srv;
        struct client *prev, *next;
        int fd;
        struct ucred cred;
        enum client_state state;
        bool closing;             /* close at the next chance (set with the timer due now) */
        bool close_after_reply;
        struct login *login;      /* AUTH in flight, or NULL */
        struct loop_timer timer;  /* idle or read deadline, lifetime, or "close now" */
        uint64_t end_ms;          /* hard end of the connection's life */
        uint32_t body_len;
        size_t in_len, out_len, out_off;
        uint8_t in[APILOGIN_PROTO_MAX_MSG];
        uint8_t out[APILOGIN_PROTO_MAX_MSG];
};

struct server {
        struct apilogind *d;
        int fd;
        bool listening;
        char *created;            /* path of the socket we bound (unlinked at the end) */
        dev_t dev;
        ino_t ino;
        struct client *clients;
        unsigned n_clients;
        struct admit *admit;
        int reserve_fd;           /* spare descriptor, given up to accept when out of them */
        struct loop_timer accept_pause;
        struct apilogin_msg msg;  /* decoded request; wiped after each dispatch */
};

/* ---- config boxes ---------------------------------------------------------------------- */

struct cfg_box *cfg_box_new(struct apilogin_config *cfg)
{
        struct cfg_box *b = malloc(sizeof(*b));

        if (!b) {
                apilogin_config_free(cfg);
                return NULL;
        }
        *b = (struct cfg_box){ .cfg = cfg, .refs = 1 };
        return b;
}

struct cfg_box *cfg_box_ref(struct cfg_box *b)
{
        b->refs++;
        return b;
}

struct cfg_box *cfg_box_unref(struct cfg_box *b)
{
        if (b && --b->refs == 0) {
                apilogin_config_free(b->cfg);
                free(b);
        }
        return NULL;
}

/* ---- client lifetime ------------------------------------------------------------------- */

static void client_close(struct client *c)
{
        struct server *s = c->srv;

        login_detach(c->login);
        loop_remove_io(s->d->loop, c->fd);
        loop_timer_stop(s->d->loop, &c->timer);
        (void)close(c->fd);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_clients--;
        admit_conn_close(s->admit, c->cred.uid);
        apilogin_freezero(c, sizeof(*c));
}

/* Close c from a place where it may still be in use: at the end of this iteration. */
static void client_close_soon(struct client *c)
{
        c->closing = true;
        (void)loop_set_events(c->srv->d->loop, c->fd, 0);
        if (loop_timer_set(c->srv->d->loop, &c->timer, 0) < 0)
                dlog_err("Failed to schedule the closing of a client connection");
}

/* Close c in ms (0: at the end of its life), or at the end of its life if that is sooner.
 * false (and c closing) when the timer could not be set. */
static bool client_deadline(struct client *c, uint64_t ms)
{
        uint64_t when = ms ? apilogin_now_ms() + ms : c->end_ms;

        if (loop_timer_set(c->srv->d->loop, &c->timer, when < c->end_ms ? when : c->end_ms) < 0) {
                client_close_soon(c);
                return false;
        }
        return true;
}

static void client_idle(struct client *c)
{
        (void)client_deadline(c, SERVER_IDLE_MS);
}

static void on_client_timer(void *userdata)
{
        struct client *c = userdata;

        if (c->closing)
                ;
        else if (c->in_len > 0)
                admit_warn(c->srv->admit, c->cred.uid, c->cred.pid,
                           "a slow request (not whole within its read deadline)");
        else
                dlog_debug("Closing an %s client connection (uid %u, pid %d)",
                           apilogin_now_ms() >= c->end_ms ? "expired" : "idle",
                           (unsigned)c->cred.uid, (int)c->cred.pid);
        client_close(c);
}

/* ---- writing replies ------------------------------------------------------------------- */

/* The reply is out: wait for the next request (or close). */
static void reply_done(struct client *c)
{
        apilogin_secure_erase(c->out, c->out_len);
        c->out_len = c->out_off = 0;
        c->state = C_READ;
        if (c->close_after_reply || c->srv->d->stopping) {
                client_close_soon(c);
                return;
        }
        (void)loop_set_events(c->srv->d->loop, c->fd, POLLIN);
        client_idle(c);
}

static void client_flush(struct client *c)
{
        while (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        (void)loop_set_events(c->srv->d->loop, c->fd, POLLOUT);
                        client_idle(c);
                        return;
                }
                if (n < 0) {
                        dlog_debug("Failed to write a reply: %m");
                        client_close_soon(c);
                        return;
                }
                c->out_off += (size_t)n;
        }
        reply_done(c);
}

static int encode_reply(struct client *c, const struct srv_reply *r)
{
        static struct apilogin_msg m;
        int len;

        m = (struct apilogin_msg){
                .type = APILOGIN_REPLY, .has_outcome = true, .outcome = r->outcome,
                .message = r->message ? r->message : apilogin_outcome_message(r->outcome),
                .has_uid = r->has_uid, .uid = r->uid,
                .session = r->session[0] ? r->session : NULL,
                .token_file = r->token_file[0] ? r->token_file : NULL,
                .text = r->text && r->text[0] ? r->text : NULL,
                .has_timeout = r->has_timeout, .timeout = r->timeout_ms,
        };
        len = apilogin_proto_encode(&m, c->out, sizeof(c->out));
        if (len < 0) {
                /* Cannot happen with our own limits; answer with the outcome alone. */
                m = (struct apilogin_msg){ .type = APILOGIN_REPLY, .has_outcome = true,
                                           .outcome = r->outcome };
                len = apilogin_proto_encode(&m, c->out, sizeof(c->out));
        }
        return len;
}

void server_reply(struct client *c, const struct srv_reply *r)
{
        int len;

        if (c->state != C_BUSY || c->closing)
                return;
        c->login = NULL;
        len = encode_reply(c, r);
        if (len < 0) {
                client_close_soon(c);
                return;
        }
        c->out_len = (size_t)len;
        c->out_off = 0;
        c->state = C_WRITE;
        client_flush(c);
}

/* The requester (reply.h) a login answers later. */
static void reply_later(void *peer, const struct srv_reply *r)
{
        server_reply(peer, r);
}

/* ---- admin and small requests ------------------------------------------------------------ */

static void do_acct(struct server *s, const struct apilogin_msg *m, struct srv_reply *rep)
{
        const struct apilogin_user *u = m->user ? users_find(s->d->users, m->user) : NULL;

        if (!m->user)
                rep->outcome = APILOGIN_SERVICE_ERR;
        else if (!u)
                rep->outcome = APILOGIN_IGNORE;
        else if (u->disabled)
                rep->outcome = APILOGIN_ACCT_EXPIRED;
        else
                rep->outcome = APILOGIN_OK;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

/* Whether m is about c's own name. Looked up only for the requests that need it: a PING
 * flood must not cost a users lookup and a stat of /etc/passwd each. */
static bool caller_owns(const struct client *c, const struct apilogin_msg *m)
{
        return m->user && login_caller_owns(c->srv->d->logins, c->cred.uid, m->user);
}

/* Why a non-root caller may not send m, or NULL when it may: PING, and AUTH, QUERY and
 * ACCT for its own name, as a screen locker does for its user. AUTH checks the name
 * itself (with its own rate limit, so the refusal is logged with the login); a QUERY
 * about another name is refused here, so a locker's PAM stack stops before any prompt
 * and the probe is logged. */
static const char *nonroot_refusal(const struct client *c, const struct apilogin_msg *m)
{
        switch (m->type) {
        case APILOGIN_REQ_PING:
        case APILOGIN_REQ_AUTH:
        case APILOGIN_REQ_TEST_LOGIN:
                return NULL;
        case APILOGIN_REQ_QUERY:
                return caller_owns(c, m) ? NULL : "a query about another user";
        case APILOGIN_REQ_ACCT:
                if (caller_owns(c, m))
                        return NULL;
                return "an account request about another user";
        default:
                return "a request only root may send";
        }
}

/* Refuse m (from a non-root caller) with outcome and text, logged once (rate-limited). */
static void refuse(struct client *c, enum apilogin_outcome o, const char *text, const char *why)
{
        struct srv_reply rep = { .outcome = o, .text = text };

        admit_warn(c->srv->admit, c->cred.uid, c->cred.pid, why);
        server_reply(c, &rep);
}

static void dispatch_sync(struct client *c, const struct apilogin_msg *m)
{
        struct server *s = c->srv;
        struct srv_reply rep = { .outcome = APILOGIN_SERVICE_ERR };
        static char text[TEXT_MAX + 1];

        text[0] = '\0';
        rep.text = text;
        switch (m->type) {
        case APILOGIN_REQ_QUERY: query_handle(s->d, c->cred.uid, m, &rep, text); break;
        case APILOGIN_REQ_ACCT: do_acct(s, m, &rep); break;
        case APILOGIN_REQ_OPEN:
                sessions_handle_open(s->d->sessions, m, (uint32_t)c->cred.pid, &rep);
                break;
        case APILOGIN_REQ_CLOSE: sessions_handle_close(s->d->sessions, m, &rep); break;
        case APILOGIN_REQ_PING:
                rep.outcome = APILOGIN_OK;
                snprintf(text, sizeof(text), "apilogind %s", PACKAGE_VERSION);
                break;
        case APILOGIN_REQ_STATUS:
        case APILOGIN_REQ_USERS:
        case APILOGIN_REQ_SESSIONS:
        case APILOGIN_REQ_USER_ADD:
        case APILOGIN_REQ_USER_DEL:
        case APILOGIN_REQ_FLUSH: {
                struct admin_server_info si = { .clients = s->n_clients,
                                                .per_uid_max = ADMIT_UID_CONNS };

                admit_limits(s->admit, &si.root_max, &si.nonroot_max);
                admin_handle(s->d, &si, m, &rep, text, sizeof(text));
                break;
        }
        default:
                dlog_debug("Unknown request type %u from uid %u", m->type, (unsigned)c->cred.uid);
                break;
        }
        server_reply(c, &rep);
}

static void dispatch(struct client *c, const struct apilogin_msg *m)
{
        const char *why;

        dlog_debug("Request type %u from uid %u pid %d", m->type, (unsigned)c->cred.uid,
                   (int)c->cred.pid);
        if (!admit_request(c->srv->admit, c->cred.uid)) {
                c->close_after_reply = true;
                refuse(c, APILOGIN_MAXTRIES, "rate limited", "a request over the rate limit");
                return;
        }
        why = c->cred.uid != 0 ? nonroot_refusal(c, m) : NULL;
        if (why) {
                refuse(c, APILOGIN_PERM_DENIED, "permission denied", why);
                return;
        }
        if (m->type == APILOGIN_REQ_AUTH || m->type == APILOGIN_REQ_TEST_LOGIN) {
                struct requester who = { .reply = reply_later, .peer = c,
                                         .uid = c->cred.uid, .pid = c->cred.pid };

                c->login = login_start(c->srv->d->logins, &who, m);
        } else {
                dispatch_sync(c, m);
        }
}

/* ---- reading requests ------------------------------------------------------------------- */

/* A whole message is in c->in: decode, wipe the raw bytes, dispatch. */
static void handle_message(struct client *c)
{
        struct apilogin_msg *m = &c->srv->msg;
        int r;

        r = apilogin_proto_decode(c->in, c->in_len, m);
        apilogin_secure_erase(c->in, c->in_len);
        c->in_len = 0;
        c->body_len = 0;
        (void)loop_set_events(c->srv->d->loop, c->fd, 0);
        if (!client_deadline(c, 0)) /* while it is handled: only its lifetime */
                return;
        c->state = C_BUSY;
        if (r < 0) {
                struct srv_reply rep = { .outcome = APILOGIN_SERVICE_ERR };

                admit_warn(c->srv->admit, c->cred.uid, c->cred.pid, "a malformed request");
                c->close_after_reply = true;
                server_reply(c, &rep);
                return;
        }
        dispatch(c, m);
        apilogin_proto_wipe(m);
}

/* The header is in: check it. false when the connection is to be closed or answered. */
static bool header_ok(struct client *c)
{
        uint8_t type;
        int r = apilogin_proto_header(c->in, &type, &c->body_len);

        if (r == -EPROTONOSUPPORT) {
                struct srv_reply rep = { .outcome = APILOGIN_SERVICE_ERR };

                dlog_debug("Request with protocol version %u from uid %u", c->in[2],
                           (unsigned)c->cred.uid);
                c->state = C_BUSY;
                c->close_after_reply = true;
                loop_timer_stop(c->srv->d->loop, &c->timer);
                server_reply(c, &rep);
                return false;
        }
        if (r < 0) {
                admit_warn(c->srv->admit, c->cred.uid, c->cred.pid,
                           r == -EMSGSIZE ? "an oversized request" : "a bad request header");
                client_close_soon(c);
                return false;
        }
        return true;
}

static void client_read(struct client *c)
{
        for (;;) {
                size_t need = c->in_len < APILOGIN_PROTO_HEADER
                                      ? APILOGIN_PROTO_HEADER
                                      : APILOGIN_PROTO_HEADER + (size_t)c->body_len;
                ssize_t n = recv(c->fd, c->in + c->in_len, need - c->in_len, MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        client_close_soon(c);
                        return;
                }
                /* The first bytes of a request start its read deadline. */
                if (c->in_len == 0 && !client_deadline(c, SERVER_READ_MS))
                        return;
                c->in_len += (size_t)n;
                if (c->in_len == APILOGIN_PROTO_HEADER && !header_ok(c))
                        return;
                if (c->in_len == APILOGIN_PROTO_HEADER + (size_t)c->body_len &&
                    c->in_len >= APILOGIN_PROTO_HEADER) {
                        handle_message(c);
                        return;
                }
        }
}

static void on_client_io(void *userdata, int fd, short revents)
{
        struct client *c = userdata;

        if (!c->closing && (revents & POLLOUT) && c->state == C_WRITE)
                client_flush(c);
        if (!c->closing && (revents & POLLIN) && c->state == C_READ)
                client_read(c);
        if (c->closing)
                client_close(c);
}

/* ---- accepting -------------------------------------------------------------------------- */

static int client_new(struct server *s, int fd, const struct ucred *cred)
{
        struct client *c = malloc(sizeof(*c));
        uint64_t now = apilogin_now_ms();
        int r;

        if (!c)
                return -ENOMEM;
        *c = (struct client){ .srv = s, .fd = fd, .cred = *cred, .state = C_READ,
                              .end_ms = now + SERVER_LIFETIME_MS + s->d->cfg->timeout_ms };
        loop_timer_init(&c->timer, on_client_timer, c);
        r = loop_add_io(s->d->loop, fd, POLLIN, on_client_io, c);
        if (r == 0)
                r = loop_timer_set(s->d->loop, &c->timer, now + SERVER_IDLE_MS);
        if (r < 0) {
                loop_remove_io(s->d->loop, fd);
                free(c);
                return r;
        }
        c->next = s->clients;
        if (s->clients)
                s->clients->prev = c;
        s->clients = c;
        s->n_clients++;
        return 0;
}

/* Keep a new connection, or refuse it (closed, logged): over its uid's cap, or from a
 * non-root caller while descriptors are short (the spare one is in use). */
static void take_client(struct server *s, int fd)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        const char *why = NULL;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                (void)close(fd);
                return;
        }
        if (s->d->stopping)
                why = "a connection: stopping";
        else if (cred.uid != 0 && s->reserve_fd < 0)
                why = "a connection: out of file descriptors";
        else if (!admit_conn_open(s->admit, cred.uid))
                why = cred.uid ? "a connection over its uid's cap" : "a connection over root's cap";
        else if (client_new(s, fd, &cred) < 0) {
                admit_conn_close(s->admit, cred.uid);
                why = "a connection: out of memory";
        }
        if (why) {
                admit_warn(s->admit, cred.uid, cred.pid, why);
                (void)close(fd);
        }
}

static void reserve_open(struct server *s)
{
        if (s->reserve_fd < 0)
                s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_accept_pause(void *userdata)
{
        struct server *s = userdata;

        if (s->listening)
                (void)loop_set_events(s->d->loop, s->fd, POLLIN);
}

/* accept4 failed with errno: true to try again now. Out of descriptors, the spare one is
 * given up so that the next caller can still be accepted (and served if it is root);
 * without it, accepting pauses a moment. */
static bool accept_failed(struct server *s)
{
        if (errno == ECONNABORTED)
                return true;
        if ((errno == EMFILE || errno == ENFILE) && s->reserve_fd >= 0) {
                (void)close(s->reserve_fd);
                s->reserve_fd = -1;
                return true;
        }
        dlog_warn("Failed to accept a connection: %m; pausing");
        (void)loop_set_events(s->d->loop, s->fd, 0);
        (void)loop_timer_set(s->d->loop, &s->accept_pause, apilogin_now_ms() + ACCEPT_PAUSE_MS);
        return false;
}

static void on_listen(void *userdata, int fd, short revents)
{
        struct server *s = userdata;

        reserve_open(s);
        for (int i = 0; i < ACCEPT_BATCH && s->listening; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

                if (cfd < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (cfd < 0 && accept_failed(s))
                        continue;
                if (cfd < 0)
                        return;
                take_client(s, cfd);
        }
}

/* ---- the listening socket ------------------------------------------------------------- */

/* The socket systemd passed (exactly one unix stream socket), or -1 if none. */
static int systemd_socket(void)
{
#ifdef HAVE_SYSTEMD
        int n = sd_listen_fds(0), fd = SD_LISTEN_FDS_START;

        if (n == 1 && sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0) {
                int fl = fcntl(fd, F_GETFL);

                (void)fcntl(fd, F_SETFL, (fl < 0 ? 0 : fl) | O_NONBLOCK);
                (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
                return fd;
        }
        if (n > 0)
                dlog_warn("systemd passed %d socket(s), not one unix stream socket; ignoring", n);
#endif
        return -1;
}

/* Make the socket's directory (one level, 0755) when it is missing. */
static int make_parent(const char *path)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

/* Remove a stale socket at path; refuse a live one (another daemon) or a non-socket. */
static int remove_stale(const char *path, const struct sockaddr_un *sa)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
                return -EADDRINUSE;
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

static int bind_path(struct server *s, const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        r = make_parent(path);
        r = r ?: remove_stale(path, &sa);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        s->created = strdup(path);
        if (!s->created || chmod(path, 0666) < 0 || lstat(path, &st) < 0 ||
            listen(fd, LISTEN_BACKLOG) < 0) {
                r = s->created ? negative_errno() : -ENOMEM;
                (void)unlink(path);
                free(s->created);
                s->created = NULL;
                return r;
        }
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->fd = TAKE_FD(fd);
        return 0;
}

/* The soft RLIMIT_NOFILE (main raises it), from which the connection budgets follow. */
static uint64_t nofile_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return 1024;
        return rl.rlim_cur;
}

int server_new(struct apilogind *d, struct server **ret)
{
        const char *path = d->cfg->socket_path;
        struct server *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->d = d;
        s->reserve_fd = -1;
        r = admit_new(d->loop, nofile_limit(), &s->admit);
        if (r < 0) {
                free(s);
                return r;
        }
        reserve_open(s);
        s->fd = systemd_socket();
        loop_timer_init(&s->accept_pause, on_accept_pause, s);
        if (s->fd >= 0) {
                dlog_info("Listening on the socket systemd passed");
        } else {
                r = bind_path(s, path);
                if (r < 0) {
                        dlog_err("Failed to listen on %s: %s", path,
                                 r == -EADDRINUSE ? "another apilogind is running there"
                                 : r == -EEXIST   ? "a file that is not a socket is in the way"
                                                  : strerror(-r));
                        server_free(s);
                        return r;
                }
                dlog_info("Listening on %s", path);
        }
        r = loop_add_io(d->loop, s->fd, POLLIN, on_listen, s);
        if (r < 0) {
                server_free(s);
                return r;
        }
        s->listening = true;
        *ret = s;
        return 0;
}

/* Unlink the socket we created, unless something else has replaced it meanwhile. */
static void unlink_ours(struct server *s)
{
        struct stat st;

        if (s->created && lstat(s->created, &st) == 0 && st.st_dev == s->dev &&
            st.st_ino == s->ino)
                (void)unlink(s->created);
}

void server_stop(struct server *s)
{
        struct client *c, *next;

        if (!s)
                return;
        if (s->listening) {
                /* New callers get "connection refused" (or wait in systemd's queue for the
                 * next daemon) instead of hanging in a backlog nobody accepts. */
                loop_remove_io(s->d->loop, s->fd);
                loop_timer_stop(s->d->loop, &s->accept_pause);
                s->listening = false;
                (void)close(s->fd);
                s->fd = -1;
                unlink_ours(s);
        }
        for (c = s->clients; c; c = next) {
                next = c->next;
                if (c->state == C_READ)
                        client_close_soon(c);
        }
}

struct server *server_free(struct server *s)
{
        if (!s)
                return NULL;
        while (s->clients)
                client_close(s->clients);
        if (s->listening)
                loop_remove_io(s->d->loop, s->fd);
        loop_timer_stop(s->d->loop, &s->accept_pause);
        if (s->fd >= 0)
                (void)close(s->fd);
        unlink_ours(s);
        free(s->created);
        if (s->reserve_fd >= 0)
                (void)close(s->reserve_fd);
        admit_free(s->admit);
        apilogin_proto_wipe(&s->msg);
        free(s);
        return NULL;
}

unsigned server_clients(const struct server *s)
{
        return s ? s->n_clients : 0;
}
