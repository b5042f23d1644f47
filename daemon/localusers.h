/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* localusers.h: the local accounts (/etc/passwd), as the daemon's one reader of that file
 * sees them. Read directly, never through NSS (NSS would ask ourselves), and read again
 * whenever the file changed (its inode, size or mtime), so an account added a moment ago
 * is local at once: the uid rule (users.h) never gives a remote name a local uid, and "is
 * this name ours" (login.h) never sends a local account's secret to an API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct localusers;

/* A name and a uid: a local account here; users.c keeps removed users and users_file
 * pins the same way. */
struct name_uid {
        char *name;
        uint32_t uid;
};

/* Append (a copy of name, uid) to *v (*n entries, *cap allocated). 0 or -ENOMEM. */
int name_uid_push(struct name_uid **v, size_t *n, size_t *cap, const char *name, uint32_t uid);

/* The entry of v (n entries) with name, or NULL (a linear search). */
const struct name_uid *name_uid_find(const struct name_uid *v, size_t n, const char *name);

/* Free v and its n names; accepts NULL. */
void name_uids_free(struct name_uid *v, size_t n);

/* Read path (a missing file is no account). 0, or -errno (then *ret is NULL). */
int localusers_open(const char *path, struct localusers **ret);

/* Accepts NULL; returns NULL. */
struct localusers *localusers_free(struct localusers *lu);

/* Re-read the file if it changed since the last read. On failure the last set read stays
 * and localusers_has_name says it cannot prove a name absent. */
void localusers_refresh(struct localusers *lu);

/* 1 if a local account has name, 0 if none has, -errno when the last read failed and the
 * name is not in the set read before (absence unproven). */
int localusers_has_name(const struct localusers *lu, const char *name);

/* Whether the local account name has uid. */
bool localusers_has(const struct localusers *lu, const char *name, uint32_t uid);

/* The name of a local account with uid, or NULL. */
const char *localusers_by_uid(const struct localusers *lu, uint32_t uid);

/* Every account, sorted by uid (*ret_n of them); valid until the next refresh. */
const struct name_uid *localusers_all(const struct localusers *lu, size_t *ret_n);
