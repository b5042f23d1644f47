/* provider.h: the interface every login API driver implements (one file per API under
 * daemon/providers/), and the common result they all produce. A driver only builds
 * requests and reads replies; it does no I/O, keeps no state between calls and never
 * logs. Adding an API is adding one driver file and its entry in provider.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "http.h"
#include "outcome.h"

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
        const char *cookie;  /* cookie from the previous step, or NULL */
};

/* Tokens of a live session, for logout/keep-alive/refresh requests. */
struct apilogin_session_creds {
        const char *url;
        const char *user;
        const char *token;
        const char *refresh;
};

struct apilogin_driver {
        enum apilogin_ptype type;
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
        /* Logout / revoke request; NULL when the API has none. */
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

/* The driver for a type, or NULL if this build has none (the daemon refuses such a
 * config). */
const struct apilogin_driver *apilogin_driver_find(enum apilogin_ptype type);

/* Shared helpers for drivers (provider.c). */

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

extern const struct apilogin_driver apilogin_driver_login_check;
extern const struct apilogin_driver apilogin_driver_token_login;
extern const struct apilogin_driver apilogin_driver_jsonrpc;
extern const struct apilogin_driver apilogin_driver_rest_login;
extern const struct apilogin_driver apilogin_driver_ws_auth;
