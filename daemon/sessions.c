/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sessions.c: pending logins, users' current tokens and their sessions (see sessions.h).
 * The number of users with live sessions on one host is small, so they sit in a plain
 * array; pending logins and background logouts are linked lists. The renewal of tokens
 * (refresh.c), the re-login secrets (keyring.c) and the session leaders (pidwatch.c) are
 * driven from here, so that the end of a user's last session ends all three. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>

#include "apilogind.h"
#include "daemon/users.h"
#include "dlog.h"
#include "keyring.h"
#include "loop.h"
#include "macro.h"
#include "offline.h"
#include "pidwatch.h"
#include "refresh.h"
#include "reply.h"
#include "secure.h"
#include "sessions.h"
#include "tokenfile.h"

struct pending {
        struct sessions *s;
        struct pending *prev, *next;
        char *user;
        uint32_t uid;
        struct apilogin_token tok;
        char *secret;       /* for re-login (refresh_wants_secret), else NULL */
        bool offline;       /* an offline login: no token, tok.provider only, secret kept */
        struct loop_timer expiry;
        uint32_t pid, ppid; /* the AUTH caller and its parent (0: unknown) */
        char handle[SESSION_ID_LEN + 1]; /* given to the AUTH caller */
};

struct bg_logout {
        struct sessions *s;
        struct bg_logout *prev, *next;
        struct apilogin_http_xfer *x;
        char *user;
        char *provider;
};

struct sessions {
        struct apilogind *d;
        struct user_state **u;
        size_t n_u, cap_u;
        struct pending *pending;
        size_t n_pending;
        struct bg_logout *logouts;
        size_t n_logouts;
        struct keyring *kr;     /* NULL: no kernel keyring here, so no re-login */
        struct refresh *rf;
        struct pidwatch *pw;
        bool loaded;            /* the records have been loaded */
        uint64_t offline_logins; /* since start */
};

#define LIST_UNLINK(head, x)                           \
        do {                                           \
                if ((x)->prev)                         \
                        (x)->prev->next = (x)->next;   \
                else                                   \
                        (head) = (x)->next;            \
                if ((x)->next)                         \
                        (x)->next->prev = (x)->prev;   \
        } while (0)

#define LIST_PUSH(head, x)                             \
        do {                                           \
                (x)->prev = NULL;                      \
                (x)->next = (head);                    \
                if (head)                              \
                        (head)->prev = (x);            \
                (head) = (x);                          \
        } while (0)

/* ---- background logout ------------------------------------------------------------------ */

static void bg_free(struct bg_logout *b)
{
        LIST_UNLINK(b->s->logouts, b);
        b->s->n_logouts--;
        free(b->user);
        free(b->provider);
        free(b);
}

static void logout_done(void *userdata, struct apilogin_http_resp *resp)
{
        struct bg_logout *b = userdata;

        if (resp->transport_error < 0)
                dlog_debug("Logout of %s at provider %s failed: %s", b->user, b->provider,
                           strerror(-resp->transport_error));
        else
                dlog_debug("Logout of %s at provider %s: HTTP %ld", b->user, b->provider,
                           resp->status);
        b->x = NULL;
        bg_free(b);
}

static int logout_send(struct sessions *s, const struct apilogin_provider_cfg *p,
                       const struct apilogin_driver *drv, const char *user,
                       const struct apilogin_token *t, unsigned step)
{
        struct apilogin_session_creds c = { .url = t->endpoint, .user = user, .token = t->token,
                                            .refresh = t->refresh, .step = step };
        struct apilogin_http_req req = { 0 };
        struct bg_logout *b;
        int r;

        r = drv->logout_request(p, &c, &req);
        if (r < 0)
                return r;
        b = calloc(1, sizeof(*b));
        if (!b || !(b->user = strdup(user)) || !(b->provider = strdup(p->name))) {
                apilogin_http_req_clear(&req);
                if (b)
                        free(b->user);
                free(b);
                return -ENOMEM;
        }
        b->s = s;
        LIST_PUSH(s->logouts, b);
        s->n_logouts++;
        r = apilogin_http_start(s->d->http, p, &req, apilogin_now_ms() + SESSIONS_LOGOUT_MS,
                                logout_done, b, &b->x);
        if (r < 0)
                bg_free(b);
        return r;
}

/* Revoke t at its provider, in the background, when the provider's API has a logout (one
 * request per logout step: OAuth 2.0 revokes the refresh and the access token apart). */
static void logout_token(struct sessions *s, const char *user, const struct apilogin_token *t)
{
        const struct apilogin_provider_cfg *p = apilogin_config_provider(s->d->cfg, t->provider);
        const struct apilogin_driver *drv = p ? apilogin_driver_find(p->type) : NULL;
        int r;

        if (!t->token || !drv || !drv->logout_request) {
                dlog_debug("No logout for %s at provider %s", user, t->provider);
                return;
        }
        for (unsigned step = 0; step < (drv->logout_steps ? drv->logout_steps : 1); step++) {
                r = logout_send(s, p, drv, user, t, step);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        dlog_warn("Failed to start the logout of %s at provider %s: %s, "
                                  "ignoring", user, t->provider, strerror(-r));
                else
                        dlog_debug("Logout of %s at provider %s started", user, t->provider);
        }
}

/* ---- users with sessions --------------------------------------------------------------- */

static struct user_state *user_find(const struct sessions *s, const char *name, size_t *ret_i)
{
        for (size_t i = 0; i < s->n_u; i++) {
                if (strcmp(s->u[i]->name, name) == 0) {
                        if (ret_i)
                                *ret_i = i;
                        return s->u[i];
                }
        }
        return NULL;
}

static int user_insert(struct sessions *s, struct user_state *u)
{
        if (s->n_u == s->cap_u) {
                size_t cap = s->cap_u ? s->cap_u * 2 : 16;
                struct user_state **a = reallocarray(s->u, cap, sizeof(*a));

                if (!a)
                        return -ENOMEM;
                s->u = a;
                s->cap_u = cap;
        }
        s->u[s->n_u++] = u;
        return 0;
}

static struct user_state *user_get(struct sessions *s, const char *name, uint32_t uid)
{
        struct user_state *u = user_find(s, name, NULL);

        if (u) {
                u->uid = uid;
                return u;
        }
        u = calloc(1, sizeof(*u));
        if (!u || !(u->name = strdup(name)) || user_insert(s, u) < 0) {
                user_state_free(u);
                return NULL;
        }
        u->uid = uid;
        return u;
}

static void session_free_at(struct sessions *s, struct user_state *u, size_t k)
{
        struct apilogin_session *x = &u->sess[k];

        if (x->watched)
                pidwatch_remove(s->pw, x->pid);
        free(x->service);
        free(x->tty);
        free(x->rhost);
        u->sess[k] = u->sess[--u->n_sess];
}

static void user_drop(struct sessions *s, size_t i)
{
        struct user_state *u = s->u[i];

        refresh_stop(s->rf, u);
        while (u->n_sess > 0)
                session_free_at(s, u, u->n_sess - 1);
        user_state_free(u);
        s->u[i] = s->u[--s->n_u];
}

static void user_save(struct sessions *s, const struct user_state *u)
{
        int r = record_save(s->d->cfg, u);

        if (r < 0)
                dlog_warn("Failed to save the session record of %s: %s, ignoring", u->name,
                          strerror(-r));
}

/* ---- pending logins ------------------------------------------------------------------- */

/* A pending login not (or no longer) on the list: its secret is wiped. */
static void pending_discard(struct pending *p)
{
        token_clear(&p->tok);
        apilogin_erase_free(p->secret);
        free(p->user);
        free(p);
}

static void pending_free(struct pending *p)
{
        struct sessions *s = p->s;

        loop_timer_stop(s->d->loop, &p->expiry);
        LIST_UNLINK(s->pending, p);
        s->n_pending--;
        pending_discard(p);
}

static bool same_token(const struct user_state *u, const struct apilogin_token *t)
{
        return u && u->has_token && u->tok.token && t->token && strcmp(u->tok.token, t->token) == 0;
}

/* Drop a pending login that no session took: its token is revoked unless it is the very
 * token the user's sessions use (an API may hand out the same token again). */
static void pending_drop(struct pending *p)
{
        if (!same_token(user_find(p->s, p->user, NULL), &p->tok))
                logout_token(p->s, p->user, &p->tok);
        pending_free(p);
}

static void pending_expired(void *userdata)
{
        struct pending *p = userdata;

        dlog_debug("Pending login of %s expired without a session", p->user);
        pending_drop(p);
}

static struct pending *pending_find(const struct sessions *s, const char *user)
{
        for (struct pending *p = s->pending; p; p = p->next)
                if (strcmp(p->user, user) == 0)
                        return p;
        return NULL;
}

static int new_session_id(char id[SESSION_ID_LEN + 1]);

/* The parent of pid (0 when it cannot be read): "pid (comm) state ppid ...", comm may
 * hold anything, so read after the last ')'. */
static uint32_t parent_of(uint32_t pid)
{
        char path[64], buf[512];
        unsigned ppid = 0;
        const char *p;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%u/stat", pid);
        f = pid ? fopen(path, "re") : NULL;
        if (!f)
                return 0;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        if (!p || sscanf(p + 1, " %*c %u", &ppid) != 1)
                return 0;
        return ppid;
}

/* Queue p (filled in by the caller) as user's pending login, for the OPEN of the AUTH
 * caller peer_pid: it gets a fresh handle, written to ret_handle, unless it replaces an
 * offline answer to the same caller (the online check finished before the OPEN), whose
 * handle that caller already holds. Takes p, also on failure. */
static int pending_push(struct sessions *s, struct pending *p, uint32_t peer_pid,
                        char *ret_handle)
{
        struct pending *old = pending_find(s, p->user);
        int r = 0;

        if (old && old->offline && !p->offline && old->pid == peer_pid && peer_pid)
                memcpy(p->handle, old->handle, sizeof(p->handle));
        else
                r = new_session_id(p->handle);
        if (r < 0) {
                pending_discard(p);
                return r;
        }
        p->s = s;
        p->pid = peer_pid;
        p->ppid = parent_of(peer_pid);
        if (ret_handle)
                memcpy(ret_handle, p->handle, sizeof(p->handle));
        loop_timer_init(&p->expiry, pending_expired, p);
        if (old)
                pending_drop(old);
        LIST_PUSH(s->pending, p);
        s->n_pending++;
        r = loop_timer_set(s->d->loop, &p->expiry, apilogin_now_ms() + SESSIONS_PENDING_MS);
        if (r < 0)
                pending_drop(p);
        return r;
}

int sessions_set_pending(struct sessions *s, const char *user, uint32_t uid,
                         struct apilogin_result *res, const char *provider, const char *endpoint,
                         uint32_t peer_pid, char *ret_handle)
{
        struct pending *p = calloc(1, sizeof(*p));
        int r;

        if (!p || !(p->user = strdup(user))) {
                free(p);
                return -ENOMEM;
        }
        p->uid = uid;
        r = token_from_result(&p->tok, res, provider, endpoint);
        if (r < 0) {
                pending_discard(p);
                return r;
        }
        return pending_push(s, p, peer_pid, ret_handle);
}

int sessions_keep_secret(struct sessions *s, const char *user, const char *secret)
{
        struct pending *p = pending_find(s, user);

        if (!p || !secret || !secret[0] || !refresh_wants_secret(s->d->cfg, &p->tok))
                return 0;
        apilogin_erase_free(p->secret);
        p->secret = strdup(secret);
        return p->secret ? 0 : -ENOMEM;
}

int sessions_set_pending_offline(struct sessions *s, const char *user, uint32_t uid,
                                 const char *provider, const char *secret, uint32_t peer_pid,
                                 char *ret_handle)
{
        struct pending *p = calloc(1, sizeof(*p));

        if (!p || !(p->user = strdup(user)) || !(p->tok.provider = strdup(provider)) ||
            !(p->secret = strdup(secret))) {
                if (p)
                        pending_discard(p);
                return -ENOMEM;
        }
        p->uid = uid;
        p->offline = true;
        s->offline_logins++;
        return pending_push(s, p, peer_pid, ret_handle);
}

void sessions_logout_result(struct sessions *s, const char *user, struct apilogin_result *res,
                            const char *provider, const char *endpoint)
{
        struct apilogin_token t = { 0 };

        if (token_from_result(&t, res, provider, endpoint) == 0 &&
            !same_token(user_find(s, user, NULL), &t))
                logout_token(s, user, &t);
        token_clear(&t);
}

size_t sessions_of(const struct sessions *s, const char *user, bool *ret_pending)
{
        const struct user_state *u = user_find(s, user, NULL);

        if (ret_pending)
                *ret_pending = pending_find(s, user) != NULL;
        return u ? u->n_sess : 0;
}

size_t sessions_flush_pending(struct sessions *s)
{
        size_t n = 0;

        while (s->pending) {
                pending_drop(s->pending);
                n++;
        }
        return n;
}

/* ---- OPEN ------------------------------------------------------------------------------ */

static int new_session_id(char id[SESSION_ID_LEN + 1])
{
        uint8_t raw[SESSION_ID_LEN / 2];
        ssize_t n;

        do {
                n = getrandom(raw, sizeof(raw), 0);
        } while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof(raw))
                return n < 0 ? negative_errno() : -EIO;
        for (size_t i = 0; i < sizeof(raw); i++)
                snprintf(id + 2 * i, 3, "%02x", raw[i]);
        return 0;
}

static int session_add(struct user_state *u, const struct apilogin_msg *req,
                       struct apilogin_session **ret)
{
        struct apilogin_session *a, *x;
        int r;

        a = reallocarray(u->sess, u->n_sess + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        u->sess = a;
        x = &a[u->n_sess];
        *x = (struct apilogin_session){ .pid = req->pid, .opened_at = time(NULL) };
        r = new_session_id(x->id);
        if (r < 0)
                return r;
        x->service = strdup(req->service);
        x->tty = req->tty ? strdup(req->tty) : NULL;
        x->rhost = req->rhost ? strdup(req->rhost) : NULL;
        if (!x->service || (req->tty && !x->tty) || (req->rhost && !x->rhost)) {
                free(x->service);
                free(x->tty);
                free(x->rhost);
                return -ENOMEM;
        }
        u->n_sess++;
        *ret = x;
        return 0;
}

/* The re-login secret of u's new token goes to the kernel keyring (or a stale one away). */
static void keep_secret(struct sessions *s, const struct user_state *u, const char *secret)
{
        int r;

        if (!s->kr) {
                if (secret)
                        dlog_warn("No kernel keyring: the token of %s cannot be renewed by "
                                  "re-login", u->name);
                return;
        }
        r = secret ? keyring_store(s->kr, u->name, secret, KEYRING_MAX_AGE_S)
                   : keyring_remove(s->kr, u->name);
        if (r < 0)
                dlog_warn("Failed to %s the re-login secret of %s in the kernel keyring: %s, "
                          "ignoring", secret ? "store" : "remove", u->name, strerror(-r));
}

/* Whether the OPEN req from peer_pid belongs to the transaction that authenticated p. */
static bool pending_is_ours(const struct pending *p, const struct apilogin_msg *req,
                            uint32_t peer_pid)
{
        if (req->session)
                return strcmp(req->session, p->handle) == 0;
        return peer_pid == p->pid || (p->ppid > 1 && peer_pid == p->ppid);
}

/* An offline login's session: no token until an API is reachable again; the secret waits
 * in the kernel keyring for the background login (refresh.h). A user who has a token
 * (another session logged in online) keeps it. */
static bool adopt_offline(struct sessions *s, struct user_state *u, struct pending *p)
{
        if (!u->has_token) {
                free(u->tok.provider);
                u->tok.provider = TAKE_PTR(p->tok.provider);
                u->offline = true;
                if (!s->kr)
                        dlog_warn("No kernel keyring: the offline session of %s stays offline "
                                  "until its next login", u->name);
                keep_secret(s, u, p->secret);
        }
        pending_free(p);
        return !u->has_token;
}

/* The pending login (if any, and if this transaction's: req from peer_pid, or req NULL when
 * the daemon itself adopts it) becomes u's current token; the one it replaces is revoked.
 * Returns whether there was one. */
static bool adopt_pending(struct sessions *s, struct user_state *u, const struct apilogin_msg *req,
                          uint32_t peer_pid)
{
        struct pending *p = pending_find(s, u->name);

        if (p && req)
                dlog_debug("Pending login of %s: OPEN matched by %s", u->name,
                           req->session ? "the AUTH handle" : "the AUTH caller's process");
        if (p && req && !pending_is_ours(p, req, peer_pid)) {
                dlog_auth(LOG_NOTICE, "session of %s opened by pid %u without the token of the "
                          "login pid %u made: not the same PAM transaction", u->name, peer_pid,
                          p->pid);
                return false;
        }
        if (!p)
                return false;
        if (p->offline)
                return adopt_offline(s, u, p);
        if (u->has_token && !same_token(u, &p->tok))
                logout_token(s, u->name, &u->tok);
        token_clear(&u->tok);
        u->tok = p->tok;
        p->tok = (struct apilogin_token){ 0 };
        u->has_token = true;
        u->offline = false;
        keep_secret(s, u, p->secret);
        pending_free(p);
        return true;
}

/* Watch the leader of x, so that its death ends the session. */
static void watch_leader(struct sessions *s, const struct user_state *u,
                         struct apilogin_session *x)
{
        int r;

        if (!x->pid_start)
                x->pid_start = pidwatch_start_time(x->pid);
        r = pidwatch_add(s->pw, x->pid, x->pid_start);
        x->watched = r == 0;
        if (r < 0 && r != -ESRCH)
                dlog_warn("Failed to watch the leader pid %u of a session of %s: %s, ignoring",
                          x->pid, u->name, strerror(-r));
}

static void write_token_files(struct sessions *s, const struct user_state *u,
                              struct srv_reply *ret)
{
        int r;

        if (!u->has_token && !u->offline)
                return;
        r = tokenfile_write(s->d->cfg, u, ret->token_file, sizeof(ret->token_file));
        if (r < 0) {
                ret->token_file[0] = '\0';
                dlog_err("Failed to write the token file of %s: %s", u->name, strerror(-r));
        }
}

void sessions_handle_open(struct sessions *s, const struct apilogin_msg *req, uint32_t peer_pid,
                          struct srv_reply *ret)
{
        const struct apilogin_user *pw;
        struct apilogin_session *x;
        struct user_state *u;
        bool adopted;
        int r;

        if (!req->user || !req->service || !req->has_pid) {
                ret->outcome = APILOGIN_SERVICE_ERR;
                return;
        }
        pw = users_find(s->d->users, req->user);
        if (!pw) {
                ret->outcome = APILOGIN_IGNORE;
                return;
        }
        u = user_get(s, pw->name, pw->uid);
        r = u ? session_add(u, req, &x) : -ENOMEM;
        if (r < 0) {
                size_t i;

                if (u && u->n_sess == 0 && !u->has_token && user_find(s, u->name, &i))
                        user_drop(s, i);
                dlog_err("Failed to open a session for %s: %s", req->user, strerror(-r));
                ret->outcome = APILOGIN_SERVICE_ERR;
                return;
        }
        adopted = adopt_pending(s, u, req, peer_pid);
        watch_leader(s, u, x);
        if (!x->watched)
                dlog_warn("Leader pid %u of the new session of %s is not running: the session "
                          "ends only with its close", x->pid, u->name);
        user_save(s, u);
        write_token_files(s, u, ret);
        if (adopted || (u->has_token && !u->job))
                (void)refresh_plan(s->rf, u, adopted ? REFRESH_NEW : REFRESH_LOADED);
        dlog_auth(LOG_INFO, "session opened: user=%s uid=%u service=%s tty=%s rhost=%s pid=%u "
                  "token=%s", u->name, u->uid, dlog_q(x->service), dlog_q(x->tty),
                  dlog_q(x->rhost), x->pid, ret->token_file[0] ? "yes" : "no");
        ret->outcome = APILOGIN_OK;
        ret->has_uid = true;
        ret->uid = u->uid;
        memcpy(ret->session, x->id, sizeof(x->id));
}

/* ---- CLOSE ----------------------------------------------------------------------------- */

static bool session_matches(const struct apilogin_session *x, const struct apilogin_msg *req)
{
        if (req->session)
                return strcmp(x->id, req->session) == 0;
        return req->has_pid && x->pid == req->pid;
}

/* The user's last session ended: revoke the token, delete its files, the keyring key
 * and the record. */
static void last_session_closed(struct sessions *s, size_t i)
{
        struct user_state *u = s->u[i];
        int r;

        refresh_stop(s->rf, u);
        if (u->has_token)
                logout_token(s, u->name, &u->tok);
        r = s->kr ? keyring_remove(s->kr, u->name) : 0;
        if (r < 0)
                dlog_warn("Failed to remove the re-login secret of %s from the kernel keyring: "
                          "%s, ignoring", u->name, strerror(-r));
        r = tokenfile_remove(s->d->cfg, u->uid);
        if (r < 0)
                dlog_warn("Failed to remove the token files of %s: %s, ignoring", u->name,
                          strerror(-r));
        r = record_delete(s->d->cfg, u->name);
        if (r < 0)
                dlog_warn("Failed to delete the session record of %s: %s, ignoring", u->name,
                          strerror(-r));
        user_drop(s, i);
}

void sessions_handle_close(struct sessions *s, const struct apilogin_msg *req,
                           struct srv_reply *ret)
{
        struct user_state *u;
        size_t i;

        ret->outcome = APILOGIN_OK;
        if (!req->user) {
                ret->outcome = APILOGIN_SERVICE_ERR;
                return;
        }
        u = user_find(s, req->user, &i);
        for (size_t k = 0; u && k < u->n_sess; k++) {
                struct apilogin_session *x = &u->sess[k];

                if (!session_matches(x, req))
                        continue;
                dlog_auth(LOG_INFO, "session closed: user=%s uid=%u service=%s pid=%u", u->name,
                          u->uid, x->service, x->pid);
                session_free_at(s, u, k);
                if (u->n_sess == 0)
                        last_session_closed(s, i);
                else
                        user_save(s, u);
                return;
        }
}

/* End u's sessions led by pid (whose watch pidwatch has dropped already); true if any. */
static bool end_sessions_of(struct sessions *s, struct user_state *u, uint32_t pid)
{
        bool any = false;

        for (size_t k = 0; k < u->n_sess;) {
                struct apilogin_session *x = &u->sess[k];

                if (x->pid != pid || !x->watched) {
                        k++;
                        continue;
                }
                dlog_auth(LOG_INFO, "session ended: user=%s uid=%u service=%s pid=%u: its "
                          "leader died without closing it", u->name, u->uid, x->service, pid);
                x->watched = false;
                session_free_at(s, u, k);
                any = true;
        }
        return any;
}

/* A session leader died without closing its sessions: end them as CLOSE would. */
static void leader_died(void *userdata, uint32_t pid)
{
        struct sessions *s = userdata;

        for (size_t i = 0; i < s->n_u;) {
                struct user_state *u = s->u[i];

                if (!end_sessions_of(s, u, pid)) {
                        i++;
                } else if (u->n_sess == 0) {
                        last_session_closed(s, i); /* moves another user to i */
                } else {
                        user_save(s, u);
                        i++;
                }
        }
}

/* ---- online again, revoked ------------------------------------------------------------ */

void sessions_online_again(struct sessions *s, const char *user)
{
        struct user_state *u = user_find(s, user, NULL);
        int r;

        if (!u || !u->offline || !pending_find(s, user))
                return; /* no offline session: the token waits for its OPEN */
        refresh_stop(s->rf, u);
        (void)adopt_pending(s, u, NULL, 0);
        user_save(s, u);
        r = tokenfile_update(s->d->cfg, u);
        if (r < 0)
                dlog_err("Failed to write the token file of %s: %s", u->name, strerror(-r));
        dlog_info("Offline session(s) of %s got a token: the online check answered", u->name);
        (void)refresh_plan(s->rf, u, REFRESH_NEW);
}

/* Signal the leader of x, unless its pid now names another process. */
static void signal_leader(const struct user_state *u, const struct apilogin_session *x)
{
        if (!x->pid || (x->pid_start && pidwatch_start_time(x->pid) != x->pid_start))
                return;
        if (kill((pid_t)x->pid, SIGTERM) < 0)
                dlog_warn("Failed to signal the leader pid %u of a session of %s: %s, ignoring",
                          x->pid, u->name, strerror(errno));
}

void sessions_remote_revoked(struct sessions *s, const char *user, const char *why)
{
        struct user_state *u = user_find(s, user, NULL);
        struct pending *p = pending_find(s, user);
        bool end = s->d->cfg->on_remote_revoke == APILOGIN_REVOKE_END_SESSION;

        if (p)
                pending_drop(p);
        dlog_warn("Remote revoke of %s: %s; %s", user, why,
                  !u || u->n_sess == 0 ? "no session on this host"
                  : end ? "ending its sessions on this host (on_remote_revoke = end_session)"
                        : "its sessions go on (on_remote_revoke = log)");
        for (size_t k = 0; end && u && k < u->n_sess; k++)
                signal_leader(u, &u->sess[k]);
}

/* refresh.c's on_remote_revoke hook. */
static void on_revoked(void *userdata, const char *user, bool password_judged, const char *why)
{
        struct sessions *s = userdata;
        int r;

        if (password_judged) {
                r = offline_delete(s->d->cfg->state_dir, user);
                if (r < 0)
                        dlog_warn("Failed to delete the offline verifier of %s: %s, ignoring",
                                  user, strerror(-r));
        }
        sessions_remote_revoked(s, user, why);
}

/* ---- reports -------------------------------------------------------------------------- */

const struct user_state *sessions_user_at(const struct sessions *s, size_t i)
{
        return s && i < s->n_u ? s->u[i] : NULL;
}

void sessions_stats(const struct sessions *s, struct sessions_stats *ret)
{
        struct refresh_stats rs;

        refresh_stats(s->rf, &rs);
        *ret = (struct sessions_stats){ .users = s->n_u, .pending = s->n_pending,
                                        .logouts = s->n_logouts, .renewing = rs.in_flight,
                                        .renewed = rs.renewed, .renew_failed = rs.failed,
                                        .expired = rs.expired,
                                        .offline_logins = s->offline_logins };
        pidwatch_count(s->pw, &ret->leaders, &ret->leader_pidfds);
        for (size_t i = 0; i < s->n_u; i++) {
                ret->sessions += s->u[i]->n_sess;
                ret->offline += s->u[i]->offline;
        }
}

/* ---- lifetime --------------------------------------------------------------------------- */

/* Watch the leaders of a loaded user's sessions; sessions whose leader died while the
 * daemon was away are ended. Returns whether any was. */
static bool load_leaders(struct sessions *s, struct user_state *u)
{
        bool ended = false;

        for (size_t k = 0; k < u->n_sess;) {
                struct apilogin_session *x = &u->sess[k];

                int r = x->pid ? pidwatch_add(s->pw, x->pid, x->pid_start) : -EINVAL;

                x->watched = r == 0;
                if (r != -ESRCH) {
                        k++;
                        continue;
                }
                dlog_auth(LOG_INFO, "session ended: user=%s uid=%u service=%s pid=%u: its "
                          "leader died while apilogind was not running", u->name, u->uid,
                          x->service, x->pid);
                session_free_at(s, u, k);
                ended = true;
        }
        return ended;
}

static void load_cb(void *userdata, struct user_state *u)
{
        struct sessions *s = userdata;
        char path[SRV_PATH_MAX + 1];
        int r;

        if (user_find(s, u->name, NULL) || user_insert(s, u) < 0) {
                user_state_free(u);
                return;
        }
        if (load_leaders(s, u) || u->n_sess == 0) {
                if (u->n_sess == 0) {
                        last_session_closed(s, s->n_u - 1);
                        return;
                }
                user_save(s, u);
        }
        if (!u->has_token && !u->offline)
                return;
        /* The daemon may have died between two writes: make the files match the record. */
        (void)tokenfile_tidy(s->d->cfg, u->uid);
        r = tokenfile_write(s->d->cfg, u, path, sizeof(path));
        if (r < 0)
                dlog_warn("Failed to rewrite the token file of %s: %s, ignoring", u->name,
                          strerror(-r));
        if (refresh_plan(s->rf, u, REFRESH_LOADED) < 0)
                dlog_err("Failed to plan the renewal of the token of %s: %s", u->name,
                         strerror(ENOMEM));
}

/* The kernel keyring, the renewal engine and the leader watch, before any record. */
static int open_parts(struct sessions *s)
{
        int r = keyring_open(s->d->cfg->run_dir, &s->kr);

        if (r < 0)
                dlog_warn("Failed to open the kernel keyring: %s; tokens of providers with "
                          "renew = relogin, and token_login sessions that die, will not be "
                          "renewed by re-login", strerror(-r));
        r = refresh_new(s->d, s->kr, &s->rf);
        if (r == 0)
                refresh_set_revoke(s->rf, on_revoked, s);
        r = r ?: pidwatch_new(s->d->loop, leader_died, s, &s->pw);
        return r;
}

int sessions_new(struct apilogind *d, struct sessions **ret)
{
        struct sessions *s = calloc(1, sizeof(*s));
        struct sessions_stats st;
        unsigned bad = 0;
        int r;

        if (!s)
                return -ENOMEM;
        s->d = d;
        r = open_parts(s);
        if (r < 0) {
                dlog_err("Failed to set up the sessions: %s", strerror(-r));
                sessions_free(s);
                return r;
        }
        r = record_load_all(d->cfg, load_cb, s, &bad);
        s->loaded = true;
        if (r < 0)
                dlog_warn("Failed to read the session records in %s/sessions: %s, ignoring",
                          d->cfg->run_dir, strerror(-r));
        if (bad > 0)
                dlog_warn("Skipped %u unreadable session record(s) in %s/sessions", bad,
                          d->cfg->run_dir);
        sessions_stats(s, &st);
        if (st.users > 0)
                dlog_info("Loaded %zu session(s) of %zu user(s)", st.sessions, st.users);
        *ret = s;
        return 0;
}

struct sessions *sessions_free(struct sessions *s)
{
        if (!s)
                return NULL;
        while (s->logouts) {
                apilogin_http_cancel(s->d->http, s->logouts->x);
                bg_free(s->logouts);
        }
        while (s->pending)
                pending_free(s->pending);
        for (size_t i = 0; i < s->n_u; i++) {
                if (s->rf)
                        refresh_stop(s->rf, s->u[i]);
                user_state_free(s->u[i]);
        }
        /* Nothing left to renew: no keyring either (a restart makes one when needed). */
        if (s->kr && s->loaded && s->n_u == 0)
                (void)keyring_discard(s->kr);
        free(s->u);
        s->pw = pidwatch_free(s->pw);
        s->rf = refresh_free(s->rf);
        s->kr = keyring_free(s->kr);
        free(s);
        return NULL;
}
