/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sha1.c: a small SHA-1 (FIPS 180-4) and base64 encoder for the WebSocket handshake.
 * Not for anything security-relevant: the handshake only needs a checksum. */
#include <stdio.h>
#include <string.h>

#include "sha1.h"

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
        uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f, k, t;

        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
        for (int i = 16; i < 80; i++)
                w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        for (int i = 0; i < 80; i++) {
                if (i < 20) {
                        f = (b & c) | (~b & d);
                        k = 0x5A827999;
                } else if (i < 40) {
                        f = b ^ c ^ d;
                        k = 0x6ED9EBA1;
                } else if (i < 60) {
                        f = (b & c) | (b & d) | (c & d);
                        k = 0x8F1BBCDC;
                } else {
                        f = b ^ c ^ d;
                        k = 0xCA62C1D6;
                }
                t = ROL(a, 5) + f + e + k + w[i];
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

void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN])
{
        uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
        const uint8_t *p = data;
        uint8_t tail[128] = { 0 };
        size_t full = len / 64 * 64, rest = len - full, tlen;
        uint64_t bits = (uint64_t)len * 8;

        for (size_t i = 0; i < full; i += 64)
                sha1_block(h, p + i);
        memcpy(tail, p + full, rest);
        tail[rest] = 0x80;
        tlen = rest + 1 + 8 <= 64 ? 64 : 128;
        for (int i = 0; i < 8; i++)
                tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
        for (size_t i = 0; i < tlen; i += 64)
                sha1_block(h, tail + i);
        for (int i = 0; i < 5; i++) {
                out[4 * i] = (uint8_t)(h[i] >> 24);
                out[4 * i + 1] = (uint8_t)(h[i] >> 16);
                out[4 * i + 2] = (uint8_t)(h[i] >> 8);
                out[4 * i + 3] = (uint8_t)h[i];
        }
}

void base64_encode(const uint8_t *in, size_t len, char *out)
{
        static const char tab[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t i;

        for (i = 0; i + 2 < len; i += 3) {
                *out++ = tab[in[i] >> 2];
                *out++ = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
                *out++ = tab[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
                *out++ = tab[in[i + 2] & 63];
        }
        if (i < len) {
                *out++ = tab[in[i] >> 2];
                if (i + 1 < len) {
                        *out++ = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
                        *out++ = tab[(in[i + 1] & 15) << 2];
                } else {
                        *out++ = tab[(in[i] & 3) << 4];
                        *out++ = '=';
                }
                *out++ = '=';
        }
        *out = '\0';
}

void ws_accept_key(const char *key, char out[29])
{
        char buf[128];
        uint8_t digest[SHA1_LEN];
        int n = snprintf(buf, sizeof(buf), "%s%s", key, ws_guid);

        if (n < 0 || n >= (int)sizeof(buf))
                n = 0;          /* over-long keys are refused before this point */
        sha1(buf, (size_t)n, digest);
        base64_encode(digest, SHA1_LEN, out);
}
