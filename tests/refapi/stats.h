/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stats.h: the call counters behind GET /_stats (names are listed in README.md).
 *
 * Counters are process-wide atomics, updated with relaxed ordering from any MHD
 * worker or WebSocket thread.  The X-macro keeps the enum and the JSON names in
 * one place.
 */
#ifndef REFAPI_STATS_H
#define REFAPI_STATS_H

#define STATS_COUNTERS(X) \
        X(total) X(connections) X(keepwarm) X(not_found) X(method_not_allowed) X(body_too_large) \
        X(faulted) X(fault_stall) X(fault_500) X(fault_garbage) X(fault_oversized) \
        X(fault_close) X(fault_redirect) \
        X(login_check) X(login_check_ok) X(login_check_fail) \
        X(login_check_disabled) X(login_check_rate_limited) \
        X(refresh) X(refresh_ok) X(refresh_fail) \
        X(whoami) X(whoami_ok) X(whoami_fail) \
        X(wialon_ajax) X(wialon_bad_svc) \
        X(token_login) X(token_login_ok) X(token_login_fail) \
        X(logout_token_login) X(logout_token_login_ok) X(logout_token_login_fail) \
        X(avl_evts) X(avl_evts_ok) X(avl_evts_fail) \
        X(jsonrpc) X(jsonrpc_invalid) \
        X(jsonrpc_login) X(jsonrpc_login_ok) X(jsonrpc_login_fail) \
        X(jsonrpc_logout) X(jsonrpc_logout_ok) X(jsonrpc_logout_fail) \
        X(rest_login) X(rest_login_ok) X(rest_login_fail) \
        X(rest_login_get) X(rest_login_get_ok) X(rest_login_get_fail) \
        X(rest_cookie_lang) X(rest_cookie_off_path) \
        X(rest_refresh) X(rest_refresh_ok) X(rest_refresh_fail) \
        X(rest_logout) X(rest_logout_ok) X(rest_logout_fail) \
        X(ws_connect) X(ws_bad_handshake) X(ws_bad_frame) X(ws_messages) X(ws_ping) \
        X(ws_auth) X(ws_auth_ok) X(ws_auth_fail) \
        X(ws_get_token_http) X(ws_get_token_http_ok) X(ws_get_token_http_fail) \
        X(ws_auth_token_ok) X(ws_http_token_issued) X(ws_http_check_ok) X(ws_http_check_fail) \
        X(ws_clear_tokens) X(ws_other) \
        X(proxied) \
        X(oauth2_token) X(oauth2_token_ok) X(oauth2_token_fail) \
        X(oauth2_password_grant) X(oauth2_refresh_grant) X(oauth2_refresh_ok) \
        X(oauth2_form) X(oauth2_basic_ok) X(oauth2_basic_bad) X(oauth2_query_args) \
        X(oauth2_scope) X(oauth2_rate_limited) X(oauth2_unavailable) \
        X(oauth2_revoke) X(oauth2_revoke_access) X(oauth2_revoke_refresh) \
        X(oauth2_revoke_unknown)

enum stat_id {
#define STAT_ENUM(n) ST_##n,
        STATS_COUNTERS(STAT_ENUM)
#undef STAT_ENUM
        ST__COUNT
};

/* Adds one to counter id.  Thread-safe, lock-free. */
void stat_inc(enum stat_id id);

/* Returns the current value of counter id. */
unsigned long stat_get(enum stat_id id);

/* Zeroes every counter (POST /_reset). */
void stats_reset(void);

/* Returns all counters as one JSON object string (caller frees), or NULL on ENOMEM. */
char *stats_json(void);

#endif
