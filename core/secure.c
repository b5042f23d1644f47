/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secure.c: wiping secrets with the strongest primitive the C library offers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "secure.h"

void apilogin_secure_erase(void *p, size_t n)
{
        if (!p || n == 0)
                return;
#if defined(HAVE_MEMSET_EXPLICIT)
        memset_explicit(p, 0, n);
#elif defined(HAVE_EXPLICIT_BZERO)
        explicit_bzero(p, n);
#else
        memset(p, 0, n);
        __asm__ __volatile__("" : : "r"(p) : "memory");
#endif
}

void *apilogin_erase_free(char *s)
{
        if (s) {
                apilogin_secure_erase(s, strlen(s));
                free(s);
        }
        return NULL;
}

void *apilogin_freezero(void *p, size_t n)
{
        if (p) {
                apilogin_secure_erase(p, n);
                free(p);
        }
        return NULL;
}
