/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* acct_parse.h: a table-driven parser for the entries of the accounts file.
 *
 * Each section describes its entry struct with a NULL-terminated array of struct
 * acct_field; acct_parse_section() turns a JSON array of objects into a calloc'd
 * array of those structs, rejecting wrong types, unknown keys (keys starting with
 * "_" are comments and skipped) and missing required keys.
 */
#ifndef REFAPI_ACCT_PARSE_H
#define REFAPI_ACCT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

enum acct_ftype {
        AF_STR,         /* char *, strdup'd */
        AF_BOOL,        /* bool */
        AF_STRV,        /* struct strv, from an array of strings */
};

struct acct_field {
        const char *name;
        enum acct_ftype type;
        size_t off;
        bool required;
};

/* Parses obj into the struct at dst.  where names the entry in error messages.
 * Prints the problem to stderr and returns -EINVAL, or -ENOMEM. */
int acct_parse_entry(const cJSON *obj, const struct acct_field *fields, void *dst,
                     const char *where);

/* Parses the array root[name] (absent = empty) into *ret_arr / *ret_n. */
int acct_parse_section(const cJSON *root, const char *name, const struct acct_field *fields,
                       size_t elem_size, void **ret_arr, int *ret_n);

/* Frees the strings of n entries of arr and arr itself. */
void acct_free_section(void *arr, int n, const struct acct_field *fields, size_t elem_size);

#endif
