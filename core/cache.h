/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cache.h: the NSS cache file, its format and its reader.
 *
 * The cache is one tinycdb file, APILOGIN_STATEDIR "/cache.cdb" (the daemon may use another
 * state_dir; the NSS module always reads the compile-time path), mode 0644, owned by root.
 * Only apilogind writes it (daemon/cache_write.c): it builds a complete new file beside the
 * old one, fsyncs it and renames it over the old name, so a reader sees either the old or
 * the new file, never half of one. It is world-readable and holds nothing secret: names,
 * uids, display names, homes, shells and the group membership.
 *
 * Records: key = one prefix byte + key bytes; value as below. Integers are big-endian u32;
 * strings are stored with their terminating NUL and must not contain ':' or '\n'.
 *
 *   'P' name          passwd entry:  u32 uid | u32 gid | name\0 gecos\0 home\0 shell\0
 *                     (the name inside must equal the key; gecos may be empty)
 *   'U' u32 uid       the user name owning uid (no NUL); its 'P' record has that uid
 *   'G' group name    group entry:   u32 gid | u32 member count | name\0 | member\0 ...
 *   'g' u32 gid       the group name owning gid (no NUL)
 *   'R' name          a removed user: u32 uid it had (kept so that the uid, and the files
 *                     it owns, are never handed to another name; the same name gets it back)
 *   'S' name          supplementary data of a cached user: u32 n | n x u32 gid | role\0
 *                     (gids: the local groups role_groups maps the user's role to; role:
 *                     the role/privileges the API last returned, may be empty)
 *   'r' u32 uid       a uid no new name may get (no NUL): the name of its holder, a removed
 *                     user or a local account whose uid lies in the uid range
 *   'T' (no key)      templates for provisional entries: home\0 shell\0 (home with "%u")
 *   'M' (no key)      meta record, APILOGIN_META_FIXED bytes then a list:
 *                       0  u32 format version (APILOGIN_CACHE_VERSION)
 *                       4  u8  stale: 0 while this file is current; the daemon writes 1
 *                              here (pwrite into the old inode) right after renaming a
 *                              new file over it
 *                       5  3 bytes zero
 *                       8  u32 uid_min     12 u32 uid_max
 *                      16  u32 flags (APILOGIN_CACHE_F_*)
 *                      20  u32 gid of the apilogin group (every user's primary group)
 *                      24  u32 number of 'P' records
 *                      28  u32 zero (reserved)
 *                      32  first_login_from: program names, each NUL-terminated, back to
 *                          back up to the end of the record (may be empty)
 *
 * Provisional entries (first_login_from): for a name without a 'P' record, a reader in one
 * of the programs named in the meta record may answer uid = apilogin_uid_hash(name, uid_min,
 * uid_max, 0), gid = meta gid, home/shell from 'T', gecos empty; but only when the name has
 * no 'R' record and that uid has neither a 'U' nor an 'r' record. The daemon gives a new
 * name exactly that uid (or refuses the login), so the provisional entry sshd saw before
 * PAM ran equals the permanent one written after the login.
 *
 * Replacement detection without a syscall per lookup: readers map the file MAP_SHARED
 * (cdb_init does), so the daemon's write of the stale byte into the old inode shows up in
 * every reader's mapping at once; the next lookup sees it and maps the new file. A file
 * replaced by anything else is caught by re-stat()ing the path at most once per second
 * (CLOCK_MONOTONIC_COARSE, a vDSO call).
 *
 * The reader treats the file as untrusted bytes: tinycdb bounds-checks its own tables, and
 * every record is checked (lengths, NUL termination inside the record, counts) before use.
 * The daemon never truncates or rewrites a live file in place (only the one stale byte), so
 * a mapping never shrinks under a reader.
 *
 * Reader API: no allocation, no logging, not thread-safe on one struct apilogin_cache
 * (the NSS module holds its mutex around every call). Records returned point into the
 * mapping and stay valid until the next apilogin_cache_refresh/close on that cache. */
#pragma once

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cdb.h>

#define APILOGIN_CACHE_NAME "cache.cdb"
#define APILOGIN_CACHE_PATH APILOGIN_STATEDIR "/" APILOGIN_CACHE_NAME
#define APILOGIN_CACHE_VERSION 1u

#define APILOGIN_CACHE_KEY_PASSWD 'P'
#define APILOGIN_CACHE_KEY_UID 'U'
#define APILOGIN_CACHE_KEY_GROUP 'G'
#define APILOGIN_CACHE_KEY_GID 'g'
#define APILOGIN_CACHE_KEY_REMOVED 'R'
#define APILOGIN_CACHE_KEY_META 'M'
#define APILOGIN_CACHE_KEY_EXTRA 'S'
#define APILOGIN_CACHE_KEY_RESERVED 'r'
#define APILOGIN_CACHE_KEY_TEMPLATE 'T'

#define APILOGIN_META_VERSION 0
#define APILOGIN_META_STALE 4
#define APILOGIN_META_UID_MIN 8
#define APILOGIN_META_UID_MAX 12
#define APILOGIN_META_FLAGS 16
#define APILOGIN_META_GID 20
#define APILOGIN_META_USERS 24
#define APILOGIN_META_FIXED 32

/* meta flags */
#define APILOGIN_CACHE_F_ENUMERATE 0x1u /* getpwent/getgrent list the entries */

/* Fixed part of a 'P' / 'G' / 'S' value. */
#define APILOGIN_CACHE_PW_FIXED 8
#define APILOGIN_CACHE_GR_FIXED 8
#define APILOGIN_CACHE_EXTRA_FIXED 4
/* Most supplementary gids one 'S' record may hold. */
#define APILOGIN_CACHE_EXTRA_GIDS_MAX 64

/* Cursor value that starts an enumeration (the first record follows the 2048-byte toc). */
#define APILOGIN_CACHE_CURSOR_START 2048u

/* A passwd record as found in the mapping; strings are NUL-terminated at their length. */
struct apilogin_pwrec {
        uint32_t uid, gid;
        const char *name, *gecos, *dir, *shell;
        size_t name_len, gecos_len, dir_len, shell_len;
};

/* A group record; mem holds n_mem NUL-terminated names back to back, mem_len bytes. */
struct apilogin_grrec {
        uint32_t gid;
        uint32_t n_mem;
        const char *name;
        size_t name_len;
        const char *mem;
        size_t mem_len;
};

/* A supplementary record: gids holds n_gids big-endian u32 (apilogin_extrec_gid). */
struct apilogin_extrec {
        uint32_t n_gids;
        const uint8_t *gids;
        const char *role;
        size_t role_len;
};

struct apilogin_cache_meta {
        uint32_t version, flags, uid_min, uid_max, gid, n_users;
        const char *first_login_from; /* n NUL-terminated names, fl_len bytes in all */
        size_t fl_len;
};

/* One mapped cache file. Zero-initialise (or use APILOGIN_CACHE_INIT) before first use. */
struct apilogin_cache {
        struct cdb cdb;
        bool mapped;
        dev_t dev;
        ino_t ino;
        const volatile uint8_t *stale; /* the meta stale byte inside the mapping */
        uint64_t checked_ns;           /* CLOCK_MONOTONIC_COARSE of the last stat() */
        struct apilogin_cache_meta meta;
};

#define APILOGIN_CACHE_INIT { .mapped = false }

/* Map the cache at path and check its meta record. Any previous mapping of c is dropped.
 * Returns 0, -ENOENT/-EACCES/... if the file cannot be opened, -EBADMSG if it is not a
 * cache of this format (too short, no meta record, other version). */
int apilogin_cache_open(struct apilogin_cache *c, const char *path);

/* Unmap; c can be opened again. Accepts a closed cache. */
void apilogin_cache_close(struct apilogin_cache *c);

/* Make c current before a lookup: map path if c is closed, remap if the daemon marked the
 * mapped file stale, and at most once per second stat() path and remap if another file is
 * there. Costs one byte load and one vDSO clock read when nothing changed.
 * Returns 0 when c is mapped, or the -errno of apilogin_cache_open (c is then closed). */
int apilogin_cache_refresh(struct apilogin_cache *c, const char *path);

/* Whether c is mapped and still the file at path: not marked stale, and, at most once a
 * second (CLOCK_MONOTONIC_COARSE), stat(path) names the mapped inode (a cache replaced
 * without the stale byte, e.g. restored from a backup). Updates c->checked_ns. */
bool apilogin_cache_current(struct apilogin_cache *c, const char *path);

/* Whether a second has passed since c was last compared with its path (a read-only test
 * that lookups run without a lock; the comparison itself is apilogin_cache_current). */
bool apilogin_cache_check_due(const struct apilogin_cache *c);

/* Whether the mapped file has been replaced by the daemon (stale byte set). */
bool apilogin_cache_is_stale(const struct apilogin_cache *c);

/* Lookups on a mapped cache: 1 and *ret filled when found, 0 when not, -EBADMSG when the
 * record is malformed or the file is corrupt. ret is written only when 1 is returned. */
int apilogin_cache_find_pw_name(struct apilogin_cache *c, const char *name,
                                struct apilogin_pwrec *ret);
int apilogin_cache_find_pw_uid(struct apilogin_cache *c, uint32_t uid, struct apilogin_pwrec *ret);
int apilogin_cache_find_gr_name(struct apilogin_cache *c, const char *name,
                                struct apilogin_grrec *ret);
int apilogin_cache_find_gr_gid(struct apilogin_cache *c, uint32_t gid, struct apilogin_grrec *ret);

/* The supplementary record of name: 1 and *ret, 0 when there is none, -EBADMSG. */
int apilogin_cache_find_extra(struct apilogin_cache *c, const char *name,
                              struct apilogin_extrec *ret);

/* The uid a removed user had: 1 and *ret_uid, 0 when name was not removed, -EBADMSG. */
int apilogin_cache_find_removed(struct apilogin_cache *c, const char *name, uint32_t *ret_uid);

/* Whether uid is unavailable to a new name ('U' or 'r' record): 1 yes, 0 no, -EBADMSG. */
int apilogin_cache_uid_taken(struct apilogin_cache *c, uint32_t uid);

/* Whether the program prog (an executable's base name) is named in first_login_from.
 * "sshd" also stands for OpenSSH's per-connection executables sshd-session and sshd-auth
 * (OpenSSH 9.8 and later). Pure function of the mapped meta record. */
bool apilogin_cache_first_login_allowed(const struct apilogin_cache *c, const char *prog);

/* The provisional entry of a name that has no 'P' record (rules at the top of this file):
 * 1 and *ret filled (name pointing at the caller's name, dir into home[0..home_size), shell
 * into the mapping), 0 when the rules give none, -EBADMSG. Does not check the program;
 * the caller does (apilogin_cache_first_login_allowed). */
int apilogin_cache_provisional(struct apilogin_cache *c, const char *name, char *home,
                               size_t home_size, struct apilogin_pwrec *ret);

/* Enumeration in file order. *cursor starts at APILOGIN_CACHE_CURSOR_START and is advanced
 * past the record returned; save it before the call to replay a record. next_raw returns
 * the next record whose key starts with prefix (key and data without the prefix byte,
 * pointing into the mapping). All return 1 (record), 0 (end), -EBADMSG (corrupt). */
int apilogin_cache_next_raw(struct apilogin_cache *c, unsigned *cursor, char prefix,
                            const uint8_t **ret_key, size_t *ret_klen, const uint8_t **ret_data,
                            size_t *ret_dlen);
int apilogin_cache_next_pw(struct apilogin_cache *c, unsigned *cursor, struct apilogin_pwrec *ret);
int apilogin_cache_next_gr(struct apilogin_cache *c, unsigned *cursor, struct apilogin_grrec *ret);

/* Check one 'P' / 'G' value (data, len bytes, as stored) and fill *ret with pointers into
 * it. Returns 0 or -EBADMSG. Pure functions. */
int apilogin_cache_parse_pw(const uint8_t *data, size_t len, struct apilogin_pwrec *ret);
int apilogin_cache_parse_gr(const uint8_t *data, size_t len, struct apilogin_grrec *ret);
int apilogin_cache_parse_extra(const uint8_t *data, size_t len, struct apilogin_extrec *ret);

/* "%u" in tmpl replaced by name, into buf (size bytes). Returns the length, or -ERANGE
 * when it does not fit. Pure function. */
int apilogin_cache_expand_home(const char *tmpl, const char *name, char *buf, size_t size);

/* Pack a record into the caller's buffer the way NSS needs it: every string ("*" as a
 * user's password: no local password; "x" as a group's) and the member array included, lands in buf[0..buflen). Returns 0 and fills
 * *ret, or -ERANGE (buf NULL or too small) leaving *ret untouched. Pure functions. */
int apilogin_cache_pack_passwd(const struct apilogin_pwrec *r, struct passwd *ret, char *buf,
                               size_t buflen);
int apilogin_cache_pack_group(const struct apilogin_grrec *r, struct group *ret, char *buf,
                              size_t buflen);

/* Big-endian u32 helpers shared by the writer and the reader. */
static inline uint32_t apilogin_cache_get_u32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t apilogin_extrec_gid(const struct apilogin_extrec *e, uint32_t i)
{
        return apilogin_cache_get_u32(e->gids + 4 * (size_t)i);
}

static inline void apilogin_cache_put_u32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}
