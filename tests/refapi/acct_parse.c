/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* acct_parse.c: table-driven parsing of accounts-file entries (see acct_parse.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "acct_parse.h"

static const struct acct_field *field_find(const struct acct_field *f, const char *name)
{
        for (; f->name; f++)
                if (strcmp(f->name, name) == 0)
                        return f;
        return NULL;
}

static int parse_strv(const cJSON *arr, struct strv *sv, const char *where, const char *key)
{
        const cJSON *it;
        int n = cJSON_GetArraySize(arr);

        for (size_t i = 0; i < sv->n; i++)      /* a repeated key replaces the old list */
                free(sv->v[i]);
        free(sv->v);
        sv->n = 0;
        sv->v = calloc((size_t)n + 1, sizeof(char *));
        if (!sv->v)
                return -ENOMEM;
        cJSON_ArrayForEach(it, arr) {
                if (!cJSON_IsString(it)) {
                        fprintf(stderr, "refapi: %s: \"%s\" must hold only strings\n", where, key);
                        return -EINVAL;
                }
                sv->v[sv->n] = strdup(it->valuestring);
                if (!sv->v[sv->n])
                        return -ENOMEM;
                sv->n++;
        }
        return 0;
}

static int parse_value(const cJSON *v, const struct acct_field *f, char *dst, const char *where)
{
        bool ok = (f->type == AF_STR && cJSON_IsString(v)) ||
                  (f->type == AF_BOOL && cJSON_IsBool(v)) ||
                  (f->type == AF_STRV && cJSON_IsArray(v));

        if (!ok) {
                fprintf(stderr, "refapi: %s: \"%s\" must be a %s\n", where, f->name,
                        f->type == AF_STR ? "string" : f->type == AF_BOOL ? "boolean" : "array");
                return -EINVAL;
        }
        switch (f->type) {
        case AF_STR:
                free(*(char **)(dst + f->off));
                *(char **)(dst + f->off) = strdup(v->valuestring);
                return *(char **)(dst + f->off) ? 0 : -ENOMEM;
        case AF_BOOL:
                *(bool *)(dst + f->off) = cJSON_IsTrue(v);
                return 0;
        case AF_STRV:
                return parse_strv(v, (struct strv *)(dst + f->off), where, f->name);
        }
        return -EINVAL;
}

int acct_parse_entry(const cJSON *obj, const struct acct_field *fields, void *dst,
                     const char *where)
{
        const cJSON *it;
        const struct acct_field *f;
        int r;

        if (!cJSON_IsObject(obj)) {
                fprintf(stderr, "refapi: %s: must be an object\n", where);
                return -EINVAL;
        }
        cJSON_ArrayForEach(it, obj) {
                if (it->string[0] == '_')
                        continue;
                f = field_find(fields, it->string);
                if (!f) {
                        fprintf(stderr, "refapi: %s: unknown key \"%s\"\n", where, it->string);
                        return -EINVAL;
                }
                r = parse_value(it, f, dst, where);
                if (r < 0)
                        return r;
        }
        for (f = fields; f->name; f++)
                if (f->required && !cJSON_GetObjectItemCaseSensitive(obj, f->name)) {
                        fprintf(stderr, "refapi: %s: missing \"%s\"\n", where, f->name);
                        return -EINVAL;
                }
        return 0;
}

int acct_parse_section(const cJSON *root, const char *name, const struct acct_field *fields,
                       size_t elem_size, void **ret_arr, int *ret_n)
{
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, name), *it;
        char where[96];
        char *arr;
        int n = 0, r;

        *ret_arr = NULL;
        *ret_n = 0;
        if (!sec)
                return 0;
        if (!cJSON_IsArray(sec)) {
                fprintf(stderr, "refapi: \"%s\" must be an array\n", name);
                return -EINVAL;
        }
        arr = calloc((size_t)cJSON_GetArraySize(sec) + 1, elem_size);
        if (!arr)
                return -ENOMEM;
        *ret_arr = arr;
        cJSON_ArrayForEach(it, sec) {
                snprintf(where, sizeof(where), "%s[%d]", name, n);
                *ret_n = ++n;   /* count it first, so a half-parsed entry is freed too */
                r = acct_parse_entry(it, fields, arr + (size_t)(n - 1) * elem_size, where);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void free_entry(char *e, const struct acct_field *fields)
{
        for (const struct acct_field *f = fields; f->name; f++) {
                if (f->type == AF_STR) {
                        free(*(char **)(e + f->off));
                } else if (f->type == AF_STRV) {
                        struct strv *sv = (struct strv *)(e + f->off);

                        for (size_t i = 0; i < sv->n; i++)
                                free(sv->v[i]);
                        free(sv->v);
                }
        }
}

void acct_free_section(void *arr, int n, const struct acct_field *fields, size_t elem_size)
{
        for (int i = 0; arr && i < n; i++)
                free_entry((char *)arr + (size_t)i * elem_size, fields);
        free(arr);
}
