/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_ws.c: libFuzzer target for the WebSocket client's parsers (daemon/ws.c): the
 * server's handshake answer, then the frames after it (control frames, fragments,
 * oversized lengths), then the hand-over of the reply, exactly as on_io/end run them.
 *
 * ws.c's parser is static and lives on struct apilogin_ws, so this file includes ws.c
 * (the one translation unit that owns them) rather than widening its interface. The
 * exchange is made without a connection: a curl handle that never connected (so the
 * pong and close frames fail to send, harmlessly), no loop (fd -1, timer idle), so end()
 * runs its real code path.
 *
 * Input: byte 0 = read size (0: everything at once, else 1..255 bytes per read, as a
 * socket may split them), byte 1 bit 0 = wait for requestId "7" (else any message), the
 * rest = the bytes the server sends. A fixed Sec-WebSocket-Key (RFC 6455's example) makes
 * a valid handshake reachable: Accept = s3pPLMBiTxaQ9kYGzzhZRbK+xOo=. */
#include "../../daemon/ws.c"

static bool done_called;

static void on_done(void *userdata, struct apilogin_http_resp *resp)
{
        (void)userdata;
        done_called = true;
        if (resp->transport_error == 0 &&
            (resp->status != APILOGIN_WS_STATUS || !resp->body || resp->body[resp->len] != '\0'))
                abort();
        if (resp->transport_error > 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char req[] = "{\"requestId\":\"7\",\"method\":\"login\"}";
        struct apilogin_ws *w;
        CURL *easy;
        size_t chunk, off = 0;
        int r = 0;

        if (size < 2)
                return 0;
        w = calloc(1, sizeof(*w));
        if (!w)
                return 0;
        easy = curl_easy_init();
        if (!easy) {
                free(w);
                return 0;
        }
        w->easy = easy;
        w->fd = -1;
        w->timer.idx = SIZE_MAX;
        w->state = WS_HANDSHAKE;
        memcpy(w->key, "dGhlIHNhbXBsZSBub25jZQ==", 25);
        w->text = strdup(req);
        w->text_len = sizeof(req) - 1;
        w->match_id = data[1] & 1 ? strdup("7") : NULL;
        w->log_url = strdup("ws://127.0.0.1/ws");
        w->done = on_done;
        chunk = data[0] ? data[0] : SIZE_MAX;
        data += 2;
        size -= 2;
        done_called = false;
        while (r == 0 && off < size) {
                size_t n = size - off < chunk ? size - off : chunk;

                /* fill(): the read buffer never holds more than WS_IN_CAP bytes */
                if (w->in.len + n > WS_IN_CAP)
                        n = WS_IN_CAP - w->in.len;
                r = n ? buf_append(&w->in, data + off, n, WS_IN_CAP) : -EMSGSIZE;
                off += n;
                if (r == 0)
                        r = process(w);
        }
        end(w, r > 0 ? 0 : r < 0 ? r : -ECONNRESET);
        curl_easy_cleanup(easy); /* with no multi (h NULL), end() leaves it to us */
        if (!done_called)
                abort();
        return 0;
}
