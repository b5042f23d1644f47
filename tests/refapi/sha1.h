/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sha1.h: SHA-1 and base64, just enough for the WebSocket handshake (RFC 6455 4.2.2). */
#ifndef REFAPI_SHA1_H
#define REFAPI_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

/* Writes the SHA-1 digest of data[0..len) to out. */
void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);

/* Writes the padded base64 of in[0..len) and a NUL to out, which must hold
 * 4 * ((len + 2) / 3) + 1 bytes. */
void base64_encode(const uint8_t *in, size_t len, char *out);

/* Writes Sec-WebSocket-Accept for key (29 bytes with the NUL) to out. */
void ws_accept_key(const char *key, char out[29]);

#endif
