/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
#include "localusers.h"
#include "lockout.h"
#include "login.h"
#include "loop.h"
#include "macro.h"
#include "metrics.h"
#include "names.h"
#include "offline.h"
#include "secure.h"
#include "apilogind.h"
#include "reply.h"
#include "sessions.h"
#include "ws.h"
#include "ws_warm.h"

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
        struct requester who;             /* who.peer NULL once detached */
        uint32_t peer_pid;                /* of the caller (its pending login is bound to it) */
        struct cfg_box *cfgbox;           /* keeps prov[] valid across a reload */
        char *user, *secret, *service, *rhost;
        char *lkey;                       /* lockout key: user as the providers compare it */
        bool provider_said;               /* the outcome is a provider's answer */
        const struct apilogin_provider_cfg **prov;
        const struct apilogin_provider_cfg *tried; /* provider of the last request */
        size_t n_prov, pi, ui;            /* provider, endpoint (0 = url, then fallbacks) */
        unsigned step;
        struct apilogin_http_jar *jar;    /* the endpoint's cookies (uses_cookies), or NULL */
        uint64_t start_ms, deadline_ms;
        struct apilogin_http_xfer *xfer;
        struct apilogin_ws *ws;           /* instead of xfer for ws:// and wss:// endpoints */
        size_t n_unknown;                 /* providers whose driver did not know the name */
        struct loop_timer guard;
        struct apilogin_result res;
        char *answered;                   /* endpoint that answered, without query */
        char detail[96];                  /* our own reason, for the log line */
        struct offline_job *ojob;         /* a verifier check in flight (offline login) */
        bool ojob_final;                  /* ... deciding the login: every API unreachable */
        struct loop_timer budget;         /* offline_after */
        bool offline_answered;            /* succeeded offline; the online check goes on */
        bool test;                        /* apiloginctl test-login: stores nothing */
};

static void offline_release(struct login *l);
static void offline_after_finish(struct login *l, enum apilogin_outcome o);
static void offline_on_answer(struct login *l);
static bool offline_start_check(struct login *l, bool final);
static void offline_arm_budget(struct login *l);
static void on_budget(void *userdata);

/* ---- the log line and the end of a login ------------------------------------------------ */

static void log_login(const struct login *l, enum apilogin_outcome o)
{
        const struct apilogin_provider_cfg *p = l->tried;
        int level = o == APILOGIN_OK ? LOG_INFO
                    : o == APILOGIN_UNAVAIL || o == APILOGIN_SERVICE_ERR ? LOG_WARNING
                                                                         : LOG_NOTICE;

        /* Everything a client or an API sent is escaped (dlog_q): no forged fields. */
        dlog_auth(level, "auth user=%s service=%s rhost=%s provider=%s endpoint=%s outcome=%s "
                  "api_code=%s api_message=%s detail=%s elapsed_ms=%llu",
                  apilogin_name_valid(l->user) ? l->user : "(invalid)", dlog_q(l->service),
                  dlog_q(l->rhost), p ? p->name : "-", dlog_url(l->answered),
                  apilogin_outcome_name(o), dlog_q(l->res.api_code),
                  dlog_q(l->res.api_message), dlog_q(l->detail),
                  (unsigned long long)(apilogin_now_ms() - l->start_ms));
}

static void login_free(struct login *l)
{
        struct logins *ls = l->ls;

        if (l->xfer)
                apilogin_http_cancel(ls->d->http, l->xfer);
        apilogin_ws_cancel(l->ws);
        loop_timer_stop(ls->d->loop, &l->guard);
        offline_release(l);
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
        free(l->lkey);
        free(l->prov);
        apilogin_http_jar_free(l->jar); /* after the cancel: no transfer holds it */
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
static enum apilogin_outcome record_success(struct login *l, uint32_t *ret_uid,
                                            char *ret_handle)
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
        r = l->lkey ? lockout_reset(d->lockout, l->lkey, l->rhost) : 0;
        if (r < 0)
                dlog_warn("Failed to write the lockout journal: %s, ignoring", strerror(-r));
        r = sessions_set_pending(d->sessions, l->user, *ret_uid, &l->res, p->name,
                                 endpoint_url(l), l->peer_pid, ret_handle);
        r = r ?: sessions_keep_secret(d->sessions, l->user, l->secret); /* re-login */
        if (r < 0)
                dlog_warn("Failed to keep the token of %s for its session: %s, ignoring",
                          l->user, strerror(-r));
        return APILOGIN_OK;
}

/* Only a provider's "wrong password" counts: a refusal decided here (empty secret, sshd's
 * stand-in, a name that is not ours) tells a guesser nothing and must not be a weapon. */
static void count_failure(struct login *l)
{
        struct lockout_limits lim;
        int r;

        if (!l->provider_said || !l->lkey)
                return;
        lockout_limits_from_config(l->cfgbox->cfg, &lim);
        r = lockout_fail(l->ls->d->lockout, &lim, l->lkey, l->rhost, time(NULL));
        if (r == LOCKOUT_TABLE_FULL)
                dlog_warn("The lockout table is full of live counters: %s is not counted",
                          l->user);
        else if (r < 0)
                dlog_warn("Failed to write the lockout journal: %s, ignoring", strerror(-r));
}

/* A test login (apiloginctl test-login) succeeded: nothing is kept. The token it was
 * issued is logged out, and the uid is told only when the user has one already. */
static void test_success(struct login *l, struct srv_reply *rep)
{
        const struct apilogin_user *u = users_find(l->ls->d->users, l->user);

        sessions_logout_result(l->ls->d->sessions, l->user, &l->res, l->prov[l->pi]->name,
                               endpoint_url(l));
        rep->has_uid = u != NULL;
        rep->uid = u ? u->uid : 0;
}

/* What a test login tells apiloginctl besides the outcome: which provider and endpoint
 * answered, how long it took, and our reason (config words and our own text: no secret). */
static void test_report(const struct login *l, char *buf, size_t n)
{
        snprintf(buf, n, "provider=%s\nendpoint=%s\nelapsed_ms=%llu\ndetail=%s\n",
                 l->tried ? l->tried->name : "-", l->answered ? dlog_url(l->answered) : "-",
                 (unsigned long long)(apilogin_now_ms() - l->start_ms), l->detail);
}

/* End the login: side effects, one log line, the reply, and free l. A login answered
 * offline already was counted then. */
static void finish(struct login *l, enum apilogin_outcome o)
{
        struct srv_reply rep = { 0 };
        char text[512];

        if (o == APILOGIN_OK && l->test)
                test_success(l, &rep);
        else if (o == APILOGIN_OK)
                o = record_success(l, &rep.uid, rep.session);
        else if (o == APILOGIN_AUTH_ERR)
                count_failure(l); /* a test login too: it must not be a way to guess */
        if (!l->test)
                offline_after_finish(l, o);
        log_login(l, o);
        if (!l->offline_answered)
                metrics_login(l->ls->d->metrics, l->tried ? l->tried->name : NULL, o,
                              apilogin_now_ms() - l->start_ms, false);
        if (l->who.peer) {
                rep.outcome = o;
                if (!l->test)
                        rep.has_uid = o == APILOGIN_OK;
                if (l->test) {
                        test_report(l, text, sizeof(text));
                        rep.text = text;
                }
                l->who.reply(l->who.peer, &rep);
        }
        login_free(l);
}

/* Every provider unreachable: an offline decision when a verifier may give one. */
static void finish_unavail(struct login *l)
{
        if (l->test || !offline_start_check(l, true))
                finish(l, APILOGIN_UNAVAIL);
}

/* ---- talking to the providers ---------------------------------------------------------- */

static struct apilogin_login_in login_in(const struct login *l)
{
        return (struct apilogin_login_in){ .p = l->prov[l->pi], .url = endpoint_url(l),
                                           .user = l->user, .secret = l->secret,
                                           .step = l->step };
}

static void next_endpoint(struct login *l)
{
        l->ui++;
        l->step = 0;
        l->jar = apilogin_http_jar_free(l->jar); /* a new endpoint, a new session */
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
        if (r == 0 && drv->uses_cookies && !l->jar)
                r = apilogin_http_jar_new(&l->jar);
        if (r < 0) {
                apilogin_http_req_clear(&req);
                return r;
        }
        req.jar = l->jar;
        if (apilogin_ws_url(req.url))
                return apilogin_ws_warm_start(l->ls->d->http, l->ls->d->loop, p, &req,
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
        l->jar = apilogin_http_jar_free(l->jar);
}

/* Try endpoints until one is in flight (true), or finish and free l (false). */
static bool run(struct login *l)
{
        for (;;) {
                int r;

                if (l->pi >= l->n_prov) {
                        /* No provider knew the name: nothing was sent anywhere. */
                        bool unknown = l->n_prov > 0 && l->n_unknown == l->n_prov;

                        if (unknown) {
                                snprintf(l->detail, sizeof(l->detail), "not in a users map");
                                finish(l, APILOGIN_USER_UNKNOWN);
                        } else {
                                finish_unavail(l);
                        }
                        return false;
                }
                if (apilogin_now_ms() >= l->deadline_ms) {
                        snprintf(l->detail, sizeof(l->detail), "timeout");
                        finish_unavail(l);
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
                                 l->prov[l->pi]->type->name);
                        finish(l, APILOGIN_AUTH_ERR);
                        return false;
                }
                dlog_warn("Failed to send a login request to %s (provider %s): %s",
                          dlog_url(endpoint_url(l)), l->prov[l->pi]->name, strerror(-r));
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
                        snprintf(l->detail, sizeof(l->detail), "%s", resp->why ? resp->why :
                                 strerror(-resp->transport_error));
                else
                        snprintf(l->detail, sizeof(l->detail), "HTTP %ld", resp->status);
                if (resp->transport_error == 0)
                        metrics_api_error(l->ls->d->metrics, l->prov[l->pi]->name, NULL,
                                          resp->status);
                metrics_provider_seen(l->ls->d->metrics, l->prov[l->pi]->name, false, l->detail);
                next_endpoint(l);
                (void)run(l);
                return;
        }
        r = drv->login_reply(&in, resp, &l->res);
        if (r < 0 || l->res.outcome == APILOGIN_UNAVAIL) {
                snprintf(l->detail, sizeof(l->detail), "%s (HTTP %ld)",
                         r < 0 ? strerror(-r) : resp->why ? resp->why :
                         "malformed or unusable reply", resp->status);
                metrics_provider_seen(l->ls->d->metrics, l->prov[l->pi]->name, false, l->detail);
                next_endpoint(l);
                (void)run(l);
                return;
        }
        if (l->res.another_step) {
                l->step++; /* the jar has the cookies of this answer */
                (void)run(l);
                return;
        }
        l->detail[0] = '\0';
        l->provider_said = true;
        metrics_provider_seen(l->ls->d->metrics, l->prov[l->pi]->name, true, NULL);
        if (l->res.outcome != APILOGIN_OK)
                metrics_api_error(l->ls->d->metrics, l->prov[l->pi]->name, l->res.api_code,
                                  resp->status);
        if (!l->test)
                offline_on_answer(l);
        finish(l, l->res.outcome);
}

static void on_guard(void *userdata)
{
        struct login *l = userdata;

        if (l->ojob && l->ojob_final)
                return; /* the offline decision is being made */
        snprintf(l->detail, sizeof(l->detail), "timeout");
        finish_unavail(l);
}

/* ---- local checks ------------------------------------------------------------------------ */

/* A non-root caller may only authenticate its own name: the remote user with its uid, or
 * (with allow_local_users) the local account with its uid. */
bool login_caller_owns(struct logins *ls, uid_t uid, const char *name)
{
        const struct apilogin_user *u = users_find(ls->d->users, name);

        if (u && u->uid == uid)
                return true;
        localusers_refresh(ls->d->local);
        return localusers_has(ls->d->local, name, uid);
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

bool login_name_is_ours(const struct apilogin_config *cfg, struct localusers *local,
                        const char *name)
{
        /* No provider configured (the config as shipped): no name is ours. */
        if (cfg->n_prov == 0 || !apilogin_name_valid(name) || strcmp(name, "root") == 0 ||
            apilogin_strv_contains(&cfg->deny_users, name))
                return false;
        if (cfg->allow_local_users)
                return true;
        /* A passwd file that can not be read can not prove the name is not local. */
        localusers_refresh(local);
        return localusers_has_name(local, name) == 0;
}

/* The local verdict on a new login, or -1 to go on and ask the providers. */
static int local_verdict(struct login *l, uid_t caller)
{
        const struct apilogin_config *cfg = l->cfgbox->cfg;

        if (caller != 0 && !login_caller_owns(l->ls, caller, l->user)) {
                snprintf(l->detail, sizeof(l->detail), "caller uid %u may not check this name",
                         (unsigned)caller);
                return APILOGIN_PERM_DENIED;
        }
        if (caller != 0 && !rate_ok(l->ls, caller)) {
                snprintf(l->detail, sizeof(l->detail), "rate limit of uid %u", (unsigned)caller);
                return APILOGIN_MAXTRIES;
        }
        if (!login_name_is_ours(cfg, l->ls->d->local, l->user)) {
                snprintf(l->detail, sizeof(l->detail), "not a remote user");
                return APILOGIN_USER_UNKNOWN;
        }
        if (users_check_new(l->ls->d->users, l->user) < 0) {
                snprintf(l->detail, sizeof(l->detail), "uid collision, see the log line above");
                return APILOGIN_SERVICE_ERR;
        }
        if (!l->secret[0]) {
                snprintf(l->detail, sizeof(l->detail), "empty secret");
                return APILOGIN_AUTH_ERR;
        }
        if (strpbrk(l->secret, "\b\n\r\177")) {
                snprintf(l->detail, sizeof(l->detail), "control characters in the secret");
                return APILOGIN_AUTH_ERR;
        }
        return -1;
}

/* The lockout verdict, once the providers are known: their types say whether the name's
 * counters fold case. -1 to go on. */
static int lockout_verdict(struct login *l)
{
        struct lockout_limits lim;
        bool fold = false;

        for (size_t i = 0; i < l->n_prov; i++)
                fold |= lockout_type_folds_case(l->prov[i]->type);
        l->lkey = lockout_key(l->user, fold);
        if (!l->lkey)
                return APILOGIN_SERVICE_ERR;
        lockout_limits_from_config(l->cfgbox->cfg, &lim);
        switch (lockout_check(l->ls->d->lockout, &lim, l->lkey, l->rhost, time(NULL))) {
        case LOCKOUT_SOURCE:
                snprintf(l->detail, sizeof(l->detail), "local lockout of this name from rhost");
                return APILOGIN_MAXTRIES;
        case LOCKOUT_NAME:
                snprintf(l->detail, sizeof(l->detail), "local lockout of this name");
                return APILOGIN_MAXTRIES;
        default:
                return -1;
        }
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

/* ---- offline login (offline_login, offline_after; see offline.h) --------------------- */

/* Whether a verifier accepted by provider name may decide this login: the provider is one
 * this login asks, and offline login is on for it. */
static bool offline_allowed(const struct login *l, const char *name)
{
        for (size_t i = 0; i < l->n_prov; i++)
                if ((!name || strcmp(l->prov[i]->name, name) == 0) &&
                    apilogin_config_offline(l->cfgbox->cfg, l->prov[i]))
                        return true;
        return false;
}

static void offline_release(struct login *l)
{
        loop_timer_stop(l->ls->d->loop, &l->budget);
        offline_job_cancel(l->ojob);
        l->ojob = NULL;
}

static void on_saved(void *userdata, int r, const char *provider)
{
        char *user = userdata;

        (void)provider;
        if (r < 0)
                dlog_warn("Failed to save the offline verifier of %s: %s, ignoring", user,
                          strerror(-r));
        free(user);
}

/* After an online success: keep a fresh verifier (in a worker: the hash is slow). */
static void offline_save_verifier(struct login *l)
{
        const struct apilogin_provider_cfg *p = l->prov[l->pi];
        char *user;
        int r;

        if (!apilogin_config_offline(l->cfgbox->cfg, p) || !(user = strdup(l->user)))
                return;
        r = offline_job_start(l->ls->d->loop, OFFLINE_OP_SAVE, l->cfgbox->cfg->state_dir, l->user,
                              p->name, l->secret, 0, on_saved, user, NULL);
        if (r < 0)
                on_saved(user, r, NULL);
}

/* A definite answer: "wrong password" and "disabled" also delete the user's verifier. */
static void offline_on_answer(struct login *l)
{
        int r;

        if (l->res.outcome != APILOGIN_AUTH_ERR && l->res.outcome != APILOGIN_ACCT_EXPIRED)
                return;
        r = offline_delete(l->cfgbox->cfg->state_dir, l->user);
        if (r < 0)
                dlog_warn("Failed to delete the offline verifier of %s: %s, ignoring", l->user,
                          strerror(-r));
}

/* The end of a login that was answered offline already, or of any online success. */
static void offline_after_finish(struct login *l, enum apilogin_outcome o)
{
        struct sessions *s = l->ls->d->sessions;

        if (o == APILOGIN_OK) {
                offline_save_verifier(l);
                if (l->offline_answered)
                        sessions_online_again(s, l->user);
        } else if (l->offline_answered &&
                   (o == APILOGIN_AUTH_ERR || o == APILOGIN_ACCT_EXPIRED)) {
                sessions_remote_revoked(s, l->user, o == APILOGIN_AUTH_ERR
                                                            ? "the API refused its password"
                                                            : "the API says it is disabled");
        }
}

/* A verifier matched: the user is logged in offline, its session has no token until an
 * API is reachable again. Replies; false (nothing sent) when that cannot be done. */
static bool offline_reply(struct login *l, const char *provider)
{
        struct apilogind *d = l->ls->d;
        const struct apilogin_user *u = users_find(d->users, l->user);
        struct srv_reply rep = { .outcome = APILOGIN_OK, .has_uid = true };
        int r;

        if (!u) {
                snprintf(l->detail, sizeof(l->detail), "offline: not in the users table");
                return false;
        }
        rep.uid = u->uid;
        r = l->lkey ? lockout_reset(d->lockout, l->lkey, l->rhost) : 0;
        if (r < 0)
                dlog_warn("Failed to write the lockout journal: %s, ignoring", strerror(-r));
        r = sessions_set_pending_offline(d->sessions, l->user, u->uid, provider, l->secret,
                                         l->peer_pid, rep.session);
        if (r < 0)
                dlog_warn("Failed to keep the offline login of %s for its session: %s, ignoring",
                          l->user, strerror(-r));
        snprintf(l->detail, sizeof(l->detail), "offline login (verifier of provider %s)%s",
                 provider, l->ojob_final ? "" : ", online check goes on");
        log_login(l, APILOGIN_OK);
        metrics_login(d->metrics, provider, APILOGIN_OK, apilogin_now_ms() - l->start_ms, true);
        l->offline_answered = true;
        if (l->who.peer)
                l->who.reply(l->who.peer, &rep);
        l->who.peer = NULL;
        return true;
}

static const char *offline_why(int r)
{
        switch (r) {
        case -ENOENT: return "offline: no verifier";
        case -ESTALE: return "offline: last online login older than offline_max_age";
        case -EBADMSG: return "offline: verifier file corrupt";
        case -EACCES: return "offline: wrong secret";
        default: return "offline: verifier unusable";
        }
}

static void on_checked(void *userdata, int r, const char *provider)
{
        struct login *l = userdata;
        bool final = l->ojob_final;

        l->ojob = NULL;
        if (r == -EBADMSG)
                dlog_warn("Refusing the corrupt offline verifier of %s", l->user);
        else if (r < 0 && r != -ENOENT && r != -ESTALE && r != -EACCES)
                dlog_warn("Failed to check the offline verifier of %s: %s", l->user,
                          strerror(-r));
        if (r == 0 && !offline_allowed(l, provider))
                r = -EPERM;
        if (!final) {
                /* The budget ran out: only a match answers; else the APIs still may. */
                if (r == 0)
                        (void)offline_reply(l, provider);
                return;
        }
        if (r == 0 && offline_reply(l, provider)) {
                login_free(l);
                return;
        }
        if (r < 0)
                snprintf(l->detail, sizeof(l->detail), "%s", offline_why(r));
        finish(l, r == -EACCES ? APILOGIN_AUTH_ERR : APILOGIN_UNAVAIL);
}

/* Start checking the verifier: final (every API unreachable: the check decides) or at the
 * budget (a match answers at once). Returns whether a check is under way. */
static bool offline_start_check(struct login *l, bool final)
{
        const struct apilogin_config *cfg = l->cfgbox->cfg;
        int r;

        if (l->offline_answered || !offline_allowed(l, NULL))
                return false;
        offline_job_cancel(l->ojob);
        l->ojob = NULL;
        l->ojob_final = final;
        r = offline_job_start(l->ls->d->loop, OFFLINE_OP_CHECK, cfg->state_dir, l->user, NULL,
                              l->secret, cfg->offline_max_age_s, on_checked, l, &l->ojob);
        if (r < 0) {
                dlog_warn("Failed to start checking the offline verifier of %s: %s", l->user,
                          strerror(-r));
                return false;
        }
        return true;
}

static void on_budget(void *userdata)
{
        struct login *l = userdata;

        if (!l->ojob)
                (void)offline_start_check(l, false);
}

/* offline_after: no definite answer by then, and a verifier that matches, succeed. */
static void offline_arm_budget(struct login *l)
{
        const struct apilogin_config *cfg = l->cfgbox->cfg;

        if (l->test || cfg->offline_after_ms == 0 || cfg->offline_after_ms >= cfg->timeout_ms ||
            !offline_allowed(l, NULL))
                return;
        if (loop_timer_set(l->ls->d->loop, &l->budget, l->start_ms + cfg->offline_after_ms) < 0)
                dlog_warn("Failed to arm the offline_after budget of a login of %s, ignoring",
                          l->user);
}

/* ---- entry points ------------------------------------------------------------------------- */

static struct login *login_new(struct logins *ls, const struct requester *who,
                               const struct apilogin_msg *req)
{
        struct login *l = calloc(1, sizeof(*l));

        if (!l)
                return NULL;
        l->ls = ls;
        l->who = *who;
        l->test = req->type == APILOGIN_REQ_TEST_LOGIN;
        l->peer_pid = (uint32_t)who->pid;
        l->cfgbox = cfg_box_ref(ls->d->cfgbox);
        l->start_ms = apilogin_now_ms();
        l->deadline_ms = l->start_ms + l->cfgbox->cfg->timeout_ms;
        l->res = (struct apilogin_result){ .outcome = APILOGIN_UNAVAIL, .retry_after = -1 };
        loop_timer_init(&l->guard, on_guard, l);
        loop_timer_init(&l->budget, on_budget, l);
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

struct login *login_start(struct logins *ls, const struct requester *who,
                          const struct apilogin_msg *req)
{
        struct srv_reply rep = { .outcome = APILOGIN_SERVICE_ERR };
        struct login *l;
        int v;

        l = req->user && req->service ? login_new(ls, who, req) : NULL;
        if (!l) {
                who->reply(who->peer, &rep);
                return NULL;
        }
        v = local_verdict(l, who->uid);
        if (v < 0 && pick_providers(l, req->provider) < 0)
                v = APILOGIN_SERVICE_ERR;
        if (v < 0)
                v = lockout_verdict(l);
        if (v >= 0) {
                finish(l, (enum apilogin_outcome)v);
                return NULL;
        }
        if (loop_timer_set(ls->d->loop, &l->guard, l->deadline_ms + GUARD_MS) < 0) {
                finish(l, APILOGIN_SERVICE_ERR);
                return NULL;
        }
        offline_arm_budget(l);
        return run(l) ? l : NULL;
}

void login_detach(struct login *l)
{
        if (l)
                l->who.peer = NULL;
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
