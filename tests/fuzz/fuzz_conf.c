/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_conf.c: libFuzzer target for the config parser (core/conf.c),
 * fed the input as the file apilogin.conf. A config that loads must be usable: every
 * provider it lists has its section, and freeing it is clean (ASan/LSan check). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon/providers/registry.h"
#include "fuzz_tmpfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct apilogin_config *cfg = NULL;
        char err[512];
        const char *path;
        int r;

        if (size > 64 * 1024)
                return 0;
        path = fuzz_tmpfile("conf", data, size);
        err[0] = '\0';
        r = apilogin_config_load(path, apilogin_registry_type, &cfg, err, sizeof(err));
        if (r < 0) {
                if (cfg || !memchr(err, '\0', sizeof(err)))
                        abort();
                return 0;
        }
        if (!cfg)
                abort();
        for (size_t i = 0; i < cfg->providers.n; i++) {
                const struct apilogin_provider_cfg *p =
                        apilogin_config_provider(cfg, cfg->providers.v[i]);

                if (!p || !p->type || !p->type->name || !p->name)
                        abort();
        }
        cfg = apilogin_config_free(cfg);
        return 0;
}
