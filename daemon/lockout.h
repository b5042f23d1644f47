/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockout.h: apilogind's local lockout. It counts wrong passwords (only answers from a
 * provider: local refusals never reach it) twice: per (name, source) and per name over all
 * sources. The source is PAM_RHOST, "" for a request without one (console); only its first
 * LOCKOUT_RHOST_KEY_MAX bytes count (longer ones share a counter, which can only merge
 * budgets, never split them). Names are keys as the provider compares them: the caller
 * folds case with lockout_key() where the API ignores it.
 *
 * A counter's window starts at its first failure; with max failures inside the window the
 * (name, source) or the name is locked until the window closes. The source threshold is
 * the low one: a guesser at one address locks itself out (for that name) long before the
 * name is locked for everybody. A success resets both counters of (name, source).
 *
 * The table holds at most lockout_max_entries() live counters (LOCKOUT_MAX_ENTRIES unless
 * lockout_set_max_entries() says otherwise). Only counters whose window has closed are ever
 * evicted, so spraying names cannot flush a victim's counter. When the table is full of
 * live counters a failure still counts in the counters that exist (the name's counter
 * keeps counting from new sources), but no new counter is created: a new name is not
 * counted until a counter expires (lockout_fail() returns LOCKOUT_TABLE_FULL). The other
 * choices were worse: refusing unknown names would lock out every user, evicting live
 * counters would unlock the victim.
 *
 * Persistence: an append-only journal of fixed-size records (LOCKOUT_RECORD_SIZE bytes,
 * each with a magic and a checksum) in dir/file, root 0600 in a 0700 dir. Each change of a
 * counter appends one record (one write() per operation, no fsync): O(1) per failure. A
 * daemon crash loses nothing (the kernel has the bytes); a power loss may lose the last
 * seconds of counts. lockout_load() replays the journal; corrupt, truncated or misaligned
 * records are skipped. The journal is rewritten from the live table (atomically, with
 * fsync) when stale records outnumber live counters (and at least LOCKOUT_COMPACT_MIN),
 * and after a load that skipped anything. This file never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define LOCKOUT_MAX_ENTRIES 16384
#define LOCKOUT_RHOST_KEY_MAX 127
#define LOCKOUT_RECORD_SIZE 416
#define LOCKOUT_COMPACT_MIN 4096
/* The per-name threshold when lockout_user is not set: this many times the source one. */
#define LOCKOUT_USER_FACTOR 4

/* lockout_fail() could not create a counter: the table is full of live ones. */
#define LOCKOUT_TABLE_FULL 1

struct lockout;

struct lockout_limits {
        unsigned source_max;            /* per (name, source); 0 = not counted */
        uint64_t source_window_s;
        unsigned name_max;              /* per name, every source; 0 = not counted */
        uint64_t name_window_s;
};

enum lockout_verdict {
        LOCKOUT_OPEN,                   /* not locked */
        LOCKOUT_SOURCE,                 /* this name from this source */
        LOCKOUT_NAME,                   /* this name from everywhere */
};

/* The limits of a config: `lockout` per source, `lockout_user` per name (by default
 * LOCKOUT_USER_FACTOR times `lockout`, capped, with the same window; off with it). */
void lockout_limits_from_config(const struct apilogin_config *cfg, struct lockout_limits *ret);

/* Whether the provider type matches names without case (so the counters fold case). */
bool lockout_type_folds_case(const struct apilogin_type *t);

/* The counter key of name: a copy, ASCII-lowercased when fold. NULL on ENOMEM. */
char *lockout_key(const char *name, bool fold);

/* A new, empty table journaled in dir/file (dir created 0700 when first written). dir and
 * file may be NULL: a table that is never saved (tests). 0 or -ENOMEM. */
int lockout_new(const char *dir, const char *file, struct lockout **ret);

/* Free (closing the journal); accepts NULL; returns NULL. */
struct lockout *lockout_free(struct lockout *l);

/* Set the most counters kept (>= 2): only on an empty table (-EBUSY), else 0. */
int lockout_set_max_entries(struct lockout *l, size_t max);
size_t lockout_max_entries(const struct lockout *l);

/* Replay the journal (a missing one is an empty table). Returns the number of records
 * skipped (>= 0; any makes the next write compact), or -errno when it cannot be read. */
int lockout_load(struct lockout *l);

/* Replay len bytes of journal into the table. Returns the number of records skipped. */
int lockout_replay(struct lockout *l, const void *data, size_t len);

/* Whether name (a key) from rhost (NULL = "") is locked at now (unix seconds). */
enum lockout_verdict lockout_check(const struct lockout *l, const struct lockout_limits *lim,
                                   const char *name, const char *rhost, int64_t now);

/* Count one failure of name from rhost at now in both counters (a counter whose window has
 * closed starts afresh). 0, LOCKOUT_TABLE_FULL, -EINVAL for a name that is no valid key,
 * or -errno from the journal (the counts are kept in memory anyway). */
int lockout_fail(struct lockout *l, const struct lockout_limits *lim, const char *name,
                 const char *rhost, int64_t now);

/* Forget the failures of name from rhost and of name (after a success). 0 or -errno. */
int lockout_reset(struct lockout *l, const char *name, const char *rhost);

/* Current counts, ignoring the window: of (name, rhost), and of name. 0 if none. */
unsigned lockout_count_source(const struct lockout *l, const char *name, const char *rhost);
unsigned lockout_count_name(const struct lockout *l, const char *name);

/* Counters in the table, and records in the journal file (tests, stats). */
size_t lockout_size(const struct lockout *l);
size_t lockout_journal_records(const struct lockout *l);
