/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* users_file.h: the users_file of pre-provisioned names ([global] users_file): one
 * "NAME [UID]" per line, '#' comments. Only read here; users.c provisions what it lists. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#include "localusers.h"

#define USERS_FILE_NO_PIN UINT32_MAX /* an entry's uid when the line pins none */

/* Read cfg->users_file into *ret (*ret_n entries): the names that may be provisioned, in
 * file order. A line that is malformed, names an invalid, denied or (unless
 * allow_local_users) local name, pins a uid outside uid_range, or repeats a name is
 * logged with file:line and skipped. 0, or -errno when the file cannot be read. Free
 * *ret with name_uids_free. */
int users_file_read(const struct apilogin_config *cfg, struct localusers *local,
                    struct name_uid **ret, size_t *ret_n);
