/* pam_apilogin.c: the PAM module. A thin client of apilogind: it decides locally which
 * names are not apilogin's (root, deny_users, local accounts: their passwords never leave
 * the host), asks for the secret, hands name + secret to the daemon over its socket and
 * maps the answer to a PAM code. It links neither libcurl nor cJSON, starts no threads,
 * installs no signal handlers and never calls openlog/exit. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "client.h"
#include "conf.h"
#include "macro.h"
#include "names.h"
#include "outcome.h"
#include "pam_opts.h"
#include "proto.h"
#include "secure.h"

#define DATA_VERDICT "apilogin_verdict"
#define DATA_SESSION "apilogin_session"
#define PASSWD_FILE "/etc/passwd"
/* The daemon answers within its own timeout; give it that plus a margin for the socket. */
#define CLIENT_MARGIN_MS 2000

/* The one place outcomes become PAM codes. */
static int outcome_to_pam(int outcome)
{
        switch (outcome) {
        case APILOGIN_OK: return PAM_SUCCESS;
        case APILOGIN_AUTH_ERR: return PAM_AUTH_ERR;
        case APILOGIN_USER_UNKNOWN: return PAM_USER_UNKNOWN;
        case APILOGIN_ACCT_EXPIRED: return PAM_ACCT_EXPIRED;
        case APILOGIN_PERM_DENIED: return PAM_PERM_DENIED;
        case APILOGIN_MAXTRIES: return PAM_MAXTRIES;
        case APILOGIN_UNAVAIL: return PAM_AUTHINFO_UNAVAIL;
        case APILOGIN_NEW_AUTHTOK: return PAM_NEW_AUTHTOK_REQD;
        case APILOGIN_IGNORE: return PAM_IGNORE;
        default: return PAM_SERVICE_ERR;
        }
}

static void config_freep(struct apilogin_config **c)
{
        apilogin_config_free(*c);
}

/* Whether apilogin may handle this name at all. Decided here, before anything is sent:
 * 1 = ours, 0 = not ours (PAM_USER_UNKNOWN / PAM_IGNORE). cfg may be NULL (config broken):
 * then the safe defaults apply (root and local accounts are never ours). */
static int name_is_ours(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                        const struct apilogin_config *cfg, const char *user)
{
        int r;

        if (!apilogin_name_valid(user) || strcmp(user, "root") == 0)
                return 0;
        if (cfg && apilogin_strv_contains(&cfg->deny_users, user))
                return 0;
        if (cfg && cfg->allow_local_users)
                return 1;
        r = apilogin_name_in_passwd(PASSWD_FILE, user);
        if (r < 0) {
                pam_syslog(pamh, LOG_ERR, "Failed to read %s: %s", PASSWD_FILE, strerror(-r));
                return 0; /* cannot prove the name is not local: never send it */
        }
        if (r > 0)
                pam_debug(pamh, o, "user %s is a local account, not handled", user);
        return r == 0;
}

/* Whether this PAM service may use apilogin at all ([global] services; empty = every
 * service). Decided here, before anything is sent, so that a sudo, cron or polkit stack
 * that includes common-auth never sends a remote password unless the administrator
 * lists it. */
static bool service_allowed(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                            const struct apilogin_config *cfg)
{
        const void *service = NULL;

        if (cfg->services.n == 0)
                return true;
        (void)pam_get_item(pamh, PAM_SERVICE, &service);
        if (service && apilogin_strv_contains(&cfg->services, service))
                return true;
        pam_debug(pamh, o, "service %s is not in services, not handled",
                  service ? (const char *)service : "(none)");
        return false;
}

/* Load the config; logs once on failure. */
static int load_config(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                       struct apilogin_config **ret)
{
        char err[512] = "";
        int r = apilogin_config_load(o->config, ret, err, sizeof(err));

        if (r < 0)
                pam_syslog(pamh, LOG_ERR, "Failed to load config: %s",
                           err[0] ? err : strerror(-r));
        return r;
}

static void fill_common(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                        struct apilogin_msg *req, uint8_t type, const char *user)
{
        const void *service = NULL, *tty = NULL, *rhost = NULL;

        (void)pam_get_item(pamh, PAM_SERVICE, &service);
        (void)pam_get_item(pamh, PAM_TTY, &tty);
        (void)pam_get_item(pamh, PAM_RHOST, &rhost);
        req->type = type;
        req->user = user;
        req->service = service ? service : "unknown";
        req->tty = tty && strlen(tty) <= apilogin_proto_tag_max(APILOGIN_TAG_TTY) ? tty : NULL;
        req->rhost = rhost && strlen(rhost) <= apilogin_proto_tag_max(APILOGIN_TAG_RHOST)
                             ? rhost : NULL;
        req->provider = o->provider;
}

/* Exchange one request with the daemon. Returns 0 with a decoded reply, or a PAM code
 * (PAM_AUTHINFO_UNAVAIL when the daemon is not there). */
static int call_daemon(pam_handle_t *pamh, const struct apilogin_config *cfg,
                       const struct apilogin_msg *req, struct apilogin_msg *reply)
{
        int timeout = (int)cfg->timeout_ms + CLIENT_MARGIN_MS;
        int r = apilogin_client_call(cfg->socket_path, req, reply, timeout);

        if (r < 0) {
                pam_syslog(pamh, LOG_ERR, "Failed to reach apilogind at %s: %s; user=%s",
                           cfg->socket_path, strerror(-r), req->user);
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (!reply->has_outcome)
                return PAM_AUTHINFO_UNAVAIL;
        return 0;
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

/* Ask for the secret and run AUTH. Returns a PAM code. */
static int authenticate(pam_handle_t *pamh, const struct apilogin_pam_opts *o,
                        const struct apilogin_config *cfg, const char *user)
{
        struct apilogin_msg req = {}, reply;
        const char *tok = NULL;
        int r;

        r = pam_get_authtok(pamh, PAM_AUTHTOK, &tok, NULL);
        if (r != PAM_SUCCESS)
                return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : r;
        if (!tok || strlen(tok) > APILOGIN_SECRET_MAX)
                return PAM_AUTH_ERR;
        /* sshd runs PAM for users it considers invalid with "\b\n\r\177INCORRECT" in place
         * of what was typed; no real secret holds these bytes: never send one. */
        if (strpbrk(tok, "\b\n\r\177")) {
                pam_debug(pamh, o, "secret with control characters refused; user=%s", user);
                return PAM_AUTH_ERR;
        }
        fill_common(pamh, o, &req, APILOGIN_REQ_AUTH, user);
        req.secret = tok;
        r = call_daemon(pamh, cfg, &req, &reply);
        if (r == 0) {
                tell_user(pamh, o, &reply);
                remember_verdict(pamh, (int)reply.outcome);
                r = outcome_to_pam((int)reply.outcome);
                if (r == PAM_IGNORE)
                        r = PAM_USER_UNKNOWN;
                if (r != PAM_SUCCESS)
                        pam_syslog(pamh, LOG_NOTICE, "authentication failure (%s); user=%s",
                                   apilogin_outcome_name((int)reply.outcome), user);
        }
        apilogin_proto_wipe(&reply);
        return r;
}

/* Shared prologue: options, user name, config, and whether the service and the name are
 * ours. Returns PAM_SUCCESS when the phase should go on, else the code to return. */
static int prologue(pam_handle_t *pamh, int flags, int argc, const char **argv,
                    struct apilogin_pam_opts *o, struct apilogin_config **cfg,
                    const char **user, int not_ours)
{
        int r;

        apilogin_pam_opts_parse(pamh, flags, argc, argv, o);
        r = pam_get_user(pamh, user, NULL);
        if (r != PAM_SUCCESS || !*user)
                return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_USER_UNKNOWN;
        if (load_config(pamh, o, cfg) < 0)
                return name_is_ours(pamh, o, NULL, *user) ? PAM_SERVICE_ERR : not_ours;
        if (!service_allowed(pamh, o, *cfg))
                return not_ours;
        return name_is_ours(pamh, o, *cfg, *user) ? PAM_SUCCESS : not_ours;
}

_public_ int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        struct apilogin_pam_opts o;
        const char *user = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &cfg, &user, PAM_USER_UNKNOWN);
        if (r != PAM_SUCCESS)
                return r;
        r = authenticate(pamh, &o, cfg, user);
        pam_debug(pamh, &o, "authenticate user=%s: %s", user, pam_strerror(pamh, r));
        return r;
}

_public_ int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        /* Nothing to establish here: the token is handed over at session open. SUCCESS, not
         * IGNORE, because stacks use "default=die" after apilogin. */
        return PAM_SUCCESS;
}

static int ask_account(pam_handle_t *pamh, const struct apilogin_config *cfg,
                       const struct apilogin_pam_opts *o, const char *user)
{
        struct apilogin_msg req = {}, reply;
        int r;

        fill_common(pamh, o, &req, APILOGIN_REQ_ACCT, user);
        req.provider = NULL;
        r = call_daemon(pamh, cfg, &req, &reply);
        if (r == 0)
                r = outcome_to_pam((int)reply.outcome);
        apilogin_proto_wipe(&reply);
        return r;
}

_public_ int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        struct apilogin_pam_opts o;
        const char *user = NULL;
        const void *verdict = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &cfg, &user, PAM_IGNORE);
        if (r != PAM_SUCCESS)
                return r;
        /* A verdict from our own auth phase in this handle is authoritative. */
        if (pam_get_data(pamh, DATA_VERDICT, &verdict) == PAM_SUCCESS && verdict &&
            *(const int *)verdict != APILOGIN_OK)
                return outcome_to_pam(*(const int *)verdict);
        r = ask_account(pamh, cfg, &o, user);
        pam_debug(pamh, &o, "account user=%s: %s", user, pam_strerror(pamh, r));
        return r;
}

static void cleanup_string(pam_handle_t *pamh, void *data, int error_status)
{
        (void)pamh;
        (void)error_status;
        free(data);
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

_public_ int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        struct apilogin_msg req = {}, reply;
        struct apilogin_pam_opts o;
        const char *user = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &cfg, &user, PAM_IGNORE);
        if (r != PAM_SUCCESS)
                return r;
        fill_common(pamh, &o, &req, APILOGIN_REQ_OPEN, user);
        req.has_pid = true;
        req.pid = (uint32_t)getpid();
        r = call_daemon(pamh, cfg, &req, &reply);
        if (r == 0) {
                r = outcome_to_pam((int)reply.outcome);
                if (r == PAM_SUCCESS)
                        r = export_session(pamh, &reply);
                else if (r != PAM_IGNORE)
                        r = PAM_SESSION_ERR;
        } else {
                r = PAM_SESSION_ERR;
        }
        apilogin_proto_wipe(&reply);
        pam_debug(pamh, &o, "open_session user=%s: %s", user, pam_strerror(pamh, r));
        return r;
}

_public_ int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        struct apilogin_msg req = {}, reply;
        struct apilogin_pam_opts o;
        const char *user = NULL;
        const void *sid = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &cfg, &user, PAM_IGNORE);
        if (r != PAM_SUCCESS)
                return r;
        fill_common(pamh, &o, &req, APILOGIN_REQ_CLOSE, user);
        req.provider = NULL;
        if (pam_get_data(pamh, DATA_SESSION, &sid) == PAM_SUCCESS)
                req.session = sid;
        req.has_pid = true;
        req.pid = (uint32_t)getpid();
        r = call_daemon(pamh, cfg, &req, &reply);
        if (r == 0)
                r = outcome_to_pam((int)reply.outcome);
        apilogin_proto_wipe(&reply);
        pam_debug(pamh, &o, "close_session user=%s: %s", user, pam_strerror(pamh, r));
        return r == PAM_SUCCESS || r == PAM_IGNORE ? r : PAM_SESSION_ERR;
}

_public_ int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        struct apilogin_pam_opts o;
        const char *user = NULL;
        int r;

        r = prologue(pamh, flags, argc, argv, &o, &cfg, &user, PAM_IGNORE);
        if (r != PAM_SUCCESS)
                return r;
        if ((flags & PAM_PRELIM_CHECK) && !o.quiet)
                (void)pam_info(pamh, "The password of %s is managed by the login service; "
                                     "change it there.", user);
        return PAM_IGNORE;
}
