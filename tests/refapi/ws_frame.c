/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws_frame.c: reading masked client frames and writing server frames (RFC 6455 5.2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ws_frame.h"

static int read_full(struct ws_io *io, void *buf, size_t n)
{
        uint8_t *p = buf;

        while (n > 0 && io->pre_off < io->pre_len) {
                *p++ = (uint8_t)io->pre[io->pre_off++];
                n--;
        }
        while (n > 0) {
                ssize_t r = recv(io->fd, p, n, 0);

                if (r == 0)
                        return -ECONNRESET;
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += r;
                n -= (size_t)r;
        }
        return 0;
}

static int send_all(int fd, const void *buf, size_t n, int flags)
{
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t r = send(fd, p, n, flags | MSG_NOSIGNAL);

                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += r;
                n -= (size_t)r;
        }
        return 0;
}

/* Reads the extended length and the masking key; checks the header rules. */
static int read_header(struct ws_io *io, struct ws_frame *f, uint8_t mask[4], size_t max)
{
        uint8_t h[2], ext[8];
        uint64_t len;
        int r;

        if ((r = read_full(io, h, 2)) < 0)
                return r;
        f->fin = h[0] & 0x80;
        f->opcode = (enum ws_opcode)(h[0] & 0x0F);
        len = h[1] & 0x7F;
        if ((h[0] & 0x70) || !(h[1] & 0x80))            /* RSV bits, or unmasked */
                return -EPROTO;
        if ((f->opcode > WS_OP_BINARY && f->opcode < WS_OP_CLOSE) || f->opcode > WS_OP_PONG)
                return -EPROTO;
        if (f->opcode >= WS_OP_CLOSE && (len > 125 || !f->fin))
                return -EPROTO;
        if (len >= 126) {
                size_t n = len == 126 ? 2 : 8;

                if ((r = read_full(io, ext, n)) < 0)
                        return r;
                len = 0;
                for (size_t i = 0; i < n; i++)
                        len = len << 8 | ext[i];
                if (len >> 63)
                        return -EPROTO;
        }
        if (len > max)
                return -EMSGSIZE;
        f->len = (size_t)len;
        return read_full(io, mask, 4);
}

int ws_frame_read(struct ws_io *io, struct ws_frame *f, size_t max)
{
        uint8_t mask[4];
        int r;

        memset(f, 0, sizeof(*f));
        if ((r = read_header(io, f, mask, max)) < 0)
                return r;
        f->payload = malloc(f->len + 1);
        if (!f->payload)
                return -ENOMEM;
        if ((r = read_full(io, f->payload, f->len)) < 0) {
                free(f->payload);
                f->payload = NULL;
                return r;
        }
        for (size_t i = 0; i < f->len; i++)
                f->payload[i] ^= mask[i & 3];
        f->payload[f->len] = '\0';
        return 0;
}

int ws_frame_write(int fd, enum ws_opcode op, const void *payload, size_t len)
{
        uint8_t h[10], *frame;
        size_t hl;
        int r;

        h[0] = 0x80 | (uint8_t)op;
        if (len < 126) {
                h[1] = (uint8_t)len;
                hl = 2;
        } else if (len <= 0xFFFF) {
                h[1] = 126;
                h[2] = (uint8_t)(len >> 8);
                h[3] = (uint8_t)len;
                hl = 4;
        } else {
                h[1] = 127;
                for (int i = 0; i < 8; i++)
                        h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
                hl = 10;
        }
        /* One write per frame, as servers do (over TLS, MHD's relay makes records of what
         * each read of the upgrade socket returns). */
        frame = malloc(hl + len);
        if (!frame)
                return -ENOMEM;
        memcpy(frame, h, hl);
        if (len)
                memcpy(frame + hl, payload, len);
        r = send_all(fd, frame, hl + len, 0);
        free(frame);
        return r;
}

int ws_send_close(int fd, uint16_t code)
{
        uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };

        return ws_frame_write(fd, WS_OP_CLOSE, p, sizeof(p));
}
