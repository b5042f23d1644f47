/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* outcome.h: the one vocabulary every provider driver, the daemon, the PAM module and the
 * CLI use for the result of a login. Each driver maps its API's own codes into it (one
 * table per driver); core/pam_code.h maps it to a PAM code. */
#pragma once

enum apilogin_outcome {
        APILOGIN_OK = 0,
        APILOGIN_AUTH_ERR = 1,     /* wrong credentials */
        APILOGIN_USER_UNKNOWN = 2, /* not apilogin's user (local, denied, unmapped) */
        APILOGIN_ACCT_EXPIRED = 3, /* account disabled / expired at the API */
        APILOGIN_PERM_DENIED = 4,  /* valid credentials but not allowed */
        APILOGIN_MAXTRIES = 5,     /* rate limit, remote or local lockout */
        APILOGIN_UNAVAIL = 6,      /* unreachable, timeout, 5xx, malformed reply */
        APILOGIN_SERVICE_ERR = 7,  /* bad config, request bug */
        APILOGIN_NEW_AUTHTOK = 8,  /* password must be changed at the provider */
        APILOGIN_IGNORE = 9,       /* account phase: not managed by apilogin */
        _APILOGIN_OUTCOME_MAX
};

/* Stable lower-case name of an outcome ("ok", "auth_err", ...); "invalid" if out of range. */
const char *apilogin_outcome_name(int outcome);

/* The short sentence shown to the person at the login prompt for an outcome, or NULL
 * when nothing should be shown. Never contains API text. */
const char *apilogin_outcome_message(int outcome);
