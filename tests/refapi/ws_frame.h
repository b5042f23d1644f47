/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws_frame.h: RFC 6455 framing over a blocking socket, server side.
 *
 * Client frames must be masked; server frames are sent unmasked and unfragmented.
 * Reads start with the bytes MHD had already read past the handshake (extra_in).
 */
#ifndef REFAPI_WS_FRAME_H
#define REFAPI_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
        WS_OP_CONT = 0x0,
        WS_OP_TEXT = 0x1,
        WS_OP_BINARY = 0x2,
        WS_OP_CLOSE = 0x8,
        WS_OP_PING = 0x9,
        WS_OP_PONG = 0xA,
};

enum ws_close_code {
        WS_CLOSE_NORMAL = 1000,
        WS_CLOSE_PROTOCOL = 1002,
        WS_CLOSE_UNSUPPORTED = 1003,
        WS_CLOSE_TOO_BIG = 1009,
};

struct ws_io {
        int fd;
        char *pre;                      /* owned copy of extra_in */
        size_t pre_len, pre_off;
};

struct ws_frame {
        bool fin;
        enum ws_opcode opcode;
        size_t len;
        uint8_t *payload;               /* malloc'd, unmasked, NUL-terminated */
};

/* Reads one frame of at most max payload bytes into *f (caller frees f->payload).
 * Returns 0; -EPROTO for an unmasked or malformed frame; -EMSGSIZE when too big;
 * -ECONNRESET at end of stream; other -errno on socket errors. */
int ws_frame_read(struct ws_io *io, struct ws_frame *f, size_t max);

/* Sends one final, unmasked frame.  Returns 0 or -errno. */
int ws_frame_write(int fd, enum ws_opcode op, const void *payload, size_t len);

/* Sends a close frame carrying code.  Returns 0 or -errno. */
int ws_send_close(int fd, uint16_t code);

#endif
