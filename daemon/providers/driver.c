/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver.c: the helpers every driver shares (driver.h): clearing requests and replies,
 * JSON parsing with a whole-body check, bounded string copies, serializing and freeing
 * JSON that holds secrets without leaving copies behind, form encoding and base64. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "macro.h"
#include "daemon/providers/driver.h"
#include "secure.h"

/* Wipes every member (the URL may carry a session id, avl_evts?sid=, so it is wiped too). */
void apilogin_http_req_clear(struct apilogin_http_req *req)
{
        if (!req)
                return;
        apilogin_erase_free(req->url);
        free(req->content_type);
        apilogin_freezero(req->body, req->body_len);
        for (size_t i = 0; i < APILOGIN_HTTP_MAX_HEADERS; i++)
                apilogin_erase_free(req->headers[i]);
        free(req->match_id); /* req->jar is borrowed */
        *req = (struct apilogin_http_req){ 0 };
}

/* Wipes and frees the body; resets to "no response" (retry_after -1). resp->url
 * is not owned by the response and is only forgotten. Accepts NULL. */
void apilogin_http_resp_clear(struct apilogin_http_resp *resp)
{
        if (!resp)
                return;
        if (resp->body)
                apilogin_freezero(resp->body, resp->len + 1);
        *resp = (struct apilogin_http_resp){ .retry_after = -1 };
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

/* RFC 6749 appendix B: the unreserved set of RFC 3986 stays, space becomes '+'. */
static bool form_plain(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~';
}

char *apilogin_form_encode(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *out = n < SIZE_MAX / 3 ? malloc(3 * n + 1) : NULL, *o = out;

        if (!out)
                return NULL;
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (form_plain(*c)) {
                        *o++ = (char)*c;
                } else if (*c == ' ') {
                        *o++ = '+';
                } else {
                        *o++ = '%';
                        *o++ = hex[*c >> 4];
                        *o++ = hex[*c & 15];
                }
        }
        *o = '\0';
        return out;
}

int apilogin_form_add(char **buf, size_t *len, const char *name, const char *value)
{
        _cleanup_(apilogin_erase_freep) char *n = apilogin_form_encode(name);
        _cleanup_(apilogin_erase_freep) char *v = apilogin_form_encode(value);
        size_t want;
        char *nb;

        if (!n || !v)
                return -ENOMEM;
        want = *len + (*len ? 1 : 0) + strlen(n) + 1 + strlen(v);
        nb = malloc(want + 1);
        if (!nb)
                return -ENOMEM;
        (void)snprintf(nb, want + 1, "%s%s%s=%s", *buf ? *buf : "", *len ? "&" : "", n, v);
        apilogin_freezero(*buf, *len);
        *buf = nb;
        *len = want;
        return 0;
}

char *apilogin_base64(const char *s, size_t n)
{
        static const char tab[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *u = (const unsigned char *)s;
        char *out = n < SIZE_MAX / 2 ? malloc((n + 2) / 3 * 4 + 1) : NULL, *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t w = (uint32_t)u[i] << 16;

                if (i + 1 < n)
                        w |= (uint32_t)u[i + 1] << 8;
                if (i + 2 < n)
                        w |= u[i + 2];
                *o++ = tab[(w >> 18) & 63];
                *o++ = tab[(w >> 12) & 63];
                *o++ = i + 1 < n ? tab[(w >> 6) & 63] : '=';
                *o++ = i + 2 < n ? tab[w & 63] : '=';
        }
        *o = '\0';
        return out;
}

ssize_t apilogin_secret_file_read(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        size_t n = 0;
        ssize_t k;

        if (!path || !buf || size < 2)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
            (st.st_mode & 077))
                return -EPERM;
        while (n < size - 1 && (k = read(fd, buf + n, size - 1 - n)) != 0) {
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        apilogin_secure_erase(buf, n);
                        return -errno;
                }
                n += (size_t)k;
        }
        if (n == size - 1) { /* full: one more byte means the file is too large */
                char extra;

                if (read(fd, &extra, 1) > 0) {
                        apilogin_secure_erase(buf, n);
                        return -EFBIG;
                }
        }
        if (memchr(buf, '\0', n)) {
                apilogin_secure_erase(buf, n);
                return -EINVAL;
        }
        if (n > 0 && buf[n - 1] == '\n')
                n--;
        if (n > 0 && buf[n - 1] == '\r')
                n--;
        buf[n] = '\0';
        return (ssize_t)n;
}
