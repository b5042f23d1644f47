/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* refresh.c: background renewal of every user's token (see refresh.h). A job is a small
 * state machine: a timer fires, one request goes out (refresh, keep-alive or one step of
 * a re-login), its answer either replaces the token and plans the next renewal, or plans
 * a retry, or ends the token's renewals. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "apilogind.h"
#include "daemon/http.h"
#include "daemon/provider.h"
#include "dlog.h"
#include "keyring.h"
#include "loop.h"
#include "metrics.h"
#include "macro.h"
#include "refresh.h"
#include "secure.h"
#include "tokenfile.h"
#include "ws.h"

enum how {
        HOW_NONE,    /* no way to renew: mark expired at the expiry */
        HOW_REFRESH, /* the driver's refresh_request (refresh call or keep-alive) */
        HOW_RELOGIN, /* the driver's login_request with the kept secret */
};

enum act {
        ACT_RENEW,   /* the timer starts a renewal */
        ACT_EXPIRE,  /* the timer marks the token expired */
};

struct refresh {
        struct apilogind *d;
        struct keyring *kr;
        uint64_t keepalive_ms;
        uint64_t extra_life_ms;      /* APILOGIND_EXTRA_TOKEN_S, 0: the drivers' own */
        uint64_t rnd_state;
        size_t jobs, in_flight;
        uint64_t renewed, failed, expired;
        refresh_revoke_fn revoke_fn;  /* on_remote_revoke (sessions.c); may be NULL */
        void *revoke_data;
        struct refresh_lane *lanes;   /* one per provider seen, kept until the end */
        struct loop_timer kick;       /* due now when a lane with waiters has room */
};

struct refresh_job {
        struct refresh *rf;
        struct user_state *u;
        struct loop_timer timer;
        enum act act;
        enum how how;                /* of the attempt in flight */
        unsigned failures;           /* consecutive failed attempts */
        size_t url_i;                /* re-login: which of the provider's URLs */
        unsigned step;               /* re-login: step of a multi-step login */
        struct apilogin_http_jar *jar; /* re-login: the cookies of its steps (uses_cookies) */
        struct cfg_box *cfgbox;      /* held while a request is in flight */
        const struct apilogin_provider_cfg *p;
        struct apilogin_http_xfer *xfer;
        struct apilogin_ws *ws;
        struct refresh_lane *lane;   /* whose place the request in flight holds */
        struct refresh_waiter wait;  /* due, waiting for its provider's turn */
        bool warned;                 /* this run of failures has been logged */
};

/* ---- pure rules ------------------------------------------------------------------------ */

int64_t refresh_due_ms(int64_t issued_ms, int64_t expires_ms, int64_t now_ms, double rnd)
{
        int64_t life, due, spread;

        if (issued_ms <= 0 || issued_ms >= expires_ms)
                issued_ms = now_ms < expires_ms ? now_ms : expires_ms;
        life = expires_ms - issued_ms;
        due = issued_ms + (int64_t)((double)life *
                                    (REFRESH_AT_MIN + (REFRESH_AT_MAX - REFRESH_AT_MIN) * rnd));
        if (due > now_ms)
                return due;
        spread = life / 20 < REFRESH_SPREAD_MAX_MS ? life / 20 : REFRESH_SPREAD_MAX_MS;
        return now_ms + (int64_t)((double)spread * rnd);
}

int64_t refresh_extra_due_ms(int64_t issued_ms, int64_t lifetime_ms, int64_t now_ms, double rnd)
{
        int64_t due;

        if (issued_ms > 0 && issued_ms <= now_ms) {
                due = issued_ms + (int64_t)((double)lifetime_ms *
                                            (REFRESH_EXTRA_AT_MIN +
                                             (REFRESH_EXTRA_AT_MAX - REFRESH_EXTRA_AT_MIN) * rnd));
                if (due > now_ms)
                        return due;
        }
        return now_ms + (int64_t)((double)(lifetime_ms / 20) * rnd);
}

uint64_t refresh_backoff_ms(unsigned n, double rnd)
{
        uint64_t b = REFRESH_BACKOFF_MIN_MS;

        for (unsigned i = 1; i < n && b < REFRESH_BACKOFF_MAX_MS; i++)
                b *= 2;
        if (b > REFRESH_BACKOFF_MAX_MS)
                b = REFRESH_BACKOFF_MAX_MS;
        return (uint64_t)((double)b * (0.8 + 0.4 * rnd));
}

/* xorshift64*: jitter needs spread, not secrecy. */
static double rnd(struct refresh *rf)
{
        uint64_t x = rf->rnd_state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        rf->rnd_state = x;
        return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* ---- lanes: turns per provider ----------------------------------------------------------- */

bool refresh_lane_admit(struct refresh_lane *l, struct refresh_waiter *w)
{
        if (!l->head && l->in_flight < REFRESH_LANE_MAX)
                return true;
        w->lane = l;
        w->next = NULL;
        w->prev = l->tail;
        if (l->tail)
                l->tail->next = w;
        else
                l->head = w;
        l->tail = w;
        l->n_waiting++;
        return false;
}

void refresh_lane_leave(struct refresh_waiter *w)
{
        struct refresh_lane *l = w->lane;

        if (!l)
                return;
        if (w->prev)
                w->prev->next = w->next;
        else
                l->head = w->next;
        if (w->next)
                w->next->prev = w->prev;
        else
                l->tail = w->prev;
        *w = (struct refresh_waiter){ 0 };
        l->n_waiting--;
}

struct refresh_waiter *refresh_lane_next(struct refresh_lane *l)
{
        struct refresh_waiter *w = l->head;

        if (!w || l->in_flight >= REFRESH_LANE_MAX)
                return NULL;
        refresh_lane_leave(w);
        return w;
}

/* The lane of provider (NULL: ""), made on first use; NULL on ENOMEM. */
static struct refresh_lane *lane_of(struct refresh *rf, const char *provider)
{
        struct refresh_lane *l;

        provider = provider ? provider : "";
        for (l = rf->lanes; l; l = l->next)
                if (strcmp(l->provider, provider) == 0)
                        return l;
        l = calloc(1, sizeof(*l));
        if (l && !(l->provider = strdup(provider))) {
                free(l);
                return NULL;
        }
        if (!l)
                return NULL;
        l->next = rf->lanes;
        rf->lanes = l;
        return l;
}

/* A request of l ended (answered or cancelled): let the next waiter go, from the loop
 * rather than from here, where the caller may still be busy with its own job. */
static void lane_done(struct refresh *rf, struct refresh_lane *l)
{
        l->in_flight--;
        if (l->head && !loop_timer_armed(&rf->kick))
                (void)loop_timer_set(rf->d->loop, &rf->kick, 0);
}

/* ---- choosing how ---------------------------------------------------------------------- */

static const struct apilogin_provider_cfg *job_provider(const struct refresh *rf,
                                                        const struct user_state *u)
{
        return apilogin_config_provider(rf->d->cfg, u->tok.provider);
}

static struct apilogin_session_creds creds_of(const struct user_state *u)
{
        return (struct apilogin_session_creds){ .url = u->tok.endpoint, .user = u->name,
                                                .token = u->tok.token,
                                                .refresh = u->tok.refresh,
                                                .expires_at = u->tok.expires_at };
}

static bool keepalive_token(const struct apilogin_driver *drv, const struct apilogin_token *t)
{
        return t->expires_at == 0 && drv && drv->refresh_request;
}

bool refresh_wants_secret(const struct apilogin_config *cfg, const struct apilogin_token *t)
{
        const struct apilogin_provider_cfg *p = apilogin_config_provider(cfg, t->provider);
        const struct apilogin_driver *drv = p ? apilogin_driver_find(p->type) : NULL;

        if (!drv || p->renew == APILOGIN_RENEW_NONE)
                return false;
        return p->renew == APILOGIN_RENEW_RELOGIN || keepalive_token(drv, t);
}

/* Whether u may be logged in again: the provider allows it and a secret can be kept. */
static bool can_relogin(const struct refresh *rf, const struct apilogin_provider_cfg *p,
                        const struct user_state *u)
{
        return rf->kr && p && refresh_wants_secret(rf->d->cfg, &u->tok);
}

/* Build the refresh request into req: 0, or -EOPNOTSUPP/-EINVAL when the driver has no
 * refresh for this token (login_check without refresh_url, no refresh token). */
static int build_refresh(const struct apilogin_provider_cfg *p, const struct user_state *u,
                         struct apilogin_http_req *req)
{
        const struct apilogin_driver *drv = apilogin_driver_find(p->type);
        struct apilogin_session_creds c = creds_of(u);
        int r;

        if (!drv || !drv->refresh_request)
                return -EOPNOTSUPP;
        r = drv->refresh_request(p, &c, req);
        if (r < 0)
                apilogin_http_req_clear(req);
        return r;
}

/* How u's token can be renewed now (renew = none: not at all). */
static enum how choose(const struct refresh *rf, const struct apilogin_provider_cfg *p,
                       const struct user_state *u)
{
        struct apilogin_http_req req = { 0 };

        if (!p || p->renew == APILOGIN_RENEW_NONE)
                return HOW_NONE;
        if (build_refresh(p, u, &req) == 0) {
                apilogin_http_req_clear(&req);
                return HOW_REFRESH;
        }
        return can_relogin(rf, p, u) ? HOW_RELOGIN : HOW_NONE;
}

static const char *how_text(enum how h, bool keepalive)
{
        switch (h) {
        case HOW_REFRESH: return keepalive ? "keep-alive" : "its refresh call";
        case HOW_RELOGIN: return "re-login with the secret in the kernel keyring";
        default: return "nothing: it simply expires";
        }
}

/* ---- saving --------------------------------------------------------------------------- */

/* The record first: it may hold a new single-use refresh token, and a restarted daemon
 * rewrites the token files from it. */
static void save(struct refresh *rf, struct user_state *u)
{
        int r;

        r = record_save(rf->d->cfg, u);
        if (r < 0)
                dlog_warn("Failed to save the session record of %s: %s, ignoring", u->name,
                          strerror(-r));
        r = tokenfile_update(rf->d->cfg, u);
        if (r < 0)
                dlog_err("Failed to write the token file of %s: %s", u->name, strerror(-r));
}

static void mark_expired(struct refresh_job *j, const char *why)
{
        struct user_state *u = j->u;

        if (u->tok.expired)
                return;
        u->tok.expired = true;
        j->rf->expired++;
        dlog_warn("Token of %s at provider %s %s; marked expired", u->name, u->tok.provider,
                  why);
        save(j->rf, u);
}

/* ---- the job's timer -------------------------------------------------------------------- */

/* Timers due within the same slack share one wakeup of the loop, and their transfers the
 * same polls: the due time is rounded up to a multiple of the slack, REFRESH_SLACK_MS or
 * 5 % of the delay if that is less, so that short-lived tokens keep their margin. */
static uint64_t with_slack(uint64_t now_ms, uint64_t delay_ms)
{
        uint64_t slack = delay_ms / 20 < REFRESH_SLACK_MS ? delay_ms / 20 : REFRESH_SLACK_MS;

        return slack > 1 ? (now_ms + delay_ms + slack - 1) / slack * slack : now_ms + delay_ms;
}

static void job_arm(struct refresh_job *j, enum act act, int64_t delay_ms)
{
        struct refresh *rf = j->rf;

        j->act = act;
        if (delay_ms < 0)
                delay_ms = 0;
        if (loop_timer_set(rf->d->loop, &j->timer,
                           with_slack(apilogin_now_ms(), (uint64_t)delay_ms)) < 0)
                dlog_err("Failed to plan the renewal of the token of %s: %s", j->u->name,
                         strerror(ENOMEM));
}

/* Mark the token expired at its expiry (now if passed; never if unknown). */
static void arm_expiry(struct refresh_job *j)
{
        if (j->u->tok.expires_at > 0)
                job_arm(j, ACT_EXPIRE, j->u->tok.expires_at * 1000 - token_now_ms());
}

static void job_release(struct refresh_job *j)
{
        refresh_lane_leave(&j->wait);
        if (j->xfer)
                apilogin_http_cancel(j->rf->d->http, j->xfer);
        apilogin_ws_cancel(j->ws);
        if (j->xfer || j->ws) {
                j->rf->in_flight--;
                lane_done(j->rf, j->lane);
        }
        j->xfer = NULL;
        j->ws = NULL;
        j->lane = NULL;
        j->jar = apilogin_http_jar_free(j->jar); /* after the cancel: no transfer holds it */
        j->step = 0;
        j->cfgbox = cfg_box_unref(j->cfgbox);
        j->p = NULL;
}

static void retry_later(struct refresh_job *j, const char *why, long retry_after_s)
{
        uint64_t wait = refresh_backoff_ms(++j->failures, rnd(j->rf));

        j->rf->failed++;
        if (retry_after_s > 0 && (uint64_t)retry_after_s * 1000 > wait)
                wait = (uint64_t)retry_after_s * 1000;
        if (j->u->offline && wait > REFRESH_OFFLINE_RETRY_MAX_MS)
                wait = REFRESH_OFFLINE_RETRY_MAX_MS; /* notice soon that an API is back */
        if (!j->warned)
                dlog_warn("Failed to renew the token of %s at provider %s: %s; retrying in %.1f s",
                          j->u->name, j->u->tok.provider, why, (double)wait / 1000);
        else
                dlog_debug("Failed to renew the token of %s at provider %s (attempt %u): %s; "
                           "retrying in %.1f s", j->u->name, j->u->tok.provider, j->failures,
                           why, (double)wait / 1000);
        j->warned = true;
        job_arm(j, ACT_RENEW, (int64_t)wait);
}

/* ---- sending ------------------------------------------------------------------------- */

static void on_reply(void *userdata, struct apilogin_http_resp *resp);

static int send_req(struct refresh_job *j, struct apilogin_http_req *req)
{
        struct apilogind *d = j->rf->d;
        uint64_t deadline = apilogin_now_ms() + j->cfgbox->cfg->timeout_ms;
        struct refresh_lane *l = lane_of(j->rf, j->u->tok.provider);
        int r;

        if (!l) {
                apilogin_http_req_clear(req);
                return -ENOMEM;
        }
        if (apilogin_ws_url(req->url))
                r = apilogin_ws_start(d->http, d->loop, j->p, req, deadline, on_reply, j,
                                      &j->ws);
        else
                r = apilogin_http_start(d->http, j->p, req, deadline, on_reply, j, &j->xfer);
        if (r == 0) {
                j->rf->in_flight++;
                j->lane = l;
                l->in_flight++;
        }
        return r;
}

static size_t n_urls(const struct apilogin_provider_cfg *p)
{
        return p->fallback_urls.n + 1;
}

static const char *url_at(const struct apilogin_provider_cfg *p, size_t i)
{
        i %= n_urls(p);
        return i == 0 ? p->url : p->fallback_urls.v[i - 1];
}

/* One step of a re-login, with the secret fetched for just this request. */
static int send_relogin(struct refresh_job *j)
{
        const struct apilogin_driver *drv = apilogin_driver_find(j->p->type);
        _cleanup_erase_free_ char *secret = NULL;
        struct apilogin_http_req req = { 0 };
        struct apilogin_login_in in;
        int r;

        r = keyring_fetch(j->rf->kr, j->u->name, &secret);
        if (r < 0)
                return r;
        in = (struct apilogin_login_in){ .p = j->p, .url = url_at(j->p, j->url_i),
                                         .user = j->u->name, .secret = secret,
                                         .step = j->step };
        r = drv->login_request(&in, &req);
        if (r == 0 && drv->uses_cookies && !j->jar)
                r = apilogin_http_jar_new(&j->jar);
        if (r < 0) {
                apilogin_http_req_clear(&req);
                return r;
        }
        req.jar = j->jar;
        return send_req(j, &req);
}

/* Start the attempt j->how: 0 when in flight, -errno when it could not be sent. */
static int start_attempt(struct refresh_job *j)
{
        struct apilogin_http_req req = { 0 };
        int r;

        j->cfgbox = cfg_box_ref(j->rf->d->cfgbox);
        j->p = job_provider(j->rf, j->u);
        if (!j->p)
                return -ENOENT;
        if (j->how == HOW_RELOGIN)
                return send_relogin(j);
        r = build_refresh(j->p, j->u, &req);
        return r < 0 ? r : send_req(j, &req);
}

/* Where the relogin starts: the URL that issued the token, if it is still configured. */
static size_t issuer_index(const struct apilogin_provider_cfg *p, const char *endpoint)
{
        for (size_t i = 0; endpoint && i < n_urls(p); i++)
                if (strcmp(url_at(p, i), endpoint) == 0)
                        return i;
        return 0;
}

static void begin(struct refresh_job *j, enum how how)
{
        int r;

        job_release(j);
        j->how = how;
        if (how == HOW_RELOGIN && j->failures == 0) {
                const struct apilogin_provider_cfg *p = job_provider(j->rf, j->u);

                j->url_i = p ? issuer_index(p, j->u->tok.endpoint) : 0;
        }
        r = start_attempt(j);
        if (r == 0)
                return;
        job_release(j);
        if (r == -ENOKEY) {
                mark_expired(j, "cannot be renewed: no secret kept for re-login");
                return;
        }
        if (r == -ENOENT) {
                mark_expired(j, "cannot be renewed: its provider is no longer configured");
                return;
        }
        retry_later(j, strerror(-r), -1);
}

/* A renewal is due and its provider's turn has come. */
static void fire(struct refresh_job *j)
{
        const struct apilogin_provider_cfg *p;
        enum how how;

        if (j->u->offline) {
                begin(j, HOW_RELOGIN); /* an offline session waits for its token */
                return;
        }
        p = job_provider(j->rf, j->u);
        how = choose(j->rf, p, j->u);
        if (how == HOW_NONE) {
                arm_expiry(j);
                return;
        }
        begin(j, how);
}

static void on_timer(void *userdata)
{
        struct refresh_job *j = userdata;
        struct refresh_lane *l;

        if (j->act == ACT_EXPIRE) {
                mark_expired(j, "ran out and is not renewed");
                return;
        }
        if (j->rf->d->stopping)
                return;
        l = lane_of(j->rf, j->u->tok.provider);
        if (l && !refresh_lane_admit(l, &j->wait))
                return; /* on_kick fires it when a renewal of l ends */
        fire(j);
}

static void on_kick(void *userdata)
{
        struct refresh *rf = userdata;

        if (rf->d->stopping)
                return;
        for (struct refresh_lane *l = rf->lanes; l; l = l->next) {
                struct refresh_waiter *w;

                while ((w = refresh_lane_next(l)))
                        fire((struct refresh_job *)((char *)w -
                                                    offsetof(struct refresh_job, wait)));
        }
}

/* ---- answers -------------------------------------------------------------------------- */

static bool extras_equal(const struct apilogin_token *t, const struct apilogin_result *res)
{
        for (size_t i = 0; i < APILOGIN_EXTRA_MAX; i++) {
                const struct apilogin_pair *a = &t->extra[i], *b = &res->extra[i];

                if (!a->key != !b->key || !a->value != !b->value ||
                    (a->key && strcmp(a->key, b->key) != 0) ||
                    (a->value && strcmp(a->value, b->value) != 0))
                        return false;
        }
        return true;
}

static bool str_eq(const char *a, const char *b)
{
        return !a || !b ? a == b : strcmp(a, b) == 0;
}

/* Take a refresh/keep-alive result into t; true when something changed. The refresh
 * credential is the driver's to decide (it keeps the old one where the API does). */
static bool apply_refresh(struct apilogin_token *t, struct apilogin_result *res)
{
        bool extra = false, changed;

        for (size_t i = 0; i < APILOGIN_EXTRA_MAX; i++)
                extra |= res->extra[i].key != NULL;
        changed = !str_eq(t->token, res->token) || !str_eq(t->refresh, res->refresh) ||
                  t->expires_at != res->expires_at || (extra && !extras_equal(t, res)) ||
                  (res->role && !str_eq(t->role, res->role));
        if (!changed)
                return false;
        apilogin_erase_free(t->token);
        t->token = TAKE_PTR(res->token);
        apilogin_erase_free(t->refresh);
        t->refresh = TAKE_PTR(res->refresh);
        t->expires_at = res->expires_at;
        t->issued_ms = token_now_ms();
        if (res->role) {
                free(t->role);
                t->role = TAKE_PTR(res->role);
        }
        for (size_t i = 0; extra && i < APILOGIN_EXTRA_MAX; i++) {
                free(t->extra[i].key);
                apilogin_erase_free(t->extra[i].value);
                t->extra[i].key = TAKE_PTR(res->extra[i].key);
                t->extra[i].value = TAKE_PTR(res->extra[i].value);
        }
        return true;
}

/* An offline session's background login succeeded: it has a token now, and the secret
 * leaves the keyring unless the provider renews by re-login. */
static void online_again(struct refresh_job *j)
{
        struct user_state *u = j->u;

        u->has_token = true;
        u->offline = false;
        if (!refresh_wants_secret(j->rf->d->cfg, &u->tok))
                (void)keyring_remove(j->rf->kr, u->name);
        dlog_info("Logged %s in at provider %s in the background: its offline session(s) have "
                  "a token now", u->name, u->tok.provider);
}

/* A re-login's new token replaces the old one wholesale. */
static int apply_relogin(struct refresh_job *j, struct apilogin_result *res)
{
        struct apilogin_token t = { 0 };
        int r = token_from_result(&t, res, j->p->name, url_at(j->p, j->url_i));

        if (r < 0)
                return r;
        token_clear(&j->u->tok);
        j->u->tok = t;
        (void)keyring_touch(j->rf->kr, j->u->name, KEYRING_MAX_AGE_S);
        if (j->u->offline)
                online_again(j);
        return 0;
}

static void succeeded(struct refresh_job *j, struct apilogin_result *res)
{
        struct refresh *rf = j->rf;
        struct user_state *u = j->u;
        bool changed = true;
        int r = 0;

        if (j->how == HOW_RELOGIN)
                r = apply_relogin(j, res);
        else if (!res->token)
                r = -EBADMSG;
        else
                changed = apply_refresh(&u->tok, res);
        if (r < 0) {
                job_release(j);
                retry_later(j, strerror(-r), -1);
                return;
        }
        rf->renewed++;
        if (j->warned)
                dlog_info("Renewed the token of %s at provider %s after %u failed attempt(s)",
                          u->name, u->tok.provider, j->failures);
        else
                dlog_debug("Renewed the token of %s at provider %s (%s)", u->name,
                           u->tok.provider, how_text(j->how, u->tok.expires_at == 0));
        j->failures = 0;
        j->warned = false;
        job_release(j);
        if (changed)
                save(rf, u);
        (void)refresh_plan(rf, u, REFRESH_AGAIN);
}

/* on_remote_revoke: a definite "revoked", "disabled" or "wrong password" in the
 * background. A refused password or a disabled account also loses its offline verifier.
 * Ending the sessions only signals their leaders, so j and its user stay valid here. */
static void remote_revoked(struct refresh_job *j, const struct apilogin_result *res,
                           const char *why)
{
        enum apilogin_outcome o = res->outcome;

        if (o != APILOGIN_AUTH_ERR && o != APILOGIN_ACCT_EXPIRED && o != APILOGIN_PERM_DENIED)
                return;
        if (j->rf->revoke_fn)
                j->rf->revoke_fn(j->rf->revoke_data, j->u->name,
                                 j->how == HOW_RELOGIN || o == APILOGIN_ACCT_EXPIRED, why);
}

/* A definite "no": re-login where that is possible and was not just tried, else the end. */
static void refused(struct refresh_job *j, const struct apilogin_result *res)
{
        char why[256];

        if (j->how == HOW_REFRESH && can_relogin(j->rf, j->p, j->u)) {
                dlog_info("Token of %s at provider %s was refused on renewal (%s); logging in "
                          "again", j->u->name, j->u->tok.provider,
                          apilogin_outcome_name(res->outcome));
                begin(j, HOW_RELOGIN);
                return;
        }
        snprintf(why, sizeof(why), "was refused on renewal by %s (%s, api_code=%s "
                 "api_message=\"%s\")", j->how == HOW_RELOGIN ? "re-login" : "the API",
                 apilogin_outcome_name(res->outcome), res->api_code ? res->api_code : "-",
                 res->api_message ? res->api_message : "-");
        if (j->how == HOW_RELOGIN)
                (void)keyring_remove(j->rf->kr, j->u->name);
        job_release(j);
        remote_revoked(j, res, why);
        if (!j->u->offline)
                mark_expired(j, why);
}

static void on_outcome(struct refresh_job *j, struct apilogin_result *res, const char *detail)
{
        switch (res->outcome) {
        case APILOGIN_OK:
                succeeded(j, res);
                return;
        case APILOGIN_UNAVAIL:
        case APILOGIN_MAXTRIES:
                if (j->how == HOW_RELOGIN)
                        j->url_i++;
                job_release(j);
                retry_later(j, detail, res->outcome == APILOGIN_MAXTRIES ? res->retry_after : -1);
                return;
        default:
                refused(j, res);
                return;
        }
}

/* Read the answer with the driver; -errno only on allocation failure. */
static int read_reply(struct refresh_job *j, const struct apilogin_http_resp *resp,
                      struct apilogin_result *res)
{
        const struct apilogin_driver *drv = apilogin_driver_find(j->p->type);
        struct apilogin_session_creds c = creds_of(j->u);
        struct apilogin_login_in in = { .p = j->p, .url = url_at(j->p, j->url_i),
                                        .user = j->u->name, .step = j->step };

        if (j->how == HOW_REFRESH)
                return drv->refresh_reply(j->p, &c, resp, res);
        return drv->login_reply(&in, resp, res);
}

/* A multi-step re-login wants its next step (the jar has the cookies of this answer). */
static void next_step(struct refresh_job *j)
{
        int r;

        j->step++;
        r = send_relogin(j);
        if (r < 0) {
                job_release(j);
                retry_later(j, strerror(-r), -1);
        }
}

static void on_reply(void *userdata, struct apilogin_http_resp *resp)
{
        struct refresh_job *j = userdata;
        struct apilogin_result res = { .outcome = APILOGIN_UNAVAIL, .retry_after = -1 };
        char detail[96];
        int r;

        j->xfer = NULL;
        j->ws = NULL;
        j->rf->in_flight--;
        lane_done(j->rf, j->lane);
        j->lane = NULL;
        if (resp->transport_error < 0)
                snprintf(detail, sizeof(detail), "%s", strerror(-resp->transport_error));
        else
                snprintf(detail, sizeof(detail), "HTTP %ld", resp->status);
        if (resp->transport_error == 0 && resp->status < 500) {
                r = read_reply(j, resp, &res);
                if (r < 0)
                        res.outcome = APILOGIN_UNAVAIL;
                else if (res.outcome == APILOGIN_UNAVAIL)
                        snprintf(detail, sizeof(detail), "malformed or unusable reply (HTTP %ld)",
                                 resp->status);
                else if (res.outcome == APILOGIN_MAXTRIES)
                        snprintf(detail, sizeof(detail), "rate limited (HTTP %ld)", resp->status);
        }
        metrics_provider_seen(j->rf->d->metrics, j->p ? j->p->name : NULL,
                              res.outcome != APILOGIN_UNAVAIL, detail);
        if (res.outcome == APILOGIN_OK && res.another_step && j->how == HOW_RELOGIN)
                next_step(j);
        else
                on_outcome(j, &res, detail);
        apilogin_result_clear(&res);
}

/* ---- jobs ------------------------------------------------------------------------------ */

static struct refresh_job *job_get(struct refresh *rf, struct user_state *u)
{
        struct refresh_job *j = u->job;

        if (j)
                return j;
        j = calloc(1, sizeof(*j));
        if (!j)
                return NULL;
        j->rf = rf;
        j->u = u;
        loop_timer_init(&j->timer, on_timer, j);
        u->job = j;
        rf->jobs++;
        return j;
}

static void log_plan(struct refresh *rf, const struct user_state *u)
{
        const struct apilogin_provider_cfg *p = job_provider(rf, u);
        const struct apilogin_driver *drv = p ? apilogin_driver_find(p->type) : NULL;
        enum how how = choose(rf, p, u);
        bool keepalive = u->tok.expires_at == 0 && how == HOW_REFRESH;

        dlog_info("Token of %s at provider %s will be kept fresh by %s%s", u->name,
                  u->tok.provider,
                  how == HOW_REFRESH && drv->renew_how ? drv->renew_how
                                                       : how_text(how, keepalive),
                  how == HOW_REFRESH && can_relogin(rf, p, u)
                          ? ", and re-login with the secret in the kernel keyring" : "");
}

/* The earlier of due and the renewal of u's extra tokens, when its driver says they die
 * long before the token (ws_auth's tokenForHttpServer) and can renew them. */
static int64_t extra_due(struct refresh *rf, const struct apilogin_provider_cfg *p,
                         const struct user_state *u, int64_t now, int64_t due)
{
        const struct apilogin_driver *drv = apilogin_driver_find(p->type);
        uint64_t life;
        int64_t d;

        if (!drv || drv->extra_lifetime_s == 0 || !drv->refresh_request || !u->tok.extra[0].key)
                return due;
        life = rf->extra_life_ms ? rf->extra_life_ms : drv->extra_lifetime_s * 1000ULL;
        d = refresh_extra_due_ms(u->tok.issued_ms, (int64_t)life, now, rnd(rf));
        return d < due ? d : due;
}

int refresh_plan(struct refresh *rf, struct user_state *u, enum refresh_why why)
{
        struct refresh_job *j = job_get(rf, u);
        const struct apilogin_provider_cfg *p;
        int64_t now = token_now_ms();

        if (!j)
                return -ENOMEM;
        job_release(j);
        loop_timer_stop(rf->d->loop, &j->timer);
        if (why != REFRESH_AGAIN) {
                j->failures = 0;
                j->warned = false;
        }
        if (u->offline && !u->has_token) {
                /* No token yet: log in in the background, soon, then with backoff. */
                job_arm(j, ACT_RENEW, (int64_t)refresh_backoff_ms(j->failures + 1, rnd(rf)));
                return 0;
        }
        if (!u->has_token || u->tok.expired)
                return 0;
        if (why == REFRESH_NEW)
                log_plan(rf, u);
        p = job_provider(rf, u);
        if (!p || p->renew == APILOGIN_RENEW_NONE) {
                arm_expiry(j);
        } else if (u->tok.expires_at == 0) {
                /* Keep-alive: soon after a restart (the session may be near its idle
                 * limit), else every interval. */
                double f = why == REFRESH_LOADED ? 0.25 * rnd(rf) : 0.9 + 0.2 * rnd(rf);

                job_arm(j, ACT_RENEW, (int64_t)((double)rf->keepalive_ms * f));
        } else {
                int64_t due = refresh_due_ms(u->tok.issued_ms, u->tok.expires_at * 1000, now,
                                             rnd(rf));

                job_arm(j, ACT_RENEW, extra_due(rf, p, u, now, due) - now);
        }
        return 0;
}

void refresh_stop(struct refresh *rf, struct user_state *u)
{
        struct refresh_job *j = u->job;

        if (!j)
                return;
        job_release(j);
        loop_timer_stop(rf->d->loop, &j->timer);
        free(j);
        u->job = NULL;
        rf->jobs--;
}

void refresh_set_revoke(struct refresh *rf, refresh_revoke_fn fn, void *userdata)
{
        rf->revoke_fn = fn;
        rf->revoke_data = userdata;
}

void refresh_stats(const struct refresh *rf, struct refresh_stats *ret)
{
        *ret = (struct refresh_stats){ .jobs = rf->jobs, .in_flight = rf->in_flight,
                                       .renewed = rf->renewed, .failed = rf->failed,
                                       .expired = rf->expired };
        for (const struct refresh_lane *l = rf->lanes; l; l = l->next)
                ret->waiting += l->n_waiting;
}

/* ---- lifetime --------------------------------------------------------------------------- */

/* A number of seconds 1..300 from the environment variable name, in ms; dflt when unset
 * or invalid (logged). For tests, against an API server told to be quick. */
static uint64_t env_seconds(const char *name, uint64_t dflt)
{
        const char *e = getenv(name);
        char *end = NULL;
        unsigned long v;

        if (!e || !*e)
                return dflt;
        v = strtoul(e, &end, 10);
        if (*end || v < 1 || v > 300) {
                dlog_warn("Ignoring %s=%.20s (1..300)", name, e);
                return dflt;
        }
        return v * 1000;
}

int refresh_new(struct apilogind *d, struct keyring *kr, struct refresh **ret)
{
        struct refresh *rf = calloc(1, sizeof(*rf));

        if (!rf)
                return -ENOMEM;
        rf->d = d;
        rf->kr = kr;
        rf->keepalive_ms = env_seconds("APILOGIND_KEEPALIVE_S", REFRESH_KEEPALIVE_MS);
        rf->extra_life_ms = env_seconds("APILOGIND_EXTRA_TOKEN_S", 0);
        loop_timer_init(&rf->kick, on_kick, rf);
        if (getrandom(&rf->rnd_state, sizeof(rf->rnd_state), 0) != sizeof(rf->rnd_state) ||
            rf->rnd_state == 0)
                rf->rnd_state = apilogin_now_ms() | 1;
        *ret = rf;
        return 0;
}

struct refresh *refresh_free(struct refresh *rf)
{
        if (!rf)
                return NULL;
        loop_timer_stop(rf->d->loop, &rf->kick);
        while (rf->lanes) {
                struct refresh_lane *l = rf->lanes;

                rf->lanes = l->next;
                free(l->provider);
                free(l);
        }
        free(rf);
        return NULL;
}
