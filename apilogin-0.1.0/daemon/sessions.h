/* sessions.h: apilogind's sessions and tokens (OPEN/CLOSE requests).
 *
 * A successful AUTH leaves a "pending login" (the issued token and its companions, and the
 * secret when the provider needs it for re-login) for up to SESSIONS_PENDING_MS; the OPEN
 * that follows makes it the user's current token, writes the token files, moves the
 * secret into the kernel keyring (keyring.h) and hands the token to the background
 * renewal (refresh.h). Each user has one current token and any number of sessions; the
 * last session's end - a CLOSE, or the death of its leader process without one
 * (pidwatch.h) - revokes the token at the provider (when its API can), deletes the token
 * files, the keyring key and the user's record. Every change is saved to run_dir/sessions,
 * and everything there is loaded at start (sessions whose leader died meanwhile are
 * ended then), so a restart loses nothing. Replaced or dropped tokens are logged out in
 * the background (fire and forget, SESSIONS_LOGOUT_MS deadline). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/provider.h"
#include "proto.h"

#ifndef SESSIONS_PENDING_MS /* overridable for tests */
#define SESSIONS_PENDING_MS (2 * 60 * 1000)
#endif
#define SESSIONS_LOGOUT_MS 5000

struct apilogind;
struct sessions;
struct srv_reply;

/* A new table: loads every record in run_dir/sessions (bad ones are logged and skipped)
 * and rewrites the token files of users with a token. 0 or -ENOMEM (logged). */
int sessions_new(struct apilogind *d, struct sessions **ret);

/* Free everything (tokens wiped), cancelling background logouts. Records stay on disk.
 * Accepts NULL; returns NULL. */
struct sessions *sessions_free(struct sessions *s);

/* Stash a successful login of user (uid) for the OPEN that follows, taking the token and
 * its companions out of res. A pending login the user already had is dropped (and logged
 * out). provider and endpoint are copied. 0 or -ENOMEM/-EINVAL (no token). */
int sessions_set_pending(struct sessions *s, const char *user, uint32_t uid,
                         struct apilogin_result *res, const char *provider, const char *endpoint);

/* Keep secret with user's pending login (set just before) when the token's provider
 * renews by re-login (refresh_wants_secret); it moves to the kernel keyring at OPEN and
 * is wiped from memory. Nothing is kept otherwise. 0, or -ENOMEM. */
int sessions_keep_secret(struct sessions *s, const char *user, const char *secret);

/* Drop every pending login (admin FLUSH); their tokens are logged out. Returns how many. */
size_t sessions_flush_pending(struct sessions *s);

/* Handle OPEN (req->user, service, pid; tty, rhost optional) into ret: IGNORE for users
 * the users table does not know, else OK with the session id, the uid and, when the user
 * has a token, the token file. */
void sessions_handle_open(struct sessions *s, const struct apilogin_msg *req,
                          struct srv_reply *ret);

/* Handle CLOSE (req->user; session id, or else pid): OK also for unknown sessions. */
void sessions_handle_close(struct sessions *s, const struct apilogin_msg *req,
                           struct srv_reply *ret);

/* One line per session into buf (n bytes, NUL-terminated, cut with a last line saying so
 * when full). Never holds a token. */
void sessions_report(const struct sessions *s, char *buf, size_t n);

struct sessions_stats {
        size_t users;     /* users with sessions */
        size_t sessions;
        size_t pending;   /* pending logins */
        size_t logouts;   /* background logouts in flight */
        size_t renewing;  /* token renewals in flight */
        uint64_t renewed, renew_failed, expired; /* since start (refresh_stats) */
        unsigned leaders, leader_pidfds;         /* session leaders watched (pidwatch) */
};
void sessions_stats(const struct sessions *s, struct sessions_stats *ret);
