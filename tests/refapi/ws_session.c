/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws_session.c: the thread behind each upgraded WebSocket connection: greeting,
 * frame loop (ping, close, fragments, limits), faults, and the shutdown registry. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "faults.h"
#include "stats.h"
#include "ws_frame.h"
#include "ws_session.h"

#define WS_MSG_MAX (64 * 1024)

struct ws_sess {
        struct ws_io io;
        struct MHD_UpgradeResponseHandle *urh;
        const char *path;               /* "/" or "/ws", for fault lookups */
        struct ws_auth_state auth;
        uint8_t *msg;                   /* fragmented message being collected */
        size_t msg_len;
        enum ws_opcode msg_op;
        bool closing;                   /* socket about to be closed: don't touch fd */
        struct ws_sess *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;
static struct ws_sess *sessions;
static unsigned nsessions;
static bool stopping;

static const char hello[] = "{\"method\":\"event\",\"event\":\"appStateChanged\",\"appState\":3}";
static const char garbage[] = "refapi garbage {\"method\": not json";

/* Sends the reply to one text message, bent by the path's fault mode. */
static int sess_reply(struct ws_sess *s, char *reply)
{
        enum fault_mode m = faults_get(s->path);
        const char *body = reply;
        size_t len = reply ? strlen(reply) : 0;
        int r = 0;

        if (reply && m != FAULT_NONE && m != FAULT_500 && m != FAULT_CLOSE &&
            m != FAULT_REDIRECT) {
                stat_inc(ST_faulted);
                if (m == FAULT_STALL) {
                        stat_inc(ST_fault_stall);
                        body = NULL;
                } else if (m == FAULT_GARBAGE) {
                        stat_inc(ST_fault_garbage);
                        body = garbage;
                        len = strlen(garbage);
                } else {
                        stat_inc(ST_fault_oversized);
                        body = fault_oversized_body(&len);
                }
        }
        if (body)
                r = ws_frame_write(s->io.fd, WS_OP_TEXT, body, len);
        free(reply);
        return r;
}

/* A complete data message.  Returns 0 to go on, < 0 to end the session. */
static int sess_message(struct ws_sess *s, enum ws_opcode op, const uint8_t *p, size_t len)
{
        if (op != WS_OP_TEXT) {
                stat_inc(ST_ws_bad_frame);
                (void)ws_send_close(s->io.fd, WS_CLOSE_UNSUPPORTED);
                return -EPROTO;
        }
        stat_inc(ST_total);
        stat_inc(ST_ws_messages);
        return sess_reply(s, ws_auth_message(&s->auth, (const char *)p, len));
}

/* Collects fragments; takes f->payload.  Returns 0 to go on, < 0 to end. */
static int sess_data(struct ws_sess *s, struct ws_frame *f)
{
        uint8_t *m;
        int r;

        if ((f->opcode == WS_OP_CONT) != (s->msg != NULL)) {
                stat_inc(ST_ws_bad_frame);
                (void)ws_send_close(s->io.fd, WS_CLOSE_PROTOCOL);
                return -EPROTO;
        }
        if (f->opcode != WS_OP_CONT && f->fin)
                return sess_message(s, f->opcode, f->payload, f->len);
        if (s->msg_len + f->len > WS_MSG_MAX) {
                stat_inc(ST_ws_bad_frame);
                (void)ws_send_close(s->io.fd, WS_CLOSE_TOO_BIG);
                return -EMSGSIZE;
        }
        m = realloc(s->msg, s->msg_len + f->len + 1);
        if (!m)
                return -ENOMEM;
        memcpy(m + s->msg_len, f->payload, f->len);
        s->msg = m;
        s->msg_len += f->len;
        s->msg[s->msg_len] = '\0';
        if (f->opcode != WS_OP_CONT)
                s->msg_op = f->opcode;
        if (!f->fin)
                return 0;
        r = sess_message(s, s->msg_op, s->msg, s->msg_len);
        free(s->msg);
        s->msg = NULL;
        s->msg_len = 0;
        return r;
}

/* Handles one frame.  Returns 0 to go on, 1 after a clean close, < 0 to end. */
static int sess_frame(struct ws_sess *s, struct ws_frame *f)
{
        switch (f->opcode) {
        case WS_OP_PING:
                stat_inc(ST_ws_ping);
                return ws_frame_write(s->io.fd, WS_OP_PONG, f->payload, f->len);
        case WS_OP_PONG:
                return 0;
        case WS_OP_CLOSE:
                if (f->len >= 2)
                        (void)ws_frame_write(s->io.fd, WS_OP_CLOSE, f->payload, 2);
                else
                        (void)ws_send_close(s->io.fd, WS_CLOSE_NORMAL);
                return 1;
        default:
                return sess_data(s, f);
        }
}

static void sess_loop(struct ws_sess *s)
{
        struct ws_frame f;
        int r;

        for (;;) {
                r = ws_frame_read(&s->io, &f, WS_MSG_MAX);
                if (r == -EPROTO || r == -EMSGSIZE) {
                        stat_inc(ST_ws_bad_frame);
                        (void)ws_send_close(s->io.fd, r == -EPROTO ? WS_CLOSE_PROTOCOL
                                                                   : WS_CLOSE_TOO_BIG);
                }
                if (r < 0)
                        return;
                r = sess_frame(s, &f);
                free(f.payload);
                if (r != 0)
                        return;
        }
}

/* Closes the socket through MHD, then leaves the registry (in that order, so that
 * ws_sessions_stop() returning means MHD has no upgraded connection of ours). */
static void sess_end(struct ws_sess *s)
{
        struct ws_sess **pp;

        pthread_mutex_lock(&reg_lock);
        s->closing = true;
        pthread_mutex_unlock(&reg_lock);
        (void)MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
        pthread_mutex_lock(&reg_lock);
        for (pp = &sessions; *pp && *pp != s; pp = &(*pp)->next)
                ;
        if (*pp)
                *pp = s->next;
        nsessions--;
        pthread_cond_broadcast(&reg_cond);
        pthread_mutex_unlock(&reg_lock);
        free(s->msg);
        free(s->io.pre);
        free(s);
}

static void *sess_main(void *arg)
{
        struct ws_sess *s = arg;

        stat_inc(ST_ws_connect);
        if (ws_frame_write(s->io.fd, WS_OP_TEXT, hello, sizeof(hello) - 1) == 0)
                sess_loop(s);
        sess_end(s);
        return NULL;
}

static void sess_setup_socket(int fd)
{
        int flags = fcntl(fd, F_GETFL), one = 1;

        if (flags >= 0 && (flags & O_NONBLOCK))
                (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Over TLS, sock is MHD's relay and the client's TCP socket is MHD's: Nagle goes off on
 * that one too (MHD leaves it on after the 101), or each small record of a reply would
 * wait for the client's ACK of the one before, a round trip on a WAN. */
static void sess_nodelay_tcp(struct MHD_Connection *conn)
{
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        int one = 1;

        if (ci)
                (void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Registers s unless shutting down.  Returns false if it must not start. */
static bool sess_register(struct ws_sess *s)
{
        bool ok;

        pthread_mutex_lock(&reg_lock);
        ok = !stopping;
        if (ok) {
                s->next = sessions;
                sessions = s;
                nsessions++;
        }
        pthread_mutex_unlock(&reg_lock);
        return ok;
}

void ws_session_start(void *cls, struct MHD_Connection *conn, void *con_cls,
                      const char *extra_in, size_t extra_in_size, MHD_socket sock,
                      struct MHD_UpgradeResponseHandle *urh)
{
        struct ws_sess *s = calloc(1, sizeof(*s));
        pthread_attr_t attr;
        pthread_t t;

        (void)con_cls;
        sess_nodelay_tcp(conn);
        if (s && extra_in_size > 0 && (s->io.pre = malloc(extra_in_size)))
                memcpy(s->io.pre, extra_in, extra_in_size);
        if (!s || (extra_in_size > 0 && !s->io.pre) || !sess_register(s)) {
                if (s)
                        free(s->io.pre);
                free(s);
                (void)MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
                return;
        }
        s->io.fd = sock;
        s->io.pre_len = extra_in_size;
        s->urh = urh;
        s->path = cls;
        sess_setup_socket(sock);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, sess_main, s) != 0)
                sess_end(s);
        pthread_attr_destroy(&attr);
}

void ws_sessions_stop(void)
{
        struct timespec limit;

        clock_gettime(CLOCK_REALTIME, &limit);
        limit.tv_sec += 2;
        pthread_mutex_lock(&reg_lock);
        stopping = true;
        for (struct ws_sess *s = sessions; s; s = s->next)
                if (!s->closing)
                        (void)shutdown(s->io.fd, SHUT_RDWR);    /* wakes its recv() */
        while (nsessions > 0)
                if (pthread_cond_timedwait(&reg_cond, &reg_lock, &limit) == ETIMEDOUT)
                        break;
        pthread_mutex_unlock(&reg_lock);
}
