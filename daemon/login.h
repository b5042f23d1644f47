/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* login.h: AUTH requests. A login checks the name locally first (invalid, root, denied,
 * local accounts: USER_UNKNOWN; local lockout: MAXTRIES; an empty secret: AUTH_ERR), then
 * asks the providers in order, each at its url and then its fallback_urls, failing over on
 * anything that is not a definite answer, all within cfg->timeout_ms from its start. A
 * success records the user, resets the lockout and leaves the token as a pending login
 * for the session; a wrong credential counts towards the lockout. Each login writes one
 * authpriv line, never with the secret or a token. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

#define LOGIN_NONROOT_INTERVAL_MS 2000 /* at most one AUTH per uid in this time (non-root) */

struct apilogind;
struct requester;
struct logins;
struct login;

/* The table of logins in flight. 0 or -ENOMEM. */
int logins_new(struct apilogind *d, struct logins **ret);

/* Cancel every login in flight (no reply is sent); accepts NULL; returns NULL. */
struct logins *logins_free(struct logins *ls);

/* Handle the AUTH request req from who (whose peer credentials decide what it may ask;
 * copied). The answer goes to who->reply, now or when the providers have answered.
 * Returns the login in flight, or NULL when who has been answered already. req is not
 * kept (the secret is copied, and wiped when the login ends). */
struct login *login_start(struct logins *ls, const struct requester *who,
                          const struct apilogin_msg *req);

/* The client went away: the login goes on (its outcome still counts) but answers nobody. */
void login_detach(struct login *l);

/* Whether name may be sent to an API at all: a valid name, not root, not in deny_users,
 * and (unless allow_local_users) not one of the local accounts. The one place that
 * decides it: AUTH, QUERY, ACCT and USER_ADD all ask here. */
struct apilogin_config;
struct localusers;
bool login_name_is_ours(const struct apilogin_config *cfg, struct localusers *local,
                        const char *name);

/* Whether a non-root caller with uid owns name: the remote user with that uid, or the
 * local account with it (read from the passwd file itself, not through NSS). Used for AUTH
 * and for ACCT from screen lockers. */
bool login_caller_owns(struct logins *ls, uid_t uid, const char *name);

/* Number of logins in flight. */
unsigned logins_in_flight(const struct logins *ls);
