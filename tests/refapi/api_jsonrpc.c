/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api_jsonrpc.c: UIS/CoMagic Call API (protocols.md section 1): JSON-RPC 2.0 on
 * POST /v4.0 with login.user and logout.user.  Every answer is HTTP 200. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "refapi.h"
#include "stats.h"
#include "store.h"

struct jr_err {
        int code;
        const char *message;
        const char *mnemonic;
};

static const struct jr_err
        E_PARSE = { -32700, "Invalid JSON was received by the server.", "parse_error" },
        E_INVALID = { -32600, "Invalid Request The JSON sent is not a valid Request object",
                      "invalid_request" },
        E_BATCH = { -32099, "Batch operations not supported", "batch_opreations_not_supported" },
        E_NOTIF = { -32099, "Notifications not supported", "notifications_not_supported" },
        E_METHOD = { -32601, "The method does not exist / is not available",
                     "method_not_found" },
        E_TYPE = { -32602, "Data supplied is of wrong type", "data_type_error" },
        E_MISSED = { -32602, "The required parameter has been missed",
                     "required_parameter_missed" },
        E_UNEXPECTED = { -32602, "Unexpected method parameter(s)", "unexpected_parameters" },
        E_AUTH = { -32001, "Login or password is wrong", "auth_error" },
        E_TOKEN = { -32001, "Access token is invalid", "access_token_invalid" },
        E_INACTIVE = { -32009, "Your account has been disabled, contact the support service",
                       "account_inactive" },
        E_IP = { -32003, "Your IP 127.0.0.1 is not whitelisted", "ip_not_whitelisted" },
        E_LIMIT = { -32029, "Limit per minute has been exceeded", "limit_exceeded" };

/* Starts {"jsonrpc":"2.0","id":<id or null>} */
static cJSON *jr_envelope(const cJSON *id)
{
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "jsonrpc", "2.0");
        cJSON_AddItemToObject(o, "id", id ? cJSON_Duplicate(id, true) : cJSON_CreateNull());
        return o;
}

static void jr_error(struct rq *rq, const cJSON *id, const struct jr_err *e, const char *field)
{
        cJSON *o = jr_envelope(id), *err = cJSON_AddObjectToObject(o, "error"), *data;

        cJSON_AddNumberToObject(err, "code", e->code);
        cJSON_AddStringToObject(err, "message", e->message);
        data = cJSON_AddObjectToObject(err, "data");
        cJSON_AddStringToObject(data, "mnemonic", e->mnemonic);
        if (field)
                cJSON_AddStringToObject(data, "field", field);
        else
                cJSON_AddNullToObject(data, "field");
        cJSON_AddNullToObject(data, "value");
        cJSON_AddObjectToObject(data, "params");
        cJSON_AddNullToObject(data, "extended_helper");
        rq_reply_json(rq, 200, o);
}

/* Replies {"jsonrpc":"2.0","id":..,"result":{"data":data}}; takes data. */
static void jr_result(struct rq *rq, const cJSON *id, cJSON *data)
{
        cJSON *o = jr_envelope(id);

        cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "result"), "data", data);
        rq_reply_json(rq, 200, o);
}

/* Validates the request object; returns the method name or NULL after replying. */
static const char *jr_check_envelope(struct rq *rq, const cJSON *req)
{
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(req, "jsonrpc");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "method");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(req, "params");

        if (!req)
                jr_error(rq, NULL, &E_PARSE, NULL);
        else if (cJSON_IsArray(req))
                jr_error(rq, NULL, &E_BATCH, NULL);
        else if (!cJSON_IsObject(req))
                jr_error(rq, NULL, &E_INVALID, NULL);
        else if (!id)
                jr_error(rq, NULL, &E_NOTIF, NULL);
        else if (!cJSON_IsString(id) && !cJSON_IsNumber(id))
                jr_error(rq, NULL, &E_INVALID, "id");
        else if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0)
                jr_error(rq, id, &E_INVALID, "jsonrpc");
        else if (!cJSON_IsString(m))
                jr_error(rq, id, &E_INVALID, "method");
        else if (!cJSON_IsObject(p))
                jr_error(rq, id, &E_INVALID, "params");
        else
                return m->valuestring;
        return NULL;
}

/* Checks that params holds exactly the string fields names[]; copies their values to
 * ret_vals.  Replies and returns false on any mismatch. */
static bool jr_params(struct rq *rq, const cJSON *req, const char *const *names, int n,
                      const char **ret_vals)
{
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(req, "params"), *it;

        cJSON_ArrayForEach(it, p) {
                bool known = false;

                for (int i = 0; i < n && !known; i++)
                        known = strcmp(it->string, names[i]) == 0;
                if (!known) {
                        jr_error(rq, id, &E_UNEXPECTED, it->string);
                        return false;
                }
        }
        for (int i = 0; i < n; i++) {
                it = cJSON_GetObjectItemCaseSensitive(p, names[i]);
                if (it && !cJSON_IsString(it)) {
                        jr_error(rq, id, &E_TYPE, names[i]);
                        return false;
                }
                if (!it || !it->valuestring[0]) {
                        jr_error(rq, id, &E_MISSED, names[i]);
                        return false;
                }
                ret_vals[i] = it->valuestring;
        }
        return true;
}

static bool jr_login(struct rq *rq, const cJSON *req)
{
        static const char *const names[] = { "login", "password" };
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
        const char *v[2];
        const struct acct_jr *a;
        const struct jr_err *e = NULL;
        long long now = now_ms();
        struct store_rec t = { .kind = SK_JR_TOKEN, .created = now,
                               .expires = now + accounts.token_ttl * 1000LL };
        cJSON *data;
        int i;

        if (!jr_params(rq, req, names, 2, v))
                return false;
        i = acct_jr_find(v[0]);
        a = i >= 0 ? &accounts.jr[i] : NULL;
        if (a && a->rate_limited)
                e = &E_LIMIT;
        else if (a && a->ip_blocked)
                e = &E_IP;
        else if (!a || strcmp(a->password, v[1]) != 0)
                e = &E_AUTH;
        else if (a->disabled)
                e = &E_INACTIVE;
        if (e) {
                jr_error(rq, id, e, NULL);
                return false;
        }
        t.acct = i;
        rand_hex(t.key, 20);
        store_put(&t);
        data = cJSON_CreateObject();
        cJSON_AddStringToObject(data, "access_token", t.key);
        cJSON_AddNumberToObject(data, "expire_at", (double)(t.expires / 1000));
        jr_result(rq, id, data);
        return true;
}

static bool jr_logout(struct rq *rq, const cJSON *req)
{
        static const char *const names[] = { "access_token" };
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
        const char *v[1];
        cJSON *data;

        if (!jr_params(rq, req, names, 1, v))
                return false;
        if (store_take(SK_JR_TOKEN, v[0], NULL) != STORE_LIVE) {
                jr_error(rq, id, &E_TOKEN, NULL);
                return false;
        }
        data = cJSON_CreateObject();
        cJSON_AddTrueToObject(data, "success");
        jr_result(rq, id, data);
        return true;
}

static void jr_count(enum stat_id call, enum stat_id ok_id, enum stat_id fail_id, bool ok)
{
        stat_inc(call);
        stat_inc(ok ? ok_id : fail_id);
}

void api_jsonrpc(struct rq *rq)
{
        cJSON *req = rq_parse_json(rq);
        const char *method = jr_check_envelope(rq, req);

        stat_inc(ST_jsonrpc);
        if (!method) {
                stat_inc(ST_jsonrpc_invalid);
        } else if (strcmp(method, "login.user") == 0) {
                jr_count(ST_jsonrpc_login, ST_jsonrpc_login_ok, ST_jsonrpc_login_fail,
                         jr_login(rq, req));
        } else if (strcmp(method, "logout.user") == 0) {
                jr_count(ST_jsonrpc_logout, ST_jsonrpc_logout_ok, ST_jsonrpc_logout_fail,
                         jr_logout(rq, req));
        } else {
                stat_inc(ST_jsonrpc_invalid);
                jr_error(rq, cJSON_GetObjectItemCaseSensitive(req, "id"), &E_METHOD, "method");
        }
        cJSON_Delete(req);
}
