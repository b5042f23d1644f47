/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_ws.c: the WebSocket exchange (daemon/ws.c) and the ws_auth driver.
 *
 * The exchange runs for real: apilogin_ws_start on the daemon's loop and curl multi,
 * against a scripted RFC 6455 server on 127.0.0.1 run in a thread of this test. Each
 * script plays one situation (events and replies to other requestIds skipped, a reply in
 * fragments with pings between them, handshake faults, oversized frames and messages,
 * protocol violations, close, end of stream, a stall), and the server records what the
 * client sent: the handshake, whether every frame was masked, the request text, the pongs
 * and the close code. The driver tests are pure: the request JSON, every resultCode,
 * previleges against the role, requestId checks, the tokens and their expiry. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "daemon/http.h"
#include "daemon/loop.h"
#include "daemon/provider.h"
#include "daemon/ws.h"
#include "secure.h"
#include "prov_fixture.h"

#define REQ_TEXT "{\"method\":\"auth\",\"requestId\":\"r-7\",\"credentials\":\"s3cr3t-PIN\"}"
#define REPLY "{\"method\":\"auth\",\"requestId\":\"r-7\",\"result\":true,\"resultCode\":0}"
#define EVENT "{\"method\":\"event\",\"event\":\"appStateChanged\",\"appState\":3}"
#define OTHER "{\"method\":\"auth\",\"requestId\":\"someone-else\",\"result\":false}"
#define GARBAGE "refapi garbage {\"method\": not json"

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

/* ---- the scripted server ---------------------------------------------------------------- */

struct srv;
typedef void (*script_fn)(struct srv *s, int fd);

struct srv {
        int lfd, port;
        pthread_t th;
        bool running;
        script_fn script;
        char head[4096];          /* the client's handshake request */
        char key[64];             /* its Sec-WebSocket-Key */
        /* what the client sent after the handshake */
        bool all_masked;
        int n_frames;
        char text[8192];          /* the first text message */
        size_t text_len;
        int n_pongs;
        char pong[4][128];
        int close_code;           /* -1: none seen; 0: a close without a code */
        /* the frame being read */
        bool fin, masked;
        unsigned op;
        size_t len;
        uint8_t payload[70000];
};

static struct srv S;

static void send_all(int fd, const void *data, size_t n)
{
        const char *p = data;

        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

                if (w <= 0)
                        return;
                p += w;
                n -= (size_t)w;
        }
}

static int read_full(int fd, void *data, size_t n)
{
        uint8_t *p = data;

        while (n > 0) {
                ssize_t r = recv(fd, p, n, 0);

                if (r <= 0)
                        return -1;
                p += r;
                n -= (size_t)r;
        }
        return 0;
}

/* The bytes of a frame from the server into out (at least len + 14 bytes); its size. */
static size_t frame_bytes(uint8_t *out, uint8_t b0, const void *payload, size_t len, bool masked)
{
        static const uint8_t key[4] = { 0x11, 0x22, 0x33, 0x44 };
        size_t hl = 2;

        out[0] = b0;
        if (len < 126) {
                out[1] = (uint8_t)len;
        } else if (len <= 0xffff) {
                out[1] = 126;
                out[2] = (uint8_t)(len >> 8);
                out[3] = (uint8_t)len;
                hl = 4;
        } else {
                out[1] = 127;
                for (int i = 0; i < 8; i++)
                        out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
                hl = 10;
        }
        if (masked) {
                out[1] |= 0x80;
                memcpy(out + hl, key, 4);
                hl += 4;
        }
        for (size_t i = 0; i < len; i++)
                out[hl + i] = ((const uint8_t *)payload)[i] ^ (masked ? key[i & 3] : 0);
        return hl + len;
}

static void frame_raw(int fd, uint8_t b0, const void *payload, size_t len, bool masked)
{
        uint8_t *b = malloc(len + 14);

        if (!b)
                return;
        send_all(fd, b, frame_bytes(b, b0, payload, len, masked));
        free(b);
}

static void frame(int fd, bool fin, unsigned op, const char *text)
{
        frame_raw(fd, (uint8_t)((fin ? 0x80 : 0) | op), text, strlen(text), false);
}

static void record(struct srv *s)
{
        if (s->op == OP_TEXT && s->text_len == 0 && s->len < sizeof(s->text)) {
                memcpy(s->text, s->payload, s->len);
                s->text_len = s->len;
        } else if (s->op == OP_PONG && s->n_pongs < 4 && s->len < sizeof(s->pong[0])) {
                memcpy(s->pong[s->n_pongs++], s->payload, s->len);
        } else if (s->op == OP_CLOSE) {
                s->close_code = s->len >= 2 ? s->payload[0] << 8 | s->payload[1] : 0;
        }
}

/* Read and record one client frame (unmasked into s->payload); -1 at end of stream. */
static int cframe_read(struct srv *s, int fd)
{
        uint8_t h[2], ext[8], mask[4] = { 0 };
        uint64_t len;
        size_t n;

        if (read_full(fd, h, 2) < 0)
                return -1;
        s->fin = h[0] & 0x80;
        s->op = h[0] & 0x0f;
        s->masked = h[1] & 0x80;
        len = h[1] & 0x7f;
        n = len == 126 ? 2 : len == 127 ? 8 : 0;
        if (n && read_full(fd, ext, n) < 0)
                return -1;
        for (size_t i = 0; n && i < n; i++)
                len = (i ? len : 0) << 8 | ext[i];
        if (len > sizeof(s->payload) || (s->masked && read_full(fd, mask, 4) < 0) ||
            (len && read_full(fd, s->payload, (size_t)len) < 0))
                return -1;
        for (size_t i = 0; i < len; i++)
                s->payload[i] ^= mask[i & 3];
        s->len = (size_t)len;
        s->n_frames++;
        if (!s->masked)
                s->all_masked = false;
        record(s);
        return 0;
}

/* Frames until the client's request (a text frame). */
static int read_request(struct srv *s, int fd)
{
        while (s->text_len == 0)
                if (cframe_read(s, fd) < 0)
                        return -1;
        return 0;
}

/* Frames until the client closes (close frame or end of stream). */
static void drain(struct srv *s, int fd)
{
        while (cframe_read(s, fd) == 0 && s->op != OP_CLOSE)
                ;
}

static void head_ok(struct srv *s, char *out, size_t n, const char *extra)
{
        char acc[29];

        apilogin_ws_accept_key(s->key, acc);
        snprintf(out, n, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n", acc, extra);
}

/* A valid 101, with refapi's event frame in the same write (bytes past the head). */
static void hs_ok(struct srv *s, int fd)
{
        uint8_t b[1024];
        size_t n;

        head_ok(s, (char *)b, 512, "");
        n = strlen((char *)b);
        n += frame_bytes(b + n, 0x80 | OP_TEXT, EVENT, strlen(EVENT), false);
        send_all(fd, b, n);
}

static void *srv_main(void *arg)
{
        struct srv *s = arg;
        struct pollfd p = { .fd = s->lfd, .events = POLLIN };
        struct timeval tv = { .tv_sec = 3 };
        size_t n = 0;
        const char *k, *end = NULL;
        int fd;

        if (poll(&p, 1, 5000) <= 0 || (fd = accept(s->lfd, NULL, NULL)) < 0)
                return NULL;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        while (!end && n < sizeof(s->head) - 1) {
                ssize_t r = recv(fd, s->head + n, sizeof(s->head) - 1 - n, 0);

                if (r <= 0)
                        break;
                n += (size_t)r;
                s->head[n] = '\0';
                end = strstr(s->head, "\r\n\r\n");
        }
        k = strcasestr(s->head, "\r\nSec-WebSocket-Key: ");
        if (end && k)
                sscanf(k + 21, "%63[^\r]", s->key);
        if (end)
                s->script(s, fd);
        close(fd);
        return NULL;
}

/* ---- the client side: one exchange on the loop ------------------------------------------ */

static struct apilogin_http *H;
static struct loop *L;

static struct {
        int calls;
        int err;
        long status;
        char *body;
        size_t len;
        char url_copy[256];
} R;

static void on_done(void *userdata, struct apilogin_http_resp *resp)
{
        R.calls++;
        R.err = resp->transport_error;
        R.status = resp->status;
        R.len = resp->len;
        free(R.body);
        R.body = resp->body ? strndup(resp->body, resp->len) : NULL;
        snprintf(R.url_copy, sizeof(R.url_copy), "%s", resp->url ? resp->url : "");
}

static int setup(void **state)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof(a);

        free(R.body);
        memset(&R, 0, sizeof(R));
        memset(&S, 0, sizeof(S));
        S.all_masked = true;
        S.close_code = -1;
        S.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (S.lfd < 0 || bind(S.lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            listen(S.lfd, 4) < 0 || getsockname(S.lfd, (struct sockaddr *)&a, &al) < 0)
                return -1;
        S.port = ntohs(a.sin_port);
        if (apilogin_http_new(&H) < 0 || loop_new(H, &L) < 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        if (S.running)
                pthread_join(S.th, NULL);
        S.running = false;
        close(S.lfd);
        L = loop_free(L);
        H = apilogin_http_free(H);
        free(R.body);
        R.body = NULL;
        return 0;
}

static const struct apilogin_provider_cfg plain = { .name = (char *)"room" };

static int start(const char *url, const char *text, const char *match, int timeout_ms,
                 struct apilogin_ws **ret)
{
        struct apilogin_http_req req = { 0 };

        req.url = strdup(url);
        req.body = text ? strdup(text) : NULL;
        req.body_len = text ? strlen(text) : 0;
        req.match_id = match ? strdup(match) : NULL;
        return apilogin_ws_start(H, L, &plain, &req, apilogin_now_ms() + (uint64_t)timeout_ms,
                                 on_done, NULL, ret);
}

static void run_until_done(int max_ms)
{
        uint64_t end = apilogin_now_ms() + (uint64_t)max_ms;

        while (R.calls == 0 && apilogin_now_ms() < end)
                assert_int_equal(loop_iterate(L, 50), 0);
}

/* Run script on the server and one exchange against it (URL path, match id, timeout). */
static void exchange(script_fn script, const char *path, const char *match, int timeout_ms)
{
        char url[128];

        S.script = script;
        assert_int_equal(pthread_create(&S.th, NULL, srv_main, &S), 0);
        S.running = true;
        snprintf(url, sizeof(url), "ws://127.0.0.1:%d%s", S.port, path);
        assert_int_equal(start(url, REQ_TEXT, match, timeout_ms, NULL), 0);
        run_until_done(timeout_ms + 3000);
        assert_int_equal(R.calls, 1);
        pthread_join(S.th, NULL);
        S.running = false;
}

/* ---- scripts and the exchange tests ------------------------------------------------------ */

static void s_happy(struct srv *s, int fd)
{
        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        frame(fd, true, OP_PING, "ping-1");
        frame(fd, true, OP_TEXT, OTHER);
        frame(fd, true, OP_PONG, "unsolicited");
        frame(fd, false, OP_TEXT, "{\"method\":\"auth\",");
        frame(fd, true, OP_PING, "ping-2");
        frame(fd, false, OP_CONT, "\"requestId\":\"r-7\",");
        frame(fd, true, OP_CONT, "\"result\":true,\"resultCode\":0}");
        drain(s, fd);
}

/* Events and other requestIds skipped, fragments reassembled, pings answered in order with
 * their payload, pongs ignored, every client frame masked, a close 1000 at the end; the
 * handshake names the path and query (not the fragment) and the host. */
static void test_happy(void **state)
{
        char want[128];

        exchange(s_happy, "/ws?x=1#frag", "r-7", 2000);
        assert_int_equal(R.err, 0);
        assert_int_equal(R.status, APILOGIN_WS_STATUS);
        assert_string_equal(R.body, REPLY);
        assert_int_equal(R.len, strlen(REPLY));
        snprintf(want, sizeof(want), "ws://127.0.0.1:%d/ws", S.port);
        assert_string_equal(R.url_copy, want);
        assert_true(S.all_masked);
        assert_int_equal(S.text_len, strlen(REQ_TEXT));
        assert_memory_equal(S.text, REQ_TEXT, S.text_len);
        assert_int_equal(S.n_pongs, 2);
        assert_string_equal(S.pong[0], "ping-1");
        assert_string_equal(S.pong[1], "ping-2");
        assert_int_equal(S.close_code, 1000);
        assert_int_equal(S.n_frames, 4); /* request, two pongs, close */
        assert_non_null(strstr(S.head, "GET /ws?x=1 HTTP/1.1\r\n"));
        snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%d\r\n", S.port);
        assert_non_null(strstr(S.head, want));
        assert_non_null(strstr(S.head, "\r\nUpgrade: websocket\r\n"));
        assert_non_null(strcasestr(S.head, "\r\nConnection: Upgrade\r\n"));
        assert_non_null(strstr(S.head, "\r\nSec-WebSocket-Version: 13\r\n"));
        assert_int_equal(strlen(S.key), 24);
}

static void s_dribble(struct srv *s, int fd)
{
        char head[512];
        uint8_t b[256];
        size_t n;

        head_ok(s, head, sizeof(head), "");
        send_all(fd, head, 20);
        usleep(20000);
        send_all(fd, head + 20, strlen(head) - 20);
        if (read_request(s, fd) < 0)
                return;
        n = frame_bytes(b, 0x80 | OP_TEXT, REPLY, strlen(REPLY), false);
        for (size_t i = 0; i < n; i += 7) {
                send_all(fd, b + i, n - i < 7 ? n - i : 7);
                usleep(5000);
        }
        drain(s, fd);
}

/* A handshake answer and a reply that arrive a few bytes at a time; no path: "/". */
static void test_dribble(void **state)
{
        exchange(s_dribble, "", "r-7", 2000);
        assert_int_equal(R.err, 0);
        assert_string_equal(R.body, REPLY);
        assert_non_null(strstr(S.head, "GET / HTTP/1.1\r\n"));
}

static void s_terse(struct srv *s, int fd)
{
        char acc[29], b[256];

        apilogin_ws_accept_key(s->key, acc);
        snprintf(b, sizeof(b), "HTTP/1.1 101\r\nupgrade:WebSocket\r\nConnection: keep-alive, "
                 "upgrade\r\nsec-websocket-accept:   %s  \r\n\r\n", acc);
        send_all(fd, b, strlen(b));
        if (read_request(s, fd) < 0)
                return;
        frame(fd, true, OP_TEXT, REPLY);
        drain(s, fd);
}

/* A 101 without a reason phrase, header names and values in other cases, token lists and
 * blanks around values: all fine. */
static void test_terse_handshake(void **state)
{
        exchange(s_terse, "/", "r-7", 2000);
        assert_int_equal(R.err, 0);
        assert_string_equal(R.body, REPLY);
}

static void s_event_then_other(struct srv *s, int fd)
{
        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        frame(fd, true, OP_TEXT, OTHER);
        drain(s, fd);
}

/* Without a match id the first message that is not an event is the reply. */
static void test_no_match_id(void **state)
{
        exchange(s_event_then_other, "/", NULL, 2000);
        assert_int_equal(R.err, 0);
        assert_string_equal(R.body, OTHER);
}

static void s_garbage(struct srv *s, int fd)
{
        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        frame(fd, true, OP_TEXT, GARBAGE);
        drain(s, fd);
}

/* A text that is not JSON is handed on at once (the driver calls it malformed). */
static void test_garbage_handed_on(void **state)
{
        exchange(s_garbage, "/", "r-7", 2000);
        assert_int_equal(R.err, 0);
        assert_string_equal(R.body, GARBAGE);
}

static void s_max_frame(struct srv *s, int fd)
{
        size_t n = APILOGIN_WS_MSG_MAX;
        char *big = malloc(n + 1);
        int pre;

        hs_ok(s, fd);
        if (!big || read_request(s, fd) < 0) {
                free(big);
                return;
        }
        pre = snprintf(big, n + 1, "{\"method\":\"auth\",\"requestId\":\"r-7\",\"pad\":\"");
        memset(big + pre, 'p', n - (size_t)pre - 2);
        memcpy(big + n - 2, "\"}", 2);
        frame_raw(fd, 0x80 | OP_TEXT, big, n, false);
        free(big);
        drain(s, fd);
}

/* A reply of exactly APILOGIN_WS_MSG_MAX bytes is still taken. */
static void test_max_frame(void **state)
{
        exchange(s_max_frame, "/", "r-7", 3000);
        assert_int_equal(R.err, 0);
        assert_int_equal(R.len, APILOGIN_WS_MSG_MAX);
}

static void s_big_frame(struct srv *s, int fd)
{
        static char big[APILOGIN_WS_MSG_MAX + 1];

        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        memset(big, 'x', sizeof(big));
        frame_raw(fd, 0x80 | OP_TEXT, big, sizeof(big), false);
        drain(s, fd);
}

/* A frame over 64 KiB is refused from its header: close 1009, -EMSGSIZE. */
static void test_big_frame(void **state)
{
        exchange(s_big_frame, "/", "r-7", 2000);
        assert_int_equal(R.err, -EMSGSIZE);
        assert_null(R.body);
        assert_int_equal(S.close_code, 1009);
}

static void s_huge_header(struct srv *s, int fd)
{
        static const uint8_t h[10] = { 0x80 | OP_TEXT, 127, 0, 0, 1, 0, 0, 0, 0, 0 };

        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        send_all(fd, h, sizeof(h));
        send_all(fd, "{\"method\":", 10);
        drain(s, fd);
}

/* A header announcing 1 TiB: refused at once, without waiting for the payload. */
static void test_huge_header(void **state)
{
        uint64_t t0 = apilogin_now_ms();

        exchange(s_huge_header, "/", "r-7", 2000);
        assert_int_equal(R.err, -EMSGSIZE);
        assert_true(apilogin_now_ms() - t0 < 1000);
        assert_int_equal(S.close_code, 1009);
}

static void s_big_message(struct srv *s, int fd)
{
        static char part[40000];

        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        memset(part, 'x', sizeof(part));
        frame_raw(fd, OP_TEXT, part, sizeof(part), false);
        frame_raw(fd, 0x80 | OP_CONT, part, sizeof(part), false);
        drain(s, fd);
}

/* Fragments adding up to more than 64 KiB: -EMSGSIZE. */
static void test_big_message(void **state)
{
        exchange(s_big_message, "/", "r-7", 2000);
        assert_int_equal(R.err, -EMSGSIZE);
        assert_int_equal(S.close_code, 1009);
}

static void s_flood(struct srv *s, int fd)
{
        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        for (int i = 0; i < APILOGIN_WS_SKIP_MAX + 5; i++)
                frame(fd, true, OP_TEXT, EVENT);
        drain(s, fd);
}

/* Endless events are cut after APILOGIN_WS_SKIP_MAX messages. */
static void test_event_flood(void **state)
{
        exchange(s_flood, "/", "r-7", 2000);
        assert_int_equal(R.err, -EMSGSIZE);
}

static void s_close_first(struct srv *s, int fd)
{
        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        frame_raw(fd, 0x80 | OP_CLOSE, "\x03\xe9going", 7, false);
        drain(s, fd);
}

/* The server closes before the reply: the client echoes the code, -ECONNRESET. */
static void test_close_before_reply(void **state)
{
        exchange(s_close_first, "/", "r-7", 2000);
        assert_int_equal(R.err, -ECONNRESET);
        assert_int_equal(S.close_code, 1001);
}

static void s_eof(struct srv *s, int fd)
{
        hs_ok(s, fd);
        (void)read_request(s, fd);
}

/* End of stream before the reply: -ECONNRESET. */
static void test_eof_before_reply(void **state)
{
        exchange(s_eof, "/", "r-7", 2000);
        assert_int_equal(R.err, -ECONNRESET);
}

static void s_stall(struct srv *s, int fd)
{
        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        drain(s, fd);
}

/* No reply: cut at the deadline (-ETIMEDOUT), with a close (1001). */
static void test_deadline(void **state)
{
        uint64_t t0 = apilogin_now_ms(), ms;

        exchange(s_stall, "/", "r-7", 300);
        ms = apilogin_now_ms() - t0;
        assert_int_equal(R.err, -ETIMEDOUT);
        assert_true(ms >= 290 && ms < 1500);
        assert_int_equal(S.close_code, 1001);
}

/* ---- protocol violations: each ends the exchange with -EPROTO ---------------------------- */

static void violate(struct srv *s, int fd, uint8_t b0, const char *payload, bool masked)
{
        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        frame_raw(fd, b0, payload, strlen(payload), masked);
        drain(s, fd);
}

static void s_masked(struct srv *s, int fd)
{
        violate(s, fd, 0x80 | OP_TEXT, REPLY, true);
}

static void s_rsv(struct srv *s, int fd)
{
        violate(s, fd, 0xc0 | OP_TEXT, REPLY, false);
}

static void s_binary(struct srv *s, int fd)
{
        violate(s, fd, 0x80 | OP_BINARY, REPLY, false);
}

static void s_opcode3(struct srv *s, int fd)
{
        violate(s, fd, 0x80 | 3, REPLY, false);
}

static void s_cont_first(struct srv *s, int fd)
{
        violate(s, fd, 0x80 | OP_CONT, REPLY, false);
}

static void s_ping_fragmented(struct srv *s, int fd)
{
        violate(s, fd, OP_PING, "x", false);
}

static void s_ping_long(struct srv *s, int fd)
{
        static char p[127];

        memset(p, 'p', sizeof(p) - 1);
        violate(s, fd, 0x80 | OP_PING, p, false);
}

static void s_text_in_text(struct srv *s, int fd)
{
        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        frame(fd, false, OP_TEXT, "{\"method\":");
        frame(fd, true, OP_TEXT, REPLY);
        drain(s, fd);
}

static void test_violations(void **state)
{
        static const script_fn scripts[] = { s_masked, s_rsv, s_binary, s_opcode3, s_cont_first,
                                             s_ping_fragmented, s_ping_long, s_text_in_text };

        for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
                teardown(state);
                assert_int_equal(setup(state), 0);
                exchange(scripts[i], "/", "r-7", 2000);
                if (R.err != -EPROTO)
                        fail_msg("script %zu: %d", i, R.err);
                assert_null(R.body);
                assert_int_equal(S.close_code, 1002);
        }
}

/* ---- handshake faults ------------------------------------------------------------------- */

static void answer(int fd, const char *text)
{
        send_all(fd, text, strlen(text));
}

static void s_bad_accept(struct srv *s, int fd)
{
        answer(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        drain(s, fd);
}

static void s_500(struct srv *s, int fd)
{
        answer(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
        drain(s, fd);
}

static void s_no_upgrade(struct srv *s, int fd)
{
        char acc[29], b[256];

        apilogin_ws_accept_key(s->key, acc);
        snprintf(b, sizeof(b), "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
        answer(fd, b);
        drain(s, fd);
}

static void s_extension(struct srv *s, int fd)
{
        char b[512];

        head_ok(s, b, sizeof(b), "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        answer(fd, b);
        drain(s, fd);
}

static void s_close_at_once(struct srv *s, int fd)
{
}

static void s_bad_status(struct srv *s, int fd)
{
        answer(fd, "HTTP/1.1 1x1 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
        drain(s, fd);
}

static void s_endless_head(struct srv *s, int fd)
{
        static char junk[APILOGIN_WS_HEAD_MAX + 100];

        memset(junk, 'h', sizeof(junk));
        memcpy(junk, "HTTP/1.1 101 OK\r\nX: ", 20);
        send_all(fd, junk, sizeof(junk));
        drain(s, fd);
}

/* Each: a transport error; nothing is sent after the handshake request. */
static void test_handshake_faults(void **state)
{
        static const struct {
                script_fn script;
                int err;
                long status;
        } cases[] = {
                { s_bad_accept, -EPROTO, 101 }, { s_500, -EPROTO, 500 },
                { s_no_upgrade, -EPROTO, 101 }, { s_extension, -EPROTO, 101 },
                { s_close_at_once, -ECONNRESET, 0 }, { s_endless_head, -EPROTO, 0 },
                { s_bad_status, -EPROTO, 0 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                teardown(state);
                assert_int_equal(setup(state), 0);
                exchange(cases[i].script, "/", "r-7", 2000);
                if (R.err != cases[i].err || R.status != cases[i].status)
                        fail_msg("case %zu: err %d status %ld", i, R.err, R.status);
                assert_int_equal(S.n_frames, 0);
        }
}

/* ---- start, refusals, cancel ------------------------------------------------------------ */

static void test_refused_port(void **state)
{
        char url[64];

        snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", S.port);
        close(S.lfd); /* nobody listens there any more */
        S.lfd = -1;
        assert_int_equal(start(url, REQ_TEXT, "r-7", 2000, NULL), 0);
        run_until_done(3000);
        assert_int_equal(R.calls, 1);
        assert_int_equal(R.err, -ECONNREFUSED);
}

static void test_refusals(void **state)
{
        struct apilogin_http_req req = { .url = strdup("http://127.0.0.1/x") };
        char big[APILOGIN_WS_MSG_MAX + 2];

        assert_int_equal(start("http://127.0.0.1:1/", REQ_TEXT, NULL, 1000, NULL), -EPERM);
        assert_int_equal(start("ws://example.com/", REQ_TEXT, NULL, 1000, NULL), -EPERM);
        assert_int_equal(start("ws://127.0.0.1@example.com/", REQ_TEXT, NULL, 1000, NULL),
                         -EINVAL);
        assert_int_equal(start("ws://127.0.0.1:1/", NULL, NULL, 1000, NULL), -EINVAL);
        assert_int_equal(start("ws://127.0.0.1:1/", "", NULL, 1000, NULL), -EINVAL);
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(start("ws://127.0.0.1:1/", big, NULL, 1000, NULL), -EINVAL);
        assert_int_equal(start("ws://127.0.0.1:1/", REQ_TEXT, NULL, -10, NULL), -ETIMEDOUT);
        /* the request is taken and cleared even when refused */
        req.body = strdup(REQ_TEXT);
        req.body_len = strlen(REQ_TEXT);
        assert_int_equal(apilogin_ws_start(H, L, &plain, &req, apilogin_now_ms() + 1000,
                                           on_done, NULL, NULL), -EPERM);
        assert_null(req.url);
        assert_null(req.body);
        assert_int_equal(R.calls, 0);
        assert_int_equal(apilogin_http_in_flight(H), 0);
}

static void s_ping_flood(struct srv *s, int fd)
{
        static uint8_t chunk[512 * 140];
        struct timeval tv = { .tv_sec = 5 };
        char ping[125];
        size_t n = 0;

        hs_ok(s, fd);
        if (read_request(s, fd) < 0)
                return;
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        memset(ping, 'p', sizeof(ping));
        for (int i = 0; i < 512; i++)
                n += frame_bytes(chunk + n, 0x80 | OP_PING, ping, sizeof(ping), false);
        /* 400 000 pings (50 MB), never reading a pong: far more than the kernel's buffers
         * (ours is small, see below; the client's send buffer at most 4 MB) can take. */
        for (int i = 0; i < 800; i++)
                if (send(fd, chunk, n, MSG_NOSIGNAL) != (ssize_t)n)
                        return; /* the client closed: what the test wants */
        /* a pause, so that a client still reading goes back to its loop with its queue
         * full, then the reply, and the pongs read at last */
        usleep(300000);
        frame(fd, true, OP_TEXT, REPLY);
        drain(s, fd);
}

/* A server that pings and never reads: the pongs queued stay under
 * APILOGIN_WS_CTRL_QUEUE_MAX, and the exchange ends with -ENOBUFS instead of growing the
 * queue until the deadline (or, as here, until the reply comes after 50 MB of pings). */
static void test_ping_flood(void **state)
{
        struct apilogin_ws *w = NULL;
        size_t max_q = 0;
        int small = 64 * 1024;
        char url[64];
        uint64_t end;

        /* a small receive buffer on the server's side (inherited from the listener), so
         * that the pongs pile up in the client rather than in the kernel */
        assert_int_equal(setsockopt(S.lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
        S.script = s_ping_flood;
        assert_int_equal(pthread_create(&S.th, NULL, srv_main, &S), 0);
        S.running = true;
        snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", S.port);
        assert_int_equal(start(url, REQ_TEXT, "r-7", 8000, &w), 0);
        end = apilogin_now_ms() + 12000;
        while (R.calls == 0 && apilogin_now_ms() < end) {
                assert_int_equal(loop_iterate(L, 50), 0);
                if (R.calls == 0 && apilogin_ws_queued(w) > max_q)
                        max_q = apilogin_ws_queued(w); /* w lives until done is called */
        }
        pthread_join(S.th, NULL);
        S.running = false;
        assert_int_equal(R.calls, 1);
        assert_true(S.text_len > 0); /* the request did go out before the flood */
        if (max_q > APILOGIN_WS_CTRL_QUEUE_MAX)
                fail_msg("the outgoing queue grew to %zu bytes", max_q);
        assert_int_equal(R.err, -ENOBUFS);
        assert_null(R.body);
}

static void s_empty_text(struct srv *s, int fd)
{
        char head[512];

        /* no event frame first: the empty message is the first data the client reads, so
         * its message buffer was never allocated */
        head_ok(s, head, sizeof(head), "");
        send_all(fd, head, strlen(head));
        if (read_request(s, fd) < 0)
                return;
        frame_raw(fd, 0x80 | OP_PING, "", 0, false);
        frame(fd, false, OP_TEXT, "");
        frame(fd, true, OP_CONT, "");
        drain(s, fd);
}

/* An empty ping gets an empty pong; an empty text message (here an empty first fragment
 * and an empty last one) is a message like any other: handed on as "" of length 0 (the
 * driver calls it malformed), with no memcpy from the NULL of a buffer never allocated
 * (UBSan: -fsanitize=nonnull-attribute). */
static void test_empty_text(void **state)
{
        exchange(s_empty_text, "/", "r-7", 2000);
        assert_int_equal(R.err, 0);
        assert_int_equal(R.status, APILOGIN_WS_STATUS);
        assert_non_null(R.body);
        assert_int_equal(R.len, 0);
        assert_string_equal(R.body, "");
        assert_int_equal(S.n_pongs, 1);
        assert_string_equal(S.pong[0], "");
        assert_int_equal(S.close_code, 1000);
}

/* Cancel while connecting, and once the request is out: no callback, connection closed
 * without a close frame, nothing leaks (ASan). */
static void test_cancel(void **state)
{
        struct apilogin_ws *w = NULL;
        char url[64];
        uint64_t end;

        snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", S.port);
        assert_int_equal(start(url, REQ_TEXT, "r-7", 2000, &w), 0);
        apilogin_ws_cancel(w);
        assert_int_equal(apilogin_http_in_flight(H), 0);
        /* curl had not even started connecting: the server sees nothing of it */
        S.script = s_stall;
        assert_int_equal(pthread_create(&S.th, NULL, srv_main, &S), 0);
        S.running = true;
        assert_int_equal(start(url, REQ_TEXT, "r-7", 2000, &w), 0);
        end = apilogin_now_ms() + 2000;
        while (S.text_len == 0 && apilogin_now_ms() < end)
                assert_int_equal(loop_iterate(L, 20), 0);
        assert_int_equal(S.text_len, strlen(REQ_TEXT));
        apilogin_ws_cancel(w);
        pthread_join(S.th, NULL);
        S.running = false;
        assert_int_equal(R.calls, 0);
        assert_int_equal(S.close_code, -1);
        assert_int_equal(loop_iterate(L, 10), 0);
}

static void test_accept_key(void **state)
{
        static const char *const v[][2] = {
                { "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" }, /* RFC 6455 */
                { "AAAAAAAAAAAAAAAAAAAAAA==", "ICX+Yqv66kxgM0FcWaLWlFLwTAI=" },
                { "x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk=" },
        };
        char out[29];

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                apilogin_ws_accept_key(v[i][0], out);
                assert_string_equal(out, v[i][1]);
        }
        assert_true(apilogin_ws_url("ws://h/"));
        assert_true(apilogin_ws_url("WSS://h/"));
        assert_false(apilogin_ws_url("https://h/"));
        assert_false(apilogin_ws_url("ws:/h"));
        assert_false(apilogin_ws_url(NULL));
}

/* ---- the ws_auth driver ------------------------------------------------------------------ */

/* .conf (users = kiosk:user, kioskadmin:admin) is set in main, through the key table. */
static struct apilogin_provider_cfg room = {
        .name = (char *)"room", .type = &apilogin_driver_ws_auth.type,
        .url = (char *)"ws://127.0.0.1:8765",
};

static const struct apilogin_driver *drv(void)
{
        const struct apilogin_driver *d = apilogin_driver_find(room.type);

        assert_ptr_equal(d, &apilogin_driver_ws_auth);
        return d;
}

static struct apilogin_login_in in_for(const char *user, const char *secret)
{
        return (struct apilogin_login_in){ .p = &room, .url = room.url, .user = user,
                                           .secret = secret };
}

/* The requestId the driver sends (and wants back). */
static char *request_id(void)
{
        struct apilogin_login_in in = in_for("kiosk", "1234");
        struct apilogin_http_req req = { 0 };
        char *id;

        assert_int_equal(drv()->login_request(&in, &req), 0);
        id = strdup(req.match_id);
        apilogin_http_req_clear(&req);
        return id;
}

static void check_request(const char *user, const char *role)
{
        struct apilogin_login_in in = in_for(user, "4711-PIN");
        struct apilogin_http_req req = { 0 };
        cJSON *j;

        assert_int_equal(drv()->login_request(&in, &req), 0);
        assert_string_equal(req.url, "ws://127.0.0.1:8765");
        assert_non_null(req.match_id);
        assert_true(req.match_id[0] != '\0');
        assert_int_equal(req.body_len, strlen(req.body));
        j = cJSON_ParseWithLength(req.body, req.body_len);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(j, "method")->valuestring, "auth");
        assert_string_equal(cJSON_GetObjectItem(j, "requestId")->valuestring, req.match_id);
        assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "secured");
        assert_string_equal(cJSON_GetObjectItem(j, "credentials")->valuestring, "4711-PIN");
        assert_string_equal(cJSON_GetObjectItem(j, "role")->valuestring, role);
        assert_int_equal(cJSON_GetArraySize(j), 5);
        cJSON_Delete(j);
        apilogin_http_req_clear(&req);
}

static void test_drv_request(void **state)
{
        check_request("kiosk", "user");
        check_request("kioskadmin", "admin");
        assert_null(drv()->logout_request);
}

/* Refresh: token authorization with the 30-day token for a fresh tokenForHttpServer; the
 * token and its expiry stay the session's; no PIN anywhere. */
static void refresh_reply(const char *user, const char *body, struct apilogin_result *r)
{
        struct apilogin_session_creds c = { .url = room.url, .user = user, .token = "1*tok",
                                            .expires_at = 1234567890 };
        struct apilogin_http_resp resp = { .status = APILOGIN_WS_STATUS, .body = (char *)body,
                                           .len = strlen(body), .retry_after = -1 };

        *r = (struct apilogin_result){ .retry_after = -1 };
        assert_int_equal(drv()->refresh_reply(&room, &c, &resp, r), 0);
}

static void test_drv_refresh(void **state)
{
        struct apilogin_session_creds c = { .url = room.url, .user = "kioskadmin",
                                            .token = "1*tok", .expires_at = 1234567890 };
        struct apilogin_http_req req = { 0 };
        struct apilogin_result r;
        char body[512];
        cJSON *j;

        assert_int_equal(drv()->extra_lifetime_s, 300);
        assert_int_equal(drv()->refresh_request(&room, &c, &req), 0);
        assert_string_equal(req.url, "ws://127.0.0.1:8765");
        j = cJSON_ParseWithLength(req.body, req.body_len);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(j, "method")->valuestring, "auth");
        assert_string_equal(cJSON_GetObjectItem(j, "requestId")->valuestring, req.match_id);
        assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "secured");
        assert_string_equal(cJSON_GetObjectItem(j, "credentials")->valuestring, "1*tok");
        assert_string_equal(cJSON_GetObjectItem(j, "role")->valuestring, "admin");
        cJSON_Delete(j);

        (void)snprintf(body, sizeof(body), "{\"method\":\"auth\",\"requestId\":\"%s\","
                       "\"previleges\":2,\"token\":\"1*other\",\"tokenForHttpServer\":\"4*new\","
                       "\"result\":true,\"resultCode\":0}", req.match_id);
        refresh_reply("kioskadmin", body, &r);
        assert_int_equal(r.outcome, APILOGIN_OK);
        assert_string_equal(r.token, "1*tok");            /* kept until logout */
        assert_int_equal(r.expires_at, 1234567890);        /* inherited lifetime */
        assert_string_equal(r.extra[0].key, "tokenForHttpServer");
        assert_string_equal(r.extra[0].value, "4*new");
        apilogin_result_clear(&r);

        /* The device forgot the token: a refusal, not a retry. */
        (void)snprintf(body, sizeof(body), "{\"method\":\"auth\",\"requestId\":\"%s\","
                       "\"result\":false,\"resultCode\":8}", req.match_id);
        refresh_reply("kioskadmin", body, &r);
        assert_int_equal(r.outcome, APILOGIN_AUTH_ERR);
        apilogin_result_clear(&r);
        /* No tokenForHttpServer: nothing renewed, retried later. */
        (void)snprintf(body, sizeof(body), "{\"method\":\"auth\",\"requestId\":\"%s\","
                       "\"previleges\":2,\"token\":\"1*tok\",\"result\":true,"
                       "\"resultCode\":0}", req.match_id);
        refresh_reply("kioskadmin", body, &r);
        assert_int_equal(r.outcome, APILOGIN_UNAVAIL);
        assert_null(r.token);
        apilogin_result_clear(&r);
        apilogin_http_req_clear(&req);

        /* A name no longer in the map, or no token: nothing is sent. */
        c.user = "stranger";
        assert_int_equal(drv()->refresh_request(&room, &c, &req), -ENOENT);
        c.user = "kiosk";
        c.token = "";
        assert_int_equal(drv()->refresh_request(&room, &c, &req), -EINVAL);
        assert_null(req.body);
}

static void test_drv_request_refusals(void **state)
{
        struct apilogin_http_req req = { 0 };
        struct apilogin_login_in in = in_for("stranger", "4711");
        char long_secret[APILOGIN_SECRET_MAX + 2];

        assert_int_equal(drv()->login_request(&in, &req), -ENOENT);
        assert_null(req.url);
        assert_null(req.body);
        in = in_for("stranger", "");
        assert_int_equal(drv()->login_request(&in, &req), -ENOENT); /* the name first */
        in = in_for("KIOSK", "4711");
        assert_int_equal(drv()->login_request(&in, &req), -ENOENT); /* exact names */
        in = in_for("kiosk", "");
        assert_int_equal(drv()->login_request(&in, &req), -EINVAL);
        memset(long_secret, 'x', sizeof(long_secret) - 1);
        long_secret[sizeof(long_secret) - 1] = '\0';
        in = in_for("kiosk", long_secret);
        assert_int_equal(drv()->login_request(&in, &req), -EINVAL);
        assert_null(req.body);
}

/* Read body as the reply to user's login into *r (cleared by the caller). */
static void reply(const char *user, const char *body, struct apilogin_result *r)
{
        struct apilogin_login_in in = in_for(user, "4711");
        struct apilogin_http_resp resp = { .status = APILOGIN_WS_STATUS, .body = (char *)body,
                                           .len = strlen(body), .retry_after = -1 };

        *r = (struct apilogin_result){ .retry_after = -1 };
        assert_int_equal(drv()->login_reply(&in, &resp, r), 0);
}

static void test_drv_result_codes(void **state)
{
        static const enum apilogin_outcome want[13] = {
                APILOGIN_OK, APILOGIN_UNAVAIL, APILOGIN_PERM_DENIED, APILOGIN_PERM_DENIED,
                APILOGIN_AUTH_ERR, APILOGIN_PERM_DENIED, APILOGIN_MAXTRIES, APILOGIN_AUTH_ERR,
                APILOGIN_AUTH_ERR, APILOGIN_SERVICE_ERR, APILOGIN_SERVICE_ERR,
                APILOGIN_SERVICE_ERR, APILOGIN_SERVICE_ERR,
        };
        char *id = request_id(), body[512], code[32];
        struct apilogin_result r;

        for (int c = 0; c <= 12; c++) {
                if (c == 0)
                        snprintf(body, sizeof(body), "{\"method\":\"auth\",\"requestId\":\"%s\","
                                 "\"previleges\":1,\"token\":\"1*t\",\"result\":true,"
                                 "\"resultCode\":0}", id);
                else
                        snprintf(body, sizeof(body), "{\"method\":\"auth\",\"requestId\":\"%s\","
                                 "\"result\":false,\"resultCode\":%d}", id, c);
                reply("kiosk", body, &r);
                if (r.outcome != want[c])
                        fail_msg("resultCode %d: outcome %d, want %d", c, r.outcome, want[c]);
                if (c > 0) {
                        snprintf(code, sizeof(code), "resultCode %d", c);
                        assert_string_equal(r.api_code, code);
                        assert_non_null(r.api_message);
                        assert_null(r.token);
                }
                apilogin_result_clear(&r);
        }
        snprintf(body, sizeof(body), "{\"method\":\"auth\",\"requestId\":\"%s\","
                 "\"result\":false,\"resultCode\":13}", id);
        reply("kiosk", body, &r);
        assert_int_equal(r.outcome, APILOGIN_UNAVAIL); /* a code we do not know */
        apilogin_result_clear(&r);
        free(id);
}

static void success_body(char *body, size_t n, const char *id, int priv, bool http_token)
{
        snprintf(body, n, "{\"method\":\"auth\",\"requestId\":\"%s\",\"previleges\":%d,"
                 "\"token\":\"1*Cwk7m2fznHFi0t02*99235446\"%s,\"result\":true,\"resultCode\":0}",
                 id, priv, http_token ? ",\"tokenForHttpServer\":\"4*MKYl5cDyBcJrKUez\"" : "");
}

static void test_drv_success(void **state)
{
        char *id = request_id(), body[512];
        struct apilogin_result r;
        int64_t now = (int64_t)time(NULL);

        success_body(body, sizeof(body), id, 1, true);
        reply("kiosk", body, &r);
        assert_int_equal(r.outcome, APILOGIN_OK);
        assert_string_equal(r.token, "1*Cwk7m2fznHFi0t02*99235446");
        assert_null(r.refresh);
        assert_string_equal(r.role, "user");
        assert_string_equal(r.extra[0].key, "tokenForHttpServer");
        assert_string_equal(r.extra[0].value, "4*MKYl5cDyBcJrKUez");
        assert_null(r.extra[1].key);
        assert_true(r.expires_at >= now + 30 * 86400 && r.expires_at <= now + 30 * 86400 + 5);
        apilogin_result_clear(&r);

        success_body(body, sizeof(body), id, 2, false);
        reply("kioskadmin", body, &r);
        assert_int_equal(r.outcome, APILOGIN_OK);
        assert_string_equal(r.role, "admin");
        assert_null(r.extra[0].key); /* no tokenForHttpServer, no extra */
        apilogin_result_clear(&r);

        /* "result": true alone stands for resultCode 0 */
        snprintf(body, sizeof(body), "{\"method\":\"auth\",\"requestId\":\"%s\",\"previleges\":1,"
                 "\"token\":\"1*x\",\"result\":true}", id);
        reply("kiosk", body, &r);
        assert_int_equal(r.outcome, APILOGIN_OK);
        apilogin_result_clear(&r);
        free(id);
}

/* previleges must be the role asked for: 2 for a user name, 1 for an admin name. */
static void test_drv_privileges_differ(void **state)
{
        char *id = request_id(), body[512];
        struct apilogin_result r;

        success_body(body, sizeof(body), id, 2, true);
        reply("kiosk", body, &r);
        assert_int_equal(r.outcome, APILOGIN_PERM_DENIED);
        assert_null(r.token);
        assert_null(r.extra[0].value);
        assert_string_equal(r.api_code, "previleges 2");
        apilogin_result_clear(&r);

        success_body(body, sizeof(body), id, 1, true);
        reply("kioskadmin", body, &r);
        assert_int_equal(r.outcome, APILOGIN_PERM_DENIED);
        assert_null(r.token);
        apilogin_result_clear(&r);

        success_body(body, sizeof(body), id, 3, true);
        reply("kioskadmin", body, &r);
        assert_int_equal(r.outcome, APILOGIN_PERM_DENIED);
        apilogin_result_clear(&r);
        free(id);
}

/* text with every "@" replaced by id, into out. */
static void with_id(char *out, size_t n, const char *text, const char *id)
{
        size_t o = 0, il = strlen(id);

        for (; *text && o + il + 1 < n; text++) {
                if (*text == '@') {
                        memcpy(out + o, id, il);
                        o += il;
                } else {
                        out[o++] = *text;
                }
        }
        out[o] = '\0';
}

/* Replies that are not an answer to our auth, or that cannot be read: UNAVAIL. */
static void test_drv_malformed(void **state)
{
        static const char *const cases[] = {
                /* another requestId, none, another method */
                "{\"method\":\"auth\",\"requestId\":\"other-@\",\"previleges\":1,\"token\":\"1*x\",\"result\":true,\"resultCode\":0}",
                "{\"method\":\"auth\",\"previleges\":1,\"token\":\"1*x\",\"result\":true,\"resultCode\":0}",
                "{\"method\":\"event\",\"requestId\":\"@\",\"result\":true,\"resultCode\":0}",
                /* success without a usable token or previleges */
                "{\"method\":\"auth\",\"requestId\":\"@\",\"previleges\":1,\"result\":true,\"resultCode\":0}",
                "{\"method\":\"auth\",\"requestId\":\"@\",\"previleges\":1,\"token\":\"\",\"result\":true,\"resultCode\":0}",
                "{\"method\":\"auth\",\"requestId\":\"@\",\"token\":\"1*x\",\"result\":true,\"resultCode\":0}",
                "{\"method\":\"auth\",\"requestId\":\"@\",\"previleges\":\"1\",\"token\":\"1*x\",\"resultCode\":0}",
                /* contradictions and codes of the wrong type */
                "{\"method\":\"auth\",\"requestId\":\"@\",\"previleges\":1,\"token\":\"1*x\",\"result\":false,\"resultCode\":0}",
                "{\"method\":\"auth\",\"requestId\":\"@\",\"result\":false}",
                "{\"method\":\"auth\",\"requestId\":\"@\",\"result\":false,\"resultCode\":\"8\"}",
                "{\"method\":\"auth\",\"requestId\":\"@\",\"result\":false,\"resultCode\":8.5}",
                /* not an object, not JSON, JSON with trailing bytes, nothing */
                "[\"@\"]",
                "refapi garbage {\"method\": not json",
                "{\"method\":\"auth\",\"requestId\":\"@\",\"result\":false,\"resultCode\":8} trailing",
                "",
        };
        char *id = request_id(), body[512];
        struct apilogin_result r;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                with_id(body, sizeof(body), cases[i], id);
                reply("kiosk", body, &r);
                if (r.outcome != APILOGIN_UNAVAIL)
                        fail_msg("case %zu: outcome %d: %s", i, r.outcome, body);
                assert_null(r.token);
                apilogin_result_clear(&r);
        }
        free(id);
}

/* ---- spares: a connection opened ahead of its exchange ------------------------------------ */

static struct {
        int calls, err;
        bool was_open;
} G;

static void on_gone(void *userdata, struct apilogin_ws *w, int error, bool was_open)
{
        (void)userdata;
        (void)w;
        G.calls++;
        G.err = error;
        G.was_open = was_open;
}

/* Start script on the server and open a spare to it. */
static struct apilogin_ws *spare_open(script_fn script)
{
        struct apilogin_ws *w = NULL;
        char url[128];

        memset(&G, 0, sizeof(G));
        S.script = script;
        assert_int_equal(pthread_create(&S.th, NULL, srv_main, &S), 0);
        S.running = true;
        snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", S.port);
        assert_int_equal(apilogin_ws_spare_open(H, L, &plain, url, apilogin_now_ms() + 2000,
                                                on_gone, NULL, &w), 0);
        return w;
}

/* Loop until pred holds (or max_ms passed). */
static void run_while(bool (*pred)(struct apilogin_ws *w), struct apilogin_ws *w, int max_ms)
{
        uint64_t end = apilogin_now_ms() + (uint64_t)max_ms;

        while (pred(w) && G.calls == 0 && apilogin_now_ms() < end)
                assert_int_equal(loop_iterate(L, 20), 0);
}

static bool not_ready(struct apilogin_ws *w)
{
        return !apilogin_ws_spare_ready(w);
}

static bool always(struct apilogin_ws *w)
{
        (void)w;
        return true;
}

/* Idle, the server sends an event and a ping; later the request comes and is answered. */
static void s_spare(struct srv *s, int fd)
{
        hs_ok(s, fd);
        usleep(100000);
        frame(fd, true, OP_PING, "idle-ping");
        frame(fd, true, OP_TEXT, EVENT);
        if (read_request(s, fd) < 0)
                return;
        frame(fd, true, OP_TEXT, REPLY);
        drain(s, fd);
}

/* A spare is ready after the handshake without sending anything, answers pings and skips
 * events while idle, and then carries one exchange like apilogin_ws_start's. */
static void test_spare_use(void **state)
{
        struct apilogin_ws *w = spare_open(s_spare);
        struct apilogin_http_req req = { 0 };

        run_while(not_ready, w, 2000);
        assert_true(apilogin_ws_spare_ready(w));
        run_while(always, w, 300); /* idle: the event and the ping arrive */
        assert_int_equal(G.calls, 0);
        assert_true(apilogin_ws_spare_ready(w));
        req.url = strdup("ws://ignored.invalid/");
        req.body = strdup(REQ_TEXT);
        req.body_len = strlen(REQ_TEXT);
        req.match_id = strdup("r-7");
        assert_int_equal(apilogin_ws_spare_use(w, &req, apilogin_now_ms() + 2000, on_done, NULL),
                         0);
        assert_null(req.body); /* taken */
        apilogin_http_req_clear(&req);
        assert_false(apilogin_ws_spare_ready(w));
        run_until_done(3000);
        assert_int_equal(R.calls, 1);
        assert_int_equal(R.err, 0);
        assert_string_equal(R.body, REPLY);
        assert_int_equal(G.calls, 0);
        pthread_join(S.th, NULL);
        S.running = false;
        assert_int_equal(S.text_len, strlen(REQ_TEXT));
        assert_memory_equal(S.text, REQ_TEXT, S.text_len);
        assert_int_equal(S.n_pongs, 1);
        assert_string_equal(S.pong[0], "idle-ping");
        assert_true(S.all_masked);
        assert_int_equal(S.close_code, 1000);
}

static void s_close_idle(struct srv *s, int fd)
{
        uint8_t code[2] = { 0x03, 0xe9 }; /* 1001 going away */

        hs_ok(s, fd);
        usleep(100000);
        frame_raw(fd, 0x80 | OP_CLOSE, code, 2, false);
        drain(s, fd);
}

/* The server closes an idle spare: gone, once, was_open, and the close echoed. */
static void test_spare_closed(void **state)
{
        struct apilogin_ws *w = spare_open(s_close_idle);

        run_while(always, w, 2000);
        assert_int_equal(G.calls, 1);
        assert_true(G.was_open);
        assert_int_equal(G.err, -ECONNRESET);
        pthread_join(S.th, NULL);
        S.running = false;
        assert_int_equal(S.close_code, 1001);
}

static void s_refuse(struct srv *s, int fd)
{
        static const char h[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";

        (void)s;
        send_all(fd, h, sizeof(h) - 1);
}

/* A refused handshake: gone with was_open false (the pool backs off); a spare not ready
 * refuses to carry a request and leaves it untouched. */
static void test_spare_refused(void **state)
{
        struct apilogin_ws *w = spare_open(s_refuse);
        struct apilogin_http_req req = { .body = (char *)"x", .body_len = 1 };

        assert_int_equal(apilogin_ws_spare_use(w, &req, apilogin_now_ms() + 1000, on_done, NULL),
                         -EINVAL);
        assert_non_null(req.body);
        run_while(always, w, 2000);
        assert_int_equal(G.calls, 1);
        assert_false(G.was_open);
        assert_int_equal(G.err, -EPROTO);
        assert_int_equal(R.calls, 0);
}

/* Cancelling a spare calls nothing. */
static void test_spare_cancel(void **state)
{
        struct apilogin_ws *w = spare_open(s_spare);

        run_while(not_ready, w, 2000);
        apilogin_ws_cancel(w);
        run_while(always, NULL, 200);
        assert_int_equal(G.calls, 0);
        assert_int_equal(R.calls, 0);
}

int main(void)
{
        room.conf = prov_conf(&apilogin_driver_ws_auth, "users", "kiosk:user, kioskadmin:admin",
                              NULL);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_accept_key),
                cmocka_unit_test_setup_teardown(test_happy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spare_use, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spare_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spare_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spare_cancel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dribble, setup, teardown),
                cmocka_unit_test_setup_teardown(test_terse_handshake, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_match_id, setup, teardown),
                cmocka_unit_test_setup_teardown(test_garbage_handed_on, setup, teardown),
                cmocka_unit_test_setup_teardown(test_max_frame, setup, teardown),
                cmocka_unit_test_setup_teardown(test_big_frame, setup, teardown),
                cmocka_unit_test_setup_teardown(test_huge_header, setup, teardown),
                cmocka_unit_test_setup_teardown(test_big_message, setup, teardown),
                cmocka_unit_test_setup_teardown(test_event_flood, setup, teardown),
                cmocka_unit_test_setup_teardown(test_close_before_reply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_eof_before_reply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_violations, setup, teardown),
                cmocka_unit_test_setup_teardown(test_handshake_faults, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused_port, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ping_flood, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_text, setup, teardown),
                cmocka_unit_test(test_drv_request),
                cmocka_unit_test(test_drv_refresh),
                cmocka_unit_test(test_drv_request_refusals),
                cmocka_unit_test(test_drv_result_codes),
                cmocka_unit_test(test_drv_success),
                cmocka_unit_test(test_drv_privileges_differ),
                cmocka_unit_test(test_drv_malformed),
        };
        int r;

        /* The daemon's main does this; here the test is the main. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 99;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        curl_global_cleanup();
        return r;
}
