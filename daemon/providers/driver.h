/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver.h: everything a login API driver needs, and all it may use of the daemon: the
 * request and response types, the common result, the driver interface and the JSON and
 * form helpers (driver.c). One file per API under daemon/providers/ implements struct
 * apilogin_driver, including its own config keys (a table the parser reads, core/conf.h),
 * and one line in registry.c lists it. A driver only builds requests and reads replies; it
 * does no I/O, keeps no state between calls and never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "outcome.h"

#define APILOGIN_HTTP_BODY_MAX (64 * 1024)
#define APILOGIN_HTTP_MAX_HEADERS 4

struct apilogin_http_jar; /* one login's cookies (see apilogin_http_jar_new) */

/* A request built by a provider driver. Every member is owned by the request and freed
 * (secrets wiped) by apilogin_http_req_clear. */
struct apilogin_http_req {
        char *url;                 /* absolute http(s) URL */
        bool post;                 /* POST (with body) or GET */
        char *content_type;        /* e.g. "application/json" */
        char *body;                /* may hold a secret: always wiped */
        size_t body_len;
        char *headers[APILOGIN_HTTP_MAX_HEADERS]; /* "Name: value"; wiped */
        struct apilogin_http_jar *jar; /* borrowed, NULL = no cookies: the cookie jar of the
                                          login this request belongs to; it must outlive
                                          the transfer */
        char *match_id;            /* ws:// only: the requestId the reply must carry (ws.h) */
};

/* What came back. body is NUL-terminated (an extra byte past len) and is wiped on clear. */
struct apilogin_http_resp {
        int transport_error;  /* 0, or -ETIMEDOUT, -ECONNREFUSED, -EMSGSIZE (body over the
                                 cap), -EPROTO (TLS/protocol), -EIO (other curl failure) */
        long status;          /* HTTP status, 0 if none */
        char *body;
        size_t len;
        unsigned cookies;     /* cookies in the request's jar after this reply (0 without
                                 a jar): the Set-Cookie headers curl accepted, and kept */
        long retry_after;     /* seconds from a Retry-After header, or -1 */
        const char *url;      /* effective URL (for logs; never holds secrets) */
        const char *why;      /* for the log, NULL if nothing to say: why the transfer
                                 failed (libcurl's error text, e.g. "SSL certificate
                                 problem: certificate has expired") or why a redirect was
                                 not followed; valid during the done callback only */
};

void apilogin_http_req_clear(struct apilogin_http_req *req);
void apilogin_http_resp_clear(struct apilogin_http_resp *resp);


void apilogin_http_req_clear(struct apilogin_http_req *req);
void apilogin_http_resp_clear(struct apilogin_http_resp *resp);

#define APILOGIN_EXTRA_MAX 4

/* The one result every driver reads a login (or refresh) reply into. Strings are owned
 * and freed (secrets wiped) by apilogin_result_clear. */
struct apilogin_result {
        enum apilogin_outcome outcome;
        char *token;         /* the issued token / session id (secret) */
        char *refresh;       /* refresh credential, NULL if none (secret) */
        int64_t expires_at;  /* unix time, 0 if unknown */
        char *remote_id;     /* the API's user id/name, NULL if none */
        char *display_name;  /* gecos, NULL if none */
        char *role;          /* role / privileges, NULL if none */
        struct apilogin_pair extra[APILOGIN_EXTRA_MAX]; /* more tokens for token.json (secret
                                                           values), e.g. tokenForHttpServer */
        long retry_after;    /* seconds the API asked us to wait, -1 if none */
        char *api_code;      /* the API's own error code/mnemonic, for syslog; NULL if none */
        char *api_message;   /* the API's own error text, for syslog (never a secret) */
        bool another_step;   /* the driver wants one more request (next_step) */
};

void apilogin_result_clear(struct apilogin_result *r);

/* What a driver is given for one login. */
struct apilogin_login_in {
        const struct apilogin_provider_cfg *p;
        const char *url;     /* the endpoint being tried (url or one of fallback_urls) */
        const char *user;    /* validated login name */
        const char *secret;  /* password / token / PIN */
        unsigned step;       /* 0 for the first request, 1.. for follow-ups */
};

/* Tokens of a live session, for logout/keep-alive/refresh requests. */
struct apilogin_session_creds {
        const char *url;
        const char *user;
        const char *token;
        const char *refresh;
        int64_t expires_at;  /* of token, unix time, 0 if unknown */
        unsigned step;       /* logout: which of the driver's logout_steps requests */
};

struct apilogin_driver {
        /* The config half, first: its name, its own keys (the parser reads them into
         * p->conf), its checks. A provider's p->type points here (apilogin_driver_of). */
        struct apilogin_type type;
        /* What the PAM module prompts with; NULL: "Password: ". */
        const char *prompt;
        /* Login names are matched exactly (no case folding for lockout budgets). */
        bool names_exact;
        /* The login is a browser-like exchange: the caller gives all its requests (every
         * step at one endpoint) one cookie jar of their own (http.h), and a reply tells
         * how many cookies the jar holds (resp->cookies). */
        bool uses_cookies;
        /* The extra tokens of a result (extra[]) live this many seconds from issue, far
         * less than the token itself (ws_auth's tokenForHttpServer: 5 minutes); 0 = as
         * long as the token. The daemon renews them through refresh_request before then
         * (refresh.h). */
        unsigned extra_lifetime_s;
        /* How refresh_request renews, for the log line of every new session; NULL: the
         * generic wording (refresh call, keep-alive). */
        const char *renew_how;
        /* Build the login request for step in->step. 0 or -errno (-EINVAL: the name or
         * secret can never be valid for this API, e.g. a token of the wrong length; the
         * caller answers AUTH_ERR without sending anything; -ENOENT: the name is not this
         * provider's, e.g. not in a ws_auth users map; nothing is sent, the next provider
         * is tried, and USER_UNKNOWN is the answer when no provider knew the name). A
         * ws:// or wss:// url goes over a WebSocket (ws.h): body is the text frame and
         * match_id the requestId of the reply. */
        int (*login_request)(const struct apilogin_login_in *in, struct apilogin_http_req *ret);
        /* Read a login reply (any status; transport errors never reach a driver) into ret.
         * Sets ret->another_step when a follow-up request is needed. Always fills
         * ret->outcome; returns 0, or -errno only on allocation failure. */
        int (*login_reply)(const struct apilogin_login_in *in,
                           const struct apilogin_http_resp *resp, struct apilogin_result *ret);
        /* Logout / revoke requests: logout_steps of them (0 counts as 1), built with
         * c->step from 0; -ENOENT skips a step with nothing to send (e.g. no refresh
         * token to revoke); NULL when the API has none. */
        unsigned logout_steps;
        int (*logout_request)(const struct apilogin_provider_cfg *p,
                              const struct apilogin_session_creds *c,
                              struct apilogin_http_req *ret);
        /* Keep-alive or refresh request and its reply; NULL when the API has none. */
        int (*refresh_request)(const struct apilogin_provider_cfg *p,
                               const struct apilogin_session_creds *c,
                               struct apilogin_http_req *ret);
        int (*refresh_reply)(const struct apilogin_provider_cfg *p,
                             const struct apilogin_session_creds *c,
                             const struct apilogin_http_resp *resp, struct apilogin_result *ret);
};

/* Shared helpers for drivers (driver.c). */

/* Read a secret the config names by its path (never by value): a regular file owned by
 * root (or whoever runs the daemon) that nobody else may read or write, of at most
 * size - 1 bytes, one trailing newline dropped, into buf (NUL-terminated). Returns its
 * length or -errno (-EPERM: ownership or mode, -EFBIG: too large). The caller wipes buf
 * (apilogin_secure_erase) after use. */
ssize_t apilogin_secret_file_read(const char *path, char *buf, size_t size);

/* Parse resp->body as JSON (cJSON_ParseWithLengthOpts, whole body). NULL if not JSON. */
struct cJSON;
struct cJSON *apilogin_json_parse(const struct apilogin_http_resp *resp);

/* Duplicate a JSON string member of obj (NULL if absent or not a string / too long). */
char *apilogin_json_strdup(const struct cJSON *obj, const char *key, size_t max);

/* Serialize JSON to a new string, then wipe secret values in obj; NULL on ENOMEM. */
char *apilogin_json_print_wipe(struct cJSON *obj);

/* Delete a cJSON tree after wiping every string value in it (it may hold secrets). */
void apilogin_json_delete_wipe(struct cJSON *obj);

/* Cleanup helper: apilogin_json_delete_wipe on a cJSON pointer. */
void apilogin_json_freep(struct cJSON **j);

/* v is a JSON string of 1..max bytes. */
bool apilogin_json_str_ok(const struct cJSON *v, size_t max);

/* v is a JSON number holding an integer within +-1e9; writes it to *ret. */
bool apilogin_json_int(const struct cJSON *v, long *ret);

/* A copy of s cut to max bytes with every byte outside printable ASCII replaced by '?',
 * so that API text can go to syslog as it is. NULL on ENOMEM. */
char *apilogin_sanitize_dup(const char *s, size_t max);

/* A display name usable as a passwd gecos field: not empty, no control bytes, no ':'. */
bool apilogin_gecos_ok(const char *s);

/* application/x-www-form-urlencoded: append "name=value" (both encoded, "&" before all
 * but the first) to the buffer *buf of *len bytes, growing it; wipes what it replaces
 * (values may be secrets). 0 or -ENOMEM. */
int apilogin_form_add(char **buf, size_t *len, const char *name, const char *value);

/* s form-urlencoded (RFC 6749 appendix B: unreserved bytes kept, space as '+', others
 * %XX) into a new string, NULL on ENOMEM. The caller frees with apilogin_erase_free. */
char *apilogin_form_encode(const char *s);

/* A base64 (RFC 4648, padded) copy of n bytes of s, NULL on ENOMEM; erase_free it. */
char *apilogin_base64(const char *s, size_t n);

/* The driver whose config half t is. */
#define apilogin_driver_of_type(t) \
        ((const struct apilogin_driver *)(const void *)(t))
