/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* admin.c: STATUS, USERS, SESSIONS, USER_ADD, USER_DEL and FLUSH (see admin.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "admin.h"
#include "apilogind.h"
#include "daemon/http.h"
#include "daemon/users.h"
#include "dlog.h"
#include "lockout.h"
#include "login.h"
#include "metrics.h"
#include "reply.h"
#include "sessions.h"
#include "tokenfile.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define LIST_TAIL 48 /* room kept for `],"total":N,"more":N}` */

static void json_freep(cJSON **j)
{
        cJSON_Delete(*j);
}
#define _cleanup_json_ __attribute__((cleanup(json_freep)))

/* A unix time, or null for "never". */
static void add_time(cJSON *o, const char *key, int64_t t)
{
        if (t > 0)
                cJSON_AddNumberToObject(o, key, (double)t);
        else
                cJSON_AddNullToObject(o, key);
}

static void add_str(cJSON *o, const char *key, const char *v)
{
        if (v)
                cJSON_AddStringToObject(o, key, v);
        else
                cJSON_AddNullToObject(o, key);
}

/* Print o into buf; a fixed error object when it does not fit (cannot happen for status
 * with a sane number of providers). */
static void print_into(cJSON *o, char *buf, size_t n)
{
        char *s = o ? cJSON_PrintUnformatted(o) : NULL;

        if (s && strlen(s) < n)
                memcpy(buf, s, strlen(s) + 1);
        else
                snprintf(buf, n, "{\"error\":\"%s\"}", s ? "reply too long" : "out of memory");
        free(s);
}

/* ---- lists: items appended while they fit ------------------------------------------------ */

struct jlist {
        char *buf;
        size_t n, pos;
        size_t offset;       /* entries before this one are skipped (an earlier page) */
        size_t total, shown, more;
};

static void jlist_begin(struct jlist *j, char *buf, size_t n, const char *key, size_t offset)
{
        *j = (struct jlist){ .buf = buf, .n = n, .offset = offset };
        j->pos = (size_t)snprintf(buf, n, "{\"%s\":[", key);
}

/* Whether the next entry is wanted: false for those before the offset, and for every
 * entry once one has been left out (they are counted only). */
static bool jlist_wants(struct jlist *j)
{
        j->total++;
        if (j->total <= j->offset)
                return false;
        if (j->more) {
                j->more++;
                return false;
        }
        return true;
}

/* Append item (taken, after jlist_wants said yes) unless it does not fit. */
static void jlist_add(struct jlist *j, cJSON *item)
{
        char *s = item ? cJSON_PrintUnformatted(item) : NULL;
        size_t len = s ? strlen(s) + 1 : 0;

        cJSON_Delete(item);
        if (!s || j->pos + len + LIST_TAIL >= j->n) {
                j->more++;
        } else {
                if (j->shown++)
                        j->buf[j->pos++] = ',';
                memcpy(j->buf + j->pos, s, len - 1);
                j->pos += len - 1;
                j->buf[j->pos] = '\0';
        }
        free(s);
}

static void jlist_end(struct jlist *j)
{
        snprintf(j->buf + j->pos, j->n - j->pos,
                 "],\"offset\":%zu,\"total\":%zu,\"more\":%zu}", j->offset, j->total, j->more);
}

/* ---- status ------------------------------------------------------------------------------ */

static cJSON *provider_json(const struct apilogind *d, const char *name)
{
        const struct apilogin_provider_cfg *p = apilogin_config_provider(d->cfg, name);
        const struct metrics_provider *mp = metrics_provider_find(d->metrics, name);
        cJSON *o = cJSON_CreateObject();

        if (!o)
                return NULL;
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "type", p && p->type ? p->type->name : "?");
        cJSON_AddStringToObject(o, "state", !mp || mp->up < 0 ? "unknown"
                                            : mp->up          ? "online"
                                                              : "offline");
        add_time(o, "last_success", mp ? mp->last_ok : 0);
        add_time(o, "last_error", mp ? mp->last_err : 0);
        add_str(o, "last_error_reason", mp && mp->last_err ? mp->last_error : NULL);
        return o;
}

static cJSON *logins_json(const struct apilogind *d)
{
        cJSON *o = cJSON_CreateObject();

        for (int i = 0; o && i < _APILOGIN_OUTCOME_MAX; i++)
                if (i != APILOGIN_IGNORE)
                        cJSON_AddNumberToObject(o, apilogin_outcome_name(i),
                                                (double)metrics_logins_total(d->metrics, i));
        return o;
}

static void status_counts(const struct apilogind *d, const struct admin_server_info *si,
                          const struct sessions_stats *st, cJSON *o)
{
        cJSON *x;

        cJSON_AddNumberToObject(o, "users", (double)users_count(d->users));
        cJSON_AddNumberToObject(o, "sessions", (double)st->sessions);
        cJSON_AddNumberToObject(o, "session_users", (double)st->users);
        cJSON_AddNumberToObject(o, "pending_logins", (double)st->pending);
        if ((x = cJSON_AddObjectToObject(o, "offline"))) {
                cJSON_AddBoolToObject(x, "enabled", d->cfg->offline_login);
                cJSON_AddNumberToObject(x, "session_users", (double)st->offline);
                cJSON_AddNumberToObject(x, "logins",
                                        (double)metrics_offline_logins_total(d->metrics));
        }
        cJSON_AddItemToObject(o, "logins", logins_json(d));
        if ((x = cJSON_AddObjectToObject(o, "refreshes"))) {
                cJSON_AddNumberToObject(x, "ok", (double)st->renewed);
                cJSON_AddNumberToObject(x, "failed", (double)st->renew_failed);
                cJSON_AddNumberToObject(x, "expired", (double)st->expired);
        }
        cJSON_AddNumberToObject(o, "logins_in_flight", logins_in_flight(d->logins));
        cJSON_AddNumberToObject(o, "transfers_in_flight", apilogin_http_in_flight(d->http));
        cJSON_AddNumberToObject(o, "background_logouts", (double)st->logouts);
        cJSON_AddNumberToObject(o, "clients", si->clients);
        if ((x = cJSON_AddObjectToObject(o, "client_limits"))) {
                cJSON_AddNumberToObject(x, "root", si->root_max);
                cJSON_AddNumberToObject(x, "other", si->nonroot_max);
                cJSON_AddNumberToObject(x, "per_uid", si->per_uid_max);
        }
        cJSON_AddNumberToObject(o, "lockout_entries", (double)lockout_size(d->lockout));
        add_str(o, "metrics_file", d->cfg->metrics_file);
}

static void do_status(struct apilogind *d, const struct admin_server_info *si, char *buf,
                      size_t n)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        int64_t started = metrics_started_at(d->metrics), now = time(NULL);
        struct sessions_stats st;
        cJSON *prov;

        sessions_stats(d->sessions, &st);
        if (o) {
                cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
                add_str(o, "config", d->cfg->path);
                cJSON_AddNumberToObject(o, "pid", getpid());
                add_time(o, "started_at", started);
                cJSON_AddNumberToObject(o, "uptime_s", (double)(now > started ? now - started : 0));
                prov = cJSON_AddArrayToObject(o, "providers");
                for (size_t i = 0; prov && i < d->cfg->providers.n; i++)
                        cJSON_AddItemToArray(prov, provider_json(d, d->cfg->providers.v[i]));
                status_counts(d, si, &st, o);
        }
        print_into(o, buf, n);
}

/* ---- users and sessions --------------------------------------------------------------------- */

static void do_users(struct apilogind *d, size_t offset, char *buf, size_t n)
{
        size_t count = users_count(d->users);
        struct jlist j;

        jlist_begin(&j, buf, n, "users", offset);
        for (size_t i = 0; i < count; i++) {
                const struct apilogin_user *u = users_at(d->users, i);
                cJSON *o;

                if (!jlist_wants(&j))
                        continue;
                o = cJSON_CreateObject();

                if (o) {
                        cJSON_AddStringToObject(o, "name", u->name);
                        cJSON_AddNumberToObject(o, "uid", u->uid);
                        add_str(o, "gecos", u->gecos && u->gecos[0] ? u->gecos : NULL);
                        add_str(o, "provider", u->provider);
                        add_time(o, "last_login", u->last_login);
                        cJSON_AddBoolToObject(o, "disabled", u->disabled);
                        cJSON_AddNumberToObject(o, "sessions",
                                                (double)sessions_of(d->sessions, u->name, NULL));
                }
                jlist_add(&j, o);
        }
        jlist_end(&j);
}

static const char *token_state(const struct user_state *u)
{
        if (u->offline)
                return "offline";
        if (!u->has_token)
                return "no token";
        return u->tok.expired ? "expired" : "online";
}

static cJSON *session_json(const struct user_state *u, const struct apilogin_session *x)
{
        cJSON *o = cJSON_CreateObject();

        if (!o)
                return NULL;
        cJSON_AddStringToObject(o, "user", u->name);
        cJSON_AddNumberToObject(o, "uid", u->uid);
        cJSON_AddStringToObject(o, "id", x->id);
        add_str(o, "service", x->service);
        add_str(o, "tty", x->tty);
        add_str(o, "rhost", x->rhost);
        cJSON_AddNumberToObject(o, "pid", x->pid);
        add_time(o, "opened_at", x->opened_at);
        add_str(o, "provider", u->has_token || u->offline ? u->tok.provider : NULL);
        cJSON_AddStringToObject(o, "state", token_state(u));
        return o;
}

static void do_sessions(struct apilogind *d, size_t offset, char *buf, size_t n)
{
        const struct user_state *u;
        struct jlist j;

        jlist_begin(&j, buf, n, "sessions", offset);
        for (size_t i = 0; (u = sessions_user_at(d->sessions, i)); i++)
                for (size_t k = 0; k < u->n_sess; k++)
                        if (jlist_wants(&j))
                                jlist_add(&j, session_json(u, &u->sess[k]));
        jlist_end(&j);
}

/* ---- changes ------------------------------------------------------------------------------- */

static void do_user_add(struct apilogind *d, const struct apilogin_msg *m, struct srv_reply *rep,
                        char *buf, size_t n)
{
        uint32_t uid = 0;
        int r;

        if (!m->user || !login_name_is_ours(d->cfg, d->local, m->user)) {
                rep->outcome = APILOGIN_USER_UNKNOWN;
                snprintf(buf, n, "refused: not a name apilogin may manage");
                return;
        }
        r = users_add(d->users, m->user, &uid);
        if (r < 0) {
                rep->outcome = APILOGIN_SERVICE_ERR;
                snprintf(buf, n, "%s: %s", m->user,
                         r == -EEXIST        ? "exists already"
                         : r == -EADDRINUSE ? "its uid is held by another name (see the log)"
                                            : strerror(-r));
                return;
        }
        dlog_info("Added user %s (uid %u) on an admin request", m->user, uid);
        rep->outcome = APILOGIN_OK;
        rep->has_uid = true;
        rep->uid = uid;
        snprintf(buf, n, "added %s with uid %u", m->user, uid);
}

/* Whether name may leave the NSS cache now: not while it has live sessions (their
 * processes would lose their name) or a login waiting for its session. */
static bool user_busy(struct apilogind *d, const char *name, size_t *ret_sessions)
{
        bool pending = false;

        *ret_sessions = sessions_of(d->sessions, name, &pending);
        return *ret_sessions > 0 || pending;
}

static void do_user_del(struct apilogind *d, const struct apilogin_msg *m, struct srv_reply *rep,
                        char *buf, size_t n)
{
        size_t k = 0;
        int r;

        /* Its processes would lose their name. A login in progress is no reason: its
         * OPEN then finds no user and the session gets no token. */
        if (m->user && (k = sessions_of(d->sessions, m->user, NULL)) > 0) {
                rep->outcome = APILOGIN_PERM_DENIED;
                snprintf(buf, n, "%s is logged in (%zu live session(s)): not removed. End its "
                         "sessions first (e.g. loginctl terminate-user %s), then run user del "
                         "again", m->user, k, m->user);
                return;
        }
        r = m->user ? users_remove(d->users, m->user) : -EINVAL;
        if (r < 0) {
                rep->outcome = r == -ENOENT ? APILOGIN_USER_UNKNOWN : APILOGIN_SERVICE_ERR;
                snprintf(buf, n, "%s", r == -ENOENT ? "no such user" : strerror(-r));
                return;
        }
        dlog_info("Removed user %s on an admin request", m->user);
        rep->outcome = APILOGIN_OK;
        snprintf(buf, n, "removed %s", m->user);
}

/* Expire the NSS cache the way sss_cache does: every cached user that is not logged in
 * leaves it (its uid stays reserved for it, 'R' record), so the next lookup of that name
 * does not find it; a user's next login (or users_file at the next reload) brings it
 * back. Users with live sessions or a login in progress keep their entry. */
static void do_flush(struct apilogind *d, struct srv_reply *rep, char *buf, size_t n)
{
        size_t removed = 0, kept = 0, k;
        int r = 0;

        for (size_t i = users_count(d->users); i-- > 0;) {
                const struct apilogin_user *u = users_at(d->users, i);
                char *name;

                if (user_busy(d, u->name, &k)) {
                        kept++;
                        continue;
                }
                name = strdup(u->name); /* users_remove frees u->name */
                r = name ? users_remove(d->users, name) : -ENOMEM;
                free(name);
                if (r < 0)
                        break;
                removed++;
        }
        dlog_info("Flushed the user cache on an admin request: %zu expired, %zu logged in kept",
                  removed, kept);
        rep->outcome = r < 0 ? APILOGIN_SERVICE_ERR : APILOGIN_OK;
        snprintf(buf, n, "expired %zu cached user(s); kept %zu with live sessions%s%s", removed,
                 kept, r < 0 ? "; stopped: " : "", r < 0 ? strerror(-r) : "");
}

void admin_handle(struct apilogind *d, const struct admin_server_info *si,
                  const struct apilogin_msg *m, struct srv_reply *rep, char *buf, size_t n)
{
        rep->outcome = APILOGIN_OK;
        buf[0] = '\0';
        switch (m->type) {
        case APILOGIN_REQ_STATUS: do_status(d, si, buf, n); break;
        case APILOGIN_REQ_USERS: do_users(d, m->has_offset ? m->offset : 0, buf, n); break;
        case APILOGIN_REQ_SESSIONS:
                do_sessions(d, m->has_offset ? m->offset : 0, buf, n);
                break;
        case APILOGIN_REQ_USER_ADD: do_user_add(d, m, rep, buf, n); break;
        case APILOGIN_REQ_USER_DEL: do_user_del(d, m, rep, buf, n); break;
        case APILOGIN_REQ_FLUSH: do_flush(d, rep, buf, n); break;
        default: rep->outcome = APILOGIN_SERVICE_ERR; break;
        }
}
