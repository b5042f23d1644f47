/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secure.h: wiping secrets. Every copy of a password or token apilogin makes goes through here. */
#pragma once

#include <stddef.h>

/* Longest secret (password, PIN, access token) accepted anywhere, in bytes. */
#define APILOGIN_SECRET_MAX 4096

/* Overwrite n bytes at p in a way the compiler may not elide. NULL is fine. */
void apilogin_secure_erase(void *p, size_t n);

/* Erase a NUL-terminated string, then free it. Accepts NULL; returns NULL. */
void *apilogin_erase_free(char *s);

/* Erase n bytes at p, then free it. Accepts NULL; returns NULL. */
void *apilogin_freezero(void *p, size_t n);

static inline void apilogin_erase_freep(char **s)
{
        apilogin_erase_free(*s);
}
#define _cleanup_erase_free_ __attribute__((cleanup(apilogin_erase_freep)))
