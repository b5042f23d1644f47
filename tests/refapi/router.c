/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* router.c: the MHD access handler: collects the body, routes by path, applies
 * faults, runs the handler and turns struct rq's reply into an MHD response. */
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "refapi.h"
#include "stall.h"
#include "stats.h"

enum { M_GET = 1, M_POST = 2 };

struct route {
        const char *path;
        rq_handler_fn fn;
        unsigned methods;
        bool control;                   /* not counted in "total", no faults */
        bool ws;                        /* stall/garbage/oversized are handled in-protocol */
};

static const struct route routes[] = {
        { "/v1/login_check", api_login_check, M_POST, false, false },
        { "/v1/token/refresh", api_lc_refresh, M_POST, false, false },
        { "/v1/whoami", api_lc_whoami, M_GET, false, false },
        { "/wialon/ajax.html", api_wialon_ajax, M_GET | M_POST, false, false },
        { "/avl_evts", api_wialon_avl_evts, M_GET | M_POST, false, false },
        { "/v4.0", api_jsonrpc, M_POST, false, false },
        { "/api/login", api_rest_login, M_GET | M_POST, false, false },
        { "/api/auth/refresh_token", api_rest_refresh, M_POST, false, false },
        { "/api/logout", api_rest_logout, M_POST, false, false },
        { "/", api_ws_auth, M_GET, false, true },
        { "/ws", api_ws_auth, M_GET, false, true },
        { "/frames/", api_ws_http_frames, M_GET, false, false },
        { "/oauth2/token", api_oauth2_token, M_POST, false, false },
        { "/oauth2/revoke", api_oauth2_revoke, M_POST, false, false },
        { "/_stats", ctl_stats, M_GET, true, false },
        { "/_fault", ctl_fault, M_GET | M_POST, true, false },
        { "/_reset", ctl_reset, M_POST, true, false },
};

static const struct route *route_find(const char *path)
{
        for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
                if (strcmp(routes[i].path, path) == 0)
                        return &routes[i];
        return NULL;
}

static unsigned method_bit(const char *method)
{
        if (strcmp(method, "GET") == 0)
                return M_GET;
        if (strcmp(method, "POST") == 0)
                return M_POST;
        return 0;
}

static void body_append(struct rq *rq, const char *data, size_t n)
{
        if (rq->too_big)
                return;
        if (rq->body_len + n > REFAPI_BODY_MAX) {
                rq->too_big = true;
                free(rq->body);
                rq->body = NULL;
                rq->body_len = 0;
                return;
        }
        if (rq->body_len + n + 1 > rq->body_cap) {
                size_t cap = rq->body_cap ? rq->body_cap : 1024;
                char *b;

                while (cap < rq->body_len + n + 1)
                        cap *= 2;
                b = realloc(rq->body, cap);
                if (!b) {
                        rq->too_big = true;     /* reported as 413, good enough for ENOMEM */
                        return;
                }
                rq->body = b;
                rq->body_cap = cap;
        }
        memcpy(rq->body + rq->body_len, data, n);
        rq->body_len += n;
        rq->body[rq->body_len] = '\0';
}

static enum MHD_Result send_reply(struct rq *rq)
{
        struct MHD_Response *resp = rq->custom;
        enum MHD_Result ret;

        if (!resp) {
                /* not MHD_create_response_from_buffer(): deprecated in MHD 1.x */
                resp = MHD_create_response_from_buffer_with_free_callback(
                        rq->reply_len, rq->reply, rq->reply_static ? NULL : free);
                if (!resp)
                        return MHD_NO;
                if (!rq->reply_static)
                        rq->reply = NULL;       /* MHD owns it now */
        }
        rq->custom = NULL;
        if (rq->ctype)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rq->ctype);
        for (int i = 0; i < rq->nhdr; i++)
                MHD_add_response_header(resp, rq->hdr[i].name, rq->hdr[i].value);
        ret = MHD_queue_response(rq->conn, rq->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* Applies the path's fault, if any.  Returns -1 when the handler should run. */
static int run_fault(struct rq *rq, const struct route *rt)
{
        enum fault_mode m = faults_get(rq->path);

        if (rt->ws && m != FAULT_500 && m != FAULT_CLOSE && m != FAULT_REDIRECT)
                m = FAULT_NONE;
        switch (fault_apply(rq, m)) {
        case FA_PASS:
                return -1;
        case FA_REPLY:
                return send_reply(rq);
        case FA_SUSPEND:
                rq->stalled = true;
                return MHD_YES;
        case FA_CLOSE:
                break;
        }
        return MHD_NO;
}

static enum MHD_Result dispatch(struct rq *rq)
{
        const struct route *rt = route_find(rq->path);
        int r;

        if (!rt || !rt->control)
                stat_inc(ST_total);
        if (!rt) {
                stat_inc(ST_not_found);
                rq_reply_text(rq, 404, "Not Found\n");
        } else if (!(rt->methods & method_bit(rq->method))) {
                stat_inc(ST_method_not_allowed);
                rq_reply_text(rq, 405, "Method Not Allowed\n");
                rq_add_header(rq, "Allow", "%s", rt->methods == M_GET ? "GET" :
                              rt->methods == M_POST ? "POST" : "GET, POST");
        } else if (rq->too_big) {
                stat_inc(ST_body_too_large);
                rq_reply_text(rq, 413, "Payload Too Large\n");
        } else {
                if (!rt->control && (r = run_fault(rq, rt)) >= 0)
                        return (enum MHD_Result)r;
                rt->fn(rq);
        }
        return send_reply(rq);
}

/* A request in absolute form ("POST http://host/path"), as a client sends it to a proxy:
 * refapi acts as that proxy for its own paths, and counts it (the proxy key's test). */
static const char *proxied_path(const char *url)
{
        const char *p;

        if (strncmp(url, "http://", 7) != 0)
                return url;
        stat_inc(ST_proxied);
        p = strchr(url + 7, '/');
        return p ? p : "/";
}

static struct rq *rq_new(struct MHD_Connection *conn, const char *url, const char *method)
{
        struct rq *rq = calloc(1, sizeof(*rq));

        if (!rq)
                return NULL;
        url = proxied_path(url);
        rq->conn = conn;
        rq->method = method;
        rq->path = strdup(url);
        rq->status = 500;
        if (!rq->path) {
                free(rq);
                return NULL;
        }
        return rq;
}

enum MHD_Result router_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
        struct rq *rq = *con_cls;

        (void)cls;
        (void)version;
        if (!rq) {
                *con_cls = rq = rq_new(conn, url, method);
                return rq ? MHD_YES : MHD_NO;
        }
        if (rq->stalled)
                return MHD_NO;          /* resumed after --stall-seconds: close, no answer */
        if (*upload_data_size > 0) {
                body_append(rq, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        return dispatch(rq);
}

void router_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct rq *rq = *con_cls;

        (void)cls;
        (void)conn;
        (void)toe;
        if (!rq)
                return;
        if (rq->stalled)
                stall_done();
        for (int i = 0; i < rq->nhdr; i++)
                free(rq->hdr[i].value);
        if (rq->custom)
                MHD_destroy_response(rq->custom);
        if (!rq->reply_static)
                free(rq->reply);
        free(rq->body);
        free(rq->path);
        free(rq);
        *con_cls = NULL;
}
