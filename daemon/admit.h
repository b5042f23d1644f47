/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* admit.h: how much of apilogind's socket each caller may use, so that no local user can
 * keep root's logins (sshd, login, su) from being served.
 *
 * The socket is 0666: any local user can connect. Connections are counted per peer uid
 * (SO_PEERCRED at accept). Root has a budget of its own that non-root callers can never
 * take; all non-root uids together share a smaller budget, and each non-root uid may hold
 * at most ADMIT_UID_CONNS of it. The budgets come from RLIMIT_NOFILE (admit_new), well
 * below it, so that accept() does not run out of descriptors for root. Every request of a
 * non-root uid (PING included) draws from that uid's token bucket (ADMIT_BURST requests
 * at once, then ADMIT_RATE per second). A connection that is over its cap is closed at
 * once; it is never made room for by closing someone else's.
 *
 * Refusals are logged at warning level by admit_warn: the first at once, then at most
 * one line per uid per ADMIT_WARN_MS (from a timer), naming the last refusal and
 * counting the others. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define ADMIT_UID_CONNS 16        /* connections one non-root uid may hold */
#define ADMIT_NONROOT_MAX 128     /* all non-root uids together, at most */
#define ADMIT_ROOT_MAX 1024       /* root, at most */
#define ADMIT_BURST 20            /* requests a non-root uid may send at once */
#define ADMIT_RATE 5              /* then this many per second */
#define ADMIT_WARN_MS 10000       /* one refusal line per uid per this time */
#define ADMIT_SLOTS 256           /* non-root uids tracked at once */

struct admit;
struct loop;

/* A new table with budgets fitted to nofile descriptors (its summary timer in loop).
 * 0 or -ENOMEM. */
int admit_new(struct loop *loop, uint64_t nofile, struct admit **ret);
struct admit *admit_free(struct admit *a);

/* Count a new connection of uid: true when it may stay (then admit_conn_close must follow
 * its end), false when its uid, or non-root callers as a whole, are at their cap. */
bool admit_conn_open(struct admit *a, uid_t uid);
void admit_conn_close(struct admit *a, uid_t uid);

/* Whether uid may send one more request now (root always may); takes a token. */
bool admit_request(struct admit *a, uid_t uid);

/* Log the refusal of what (a short phrase: "a connection: per-uid cap") for uid/pid, at
 * warning level, rate-limited per uid. */
void admit_warn(struct admit *a, uid_t uid, pid_t pid, const char *what);

/* The budgets, for the status report. */
void admit_limits(const struct admit *a, unsigned *ret_root, unsigned *ret_nonroot);
