/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* http_util.c: small helpers shared by the handlers: replies, headers, form decoding,
 * random hex tokens and time formatting. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "refapi.h"

void rq_reply_buf(struct rq *rq, unsigned status, const char *ctype, char *body, size_t len)
{
        if (!rq->reply_static)
                free(rq->reply);
        rq->status = status;
        rq->ctype = ctype;
        rq->reply = body;
        rq->reply_len = body ? len : 0;
        rq->reply_static = false;
}

/* Copies text; allocation failure degrades to an empty body. */
void rq_reply_text(struct rq *rq, unsigned status, const char *text)
{
        char *s = strdup(text);

        rq_reply_buf(rq, status, "text/plain", s, s ? strlen(s) : 0);
}

/* Takes ownership of obj and deletes it. */
void rq_reply_json(struct rq *rq, unsigned status, struct cJSON *obj)
{
        char *s = obj ? cJSON_PrintUnformatted(obj) : NULL;

        cJSON_Delete(obj);
        if (!s) {
                rq_reply_text(rq, 500, "out of memory\n");
                return;
        }
        rq_reply_buf(rq, status, "application/json", s, strlen(s));
}

void rq_add_header(struct rq *rq, const char *name, const char *fmt, ...)
{
        va_list ap;
        char *v;
        int r;

        if (rq->nhdr >= REFAPI_MAX_HEADERS)
                return;
        va_start(ap, fmt);
        r = vasprintf(&v, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        rq->hdr[rq->nhdr].name = name;
        rq->hdr[rq->nhdr].value = v;
        rq->nhdr++;
}

const char *rq_header(const struct rq *rq, const char *name)
{
        return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *rq_query(const struct rq *rq, const char *name)
{
        return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool rq_is_post(const struct rq *rq)
{
        return strcmp(rq->method, "POST") == 0;
}

/* True if the Content-Type value names the media type want (parameters ignored). */
bool ctype_is(const char *ctype, const char *want)
{
        size_t n = strlen(want);

        if (!ctype)
                return false;
        while (*ctype == ' ' || *ctype == '\t')
                ctype++;
        if (strncasecmp(ctype, want, n) != 0)
                return false;
        ctype += n;
        while (*ctype == ' ' || *ctype == '\t')
                ctype++;
        return *ctype == '\0' || *ctype == ';';
}

/* Returns the parsed body (caller deletes) or NULL if it is missing or not JSON.
 * The length includes the NUL: cJSON's require_null_terminated looks for it. */
struct cJSON *rq_parse_json(const struct rq *rq)
{
        if (!rq->body || rq->body_len == 0)
                return NULL;
        return cJSON_ParseWithLengthOpts(rq->body, rq->body_len + 1, NULL, true);
}

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = tolower(c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Decodes n bytes of application/x-www-form-urlencoded text into a new string. */
char *url_decode(const char *s, size_t n)
{
        char *out = malloc(n + 1), *o = out;
        size_t i;

        if (!out)
                return NULL;
        for (i = 0; i < n; i++) {
                if (s[i] == '+') {
                        *o++ = ' ';
                } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
                           hexval(s[i + 2]) >= 0) {
                        *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                        i += 2;
                } else {
                        *o++ = s[i];
                }
        }
        *o = '\0';
        return out;
}

/* Returns the decoded value of field name in a form body (caller frees) or NULL. */
char *form_get(const char *body, size_t len, const char *name)
{
        size_t nlen = strlen(name), pos = 0;

        while (body && pos < len) {
                const char *f = body + pos, *amp = memchr(f, '&', len - pos);
                size_t flen = amp ? (size_t)(amp - f) : len - pos;

                if (flen > nlen && f[nlen] == '=' && memcmp(f, name, nlen) == 0)
                        return url_decode(f + nlen + 1, flen - nlen - 1);
                if (flen == nlen && memcmp(f, name, nlen) == 0)
                        return strdup("");
                pos += flen + 1;
        }
        return NULL;
}

/* Returns the token of "<header>: Bearer <token>", or NULL. */
const char *rq_bearer(const struct rq *rq, const char *header)
{
        const char *v = rq_header(rq, header);

        if (!v || strncasecmp(v, "Bearer ", 7) != 0)
                return NULL;
        v += 7;
        while (*v == ' ')
                v++;
        return *v ? v : NULL;
}

/* Writes 2*nbytes lowercase hex digits and a NUL to out (nbytes <= 64). */
void rand_hex(char *out, size_t nbytes)
{
        static const char digits[] = "0123456789abcdef";
        unsigned char raw[64];
        size_t i;

        if (nbytes > sizeof(raw))
                nbytes = sizeof(raw);
        if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes) {
                /* getrandom on a few bytes does not fail once the pool is up; be safe anyway */
                for (i = 0; i < nbytes; i++)
                        raw[i] = (unsigned char)random();
        }
        for (i = 0; i < nbytes; i++) {
                out[2 * i] = digits[raw[i] >> 4];
                out[2 * i + 1] = digits[raw[i] & 15];
        }
        out[2 * nbytes] = '\0';
}

void fmt_rfc3339(time_t t, char *buf, size_t size)
{
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t now_s(void)
{
        return time(NULL);
}

/* Wall-clock milliseconds: token expiry needs sub-second precision for short test TTLs. */
long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
