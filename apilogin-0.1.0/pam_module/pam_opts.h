/* pam_opts.h: the module arguments of pam_apilogin.so and the local policy it reads. */
#pragma once

#include <stdbool.h>
#include <security/pam_modules.h>

struct apilogin_pam_opts {
        const char *config;   /* config=PATH, default APILOGIN_CONFIG_PATH */
        const char *provider; /* provider=NAME, passed to the daemon */
        bool debug;
        bool quiet;           /* PAM_SILENT: no messages to the user */
};

/* Fill o from flags and argv. Unknown arguments are logged and ignored; use_first_pass and
 * try_first_pass are understood by pam_get_authtok itself. Never fails. */
void apilogin_pam_opts_parse(pam_handle_t *pamh, int flags, int argc, const char **argv,
                             struct apilogin_pam_opts *o);

#define pam_debug(pamh, o, ...)                                      \
        do {                                                         \
                if ((o)->debug)                                      \
                        pam_syslog((pamh), LOG_DEBUG, __VA_ARGS__);  \
        } while (0)
