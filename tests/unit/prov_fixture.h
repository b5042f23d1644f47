/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* prov_fixture.h: a driver's own config for unit tests, built through the driver's key
 * table exactly as the parser builds it (apilogin_type_conf_new): tests never poke at a
 * driver's private struct. Include after cmocka.h and daemon/provider.h. */
#pragma once

#include <stdarg.h>

/* The conf of driver d with the "key", "value" pairs given (NULL ends them); fails the
 * test on any error. Free with apilogin_type_conf_free(&d->type, conf). */
static inline void *prov_conf(const struct apilogin_driver *d, ...)
{
        const char *kv[17] = { 0 };
        char err[512];
        void *conf = NULL;
        size_t n = 0;
        va_list ap;

        va_start(ap, d);
        while (n < 16 && (kv[n] = va_arg(ap, const char *)))
                n++;
        va_end(ap);
        if (apilogin_type_conf_new(&d->type, kv, &conf, err, sizeof(err)) < 0)
                fail_msg("prov_conf(%s): %s", d->type.name, err);
        return conf;
}
