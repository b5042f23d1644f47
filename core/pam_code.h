/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_code.h: the one map from an outcome to the PAM code pam_apilogin returns for it, used
 * by the PAM module and by apiloginctl test-login (which prints it). */
#pragma once

/* The PAM code for outcome (PAM_SERVICE_ERR for one out of range); *ret_name, when not
 * NULL, gets its name as <security/_pam_types.h> spells it ("PAM_AUTH_ERR"). */
int apilogin_outcome_pam(int outcome, const char **ret_name);
