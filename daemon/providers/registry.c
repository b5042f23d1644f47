/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry.c: the login API drivers, listed once. Adding an API is adding its file under
 * daemon/providers/ and its line here (and in registry.h's externs). */
#include "config.h"

#include <stddef.h>

#include "daemon/providers/registry.h"

_Static_assert(offsetof(struct apilogin_driver, type) == 0,
               "a provider's type pointer is its driver's address");

static const struct apilogin_driver *const drivers[] = {
        &apilogin_driver_login_check,
        &apilogin_driver_token_login,
        &apilogin_driver_jsonrpc,
        &apilogin_driver_rest_login,
        &apilogin_driver_ws_auth,
        &apilogin_driver_oauth2_password,
};

const struct apilogin_type *apilogin_registry_type(size_t i)
{
        return i < sizeof(drivers) / sizeof(drivers[0]) ? &drivers[i]->type : NULL;
}

const struct apilogin_driver *apilogin_driver_find(const struct apilogin_type *t)
{
        return t ? apilogin_driver_of_type(t) : NULL;
}

static void print_keys(FILE *f, const char *section, const struct apilogin_key *keys, size_t n)
{
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s\t%s\t%s\t%s%s\n", section, keys[i].name,
                        keys[i].def ? keys[i].def : "-", keys[i].required ? "required: " : "",
                        keys[i].doc ? keys[i].doc : "");
}

void apilogin_registry_print_keys(FILE *f)
{
        const struct apilogin_key *keys;
        const struct apilogin_type *t;
        size_t n;

        keys = apilogin_config_global_keys(&n);
        print_keys(f, "global", keys, n);
        keys = apilogin_config_common_keys(&n);
        print_keys(f, "provider", keys, n);
        for (size_t i = 0; (t = apilogin_registry_type(i)); i++)
                print_keys(f, t->name, t->keys, t->n_keys);
}
