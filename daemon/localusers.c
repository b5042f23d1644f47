/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* localusers.c: the local passwd file, read with fgetpwent into two sorted arrays (by uid
 * for the uid rule, by name for "is this name local"); see localusers.h. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dlog.h"
#include "localusers.h"
#include "macro.h"

struct localusers {
        char *path;
        struct name_uid *by_uid;
        const struct name_uid **by_name;
        size_t n;
        struct stat seen;      /* of the file last read (st_ino 0: none) */
        int err;               /* of the last read: 0 or -errno */
};

static int cmp_uid(const void *a, const void *b)
{
        uint32_t x = ((const struct name_uid *)a)->uid;
        uint32_t y = ((const struct name_uid *)b)->uid;

        return x < y ? -1 : x > y;
}

static int cmp_name(const void *a, const void *b)
{
        return strcmp((*(const struct name_uid *const *)a)->name,
                      (*(const struct name_uid *const *)b)->name);
}

void name_uids_free(struct name_uid *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i].name);
        free(v);
}

int name_uid_push(struct name_uid **v, size_t *n, size_t *cap, const char *name, uint32_t uid)
{
        char *c = strdup(name);

        if (!c)
                return -ENOMEM;
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                struct name_uid *nv = realloc(*v, nc * sizeof(*nv));

                if (!nv) {
                        free(c);
                        return -ENOMEM;
                }
                *v = nv;
                *cap = nc;
        }
        (*v)[(*n)++] = (struct name_uid){ .name = c, .uid = uid };
        return 0;
}

const struct name_uid *name_uid_find(const struct name_uid *v, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].name, name) == 0)
                        return &v[i];
        return NULL;
}

/* The accounts of f (NULL: none) into *ret_v / *ret_n, sorted by uid. 0 or -ENOMEM. */
static int read_accounts(FILE *f, struct name_uid **ret_v, size_t *ret_n)
{
        struct name_uid *v = NULL;
        size_t n = 0, cap = 0;
        struct passwd *pw;
        int r = 0;

        while (f && r == 0 && (pw = fgetpwent(f)))
                if (pw->pw_name && *pw->pw_name)
                        r = name_uid_push(&v, &n, &cap, pw->pw_name, (uint32_t)pw->pw_uid);
        if (r == 0 && f && ferror(f))
                r = -EIO; /* a read that failed part way is no proof of absence */
        if (r < 0) {
                name_uids_free(v, n);
                return r;
        }
        if (n)
                qsort(v, n, sizeof(*v), cmp_uid);
        *ret_v = v;
        *ret_n = n;
        return 0;
}

/* Read the file into lu, replacing the set; on failure the set stays. 0 or -errno. */
static int load(struct localusers *lu)
{
        _cleanup_fclose_ FILE *f = fopen(lu->path, "re");
        const struct name_uid **idx = NULL;
        struct name_uid *v = NULL;
        struct stat st = { 0 };
        size_t n = 0;
        int r;

        if (!f && errno != ENOENT)
                return negative_errno();
        if (f && fstat(fileno(f), &st) < 0)
                return negative_errno();
        if (f && !S_ISREG(st.st_mode))
                return -EINVAL;
        r = read_accounts(f, &v, &n);
        if (r == 0 && !(idx = calloc(n ? n : 1, sizeof(*idx))))
                r = -ENOMEM;
        if (r < 0) {
                name_uids_free(v, n);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                idx[i] = &v[i];
        if (n)
                qsort(idx, n, sizeof(*idx), cmp_name);
        name_uids_free(lu->by_uid, lu->n);
        free(lu->by_name);
        lu->by_uid = v;
        lu->by_name = idx;
        lu->n = n;
        lu->seen = st;
        return 0;
}

int localusers_open(const char *path, struct localusers **ret)
{
        struct localusers *lu = calloc(1, sizeof(*lu));
        int r;

        *ret = NULL;
        if (!lu || !(lu->path = strdup(path))) {
                free(lu);
                return -ENOMEM;
        }
        r = load(lu);
        if (r < 0) {
                localusers_free(lu);
                return r;
        }
        *ret = lu;
        return 0;
}

struct localusers *localusers_free(struct localusers *lu)
{
        if (lu) {
                name_uids_free(lu->by_uid, lu->n);
                free(lu->by_name);
                free(lu->path);
                free(lu);
        }
        return NULL;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
        return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

void localusers_refresh(struct localusers *lu)
{
        struct stat st = { 0 };
        int r;

        if (stat(lu->path, &st) < 0 && errno != ENOENT) {
                r = negative_errno();
        } else {
                if (same_file(&st, &lu->seen) && lu->err == 0)
                        return;
                r = load(lu);
        }
        if (r < 0 && lu->err == 0)
                dlog_err("Failed to read %s: %s; keeping the %zu accounts read before", lu->path,
                         strerror(-r), lu->n);
        lu->err = r;
}

int localusers_has_name(const struct localusers *lu, const char *name)
{
        const struct name_uid key = { .name = (char *)name }, *pk = &key;

        if (lu->n && bsearch(&pk, lu->by_name, lu->n, sizeof(*lu->by_name), cmp_name))
                return 1;
        return lu->err < 0 ? lu->err : 0;
}

const char *localusers_by_uid(const struct localusers *lu, uint32_t uid)
{
        const struct name_uid key = { .uid = uid }, *hit;

        if (!lu->n)
                return NULL;
        hit = bsearch(&key, lu->by_uid, lu->n, sizeof(*lu->by_uid), cmp_uid);
        return hit ? hit->name : NULL;
}

bool localusers_has(const struct localusers *lu, const char *name, uint32_t uid)
{
        const struct name_uid key = { .uid = uid }, *hit;

        if (!lu->n)
                return false;
        hit = bsearch(&key, lu->by_uid, lu->n, sizeof(*lu->by_uid), cmp_uid);
        if (!hit)
                return false;
        /* Several accounts may share a uid: look at every one of them. */
        while (hit > lu->by_uid && hit[-1].uid == uid)
                hit--;
        for (; hit < lu->by_uid + lu->n && hit->uid == uid; hit++)
                if (strcmp(hit->name, name) == 0)
                        return true;
        return false;
}

const struct name_uid *localusers_all(const struct localusers *lu, size_t *ret_n)
{
        *ret_n = lu->n;
        return lu->by_uid;
}
