/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry.h: the one list of login API drivers (registry.c), as the daemon, the config
 * parser's callers and `apilogind --list-keys` see it. */
#pragma once

#include <stdio.h>

#include "daemon/providers/driver.h"

/* The i-th driver's type, NULL past the last: the apilogin_types_fn to load a config with. */
const struct apilogin_type *apilogin_registry_type(size_t i);

/* The driver of type t (a provider's p->type), NULL for NULL. */
const struct apilogin_driver *apilogin_driver_find(const struct apilogin_type *t);

/* Every key the config may hold, one per line, tab-separated: section ("global",
 * "provider" for the common keys, or a type name), key, default ("-" if none) and its line
 * of documentation; the man page test compares the page with this list. */
void apilogin_registry_print_keys(FILE *f);

extern const struct apilogin_driver apilogin_driver_login_check;
extern const struct apilogin_driver apilogin_driver_token_login;
extern const struct apilogin_driver apilogin_driver_jsonrpc;
extern const struct apilogin_driver apilogin_driver_rest_login;
extern const struct apilogin_driver apilogin_driver_ws_auth;
extern const struct apilogin_driver apilogin_driver_oauth2_password;
