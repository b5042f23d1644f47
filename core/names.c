/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* names.c: which login names apilogin handles (see names.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "names.h"
#include "proto.h"

bool apilogin_name_valid(const char *name)
{
        size_t n = 0;

        if (!name || name[0] == '-' || name[0] == '.')
                return false;
        for (const char *p = name; *p; p++, n++) {
                unsigned char c = (unsigned char)*p;

                if (n >= APILOGIN_NAME_MAX)
                        return false;
                /* printable ASCII without the space (0x20) */
                if (c <= 0x20 || c >= 0x7f)
                        return false;
                if (strchr(":/\\,\"'`#", c))
                        return false;
        }
        return n > 0;
}

/* Whether line starts with "name:". */
static bool line_is(const char *line, const char *name, size_t len)
{
        return strncmp(line, name, len) == 0 && line[len] == ':';
}

int apilogin_name_in_passwd(const char *path, const char *name)
{
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, len;

        /* a name with ':' or '\n' could only match across the field separator */
        if (!name || !*name || strpbrk(name, ":\n"))
                return 0;
        len = strlen(name);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        for (;;) {
                errno = 0;
                if (getline(&line, &cap, f) < 0)
                        return errno ? negative_errno() : 0;
                if (line_is(line, name, len))
                        return 1;
        }
}

bool apilogin_ascii_caseeq(const char *a, const char *b)
{
        for (; *a && *b; a++, b++) {
                char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
                char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;

                if (ca != cb)
                        return false;
        }
        return *a == *b;
}
