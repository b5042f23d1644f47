/* client.c: a blocking request/reply exchange with apilogind, bounded by poll deadlines. */
#include "config.h"

#include <errno.h>
#include <poll.h>
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
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int send_all(int fd, const uint8_t *p, size_t len, long long deadline)
{
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
        }
        return 0;
}

static int recv_all(int fd, uint8_t *p, size_t len, long long deadline)
{
        while (len > 0) {
                ssize_t n = recv(fd, p, len, 0);

                if (n == 0)
                        return -EPROTO; /* daemon closed before a whole reply */
                if (n < 0) {
                        int r;

                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return negative_errno();
                        r = wait_fd(fd, POLLIN, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int exchange(int fd, const struct apilogin_msg *req, struct apilogin_msg *ret_reply,
                    long long deadline)
{
        uint8_t buf[APILOGIN_PROTO_MAX_MSG];
        uint32_t body_len;
        uint8_t type;
        int len, r;

        len = apilogin_proto_encode(req, buf, sizeof(buf));
        if (len < 0)
                return len;
        r = send_all(fd, buf, (size_t)len, deadline);
        apilogin_secure_erase(buf, (size_t)len);
        if (r < 0)
                return r;
        r = recv_all(fd, buf, APILOGIN_PROTO_HEADER, deadline);
        if (r < 0)
                return r;
        r = apilogin_proto_header(buf, &type, &body_len);
        if (r < 0)
                return r == -EMSGSIZE ? -EBADMSG : r;
        r = recv_all(fd, buf + APILOGIN_PROTO_HEADER, body_len, deadline);
        if (r < 0)
                return r;
        r = apilogin_proto_decode(buf, APILOGIN_PROTO_HEADER + body_len, ret_reply);
        if (r == 0 && ret_reply->type != APILOGIN_REPLY)
                r = -EBADMSG;
        return r;
}

int apilogin_client_call(const char *socket_path, const struct apilogin_msg *req,
                         struct apilogin_msg *ret_reply, int timeout_ms)
{
        long long deadline = now_ms() + timeout_ms;
        _cleanup_close_ int fd = -1;
        int r;

        r = connect_socket(socket_path, deadline, &fd);
        if (r < 0)
                return r;
        return exchange(fd, req, ret_reply, deadline);
}
