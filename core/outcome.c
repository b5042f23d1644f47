/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* outcome.c: names and user-facing messages of login outcomes. */
#include "config.h"

#include "macro.h"
#include "outcome.h"

static const char *const names[_APILOGIN_OUTCOME_MAX] = {
        [APILOGIN_OK] = "ok",
        [APILOGIN_AUTH_ERR] = "auth_err",
        [APILOGIN_USER_UNKNOWN] = "user_unknown",
        [APILOGIN_ACCT_EXPIRED] = "acct_expired",
        [APILOGIN_PERM_DENIED] = "perm_denied",
        [APILOGIN_MAXTRIES] = "maxtries",
        [APILOGIN_UNAVAIL] = "unavailable",
        [APILOGIN_SERVICE_ERR] = "service_err",
        [APILOGIN_NEW_AUTHTOK] = "new_authtok_reqd",
        [APILOGIN_IGNORE] = "ignore",
};

static const char *const messages[_APILOGIN_OUTCOME_MAX] = {
        [APILOGIN_ACCT_EXPIRED] = "Your account is disabled at the login service.",
        [APILOGIN_PERM_DENIED] = "Your account is not allowed to log in here.",
        [APILOGIN_MAXTRIES] = "Too many attempts; try again later.",
        [APILOGIN_UNAVAIL] = "The login service is not reachable right now.",
        [APILOGIN_SERVICE_ERR] = "Login is misconfigured on this machine; contact the administrator.",
        [APILOGIN_NEW_AUTHTOK] = "Your password must be changed at the login service.",
};

const char *apilogin_outcome_name(int outcome)
{
        if (outcome < 0 || outcome >= _APILOGIN_OUTCOME_MAX)
                return "invalid";
        return names[outcome];
}

const char *apilogin_outcome_message(int outcome)
{
        if (outcome < 0 || outcome >= _APILOGIN_OUTCOME_MAX)
                return NULL;
        return messages[outcome];
}
