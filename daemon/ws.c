/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws.c: one WebSocket request/reply exchange on the daemon's loop (see ws.h): the
 * connection from http.c (CONNECT_ONLY), then our own RFC 6455 client: the opening
 * handshake with its SHA-1 check, a masked text frame out, frames in until the reply,
 * a close frame. Every buffer that may hold the request or the reply is wiped before it
 * is freed or reused. This file never logs. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "daemon/provider.h"
#include "loop.h"
#include "macro.h"
#include "secure.h"
#include "ws.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_IN_CAP (APILOGIN_WS_MSG_MAX + 16) /* one whole frame, header included */
#define WS_HDR_MAX 14                         /* 2 + 8 (length) + 4 (mask key) */
#define WS_HS_MAX 2048                        /* our handshake request, at most */
/* Everything ever queued at once: the handshake (a hostile server may answer it before
 * reading it), the request frame, the pongs allowed and our close frame. */
#define WS_OUT_MAX (WS_HS_MAX + WS_HDR_MAX + APILOGIN_WS_MSG_MAX + \
                    APILOGIN_WS_CTRL_QUEUE_MAX + WS_HDR_MAX + 125)

enum ws_op { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

enum ws_state { WS_CONNECTING, WS_HANDSHAKE, WS_OPEN };

/* A byte buffer; whatever it held is wiped before the memory is reused or freed. */
struct buf {
        uint8_t *p;
        size_t len, cap;
};

struct ws_frame {
        bool fin;
        unsigned op;
        const uint8_t *payload;
        size_t len;     /* payload length */
        size_t total;   /* header + payload */
};

struct apilogin_ws {
        struct apilogin_http *h;
        struct loop *loop;
        struct apilogin_http_xfer *connecting; /* the CONNECT_ONLY transfer, until done */
        CURL *easy;                            /* the connection, once there */
        int fd;                                /* watched in loop; -1 before */
        enum ws_state state;
        long status;                           /* HTTP status of the handshake answer */
        char why[160];                         /* for resp.why: why it failed, if known */
        char *host;                            /* Host: the URL's authority */
        char *target;                          /* request target: path and query */
        char *log_url;                         /* the URL without query, for resp.url */
        char key[25];                          /* Sec-WebSocket-Key */
        char *text;                            /* the request (secret) until framed */
        size_t text_len;
        char *match_id;
        struct buf out;                        /* bytes to send (masked request: secret) */
        size_t out_off;
        size_t ctrl_queued;                    /* pong bytes in out, not yet all sent */
        struct buf in;                         /* received, not yet parsed */
        struct buf msg;                        /* the text message being reassembled */
        bool in_msg, close_sent;
        unsigned skipped;
        struct loop_timer timer;
        apilogin_http_done_fn done;
        void *userdata;
        bool spare;                            /* opened ahead, no exchange yet (ws.h) */
        apilogin_ws_gone_fn gone;              /* a spare's end */
        void *gone_data;
};

/* ---- SHA-1 (FIPS 180-4) and base64, for Sec-WebSocket-Accept only --------------------- */

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
        static const uint32_t k[4] = { 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xCA62C1D6 };
        uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
        for (int i = 16; i < 80; i++)
                w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        for (int i = 0; i < 80; i++) {
                uint32_t f = i < 20 ? (b & c) | (~b & d)
                             : i < 40 ? b ^ c ^ d
                             : i < 60 ? (b & c) | (b & d) | (c & d)
                                      : b ^ c ^ d;
                uint32_t t = ROL(a, 5) + f + e + k[i / 20] + w[i];

                e = d;
                d = c;
                c = ROL(b, 30);
                b = a;
                a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
}

/* SHA-1 of len <= 119 bytes (two blocks at most: all the handshake needs). */
static void sha1_short(const void *data, size_t len, uint8_t out[20])
{
        uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
        uint8_t m[128] = { 0 };
        size_t n = len + 9 <= 64 ? 64 : 128;
        uint64_t bits = (uint64_t)len * 8;

        memcpy(m, data, len);
        m[len] = 0x80;
        for (int i = 0; i < 8; i++)
                m[n - 1 - i] = (uint8_t)(bits >> (8 * i));
        for (size_t i = 0; i < n; i += 64)
                sha1_block(h, m + i);
        for (int i = 0; i < 20; i++)
                out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

/* base64 of len bytes into out (4 * ceil(len / 3) + 1 bytes). */
static void base64(const uint8_t *in, size_t len, char *out)
{
        static const char tab[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                             (i + 2 < len ? in[i + 2] : 0);

                *out++ = tab[v >> 18 & 63];
                *out++ = tab[v >> 12 & 63];
                *out++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
                *out++ = i + 2 < len ? tab[v & 63] : '=';
        }
        *out = '\0';
}

void apilogin_ws_accept_key(const char *key, char out[29])
{
        char buf[120];
        uint8_t digest[20];
        size_t klen = strnlen(key, sizeof(buf) - sizeof(WS_GUID));

        memcpy(buf, key, klen);
        memcpy(buf + klen, WS_GUID, sizeof(WS_GUID) - 1);
        sha1_short(buf, klen + sizeof(WS_GUID) - 1, digest);
        base64(digest, sizeof(digest), out);
}

/* ---- buffers -------------------------------------------------------------------------- */

static void buf_free(struct buf *b)
{
        apilogin_freezero(b->p, b->cap);
        *b = (struct buf){ 0 };
}

/* Room for n more bytes, within max in all. No realloc: the old block is wiped. */
static int buf_reserve(struct buf *b, size_t n, size_t max)
{
        size_t cap = b->cap ? b->cap : 256;
        uint8_t *p;

        if (n > max - b->len)
                return -EMSGSIZE;
        if (b->len + n <= b->cap)
                return 0;
        while (cap < b->len + n)
                cap *= 2;
        if (cap > max)
                cap = max;
        p = malloc(cap);
        if (!p)
                return -ENOMEM;
        if (b->len)
                memcpy(p, b->p, b->len);
        apilogin_freezero(b->p, b->cap);
        b->p = p;
        b->cap = cap;
        return 0;
}

static int buf_append(struct buf *b, const void *data, size_t n, size_t max)
{
        int r = buf_reserve(b, n, max);

        if (r < 0)
                return r;
        if (n)
                memcpy(b->p + b->len, data, n);
        b->len += n;
        return 0;
}

/* Drop the first n bytes, wiping the bytes left behind at the end. */
static void buf_consume(struct buf *b, size_t n)
{
        memmove(b->p, b->p + n, b->len - n);
        apilogin_secure_erase(b->p + b->len - n, n);
        b->len -= n;
}

static void buf_reset(struct buf *b)
{
        apilogin_secure_erase(b->p, b->len);
        b->len = 0;
}

/* ---- frames out ----------------------------------------------------------------------- */

static int random_bytes(void *p, size_t n)
{
        /* Never blocks: before the kernel's pool is ready this fails (-EAGAIN) instead. */
        ssize_t r = getrandom(p, n, GRND_NONBLOCK);

        if (r < 0)
                return negative_errno();
        return (size_t)r == n ? 0 : -EIO;
}

/* Append one final frame, masked with a fresh key as a client must. */
static int frame_append(struct buf *out, enum ws_op op, const void *payload, size_t len)
{
        const uint8_t *src = payload;
        uint8_t h[WS_HDR_MAX], *dst;
        size_t hl = 2;
        int r;

        if (len > APILOGIN_WS_MSG_MAX)
                return -EMSGSIZE;
        h[0] = (uint8_t)(0x80 | op);
        if (len < 126) {
                h[1] = (uint8_t)(0x80 | len);
        } else {
                h[1] = 0x80 | 126; /* len <= 64 KiB: never the 8-byte form */
                h[2] = (uint8_t)(len >> 8);
                h[3] = (uint8_t)len;
                hl = 4;
        }
        r = random_bytes(h + hl, 4);
        if (r < 0)
                return r;
        r = buf_reserve(out, hl + 4 + len, WS_OUT_MAX);
        if (r < 0)
                return r;
        memcpy(out->p + out->len, h, hl + 4);
        dst = out->p + out->len + hl + 4;
        for (size_t i = 0; i < len; i++)
                dst[i] = src[i] ^ h[hl + (i & 3)];
        out->len += hl + 4 + len;
        return 0;
}

static int close_append(struct apilogin_ws *w, unsigned code, const uint8_t *payload,
                        size_t len)
{
        uint8_t c[2] = { (uint8_t)(code >> 8), (uint8_t)code };

        w->close_sent = true;
        return payload ? frame_append(&w->out, OP_CLOSE, payload, len)
                       : frame_append(&w->out, OP_CLOSE, c, sizeof(c));
}

/* ---- the opening handshake ------------------------------------------------------------ */

static int handshake_request(struct apilogin_ws *w)
{
        uint8_t raw[16];
        char req[WS_HS_MAX];
        int n, r;

        r = random_bytes(raw, sizeof(raw));
        if (r < 0)
                return r;
        base64(raw, sizeof(raw), w->key);
        n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: apilogind\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     w->target, w->host, w->key);
        if (n < 0 || (size_t)n >= sizeof(req))
                return -EINVAL;
        return buf_append(&w->out, req, (size_t)n, WS_OUT_MAX);
}

/* Whether the comma-separated list v (len bytes) holds token, case-insensitively. */
static bool list_has(const char *v, size_t len, const char *token)
{
        size_t tl = strlen(token);

        while (len > 0) {
                size_t n = 0, e;

                while (len > 0 && (*v == ' ' || *v == '\t' || *v == ',')) {
                        v++;
                        len--;
                }
                while (n < len && v[n] != ',')
                        n++;
                for (e = n; e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'); e--)
                        ;
                if (e == tl && strncasecmp(v, token, tl) == 0)
                        return true;
                v += n;
                len -= n;
        }
        return false;
}

/* Check one header line of the answer; sets bits in *seen: 1 Upgrade, 2 Connection,
 * 4 a matching Sec-WebSocket-Accept. -EPROTO for what a client must refuse. */
static int header_line(const struct apilogin_ws *w, const char *l, size_t n, unsigned *seen)
{
        const char *colon = memchr(l, ':', n), *v;
        size_t nl, vl;
        char want[29];

        if (!colon)
                return -EPROTO;
        nl = (size_t)(colon - l);
        for (v = colon + 1; v < l + n && (*v == ' ' || *v == '\t'); v++)
                ;
        for (vl = (size_t)(l + n - v); vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'); vl--)
                ;
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(l, name, nl) == 0)
        if (IS("Upgrade") && list_has(v, vl, "websocket"))
                *seen |= 1;
        else if (IS("Connection") && list_has(v, vl, "upgrade"))
                *seen |= 2;
        else if (IS("Sec-WebSocket-Accept")) {
                apilogin_ws_accept_key(w->key, want);
                if (vl != 28 || memcmp(v, want, 28) != 0)
                        return -EPROTO;
                *seen |= 4;
        } else if (IS("Sec-WebSocket-Extensions") || IS("Sec-WebSocket-Protocol"))
                return -EPROTO; /* we asked for neither */
#undef IS
        return 0;
}

/* Parse the answer in w->in: 1 when a valid 101 was consumed (frames may follow in
 * w->in), 0 when more bytes are needed, -EPROTO otherwise (w->status set if known). */
static int handshake_answer(struct apilogin_ws *w)
{
        const char *p = (const char *)w->in.p, *end, *l;
        unsigned seen = 0;
        int code = 0, r;

        end = w->in.len ? memmem(p, w->in.len, "\r\n\r\n", 4) : NULL;
        if (!end)
                return w->in.len >= APILOGIN_WS_HEAD_MAX ? -EPROTO : 0;
        if ((size_t)(end - p) + 4 > APILOGIN_WS_HEAD_MAX)
                return -EPROTO;
        /* "HTTP/1.x NNN" then a blank or the end of the line (w->in is not NUL-terminated) */
        if (end - p < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
            (p[12] != ' ' && p[12] != '\r'))
                return -EPROTO;
        for (int i = 9; i < 12; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -EPROTO;
                code = code * 10 + (p[i] - '0');
        }
        w->status = code;
        if (code != 101) {
                snprintf(w->why, sizeof(w->why), "WebSocket handshake %s (HTTP %d)",
                         code >= 300 && code < 400 ? "redirected, not followed" : "refused",
                         code);
                return -EPROTO;
        }
        /* The region up to end + 2 ends in "\r\n": both searches always succeed. */
        for (l = (const char *)memchr(p, '\n', (size_t)(end - p) + 2) + 1; l < end + 2;) {
                const char *eol = memmem(l, (size_t)(end + 2 - l), "\r\n", 2);

                r = header_line(w, l, (size_t)(eol - l), &seen);
                if (r < 0)
                        return r;
                l = eol + 2;
        }
        if (seen != 7)
                return -EPROTO;
        buf_consume(&w->in, (size_t)(end - p) + 4);
        return 1;
}

/* ---- frames in ------------------------------------------------------------------------ */

/* The next whole frame at the start of in: 1 and *f, 0 when more bytes are needed,
 * -EPROTO (masked, reserved bits, unknown opcode, bad control frame), -EMSGSIZE. */
static int frame_next(const struct buf *in, struct ws_frame *f)
{
        const uint8_t *p = in->p;
        uint64_t len;
        size_t hl = 2;

        if (in->len < 2)
                return 0;
        *f = (struct ws_frame){ .fin = p[0] & 0x80, .op = p[0] & 0x0f };
        len = p[1] & 0x7f;
        if ((p[0] & 0x70) || (p[1] & 0x80)) /* RSV without an extension; a masked server */
                return -EPROTO;
        if (f->op > OP_BINARY && (f->op < OP_CLOSE || f->op > OP_PONG))
                return -EPROTO;
        if (f->op >= OP_CLOSE && (!f->fin || len > 125))
                return -EPROTO;
        if (len >= 126) {
                hl = len == 126 ? 4 : 10;
                if (in->len < hl)
                        return 0;
                len = 0;
                for (size_t i = 2; i < hl; i++)
                        len = len << 8 | p[i];
        }
        if (len > APILOGIN_WS_MSG_MAX)
                return -EMSGSIZE;
        if (in->len - hl < len)
                return 0;
        f->payload = p + hl;
        f->len = (size_t)len;
        f->total = hl + (size_t)len;
        return 1;
}

/* A whole text message: the reply we wait for, or one to skip (see ws.h). */
static bool is_reply(const struct apilogin_ws *w)
{
        cJSON *j = cJSON_ParseWithLength((const char *)w->msg.p, w->msg.len);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "method");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "requestId");
        bool reply;

        if (!cJSON_IsObject(j))
                reply = true; /* not JSON: hand it on, the driver calls it malformed */
        else if (cJSON_IsString(m) && strcmp(m->valuestring, "event") == 0)
                reply = false;
        else
                reply = !w->match_id ||
                        (cJSON_IsString(id) && strcmp(id->valuestring, w->match_id) == 0);
        apilogin_json_delete_wipe(j);
        return reply;
}

/* A data frame: 1 when it completes the reply (in w->msg), 0 to go on, -errno. */
static int data_frame(struct apilogin_ws *w, const struct ws_frame *f)
{
        int r;

        if (f->op == OP_BINARY || (f->op == OP_TEXT) == w->in_msg)
                return -EPROTO; /* binary, or a broken fragment sequence */
        if (f->op == OP_TEXT)
                buf_reset(&w->msg);
        w->in_msg = !f->fin;
        r = buf_append(&w->msg, f->payload, f->len, APILOGIN_WS_MSG_MAX);
        if (r < 0 || w->in_msg)
                return r;
        if (w->spare) {
                buf_reset(&w->msg); /* an event while idle: nobody asked yet */
                return 0;
        }
        if (is_reply(w))
                return 1;
        buf_reset(&w->msg);
        return ++w->skipped > APILOGIN_WS_SKIP_MAX ? -EMSGSIZE : 0;
}

/* A ping: queue its pong, unless the pongs not yet sent would pass the cap. A server that
 * pings and never reads would otherwise grow our queue for as long as the deadline lets
 * it; past the cap it is no peer we can talk to, so the exchange ends. */
static int pong(struct apilogin_ws *w, const struct ws_frame *f)
{
        size_t n = 6 + f->len; /* a pong's header (len <= 125) and mask key, and payload */
        int r;

        if (n > APILOGIN_WS_CTRL_QUEUE_MAX - w->ctrl_queued)
                return -ENOBUFS;
        r = frame_append(&w->out, OP_PONG, f->payload, f->len);
        if (r == 0)
                w->ctrl_queued += n;
        return r;
}

/* One frame: 1 reply complete, 0 go on, -errno (-ECONNRESET: the server closed). */
static int on_frame(struct apilogin_ws *w, const struct ws_frame *f)
{
        switch (f->op) {
        case OP_PING:
                return pong(w, f);
        case OP_PONG:
                return 0;
        case OP_CLOSE:
                /* Echo the status code (RFC 6455 5.5.1); the exchange is over. */
                if (!w->close_sent)
                        (void)close_append(w, 0, f->payload, f->len >= 2 ? 2 : 0);
                return -ECONNRESET;
        default:
                return data_frame(w, f);
        }
}

/* Everything parseable in w->in: 1 reply complete, 0 need more bytes, -errno. */
static int process(struct apilogin_ws *w)
{
        struct ws_frame f;
        int r = 0;

        if (w->state == WS_HANDSHAKE) {
                r = handshake_answer(w);
                if (r <= 0)
                        return r;
                w->state = WS_OPEN;
                if (w->spare) {
                        loop_timer_stop(w->loop, &w->timer); /* idle until used or closed */
                } else {
                        r = frame_append(&w->out, OP_TEXT, w->text, w->text_len);
                        w->text = apilogin_freezero(w->text, w->text_len);
                        if (r < 0)
                                return r;
                }
        }
        while (w->state == WS_OPEN && (r = frame_next(&w->in, &f)) > 0) {
                r = on_frame(w, &f);
                buf_consume(&w->in, f.total);
                if (r != 0)
                        return r;
        }
        return w->state == WS_OPEN ? r : 0;
}

/* ---- I/O ------------------------------------------------------------------------------ */

static int curl_err(CURLcode c)
{
        if (c == CURLE_OUT_OF_MEMORY)
                return -ENOMEM;
        if (c == CURLE_SEND_ERROR || c == CURLE_RECV_ERROR)
                return -ECONNRESET;
        return -EIO;
}

/* Send what is queued, as far as the socket takes it. 0 or -errno. */
static int flush(struct apilogin_ws *w)
{
        while (w->out_off < w->out.len) {
                size_t n = 0;
                CURLcode c = curl_easy_send(w->easy, w->out.p + w->out_off,
                                            w->out.len - w->out_off, &n);

                if (c == CURLE_AGAIN)
                        return 0;
                if (c != CURLE_OK)
                        return curl_err(c);
                w->out_off += n;
        }
        buf_reset(&w->out); /* the sent request frame is wiped right away */
        w->out_off = 0;
        w->ctrl_queued = 0;
        return 0;
}

/* Read once: 1 got bytes, 0 would block, -ECONNRESET at end of stream, -errno. */
static int fill(struct apilogin_ws *w)
{
        size_t n = 0;
        CURLcode c;
        int r;

        r = buf_reserve(&w->in, 1, WS_IN_CAP);
        if (r < 0)
                return r;
        c = curl_easy_recv(w->easy, w->in.p + w->in.len, w->in.cap - w->in.len, &n);
        if (c == CURLE_AGAIN)
                return 0;
        if (c != CURLE_OK)
                return curl_err(c);
        if (n == 0)
                return -ECONNRESET;
        w->in.len += n;
        return 1;
}

/* Make all the progress the socket allows: 1 reply complete, 0 wait, -errno. */
static int pump(struct apilogin_ws *w)
{
        for (;;) {
                int r = process(w);

                if (r != 0)
                        return r;
                r = flush(w);
                if (r < 0)
                        return r;
                /* TLS may hold decrypted bytes the socket no longer shows: read to EAGAIN. */
                r = fill(w);
                if (r <= 0)
                        return r;
        }
}

/* ---- the end of an exchange ----------------------------------------------------------- */

/* Close frame, best effort (one non-blocking try), when the socket is open. */
static void say_goodbye(struct apilogin_ws *w, int err)
{
        unsigned code = err == 0 ? 1000 : err == -EPROTO ? 1002 : err == -EMSGSIZE ? 1009
                        : err == -ENOBUFS ? 1008 : 1001;

        if (w->state != WS_OPEN)
                return;
        if (!w->close_sent && close_append(w, code, NULL, 0) < 0)
                return;
        (void)flush(w);
}

/* Close the connection and stop watching it and the clock; the rest of w stays. */
static void ws_close(struct apilogin_ws *w)
{
        if (w->connecting)
                apilogin_http_cancel(w->h, w->connecting);
        w->connecting = NULL;
        if (w->fd >= 0)
                loop_remove_io(w->loop, w->fd);
        w->fd = -1;
        loop_timer_stop(w->loop, &w->timer);
        apilogin_http_disconnect(w->h, w->easy);
        w->easy = NULL;
}

static void ws_free(struct apilogin_ws *w)
{
        ws_close(w);
        free(w->host);
        free(w->target);
        free(w->log_url);
        apilogin_freezero(w->text, w->text_len);
        free(w->match_id);
        buf_free(&w->out);
        buf_free(&w->in);
        buf_free(&w->msg);
        free(w);
}

/* A spare ends (it never holds a reply): closed, its owner told, freed. */
static void spare_end(struct apilogin_ws *w, int err)
{
        bool was_open = w->state == WS_OPEN;

        say_goodbye(w, err);
        ws_close(w);
        w->gone(w->gone_data, w, err < 0 ? err : -ECONNRESET, was_open);
        ws_free(w);
}

/* Report err (0: the reply in w->msg) to the caller, then free w. */
static void end(struct apilogin_ws *w, int err)
{
        struct apilogin_http_resp resp = { .retry_after = -1, .url = w->log_url };

        if (w->spare) {
                spare_end(w, err);
                return;
        }
        if (err == 0) {
                resp.body = malloc(w->msg.len + 1);
                if (resp.body) {
                        /* an empty message has no buffer at all: no memcpy from NULL */
                        if (w->msg.len)
                                memcpy(resp.body, w->msg.p, w->msg.len);
                        resp.body[w->msg.len] = '\0';
                        resp.len = w->msg.len;
                        resp.status = APILOGIN_WS_STATUS;
                } else {
                        err = -ENOMEM;
                }
        }
        if (err < 0) {
                resp.transport_error = err;
                resp.status = w->status;
                resp.why = w->why[0] ? w->why : NULL;
        }
        say_goodbye(w, err);
        ws_close(w);
        buf_free(&w->msg);
        w->done(w->userdata, &resp);
        apilogin_http_resp_clear(&resp);
        ws_free(w);
}

static void on_io(void *userdata, int fd, short revents)
{
        struct apilogin_ws *w = userdata;
        int r = pump(w);

        if (r != 0) {
                end(w, r > 0 ? 0 : r);
                return;
        }
        (void)loop_set_events(w->loop, w->fd, (short)(POLLIN | (w->out.len ? POLLOUT : 0)));
}

static void on_timeout(void *userdata)
{
        end(userdata, -ETIMEDOUT);
}

static void on_connected(void *userdata, int error, const char *why, void *easy)
{
        struct apilogin_ws *w = userdata;
        curl_socket_t s = CURL_SOCKET_BAD;
        int r = error;

        w->connecting = NULL;
        w->easy = easy;
        if (why)
                snprintf(w->why, sizeof(w->why), "%s", why);
        if (r == 0 && (curl_easy_getinfo(w->easy, CURLINFO_ACTIVESOCKET, &s) != CURLE_OK ||
                       s == CURL_SOCKET_BAD))
                r = -EIO;
        if (r == 0)
                r = loop_add_io(w->loop, (int)s, POLLIN | POLLOUT, on_io, w);
        if (r == 0) {
                w->fd = (int)s;
                w->state = WS_HANDSHAKE;
                r = handshake_request(w);
        }
        if (r == 0)
                r = pump(w);
        if (r != 0)
                end(w, r > 0 ? 0 : r);
}

/* ---- start and cancel ----------------------------------------------------------------- */

size_t apilogin_ws_queued(const struct apilogin_ws *w)
{
        return w ? w->out.len - w->out_off : 0;
}

bool apilogin_ws_url(const char *url)
{
        return url && (strncasecmp(url, "ws://", 5) == 0 || strncasecmp(url, "wss://", 6) == 0);
}

/* Split an allowed ws(s) URL into Host, request target, log URL and the http(s) URL curl
 * connects to. */
static int split_url(struct apilogin_ws *w, const char *url, char **ret_http)
{
        bool tls = strncasecmp(url, "wss://", 6) == 0;
        const char *auth = url + (tls ? 6 : 5);
        size_t alen = strcspn(auth, "/?#"), tlen = strcspn(auth + alen, "#");
        const char *rest = auth + alen;

        w->host = strndup(auth, alen);
        if (tlen == 0 || rest[0] == '?') {
                if (asprintf(&w->target, "/%.*s", (int)tlen, rest) < 0)
                        w->target = NULL;
        } else {
                w->target = strndup(rest, tlen);
        }
        w->log_url = strndup(url, (size_t)(auth - url) + alen + strcspn(rest, "?#"));
        if (asprintf(ret_http, "%s://%s/", tls ? "https" : "http", w->host ? w->host : "") < 0)
                *ret_http = NULL;
        return w->host && w->target && w->log_url && *ret_http ? 0 : -ENOMEM;
}

static int ws_new(struct apilogin_http *h, struct loop *loop, struct apilogin_http_req *req,
                  apilogin_http_done_fn done, void *userdata, struct apilogin_ws **ret)
{
        struct apilogin_ws *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        *w = (struct apilogin_ws){ .h = h, .loop = loop, .fd = -1, .done = done,
                                   .userdata = userdata };
        loop_timer_init(&w->timer, on_timeout, w);
        w->text = TAKE_PTR(req->body);
        w->text_len = req->body_len;
        w->match_id = TAKE_PTR(req->match_id);
        *ret = w;
        return 0;
}

/* The refusals every exchange and spare share: scheme, URL policy, deadline. */
static int url_usable(const struct apilogin_provider_cfg *p, const char *url,
                      uint64_t deadline_ms)
{
        int r = apilogin_ws_url(url) ? 0 : -EPERM;

        if (r == 0)
                r = apilogin_http_url_allowed(url, p && p->insecure_http);
        if (r == 0 && deadline_ms <= apilogin_now_ms())
                r = -ETIMEDOUT;
        return r;
}

/* The request's checks that come before anything is sent (ws.h). */
static int req_usable(const struct apilogin_http_req *req, apilogin_http_done_fn done)
{
        return !done || !req->body || req->body_len == 0 || req->body_len > APILOGIN_WS_MSG_MAX
                       ? -EINVAL
                       : 0;
}

/* Connect w to url and start its clock: the handshake follows in on_connected. */
static int ws_connect(struct apilogin_ws *w, const struct apilogin_provider_cfg *p,
                      const char *url, uint64_t deadline_ms)
{
        _cleanup_free_ char *http_url = NULL;
        int r = split_url(w, url, &http_url);

        if (r == 0)
                r = loop_timer_set(w->loop, &w->timer, deadline_ms);
        if (r == 0)
                r = apilogin_http_connect(w->h, p, http_url, deadline_ms, on_connected, w,
                                          &w->connecting);
        return r;
}

int apilogin_ws_start(struct apilogin_http *h, struct loop *loop,
                      const struct apilogin_provider_cfg *p, struct apilogin_http_req *req,
                      uint64_t deadline_ms, apilogin_http_done_fn done, void *userdata,
                      struct apilogin_ws **ret)
{
        struct apilogin_ws *w = NULL;
        int r = url_usable(p, req->url, deadline_ms);

        if (r == 0)
                r = req_usable(req, done);
        if (r == 0)
                r = ws_new(h, loop, req, done, userdata, &w);
        if (r == 0)
                r = ws_connect(w, p, req->url, deadline_ms);
        apilogin_http_req_clear(req);
        if (r < 0) {
                if (w)
                        ws_free(w);
                return r;
        }
        if (ret)
                *ret = w;
        return 0;
}

void apilogin_ws_cancel(struct apilogin_ws *w)
{
        if (w)
                ws_free(w);
}

int apilogin_ws_spare_open(struct apilogin_http *h, struct loop *loop,
                           const struct apilogin_provider_cfg *p, const char *url,
                           uint64_t deadline_ms, apilogin_ws_gone_fn gone, void *userdata,
                           struct apilogin_ws **ret)
{
        struct apilogin_http_req none = { 0 };
        struct apilogin_ws *w = NULL;
        int r = url_usable(p, url, deadline_ms);

        if (r == 0 && !gone)
                r = -EINVAL;
        if (r == 0)
                r = ws_new(h, loop, &none, NULL, NULL, &w);
        if (r == 0) {
                w->spare = true;
                w->gone = gone;
                w->gone_data = userdata;
                r = ws_connect(w, p, url, deadline_ms);
        }
        if (r < 0) {
                if (w)
                        ws_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

bool apilogin_ws_spare_ready(const struct apilogin_ws *w)
{
        return w && w->spare && w->state == WS_OPEN && w->fd >= 0 && !w->close_sent &&
               !w->in_msg;
}

int apilogin_ws_spare_use(struct apilogin_ws *w, struct apilogin_http_req *req,
                          uint64_t deadline_ms, apilogin_http_done_fn done, void *userdata)
{
        int r = apilogin_ws_spare_ready(w) ? req_usable(req, done) : -EINVAL;

        if (r == 0 && deadline_ms <= apilogin_now_ms())
                r = -ETIMEDOUT;
        if (r < 0)
                return r;
        /* What the server sent while the spare was idle (a close, say) is read first. */
        r = pump(w);
        if (r != 0 || !apilogin_ws_spare_ready(w)) {
                end(w, r < 0 ? r : -ECONNRESET);
                return -ECONNRESET;
        }
        if (r == 0)
                r = frame_append(&w->out, OP_TEXT, req->body, req->body_len);
        if (r == 0)
                r = loop_timer_set(w->loop, &w->timer, deadline_ms);
        if (r < 0)
                return r; /* req untouched, w still a spare */
        w->spare = false;
        w->gone = NULL;
        w->done = done;
        w->userdata = userdata;
        w->match_id = TAKE_PTR(req->match_id);
        w->skipped = 0;
        apilogin_http_req_clear(req); /* the body is wiped: its frame is in w->out */
        (void)loop_set_events(w->loop, w->fd, POLLIN | POLLOUT);
        return 0;
}
