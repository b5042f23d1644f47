/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_admin.c: the verbs that ask apilogind about its state or change its user cache:
 * status, users, sessions (one JSON object from the daemon, see daemon/admin.h, printed as
 * it is with --json or as text and tables), flush and user add/del. The JSON is parsed
 * with cJSON and never trusted: a missing or mistyped member prints as "-". */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "macro.h"
#include "outcome.h"
#include "table.h"

/* What a non-root caller is told instead of a bare "permission denied": what it may do. */
static void nonroot_hint(const char *verb)
{
        const char *me = ctl_own_name();

        if (strcmp(verb, "status") == 0)
                fprintf(stderr, "Only root may see apilogind's status (it names users and "
                                "sessions). You may run 'apiloginctl test-login %s' to check "
                                "your own password against the login API, or "
                                "'apiloginctl check-config' to check the config file.\n",
                        me ? me : "YOUR-NAME");
        else if (strcmp(verb, "users") == 0)
                fprintf(stderr, "Only root may list the users apilogind knows. You may look up "
                                "one name as the system sees it: 'getent passwd NAME' or "
                                "'id NAME'.\n");
        else if (strcmp(verb, "sessions") == 0)
                fprintf(stderr, "Only root may list the sessions. You may list the login "
                                "sessions with 'loginctl list-sessions'; the state of your own "
                                "session's token is in the file $APILOGIN_TOKEN_FILE.\n");
        else
                fprintf(stderr, "Only root may change apilogind's user cache. Ask an "
                                "administrator to run 'sudo apiloginctl %s'.\n", verb);
}

/* Send an admin request (offset: the first entry wanted of a listing); on success *ret
 * holds the reply (wipe it). Prints the failure and returns an exit code, or -1 when the
 * daemon answered OK. */
static int admin_call(const struct ctl_verb_ctx *x, const char *verb, uint8_t type,
                      const char *user, uint32_t offset, struct apilogin_msg *ret)
{
        struct apilogin_msg req = { .type = type, .user = user, .has_offset = offset > 0,
                                    .offset = offset };

        if (ctl_call(x->socket, &req, ret, CTL_TIMEOUT_MS) < 0)
                return CTL_EXIT_FAIL;
        if (ret->has_outcome && ret->outcome == APILOGIN_OK)
                return -1;
        fprintf(stderr, "apiloginctl %s: %s", verb,
                ret->has_outcome ? apilogin_outcome_name((int)ret->outcome) : "no outcome");
        if (ret->text && ret->text[0]) {
                fputs(": ", stderr);
                ctl_print_safe(stderr, ret->text);
        }
        fputc('\n', stderr);
        if (ret->has_outcome && ret->outcome == APILOGIN_PERM_DENIED && getuid() != 0)
                nonroot_hint(verb);
        apilogin_proto_wipe(ret);
        return CTL_EXIT_FAIL;
}

/* One JSON object from the daemon into *ret. Returns -1, or an exit code (printed). */
static int fetch(const struct ctl_verb_ctx *x, const char *verb, uint8_t type, uint32_t offset,
                 cJSON **ret)
{
        struct apilogin_msg reply;
        cJSON *o;
        int r = admin_call(x, verb, type, NULL, offset, &reply);

        if (r >= 0)
                return r;
        o = reply.text ? cJSON_Parse(reply.text) : NULL;
        apilogin_proto_wipe(&reply);
        if (!cJSON_IsObject(o)) {
                fprintf(stderr, "apiloginctl %s: apilogind's answer is not a JSON object (an "
                                "older apilogind?)\n", verb);
                cJSON_Delete(o);
                return CTL_EXIT_FAIL;
        }
        *ret = o;
        return -1;
}

static double num_of(const cJSON *o, const char *key);

/* A listing arrives in pages (one reply holds 8 KiB): ask for the next ones and move
 * their entries into the first page's array, until nothing more is announced. A daemon
 * that ignores the offset (it says none) or sends an empty page ends the loop. */
static int fetch_all(const struct ctl_verb_ctx *x, const char *verb, uint8_t type,
                     const char *key, cJSON *o)
{
        cJSON *all = cJSON_GetObjectItemCaseSensitive(o, key), *page, *list, *item;
        int r;

        while (cJSON_IsArray(all) && num_of(o, "more") > 0) {
                uint32_t offset = (uint32_t)cJSON_GetArraySize(all);

                r = fetch(x, verb, type, offset, &page);
                if (r >= 0)
                        return r;
                list = cJSON_GetObjectItemCaseSensitive(page, key);
                if (num_of(page, "offset") != offset || cJSON_GetArraySize(list) == 0) {
                        cJSON_Delete(page);
                        break;
                }
                while ((item = cJSON_DetachItemFromArray(list, 0)))
                        cJSON_AddItemToArray(all, item);
                cJSON_ReplaceItemInObjectCaseSensitive(o, "more",
                                                       cJSON_CreateNumber(num_of(page, "more")));
                cJSON_ReplaceItemInObjectCaseSensitive(o, "total",
                                                       cJSON_CreateNumber(num_of(page, "total")));
                cJSON_Delete(page);
        }
        return -1;
}

/* Ask for a JSON report (every page of a listing named key) and hand the object to show,
 * or print it with --json. */
static int report(const struct ctl_verb_ctx *x, int argc, char **argv, const char *verb,
                  uint8_t type, const char *key, void (*show)(const cJSON *o))
{
        cJSON *o = NULL;
        bool json = false;
        int r = ctl_verb_options(verb, argc, argv, &json);
        char *s;

        if (r >= 0)
                return r;
        if (optind < argc)
                return ctl_usage_error(verb, "'%s' takes no argument", verb);
        r = fetch(x, verb, type, 0, &o);
        if (r < 0 && key)
                r = fetch_all(x, verb, type, key, o);
        if (r >= 0) {
                cJSON_Delete(o);
                return r;
        }
        if (json) {
                s = cJSON_Print(o);
                if (s)
                        printf("%s\n", s);
                free(s);
        } else {
                show(o);
        }
        cJSON_Delete(o);
        return CTL_EXIT_OK;
}

/* ---- reading members --------------------------------------------------------------------- */

static const char *str_of(const cJSON *o, const char *key)
{
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

        return s ? s : "-";
}

static double num_of(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static unsigned long long count_of(const cJSON *o, const char *key)
{
        double d = num_of(o, key);

        return d > 0 ? (unsigned long long)d : 0;
}

/* A unix time member as "2026-12-05T12:00:00Z", "-" when null or absent. */
static const char *time_of(const cJSON *o, const char *key, char *buf, size_t n)
{
        time_t t = (time_t)num_of(o, key);
        struct tm tm;

        if (t <= 0 || !gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(buf, n, "-");
        return buf;
}

static void more_note(const cJSON *o, const char *what)
{
        unsigned long long more = count_of(o, "more");

        if (more)
                fprintf(stderr, "(%llu more %s of %llu not shown: apilogind did not send "
                                "them)\n", more, what, count_of(o, "total"));
}

/* ---- status ------------------------------------------------------------------------------- */

static void show_providers(const cJSON *o)
{
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "providers"), *p;
        struct table t;
        char a[32], b[32];

        if (cJSON_GetArraySize(list) == 0) {
                printf("providers: none (every name is answered \"not ours\")\n");
                return;
        }
        printf("providers:\n");
        table_init(&t, 2, "NAME", "TYPE", "STATE", "LAST SUCCESS", "LAST ERROR", "REASON",
                   NULL);
        cJSON_ArrayForEach(p, list)
                table_row(&t, str_of(p, "name"), str_of(p, "type"), str_of(p, "state"),
                          time_of(p, "last_success", a, sizeof(a)),
                          time_of(p, "last_error", b, sizeof(b)),
                          str_of(p, "last_error_reason"), NULL);
        table_print(&t, stdout);
        table_free(&t);
}

static void show_logins(const cJSON *o)
{
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "logins"), *v;
        const char *sep = "";

        printf("logins since start:");
        cJSON_ArrayForEach(v, l) {
                if (!cJSON_IsNumber(v) || !v->string)
                        continue;
                printf("%s %s ", sep, v->string);
                printf("%llu", v->valuedouble > 0 ? (unsigned long long)v->valuedouble : 0);
                sep = ",";
        }
        putchar('\n');
}

static void show_uptime(unsigned long long s)
{
        if (s >= 86400)
                printf("%llud ", s / 86400);
        printf("%02llu:%02llu:%02llu", s / 3600 % 24, s / 60 % 60, s % 60);
}

static void show_status(const cJSON *o)
{
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(o, "offline");
        const cJSON *rf = cJSON_GetObjectItemCaseSensitive(o, "refreshes");
        const cJSON *lim = cJSON_GetObjectItemCaseSensitive(o, "client_limits");
        char when[32];

        printf("apilogind %s (pid %llu), up ", str_of(o, "version"), count_of(o, "pid"));
        show_uptime(count_of(o, "uptime_s"));
        printf(" since %s\n", time_of(o, "started_at", when, sizeof(when)));
        printf("config: ");
        ctl_print_safe(stdout, str_of(o, "config"));
        printf("\nmetrics file: ");
        ctl_print_safe(stdout, str_of(o, "metrics_file"));
        putchar('\n');
        show_providers(o);
        printf("users: %llu in the NSS cache\n", count_of(o, "users"));
        printf("sessions: %llu of %llu user(s); pending logins: %llu\n", count_of(o, "sessions"),
               count_of(o, "session_users"), count_of(o, "pending_logins"));
        printf("offline sessions: %llu user(s); offline logins since start: %llu; "
               "offline_login: %s\n", count_of(off, "session_users"), count_of(off, "logins"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(off, "enabled"))
                       ? "on" : "off (unless a provider turns it on)");
        show_logins(o);
        printf("token renewals since start: %llu ok, %llu failed, %llu expired\n",
               count_of(rf, "ok"), count_of(rf, "failed"), count_of(rf, "expired"));
        printf("in flight: %llu login(s), %llu transfer(s), %llu background logout(s)\n",
               count_of(o, "logins_in_flight"), count_of(o, "transfers_in_flight"),
               count_of(o, "background_logouts"));
        printf("clients: %llu (at most %llu for root, %llu for other uids, %llu per uid)\n",
               count_of(o, "clients"), count_of(lim, "root"), count_of(lim, "other"),
               count_of(lim, "per_uid"));
        printf("lockout entries: %llu\n", count_of(o, "lockout_entries"));
}

int cmd_status(const struct ctl_verb_ctx *x, int argc, char **argv)
{
        return report(x, argc, argv, "status", APILOGIN_REQ_STATUS, NULL, show_status);
}

/* ---- users and sessions --------------------------------------------------------------------- */

static void show_users(const cJSON *o)
{
        const cJSON *u;
        struct table t;
        char when[32], uid[16], n[16];

        table_init(&t, 0, "NAME", "UID", "GECOS", "PROVIDER", "LAST LOGIN", "SESSIONS",
                   "DISABLED", NULL);
        cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(o, "users")) {
                snprintf(uid, sizeof(uid), "%llu", count_of(u, "uid"));
                snprintf(n, sizeof(n), "%llu", count_of(u, "sessions"));
                table_row(&t, str_of(u, "name"), uid, str_of(u, "gecos"), str_of(u, "provider"),
                          time_of(u, "last_login", when, sizeof(when)), n,
                          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "disabled"))
                                  ? "yes" : "no", NULL);
        }
        table_print(&t, stdout);
        table_free(&t);
        more_note(o, "users");
}

int cmd_users(const struct ctl_verb_ctx *x, int argc, char **argv)
{
        return report(x, argc, argv, "users", APILOGIN_REQ_USERS, "users", show_users);
}

static void show_sessions(const cJSON *o)
{
        const cJSON *s;
        struct table t;
        char when[32], uid[16], pid[16];

        table_init(&t, 0, "USER", "UID", "SESSION", "SERVICE", "TTY", "RHOST", "PID", "OPENED",
                   "PROVIDER", "STATE", NULL);
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(o, "sessions")) {
                snprintf(uid, sizeof(uid), "%llu", count_of(s, "uid"));
                snprintf(pid, sizeof(pid), "%llu", count_of(s, "pid"));
                table_row(&t, str_of(s, "user"), uid, str_of(s, "id"), str_of(s, "service"),
                          str_of(s, "tty"), str_of(s, "rhost"), pid,
                          time_of(s, "opened_at", when, sizeof(when)), str_of(s, "provider"),
                          str_of(s, "state"), NULL);
        }
        table_print(&t, stdout);
        table_free(&t);
        more_note(o, "sessions");
}

int cmd_sessions(const struct ctl_verb_ctx *x, int argc, char **argv)
{
        return report(x, argc, argv, "sessions", APILOGIN_REQ_SESSIONS, "sessions",
                      show_sessions);
}

/* ---- changes --------------------------------------------------------------------------------- */

static int change(const struct ctl_verb_ctx *x, const char *verb, uint8_t type, const char *user)
{
        struct apilogin_msg reply;
        int r = admin_call(x, verb, type, user, 0, &reply);

        if (r >= 0)
                return r;
        if (reply.text && reply.text[0]) {
                ctl_print_safe(stdout, reply.text);
                putchar('\n');
        }
        apilogin_proto_wipe(&reply);
        return CTL_EXIT_OK;
}

int cmd_flush(const struct ctl_verb_ctx *x, int argc, char **argv)
{
        int r = ctl_verb_options("flush", argc, argv, NULL);

        if (r >= 0)
                return r;
        if (optind < argc)
                return ctl_usage_error("flush", "'flush' takes no argument");
        return change(x, "flush", APILOGIN_REQ_FLUSH, NULL);
}

int cmd_user(const struct ctl_verb_ctx *x, int argc, char **argv)
{
        int r = ctl_verb_options("user", argc, argv, NULL);
        bool add;

        if (r >= 0)
                return r;
        if (argc - optind != 2 ||
            (strcmp(argv[optind], "add") != 0 && strcmp(argv[optind], "del") != 0))
                return ctl_usage_error("user", "expected 'user add NAME' or 'user del NAME'");
        if (!ctl_user_arg_ok(argv[optind + 1]))
                return ctl_usage_error("user", "invalid user name (1 to %d characters, no "
                                       "blanks or control characters)", APILOGIN_NAME_MAX);
        add = strcmp(argv[optind], "add") == 0;
        return change(x, add ? "user add" : "user del",
                      add ? APILOGIN_REQ_USER_ADD : APILOGIN_REQ_USER_DEL, argv[optind + 1]);
}
