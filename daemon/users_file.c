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

int users_file_read(const struct apilogin_config *cfg, struct localusers *local,
                    struct name_uid **ret, size_t *ret_n)
{
        _cleanup_fclose_ FILE *f = fopen(cfg->users_file, "re");
        _cleanup_free_ char *line = NULL;
        struct name_uid *v = NULL;
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
                if (!why && name_uid_find(v, n, name))
                        why = "listed twice";
                if (why)
                        dlog_warn("%s:%d: %s is %s, ignoring the line", cfg->users_file, lineno,
                                  apilogin_name_valid(name) ? name : "(invalid)", why);
                else
                        r = name_uid_push(&v, &n, &cap, name, uid);
        }
        if (r < 0) {
                name_uids_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
