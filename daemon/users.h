/* users.h: the daemon's table of remote users, the single writer of the NSS cache.
 * Loaded from the cache file at start; every change that NSS can see rewrites the cache
 * atomically (temp file, fsync, rename), so readers never see half a file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct apilogin_user {
        char *name;
        uint32_t uid;
        char *gecos;    /* display name from the API; NULL if none */
        char *role;     /* role/privileges from the API; NULL if none */
        char *provider; /* provider that last logged this user in */
        bool disabled;
        int64_t last_login; /* unix time */
};

struct apilogin_users;

/* Load the table from the cache in cfg->state_dir (a missing cache is an empty table).
 * cfg must outlive the table (users_reconfigure swaps it). Returns 0 or -errno. */
int users_open(const struct apilogin_config *cfg, struct apilogin_users **ret);

/* Free the table; accepts NULL; returns NULL. */
struct apilogin_users *users_free(struct apilogin_users *u);

/* Use a new config (after SIGHUP); rewrites the cache if home/shell/group changed. */
int users_reconfigure(struct apilogin_users *u, const struct apilogin_config *cfg);

/* The entry for name, or NULL. The pointer is valid until the next change. */
const struct apilogin_user *users_find(const struct apilogin_users *u, const char *name);

/* Record a successful login: create the entry on first sight (uid from apilogin_uid_hash
 * with the collision rule: the first attempt whose uid is neither taken by another cached
 * name nor a uid of the local passwd file), or update gecos/role/provider/last_login.
 * Rewrites the cache only when something NSS shows changed (new user, gecos). Writes the
 * uid into *ret_uid. Returns 0 or -errno (-EEXIST if no free uid could be found). */
int users_record_login(struct apilogin_users *u, const char *name, const char *gecos,
                       const char *role, const char *provider, uint32_t *ret_uid);

/* Add a user without a login (apiloginctl user add). 0, -EEXIST if present, -errno. */
int users_add(struct apilogin_users *u, const char *name, uint32_t *ret_uid);

/* Remove a user and rewrite the cache. 0, -ENOENT if absent, -errno. */
int users_remove(struct apilogin_users *u, const char *name);

/* Number of users, and the i-th one (0 <= i < count), for listings. */
size_t users_count(const struct apilogin_users *u);
const struct apilogin_user *users_at(const struct apilogin_users *u, size_t i);
