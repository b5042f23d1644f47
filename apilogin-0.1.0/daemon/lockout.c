/* lockout.c: local lockout counters and their file (see lockout.h). The table is a plain
 * array searched linearly: it holds only names with recent failures, at most 10,000. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/fsutil.h"
#include "lockout.h"
#include "macro.h"
#include "names.h"

#define LOCKOUT_FILE_MAX (LOCKOUT_MAX_NAMES * 300)
#define LINE_MAX_LEN 400
#define LOCKOUT_COUNT_MAX 1000000u

struct entry {
        char *name;
        unsigned count;
        int64_t first;   /* unix time of the first failure of the window */
};

struct lockout {
        char *dir, *name;
        struct entry *e;
        size_t n, cap;
};

int lockout_new(const char *dir, const char *name, struct lockout **ret)
{
        struct lockout *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        if ((dir && !(l->dir = strdup(dir))) || (name && !(l->name = strdup(name)))) {
                lockout_free(l);
                return -ENOMEM;
        }
        *ret = l;
        return 0;
}

struct lockout *lockout_free(struct lockout *l)
{
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                free(l->e[i].name);
        free(l->e);
        free(l->dir);
        free(l->name);
        free(l);
        return NULL;
}

static struct entry *find(const struct lockout *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->e[i].name, name) == 0)
                        return &l->e[i];
        return NULL;
}

static void drop(struct lockout *l, size_t i)
{
        free(l->e[i].name);
        l->e[i] = l->e[--l->n];
}

static void drop_oldest(struct lockout *l)
{
        size_t old = 0;

        for (size_t i = 1; i < l->n; i++)
                if (l->e[i].first < l->e[old].first)
                        old = i;
        drop(l, old);
}

/* Add name (not present yet), making room if the table is full. NULL on ENOMEM. */
static struct entry *add(struct lockout *l, const char *name, unsigned count, int64_t first)
{
        char *copy;

        if (l->n >= LOCKOUT_MAX_NAMES)
                drop_oldest(l);
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                struct entry *e = reallocarray(l->e, cap, sizeof(*e));

                if (!e)
                        return NULL;
                l->e = e;
                l->cap = cap;
        }
        copy = strdup(name);
        if (!copy)
                return NULL;
        l->e[l->n] = (struct entry){ .name = copy, .count = count, .first = first };
        return &l->e[l->n++];
}

/* A decimal number of at most 19 digits ending at a blank or the end of the string. */
static const char *parse_num(const char *s, unsigned long long *ret)
{
        unsigned long long v = 0;
        size_t n = 0;

        for (; *s >= '0' && *s <= '9' && n < 19; s++, n++)
                v = v * 10 + (unsigned long long)(*s - '0');
        if (n == 0 || (*s && *s != ' '))
                return NULL;
        *ret = v;
        return s;
}

/* "name count first": exactly three fields separated by one blank. 0 or -EINVAL. */
static int parse_line(const char *line, char *name, size_t namesz, unsigned *count,
                      int64_t *first)
{
        const char *sp = strchr(line, ' '), *p;
        unsigned long long c, f;

        if (!sp || (size_t)(sp - line) >= namesz)
                return -EINVAL;
        memcpy(name, line, (size_t)(sp - line));
        name[sp - line] = '\0';
        p = parse_num(sp + 1, &c);
        if (!p || *p != ' ')
                return -EINVAL;
        p = parse_num(p + 1, &f);
        if (!p || *p || !apilogin_name_valid(name) || c == 0 || c > LOCKOUT_COUNT_MAX ||
            f > INT64_MAX)
                return -EINVAL;
        *count = (unsigned)c;
        *first = (int64_t)f;
        return 0;
}

int lockout_parse(struct lockout *l, const char *text, size_t len)
{
        size_t off = 0;
        int bad = 0;

        while (off < len) {
                const char *nl = memchr(text + off, '\n', len - off);
                size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
                char line[LINE_MAX_LEN], name[LINE_MAX_LEN];
                unsigned count;
                int64_t first;

                if (n > 0 && n < sizeof(line)) {
                        memcpy(line, text + off, n);
                        line[n] = '\0';
                }
                if (n > 0 && (n >= sizeof(line) || memchr(text + off, 0, n) ||
                              parse_line(line, name, sizeof(name), &count, &first) < 0)) {
                        bad++;
                } else if (n > 0) {
                        struct entry *e = find(l, name);

                        if (e) {
                                e->count = count;
                                e->first = first;
                        } else if (!add(l, name, count, first)) {
                                bad++;
                        }
                }
                off += n + 1;
        }
        return bad;
}

char *lockout_format(const struct lockout *l)
{
        size_t cap = 1, pos = 0;
        char *out;

        for (size_t i = 0; i < l->n; i++)
                cap += strlen(l->e[i].name) + 2 * 21 + 3;
        out = malloc(cap);
        if (!out)
                return NULL;
        out[0] = '\0';
        for (size_t i = 0; i < l->n; i++)
                pos += (size_t)snprintf(out + pos, cap - pos, "%s %u %lld\n", l->e[i].name,
                                        l->e[i].count, (long long)l->e[i].first);
        return out;
}

int lockout_load(struct lockout *l)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;
        int r;

        if (!l->dir || !l->name)
                return 0;
        if (asprintf(&path, "%s/%s", l->dir, l->name) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        r = apilogin_read_file(path, LOCKOUT_FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return lockout_parse(l, text, len);
}

static int save(const struct lockout *l)
{
        _cleanup_free_ char *text = NULL;
        int r;

        if (!l->dir || !l->name)
                return 0;
        text = lockout_format(l);
        if (!text)
                return -ENOMEM;
        r = apilogin_mkdir_owned(l->dir, 0700, (uid_t)-1, (gid_t)-1);
        if (r < 0)
                return r;
        return apilogin_write_atomic(l->dir, l->name, text, strlen(text), 0600, (uid_t)-1,
                                     (gid_t)-1);
}

static bool window_open(const struct entry *e, uint64_t window_s, int64_t now)
{
        return now >= e->first && (uint64_t)(now - e->first) < window_s;
}

bool lockout_is_locked(const struct lockout *l, const char *name, unsigned max,
                       uint64_t window_s, int64_t now)
{
        const struct entry *e;

        if (max == 0)
                return false;
        e = find(l, name);
        return e && e->count >= max && window_open(e, window_s, now);
}

/* Drop every entry whose window has closed, except name's. */
static void prune(struct lockout *l, const char *keep, uint64_t window_s, int64_t now)
{
        for (size_t i = 0; i < l->n;) {
                if (!window_open(&l->e[i], window_s, now) && strcmp(l->e[i].name, keep) != 0)
                        drop(l, i);
                else
                        i++;
        }
}

int lockout_fail(struct lockout *l, const char *name, uint64_t window_s, int64_t now)
{
        struct entry *e;
        int r;

        prune(l, name, window_s, now);
        e = find(l, name);
        if (e && window_open(e, window_s, now)) {
                if (e->count < LOCKOUT_COUNT_MAX)
                        e->count++;
        } else if (e) {
                e->count = 1;
                e->first = now;
        } else {
                e = add(l, name, 1, now);
                if (!e)
                        return -ENOMEM;
        }
        r = save(l);
        return r < 0 ? r : (int)e->count;
}

int lockout_reset(struct lockout *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->e[i].name, name) == 0) {
                        drop(l, i);
                        return save(l);
                }
        }
        return 0;
}

unsigned lockout_count(const struct lockout *l, const char *name)
{
        const struct entry *e = find(l, name);

        return e ? e->count : 0;
}

size_t lockout_size(const struct lockout *l)
{
        return l->n;
}
