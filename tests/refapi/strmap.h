/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strmap.h: a fixed-size open-addressing map from string to int index (account lookups).
 * Built once at load time, then read concurrently without locks. */
#ifndef REFAPI_STRMAP_H
#define REFAPI_STRMAP_H

#include <stddef.h>

#include "accounts.h"

/* Sizes m for n keys.  Returns 0 or -ENOMEM. */
int strmap_init(struct strmap *m, size_t n);

/* Adds a copy of key with value idx.  Returns 0, -EEXIST or -ENOMEM. */
int strmap_add(struct strmap *m, const char *key, int idx);

/* Returns the value of key, or -1. */
int strmap_find(const struct strmap *m, const char *key);

void strmap_free(struct strmap *m);

#endif
