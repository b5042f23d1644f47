/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cache.c: the NSS cache reader: mapping and remapping the file, checked record lookups,
 * enumeration, and packing records into an NSS caller's buffer (format in cache.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "cache.h"
#include "macro.h"
#include "names.h"
#include "proto.h"
#include "uidhash.h"

#define NSEC_PER_SEC 1000000000ULL
/* Longest gecos, home or shell the reader accepts. */
#define FIELD_MAX 4096

static uint64_t now_coarse_ns(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) < 0)
                return 0;
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Read the 'M' record of a freshly mapped file into c->meta. 0 or -EBADMSG. */
static int read_meta(struct apilogin_cache *c)
{
        const uint8_t *m;
        unsigned len;

        if (cdb_find(&c->cdb, "M", 1) <= 0)
                return -EBADMSG;
        len = cdb_datalen(&c->cdb);
        m = cdb_getdata(&c->cdb);
        if (!m || len < APILOGIN_META_FIXED)
                return -EBADMSG;
        if (apilogin_cache_get_u32(m + APILOGIN_META_VERSION) != APILOGIN_CACHE_VERSION)
                return -EBADMSG;
        if (len > APILOGIN_META_FIXED && m[len - 1] != 0)
                return -EBADMSG;
        c->stale = (const volatile uint8_t *)(m + APILOGIN_META_STALE);
        c->meta = (struct apilogin_cache_meta){
                .version = APILOGIN_CACHE_VERSION,
                .flags = apilogin_cache_get_u32(m + APILOGIN_META_FLAGS),
                .uid_min = apilogin_cache_get_u32(m + APILOGIN_META_UID_MIN),
                .uid_max = apilogin_cache_get_u32(m + APILOGIN_META_UID_MAX),
                .gid = apilogin_cache_get_u32(m + APILOGIN_META_GID),
                .n_users = apilogin_cache_get_u32(m + APILOGIN_META_USERS),
                .first_login_from = (const char *)m + APILOGIN_META_FIXED,
                .fl_len = len - APILOGIN_META_FIXED,
        };
        return 0;
}

int apilogin_cache_open(struct apilogin_cache *c, const char *path)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        apilogin_cache_close(c);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        /* cdb_init maps the file MAP_SHARED; the mapping outlives fd, which we close so
         * that no descriptor lingers in the processes that load the NSS module. */
        if (cdb_init(&c->cdb, fd) < 0)
                return errno == EPROTO ? -EBADMSG : negative_errno();
        c->mapped = true;
        c->dev = st.st_dev;
        c->ino = st.st_ino;
        r = read_meta(c);
        if (r < 0) {
                apilogin_cache_close(c);
                return r;
        }
        c->checked_ns = now_coarse_ns();
        return 0;
}

void apilogin_cache_close(struct apilogin_cache *c)
{
        if (c->mapped)
                cdb_free(&c->cdb);
        *c = (struct apilogin_cache)APILOGIN_CACHE_INIT;
}

bool apilogin_cache_is_stale(const struct apilogin_cache *c)
{
        return c->mapped && *c->stale != 0;
}

/* Whether path still names the mapped file. */
static bool same_file(const struct apilogin_cache *c, const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return false;
        return st.st_dev == c->dev && st.st_ino == c->ino;
}

bool apilogin_cache_check_due(const struct apilogin_cache *c)
{
        return now_coarse_ns() - __atomic_load_n(&c->checked_ns, __ATOMIC_RELAXED) >=
               NSEC_PER_SEC;
}

bool apilogin_cache_current(struct apilogin_cache *c, const char *path)
{
        if (!c->mapped || apilogin_cache_is_stale(c))
                return false;
        if (!apilogin_cache_check_due(c))
                return true;
        __atomic_store_n(&c->checked_ns, now_coarse_ns(), __ATOMIC_RELAXED);
        return same_file(c, path);
}

int apilogin_cache_refresh(struct apilogin_cache *c, const char *path)
{
        int r = 0;

        if (apilogin_cache_current(c, path))
                return 0;
        /* A file we open may be marked stale a moment later if the daemon renames a newer
         * one over it meanwhile; then the path already names the newer file. */
        for (int i = 0; i < 3; i++) {
                r = apilogin_cache_open(c, path);
                if (r < 0 || !apilogin_cache_is_stale(c))
                        break;
        }
        return r;
}

/* Take the NUL-terminated string at *pos inside data[0..len). 0 or -EBADMSG. */
static int take_str(const uint8_t *data, size_t len, size_t *pos, const char **ret,
                    size_t *ret_len)
{
        const uint8_t *nul;

        if (*pos >= len)
                return -EBADMSG;
        nul = memchr(data + *pos, 0, len - *pos);
        if (!nul)
                return -EBADMSG;
        *ret = (const char *)data + *pos;
        *ret_len = (size_t)(nul - (data + *pos));
        *pos += *ret_len + 1;
        return 0;
}

/* A gecos, home or shell: bounded, and nothing that would break the passwd line format. */
static bool field_ok(const char *s, size_t len)
{
        return len <= FIELD_MAX && !memchr(s, ':', len) && !memchr(s, '\n', len);
}

int apilogin_cache_parse_pw(const uint8_t *data, size_t len, struct apilogin_pwrec *ret)
{
        struct apilogin_pwrec r;
        size_t pos = APILOGIN_CACHE_PW_FIXED;

        if (!data || len < APILOGIN_CACHE_PW_FIXED)
                return -EBADMSG;
        r.uid = apilogin_cache_get_u32(data);
        r.gid = apilogin_cache_get_u32(data + 4);
        if (take_str(data, len, &pos, &r.name, &r.name_len) < 0 ||
            take_str(data, len, &pos, &r.gecos, &r.gecos_len) < 0 ||
            take_str(data, len, &pos, &r.dir, &r.dir_len) < 0 ||
            take_str(data, len, &pos, &r.shell, &r.shell_len) < 0 || pos != len)
                return -EBADMSG;
        if (!apilogin_name_valid(r.name) || !field_ok(r.gecos, r.gecos_len) ||
            !field_ok(r.dir, r.dir_len) || !field_ok(r.shell, r.shell_len))
                return -EBADMSG;
        *ret = r;
        return 0;
}

int apilogin_cache_parse_gr(const uint8_t *data, size_t len, struct apilogin_grrec *ret)
{
        struct apilogin_grrec r;
        size_t pos = APILOGIN_CACHE_GR_FIXED, n = 0;

        if (!data || len < APILOGIN_CACHE_GR_FIXED)
                return -EBADMSG;
        r.gid = apilogin_cache_get_u32(data);
        r.n_mem = apilogin_cache_get_u32(data + 4);
        if (take_str(data, len, &pos, &r.name, &r.name_len) < 0 || !apilogin_name_valid(r.name))
                return -EBADMSG;
        r.mem = (const char *)data + pos;
        r.mem_len = len - pos;
        /* Every member is a non-empty NUL-terminated string; their count must match. */
        while (pos < len) {
                const char *m;
                size_t mlen;

                if (take_str(data, len, &pos, &m, &mlen) < 0 || mlen == 0 ||
                    !field_ok(m, mlen))
                        return -EBADMSG;
                n++;
        }
        if (n != r.n_mem)
                return -EBADMSG;
        *ret = r;
        return 0;
}

int apilogin_cache_parse_extra(const uint8_t *data, size_t len, struct apilogin_extrec *ret)
{
        struct apilogin_extrec r;
        size_t pos;

        if (!data || len < APILOGIN_CACHE_EXTRA_FIXED)
                return -EBADMSG;
        r.n_gids = apilogin_cache_get_u32(data);
        if (r.n_gids > APILOGIN_CACHE_EXTRA_GIDS_MAX ||
            len - APILOGIN_CACHE_EXTRA_FIXED < 4 * (size_t)r.n_gids)
                return -EBADMSG;
        r.gids = data + APILOGIN_CACHE_EXTRA_FIXED;
        pos = APILOGIN_CACHE_EXTRA_FIXED + 4 * (size_t)r.n_gids;
        if (take_str(data, len, &pos, &r.role, &r.role_len) < 0 || pos != len ||
            !field_ok(r.role, r.role_len))
                return -EBADMSG;
        *ret = r;
        return 0;
}

int apilogin_cache_expand_home(const char *tmpl, const char *name, char *buf, size_t size)
{
        size_t nl = strlen(name), o = 0;

        if (size == 0 || size > INT32_MAX)
                return -ERANGE;
        /* o < size holds throughout: there is always room for the NUL */
        for (const char *p = tmpl; *p; p++) {
                bool subst = p[0] == '%' && p[1] == 'u';
                size_t n = subst ? nl : 1;

                if (n >= size - o)
                        return -ERANGE;
                memcpy(buf + o, subst ? name : p, n);
                o += n;
                if (subst)
                        p++;
        }
        buf[o] = 0;
        return (int)o;
}

/* cdb_find with our error convention; on 1 the data is at *ret_data, *ret_len bytes. */
static int find(struct apilogin_cache *c, const void *key, size_t klen, const uint8_t **ret_data,
                size_t *ret_len)
{
        const uint8_t *d;
        int r;

        struct cdb local;

        if (!c->mapped)
                return -EBADMSG;
        /* cdb_find records where it found the value inside struct cdb: a copy per lookup
         * keeps the shared mapping read-only, so threads may look up at once. */
        local = c->cdb;
        r = cdb_find(&local, key, (unsigned)klen);
        if (r <= 0)
                return r < 0 ? -EBADMSG : 0;
        d = cdb_getdata(&local);
        if (!d)
                return -EBADMSG;
        *ret_data = d;
        *ret_len = cdb_datalen(&local);
        return 1;
}

/* Build prefix + name into key (1 + APILOGIN_NAME_MAX bytes); returns its length or 0. */
static size_t name_key(char *key, char prefix, const char *name)
{
        size_t n = strnlen(name, APILOGIN_NAME_MAX + 1);

        if (n == 0 || n > APILOGIN_NAME_MAX)
                return 0;
        key[0] = prefix;
        memcpy(key + 1, name, n);
        return n + 1;
}

/* The record under prefix + name: 1 with its bytes in *d and the name's length in *nlen,
 * 0 if absent (or name invalid), -errno. */
static int find_named(struct apilogin_cache *c, char prefix, const char *name,
                      const uint8_t **d, size_t *dlen, size_t *nlen)
{
        char key[1 + APILOGIN_NAME_MAX];
        size_t klen = name_key(key, prefix, name);

        if (klen == 0)
                return 0;
        *nlen = klen - 1;
        return find(c, key, klen, d, dlen);
}

static bool same_name(const char *a, size_t alen, const char *b, size_t blen)
{
        return alen == blen && memcmp(a, b, alen) == 0;
}

int apilogin_cache_find_pw_name(struct apilogin_cache *c, const char *name,
                                struct apilogin_pwrec *ret)
{
        struct apilogin_pwrec rec;
        const uint8_t *d;
        size_t dlen, nlen;
        int r = find_named(c, APILOGIN_CACHE_KEY_PASSWD, name, &d, &dlen, &nlen);

        if (r <= 0)
                return r;
        if (apilogin_cache_parse_pw(d, dlen, &rec) < 0 ||
            !same_name(rec.name, rec.name_len, name, nlen))
                return -EBADMSG;
        *ret = rec;
        return 1;
}

int apilogin_cache_find_gr_name(struct apilogin_cache *c, const char *name,
                                struct apilogin_grrec *ret)
{
        struct apilogin_grrec rec;
        const uint8_t *d;
        size_t dlen, nlen;
        int r = find_named(c, APILOGIN_CACHE_KEY_GROUP, name, &d, &dlen, &nlen);

        if (r <= 0)
                return r;
        if (apilogin_cache_parse_gr(d, dlen, &rec) < 0 ||
            !same_name(rec.name, rec.name_len, name, nlen))
                return -EBADMSG;
        *ret = rec;
        return 1;
}

/* Look up prefix + u32 id, whose value is a name; copy it NUL-terminated into name. */
static int find_id_name(struct apilogin_cache *c, char prefix, uint32_t id,
                        char name[static APILOGIN_NAME_MAX + 1])
{
        uint8_t key[5];
        const uint8_t *d;
        size_t dlen;
        int r;

        key[0] = (uint8_t)prefix;
        apilogin_cache_put_u32(key + 1, id);
        r = find(c, key, sizeof(key), &d, &dlen);
        if (r <= 0)
                return r;
        if (dlen == 0 || dlen > APILOGIN_NAME_MAX || memchr(d, 0, dlen))
                return -EBADMSG;
        memcpy(name, d, dlen);
        name[dlen] = 0;
        return 1;
}

int apilogin_cache_find_pw_uid(struct apilogin_cache *c, uint32_t uid, struct apilogin_pwrec *ret)
{
        char name[APILOGIN_NAME_MAX + 1];
        struct apilogin_pwrec rec;
        int r;

        r = find_id_name(c, APILOGIN_CACHE_KEY_UID, uid, name);
        if (r <= 0)
                return r;
        r = apilogin_cache_find_pw_name(c, name, &rec);
        if (r <= 0 || rec.uid != uid)
                return -EBADMSG; /* a 'U' record must point at a matching 'P' record */
        *ret = rec;
        return 1;
}

int apilogin_cache_find_gr_gid(struct apilogin_cache *c, uint32_t gid, struct apilogin_grrec *ret)
{
        char name[APILOGIN_NAME_MAX + 1];
        struct apilogin_grrec rec;
        int r;

        r = find_id_name(c, APILOGIN_CACHE_KEY_GID, gid, name);
        if (r <= 0)
                return r;
        r = apilogin_cache_find_gr_name(c, name, &rec);
        if (r <= 0 || rec.gid != gid)
                return -EBADMSG;
        *ret = rec;
        return 1;
}

int apilogin_cache_next_raw(struct apilogin_cache *c, unsigned *cursor, char prefix,
                            const uint8_t **ret_key, size_t *ret_klen, const uint8_t **ret_data,
                            size_t *ret_dlen)
{
        if (!c->mapped)
                return -EBADMSG;
        for (;;) {
                const uint8_t *k, *d;
                int r = cdb_seqnext(cursor, &c->cdb);

                if (r <= 0)
                        return r < 0 ? -EBADMSG : 0;
                if (cdb_keylen(&c->cdb) < 1)
                        continue;
                k = cdb_getkey(&c->cdb);
                d = cdb_getdata(&c->cdb);
                if (!k || !d)
                        return -EBADMSG;
                if (k[0] != (uint8_t)prefix)
                        continue;
                *ret_key = k + 1;
                *ret_klen = cdb_keylen(&c->cdb) - 1;
                *ret_data = d;
                *ret_dlen = cdb_datalen(&c->cdb);
                return 1;
        }
}

int apilogin_cache_next_pw(struct apilogin_cache *c, unsigned *cursor, struct apilogin_pwrec *ret)
{
        const uint8_t *k, *d;
        size_t klen, dlen;
        struct apilogin_pwrec rec;
        int r;

        r = apilogin_cache_next_raw(c, cursor, APILOGIN_CACHE_KEY_PASSWD, &k, &klen, &d, &dlen);
        if (r <= 0)
                return r;
        if (apilogin_cache_parse_pw(d, dlen, &rec) < 0 || rec.name_len != klen ||
            memcmp(rec.name, k, klen) != 0)
                return -EBADMSG;
        *ret = rec;
        return 1;
}

int apilogin_cache_next_gr(struct apilogin_cache *c, unsigned *cursor, struct apilogin_grrec *ret)
{
        const uint8_t *k, *d;
        size_t klen, dlen;
        struct apilogin_grrec rec;
        int r;

        r = apilogin_cache_next_raw(c, cursor, APILOGIN_CACHE_KEY_GROUP, &k, &klen, &d, &dlen);
        if (r <= 0)
                return r;
        if (apilogin_cache_parse_gr(d, dlen, &rec) < 0 || rec.name_len != klen ||
            memcmp(rec.name, k, klen) != 0)
                return -EBADMSG;
        *ret = rec;
        return 1;
}

int apilogin_cache_pack_passwd(const struct apilogin_pwrec *r, struct passwd *ret, char *buf,
                               size_t buflen)
{
        struct apilogin_arena a;
        struct passwd pw = {
                .pw_uid = r->uid,
                .pw_gid = r->gid,
        };

        apilogin_arena_init(&a, buf, buf ? buflen : 0);
        pw.pw_name = apilogin_arena_strndup(&a, r->name, r->name_len);
        /* "*": no local password. Not "x", which sends pam_unix (account phase) looking for
         * a shadow entry that does not exist and failing the login; SSSD answers "*" too. */
        pw.pw_passwd = apilogin_arena_strndup(&a, "*", 1);
        pw.pw_gecos = apilogin_arena_strndup(&a, r->gecos, r->gecos_len);
        pw.pw_dir = apilogin_arena_strndup(&a, r->dir, r->dir_len);
        pw.pw_shell = apilogin_arena_strndup(&a, r->shell, r->shell_len);
        if (!pw.pw_name || !pw.pw_passwd || !pw.pw_gecos || !pw.pw_dir || !pw.pw_shell)
                return -ERANGE;
        *ret = pw;
        return 0;
}

int apilogin_cache_pack_group(const struct apilogin_grrec *r, struct group *ret, char *buf,
                              size_t buflen)
{
        struct apilogin_arena a;
        struct group gr = {
                .gr_gid = r->gid,
        };
        const char *m = r->mem;

        apilogin_arena_init(&a, buf, buf ? buflen : 0);
        /* n_mem <= mem_len / 2 (parse checked every member is non-empty): no overflow. */
        gr.gr_mem = apilogin_arena_alloc(&a, ((size_t)r->n_mem + 1) * sizeof(char *),
                                         _Alignof(char *));
        gr.gr_name = apilogin_arena_strndup(&a, r->name, r->name_len);
        gr.gr_passwd = apilogin_arena_strndup(&a, "x", 1);
        if (!gr.gr_mem || !gr.gr_name || !gr.gr_passwd)
                return -ERANGE;
        for (uint32_t i = 0; i < r->n_mem; i++) {
                size_t len = strlen(m);

                gr.gr_mem[i] = apilogin_arena_strndup(&a, m, len);
                if (!gr.gr_mem[i])
                        return -ERANGE;
                m += len + 1;
        }
        gr.gr_mem[r->n_mem] = NULL;
        *ret = gr;
        return 0;
}

int apilogin_cache_find_extra(struct apilogin_cache *c, const char *name,
                              struct apilogin_extrec *ret)
{
        char key[1 + APILOGIN_NAME_MAX];
        struct apilogin_extrec rec;
        const uint8_t *d;
        size_t klen = name_key(key, APILOGIN_CACHE_KEY_EXTRA, name), dlen;
        int r;

        if (klen == 0)
                return 0;
        r = find(c, key, klen, &d, &dlen);
        if (r <= 0)
                return r;
        if (apilogin_cache_parse_extra(d, dlen, &rec) < 0)
                return -EBADMSG;
        *ret = rec;
        return 1;
}

int apilogin_cache_find_removed(struct apilogin_cache *c, const char *name, uint32_t *ret_uid)
{
        char key[1 + APILOGIN_NAME_MAX];
        const uint8_t *d;
        size_t klen = name_key(key, APILOGIN_CACHE_KEY_REMOVED, name), dlen;
        int r;

        if (klen == 0)
                return 0;
        r = find(c, key, klen, &d, &dlen);
        if (r <= 0)
                return r;
        if (dlen != 4)
                return -EBADMSG;
        *ret_uid = apilogin_cache_get_u32(d);
        return 1;
}

int apilogin_cache_uid_taken(struct apilogin_cache *c, uint32_t uid)
{
        static const char prefixes[] = { APILOGIN_CACHE_KEY_UID, APILOGIN_CACHE_KEY_RESERVED };
        uint8_t key[5];
        const uint8_t *d;
        size_t dlen;

        apilogin_cache_put_u32(key + 1, uid);
        for (size_t i = 0; i < sizeof(prefixes); i++) {
                int r;

                key[0] = (uint8_t)prefixes[i];
                r = find(c, key, sizeof(key), &d, &dlen);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* Whether configured program name want covers the executable base name prog. */
static bool program_matches(const char *want, const char *prog)
{
        if (strcmp(want, prog) == 0)
                return true;
        /* OpenSSH 9.8+ looks users up in sshd-session (and sshd-auth from 10.0). */
        return strcmp(want, "sshd") == 0 &&
               (strcmp(prog, "sshd-session") == 0 || strcmp(prog, "sshd-auth") == 0);
}

bool apilogin_cache_first_login_allowed(const struct apilogin_cache *c, const char *prog)
{
        const char *p, *end;

        if (!c->mapped || !prog || !*prog)
                return false;
        /* read_meta checked that a non-empty list ends with a NUL */
        p = c->meta.first_login_from;
        end = p + c->meta.fl_len;
        while (p < end) {
                size_t n = strlen(p);

                if (n > 0 && program_matches(p, prog))
                        return true;
                p += n + 1;
        }
        return false;
}

/* The 'T' record: home template and shell. 1, 0 (none), -EBADMSG. */
static int find_template(struct apilogin_cache *c, const char **ret_home, const char **ret_shell,
                         size_t *ret_shell_len)
{
        const char *home, *shell;
        const uint8_t *d;
        size_t dlen, pos = 0, hl, sl;
        int r;

        r = find(c, "T", 1, &d, &dlen);
        if (r <= 0)
                return r;
        if (take_str(d, dlen, &pos, &home, &hl) < 0 || take_str(d, dlen, &pos, &shell, &sl) < 0 ||
            pos != dlen || !field_ok(home, hl) || !field_ok(shell, sl) || hl == 0 || sl == 0)
                return -EBADMSG;
        *ret_home = home;
        *ret_shell = shell;
        *ret_shell_len = sl;
        return 1;
}

int apilogin_cache_provisional(struct apilogin_cache *c, const char *name, char *home,
                               size_t home_size, struct apilogin_pwrec *ret)
{
        const char *tmpl, *shell;
        size_t shell_len;
        uint32_t uid, removed_uid;
        int r, hl;

        if (!c->mapped || !apilogin_name_valid(name))
                return 0;
        r = apilogin_cache_find_removed(c, name, &removed_uid);
        if (r != 0)
                return r < 0 ? r : 0; /* a removed name comes back only by an admin or a login */
        uid = apilogin_uid_hash(name, c->meta.uid_min, c->meta.uid_max, 0);
        r = apilogin_cache_uid_taken(c, uid);
        if (r != 0)
                return r < 0 ? r : 0; /* the daemon would refuse this name: a collision */
        r = find_template(c, &tmpl, &shell, &shell_len);
        if (r <= 0)
                return r;
        hl = apilogin_cache_expand_home(tmpl, name, home, home_size);
        if (hl < 0 || !field_ok(home, (size_t)hl))
                return 0;
        *ret = (struct apilogin_pwrec){
                .uid = uid, .gid = c->meta.gid,
                .name = name, .name_len = strlen(name),
                .gecos = "", .gecos_len = 0,
                .dir = home, .dir_len = (size_t)hl,
                .shell = shell, .shell_len = shell_len,
        };
        return 1;
}
