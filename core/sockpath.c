/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sockpath.c: the socket key of [global], read without the config parser (see sockpath.h).
 * Deliberately not core/conf.c: that parser refuses a whole file for one bad key, which is
 * right for the daemon (it keeps its running config) and wrong for a client, which would
 * then lose the daemon that is still serving. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "macro.h"
#include "sockpath.h"

char *apilogin_config_line_clean(char *s)
{
        bool after_blank = true;
        char *end;

        s += strspn(s, " \t\r\n\f\v");
        for (end = s; *end; end++) {
                if ((*end == '#' || *end == ';') && after_blank)
                        break;
                after_blank = isspace((unsigned char)*end);
        }
        *end = '\0';
        while (end > s && isspace((unsigned char)end[-1]))
                *--end = '\0';
        return s;
}

/* "[ global ]" -> true; any other section header -> false. */
static bool is_global(const char *s)
{
        size_t len = strlen(s);

        if (len < 2 || s[len - 1] != ']')
                return false;
        s++;
        len -= 2;
        while (len && isspace((unsigned char)*s))
                s++, len--;
        while (len && isspace((unsigned char)s[len - 1]))
                len--;
        return len == 6 && memcmp(s, "global", 6) == 0;
}

/* If line is "socket = VALUE", the value; else NULL. */
static const char *socket_value(char *s)
{
        char *eq = strchr(s, '='), *k = eq;

        if (!eq)
                return NULL;
        while (k > s && isspace((unsigned char)k[-1]))
                k--;
        if ((size_t)(k - s) != 6 || memcmp(s, "socket", 6) != 0)
                return NULL;
        eq++;
        return eq + strspn(eq, " \t");
}

/* Read one line into line (size n); false at the end of the file. *too_long is set (and
 * the rest of the line consumed) when it did not fit. */
static bool next_line(FILE *f, char *line, size_t n, bool *too_long)
{
        size_t len;
        int c;

        if (!fgets(line, (int)n, f))
                return false;
        len = strlen(line);
        *too_long = len == n - 1 && line[len - 1] != '\n' && !feof(f);
        if (*too_long)
                while ((c = fgetc(f)) != EOF && c != '\n')
                        ;
        return true;
}

static int scan(FILE *f, char *buf, size_t n)
{
        char line[APILOGIN_CONFIG_LINE_MAX];
        bool global = false, too_long;

        while (next_line(f, line, sizeof(line), &too_long)) {
                const char *v;
                char *s;

                if (too_long)
                        continue;
                s = apilogin_config_line_clean(line);
                if (*s == '[') {
                        global = is_global(s);
                        continue;
                }
                v = global ? socket_value(s) : NULL;
                if (!v)
                        continue;
                /* The first socket key decides; one the daemon could not bind is no answer. */
                if (v[0] != '/' || strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
                    strlen(v) >= n)
                        return -ENOENT;
                strcpy(buf, v);
                return 0;
        }
        return ferror(f) ? -EIO : -ENOENT;
}

int apilogin_socket_from_config(const char *config_path, char *buf, size_t n)
{
        FILE *f = fopen(config_path, "re");
        int r;

        if (!f)
                return negative_errno();
        r = scan(f, buf, n);
        fclose(f);
        return r;
}
