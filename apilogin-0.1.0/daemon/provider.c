/* provider.c: the table of login API drivers and the helpers they share (JSON parsing with
 * a whole-body check, bounded string copies, serializing and freeing JSON that holds
 * secrets without leaving copies behind). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "macro.h"
#include "provider.h"
#include "secure.h"

/* Drivers not written yet are weak references: the table names every type now, and a
 * type whose driver is not linked in reads as NULL ("this build has none"), which the
 * daemon refuses at config time. Link driver objects directly (not from a static
 * archive: a weak reference does not pull an archive member in). */
extern const struct apilogin_driver apilogin_driver_jsonrpc __attribute__((weak));
extern const struct apilogin_driver apilogin_driver_rest_login __attribute__((weak));
extern const struct apilogin_driver apilogin_driver_ws_auth __attribute__((weak));

const struct apilogin_driver *apilogin_driver_find(enum apilogin_ptype type)
{
        switch (type) {
        case APILOGIN_PT_LOGIN_CHECK:
                return &apilogin_driver_login_check;
        case APILOGIN_PT_TOKEN_LOGIN:
                return &apilogin_driver_token_login;
        case APILOGIN_PT_JSONRPC:
                return &apilogin_driver_jsonrpc;
        case APILOGIN_PT_REST_LOGIN:
                return &apilogin_driver_rest_login;
        case APILOGIN_PT_WS_AUTH:
                return &apilogin_driver_ws_auth;
        default:
                return NULL;
        }
}

/* Resets r for reuse. The outcome falls back to UNAVAIL, never to OK, so a result
 * nobody filled in can not pass for a successful login. */
void apilogin_result_clear(struct apilogin_result *r)
{
        if (!r)
                return;
        apilogin_erase_free(r->token);
        apilogin_erase_free(r->refresh);
        free(r->remote_id);
        free(r->display_name);
        free(r->role);
        for (size_t i = 0; i < APILOGIN_EXTRA_MAX; i++) {
                free(r->extra[i].key);
                apilogin_erase_free(r->extra[i].value);
        }
        free(r->api_code);
        free(r->api_message);
        *r = (struct apilogin_result){ .outcome = APILOGIN_UNAVAIL, .retry_after = -1 };
}

/* Parses exactly resp->len bytes; anything but whitespace after the value makes the body
 * "not JSON" (a truncated or concatenated reply is not silently half-read). NULL if resp
 * has no body or it is not JSON. The caller frees with apilogin_json_delete_wipe. */
struct cJSON *apilogin_json_parse(const struct apilogin_http_resp *resp)
{
        const char *end = NULL;
        cJSON *j;

        if (!resp || !resp->body || resp->len == 0)
                return NULL;
        j = cJSON_ParseWithLengthOpts(resp->body, resp->len, &end, false);
        if (!j)
                return NULL;
        for (; end && end < resp->body + resp->len; end++) {
                if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
                        apilogin_json_delete_wipe(j);
                        return NULL;
                }
        }
        return j;
}

/* A copy of obj[key] when it is a string of at most max bytes; NULL otherwise. errno is
 * ENOMEM when NULL came from a failed allocation, 0 otherwise, so a driver can tell "no
 * such value" from "out of memory". */
char *apilogin_json_strdup(const struct cJSON *obj, const char *key, size_t max)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
        char *s;

        errno = 0;
        if (!cJSON_IsString(v) || !v->valuestring || strnlen(v->valuestring, max + 1) > max)
                return NULL;
        s = strdup(v->valuestring);
        if (!s)
                errno = ENOMEM;
        return s;
}

static void wipe_strings(cJSON *j)
{
        for (; j; j = j->next) {
                if (j->valuestring)
                        apilogin_secure_erase(j->valuestring, strlen(j->valuestring));
                if (j->child)
                        wipe_strings(j->child);
        }
}

/* Printing goes into buffers we own (cJSON_PrintPreallocated, retried with a doubled
 * size), because cJSON's own printer grows its buffer with realloc and would leave
 * copies of the password in freed memory. The result is freed with apilogin_erase_free;
 * every string value of obj is wiped (obj stays valid for cJSON_Delete). */
char *apilogin_json_print_wipe(struct cJSON *obj)
{
        char *out = NULL;

        for (int size = 256; size <= 4 * 1024 * 1024 && obj; size *= 2) {
                out = malloc((size_t)size);
                if (!out)
                        break;
                if (cJSON_PrintPreallocated(obj, out, size, false))
                        break;
                out = apilogin_freezero(out, (size_t)size);
        }
        if (obj) {
                if (obj->valuestring)
                        apilogin_secure_erase(obj->valuestring, strlen(obj->valuestring));
                wipe_strings(obj->child);
        }
        return out;
}

void apilogin_json_delete_wipe(struct cJSON *obj)
{
        if (!obj)
                return;
        if (obj->valuestring)
                apilogin_secure_erase(obj->valuestring, strlen(obj->valuestring));
        wipe_strings(obj->child);
        cJSON_Delete(obj);
}

void apilogin_json_freep(cJSON **j)
{
        apilogin_json_delete_wipe(*j);
}

bool apilogin_json_str_ok(const cJSON *v, size_t max)
{
        return cJSON_IsString(v) && v->valuestring && v->valuestring[0] &&
               strnlen(v->valuestring, max + 1) <= max;
}

bool apilogin_json_int(const cJSON *v, long *ret)
{
        if (!cJSON_IsNumber(v) || v->valuedouble < -1e9 || v->valuedouble > 1e9 ||
            v->valuedouble != (double)(long)v->valuedouble)
                return false;
        *ret = (long)v->valuedouble;
        return true;
}

char *apilogin_sanitize_dup(const char *s, size_t max)
{
        size_t n = strnlen(s, max);
        char *d = malloc(n + 1);

        if (!d)
                return NULL;
        for (size_t i = 0; i < n; i++)
                d[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        d[n] = '\0';
        return d;
}

bool apilogin_gecos_ok(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ':')
                        return false;
        return true;
}
