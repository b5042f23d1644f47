/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockout.c: local lockout counters and their journal (see lockout.h). The table is a hash
 * table with chaining (indices into one array) so that a failure costs O(1); a journal
 * record says "this counter is now (count, first)" or "this counter is gone", so replaying
 * the journal in order rebuilds the table exactly, and a lost record loses one step. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/fsutil.h"
#include "duration.h"
#include "lockout.h"
#include "macro.h"
#include "names.h"
#include "provider.h"
#include "proto.h"

#define COUNT_MAX 1000000u
#define REC_MAGIC 0x314b4c41u   /* "ALK1" little-endian */
#define REC_SET 1
#define REC_DEL 2
/* Record layout (little-endian): magic u32, op u8, kind u8 (0 name, 1 source), name_len
 * u8, rhost_len u8, count u32, first i64, name[255], rhost[127], zero padding, and at
 * REC_SUM the FNV-1a checksum u32 of every byte before it. */
#define OFF_NAME 20
#define OFF_RHOST (OFF_NAME + APILOGIN_NAME_MAX)
#define REC_SUM (LOCKOUT_RECORD_SIZE - 4)

_Static_assert(APILOGIN_NAME_MAX <= 255, "name length must fit a byte");
_Static_assert(OFF_RHOST + LOCKOUT_RHOST_KEY_MAX <= REC_SUM, "record too small");

struct entry {
        char *name;
        char *rhost;            /* NULL: the name's counter over every source */
        uint32_t hash;
        uint32_t next;          /* index + 1 of the next entry of the chain, 0 = end */
        unsigned count;
        int64_t first;          /* unix time of the first failure of the window */
};

struct lockout {
        char *dir, *file;
        struct entry *e;
        size_t n, cap, max;
        uint32_t *bucket;       /* index + 1 of a chain's head, 0 = empty */
        size_t n_bucket;        /* a power of two */
        uint32_t seed;
        int fd;                 /* the journal, open for appending; -1 until needed */
        size_t file_records;
        bool need_compact;
        uint8_t *jbuf;          /* records of the current operation, written at its end */
        size_t jlen, jcap;
        int64_t no_room_until;  /* table full of live counters until then */
};

/* ---- limits and keys ---------------------------------------------------------------------- */

void lockout_limits_from_config(const struct apilogin_config *cfg, struct lockout_limits *ret)
{
        *ret = (struct lockout_limits){ .source_max = cfg->lockout_max,
                                        .source_window_s = cfg->lockout_window_s };
        if (cfg->lockout_user_set) {
                ret->name_max = cfg->lockout_user_max;
                ret->name_window_s = cfg->lockout_user_window_s;
        } else if (cfg->lockout_max > 0) {
                unsigned m = cfg->lockout_max * LOCKOUT_USER_FACTOR;

                ret->name_max = m < APILOGIN_LOCKOUT_MAX_TRIES ? m : APILOGIN_LOCKOUT_MAX_TRIES;
                ret->name_window_s = cfg->lockout_window_s;
        }
}

/* Every type folds case unless its driver matches names exactly (ws_auth: the users map
 * is matched exactly and a name not in it is never sent). token_login compares the token
 * owner "au" without case, PortSIP's names are case-insensitive, and where it is
 * undocumented folding can only merge budgets, never split them. */
bool lockout_type_folds_case(const struct apilogin_type *t)
{
        const struct apilogin_driver *d = apilogin_driver_find(t);

        return !d || !d->names_exact;
}

char *lockout_key(const char *name, bool fold)
{
        char *k = strdup(name);

        for (char *p = k; fold && p && *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        return k;
}

/* ---- the table ---------------------------------------------------------------------------- */

int lockout_new(const char *dir, const char *file, struct lockout **ret)
{
        struct lockout *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->fd = -1;
        l->max = LOCKOUT_MAX_ENTRIES;
        if (getrandom(&l->seed, sizeof(l->seed), GRND_NONBLOCK) != sizeof(l->seed))
                l->seed = (uint32_t)(uintptr_t)l ^ (uint32_t)getpid();
        if ((dir && !(l->dir = strdup(dir))) || (file && !(l->file = strdup(file)))) {
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
        for (size_t i = 0; i < l->n; i++) {
                free(l->e[i].name);
                free(l->e[i].rhost);
        }
        if (l->fd >= 0)
                (void)close(l->fd);
        free(l->e);
        free(l->bucket);
        free(l->jbuf);
        free(l->dir);
        free(l->file);
        free(l);
        return NULL;
}

int lockout_set_max_entries(struct lockout *l, size_t max)
{
        if (l->n > 0)
                return -EBUSY;
        if (max < 2 || max > UINT32_MAX / 4)
                return -EINVAL;
        l->max = max;
        free(l->bucket);
        l->bucket = NULL;
        l->n_bucket = 0;
        return 0;
}

size_t lockout_max_entries(const struct lockout *l)
{
        return l->max;
}

static uint32_t fnv(uint32_t h, const void *data, size_t len)
{
        const uint8_t *p = data;

        for (size_t i = 0; i < len; i++)
                h = (h ^ p[i]) * 16777619u;
        return h;
}

static uint32_t key_hash(const struct lockout *l, const char *name, const char *rhost)
{
        uint32_t h = fnv(2166136261u ^ l->seed, name, strlen(name) + 1);

        return rhost ? fnv(h, rhost, strlen(rhost) + 1) : h;
}

static bool same_key(const struct entry *e, const char *name, const char *rhost)
{
        if (!e->rhost != !rhost)
                return false;
        return strcmp(e->name, name) == 0 && (!rhost || strcmp(e->rhost, rhost) == 0);
}

static struct entry *find(const struct lockout *l, const char *name, const char *rhost)
{
        uint32_t h;

        if (!l->bucket)
                return NULL;
        h = key_hash(l, name, rhost);
        for (uint32_t i = l->bucket[h & (l->n_bucket - 1)]; i; i = l->e[i - 1].next)
                if (l->e[i - 1].hash == h && same_key(&l->e[i - 1], name, rhost))
                        return &l->e[i - 1];
        return NULL;
}

/* The link that points at entry i (the bucket head or a predecessor's next). */
static uint32_t *link_to(struct lockout *l, size_t i)
{
        uint32_t *p = &l->bucket[l->e[i].hash & (l->n_bucket - 1)];

        while (*p != i + 1)
                p = &l->e[*p - 1].next;
        return p;
}

static void drop(struct lockout *l, size_t i)
{
        size_t last = l->n - 1;

        *link_to(l, i) = l->e[i].next;
        free(l->e[i].name);
        free(l->e[i].rhost);
        if (i != last) {
                *link_to(l, last) = (uint32_t)(i + 1);
                l->e[i] = l->e[last];
        }
        l->n--;
}

static int make_room_for_one(struct lockout *l)
{
        if (!l->bucket) {
                size_t nb = 16;

                while (nb < l->max)
                        nb *= 2;
                l->bucket = calloc(nb, sizeof(*l->bucket));
                if (!l->bucket)
                        return -ENOMEM;
                l->n_bucket = nb;
        }
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                struct entry *e;

                cap = cap < l->max ? cap : l->max;
                e = reallocarray(l->e, cap, sizeof(*e));
                if (!e)
                        return -ENOMEM;
                l->e = e;
                l->cap = cap;
        }
        return 0;
}

/* Add a counter that is not in the table yet; the caller made sure n < max. */
static struct entry *add(struct lockout *l, const char *name, const char *rhost,
                         unsigned count, int64_t first)
{
        struct entry *e;
        uint32_t *head;

        if (l->n >= l->max || make_room_for_one(l) < 0)
                return NULL;
        e = &l->e[l->n];
        *e = (struct entry){ .name = strdup(name), .rhost = rhost ? strdup(rhost) : NULL,
                             .hash = key_hash(l, name, rhost), .count = count,
                             .first = first };
        if (!e->name || (rhost && !e->rhost)) {
                free(e->name);
                free(e->rhost);
                return NULL;
        }
        head = &l->bucket[e->hash & (l->n_bucket - 1)];
        e->next = *head;
        *head = (uint32_t)(++l->n);
        return e;
}

/* ---- journal records ------------------------------------------------------------------------ */

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
        for (size_t i = 0; i < n; i++, v >>= 8)
                p[i] = (uint8_t)v;
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
        uint64_t v = 0;

        for (size_t i = n; i > 0; i--)
                v = v << 8 | p[i - 1];
        return v;
}

static void encode(uint8_t *r, int op, const struct entry *e)
{
        size_t nl = strlen(e->name), rl = e->rhost ? strlen(e->rhost) : 0;

        memset(r, 0, LOCKOUT_RECORD_SIZE);
        put_le(r, REC_MAGIC, 4);
        r[4] = (uint8_t)op;
        r[5] = e->rhost ? 1 : 0;
        r[6] = (uint8_t)nl;
        r[7] = (uint8_t)rl;
        put_le(r + 8, op == REC_SET ? e->count : 0, 4);
        put_le(r + 12, op == REC_SET ? (uint64_t)e->first : 0, 8);
        memcpy(r + OFF_NAME, e->name, nl);
        memcpy(r + OFF_RHOST, e->rhost ? e->rhost : "", rl);
        put_le(r + REC_SUM, fnv(2166136261u, r, REC_SUM), 4);
}

/* Queue a record for the end of the current operation. A queue that cannot grow makes
 * the next write a compaction, which needs no queue. */
static void jrec(struct lockout *l, int op, const struct entry *e)
{
        if (!l->dir || !l->file || l->need_compact)
                return;
        if (l->jlen + LOCKOUT_RECORD_SIZE > l->jcap) {
                size_t cap = l->jcap ? l->jcap * 2 : 4 * LOCKOUT_RECORD_SIZE;
                uint8_t *b = realloc(l->jbuf, cap);

                if (!b) {
                        l->need_compact = true;
                        return;
                }
                l->jbuf = b;
                l->jcap = cap;
        }
        encode(l->jbuf + l->jlen, op, e);
        l->jlen += LOCKOUT_RECORD_SIZE;
}

struct rec {
        int op;
        char name[APILOGIN_NAME_MAX + 1];
        char rhost[LOCKOUT_RHOST_KEY_MAX + 1];
        bool source;
        unsigned count;
        int64_t first;
};

static bool decode(const uint8_t *r, struct rec *out)
{
        size_t nl = r[6], rl = r[7];
        uint64_t first = get_le(r + 12, 8);

        if (get_le(r, 4) != REC_MAGIC || get_le(r + REC_SUM, 4) != fnv(2166136261u, r, REC_SUM))
                return false;
        out->op = r[4];
        out->source = r[5] == 1;
        out->count = (unsigned)get_le(r + 8, 4);
        if ((out->op != REC_SET && out->op != REC_DEL) || r[5] > 1 ||
            rl > LOCKOUT_RHOST_KEY_MAX || (!out->source && rl > 0) || first > INT64_MAX ||
            (out->op == REC_SET && (out->count == 0 || out->count > COUNT_MAX)))
                return false;
        out->first = (int64_t)first;
        memcpy(out->name, r + OFF_NAME, nl);
        out->name[nl] = '\0';
        memcpy(out->rhost, r + OFF_RHOST, rl);
        out->rhost[rl] = '\0';
        return strlen(out->name) == nl && strlen(out->rhost) == rl &&
               apilogin_name_valid(out->name);
}

static void apply(struct lockout *l, const struct rec *r)
{
        const char *rhost = r->source ? r->rhost : NULL;
        struct entry *e = find(l, r->name, rhost);

        if (r->op == REC_DEL) {
                if (e)
                        drop(l, (size_t)(e - l->e));
        } else if (e) {
                e->count = r->count;
                e->first = r->first;
        } else {
                (void)add(l, r->name, rhost, r->count, r->first);
        }
}

int lockout_replay(struct lockout *l, const void *data, size_t len)
{
        const uint8_t *p = data;
        size_t off = 0;
        int bad = 0;
        bool in_garbage = false;

        while (len - off >= LOCKOUT_RECORD_SIZE) {
                struct rec r;

                if (decode(p + off, &r)) {
                        apply(l, &r);
                        off += LOCKOUT_RECORD_SIZE;
                        in_garbage = false;
                        continue;
                }
                /* Skip byte by byte until a valid record: realigns after a torn write. */
                if (!in_garbage)
                        bad++;
                in_garbage = true;
                off++;
        }
        return bad + (off < len && !in_garbage ? 1 : 0);
}

/* ---- the journal file ------------------------------------------------------------------------ */

static int journal_path(const struct lockout *l, char **ret)
{
        if (asprintf(ret, "%s/%s", l->dir, l->file) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

int lockout_load(struct lockout *l)
{
        _cleanup_free_ char *path = NULL, *data = NULL;
        size_t len, max = (3 * l->max + 2 * LOCKOUT_COMPACT_MIN) * LOCKOUT_RECORD_SIZE;
        int r;

        if (!l->dir || !l->file)
                return 0;
        r = journal_path(l, &path);
        r = r ?: apilogin_read_file(path, max, &data, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                l->need_compact = true;
                return r;
        }
        r = lockout_replay(l, data, len);
        l->file_records = len / LOCKOUT_RECORD_SIZE;
        if (r > 0 || len % LOCKOUT_RECORD_SIZE)
                l->need_compact = true;
        return r;
}

static int compact(struct lockout *l)
{
        _cleanup_free_ uint8_t *buf = malloc(l->n ? l->n * LOCKOUT_RECORD_SIZE : 1);
        int r;

        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++)
                encode(buf + i * LOCKOUT_RECORD_SIZE, REC_SET, &l->e[i]);
        r = apilogin_mkdir_owned(l->dir, 0700, (uid_t)-1, (gid_t)-1);
        r = r ?: apilogin_write_atomic(l->dir, l->file, buf, l->n * LOCKOUT_RECORD_SIZE, 0600,
                                       (uid_t)-1, (gid_t)-1);
        if (r < 0)
                return r;
        if (l->fd >= 0)
                (void)close(l->fd); /* the replaced file */
        l->fd = -1;
        l->file_records = l->n;
        l->need_compact = false;
        return 0;
}

static int open_journal(struct lockout *l)
{
        _cleanup_free_ char *path = NULL;
        int r;

        r = apilogin_mkdir_owned(l->dir, 0700, (uid_t)-1, (gid_t)-1);
        r = r ?: journal_path(l, &path);
        if (r < 0)
                return r;
        l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (l->fd < 0)
                return -errno;
        if (fchmod(l->fd, 0600) < 0) {
                r = -errno;
                (void)close(l->fd);
                l->fd = -1;
                return r;
        }
        return 0;
}

/* Stale records outnumber live counters (and LOCKOUT_COMPACT_MIN): time to rewrite. */
static bool compaction_due(const struct lockout *l)
{
        size_t records = l->file_records + l->jlen / LOCKOUT_RECORD_SIZE;
        size_t stale = records > l->n ? records - l->n : 0;

        return stale >= LOCKOUT_COMPACT_MIN && stale >= l->n;
}

/* Write the queued records with one write(), or rewrite the whole journal when due. */
static int journal_flush(struct lockout *l)
{
        size_t len = l->jlen;
        ssize_t w;
        int r;

        l->jlen = 0;
        if (!l->dir || !l->file || (len == 0 && !l->need_compact))
                return 0;
        if (l->need_compact || compaction_due(l))
                return compact(l);
        if (l->fd < 0 && (r = open_journal(l)) < 0)
                return r;
        w = write(l->fd, l->jbuf, len);
        if (w != (ssize_t)len) {
                /* A short write leaves the file misaligned: the next write rewrites it. */
                r = w < 0 ? -errno : -EIO;
                l->need_compact = true;
                return r;
        }
        l->file_records += len / LOCKOUT_RECORD_SIZE;
        return 0;
}

/* ---- counting ----------------------------------------------------------------------------- */

static void source_key(const char *rhost, char buf[static LOCKOUT_RHOST_KEY_MAX + 1])
{
        snprintf(buf, LOCKOUT_RHOST_KEY_MAX + 1, "%s", rhost ? rhost : "");
}

static bool window_open(const struct entry *e, const struct lockout_limits *lim, int64_t now)
{
        uint64_t w = e->rhost ? lim->source_window_s : lim->name_window_s;
        unsigned max = e->rhost ? lim->source_max : lim->name_max;

        return max > 0 && now >= e->first && (uint64_t)(now - e->first) < w;
}

static bool locked(const struct entry *e, const struct lockout_limits *lim, int64_t now)
{
        unsigned max = e && e->rhost ? lim->source_max : lim->name_max;

        return e && e->count >= max && window_open(e, lim, now);
}

enum lockout_verdict lockout_check(const struct lockout *l, const struct lockout_limits *lim,
                                   const char *name, const char *rhost, int64_t now)
{
        char src[LOCKOUT_RHOST_KEY_MAX + 1];

        source_key(rhost, src);
        if (locked(find(l, name, NULL), lim, now))
                return LOCKOUT_NAME;
        if (locked(find(l, name, src), lim, now))
                return LOCKOUT_SOURCE;
        return LOCKOUT_OPEN;
}

/* Evict every counter whose window has closed (the only ones ever evicted). When none
 * was, remember until when the table stays full, so a spray does not rescan it each time. */
static void prune(struct lockout *l, const struct lockout_limits *lim, int64_t now)
{
        int64_t soonest = INT64_MAX;
        size_t before = l->n;

        if (now < l->no_room_until)
                return;
        for (size_t i = 0; i < l->n;) {
                const struct entry *e = &l->e[i];
                uint64_t w = e->rhost ? lim->source_window_s : lim->name_window_s;

                if (!window_open(e, lim, now)) {
                        jrec(l, REC_DEL, e);
                        drop(l, i);
                        continue;
                }
                if (w < (uint64_t)(INT64_MAX - e->first) && e->first + (int64_t)w < soonest)
                        soonest = e->first + (int64_t)w;
                i++;
        }
        l->no_room_until = l->n == before ? soonest : 0;
}

/* Count one failure in the counter (name, rhost); false when it could not be created. */
static bool count_one(struct lockout *l, const struct lockout_limits *lim, const char *name,
                      const char *rhost, int64_t now)
{
        struct entry *e = find(l, name, rhost);

        if (e && window_open(e, lim, now)) {
                if (e->count < COUNT_MAX)
                        e->count++;
        } else if (e) {
                e->count = 1;
                e->first = now;
        } else {
                if (l->n >= l->max)
                        prune(l, lim, now);
                e = add(l, name, rhost, 1, now);
                if (!e)
                        return false;
        }
        jrec(l, REC_SET, e);
        return true;
}

int lockout_fail(struct lockout *l, const struct lockout_limits *lim, const char *name,
                 const char *rhost, int64_t now)
{
        char src[LOCKOUT_RHOST_KEY_MAX + 1];
        bool full = false;
        int r;

        if (!apilogin_name_valid(name))
                return -EINVAL;
        source_key(rhost, src);
        /* The name's counter first: with one slot left it protects the account everywhere. */
        if (lim->name_max > 0)
                full |= !count_one(l, lim, name, NULL, now);
        if (lim->source_max > 0)
                full |= !count_one(l, lim, name, src, now);
        r = journal_flush(l);
        return r < 0 ? r : full ? LOCKOUT_TABLE_FULL : 0;
}

int lockout_reset(struct lockout *l, const char *name, const char *rhost)
{
        char src[LOCKOUT_RHOST_KEY_MAX + 1];
        struct entry *e;

        source_key(rhost, src);
        e = find(l, name, src);
        if (e) {
                jrec(l, REC_DEL, e);
                drop(l, (size_t)(e - l->e));
        }
        e = find(l, name, NULL);
        if (e) {
                jrec(l, REC_DEL, e);
                drop(l, (size_t)(e - l->e));
        }
        return journal_flush(l);
}

unsigned lockout_count_source(const struct lockout *l, const char *name, const char *rhost)
{
        char src[LOCKOUT_RHOST_KEY_MAX + 1];
        const struct entry *e;

        source_key(rhost, src);
        e = find(l, name, src);
        return e ? e->count : 0;
}

unsigned lockout_count_name(const struct lockout *l, const char *name)
{
        const struct entry *e = find(l, name, NULL);

        return e ? e->count : 0;
}

size_t lockout_size(const struct lockout *l)
{
        return l->n;
}

size_t lockout_journal_records(const struct lockout *l)
{
        return l->file_records;
}
