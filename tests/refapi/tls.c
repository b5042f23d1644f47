/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tls.c: reading the certificate and key for refapi's https/wss mode (tls.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "tls.h"

#define PEM_MAX (1024 * 1024)

/* The whole file as a NUL-terminated string (caller frees), or NULL with errno set. */
static char *slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t len = 0;

        if (!f)
                return NULL;
        buf = malloc(PEM_MAX + 1);
        if (buf)
                len = fread(buf, 1, PEM_MAX + 1, f);
        if (buf && (ferror(f) || len == 0 || len > PEM_MAX)) {
                free(buf);
                buf = NULL;
                errno = len > PEM_MAX ? EFBIG : len == 0 && !ferror(f) ? ENODATA : EIO;
        }
        fclose(f);
        if (buf)
                buf[len] = '\0';
        return buf;
}

int tls_pem_load(const char *cert_path, const char *key_path, struct tls_pem *t)
{
        const char *bad = NULL;
        int r = 0;

        *t = (struct tls_pem){ 0 };
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
            MHD_is_feature_supported(MHD_FEATURE_UPGRADE) != MHD_YES) {
                fprintf(stderr, "refapi: this libmicrohttpd has no TLS or no upgrade support\n");
                return -ENOTSUP;
        }
        if (!(t->cert = slurp(cert_path)))
                bad = cert_path;
        else if (!(t->key = slurp(key_path)))
                bad = key_path;
        if (bad) {
                r = -errno;
                fprintf(stderr, "refapi: Failed to read %s: %s\n", bad, strerror(errno));
        }
        return r;
}

void tls_pem_free(struct tls_pem *t)
{
        if (t->key) {
                /* volatile: the wipe of memory about to be freed must not be elided */
                for (volatile char *p = t->key; *p; p++)
                        *p = 0;
        }
        free(t->key);
        free(t->cert);
        *t = (struct tls_pem){ 0 };
}
