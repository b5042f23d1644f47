/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_apilogin.c: the PAM module. A thin client of apilogind, which is the one reader of
 * the config: the module knows only the daemon's socket (pam_opts.c). In every phase it
 * first asks the daemon whether the name is apilogin's for this PAM service (QUERY, no
 * secret), so root, deny_users, local accounts and services not listed get PAM_USER_UNKNOWN
 * (auth) or PAM_IGNORE (other phases) without a prompt: their passwords never leave the
 * module. Then it asks for the secret with the prompt the daemon gave, hands name + secret
 * to the daemon and maps the answer to a PAM code. It talks only to a socket served by
 * root (core/client.c). It links neither libcurl, cJSON nor the config parser, starts no
 * threads, installs no signal handlers and never calls openlog/exit. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "client.h"
#include "macro.h"
#include "names.h"
#include "outcome.h"
#include "pam_code.h"
#include "pam_opts.h"
#include "proto.h"
#include "secure.h"

#define DATA_VERDICT "apilogin_verdict"
#define DATA_SESSION "apilogin_session"
#define DATA_AUTH_HANDLE "apilogin_auth_handle"
#define PASSWD_FILE "/etc/passwd"
/* QUERY, ACCT, OPEN and CLOSE are answered by the daemon at once, from memory. */
#define QUERY_TIMEOUT_MS 5000
/* An AUTH takes up to the daemon's timeout (from the QUERY reply); a margin for the socket. */
#define CLIENT_MARGIN_MS 2000
#define PROMPT_MAX 64
/* sshd's stand-in secret for an invalid user is refused without being sent, but no sooner
 * than a real wrong password typically is: a login API's refusal costs an HTTPS round trip
 * plus the server's password hashing, 0.3-1 s over the internet. The stand-in waits a
 * random time in [MIN, MIN + SPREAD), so response time does not tell names apart. */
#define STANDIN_DELAY_MIN_MS 500
#define STANDIN_DELAY_SPREAD_MS 500

/* Each phase's requests share one connection (apilogin_client_exchange), closed on return. */
static void client_closep(struct apilogin_client *c)
{
        apilogin_client_close(c);
}
#define _cleanup_client_ _cleanup_(client_closep)

/* What the daemon said about this name in this phase. */
struct query {
        char prompt[PROMPT_MAX + 1]; /* "" = libpam's default */
        int timeout_ms;              /* for the requests that follow */
};

static void fill_common(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                        struct apilogin_msg *req, uint8_t type, const char *user)
{
        const void *service = NULL, *tty = NULL, *rhost = NULL;

        (void)pam_get_item(pamh, PAM_SERVICE, &service);
        (void)pam_get_item(pamh, PAM_TTY, &tty);
        (void)pam_get_item(pamh, PAM_RHOST, &rhost);
        req->type = type;
        req->user = user;
        req->service = service && strlen(service) <= apilogin_proto_tag_max(APILOGIN_TAG_SERVICE)
                               ? service : "unknown";
        req->tty = tty && strlen(tty) <= apilogin_proto_tag_max(APILOGIN_TAG_TTY) ? tty : NULL;
        req->rhost = rhost && strlen(rhost) <= apilogin_proto_tag_max(APILOGIN_TAG_RHOST)
                             ? rhost : NULL;
        req->provider = o->provider;
}

/* Exchange one request with the daemon, on the phase's connection (cl: the QUERY's
 * connection carries the request that follows it). Returns 0 with a decoded reply, or
 * PAM_AUTHINFO_UNAVAIL (logged) when the daemon is not there or is not root. */
static int call_daemon(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                       struct apilogin_client *cl, const struct apilogin_msg *req,
                       struct apilogin_msg *reply, int timeout_ms)
{
        int r = apilogin_client_exchange(cl, o->socket, req, reply, timeout_ms);

        if (r == -EPERM) {
                pam_syslog(pamh, LOG_ERR, "Refusing to talk to %s: it is not served by root, "
                                          "so not by apilogind; user=%s", o->socket, req->user);
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (r < 0) {
                pam_syslog(pamh, LOG_ERR, "Failed to reach apilogind at %s: %s; user=%s",
                           o->socket, strerror(-r), req->user);
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (!reply->has_outcome)
                return PAM_AUTHINFO_UNAVAIL;
        return 0;
}

/* The daemon's prompt, as the conversation will show it: bounded, no control characters. */
static void take_prompt(struct query *q, const char *text)
{
        size_t i = 0;

        for (; text && text[i] && i < PROMPT_MAX; i++) {
                unsigned char c = (unsigned char)text[i];

                q->prompt[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
        q->prompt[i] = '\0';
}

/* Ask the daemon whether user is apilogin's for this service (QUERY: no secret). Returns
 * PAM_SUCCESS with q filled, not_ours when it is not, PAM_AUTHINFO_UNAVAIL when there is
 * no daemon (or no root one), or the code of another answer. */
static int query(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                 struct apilogin_client *cl, const char *user, int not_ours, struct query *q)
{
        struct apilogin_msg req = {}, reply;
        int r;

        /* A name the protocol cannot carry is nobody's to send. */
        if (!apilogin_name_valid(user))
                return not_ours;
        fill_common(pamh, o, &req, APILOGIN_REQ_QUERY, user);
        r = call_daemon(pamh, o, cl, &req, &reply, QUERY_TIMEOUT_MS);
        if (r != 0)
                return r;
        r = apilogin_outcome_pam((int)reply.outcome, NULL);
        if (r == PAM_USER_UNKNOWN || r == PAM_IGNORE) {
                pam_debug(pamh, o, "user %s is not handled by apilogin for this service", user);
                r = not_ours;
        } else if (r == PAM_SUCCESS) {
                take_prompt(q, reply.text);
                q->timeout_ms = (reply.has_timeout && reply.timeout <= 600000
                                         ? (int)reply.timeout : QUERY_TIMEOUT_MS) +
                                CLIENT_MARGIN_MS;
        } else {
                pam_syslog(pamh, LOG_ERR, "apilogind refused to consider user=%s: %s", user,
                           apilogin_outcome_name((int)reply.outcome));
        }
        apilogin_proto_wipe(&reply);
        return r;
}

/* QUERY for the phases after auth. Without a daemon these cannot ask: a local account is
 * then left to pam_unix (not_ours), anything else gets unreachable_code, so a remote user
 * is not let through unchecked. */
static int query_or_local(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                          struct apilogin_client *cl, const char *user, int not_ours,
                          int unreachable_code, struct query *q)
{
        int r = query(pamh, o, cl, user, not_ours, q);

        if (r != PAM_AUTHINFO_UNAVAIL)
                return r;
        return apilogin_name_in_passwd(PASSWD_FILE, user) > 0 ? not_ours : unreachable_code;
}

static void cleanup_verdict(pam_handle_t *pamh, void *data, int error_status)
{
        (void)pamh;
        (void)error_status;
        free(data);
}

static void remember_verdict(pam_handle_t *pamh, int outcome)
{
        int *v = malloc(sizeof(*v));

        if (!v)
                return;
        *v = outcome;
        if (pam_set_data(pamh, DATA_VERDICT, v, cleanup_verdict) != PAM_SUCCESS)
                free(v);
}

static void tell_user(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                      const struct apilogin_msg *reply)
{
        if (!o->quiet && reply->message && reply->message[0])
                (void)pam_error(pamh, "%s", reply->message);
}

/* Wait as a real refusal would (STANDIN_DELAY_*), whatever signals arrive meanwhile. */
static void standin_delay(void)
{
        unsigned jitter = 0;
        struct timespec ts;
        long long ms;

        if (getrandom(&jitter, sizeof(jitter), GRND_NONBLOCK) != sizeof(jitter))
                jitter = (unsigned)getpid();
        ms = STANDIN_DELAY_MIN_MS + jitter % STANDIN_DELAY_SPREAD_MS;
        ts = (struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void cleanup_string(pam_handle_t *pamh, void *data, int error_status)
{
        (void)pamh;
        (void)error_status;
        free(data);
}

/* Keep the handle the daemon gave this transaction's AUTH, for its OPEN: the daemon hands
 * the token only to the session of the login that got it. Where the handle does not reach
 * the OPEN (sshd authenticates in a child process), the daemon matches the processes. */
static void remember_auth_handle(pam_handle_t *pamh, const char *handle)
{
        char *h;

        if (!handle)
                return;
        h = strdup(handle);
        if (h && pam_set_data(pamh, DATA_AUTH_HANDLE, h, cleanup_string) != PAM_SUCCESS)
                free(h);
}

/* Ask for the secret with the daemon's prompt and run AUTH. Returns a PAM code. */
static int authenticate(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                        struct apilogin_client *cl, const struct query *q, const char *user)
{
        struct apilogin_msg req = {}, reply;
        const char *tok = NULL;
        int r;

        r = pam_get_authtok(pamh, PAM_AUTHTOK, &tok, q->prompt[0] ? q->prompt : NULL);
        if (r != PAM_SUCCESS)
                return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : r;
        if (!tok || strlen(tok) > APILOGIN_SECRET_MAX)
                return PAM_AUTH_ERR;
        /* sshd runs PAM for users it considers invalid with "\b\n\r\177INCORRECT" in place
         * of what was typed; no real secret holds these bytes: never send one, and answer
         * no faster than a real refusal. */
        if (strpbrk(tok, "\b\n\r\177")) {
                standin_delay();
                pam_debug(pamh, o, "secret with control characters refused; user=%s", user);
                return PAM_AUTH_ERR;
        }
        fill_common(pamh, o, &req, APILOGIN_REQ_AUTH, user);
        req.secret = tok;
        r = call_daemon(pamh, o, cl, &req, &reply, q->timeout_ms);
        if (r == 0) {
                tell_user(pamh, o, &reply);
                remember_verdict(pamh, (int)reply.outcome);
                r = apilogin_outcome_pam((int)reply.outcome, NULL);
                if (r == PAM_IGNORE)
                        r = PAM_USER_UNKNOWN;
                if (r == PAM_SUCCESS)
                        remember_auth_handle(pamh, reply.session);
                else
                        pam_syslog(pamh, LOG_NOTICE, "authentication failure (%s); user=%s",
                                   apilogin_outcome_name((int)reply.outcome), user);
        }
        apilogin_proto_wipe(&reply);
        return r;
}

/* Options and user name. Returns PAM_SUCCESS, or the code to return. */
static int prologue(pam_handle_t *pamh, int flags, int argc, const char **argv,
                    struct apilogin_pam_opts *o, const char **user)
{
        int r;

        apilogin_pam_opts_parse(pamh, flags, argc, argv, o);
        r = pam_get_user(pamh, user, NULL);
        if (r != PAM_SUCCESS || !*user)
                return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_USER_UNKNOWN;
        return PAM_SUCCESS;
}

_public_ int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_client_ struct apilogin_client cl = APILOGIN_CLIENT_INIT;
        struct apilogin_pam_opts o;
        struct query q = {};
        const char *user = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &user);
        if (r != PAM_SUCCESS)
                return r;
        /* No daemon: PAM_AUTHINFO_UNAVAIL at once, so pam_unix serves local users. */
        r = query(pamh, &o, &cl, user, PAM_USER_UNKNOWN, &q);
        if (r == PAM_SUCCESS)
                r = authenticate(pamh, &o, &cl, &q, user);
        pam_debug(pamh, &o, "authenticate user=%s: %s", user, pam_strerror(pamh, r));
        return r;
}

_public_ int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        /* Nothing to establish here: the token is handed over at session open. SUCCESS, not
         * IGNORE, because stacks use "default=die" after apilogin. */
        return PAM_SUCCESS;
}

static int ask_account(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                       struct apilogin_client *cl, const struct query *q, const char *user)
{
        struct apilogin_msg req = {}, reply;
        int r;

        fill_common(pamh, o, &req, APILOGIN_REQ_ACCT, user);
        req.provider = NULL;
        r = call_daemon(pamh, o, cl, &req, &reply, q->timeout_ms);
        if (r == 0)
                r = apilogin_outcome_pam((int)reply.outcome, NULL);
        apilogin_proto_wipe(&reply);
        return r;
}

_public_ int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_client_ struct apilogin_client cl = APILOGIN_CLIENT_INIT;
        struct apilogin_pam_opts o;
        struct query q = {};
        const char *user = NULL;
        const void *verdict = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &user);
        if (r != PAM_SUCCESS)
                return r;
        r = query_or_local(pamh, &o, &cl, user, PAM_IGNORE, PAM_AUTHINFO_UNAVAIL, &q);
        if (r != PAM_SUCCESS)
                return r;
        /* A verdict from our own auth phase in this handle is authoritative. */
        if (pam_get_data(pamh, DATA_VERDICT, &verdict) == PAM_SUCCESS && verdict &&
            *(const int *)verdict != APILOGIN_OK)
                return apilogin_outcome_pam(*(const int *)verdict, NULL);
        r = ask_account(pamh, &o, &cl, &q, user);
        pam_debug(pamh, &o, "account user=%s: %s", user, pam_strerror(pamh, r));
        return r;
}

static int export_session(pam_handle_t *pamh, const struct apilogin_msg *reply)
{
        char env[sizeof("APILOGIN_TOKEN_FILE=") + 256];
        char *sid;
        int r;

        if (reply->session) {
                sid = strdup(reply->session);
                if (!sid || pam_set_data(pamh, DATA_SESSION, sid, cleanup_string) != PAM_SUCCESS) {
                        free(sid);
                        return PAM_BUF_ERR;
                }
        }
        if (!reply->token_file)
                return PAM_SUCCESS;
        snprintf(env, sizeof(env), "APILOGIN_TOKEN_FILE=%s", reply->token_file);
        r = pam_putenv(pamh, env);
        return r;
}

/* A session phase's one request (type, with the pam data under data_key as its handle,
 * and our pid) after the QUERY. PAM_SUCCESS with *reply filled (wipe it), PAM_IGNORE for
 * a name that is not ours, PAM_SESSION_ERR otherwise. */
static int session_call(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                        struct apilogin_client *cl, const char *user, uint8_t type,
                        const char *data_key, struct apilogin_msg *reply)
{
        struct apilogin_msg req = {};
        struct query q = {};
        const void *handle = NULL;
        int r;

        r = query_or_local(pamh, o, cl, user, PAM_IGNORE, PAM_SESSION_ERR, &q);
        if (r != PAM_SUCCESS)
                return r == PAM_IGNORE ? r : PAM_SESSION_ERR;
        fill_common(pamh, o, &req, type, user);
        if (type == APILOGIN_REQ_CLOSE)
                req.provider = NULL;
        if (pam_get_data(pamh, data_key, &handle) == PAM_SUCCESS)
                req.session = handle;
        req.has_pid = true;
        req.pid = (uint32_t)getpid();
        r = call_daemon(pamh, o, cl, &req, reply, q.timeout_ms);
        if (r != 0) {
                apilogin_proto_wipe(reply);
                return PAM_SESSION_ERR;
        }
        return PAM_SUCCESS;
}

_public_ int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_client_ struct apilogin_client cl = APILOGIN_CLIENT_INIT;
        struct apilogin_msg reply;
        struct apilogin_pam_opts o;
        const char *user = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &user);
        if (r != PAM_SUCCESS)
                return r;
        r = session_call(pamh, &o, &cl, user, APILOGIN_REQ_OPEN, DATA_AUTH_HANDLE, &reply);
        if (r != PAM_SUCCESS)
                return r;
        r = apilogin_outcome_pam((int)reply.outcome, NULL);
        if (r == PAM_SUCCESS)
                r = export_session(pamh, &reply);
        else if (r != PAM_IGNORE)
                r = PAM_SESSION_ERR;
        apilogin_proto_wipe(&reply);
        pam_debug(pamh, &o, "open_session user=%s: %s", user, pam_strerror(pamh, r));
        return r;
}

_public_ int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_client_ struct apilogin_client cl = APILOGIN_CLIENT_INIT;
        struct apilogin_msg reply;
        struct apilogin_pam_opts o;
        const char *user = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &user);
        if (r != PAM_SUCCESS)
                return r;
        r = session_call(pamh, &o, &cl, user, APILOGIN_REQ_CLOSE, DATA_SESSION, &reply);
        if (r != PAM_SUCCESS)
                return r;
        r = apilogin_outcome_pam((int)reply.outcome, NULL);
        apilogin_proto_wipe(&reply);
        pam_debug(pamh, &o, "close_session user=%s: %s", user, pam_strerror(pamh, r));
        return r == PAM_SUCCESS || r == PAM_IGNORE ? r : PAM_SESSION_ERR;
}

_public_ int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_client_ struct apilogin_client cl = APILOGIN_CLIENT_INIT;
        struct apilogin_pam_opts o;
        struct query q = {};
        const char *user = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &user);
        if (r != PAM_SUCCESS)
                return r;
        /* Without a daemon, say nothing: passwd for a local user must go on undisturbed. */
        if (query(pamh, &o, &cl, user, PAM_IGNORE, &q) != PAM_SUCCESS)
                return PAM_IGNORE;
        if ((flags & PAM_PRELIM_CHECK) && !o.quiet)
                (void)pam_info(pamh, "The password of %s is managed by the login service; "
                                     "change it there.", user);
        return PAM_IGNORE;
}
