/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* users_file.c: reading the users_file (see users_file.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlog.h"
#include "localusers.h"
#include "macro.h"
#include "names.h"
#include "users_file.h"

/* Split one line, "NAME [UID]" with '#' comments, in place: 1 with *ret_name and *ret_uid
 * (USERS_FILE_NO_PIN when absent), 0 for a blank line, -EINVAL when malformed. */
static int split_line(char *line, char **ret_name, uint32_t *ret_uid)
{
        char *name, *uid, *end, *save = NULL;
        unsigned long v;

        line[strcspn(line, "#")] = 0;
        name = strtok_r(line, " \t\r\n", &save);
        if (!name)
                return 0;
        uid = strtok_r(NULL, " \t\r\n", &save);
        if (strtok_r(NULL, " \t\r\n", &save))
                return -EINVAL;
        *ret_uid = USERS_FILE_NO_PIN;
        if (uid) {
                errno = 0;
                v = strtoul(uid, &end, 10);
                if (errno || *end || uid[0] < '0' || uid[0] > '9' || v >= USERS_FILE_NO_PIN)
                        return -EINVAL;
                *ret_uid = (uint32_t)v;
        }
        *ret_name = name;
        return 1;
}

/* Why an entry may not be provisioned, or NULL when it may. */
static const char *entry_refusal(const struct apilogin_config *cfg, struct localusers *local,
                                 const char *name, uint32_t uid)
{
        if (!apilogin_name_valid(name))
                return "not a valid user name";
        if (strcmp(name, "root") == 0 || apilogin_strv_contains(&cfg->deny_users, name))
                return "a denied name";
        if (!cfg->allow_local_users && localusers_has_name(local, name) != 0)
                return "a local account";
        if (uid != USERS_FILE_NO_PIN && (uid < cfg->uid_min || uid > cfg->uid_max))
                return "pinned outside uid_range";
        return NULL;
}

static bool listed(const struct users_file_entry *v, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].name, name) == 0)
                        return true;
        return false;
}

static int push(struct users_file_entry **v, size_t *n, size_t *cap, const char *name,
                uint32_t uid)
{
        char *c = strdup(name);

        if (!c)
                return -ENOMEM;
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                struct users_file_entry *nv = realloc(*v, nc * sizeof(*nv));

                if (!nv) {
                        free(c);
                        return -ENOMEM;
                }
                *v = nv;
                *cap = nc;
        }
        (*v)[(*n)++] = (struct users_file_entry){ .name = c, .uid = uid };
        return 0;
}

int users_file_read(const struct apilogin_config *cfg, struct localusers *local,
                    struct users_file_entry **ret, size_t *ret_n)
{
        _cleanup_fclose_ FILE *f = fopen(cfg->users_file, "re");
        _cleanup_free_ char *line = NULL;
        struct users_file_entry *v = NULL;
        size_t lcap = 0, n = 0, cap = 0;
        int lineno = 0, r = 0;

        if (!f)
                return negative_errno();
        localusers_refresh(local);
        while (r == 0 && getline(&line, &lcap, f) >= 0) {
                const char *why;
                char *name;
                uint32_t uid;
                int k = split_line(line, &name, &uid);

                lineno++;
                if (k < 0)
                        dlog_warn("%s:%d: expected NAME [UID], ignoring the line",
                                  cfg->users_file, lineno);
                if (k <= 0)
                        continue;
                why = entry_refusal(cfg, local, name, uid);
                if (!why && listed(v, n, name))
                        why = "listed twice";
                if (why)
                        dlog_warn("%s:%d: %s is %s, ignoring the line", cfg->users_file, lineno,
                                  apilogin_name_valid(name) ? name : "(invalid)", why);
                else
                        r = push(&v, &n, &cap, name, uid);
        }
        if (r < 0) {
                users_file_entries_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

void users_file_entries_free(struct users_file_entry *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i].name);
        free(v);
}
