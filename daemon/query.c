/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* query.c: the QUERY request: is this name apilogin's for this service, and what does the
 * user type? The name is judged by login_name_is_ours, the same check AUTH makes, so the
 * prompt and the login never disagree. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "apilogind.h"
#include "dlog.h"
#include "login.h"
#include "names.h"
#include "provider.h"
#include "query.h"
#include "reply.h"
#include "users.h"

/* Whether the PAM service may use apilogin ([global] services; empty = every service), so
 * a sudo, cron or polkit stack that includes common-auth never prompts for a remote
 * password unless the administrator lists it. */
static bool service_allowed(const struct apilogin_config *cfg, const char *service)
{
        return cfg->services.n == 0 || apilogin_strv_contains(&cfg->services, service);
}

/* What the user types for a provider of this type (SPEC, "what the user types"): its
 * driver says, else a password. */
static const char *prompt_for(const struct apilogin_type *t)
{
        const struct apilogin_driver *d = apilogin_driver_find(t);

        return d && d->prompt ? d->prompt : "Password: ";
}

/* A non-root caller (a screen locker) learns about its own remote name only: any other
 * name is "not ours" to it, so QUERY cannot be used to sort names. */
static bool caller_may_ask(struct apilogind *d, uid_t caller, const char *user)
{
        const struct apilogin_user *u;

        if (caller == 0)
                return true;
        u = users_find(d->users, user);
        return u && u->uid == caller;
}

void query_handle(struct apilogind *d, uid_t caller, const struct apilogin_msg *m,
                  struct srv_reply *rep, char *text)
{
        const struct apilogin_config *cfg = d->cfg;
        const struct apilogin_provider_cfg *p;
        const char *name;

        if (!m->user || !m->service) {
                rep->outcome = APILOGIN_SERVICE_ERR;
                return;
        }
        if (!caller_may_ask(d, caller, m->user) || !service_allowed(cfg, m->service) ||
            !login_name_is_ours(cfg, d->local, m->user)) {
                dlog_debug("Query: user %s: not ours for this service",
                           apilogin_name_valid(m->user) ? m->user : "(invalid)");
                rep->outcome = APILOGIN_USER_UNKNOWN;
                return;
        }
        name = m->provider ? m->provider : cfg->providers.n ? cfg->providers.v[0] : "";
        p = apilogin_config_provider(cfg, name);
        if (!p) {
                dlog_err("Query names a provider the config does not have (see the module's "
                         "provider= argument)");
                rep->outcome = APILOGIN_SERVICE_ERR;
                return;
        }
        rep->outcome = APILOGIN_OK;
        snprintf(text, QUERY_PROMPT_MAX + 1, "%s", prompt_for(p->type));
        rep->has_timeout = true;
        rep->timeout_ms = (uint32_t)cfg->timeout_ms;
}
