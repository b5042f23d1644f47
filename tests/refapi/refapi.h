/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* refapi.h: shared types of the reference API server (one request, its reply, the handlers).
 *
 * refapi serves the five login APIs of /work/shared/protocols.md on 127.0.0.1 for the
 * tests, the demo and the benchmarks.  Every HTTP request gets one struct rq.  The
 * router (router.c) reads the body into it, picks a handler by path, and the handler
 * fills in the reply fields; the router then turns those into an MHD response.
 * Handlers never talk to MHD themselves, except the WebSocket handshake, which
 * hands back a ready-made upgrade response in rq->custom.
 */
#ifndef REFAPI_H
#define REFAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <microhttpd.h>

struct cJSON;

#define REFAPI_BODY_MAX (64 * 1024)     /* larger request bodies get 413 */
#define REFAPI_MAX_HEADERS 4            /* extra reply headers per request */

struct rq_header {
        const char *name;               /* static string */
        char *value;                    /* owned */
};

struct rq {
        struct MHD_Connection *conn;
        const char *method;             /* MHD's string, valid for the request */
        char *path;                     /* URL path without query string, owned */
        char *body;                     /* NUL-terminated request body, owned, may be NULL */
        size_t body_len;
        size_t body_cap;
        bool too_big;                   /* body exceeded REFAPI_BODY_MAX, dropped */
        bool stalled;                   /* suspended by the "stall" fault */

        /* reply, filled by the handler */
        unsigned status;
        const char *ctype;              /* static string or NULL */
        char *reply;                    /* owned (malloc) unless reply_static */
        size_t reply_len;
        bool reply_static;              /* reply points to static memory */
        struct rq_header hdr[REFAPI_MAX_HEADERS];
        int nhdr;
        struct MHD_Response *custom;    /* ready-made response (WebSocket upgrade) */
};

typedef void (*rq_handler_fn)(struct rq *rq);

/* http_util.c -- reply helpers.  Each replaces any earlier reply of rq. */

/* Sets the reply; takes body (malloc'd, may be NULL when len is 0). */
void rq_reply_buf(struct rq *rq, unsigned status, const char *ctype, char *body, size_t len);
/* Sets a text/plain reply with a copy of text; callers may then override rq->ctype. */
void rq_reply_text(struct rq *rq, unsigned status, const char *text);
/* Sets an application/json reply printed from obj, and deletes obj. */
void rq_reply_json(struct rq *rq, unsigned status, struct cJSON *obj);
/* Adds a reply header (name must be static); silently drops it past REFAPI_MAX_HEADERS. */
void rq_add_header(struct rq *rq, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* http_util.c -- request helpers.  Returned strings live as long as the request
 * unless stated otherwise. */
const char *rq_header(const struct rq *rq, const char *name);
const char *rq_query(const struct rq *rq, const char *name);
bool rq_is_post(const struct rq *rq);
/* True if the Content-Type value names media type want; parameters are ignored. */
bool ctype_is(const char *ctype, const char *want);
/* Parses the body as JSON; NULL if missing or invalid.  Caller deletes. */
struct cJSON *rq_parse_json(const struct rq *rq);
/* n bytes of x-www-form-urlencoded text, decoded into a new string; caller frees. */
char *url_decode(const char *s, size_t n);
/* Decoded value of field name in an x-www-form-urlencoded body; caller frees. */
char *form_get(const char *body, size_t len, const char *name);
/* The token of "<header>: Bearer <token>", or NULL. */
const char *rq_bearer(const struct rq *rq, const char *header);
/* Writes 2*nbytes random lowercase hex digits plus a NUL (nbytes <= 64). */
void rand_hex(char *out, size_t nbytes);
/* Formats t as "YYYY-MM-DDTHH:MM:SSZ". */
void fmt_rfc3339(time_t t, char *buf, size_t size);
time_t now_s(void);
/* Wall-clock milliseconds since the epoch. */
long long now_ms(void);

/* The handlers, one file per API (api_*.c) plus control.c.  Called by the router
 * once the whole body is in rq; each must set a reply (or rq->custom) and count
 * itself in stats. */
void api_login_check(struct rq *rq);
void api_lc_refresh(struct rq *rq);
void api_lc_whoami(struct rq *rq);
void api_wialon_ajax(struct rq *rq);
void api_wialon_avl_evts(struct rq *rq);
void api_jsonrpc(struct rq *rq);
void api_rest_login(struct rq *rq);
void api_rest_refresh(struct rq *rq);
void api_rest_logout(struct rq *rq);
void api_ws_auth(struct rq *rq);
void api_ws_http_frames(struct rq *rq);
void api_oauth2_token(struct rq *rq);
void api_oauth2_revoke(struct rq *rq);
void ctl_stats(struct rq *rq);
void ctl_fault(struct rq *rq);
void ctl_reset(struct rq *rq);

/* router.c -- the MHD access handler (MHD_AccessHandlerCallback). */
enum MHD_Result router_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls);
/* MHD_OPTION_NOTIFY_COMPLETED callback: frees the request's struct rq. */
void router_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe);

#endif
