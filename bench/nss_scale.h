/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss_scale.h: the threaded and group rows of bench/nss_lookup (nss_scale.c). */
#pragma once

/* Lookups per second with 1, 2, 4 and 8 threads calling _nss_apilogin_getpwnam_r at once
 * over a cache of n users (user00000...), beside the same calls serialised behind one
 * mutex, as the module did before its lookups became lock-free. */
void nss_scale_threads(void *mod, unsigned n);

/* ns per getgrnam_r / getgrgid_r / initgroups_dyn, hit and miss, over the same cache. */
void nss_scale_group(void *mod, unsigned n, const char *group, unsigned gid);
