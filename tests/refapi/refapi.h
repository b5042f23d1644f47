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

/* http_util.c */
void rq_reply_buf(struct rq *rq, unsigned status, const char *ctype, char *body, size_t len);
void rq_reply_text(struct rq *rq, unsigned status, const char *text);
void rq_reply_json(struct rq *rq, unsigned status, struct cJSON *obj);
void rq_add_header(struct rq *rq, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
const char *rq_header(const struct rq *rq, const char *name);
const char *rq_query(const struct rq *rq, const char *name);
bool rq_is_post(const struct rq *rq);
bool ctype_is(const char *ctype, const char *want);
struct cJSON *rq_parse_json(const struct rq *rq);
char *form_get(const char *body, size_t len, const char *name);
const char *rq_bearer(const struct rq *rq, const char *header);
void rand_hex(char *out, size_t nbytes);
void fmt_rfc3339(time_t t, char *buf, size_t size);
time_t now_s(void);

/* the handlers, one file each (api_*.c, control.c) */
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
void ctl_stats(struct rq *rq);
void ctl_fault(struct rq *rq);
void ctl_reset(struct rq *rq);

/* router.c */
enum MHD_Result router_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls);
void router_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe);

#endif
