/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_code.c: outcomes as PAM codes (contract in pam_code.h). */
#include "config.h"

#include <security/_pam_types.h>

#include "outcome.h"
#include "pam_code.h"

int apilogin_outcome_pam(int outcome, const char **ret_name)
{
        static const struct {
                const char *name;
                int num;
        } map[_APILOGIN_OUTCOME_MAX] = {
                [APILOGIN_OK] = { "PAM_SUCCESS", PAM_SUCCESS },
                [APILOGIN_AUTH_ERR] = { "PAM_AUTH_ERR", PAM_AUTH_ERR },
                [APILOGIN_USER_UNKNOWN] = { "PAM_USER_UNKNOWN", PAM_USER_UNKNOWN },
                [APILOGIN_ACCT_EXPIRED] = { "PAM_ACCT_EXPIRED", PAM_ACCT_EXPIRED },
                [APILOGIN_PERM_DENIED] = { "PAM_PERM_DENIED", PAM_PERM_DENIED },
                [APILOGIN_MAXTRIES] = { "PAM_MAXTRIES", PAM_MAXTRIES },
                [APILOGIN_UNAVAIL] = { "PAM_AUTHINFO_UNAVAIL", PAM_AUTHINFO_UNAVAIL },
                [APILOGIN_SERVICE_ERR] = { "PAM_SERVICE_ERR", PAM_SERVICE_ERR },
                [APILOGIN_NEW_AUTHTOK] = { "PAM_NEW_AUTHTOK_REQD", PAM_NEW_AUTHTOK_REQD },
                [APILOGIN_IGNORE] = { "PAM_IGNORE", PAM_IGNORE },
        };

        if (outcome < 0 || outcome >= _APILOGIN_OUTCOME_MAX)
                outcome = APILOGIN_SERVICE_ERR;
        if (ret_name)
                *ret_name = map[outcome].name;
        return map[outcome].num;
}
