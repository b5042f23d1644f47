/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* names.h: which login names apilogin will handle at all. */
#pragma once

#include <stdbool.h>

/* True for a name apilogin may send to an API or put in the NSS cache: 1..APILOGIN_NAME_MAX
 * bytes of printable ASCII without whitespace, ':', '/', '\\', ',', quotes or '#', not
 * starting with '-' or '.', not "." or "..". Pure function. */
bool apilogin_name_valid(const char *name);

/* Locale-free ASCII case-insensitive equality (a non-ASCII difference is a difference:
 * another user). For the APIs that match names without case. */
bool apilogin_ascii_caseeq(const char *a, const char *b);

/* Whether name has an entry in the passwd file at path (normally "/etc/passwd"), read
 * directly so that NSS (and apilogin's own cache) is not consulted.
 * Returns 1 if present, 0 if not, -errno if the file cannot be read. */
int apilogin_name_in_passwd(const char *path, const char *name);
