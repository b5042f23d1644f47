/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* users.h: the daemon's table of remote users, the single writer of the NSS cache.
 * Loaded from the cache file at start; every change that NSS can see rewrites the cache
 * atomically (temp file, fsync, rename), so readers never see half a file.
 *
 * The uid rule: a new name gets its users_file pin if it has one, else the uid it had before
 * it was removed, else apilogin_uid_hash(name, uid_min, uid_max, 0), the same on every
 * host. When anyone else holds that uid (another cached name, a local account, a removed
 * user) the name is refused, with one log line naming both: two names never share a uid,
 * and a removed user's uid never goes to another name. The administrator resolves a
 * collision by pinning a uid in users_file.
 *
 * role_groups: the role the API returned is kept with the user (in the cache, so it
 * survives a restart); each ROLE:GROUP pair whose ROLE is one of the words of that role
 * (case-insensitive) adds GROUP's gid, looked up in /etc/group at start and on reload, to
 * the user's supplementary groups in the cache.
 *
 * users_file (read at start and on reload): one "NAME [UID]" per line, '#' comments. Each
 * name the table lacks is provisioned (like apiloginctl user add, with the pinned uid), so
 * it resolves before its first login. Bad lines are logged with file:line and skipped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct apilogin_user {
        char *name;
        uint32_t uid;
        char *gecos;    /* display name from the API; NULL if none */
        char *role;     /* role/privileges from the last login; NULL if none (persisted) */
        char *provider; /* provider that last logged this user in */
        bool disabled;
        int64_t last_login; /* unix time */
};

struct apilogin_users;
struct localusers;

/* Load the table from the cache in cfg->state_dir (a missing cache is an empty table),
 * provision cfg->users_file, and write the cache for this config. cfg must outlive the
 * table (users_reconfigure swaps it). Returns 0 or -errno. */
int users_open(const struct apilogin_config *cfg, struct localusers *local,
               struct apilogin_users **ret);

/* Free the table; accepts NULL; returns NULL. */
struct apilogin_users *users_free(struct apilogin_users *u);

/* Use a new config (after SIGHUP): re-read /etc/passwd if it changed, the role_groups groups and
 * users_file, then rewrite the cache. 0 or -errno. */
int users_reconfigure(struct apilogin_users *u, const struct apilogin_config *cfg);

/* The entry for name, or NULL. The pointer is valid until the next change. */
const struct apilogin_user *users_find(const struct apilogin_users *u, const char *name);

/* Whether a login of name could be recorded, checked before anything is sent: 0 when the
 * name is cached or its uid (the rule above) is free; -EADDRINUSE on a collision (logged,
 * naming both); -EINVAL for an invalid name. */
int users_check_new(struct apilogin_users *u, const char *name);

/* Record a successful login: create the entry on first sight (the uid rule above), or
 * update gecos/role/provider/last_login. Rewrites the cache only when something it holds
 * changed (new user, gecos, role). Writes the uid into *ret_uid. Returns 0 or -errno
 * (-EADDRINUSE on a uid collision, logged). */
int users_record_login(struct apilogin_users *u, const char *name, const char *gecos,
                       const char *role, const char *provider, uint32_t *ret_uid);

/* Add a user without a login (apiloginctl user add). 0, -EEXIST if present,
 * -EADDRINUSE on a uid collision (logged), -errno. */
int users_add(struct apilogin_users *u, const char *name, uint32_t *ret_uid);

/* Remove a user and rewrite the cache; its uid is remembered ('R' record) and kept from
 * every other name. 0, -ENOENT if absent, -errno. */
int users_remove(struct apilogin_users *u, const char *name);

/* Number of users, and the i-th one (0 <= i < count), for listings. */
size_t users_count(const struct apilogin_users *u);
const struct apilogin_user *users_at(const struct apilogin_users *u, size_t i);
