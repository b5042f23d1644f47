/* uidhash.h: the stable name -> uid mapping, identical on every host. */
#pragma once

#include <stdint.h>

/* uid for name inside [min, max] for collision attempt "attempt" (0 first, then 1, 2...).
 * Deterministic: FNV-1a 64 of the name, then of the attempt number, reduced into the range.
 * The daemon takes attempt 0 unless that uid already belongs to another name (or to a
 * local account), then 1, and so on. Pure function. */
uint32_t apilogin_uid_hash(const char *name, uint32_t min, uint32_t max, unsigned attempt);
