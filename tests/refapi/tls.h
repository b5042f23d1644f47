/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tls.h: refapi's optional TLS (--tls-cert, --tls-key): the PEM files read into memory for
 * libmicrohttpd's GnuTLS back end (MHD_OPTION_HTTPS_MEM_CERT / _KEY).
 *
 * With TLS every API is served over https on the same port, and the WebSocket over wss:
 * MHD decrypts an upgraded connection itself and hands ws_session.c a plain socket, so the
 * WebSocket code does not change.
 */
#ifndef REFAPI_TLS_H
#define REFAPI_TLS_H

struct tls_pem {
        char *cert;     /* NUL-terminated PEM, owned; NULL: no TLS */
        char *key;
};

/* Reads both files.  Returns 0, or -errno after printing the reason on stderr; either
 * way *t must be freed with tls_pem_free().  Fails with -ENOTSUP when this build of
 * libmicrohttpd has no TLS or no upgrade support. */
int tls_pem_load(const char *cert_path, const char *key_path, struct tls_pem *t);

/* Wipes the key and frees both.  Accepts an empty struct. */
void tls_pem_free(struct tls_pem *t);

#endif
