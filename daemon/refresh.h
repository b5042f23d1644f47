/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* refresh.h: keeps the token of every user with sessions fresh in the background.
 *
 * Each user with a token has one job: a timer in the daemon's loop and at most one request
 * in flight. What the timer does depends on the provider:
 *   - refresh: the driver's refresh_request (login_check with refresh_url, rest_login's
 *     refresh grant, any driver that has one) at REFRESH_AT_MIN..MAX of the token's
 *     lifetime, a random point in that window, so hosts booted together spread out;
 *   - keep-alive: a token that lives as long as it is used (expires_at 0, token_login)
 *     is kept alive through the same refresh_request every keep-alive interval
 *     (REFRESH_KEEPALIVE_MS, +-10 %; the environment variable APILOGIND_KEEPALIVE_S may
 *     set 1..300 s for tests), and logged in again with the kept secret when the API says
 *     the session has died;
 *   - re-login (renew = relogin): the driver's login_request with the password from the
 *     kernel keyring (keyring.h), also as the fallback of a refresh the API refuses;
 *   - nothing (renew = none, or no way to renew): at the expiry the token is marked
 *     expired, and token.json says so;
 *   - extra tokens that die long before the token (the driver's extra_lifetime_s:
 *     ws_auth's tokenForHttpServer, 5 minutes) are renewed through the same
 *     refresh_request at REFRESH_EXTRA_AT_MIN..MAX of their lifetime, whenever that comes
 *     before the token's own renewal (the environment variable APILOGIND_EXTRA_TOKEN_S
 *     may set that lifetime to 1..300 s for tests, as refapi can shorten it).
 * A renewed token is saved to the session record first (it may hold a new single-use
 * refresh token), then to the token files, each replaced atomically.
 *
 * Failures: unreachable, 5xx, malformed: exponential backoff from REFRESH_BACKOFF_MIN_MS
 * doubling up to REFRESH_BACKOFF_MAX_MS (+-20 %), a relogin trying the provider's URLs in
 * turn; a rate limit (MAXTRIES) waits what the API said (Retry-After) or the backoff,
 * whichever is longer; a refusal (AUTH_ERR and the other definite answers) falls back to
 * re-login when a secret is kept, else marks the token expired and logs once: no retry
 * loop. The first failure of a run is logged as a warning, the recovery at info level.
 *
 * Nothing of this is saved: on load the next due time is recomputed from the token's
 * issue and expiry times (an overdue renewal is spread over a few seconds).
 *
 * Cost: one timer per user in the loop's heap, nothing runs between due times; due times
 * are rounded up to REFRESH_SLACK_MS (at most 5 % of the wait), so that the renewals of
 * many users share wakeups (bench/refresh.sh measures it). Renewals take turns per
 * provider: at most REFRESH_LANE_MAX of one provider in flight, the others wait in the
 * order their timers fired. A wave of renewals (a fleet booted at once) then goes
 * through a few warm connections instead of opening (and closing) one per renewal, and a
 * stalled API holds a few requests, not one per user; logins never wait behind them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "tokenfile.h"

#define REFRESH_AT_MIN 0.75 /* of the lifetime */
#define REFRESH_AT_MAX 0.85
#define REFRESH_KEEPALIVE_MS (120 * 1000) /* well inside a 5-minute idle limit */
/* Short-lived extra tokens renew earlier than tokens: a failed renewal leaves 20-40 % of
 * a few minutes for the retries (REFRESH_BACKOFF_MIN_MS doubling) before they die. */
#define REFRESH_EXTRA_AT_MIN 0.6
#define REFRESH_EXTRA_AT_MAX 0.8
#define REFRESH_BACKOFF_MIN_MS 1000
#define REFRESH_BACKOFF_MAX_MS (5 * 60 * 1000)
#define REFRESH_SPREAD_MAX_MS (30 * 1000) /* overdue renewals at start: spread this wide */
#define REFRESH_SLACK_MS 250 /* timers due this close together fire together */
#define REFRESH_OFFLINE_RETRY_MAX_MS (30 * 1000) /* offline sessions: longest backoff */
/* Renewals of one provider in flight at once. http.c keeps 16 idle connections; a
 * finished renewal's connection goes to the next waiter in the same loop iteration, so
 * a wave reuses them instead of opening one per renewal. Enough for a loaded API: at
 * 10 ms a request 3,200 renewals a second (100,000 users with 60-second tokens need
 * 2,100); at 100 ms, 320 (100,000 users with one-hour tokens need 28). */
#define REFRESH_LANE_MAX 32

struct apilogind;
struct keyring;
struct refresh;

/* Why a job is (re)planned: a login's token was just adopted (the way it will be kept
 * fresh is logged), a record was loaded at start, or a renewal just succeeded. */
enum refresh_why {
        REFRESH_NEW,
        REFRESH_LOADED,
        REFRESH_AGAIN,
};

struct refresh_stats {
        size_t jobs;        /* users whose token is looked after */
        size_t in_flight;   /* renewals waiting for an API */
        size_t waiting;     /* renewals due, waiting for their provider's turn */
        uint64_t renewed;   /* successful renewals (refresh, keep-alive, re-login) */
        uint64_t failed;    /* failed attempts (each backoff step counts) */
        uint64_t expired;   /* tokens marked expired */
};

/* A new engine on d's loop, http and config; kr (may be NULL: no re-login) is borrowed.
 * 0 or -ENOMEM. */
int refresh_new(struct apilogind *d, struct keyring *kr, struct refresh **ret);

/* Free the engine; every job must have been stopped. Accepts NULL; returns NULL. */
struct refresh *refresh_free(struct refresh *rf);

/* Plan the renewal of u's current token (u->has_token), replacing whatever was planned or
 * in flight for u. u must stay at the same address until refresh_stop. 0 or -ENOMEM. */
int refresh_plan(struct refresh *rf, struct user_state *u, enum refresh_why why);

/* Cancel u's job (its request in flight is abandoned) and free it. Accepts u->job NULL. */
void refresh_stop(struct refresh *rf, struct user_state *u);

/* Whether the login that issued t must leave its secret in the keyring: renew = relogin,
 * or a keep-alive token, which needs it to log in again once its session has died. */
bool refresh_wants_secret(const struct apilogin_config *cfg, const struct apilogin_token *t);

/* Called when a background refresh, keep-alive or re-login of user gets a definite
 * "revoked", "disabled" or "wrong password" (on_remote_revoke): password_judged when the
 * answer was about the password or the account (the offline verifier goes too); why is
 * the log text. j and the user stay valid: the callee may only signal session leaders. */
typedef void (*refresh_revoke_fn)(void *userdata, const char *user, bool password_judged,
                                  const char *why);
void refresh_set_revoke(struct refresh *rf, refresh_revoke_fn fn, void *userdata);

void refresh_stats(const struct refresh *rf, struct refresh_stats *ret);

/* The turn-taking of one provider's renewals (a lane), exposed for tests. The engine
 * counts in_flight itself (a renewal holds its place from its request's start to its
 * answer or cancel); a lane only queues the waiters, first come first served. */
struct refresh_lane;
struct refresh_waiter {
        struct refresh_waiter *prev, *next;
        struct refresh_lane *lane;  /* the lane it waits in; NULL when not waiting */
};
struct refresh_lane {
        struct refresh_lane *next;  /* the engine's list of lanes */
        char *provider;
        unsigned in_flight;
        size_t n_waiting;
        struct refresh_waiter *head, *tail;
};

/* Whether a renewal may start on l now (fewer than REFRESH_LANE_MAX in flight and nobody
 * waiting before it); when not, w joins the tail of the queue. w must not be waiting. */
bool refresh_lane_admit(struct refresh_lane *l, struct refresh_waiter *w);
/* Take w out of its queue; a no-op when it is not waiting. */
void refresh_lane_leave(struct refresh_waiter *w);
/* The first waiter, taken out of the queue, when l has room for it; else NULL. */
struct refresh_waiter *refresh_lane_next(struct refresh_lane *l);

/* The pure scheduling rules, for tests. rnd is a number in [0, 1).
 * When a token issued at issued_ms that expires at expires_ms (both unix ms) should be
 * renewed, given now_ms: a point in [MIN, MAX] of its lifetime, or when that has passed,
 * now plus up to 5 % of the lifetime (at most REFRESH_SPREAD_MAX_MS). */
int64_t refresh_due_ms(int64_t issued_ms, int64_t expires_ms, int64_t now_ms, double rnd);
/* When extra tokens issued (or last renewed) at issued_ms that live lifetime_ms should be
 * renewed: a point in [EXTRA_AT_MIN, EXTRA_AT_MAX] of their lifetime, or, when that has
 * passed or issued_ms is unknown (0) or in the future, now plus up to 5 % of it. */
int64_t refresh_extra_due_ms(int64_t issued_ms, int64_t lifetime_ms, int64_t now_ms, double rnd);
/* The wait after the n-th consecutive failure (n >= 1). */
uint64_t refresh_backoff_ms(unsigned n, double rnd);
