/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidwatch.h: notices when the leader process of a session dies without closing it (a
 * kiosk app that crashed, pamtester that exits after open_session). Each watched pid gets
 * a pidfd (pidfd_open), registered in the daemon's loop: it becomes readable when the
 * process exits, so nothing runs until then. Where a pidfd cannot be had (kernel before
 * 5.3, fd limit), the pid is checked with kill(pid, 0) by a sweep timer every
 * PIDWATCH_SWEEP_MS instead, armed only while such pids exist.
 *
 * A pid is a process only together with its start time: a restarted daemon, or the
 * sweep, compares the start time recorded at OPEN with /proc/PID/stat, so a pid reused by
 * another process does not keep a dead session alive. This file never logs. */
#pragma once

#include <stdint.h>

#define PIDWATCH_SWEEP_MS 5000

struct loop;
struct pidwatch;

/* Called once per dead pid, after the watch has been dropped (all its references); may
 * add and remove watches. */
typedef void (*pidwatch_fn)(void *userdata, uint32_t pid);

/* A new watcher on loop; raises the soft RLIMIT_NOFILE to the hard limit, since every
 * watched pid holds an fd. 0 or -ENOMEM. */
int pidwatch_new(struct loop *loop, pidwatch_fn fn, void *userdata, struct pidwatch **ret);

/* Close every pidfd; accepts NULL; returns NULL. No callback is made. */
struct pidwatch *pidwatch_free(struct pidwatch *w);

/* The start time of pid (field 22 of /proc/PID/stat, clock ticks after boot), or 0 if it
 * cannot be read (no such process). */
uint64_t pidwatch_start_time(uint32_t pid);

/* Watch pid (one more reference when it is watched already). start is its start time as
 * recorded earlier (0: unknown, not checked). Returns 0; -ESRCH when the process is gone
 * or pid now names a process with another start time (nothing is watched then); -EINVAL
 * for pid 0; -ENOMEM. */
int pidwatch_add(struct pidwatch *w, uint32_t pid, uint64_t start);

/* Drop one reference of pid; the last one stops watching it. Unknown pids are ignored. */
void pidwatch_remove(struct pidwatch *w, uint32_t pid);

/* Number of pids watched, and how many of them through pidfds. */
void pidwatch_count(const struct pidwatch *w, unsigned *ret_pids, unsigned *ret_pidfds);
