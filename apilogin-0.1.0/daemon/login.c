/* login.c: one AUTH request from the local checks to the providers' answer (see login.h).
 * A login is a small state machine driven by http callbacks: (provider, endpoint, step)
 * advance on every answer that is not definite, until one is or the deadline passes. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon/provider.h"
#include "daemon/users.h"
#include "dlog.h"
#include "lockout.h"
#include "login.h"
#include "loop.h"
#include "macro.h"
#include "names.h"
#include "secure.h"
#include "server.h"
#include "sessions.h"
#include "ws.h"

#define PASSWD_FILE "/etc/passwd"
#define RATE_SLOTS 64
#define GUARD_MS 1000 /* safety net after the deadline, should curl not have cut the transfer */

struct rate_slot {
        uid_t uid;
        uint64_t last_ms;
        bool used;
};

struct logins {
        struct apilogind *d;
        struct login *list;
        unsigned n;
        struct rate_slot rate[RATE_SLOTS];
};

struct login {
        struct logins *ls;
        struct login *prev, *next;
        struct client *client;            /* NULL once detached */
        struct cfg_box *cfgbox;           /* keeps prov[] valid across a reload */
        char *user, *secret, *service, *rhost;
        const struct apilogin_provider_cfg **prov;
        const struct apilogin_provider_cfg *tried; /* provider of the last request */
        size_t n_prov, pi, ui;            /* provider, endpoint (0 = url, then fallbacks) */
        unsigned step;
        char *cookie;                     /* from the previous step (secret) */
        uint64_t start_ms, deadline_ms;
        struct apilogin_http_xfer *xfer;
        struct apilogin_ws *ws;           /* instead of xfer for ws:// and wss:// endpoints */
        size_t n_unknown;                 /* providers whose driver did not know the name */
        struct loop_timer guard;
        struct apilogin_result res;
        char *answered;                   /* endpoint that answered, without query */
        char detail[96];                  /* our own reason, for the log line */
};

/* ---- the log line and the end of a login ------------------------------------------------ */

static const char *or_dash(const char *s)
{
        return s && *s ? s : "-";
}

static void log_login(const struct login *l, enum apilogin_outcome o)
{
        const struct apilogin_provider_cfg *p = l->tried;
        int level = o == APILOGIN_OK ? LOG_INFO
                    : o == APILOGIN_UNAVAIL || o == APILOGIN_SERVICE_ERR ? LOG_WARNING
                                                                         : LOG_NOTICE;

        dlog_auth(level, "auth user=%s service=%s rhost=%s provider=%s endpoint=%s outcome=%s "
                  "api_code=%s api_message=\"%s\" detail=\"%s\" elapsed_ms=%llu",
                  apilogin_name_valid(l->user) ? l->user : "(invalid)", or_dash(l->service),
                  or_dash(l->rhost), p ? p->name : "-", or_dash(l->answered),
                  apilogin_outcome_name(o), or_dash(l->res.api_code),
                  or_dash(l->res.api_message), or_dash(l->detail),
                  (unsigned long long)(apilogin_now_ms() - l->start_ms));
}

static void login_free(struct login *l)
{
        struct logins *ls = l->ls;

        if (l->xfer)
                apilogin_http_cancel(ls->d->http, l->xfer);
        apilogin_ws_cancel(l->ws);
        loop_timer_stop(ls->d->loop, &l->guard);
        if (l->prev)
                l->prev->next = l->next;
        else
                ls->list = l->next;
        if (l->next)
                l->next->prev = l->prev;
        ls->n--;
        apilogin_result_clear(&l->res);
        free(l->user);
        apilogin_erase_free(l->secret);
        free(l->service);
        free(l->rhost);
        free(l->prov);
        apilogin_erase_free(l->cookie);
        free(l->answered);
        cfg_box_unref(l->cfgbox);
        free(l);
}

/* The URL of the endpoint being tried (a config string). */
static const char *endpoint_url(const struct login *l)
{
        const struct apilogin_provider_cfg *p = l->prov[l->pi];

        return l->ui == 0 ? p->url : p->fallback_urls.v[l->ui - 1];
}

/* What a success leaves behind: the user entry, a reset lockout, the pending token. */
static enum apilogin_outcome record_success(struct login *l, uint32_t *ret_uid)
{
        struct apilogind *d = l->ls->d;
        const struct apilogin_provider_cfg *p = l->prov[l->pi];
        int r;

        r = users_record_login(d->users, l->user, l->res.display_name, l->res.role, p->name,
                               ret_uid);
        if (r < 0) {
                snprintf(l->detail, sizeof(l->detail), "users table: %s", strerror(-r));
                return APILOGIN_SERVICE_ERR;
        }
        r = lockout_reset(d->lockout, l->user);
        if (r < 0)
                dlog_warn("Failed to save the lockout file: %s, ignoring", strerror(-r));
        r = sessions_set_pending(d->sessions, l->user, *ret_uid, &l->res, p->name,
                                 endpoint_url(l));
        r = r ?: sessions_keep_secret(d->sessions, l->user, l->secret); /* re-login */
        if (r < 0)
                dlog_warn("Failed to keep the token of %s for its session: %s, ignoring",
                          l->user, strerror(-r));
        return APILOGIN_OK;
}

static void count_failure(struct login *l)
{
        const struct apilogin_config *cfg = l->cfgbox->cfg;
        int r;

        if (cfg->lockout_max == 0)
                return;
        r = lockout_fail(l->ls->d->lockout, l->user, cfg->lockout_window_s, time(NULL));
        if (r < 0)
                dlog_warn("Failed to save the lockout file: %s, ignoring", strerror(-r));
}

/* End the login: side effects, one log line, the reply, and free l. */
static void finish(struct login *l, enum apilogin_outcome o)
{
        struct srv_reply rep = { 0 };

        if (o == APILOGIN_OK)
                o = record_success(l, &rep.uid);
        else if (o == APILOGIN_AUTH_ERR)
                count_failure(l);
        log_login(l, o);
        if (l->client) {
                rep.outcome = o;
                rep.has_uid = o == APILOGIN_OK;
                server_reply(l->client, &rep);
        }
        login_free(l);
}

/* ---- talking to the providers ---------------------------------------------------------- */

static struct apilogin_login_in login_in(const struct login *l)
{
        return (struct apilogin_login_in){ .p = l->prov[l->pi], .url = endpoint_url(l),
                                           .user = l->user, .secret = l->secret,
                                           .step = l->step, .cookie = l->cookie };
}

static void next_endpoint(struct login *l)
{
        l->ui++;
        l->step = 0;
        l->cookie = apilogin_erase_free(l->cookie);
        if (l->ui > l->prov[l->pi]->fallback_urls.n) {
                l->pi++;
                l->ui = 0;
        }
}

static void on_response(void *userdata, struct apilogin_http_resp *resp);

/* Endpoints not tried yet, the current one included. */
static size_t endpoints_left(const struct login *l)
{
        size_t n = l->prov[l->pi]->fallback_urls.n + 1 - l->ui;

        for (size_t i = l->pi + 1; i < l->n_prov; i++)
                n += l->prov[i]->fallback_urls.n + 1;
        return n;
}

/* The deadline of one attempt: an equal share of the time left among the endpoints left,
 * so that a stalled first endpoint cannot eat the time of the ones behind it while the
 * whole login still never exceeds `timeout`. Later steps of a multi-step exchange and the
 * last endpoint get all that is left. */
static uint64_t attempt_deadline(const struct login *l)
{
        uint64_t now = apilogin_now_ms(), n = endpoints_left(l);

        if (l->step > 0 || n <= 1 || now >= l->deadline_ms)
                return l->deadline_ms;
        return now + (l->deadline_ms - now) / n;
}

/* Build and send the request for the current (provider, endpoint, step). 0 when in flight,
 * -EINVAL when the driver says the credentials can never be valid, other -errno when this
 * endpoint could not be used. */
static int send_step(struct login *l)
{
        const struct apilogin_provider_cfg *p = l->prov[l->pi];
        const struct apilogin_driver *drv = apilogin_driver_find(p->type);
        struct apilogin_login_in in = login_in(l);
        struct apilogin_http_req req = { 0 };
        int r;

        l->tried = p;
        if (!drv)
                return -EOPNOTSUPP;
        r = drv->login_request(&in, &req);
        if (r < 0) {
                apilogin_http_req_clear(&req);
                return r;
        }
        if (apilogin_ws_url(req.url))
                return apilogin_ws_start(l->ls->d->http, l->ls->d->loop, p, &req,
                                         attempt_deadline(l), on_response, l, &l->ws);
        return apilogin_http_start(l->ls->d->http, p, &req, attempt_deadline(l), on_response,
                                   l, &l->xfer);
}

/* The driver does not know the name (ws_auth: not in its users map): the provider's other
 * endpoints would not either, so go on with the next provider. */
static void next_provider(struct login *l)
{
        l->n_unknown++;
        l->pi++;
        l->ui = 0;
        l->step = 0;
        l->cookie = apilogin_erase_free(l->cookie);
}

/* Try endpoints until one is in flight (true), or finish and free l (false). */
static bool run(struct login *l)
{
        for (;;) {
                int r;

                if (l->pi >= l->n_prov) {
                        /* No provider knew the name: nothing was sent anywhere. */
                        bool unknown = l->n_prov > 0 && l->n_unknown == l->n_prov;

                        if (unknown)
                                snprintf(l->detail, sizeof(l->detail), "not in a users map");
                        finish(l, unknown ? APILOGIN_USER_UNKNOWN : APILOGIN_UNAVAIL);
                        return false;
                }
                if (apilogin_now_ms() >= l->deadline_ms) {
                        snprintf(l->detail, sizeof(l->detail), "timeout");
                        finish(l, APILOGIN_UNAVAIL);
                        return false;
                }
                r = send_step(l);
                if (r == 0)
                        return true;
                if (r == -ENOENT && l->step == 0) {
                        next_provider(l);
                        continue;
                }
                if (r == -EINVAL && l->step == 0) {
                        snprintf(l->detail, sizeof(l->detail), "refused by the %s driver",
                                 apilogin_ptype_name(l->prov[l->pi]->type));
                        finish(l, APILOGIN_AUTH_ERR);
                        return false;
                }
                dlog_warn("Failed to send a login request to %s (provider %s): %s",
                          endpoint_url(l), l->prov[l->pi]->name, strerror(-r));
                snprintf(l->detail, sizeof(l->detail), "request: %s", strerror(-r));
                next_endpoint(l);
        }
}

static void note_answered(struct login *l, const struct apilogin_http_resp *resp)
{
        const char *u = resp->url ? resp->url : endpoint_url(l);

        free(l->answered);
        l->answered = strndup(u, strcspn(u, "?#"));
}

/* The reply of one step: fail over, take another step, or finish. */
static void on_response(void *userdata, struct apilogin_http_resp *resp)
{
        struct login *l = userdata;
        const struct apilogin_driver *drv = apilogin_driver_find(l->prov[l->pi]->type);
        struct apilogin_login_in in = login_in(l);
        int r;

        l->xfer = NULL;
        l->ws = NULL;
        note_answered(l, resp);
        apilogin_result_clear(&l->res);
        if (resp->transport_error < 0 || resp->status >= 500) {
                if (resp->transport_error < 0)
                        snprintf(l->detail, sizeof(l->detail), "%s",
                                 strerror(-resp->transport_error));
                else
                        snprintf(l->detail, sizeof(l->detail), "HTTP %ld", resp->status);
                next_endpoint(l);
                (void)run(l);
                return;
        }
        r = drv->login_reply(&in, resp, &l->res);
        if (r < 0 || l->res.outcome == APILOGIN_UNAVAIL) {
                snprintf(l->detail, sizeof(l->detail), "%s (HTTP %ld)",
                         r < 0 ? strerror(-r) : "malformed or unusable reply", resp->status);
                next_endpoint(l);
                (void)run(l);
                return;
        }
        if (l->res.another_step) {
                l->step++;
                if (resp->set_cookie) {
                        apilogin_erase_free(l->cookie);
                        l->cookie = strdup(resp->set_cookie);
                }
                (void)run(l);
                return;
        }
        l->detail[0] = '\0';
        finish(l, l->res.outcome);
}

static void on_guard(void *userdata)
{
        struct login *l = userdata;

        snprintf(l->detail, sizeof(l->detail), "timeout");
        finish(l, APILOGIN_UNAVAIL);
}

/* ---- local checks ------------------------------------------------------------------------ */

/* Whether the local passwd file gives name the uid uid (read directly, not through NSS). */
static bool passwd_has(const char *name, uid_t uid)
{
        FILE *f = fopen(PASSWD_FILE, "re");
        struct passwd *pw;
        bool found = false;

        if (!f)
                return false;
        while (!found && (pw = fgetpwent(f)))
                found = strcmp(pw->pw_name, name) == 0 && pw->pw_uid == uid;
        fclose(f);
        return found;
}

/* A non-root caller may only authenticate its own name: the remote user with its uid, or
 * (with allow_local_users) the local account with its uid. */
static bool caller_owns(struct logins *ls, uid_t uid, const char *name)
{
        const struct apilogin_user *u = users_find(ls->d->users, name);

        return (u && u->uid == uid) || passwd_has(name, uid);
}

/* At most one AUTH per LOGIN_NONROOT_INTERVAL_MS per non-root uid. */
static bool rate_ok(struct logins *ls, uid_t uid)
{
        uint64_t now = apilogin_now_ms();
        struct rate_slot *slot = &ls->rate[0];

        for (size_t i = 0; i < RATE_SLOTS; i++) {
                struct rate_slot *s = &ls->rate[i];

                if (s->used && s->uid == uid) {
                        if (now - s->last_ms < LOGIN_NONROOT_INTERVAL_MS)
                                return false;
                        slot = s;
                        break;
                }
                if (!s->used || s->last_ms < slot->last_ms)
                        slot = s;
        }
        *slot = (struct rate_slot){ .uid = uid, .last_ms = now, .used = true };
        return true;
}

bool login_name_is_ours(const struct apilogin_config *cfg, const char *name)
{
        /* No provider configured (the config as shipped): no name is ours. */
        if (cfg->n_prov == 0 || !apilogin_name_valid(name) || strcmp(name, "root") == 0 ||
            apilogin_strv_contains(&cfg->deny_users, name))
                return false;
        if (cfg->allow_local_users)
                return true;
        /* A passwd file that can not be read can not prove the name is not local. */
        return apilogin_name_in_passwd(PASSWD_FILE, name) == 0;
}

/* The local verdict on a new login, or -1 to go on and ask the providers. */
static int local_verdict(struct login *l, uid_t caller)
{
        const struct apilogin_config *cfg = l->cfgbox->cfg;

        if (caller != 0 && !caller_owns(l->ls, caller, l->user)) {
                snprintf(l->detail, sizeof(l->detail), "caller uid %u may not check this name",
                         (unsigned)caller);
                return APILOGIN_PERM_DENIED;
        }
        if (caller != 0 && !rate_ok(l->ls, caller)) {
                snprintf(l->detail, sizeof(l->detail), "rate limit of uid %u", (unsigned)caller);
                return APILOGIN_MAXTRIES;
        }
        if (!login_name_is_ours(cfg, l->user)) {
                snprintf(l->detail, sizeof(l->detail), "not a remote user");
                return APILOGIN_USER_UNKNOWN;
        }
        if (users_check_new(l->ls->d->users, l->user) < 0) {
                snprintf(l->detail, sizeof(l->detail), "uid collision, see the log line above");
                return APILOGIN_SERVICE_ERR;
        }
        if (lockout_is_locked(l->ls->d->lockout, l->user, cfg->lockout_max,
                              cfg->lockout_window_s, time(NULL))) {
                snprintf(l->detail, sizeof(l->detail), "local lockout");
                return APILOGIN_MAXTRIES;
        }
        if (!l->secret[0]) {
                snprintf(l->detail, sizeof(l->detail), "empty secret");
                return APILOGIN_AUTH_ERR;
        }
        return -1;
}

/* The providers to try: the one the request names, else cfg->providers in order. */
static int pick_providers(struct login *l, const char *wanted)
{
        const struct apilogin_config *cfg = l->cfgbox->cfg;
        size_t n = wanted ? 1 : cfg->providers.n;

        l->prov = calloc(n ? n : 1, sizeof(*l->prov));
        if (!l->prov)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *name = wanted ? wanted : cfg->providers.v[i];
                const struct apilogin_provider_cfg *p = apilogin_config_provider(cfg, name);

                if (!p) {
                        snprintf(l->detail, sizeof(l->detail), "no provider '%.40s'", name);
                        return -ENOENT;
                }
                l->prov[l->n_prov++] = p;
        }
        return 0;
}

/* ---- entry points ------------------------------------------------------------------------- */

static struct login *login_new(struct logins *ls, struct client *c, const struct apilogin_msg *req)
{
        struct login *l = calloc(1, sizeof(*l));

        if (!l)
                return NULL;
        l->ls = ls;
        l->client = c;
        l->cfgbox = cfg_box_ref(ls->d->cfgbox);
        l->start_ms = apilogin_now_ms();
        l->deadline_ms = l->start_ms + l->cfgbox->cfg->timeout_ms;
        l->res = (struct apilogin_result){ .outcome = APILOGIN_UNAVAIL, .retry_after = -1 };
        loop_timer_init(&l->guard, on_guard, l);
        l->next = ls->list;
        if (ls->list)
                ls->list->prev = l;
        ls->list = l;
        ls->n++;
        l->user = strdup(req->user ? req->user : "");
        l->secret = strdup(req->secret ? req->secret : "");
        l->service = req->service ? strdup(req->service) : NULL;
        l->rhost = req->rhost ? strdup(req->rhost) : NULL;
        if (!l->user || !l->secret || (req->service && !l->service) ||
            (req->rhost && !l->rhost)) {
                login_free(l);
                return NULL;
        }
        return l;
}

struct login *login_start(struct logins *ls, struct client *c, const struct apilogin_msg *req)
{
        struct srv_reply rep = { .outcome = APILOGIN_SERVICE_ERR };
        struct login *l;
        int v;

        l = req->user && req->service ? login_new(ls, c, req) : NULL;
        if (!l) {
                server_reply(c, &rep);
                return NULL;
        }
        v = local_verdict(l, server_client_uid(c));
        if (v < 0 && pick_providers(l, req->provider) < 0)
                v = APILOGIN_SERVICE_ERR;
        if (v >= 0) {
                finish(l, (enum apilogin_outcome)v);
                return NULL;
        }
        if (loop_timer_set(ls->d->loop, &l->guard, l->deadline_ms + GUARD_MS) < 0) {
                finish(l, APILOGIN_SERVICE_ERR);
                return NULL;
        }
        return run(l) ? l : NULL;
}

void login_detach(struct login *l)
{
        if (l)
                l->client = NULL;
}

unsigned logins_in_flight(const struct logins *ls)
{
        return ls ? ls->n : 0;
}

int logins_new(struct apilogind *d, struct logins **ret)
{
        struct logins *ls = calloc(1, sizeof(*ls));

        if (!ls)
                return -ENOMEM;
        ls->d = d;
        *ret = ls;
        return 0;
}

struct logins *logins_free(struct logins *ls)
{
        if (!ls)
                return NULL;
        while (ls->list)
                login_free(ls->list);
        free(ls);
        return NULL;
}
