/* lockout.h: apilogind's local lockout. Per login name it counts wrong passwords (only
 * AUTH_ERR answers count) in a window that starts at the first failure; a name with
 * lockout_max failures inside lockout_window_s is refused without contacting any API. The
 * counters survive a restart in state_dir/private/lockout (root 0600), one line per name:
 * "name count first_failure_unix_time". At most LOCKOUT_MAX_NAMES names are kept (the
 * oldest are dropped); unparsable lines are ignored. This file never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOCKOUT_MAX_NAMES 10000

struct lockout;

/* A new, empty table that persists to dir/name (dir is created 0700 if missing when
 * saving). dir and name may be NULL: a table that is never saved (tests). 0 or -ENOMEM. */
int lockout_new(const char *dir, const char *name, struct lockout **ret);

/* Free; accepts NULL; returns NULL. */
struct lockout *lockout_free(struct lockout *l);

/* Read the persisted file into the table (a missing file is an empty table). Returns the
 * number of lines ignored (>= 0), or -errno when the file exists but cannot be read. */
int lockout_load(struct lockout *l);

/* Parse text (len bytes, the file format) into the table, replacing nothing already there
 * except same names. Returns the number of lines ignored. Pure apart from the table. */
int lockout_parse(struct lockout *l, const char *text, size_t len);

/* The file format of the whole table, in a new string (caller frees), or NULL on ENOMEM. */
char *lockout_format(const struct lockout *l);

/* Whether name has max or more failures whose window (window_s seconds from its first
 * failure) is still open at now (unix seconds). max 0 = lockout off = false. */
bool lockout_is_locked(const struct lockout *l, const char *name, unsigned max,
                       uint64_t window_s, int64_t now);

/* Count one failure of name at now: a closed window starts afresh with count 1. Entries
 * whose window has closed are dropped, and the oldest when the table is full. Saves the
 * file. Returns the new count (>= 1) or -errno (the count is kept in memory anyway). */
int lockout_fail(struct lockout *l, const char *name, uint64_t window_s, int64_t now);

/* Forget name's failures (after a success); saves the file when something changed.
 * 0 or -errno from saving. */
int lockout_reset(struct lockout *l, const char *name);

/* Current failure count of name (0 if none), ignoring the window; and the number of names. */
unsigned lockout_count(const struct lockout *l, const char *name);
size_t lockout_size(const struct lockout *l);
