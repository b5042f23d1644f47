/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_http.c: the HTTP layer of apilogind. apilogin_http_url_allowed against a table of
 * good and hostile URLs, then real transfers through the curl multi handle against a
 * small HTTP/1.1 server on 127.0.0.1 run in a thread of this test: a 200 with cookies
 * and Retry-After, the request as sent (headers, body, no "Expect:"), cookie jars (several
 * cookies, paths, deletion, one jar per login, nothing left in pooled handles), connection reuse,
 * a refused port, a stall cut at the deadline, oversized bodies, refusals before
 * sending, cancel, and extra fds in apilogin_http_poll. Loopback only, no network. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "daemon/http.h"

/* ---- apilogin_http_url_allowed ------------------------------------------------------- */

static void test_url_allowed(void **state)
{
        static const struct {
                const char *url;
                bool insecure;
                bool ok;
        } cases[] = {
                { "https://id.example.com/v1/login_check", false, true },
                { "HTTPS://id.example.com:8443/x?y=1#z", false, true },
                { "https://[2001:db8::1]:443/x", false, true },
                { "wss://room.example.com/ws", false, true },
                { "http://127.0.0.1/v1/login_check", false, true },
                { "http://127.5.5.5:80/", false, true },
                { "http://[::1]:8080/x", false, true },
                { "http://[0:0:0:0:0:0:0:1]/", false, true },
                { "http://localhost", false, true },
                { "http://LOCALHOST:8080/x", false, true },
                { "ws://127.0.0.1:8765", false, true },
                { "http://example.com/", false, false },
                { "http://example.com/", true, true },
                { "ws://room.example.com/", false, false },
                { "ws://room.example.com/", true, true },
                { "http://128.0.0.1/", false, false },
                { "http://10.0.0.1/", false, false },
                { "http://[::2]/", false, false },
                { "http://[::ffff:127.0.0.1]/", false, false },
                { "http://127.1/", false, false },
                { "http://0177.0.0.1/", false, false },
                { "http://2130706433/", false, false },
                { "http://127.0.0.1.evil.com/", false, false },
                { "http://localhost.evil.com/", false, false },
                { "http://evil.com/127.0.0.1", false, false },
                { "http://evil.com?127.0.0.1", false, false },
                { "http://evil.com#@127.0.0.1", false, false },
                { "http://127.0.0.1@evil.com/", false, false },
                { "http://127.0.0.1:80@evil.com/", false, false },
                { "http://user:pw@127.0.0.1/", false, false },
                { "https://user:pw@id.example.com/", false, false },
                { "http://127.0.0.1\\@evil.com/", false, false },
                { "http://127.0.0.1 /", false, false },
                { "http://127.0.0.1\n.evil.com/", false, false },
                { "http://127.0.0.1:0/", false, false },
                { "http://127.0.0.1:65536/", false, false },
                { "http://127.0.0.1:/", false, false },
                { "http://127.0.0.1:8o/", false, false },
                { "http://[::1/", false, false },
                { "http://[::1]x/", false, false },
                { "http:///path", false, false },
                { "https://", false, false },
                { "ftp://127.0.0.1/", false, false },
                { "ftp://example.com/", true, false },
                { "file:///etc/passwd", true, false },
                { "gopher://127.0.0.1/", true, false },
                { "httpx://127.0.0.1/", true, false },
                { "127.0.0.1/x", true, false },
                { "", true, false },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r = apilogin_http_url_allowed(cases[i].url, cases[i].insecure);

                if ((r == 0) != cases[i].ok)
                        fail_msg("%s (insecure=%d): %d", cases[i].url, cases[i].insecure, r);
                if (r < 0 && r != -EPERM && r != -EINVAL)
                        fail_msg("%s: unexpected %d", cases[i].url, r);
        }
        assert_int_equal(apilogin_http_url_allowed("ftp://127.0.0.1/", true), -EPERM);
        assert_int_equal(apilogin_http_url_allowed("http://example.com/", false), -EPERM);
        assert_int_equal(apilogin_http_url_allowed(NULL, true), -EINVAL);
}

/* ---- a loopback HTTP/1.1 server in a thread -------------------------------------------- */

enum srv_mode { SRV_OK, SRV_429, SRV_STALL, SRV_BIG_CHUNKED, SRV_BIG_LENGTH, SRV_COOKIES,
                SRV_PLAIN };

#define SRV_CONNS 8
#define BIG_SIZE (APILOGIN_HTTP_BODY_MAX + 4000)

struct srv {
        int lfd, port, wake[2];
        pthread_t th;
        pthread_mutex_t lock;
        enum srv_mode mode;
        int accepts, requests;
        char last[16384];       /* last complete request, headers and body */
        int fd[SRV_CONNS];
        char buf[SRV_CONNS][16384];
        size_t len[SRV_CONNS];
};

static void send_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

                if (w <= 0)
                        return;
                p += w;
                n -= (size_t)w;
        }
}

static void srv_reply(struct srv *s, int fd)
{
        static const char ok[] = "{\"ok\":true}";
        char head[512];
        char *big;

        switch (s->mode) {
        case SRV_OK:
                snprintf(head, sizeof(head),
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Set-Cookie: sess=abc123; Path=/; HttpOnly\r\nSet-Cookie: second=x\r\n"
                         "Retry-After: 7\r\nContent-Length: %zu\r\n\r\n%s", strlen(ok), ok);
                send_all(fd, head, strlen(head));
                break;
        case SRV_COOKIES:
                /* A language cookie before the session's, one for another path, and the
                 * deletion of one never set. */
                snprintf(head, sizeof(head),
                         "HTTP/1.1 200 OK\r\nSet-Cookie: lang=en; Path=/\r\n"
                         "Set-Cookie: sess=abc123; Path=/api; HttpOnly\r\n"
                         "Set-Cookie: scoped=1; Path=/other\r\n"
                         "Set-Cookie: gone=1; Max-Age=0\r\nContent-Length: 0\r\n\r\n");
                send_all(fd, head, strlen(head));
                break;
        case SRV_PLAIN:
                snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                send_all(fd, head, strlen(head));
                break;
        case SRV_429:
                snprintf(head, sizeof(head), "HTTP/1.1 429 Too Many Requests\r\n"
                         "retry-after: 120\r\nContent-Length: 0\r\n\r\n");
                send_all(fd, head, strlen(head));
                break;
        case SRV_STALL:
                break;
        case SRV_BIG_CHUNKED:
        case SRV_BIG_LENGTH:
                big = malloc(BIG_SIZE);
                assert_non_null(big);
                memset(big, 'x', BIG_SIZE);
                if (s->mode == SRV_BIG_LENGTH)
                        snprintf(head, sizeof(head),
                                 "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BIG_SIZE);
                else
                        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n%x\r\n", BIG_SIZE);
                send_all(fd, head, strlen(head));
                send_all(fd, big, BIG_SIZE);
                if (s->mode == SRV_BIG_CHUNKED)
                        send_all(fd, "\r\n0\r\n\r\n", 7);
                free(big);
                break;
        }
}

/* A whole request in conn i? Then record it, drop it from the buffer and answer. */
static void srv_handle(struct srv *s, int i)
{
        char *end = memmem(s->buf[i], s->len[i], "\r\n\r\n", 4);
        size_t head, body = 0, total;
        const char *cl;

        if (!end)
                return;
        head = (size_t)(end - s->buf[i]) + 4;
        s->buf[i][s->len[i]] = '\0';
        cl = strcasestr(s->buf[i], "\r\nContent-Length:");
        if (cl && cl < end)
                body = strtoul(cl + 17, NULL, 10);
        total = head + body;
        if (s->len[i] < total)
                return;
        pthread_mutex_lock(&s->lock);
        memcpy(s->last, s->buf[i], total);
        s->last[total] = '\0';
        s->requests++;
        pthread_mutex_unlock(&s->lock);
        memmove(s->buf[i], s->buf[i] + total, s->len[i] - total);
        s->len[i] -= total;
        srv_reply(s, s->fd[i]);
}

static void srv_accept(struct srv *s)
{
        int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0)
                return;
        for (int i = 0; i < SRV_CONNS; i++) {
                if (s->fd[i] < 0) {
                        s->fd[i] = fd;
                        s->len[i] = 0;
                        pthread_mutex_lock(&s->lock);
                        s->accepts++;
                        pthread_mutex_unlock(&s->lock);
                        return;
                }
        }
        close(fd);
}

static void *srv_main(void *arg)
{
        struct srv *s = arg;

        for (;;) {
                struct pollfd p[SRV_CONNS + 2] = { { .fd = s->wake[0], .events = POLLIN },
                                                   { .fd = s->lfd, .events = POLLIN } };

                for (int i = 0; i < SRV_CONNS; i++)
                        p[i + 2] = (struct pollfd){ .fd = s->fd[i], .events = POLLIN };
                if (poll(p, SRV_CONNS + 2, -1) < 0)
                        continue;
                if (p[0].revents)
                        break;
                if (p[1].revents)
                        srv_accept(s);
                for (int i = 0; i < SRV_CONNS; i++) {
                        ssize_t n;

                        if (s->fd[i] < 0 || !p[i + 2].revents)
                                continue;
                        n = read(s->fd[i], s->buf[i] + s->len[i],
                                 sizeof(s->buf[i]) - 1 - s->len[i]);
                        if (n <= 0) {
                                close(s->fd[i]);
                                s->fd[i] = -1;
                                continue;
                        }
                        s->len[i] += (size_t)n;
                        srv_handle(s, i);
                }
        }
        for (int i = 0; i < SRV_CONNS; i++)
                if (s->fd[i] >= 0)
                        close(s->fd[i]);
        return NULL;
}

static int srv_setup(void **state)
{
        struct srv *s = calloc(1, sizeof(*s));
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof(a);

        assert_non_null(s);
        for (int i = 0; i < SRV_CONNS; i++)
                s->fd[i] = -1;
        s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->lfd >= 0);
        assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(s->lfd, 16), 0);
        assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pipe2(s->wake, O_CLOEXEC), 0);
        pthread_mutex_init(&s->lock, NULL);
        assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
        *state = s;
        return 0;
}

static int srv_teardown(void **state)
{
        struct srv *s = *state;

        (void)write(s->wake[1], "x", 1);
        pthread_join(s->th, NULL);
        close(s->lfd);
        close(s->wake[0]);
        close(s->wake[1]);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return 0;
}

/* ---- the client side ------------------------------------------------------------------ */

struct got {
        int calls;
        int err;
        long status;
        char body[256];
        size_t len;
        unsigned cookies;
        long retry_after;
        char url[256];
        char why[256];                   /* resp.why, "" for NULL */
        uint64_t at;
};

static void on_done(void *userdata, struct apilogin_http_resp *r)
{
        struct got *g = userdata;

        g->calls++;
        g->err = r->transport_error;
        g->status = r->status;
        g->len = r->len;
        g->at = apilogin_now_ms();
        g->retry_after = r->retry_after;
        snprintf(g->body, sizeof(g->body), "%s", r->body ? r->body : "(null)");
        g->cookies = r->cookies;
        snprintf(g->url, sizeof(g->url), "%s", r->url ? r->url : "");
        snprintf(g->why, sizeof(g->why), "%s", r->why ? r->why : "");
}

__attribute__((format(printf, 1, 2)))
static struct apilogin_http_req get_req(const char *fmt, ...)
{
        struct apilogin_http_req req = { 0 };
        char url[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(url, sizeof(url), fmt, ap);
        va_end(ap);
        req.url = strdup(url);
        assert_non_null(req.url);
        return req;
}

static const struct apilogin_provider_cfg prov = { .name = "t" };

/* Start req and run the loop until its callback ran (or 5 s passed). */
static void run(struct apilogin_http *h, struct apilogin_http_req *req, uint64_t timeout_ms,
                struct got *g)
{
        uint64_t end = apilogin_now_ms() + 5000;

        memset(g, 0, sizeof(*g));
        assert_int_equal(apilogin_http_start(h, &prov, req, apilogin_now_ms() + timeout_ms,
                                             on_done, g, NULL), 0);
        assert_null(req->url); /* ownership taken */
        assert_int_equal(apilogin_http_in_flight(h), 1);
        while (g->calls == 0 && apilogin_now_ms() < end)
                assert_int_equal(apilogin_http_poll(h, NULL, 0, 100), 0);
        assert_int_equal(g->calls, 1);
        assert_int_equal(apilogin_http_in_flight(h), 0);
}

static void test_get_ok(void **state)
{
        struct srv *s = *state;
        struct apilogin_http *h = NULL;
        struct apilogin_http_req req;
        struct got g;
        char want[128];

        s->mode = SRV_OK;
        assert_int_equal(apilogin_http_new(&h), 0);
        req = get_req("http://127.0.0.1:%d/avl_evts?sid=SECRET", s->port);
        run(h, &req, 2000, &g);
        assert_int_equal(g.err, 0);
        assert_int_equal(g.status, 200);
        assert_string_equal(g.body, "{\"ok\":true}");
        assert_string_equal(g.why, ""); /* nothing to say about a success */
        assert_int_equal(g.len, 11);
        assert_int_equal(g.cookies, 0); /* no jar: Set-Cookie goes nowhere */
        assert_int_equal(g.retry_after, 7);
        snprintf(want, sizeof(want), "http://127.0.0.1:%d/avl_evts", s->port);
        assert_string_equal(g.url, want); /* no query: it may hold a session id */
        pthread_mutex_lock(&s->lock);
        assert_true(strncmp(s->last, "GET /avl_evts?sid=SECRET HTTP/1.1\r\n", 35) == 0);
        pthread_mutex_unlock(&s->lock);

        s->mode = SRV_429;
        req = get_req("http://127.0.0.1:%d/x", s->port);
        run(h, &req, 2000, &g);
        assert_int_equal(g.err, 0);
        assert_int_equal(g.status, 429);
        assert_int_equal(g.retry_after, 120);
        assert_string_equal(g.body, ""); /* empty, but never NULL */
        apilogin_http_free(h);
}

static void test_post_request(void **state)
{
        struct srv *s = *state;
        struct apilogin_http *h = NULL;
        struct apilogin_http_req req;
        struct got g;
        char *body;

        s->mode = SRV_OK;
        assert_int_equal(apilogin_http_new(&h), 0);
        req = get_req("http://localhost:%d/v1/login_check", s->port);
        req.post = true;
        req.content_type = strdup("application/json");
        req.body = strdup("{\"username\":\"u\",\"password\":\"p\"}");
        req.body_len = strlen(req.body);
        req.headers[0] = strdup("X-Test: 1");
        run(h, &req, 2000, &g);
        assert_int_equal(g.err, 0);
        assert_int_equal(g.status, 200);
        pthread_mutex_lock(&s->lock);
        assert_true(strncmp(s->last, "POST /v1/login_check HTTP/1.1\r\n", 31) == 0);
        assert_non_null(strstr(s->last, "\r\nContent-Type: application/json\r\n"));
        assert_non_null(strstr(s->last, "\r\nX-Test: 1\r\n"));
        assert_null(strcasestr(s->last, "\r\nCookie:"));
        assert_non_null(strstr(s->last, "\r\nContent-Length: 31\r\n"));
        assert_null(strcasestr(s->last, "\r\nExpect:"));
        body = strstr(s->last, "\r\n\r\n");
        assert_non_null(body);
        assert_string_equal(body + 4, "{\"username\":\"u\",\"password\":\"p\"}");
        pthread_mutex_unlock(&s->lock);
        apilogin_http_free(h);
}

/* The Cookie header of the last request, "" if none. */
static void last_cookie(struct srv *s, char *out, size_t n)
{
        const char *c, *e;

        pthread_mutex_lock(&s->lock);
        c = strcasestr(s->last, "\r\nCookie: ");
        e = c ? strstr(c + 2, "\r\n") : NULL;
        snprintf(out, n, "%.*s", c && e ? (int)(e - c - 10) : 0, c && e ? c + 10 : "");
        pthread_mutex_unlock(&s->lock);
}

static void test_cookie_jar(void **state)
{
        struct srv *s = *state;
        struct apilogin_http *h = NULL;
        struct apilogin_http_jar *a = NULL, *b = NULL;
        struct apilogin_http_req req;
        struct got g;
        char c[256];

        assert_int_equal(apilogin_http_new(&h), 0);
        assert_int_equal(apilogin_http_jar_new(&a), 0);
        assert_int_equal(apilogin_http_jar_new(&b), 0);
        s->mode = SRV_COOKIES;
        req = get_req("http://127.0.0.1:%d/api/login", s->port);
        req.jar = a;
        run(h, &req, 2000, &g);
        assert_int_equal(g.status, 200);
        assert_int_equal(g.cookies, 3); /* every one but the deleted */
        last_cookie(s, c, sizeof(c));
        assert_string_equal(c, "");

        /* The next request of the login: both cookies for /api, not the other path's. */
        s->mode = SRV_PLAIN;
        req = get_req("http://127.0.0.1:%d/api/login", s->port);
        req.jar = a;
        run(h, &req, 2000, &g);
        assert_int_equal(g.cookies, 3);
        last_cookie(s, c, sizeof(c));
        assert_non_null(strstr(c, "sess=abc123"));
        assert_non_null(strstr(c, "lang=en"));
        assert_null(strstr(c, "scoped"));
        assert_null(strstr(c, "gone"));
        req = get_req("http://127.0.0.1:%d/other/x", s->port);
        req.jar = a;
        run(h, &req, 2000, &g);
        last_cookie(s, c, sizeof(c));
        assert_non_null(strstr(c, "scoped=1"));
        assert_non_null(strstr(c, "lang=en"));
        assert_null(strstr(c, "sess="));

        /* Another login's jar, and no jar at all (pooled handles), see none of them. */
        req = get_req("http://127.0.0.1:%d/api/login", s->port);
        req.jar = b;
        run(h, &req, 2000, &g);
        assert_int_equal(g.cookies, 0);
        last_cookie(s, c, sizeof(c));
        assert_string_equal(c, "");
        for (int i = 0; i < 3; i++) {
                req = get_req("http://127.0.0.1:%d/api/login", s->port);
                run(h, &req, 2000, &g);
                assert_int_equal(g.cookies, 0);
                last_cookie(s, c, sizeof(c));
                assert_string_equal(c, "");
        }
        /* A jar may go in the done callback's wake; freeing a used one is clean. */
        assert_null(apilogin_http_jar_free(a));
        assert_null(apilogin_http_jar_free(b));
        assert_null(apilogin_http_jar_free(NULL));
        apilogin_http_free(h);
}

static void test_reuse(void **state)
{
        struct srv *s = *state;
        struct apilogin_http *h = NULL;
        struct apilogin_http_req req;
        struct got g;
        int before;

        s->mode = SRV_OK;
        assert_int_equal(apilogin_http_new(&h), 0);
        pthread_mutex_lock(&s->lock);
        before = s->accepts;
        pthread_mutex_unlock(&s->lock);
        for (int i = 0; i < 3; i++) {
                req = get_req("http://127.0.0.1:%d/x", s->port);
                run(h, &req, 2000, &g);
                assert_int_equal(g.status, 200);
        }
        pthread_mutex_lock(&s->lock);
        assert_int_equal(s->accepts - before, 1); /* three requests, one connection */
        pthread_mutex_unlock(&s->lock);
        apilogin_http_free(h);
}

static void test_refused(void **state)
{
        struct apilogin_http *h = NULL;
        struct apilogin_http_req req;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        uint64_t t0;
        struct got g;

        (void)state;
        /* a port that was just free: bound, never listened on */
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        assert_int_equal(apilogin_http_new(&h), 0);
        req = get_req("http://127.0.0.1:%d/x", ntohs(a.sin_port));
        t0 = apilogin_now_ms();
        run(h, &req, 3000, &g);
        close(fd);
        assert_int_equal(g.err, -ECONNREFUSED);
        assert_int_equal(g.status, 0);
        assert_string_equal(g.body, "(null)");
        /* the reason in curl's words, naming where it failed, for the log */
        assert_non_null(strstr(g.why, "127.0.0.1"));
        assert_true(g.at - t0 < 1000);
        apilogin_http_free(h);
}

static void test_deadline(void **state)
{
        struct srv *s = *state;
        struct apilogin_http *h = NULL;
        struct apilogin_http_req req;
        struct got g;
        uint64_t t0;

        s->mode = SRV_STALL;
        assert_int_equal(apilogin_http_new(&h), 0);
        req = get_req("http://127.0.0.1:%d/stall", s->port);
        t0 = apilogin_now_ms();
        run(h, &req, 300, &g);
        assert_int_equal(g.err, -ETIMEDOUT);
        assert_true(g.at - t0 >= 290);
        assert_true(g.at - t0 < 1000);
        apilogin_http_free(h);
}

static void test_oversized(void **state)
{
        struct srv *s = *state;
        struct apilogin_http *h = NULL;
        struct apilogin_http_req req;
        struct got g;

        assert_int_equal(apilogin_http_new(&h), 0);
        s->mode = SRV_BIG_CHUNKED; /* no length announced: cut in the write callback */
        req = get_req("http://127.0.0.1:%d/big", s->port);
        run(h, &req, 3000, &g);
        assert_int_equal(g.err, -EMSGSIZE);
        assert_string_equal(g.body, "(null)");
        s->mode = SRV_BIG_LENGTH; /* announced: refused before reading */
        req = get_req("http://127.0.0.1:%d/big", s->port);
        run(h, &req, 3000, &g);
        assert_int_equal(g.err, -EMSGSIZE);
        apilogin_http_free(h);
}

static void test_refusals(void **state)
{
        struct apilogin_http *h = NULL;
        struct apilogin_http_req req;
        struct apilogin_provider_cfg insecure = { .name = "i", .insecure_http = true };
        struct got g = { 0 };

        (void)state;
        assert_int_equal(apilogin_http_new(&h), 0);
        req = get_req("http://example.com:%d/", 80);
        assert_int_equal(apilogin_http_start(h, &prov, &req, apilogin_now_ms() + 1000, on_done,
                                             &g, NULL), -EPERM);
        assert_null(req.url); /* cleared on failure too */
        req = get_req("ftp://127.0.0.1:%d/", 21);
        assert_int_equal(apilogin_http_start(h, &insecure, &req, apilogin_now_ms() + 1000,
                                             on_done, &g, NULL), -EPERM);
        req = get_req("ws://127.0.0.1:%d/", 8765);
        assert_int_equal(apilogin_http_start(h, &prov, &req, apilogin_now_ms() + 1000, on_done,
                                             &g, NULL), -EPERM);
        req = get_req("http://127.0.0.1:%d/", 1);
        req.headers[0] = strdup("X-A: 1\r\nX-Injected: 2");
        assert_int_equal(apilogin_http_start(h, &prov, &req, apilogin_now_ms() + 1000, on_done,
                                             &g, NULL), -EINVAL);
        assert_null(req.headers[0]);
        req = get_req("http://127.0.0.1:%d/", 1);
        assert_int_equal(apilogin_http_start(h, &prov, &req, apilogin_now_ms(), on_done, &g,
                                             NULL), -ETIMEDOUT);
        assert_int_equal(apilogin_http_in_flight(h), 0);
        assert_int_equal(apilogin_http_poll(h, NULL, 0, 10), 0);
        assert_int_equal(g.calls, 0);
        apilogin_http_free(h);
}

static void test_cancel_and_extra_fds(void **state)
{
        struct srv *s = *state;
        struct apilogin_http *h = NULL;
        struct apilogin_http_xfer *x = NULL;
        struct apilogin_http_req req;
        struct pollfd pfd[2];
        int p[2];
        struct got g = { 0 };

        s->mode = SRV_STALL;
        assert_int_equal(apilogin_http_new(&h), 0);
        req = get_req("http://127.0.0.1:%d/stall", s->port);
        assert_int_equal(apilogin_http_start(h, &prov, &req, apilogin_now_ms() + 5000, on_done,
                                             &g, &x), 0);
        assert_non_null(x);
        assert_int_equal(apilogin_http_poll(h, NULL, 0, 50), 0);
        apilogin_http_cancel(h, x);
        assert_int_equal(apilogin_http_in_flight(h), 0);

        assert_int_equal(pipe(p), 0);
        pfd[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = p[1], .events = POLLOUT };
        assert_int_equal(apilogin_http_poll(h, pfd, 1, 20), 0);
        assert_int_equal(pfd[0].revents, 0);
        assert_int_equal(write(p[1], "x", 1), 1);
        assert_int_equal(apilogin_http_poll(h, pfd, 2, 1000), 0);
        assert_true(pfd[0].revents & POLLIN);
        assert_true(pfd[1].revents & POLLOUT);
        close(p[0]);
        close(p[1]);
        assert_int_equal(g.calls, 0);
        /* free with a transfer in flight: no callback, no leak */
        req = get_req("http://127.0.0.1:%d/stall", s->port);
        assert_int_equal(apilogin_http_start(h, &prov, &req, apilogin_now_ms() + 5000, on_done,
                                             &g, NULL), 0);
        assert_int_equal(apilogin_http_poll(h, NULL, 0, 20), 0);
        apilogin_http_free(h);
        assert_int_equal(g.calls, 0);
}

static void test_clear(void **state)
{
        struct apilogin_http_req req = { 0 };
        struct apilogin_http_resp resp = { 0 };

        (void)state;
        req.url = strdup("https://x/");
        req.body = strdup("secret");
        req.body_len = 6;
        apilogin_http_req_clear(&req);
        assert_null(req.url);
        assert_null(req.body);
        assert_int_equal(req.body_len, 0);
        resp.body = strdup("tok");
        resp.len = 3;
        apilogin_http_resp_clear(&resp);
        assert_null(resp.body);
        assert_int_equal(resp.retry_after, -1);
        apilogin_http_req_clear(NULL);
        apilogin_http_resp_clear(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_url_allowed),
                cmocka_unit_test(test_clear),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_refused),
                cmocka_unit_test_setup_teardown(test_get_ok, srv_setup, srv_teardown),
                cmocka_unit_test_setup_teardown(test_post_request, srv_setup, srv_teardown),
                cmocka_unit_test_setup_teardown(test_cookie_jar, srv_setup, srv_teardown),
                cmocka_unit_test_setup_teardown(test_reuse, srv_setup, srv_teardown),
                cmocka_unit_test_setup_teardown(test_deadline, srv_setup, srv_teardown),
                cmocka_unit_test_setup_teardown(test_oversized, srv_setup, srv_teardown),
                cmocka_unit_test_setup_teardown(test_cancel_and_extra_fds, srv_setup,
                                                srv_teardown),
        };
        int r;

        /* The daemon's main does this; here the test is the main. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 77;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        curl_global_cleanup();
        return r;
}
