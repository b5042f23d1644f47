/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cache_write.h: apilogind's writer of the NSS cache (format in core/cache.h). The daemon
 * is the only writer; daemon/users.c calls this after every change NSS can see. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One passwd entry to write. gecos NULL means empty. */
struct apilogin_cache_pw {
        const char *name;
        uint32_t uid;
        const char *gecos;
        const char *home;
        const char *shell;
};

/* Supplementary data of one user: gids (n_gids, at most APILOGIN_CACHE_EXTRA_GIDS_MAX) are
 * its supplementary groups, role the role the API returned (NULL: none). Either makes an
 * 'S' record. */
struct apilogin_cache_extra {
        const uint32_t *gids;
        size_t n_gids;
        const char *role;
};

/* A removed user and the uid it had; also a local account holding a uid of the range. */
struct apilogin_cache_removed {
        const char *name;
        uint32_t uid;
};

/* Everything one cache file holds. Every user is a member of group (gid). */
struct apilogin_cache_content {
        uint32_t uid_min, uid_max;
        uint32_t flags; /* APILOGIN_CACHE_F_* */
        const char *group;
        uint32_t gid;
        const struct apilogin_cache_pw *users;
        size_t n_users;
        const struct apilogin_cache_extra *extra; /* NULL, or n_users entries (same order) */
        const struct apilogin_cache_removed *removed;
        size_t n_removed;
        char *const *first_login_from; /* program names */
        size_t n_first_login_from;
        /* local accounts whose uid lies in the range ('r' records, like removed users) */
        const struct apilogin_cache_removed *reserved;
        size_t n_reserved;
        /* templates of provisional entries ('T' record); NULL: no record, no provisional
         * entries. home may hold "%u". */
        const char *home_template;
        const char *shell;
};

/* Replace dir/cache.cdb with a file holding c: built in memory, then written to a temp
 * file in dir (never through a symlink), fsynced and renamed over the old name
 * (apilogin_write_atomic), mode 0644. Afterwards the old file, if it was one of ours, gets
 * its meta stale byte set so that mapped readers switch to the new file on their next
 * lookup. Names must pass apilogin_name_valid, gecos/home/shell must not contain ':' or
 * '\n' and be at most 4096 bytes, names and uids unique (the caller's job).
 * Returns 0, -EINVAL for content that breaks these rules, or -errno; on failure the old
 * file is untouched. Not thread-safe against itself (one writer). */
int apilogin_cache_write(const char *dir, const struct apilogin_cache_content *c);
