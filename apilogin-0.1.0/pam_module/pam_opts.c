/* pam_opts.c: parsing the module arguments of pam_apilogin.so. */
#include "config.h"

#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

#include "pam_opts.h"

void apilogin_pam_opts_parse(pam_handle_t *pamh, int flags, int argc, const char **argv,
                             struct apilogin_pam_opts *o)
{
        *o = (struct apilogin_pam_opts){ .config = APILOGIN_CONFIG_PATH };
        o->quiet = flags & PAM_SILENT;
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];

                if (strncmp(a, "config=", 7) == 0 && a[7] == '/')
                        o->config = a + 7;
                else if (strncmp(a, "provider=", 9) == 0 && a[9])
                        o->provider = a + 9;
                else if (strcmp(a, "debug") == 0)
                        o->debug = true;
                else if (strcmp(a, "use_first_pass") == 0 || strcmp(a, "try_first_pass") == 0)
                        continue; /* handled by pam_get_authtok */
                else
                        pam_syslog(pamh, LOG_WARNING, "Unknown module argument '%s', ignoring", a);
        }
}
