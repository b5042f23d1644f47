/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_provider.c: libFuzzer target for one login API driver's reply parsers
 * (the files under daemon/providers/): login_reply for every step, and refresh_reply where the API has
 * one. Built once per driver with -DFUZZ_DRIVER=apilogin_driver_... (scripts/fuzz.sh), so
 * each driver gets its own corpus: fuzz_login_check, fuzz_token_login, fuzz_jsonrpc,
 * fuzz_rest_login, fuzz_ws_auth, fuzz_oauth2_password. The driver's own keys are set
 * through its key table, from the candidates below that it has.
 *
 * Input: byte 0 = HTTP status (an index into a table of the statuses the APIs use),
 * byte 1 = flags (bits 0-1 step, bit 2 refresh reply instead of login, bit 3 unused, bit 4
 * the other user name, bit 5 a reply after which the jar holds a cookie), then the body. "@ID@" in the body is
 * replaced by the requestId the driver's own request carried (jsonrpc), as in the unit
 * test fixtures under tests/data/, so matching replies are reachable. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/provider.h"
#include "macro.h"

#ifndef FUZZ_DRIVER
#error "build with -DFUZZ_DRIVER=apilogin_driver_..."
#endif

static struct apilogin_provider_cfg cfg = {
        .name = (char *)"fuzz", .type = &FUZZ_DRIVER.type,
        .url = (char *)"https://api.example.com/v1/login",
};

/* The keys of any driver, with fuzzing values; each driver takes those it has. */
static const char *const candidates[] = {
        "domain", "tenant.example.com", "users", "kiosk:user, Admin:admin",
        "refresh_url", "https://api.example.com/v1/refresh", "client_id", "fuzz-client",
        "scope", "openid profile", "revocation_url", "https://api.example.com/v1/revoke",
};

static void conf_init(void)
{
        const char *kv[ELEMENTSOF(candidates) + 1] = { 0 };
        const struct apilogin_type *t = &FUZZ_DRIVER.type;
        size_t n = 0;
        char err[256];

        for (size_t i = 0; i < ELEMENTSOF(candidates); i += 2)
                for (size_t k = 0; k < t->n_keys; k++)
                        if (strcmp(t->keys[k].name, candidates[i]) == 0) {
                                kv[n++] = candidates[i];
                                kv[n++] = candidates[i + 1];
                        }
        if (apilogin_type_conf_new(t, kv, &cfg.conf, err, sizeof(err)) < 0) {
                fprintf(stderr, "fuzz_provider: %s\n", err);
                abort();
        }
}

static const long statuses[] = { 200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502,
                                 503, 101, 0, 302 };

/* The "id" member of the request body the driver builds for in (NULL if none). */
static char *request_id(const struct apilogin_driver *d, const struct apilogin_login_in *in)
{
        struct apilogin_http_req req = { 0 };
        char *id = NULL;
        cJSON *j;

        if (d->login_request(in, &req) < 0)
                return NULL;
        j = req.body ? cJSON_ParseWithLength(req.body, req.body_len) : NULL;
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "id")))
                id = strdup(cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring);
        cJSON_Delete(j);
        apilogin_http_req_clear(&req);
        return id;
}

/* body (len bytes) with every "@ID@" replaced by id; NUL-terminated, length in *ret_len. */
static char *substitute(const uint8_t *body, size_t len, const char *id, size_t *ret_len)
{
        size_t il = id ? strlen(id) : 0, n = 0;
        char *out = malloc(len * (il > 4 ? il : 4) / 4 + len + 1);

        if (!out)
                return NULL;
        for (size_t i = 0; i < len;) {
                if (id && len - i >= 4 && memcmp(body + i, "@ID@", 4) == 0) {
                        memcpy(out + n, id, il);
                        n += il;
                        i += 4;
                } else {
                        out[n++] = (char)body[i++];
                }
        }
        out[n] = '\0';
        *ret_len = n;
        return out;
}

static void check_result(const struct apilogin_result *r)
{
        if ((unsigned)r->outcome >= _APILOGIN_OUTCOME_MAX)
                abort();
        /* every string the driver kept must be a whole C string (ASan checks the reads) */
        const char *s[] = { r->token, r->refresh, r->remote_id, r->display_name, r->role,
                            r->api_code, r->api_message };
        static volatile size_t total;

        for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
                total += s[i] ? strlen(s[i]) : 0;
        for (size_t i = 0; i < APILOGIN_EXTRA_MAX; i++)
                total += (r->extra[i].key ? strlen(r->extra[i].key) : 0) +
                         (r->extra[i].value ? strlen(r->extra[i].value) : 0);
        (void)total;
        if (r->display_name && !apilogin_gecos_ok(r->display_name))
                abort(); /* it goes into the NSS cache as a gecos field */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct apilogin_driver *d = &FUZZ_DRIVER;
        struct apilogin_login_in in = { .p = &cfg, .url = cfg.url, .secret = "s3cret-PIN-0000" };
        struct apilogin_session_creds creds = {
                .url = cfg.url, .user = "kiosk", .token = "tok-0123456789abcdef",
                .refresh = "ref-0123456789abcdef",
        };
        struct apilogin_http_resp resp = { .retry_after = -1, .url = cfg.url };
        struct apilogin_result res = { 0 };
        char *id = NULL;
        uint8_t flags;
        int r;

        if (!cfg.conf && d->type.conf_size)
                conf_init();

        if (!d || size < 2 || size > 256 * 1024)
                return 0;
        flags = data[1];
        resp.status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
        in.step = flags & 3;
        in.user = flags & 16 ? "Admin" : "kiosk";
        creds.user = in.user;
        if (!(flags & 4))
                id = request_id(d, &in);
        resp.body = substitute(data + 2, size - 2, id, &resp.len);
        free(id);
        if (!resp.body)
                return 0;
        resp.cookies = flags & 32 ? 1 : 0;
        resp.retry_after = flags & 64 ? 30 : -1;
        if (flags & 4) {
                if (!d->refresh_reply)
                        goto out;
                r = d->refresh_reply(&cfg, &creds, &resp, &res);
        } else {
                r = d->login_reply(&in, &resp, &res);
        }
        if (r < 0 && r != -ENOMEM)
                abort(); /* provider.h: only allocation failures are errors */
        check_result(&res);
out:
        apilogin_result_clear(&res);
        resp.url = NULL;
        apilogin_http_resp_clear(&resp);
        return 0;
}
