/* SPDX-License-Identifier: LGPL-2.1-or-later */
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

#include <stdbool.h>
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
 * out). provider and endpoint are copied. The pending login is bound to the PAM
 * transaction that authenticated: peer_pid is the AUTH caller's SO_PEERCRED pid, and a new
 * random handle is written to ret_handle (SESSION_ID_LEN + 1 bytes) for the AUTH reply's
 * session field. Only an OPEN that sends that handle back, or (from a module that does not
 * send one) comes from peer_pid or its parent, takes the token (see sessions_handle_open).
 * 0 or -ENOMEM/-EINVAL (no token)/-errno from getrandom. */
int sessions_set_pending(struct sessions *s, const char *user, uint32_t uid,
                         struct apilogin_result *res, const char *provider, const char *endpoint,
                         uint32_t peer_pid, char *ret_handle);

/* Keep secret with user's pending login (set just before) when the token's provider
 * renews by re-login (refresh_wants_secret); it moves to the kernel keyring at OPEN and
 * is wiped from memory. Nothing is kept otherwise. 0, or -ENOMEM. */
int sessions_keep_secret(struct sessions *s, const char *user, const char *secret);

/* Stash an offline login of user (uid; a verifier of provider matched, see offline.h) for
 * the OPEN that follows: the session gets token files that say "offline": true and no
 * token, and secret (copied) goes to the kernel keyring for the background login that
 * gets a token once an API is reachable (refresh.h). The handle for peer_pid's OPEN goes
 * to ret_handle, as for sessions_set_pending. 0 or -ENOMEM. */
int sessions_set_pending_offline(struct sessions *s, const char *user, uint32_t uid,
                                 const char *provider, const char *secret, uint32_t peer_pid,
                                 char *ret_handle);

/* The online check of a login answered offline succeeded (its token is the pending
 * login): an open offline session of user takes the token now (token files rewritten,
 * "offline": false, renewal planned). Without one, the token waits for its OPEN. */
void sessions_online_again(struct sessions *s, const char *user);

/* An API gave a definite "revoked", "disabled" or "wrong password" about user in the
 * background (why says which): logged at warning level, a pending login is dropped, and
 * with on_remote_revoke = end_session the leaders of user's sessions get SIGTERM (their
 * death ends the sessions through the leader watch). */
void sessions_remote_revoked(struct sessions *s, const char *user, const char *why);

/* A login that keeps nothing (apiloginctl test-login) succeeded: the token in res is
 * logged out in the background, unless it is the very token user's sessions use. */
void sessions_logout_result(struct sessions *s, const char *user, struct apilogin_result *res,
                            const char *provider, const char *endpoint);

/* How many live sessions user has; *ret_pending (may be NULL) says whether a login of it
 * waits for its OPEN. */
size_t sessions_of(const struct sessions *s, const char *user, bool *ret_pending);

/* Drop every pending login (admin FLUSH); their tokens are logged out. Returns how many. */
size_t sessions_flush_pending(struct sessions *s);

/* Handle OPEN (req->user, service, pid; tty, rhost, session optional) from the process
 * peer_pid (SO_PEERCRED) into ret: IGNORE for users the users table does not know, else OK
 * with the session id, the uid and, when the user has a token, the token file. The user's
 * pending login becomes its token only when it is this transaction's: req->session is its
 * handle, or (no handle sent) peer_pid authenticated it or is the parent of the process
 * that did (sshd runs the PAM conversation in a child of the process that opens the
 * session). */
void sessions_handle_open(struct sessions *s, const struct apilogin_msg *req, uint32_t peer_pid,
                          struct srv_reply *ret);

/* Handle CLOSE (req->user; session id, or else pid): OK also for unknown sessions. */
void sessions_handle_close(struct sessions *s, const struct apilogin_msg *req,
                           struct srv_reply *ret);

/* The i-th user with sessions (0 <= i < count), for listings (its tok holds secrets: list
 * only what is not); NULL past the end. Valid until the next change. */
struct user_state;
const struct user_state *sessions_user_at(const struct sessions *s, size_t i);

struct sessions_stats {
        size_t users;     /* users with sessions */
        size_t sessions;
        size_t pending;   /* pending logins */
        size_t logouts;   /* background logouts in flight */
        size_t renewing;  /* token renewals in flight */
        uint64_t renewed, renew_failed, expired; /* since start (refresh_stats) */
        size_t offline;           /* users whose sessions are offline (no token yet) */
        uint64_t offline_logins;  /* offline logins since start */
        unsigned leaders, leader_pidfds;         /* session leaders watched (pidwatch) */
};
void sessions_stats(const struct sessions *s, struct sessions_stats *ret);
