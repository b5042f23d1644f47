/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_opts.c: parsing the module arguments of pam_apilogin.so. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

#include "pam_opts.h"

/* socket= wins over config= whatever their order; config= is read once, at the end. */
static void resolve_socket(pam_handle_t *pamh, struct apilogin_pam_opts *o,
                           const char *socket_arg, const char *config_arg)
{
        int r;

        if (socket_arg && strlen(socket_arg) < sizeof(o->socket)) {
                strcpy(o->socket, socket_arg);
                return;
        }
        if (socket_arg)
                pam_syslog(pamh, LOG_WARNING, "socket= path too long, ignoring it");
        strcpy(o->socket, APILOGIN_SOCKET_DEFAULT);
        if (!config_arg)
                return;
        r = apilogin_socket_from_config(config_arg, o->socket, sizeof(o->socket));
        if (r < 0) {
                strcpy(o->socket, APILOGIN_SOCKET_DEFAULT);
                pam_debug(pamh, o, "no socket key read from %s (%s), using %s", config_arg,
                          strerror(-r), o->socket);
        }
}

void apilogin_pam_opts_parse(pam_handle_t *pamh, int flags, int argc, const char **argv,
                             struct apilogin_pam_opts *o)
{
        const char *socket_arg = NULL, *config_arg = NULL;

        *o = (struct apilogin_pam_opts){ .quiet = flags & PAM_SILENT };
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];

                if (strncmp(a, "socket=", 7) == 0 && a[7] == '/')
                        socket_arg = a + 7;
                else if (strncmp(a, "config=", 7) == 0 && a[7] == '/')
                        config_arg = a + 7;
                else if (strncmp(a, "provider=", 9) == 0 && a[9])
                        o->provider = a + 9;
                else if (strcmp(a, "debug") == 0)
                        o->debug = true;
                else if (strcmp(a, "use_first_pass") == 0 || strcmp(a, "try_first_pass") == 0)
                        continue; /* handled by pam_get_authtok */
                else
                        pam_syslog(pamh, LOG_WARNING, "Unknown module argument '%s', ignoring", a);
        }
        resolve_socket(pamh, o, socket_arg, config_arg);
}
