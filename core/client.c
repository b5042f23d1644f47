/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client.c: a blocking request/reply exchange with apilogind, bounded by poll deadlines. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "macro.h"
#include "secure.h"

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, long long deadline)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                long long left = deadline - now_ms();
                int n;

                if (left <= 0)
                        return -ETIMEDOUT;
                n = poll(&p, 1, (int)left);
                if (n > 0)
                        return 0;
                if (n == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR)
                        return negative_errno();
        }
}

/* apilogind runs as root. A socket served by any other uid is someone else's listener (a
 * path taken over while the daemon was down, a wrong socket= argument): nothing, least of
 * all a secret, is sent to it. */
static int check_peer(int fd)
{
        struct ucred cred;
        socklen_t n = sizeof(cred);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) < 0)
                return negative_errno();
        return cred.uid == 0 ? 0 : -EPERM;
}

static int connect_socket(const char *path, long long deadline, int *ret_fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                if (errno != EINPROGRESS && errno != EAGAIN)
                        return negative_errno();
                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
        r = check_peer(fd);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* *ret_sent is how many bytes went out, so that the caller knows whether the daemon may
 * have seen any of the request. */
static int send_all(int fd, const uint8_t *p, size_t len, long long deadline, size_t *ret_sent)
{
        *ret_sent = 0;
        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

                if (n < 0) {
                        int r;

                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return negative_errno();
                        r = wait_fd(fd, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                p += n;
                len -= (size_t)n;
                *ret_sent += (size_t)n;
        }
        return 0;
}

/* One whole reply into buf (APILOGIN_PROTO_MAX_MSG bytes). The daemon answers only after
 * reading the request, so this waits first and then takes header and body with one recv
 * as a rule. A byte past the reply is a protocol error: the daemon sends nothing unasked.
 * Returns the reply's length or -errno. */
static int recv_reply(int fd, uint8_t *buf, long long deadline)
{
        size_t got = 0, want = APILOGIN_PROTO_HEADER;
        bool have_header = false;

        while (got < want) {
                uint32_t body_len;
                uint8_t type;
                ssize_t n;
                int r = wait_fd(fd, POLLIN, deadline);

                if (r < 0)
                        return r;
                n = recv(fd, buf + got, APILOGIN_PROTO_MAX_MSG - got, 0);
                if (n == 0)
                        return -EPROTO; /* daemon closed before a whole reply */
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return negative_errno();
                }
                got += (size_t)n;
                if (!have_header && got >= APILOGIN_PROTO_HEADER) {
                        r = apilogin_proto_header(buf, &type, &body_len);
                        if (r < 0)
                                return r == -EMSGSIZE ? -EBADMSG : r;
                        want = APILOGIN_PROTO_HEADER + body_len;
                        have_header = true;
                }
        }
        return got == want ? (int)got : -EBADMSG;
}

/* Send req and read its reply on fd. *ret_unsent is true when the failure came before any
 * byte of the request left (the request can be sent again elsewhere). */
static int exchange(int fd, const struct apilogin_msg *req, struct apilogin_msg *ret_reply,
                    long long deadline, bool *ret_unsent)
{
        uint8_t buf[APILOGIN_PROTO_MAX_MSG];
        size_t sent = 0;
        int len, r;

        *ret_unsent = false;
        len = apilogin_proto_encode(req, buf, sizeof(buf));
        if (len < 0)
                return len;
        r = send_all(fd, buf, (size_t)len, deadline, &sent);
        apilogin_secure_erase(buf, (size_t)len);
        if (r < 0) {
                *ret_unsent = sent == 0;
                return r;
        }
        len = recv_reply(fd, buf, deadline);
        if (len < 0)
                return len;
        r = apilogin_proto_decode(buf, (size_t)len, ret_reply);
        apilogin_secure_erase(buf, (size_t)len);
        if (r == 0 && ret_reply->type != APILOGIN_REPLY)
                r = -EBADMSG;
        return r;
}

int apilogin_client_call(const char *socket_path, const struct apilogin_msg *req,
                         struct apilogin_msg *ret_reply, int timeout_ms)
{
        struct apilogin_client c = APILOGIN_CLIENT_INIT;
        int r = apilogin_client_exchange(&c, socket_path, req, ret_reply, timeout_ms);

        apilogin_client_close(&c);
        return r;
}

void apilogin_client_close(struct apilogin_client *c)
{
        if (c->fd >= 0)
                (void)close(c->fd);
        c->fd = -1;
}

int apilogin_client_exchange(struct apilogin_client *c, const char *socket_path,
                             const struct apilogin_msg *req, struct apilogin_msg *ret_reply,
                             int timeout_ms)
{
        long long now = now_ms(), deadline = now + timeout_ms;
        bool kept = c->fd >= 0, unsent = false;
        int r;

        if (kept && now - c->used_ms >= APILOGIN_CLIENT_REUSE_MS) {
                apilogin_client_close(c);
                kept = false;
        }
        for (;;) {
                if (c->fd < 0) {
                        r = connect_socket(socket_path, deadline, &c->fd);
                        if (r < 0)
                                return r;
                }
                r = exchange(c->fd, req, ret_reply, deadline, &unsent);
                if (r == 0) {
                        c->used_ms = now_ms();
                        return 0;
                }
                apilogin_client_close(c);
                /* The kept connection was gone before anything went out: once more. */
                if (!kept || !unsent || (r != -EPIPE && r != -ECONNRESET))
                        return r;
                kept = false;
        }
}
