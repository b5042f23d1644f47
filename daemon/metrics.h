/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics.h: apilogind's counters since start and the providers' reachability, and their
 * rendering in the Prometheus text format. metrics_file.c writes that to the file named
 * by metrics_file; the same state answers `apiloginctl status` (providers online/offline,
 * logins by outcome). This part depends on nothing else in the daemon, so the units that
 * call its hooks can be tested without the rest.
 *
 * The rest of the daemon only calls the small hooks below (login.c, refresh.c): each one
 * bumps a counter in memory and never fails; all accept a NULL state.
 *
 * Label values are bounded: provider names come from the config (at most
 * METRICS_PROVIDERS_MAX distinct ones are tracked, later ones count as "other"), and API
 * error codes, which come from the network, are cut to METRICS_CODE_LEN bytes of
 * [A-Za-z0-9_.-] (anything else becomes '_'), with at most METRICS_CODES_MAX distinct codes
 * ever; any further code counts as "other". So a hostile API cannot grow the file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "outcome.h"

#define METRICS_PROVIDERS_MAX 32
#define METRICS_CODES_MAX 32
#define METRICS_CODE_LEN 32
#define METRICS_NAME_LEN 64

struct apilogind;
struct metrics;

/* What is known about one provider's reachability. */
struct metrics_provider {
        char name[METRICS_NAME_LEN + 1];
        int up;                 /* 1 answered last time, 0 unreachable last time, -1 unknown */
        int64_t last_ok;        /* unix time of the last answer, 0 = never */
        int64_t last_err;       /* unix time of the last failure to get one, 0 = never */
        char last_error[96];    /* what that failure was (our own words, no API text) */
        uint64_t logins[_APILOGIN_OUTCOME_MAX];
        uint64_t offline_logins;
        uint64_t api_errors[METRICS_CODES_MAX + 1]; /* by code index; last = "other" */
};

/* The daemon's state that the file shows beside the counters (sessions.h, users.h). */
struct metrics_gauges {
        unsigned long long renewed, renew_failed, expired; /* since start */
        unsigned long long sessions, session_users, offline_users, pending, users;
};

/* A new, empty state (start time now), or NULL on ENOMEM. */
struct metrics *metrics_new(void);
/* Accepts NULL; returns NULL. */
struct metrics *metrics_free(struct metrics *m);

/* Hooks. provider NULL: the login was decided here before any API was asked. */

/* One login answered (once per login, when its caller gets the answer): its outcome, how
 * long the caller waited, and whether a verifier answered it (offline login). */
void metrics_login(struct metrics *m, const char *provider, enum apilogin_outcome o,
                   uint64_t elapsed_ms, bool offline);

/* An API answered with an error: its own code (untrusted, sanitised here), else the HTTP
 * status ("http_503"). */
void metrics_api_error(struct metrics *m, const char *provider, const char *code, long status);

/* An endpoint of provider answered (up), or could not be reached / gave no usable answer
 * (down; why in our own words). Logins and background refreshes both report. */
void metrics_provider_seen(struct metrics *m, const char *provider, bool up, const char *why);

/* Reading, for status. */
int64_t metrics_started_at(const struct metrics *m);
uint64_t metrics_logins_total(const struct metrics *m, enum apilogin_outcome o);
uint64_t metrics_offline_logins_total(const struct metrics *m);
/* The state of provider name, or NULL when nothing happened with it yet. */
const struct metrics_provider *metrics_provider_find(const struct metrics *m, const char *name);

/* Write the Prometheus text of m and g to f. 0, or -EIO when f failed. */
int metrics_render(const struct metrics *m, const struct metrics_gauges *g, FILE *f);

/* ---- metrics_file.c: the file ----------------------------------------------------------
 * Every METRICS_INTERVAL_MS, and once more at metrics_file_stop, the file named by the
 * current config's metrics_file (none: nothing is written) is rewritten whole: a temp file
 * beside it, mode 0644, renamed over it, so node_exporter's textfile collector never
 * reads half a file. */
#define METRICS_INTERVAL_MS 5000

struct metrics_file;
/* Start writing d->metrics (first write at once). 0 or -ENOMEM. */
int metrics_file_start(struct apilogind *d, struct metrics_file **ret);
/* Write one last time, stop. Accepts NULL; returns NULL. */
struct metrics_file *metrics_file_stop(struct metrics_file *w);
