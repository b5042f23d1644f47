/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uidhash.h: the stable name -> uid mapping, identical on every host. */
#pragma once

#include <stdint.h>

/* uid for name inside [min, max] for collision attempt "attempt" (0 first, then 1, 2...).
 * Deterministic: FNV-1a 64 of the name, then of the attempt number, reduced into the range.
 * The daemon uses attempt 0 (or a uid pinned in users_file) and refuses a name whose uid is
 * already held by another name, a local account or a removed user, so that a name has
 * the same uid on every host. Pure function. */
uint32_t apilogin_uid_hash(const char *name, uint32_t min, uint32_t max, unsigned attempt);
