/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* http.c: apilogind's HTTP client: one curl multi handle driven by the event loop, easy
 * handles from a small pool, every security setting in one place (setup_easy). The multi
 * handle owns the connection cache, so consecutive logins to one API reuse a warm TCP/TLS
 * connection; a share handle keeps TLS sessions for when a connection had to be reopened.
 * Cookies are libcurl's: a login that wants them passes its jar, a share handle of its
 * own with the cookie engine on (apilogin_http_jar_new); nothing here parses Set-Cookie.
 * This file never logs: failures travel as -errno in the response. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "http.h"
#include "http_header.h"
#include "url.h"
#include "macro.h"
#include "secure.h"

#define POOL_MAX 8          /* idle easy handles kept for reuse */
#define MAX_CONNECTS 16     /* idle connections kept warm in the multi's cache */
#define RETRY_AFTER_MAX 86400L

struct apilogin_http_xfer {
        struct apilogin_http *h;
        struct apilogin_http_xfer *prev, *next;
        CURL *easy;
        struct curl_slist *hdrs;          /* wiped: may hold credentials */
        struct apilogin_http_req req;     /* kept until done: curl reads body in place */
        struct apilogin_http_resp resp;
        size_t cap;                       /* allocated size of resp.body */
        bool too_big;
        bool jarred;                      /* used a login's jar: never pooled (see xfer_free) */
        char *log_url;                    /* url without query/fragment, for resp.url */
        char why[CURL_ERROR_SIZE];        /* curl's error text (CURLOPT_ERRORBUFFER), or
                                             ours about a redirect: for resp.why */
        apilogin_http_done_fn done;
        apilogin_http_connected_fn connected; /* set instead of done: connect only (ws.c) */
        void *userdata;
        struct warm *warm;                /* the endpoint kept warm it counts in, or NULL */
        bool keeper;                      /* the background re-open of warm (OPTIONS *) */
};

/* An endpoint kept warm (see "keep warm" below). A slot is free when origin is NULL. */
struct warm {
        char *origin;           /* "scheme://host:port": what curl's cache matches on */
        char *ca_file;          /* with the TLS settings of the logins (NULL = system) */
        char *proxy;            /* and their proxy (NULL = none) */
        bool insecure_http;
        unsigned in_flight;     /* login transfers on it now: the socket is curl's then */
        bool keeper;            /* the keeper's OPTIONS is in flight */
        bool watch;             /* fd is the idle connection's socket, polled for a close */
        int fd;
        ino_t ino;              /* the fd's socket: a reused fd number is not ours */
        uint64_t last_login_ms; /* the last login transfer that started on it */
        uint64_t opened_ms;     /* when its connection was last opened */
        uint64_t retry_ms;      /* no re-open before (backoff) */
        unsigned fails;         /* failed re-opens in a row */
};

#define WARM_MAX 16
#define WARM_FOR_MS (10u * 60u * 1000u) /* kept warm this long after the last login */

struct apilogin_http_jar {
        CURLSH *share; /* CURL_LOCK_DATA_COOKIE only: one thread, no lock callbacks */
};

struct apilogin_http {
        CURLM *multi;
        CURLSH *share;
        struct apilogin_http_xfer *xfers; /* in flight */
        unsigned n_xfers;
        CURL *pool[POOL_MAX];
        unsigned n_pool;
        struct curl_waitfd *wfds;         /* scratch for apilogin_http_poll */
        unsigned n_wfds;
        struct warm warm[WARM_MAX];       /* endpoints kept warm */
        uint64_t warm_for_ms;             /* WARM_FOR_MS, or APILOGIND_WARM_FOR_S (tests) */
};

/* keep warm (defined below, in their own section) */
static void warm_note(struct apilogin_http_xfer *x, const struct apilogin_provider_cfg *p);
static void warm_adopt(struct apilogin_http_xfer *x);
static void warm_release(struct apilogin_http_xfer *x);

/* CLOCK_MONOTONIC in ms: the time base of every deadline in the daemon. */
uint64_t apilogin_now_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- URL policy --------------------------------------------------------------------- */

/* Pure. -EINVAL: not an absolute URL we can judge; -EPERM: scheme not https/wss/http/ws, or
 * plain http/ws to a non-loopback host without insecure_http (core/url.h decides). */
int apilogin_http_url_allowed(const char *url, bool insecure_http)
{
        enum apilogin_url_verdict v;

        if (!url)
                return -EINVAL;
        v = apilogin_url_check(url, false, insecure_http);
        if (v == APILOGIN_URL_SCHEME)
                v = apilogin_url_check(url, true, insecure_http);
        switch (v) {
        case APILOGIN_URL_OK: return 0;
        case APILOGIN_URL_MALFORMED: return -EINVAL;
        default: return -EPERM;
        }
}

/* ---- one transfer --------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct apilogin_http_xfer *x = userdata;
        struct apilogin_http_resp *r = &x->resp;
        size_t n = size * nmemb;

        if (n > APILOGIN_HTTP_BODY_MAX - r->len) {
                x->too_big = true;
                return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
        }
        if (r->len + n + 1 > x->cap) {
                size_t cap = x->cap ? x->cap : 1024;
                char *b;

                while (cap < r->len + n + 1)
                        cap *= 2;
                if (cap > APILOGIN_HTTP_BODY_MAX + 1)
                        cap = APILOGIN_HTTP_BODY_MAX + 1;
                /* No realloc: the old block may hold a token and must be wiped. */
                b = malloc(cap);
                if (!b)
                        return 0;
                if (r->body)
                        memcpy(b, r->body, r->len + 1);
                apilogin_freezero(r->body, x->cap);
                r->body = b;
                x->cap = cap;
        }
        memcpy(r->body + r->len, data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return n;
}

/* Value of header line "Name: value" if name matches, trimmed, length in *ret_len. */
static const char *header_value(const char *line, size_t n, const char *name, size_t *ret_len)
{
        size_t nl = strlen(name);
        const char *v, *end = line + n;

        if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
                return NULL;
        v = line + nl + 1;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                           end[-1] == '\t'))
                end--;
        *ret_len = (size_t)(end - v);
        return v;
}

static void take_retry_after(struct apilogin_http_resp *r, const char *v, size_t len)
{
        char buf[64];
        long s = -1;

        if (len == 0 || len >= sizeof(buf))
                return;
        memcpy(buf, v, len);
        buf[len] = '\0';
        if (strspn(buf, "0123456789") == len) {
                s = len > 6 ? RETRY_AFTER_MAX : strtol(buf, NULL, 10);
        } else {
                time_t t = curl_getdate(buf, NULL); /* HTTP-date form */

                if (t != (time_t)-1)
                        s = t > time(NULL) ? (long)(t - time(NULL)) : 0;
        }
        if (s >= 0)
                r->retry_after = s > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : s;
}

void apilogin_http_header_line(struct apilogin_http_resp *r, const char *data, size_t n)
{
        size_t vlen;
        const char *v;

        if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                /* A new response (e.g. after a 1xx): forget the previous headers. */
                r->retry_after = -1;
        } else if ((v = header_value(data, n, "Retry-After", &vlen))) {
                take_retry_after(r, v, vlen);
        }
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct apilogin_http_xfer *x = userdata;
        size_t n = size * nmemb;

        apilogin_http_header_line(&x->resp, data, n);
        return n;
}

static bool has_crlf(const char *s)
{
        return s && strpbrk(s, "\r\n");
}

/* Append "Name: value" to the list; -ENOMEM on failure. */
static int slist_add(struct curl_slist **l, const char *line)
{
        struct curl_slist *n = curl_slist_append(*l, line);

        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

static int build_headers(struct apilogin_http_xfer *x)
{
        char ct[256];
        int r;

        if (x->req.content_type) {
                if ((size_t)snprintf(ct, sizeof(ct), "Content-Type: %s", x->req.content_type) >=
                    sizeof(ct))
                        return -EINVAL;
                r = slist_add(&x->hdrs, ct);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < APILOGIN_HTTP_MAX_HEADERS; i++) {
                if (!x->req.headers[i])
                        continue;
                if (!strchr(x->req.headers[i], ':'))
                        return -EINVAL;
                r = slist_add(&x->hdrs, x->req.headers[i]);
                if (r < 0)
                        return r;
        }
        return slist_add(&x->hdrs, "Expect:"); /* no 100-continue round trip */
}

static int check_req(const struct apilogin_http_req *req)
{
        if (!req->url || (req->body_len > 0 && !req->body) ||
            has_crlf(req->content_type))
                return -EINVAL;
        for (size_t i = 0; i < APILOGIN_HTTP_MAX_HEADERS; i++)
                if (has_crlf(req->headers[i]))
                        return -EINVAL;
        return 0;
}

#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(e, opt, val); } while (0)

/* Where a transfer goes and how: URL, protocols, timeouts, proxy, CA, callbacks. The
 * security settings are all here. */
static CURLcode set_transport(struct apilogin_http_xfer *x, const struct apilogin_provider_cfg *p,
                              bool allow_http, long timeout_ms)
{
        const char *protos = allow_http ? "https,http" : "https";
        CURL *e = x->easy;
        CURLcode c = CURLE_OK;

        /* A login's jar replaces the shared TLS session cache for its transfers: one share
         * per easy handle. The connections stay warm in the multi all the same. */
        SET(CURLOPT_SHARE, x->req.jar ? x->req.jar->share : x->h->share);
        if (x->req.jar)
                SET(CURLOPT_COOKIEFILE, ""); /* the engine on, no file read */
        SET(CURLOPT_PRIVATE, x);
        SET(CURLOPT_ERRORBUFFER, x->why);
        SET(CURLOPT_URL, x->req.url);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_PROTOCOLS_STR, protos);
        SET(CURLOPT_REDIR_PROTOCOLS_STR, protos);
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        SET(CURLOPT_TIMEOUT_MS, timeout_ms);
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
        SET(CURLOPT_TCP_KEEPIDLE, 30L);
        SET(CURLOPT_TCP_KEEPINTVL, 15L);
        SET(CURLOPT_USERAGENT, "apilogind");
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)APILOGIN_HTTP_BODY_MAX);
        SET(CURLOPT_WRITEFUNCTION, on_body);
        SET(CURLOPT_WRITEDATA, x);
        SET(CURLOPT_HEADERFUNCTION, on_header);
        SET(CURLOPT_HEADERDATA, x);
        SET(CURLOPT_HTTPHEADER, x->hdrs);
        if (p && p->ca_file)
                SET(CURLOPT_CAINFO, p->ca_file);
        /* The provider's proxy or none: "" turns off the environment's http_proxy,
         * https_proxy and all_proxy, and an empty no-proxy list ignores no_proxy. */
        SET(CURLOPT_PROXY, p && p->proxy ? p->proxy : "");
        SET(CURLOPT_NOPROXY, "");
        return c;
}

/* What a transfer sends: POST or GET, a warm connection's keeper, a WebSocket's connect. */
static CURLcode set_request(struct apilogin_http_xfer *x)
{
        CURL *e = x->easy;
        CURLcode c = CURLE_OK;

        if (x->req.post) {
                SET(CURLOPT_POST, 1L);
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body_len);
                SET(CURLOPT_POSTFIELDS, x->req.body ? x->req.body : "");
        } else {
                SET(CURLOPT_HTTPGET, 1L);
        }
        if (x->warm)
                /* curl drops a connection idle for 118 s when it is next wanted; a warm
                 * one is watched instead (and TCP keep-alive finds a dead peer). */
                SET(CURLOPT_MAXAGE_CONN, (long)(WARM_FOR_MS / 1000));
        if (x->keeper) {
                SET(CURLOPT_CUSTOMREQUEST, "OPTIONS");
                SET(CURLOPT_REQUEST_TARGET, "*");
        }
        if (x->connected) {
                /* The WebSocket handshake is ours to send, in HTTP/1.1: no h2 by ALPN. */
                SET(CURLOPT_CONNECT_ONLY, 1L);
                SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        }
        return c;
}
#undef SET

/* Every curl option of a transfer. -errno on failure. */
static int setup_easy(struct apilogin_http_xfer *x, const struct apilogin_provider_cfg *p,
                      bool allow_http, long timeout_ms)
{
        CURLcode c = set_transport(x, p, allow_http, timeout_ms);

        if (c == CURLE_OK)
                c = set_request(x);
        if (c == CURLE_OUT_OF_MEMORY)
                return -ENOMEM;
        return c == CURLE_OK ? 0 : -EINVAL;
}

static void wipe_slist(struct curl_slist *l)
{
        for (struct curl_slist *i = l; i; i = i->next)
                if (i->data)
                        apilogin_secure_erase(i->data, strlen(i->data));
        curl_slist_free_all(l);
}

/* Give the easy handle back to the pool (or free it) and free the transfer. */
static void xfer_free(struct apilogin_http_xfer *x)
{
        struct apilogin_http *h = x->h;

        warm_release(x);
        if (x->easy) {
                /* curl_easy_reset keeps cookies and shares: a handle that saw a login's
                 * cookies is never lent to another transfer. */
                if (h->n_pool < POOL_MAX && !x->jarred) {
                        curl_easy_reset(x->easy);
                        h->pool[h->n_pool++] = x->easy;
                } else {
                        curl_easy_cleanup(x->easy);
                }
        }
        wipe_slist(x->hdrs);
        apilogin_http_req_clear(&x->req);
        apilogin_http_resp_clear(&x->resp);
        free(x->log_url);
        free(x);
}

/* Off the list of transfers in flight; the easy handle stays in the multi. */
static void xfer_unlist(struct apilogin_http_xfer *x)
{
        struct apilogin_http *h = x->h;

        if (x->prev)
                x->prev->next = x->next;
        else
                h->xfers = x->next;
        if (x->next)
                x->next->prev = x->prev;
        h->n_xfers--;
}

static void xfer_unlink(struct apilogin_http_xfer *x)
{
        (void)curl_multi_remove_handle(x->h->multi, x->easy);
        xfer_unlist(x);
}

static CURL *easy_get(struct apilogin_http *h)
{
        if (h->n_pool > 0)
                return h->pool[--h->n_pool];
        return curl_easy_init();
}

/* A transfer with its own copy of req, easy handle and headers; not yet in the multi. */
static int xfer_new(struct apilogin_http *h, struct apilogin_http_req *req,
                    struct apilogin_http_xfer **ret)
{
        struct apilogin_http_xfer *x = calloc(1, sizeof(*x));

        if (!x)
                return -ENOMEM;
        x->h = h;
        x->req = *req;
        *req = (struct apilogin_http_req){ 0 };
        x->resp.retry_after = -1;
        x->log_url = strndup(x->req.url, strcspn(x->req.url, "?#"));
        x->easy = easy_get(h);
        if (!x->log_url || !x->easy) {
                xfer_free(x);
                return -ENOMEM;
        }
        x->resp.url = x->log_url;
        *ret = x;
        return 0;
}

/* The checks, the easy handle and its options, and the multi: what apilogin_http_start
 * and apilogin_http_connect share. x->done or x->connected is set from cb before the
 * transfer can run. *req is cleared either way. */
/* Whether a transfer may start: a well-formed http(s) request the provider allows, time
 * left, and someone to tell. */
static int check_start(const struct apilogin_provider_cfg *p, const struct apilogin_http_req *req,
                       uint64_t deadline_ms, uint64_t now, const struct apilogin_http_xfer *cb)
{
        int r = check_req(req);

        if (r < 0)
                return r;
        if (strncasecmp(req->url, "http://", 7) != 0 && strncasecmp(req->url, "https://", 8) != 0)
                return -EPERM; /* http(s) only here: ws:// belongs to ws.c */
        r = apilogin_http_url_allowed(req->url, p && p->insecure_http);
        if (r < 0)
                return r;
        if (deadline_ms <= now)
                return -ETIMEDOUT;
        return cb->done || cb->connected ? 0 : -EINVAL;
}

static int xfer_start(struct apilogin_http *h, const struct apilogin_provider_cfg *p,
                      struct apilogin_http_req *req, uint64_t deadline_ms,
                      const struct apilogin_http_xfer *cb, struct apilogin_http_xfer **ret_xfer)
{
        struct apilogin_http_xfer *x = NULL;
        uint64_t now = apilogin_now_ms();
        int r;

        r = check_start(p, req, deadline_ms, now, cb);
        if (r == 0)
                r = xfer_new(h, req, &x);
        if (r < 0) {
                apilogin_http_req_clear(req);
                return r;
        }
        x->done = cb->done;
        x->jarred = x->req.jar != NULL;
        x->connected = cb->connected;
        x->userdata = cb->userdata;
        x->keeper = cb->keeper;
        x->warm = cb->warm;
        warm_note(x, p);
        r = build_headers(x);
        if (r == 0) {
                uint64_t left = deadline_ms - now;

                r = setup_easy(x, p, strncasecmp(x->req.url, "http://", 7) == 0,
                               left > LONG_MAX ? LONG_MAX : (long)left);
        }
        if (r == 0 && curl_multi_add_handle(h->multi, x->easy) != CURLM_OK)
                r = -ENOMEM;
        if (r < 0) {
                xfer_free(x);
                return r;
        }
        x->next = h->xfers;
        if (h->xfers)
                h->xfers->prev = x;
        h->xfers = x;
        h->n_xfers++;
        if (ret_xfer)
                *ret_xfer = x;
        return 0;
}

/* Refusals come back at once, before anything is sent and without a callback: -EPERM
 * (URL policy, or a ws:// URL, which is ws.c's job), -EINVAL (bad request, a header with
 * CR/LF), -ETIMEDOUT (deadline already passed), -ENOMEM. *req is cleared either way. */
int apilogin_http_start(struct apilogin_http *h, const struct apilogin_provider_cfg *p,
                        struct apilogin_http_req *req, uint64_t deadline_ms,
                        apilogin_http_done_fn done, void *userdata,
                        struct apilogin_http_xfer **ret_xfer)
{
        const struct apilogin_http_xfer cb = { .done = done, .userdata = userdata };

        return xfer_start(h, p, req, deadline_ms, &cb, ret_xfer);
}

/* A GET transfer with CURLOPT_CONNECT_ONLY: curl resolves, connects and (https) verifies
 * the peer asynchronously on the multi, then reports "done" with nothing sent. */
int apilogin_http_connect(struct apilogin_http *h, const struct apilogin_provider_cfg *p,
                          const char *url, uint64_t deadline_ms,
                          apilogin_http_connected_fn connected, void *userdata,
                          struct apilogin_http_xfer **ret_xfer)
{
        const struct apilogin_http_xfer cb = { .connected = connected, .userdata = userdata };
        struct apilogin_http_req req = { 0 };

        if (!url || !connected)
                return -EINVAL;
        req.url = strdup(url);
        if (!req.url)
                return -ENOMEM;
        return xfer_start(h, p, &req, deadline_ms, &cb, ret_xfer);
}

/* Leaving the multi closes a CONNECT_ONLY connection (curl does that itself); the handle
 * is not pooled, so nothing of the connection can outlive this call. */
void apilogin_http_disconnect(struct apilogin_http *h, void *easy)
{
        if (!h || !easy)
                return;
        (void)curl_multi_remove_handle(h->multi, easy);
        curl_easy_cleanup(easy);
}

/* x must still be in flight: once its done callback has started, x is gone. */
void apilogin_http_cancel(struct apilogin_http *h, struct apilogin_http_xfer *x)
{
        if (!h || !x)
                return;
        xfer_unlink(x);
        xfer_free(x);
}

/* ---- keep warm ---------------------------------------------------------------------------
 * One warm connection per endpoint that served a login recently (keep_warm = yes, the
 * default), so that a login costs one round trip even after the server dropped the idle
 * connection. A login leaves its connection in the multi's cache; while it sits idle, its
 * socket is polled here. An idle HTTP/1.1 connection becomes readable only when the server
 * closes it (FIN, or a TLS close_notify first), and then, or when curl dropped it, a keeper
 * transfer re-opens one at once in the background: "OPTIONS *" (RFC 9110 9.3.7: about the
 * server, no resource, no side effect), which leaves the new connection in the cache, its
 * TLS handshake resumed from the share's session cache. Bounded: one keeper per endpoint,
 * WARM_MAX endpoints, only for WARM_FOR_MS after the endpoint's last login (tests shorten it
 * with APILOGIND_WARM_FOR_S), and a backoff
 * after a failed re-open or a connection that died young. WebSocket logins are not kept
 * warm here: their connection is the login's own (connect-only); ws_warm.c keeps spares. */
#define WARM_TIMEOUT_MS 10000u     /* one re-open, TCP + TLS + OPTIONS */
#define WARM_BACKOFF_MIN_MS 1000u
#define WARM_BACKOFF_MAX_MS 60000u

static void warm_forget(struct warm *w)
{
        free(w->origin);
        free(w->ca_file);
        free(w->proxy);
        *w = (struct warm){ 0 };
}

/* "scheme://host:port" of url (the port spelled out), or NULL (bad URL, no memory). */
static char *origin_of(const char *url)
{
        char *scheme = NULL, *host = NULL, *port = NULL, *o = NULL;
        CURLU *u = curl_url();

        if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
            asprintf(&o, "%s://%s:%s", scheme, host, port) < 0)
                o = NULL;
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
        return o;
}

static bool same_str(const char *a, const char *b)
{
        return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool warm_matches(const struct warm *w, const char *origin,
                         const struct apilogin_provider_cfg *p)
{
        return w->origin && strcmp(w->origin, origin) == 0 &&
               w->insecure_http == p->insecure_http && same_str(p->ca_file, w->ca_file) &&
               same_str(p->proxy, w->proxy);
}

/* The slot of origin, or a new one (a free slot, else the least recently used idle one). */
static struct warm *warm_get(struct apilogin_http *h, char *origin,
                             const struct apilogin_provider_cfg *p)
{
        struct warm *w = NULL;

        for (size_t i = 0; i < WARM_MAX; i++) {
                struct warm *c = &h->warm[i];

                if (warm_matches(c, origin, p)) {
                        free(origin);
                        return c;
                }
                if (!c->origin)
                        w = w && !w->origin ? w : c;
                else if (!c->in_flight && !c->keeper &&
                         (!w || (w->origin && c->last_login_ms < w->last_login_ms)))
                        w = c;
        }
        if (!w) {
                free(origin);
                return NULL;
        }
        warm_forget(w);
        w->origin = origin;
        w->insecure_http = p->insecure_http;
        w->ca_file = p->ca_file ? strdup(p->ca_file) : NULL;
        w->proxy = p->proxy ? strdup(p->proxy) : NULL;
        if ((p->ca_file && !w->ca_file) || (p->proxy && !w->proxy)) {
                warm_forget(w);
                return NULL;
        }
        return w;
}

/* A transfer starts: a login's counts in its endpoint's slot (when its provider wants it
 * warm), a keeper marks its slot busy. Failures only mean "not kept warm". */
static void warm_note(struct apilogin_http_xfer *x, const struct apilogin_provider_cfg *p)
{
        char *origin;

        if (x->keeper) {
                x->warm->keeper = true;
                return;
        }
        if (!x->done || !p || !p->keep_warm)
                return;
        origin = origin_of(x->req.url);
        x->warm = origin ? warm_get(x->h, origin, p) : NULL;
        if (!x->warm)
                return;
        x->warm->in_flight++;
        x->warm->last_login_ms = apilogin_now_ms();
}

/* A transfer is done (still in the multi): its connection, if curl kept it, is the one to
 * watch from now on. */
static void warm_adopt(struct apilogin_http_xfer *x)
{
        struct warm *w = x->warm;
        curl_socket_t fd = CURL_SOCKET_BAD;
        long connects = 0;
        struct stat st;

        if (!w)
                return;
        (void)curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
        if (connects > 0)
                w->opened_ms = apilogin_now_ms();
        if (curl_easy_getinfo(x->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
            fd == CURL_SOCKET_BAD || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                return; /* closed: the next warm_step re-opens */
        w->watch = true;
        w->fd = fd;
        w->ino = st.st_ino;
}

static void warm_release(struct apilogin_http_xfer *x)
{
        if (!x->warm)
                return;
        if (x->keeper)
                x->warm->keeper = false;
        else
                x->warm->in_flight--;
        x->warm = NULL;
}

uint64_t apilogin_warm_backoff_ms(unsigned fails)
{
        uint64_t ms = (uint64_t)WARM_BACKOFF_MIN_MS << (fails < 6 ? fails : 6);

        return ms < WARM_BACKOFF_MAX_MS ? ms : WARM_BACKOFF_MAX_MS;
}

static void warm_backoff(struct warm *w, uint64_t now)
{
        w->retry_ms = now + apilogin_warm_backoff_ms(w->fails++);
}

/* The keeper's answer: any HTTP answer will do, if the connection stayed open. */
static void warm_done(void *userdata, struct apilogin_http_resp *resp)
{
        struct warm *w = userdata;

        if (resp->transport_error < 0 || !w->watch)
                warm_backoff(w, apilogin_now_ms());
        else
                w->fails = 0;
}

static void warm_kick(struct apilogin_http *h, struct warm *w, uint64_t now)
{
        const struct apilogin_http_xfer cb = { .done = warm_done, .userdata = w,
                                               .keeper = true, .warm = w };
        const struct apilogin_provider_cfg p = { .ca_file = w->ca_file, .proxy = w->proxy,
                                                 .insecure_http = w->insecure_http };
        struct apilogin_http_req req = { 0 };

        if (asprintf(&req.url, "%s/", w->origin) < 0) {
                req.url = NULL;
                warm_backoff(w, now);
                return;
        }
        if (xfer_start(h, &p, &req, now + WARM_TIMEOUT_MS, &cb, NULL) < 0)
                warm_backoff(w, now);
}

/* Whether the watched fd is still the socket curl kept (curl may have closed it, and the
 * number may belong to another file by now). */
static bool warm_fd_ours(const struct warm *w)
{
        struct stat st;

        return fstat(w->fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == w->ino;
}

/* Before each poll: forget endpoints without a recent login, re-open the connections that
 * are gone, and list the idle sockets to watch (in h->wfds from index first). Returns how
 * many were listed; *timeout_ms is shortened to the next re-open after a backoff. */
static unsigned warm_step(struct apilogin_http *h, unsigned first, int *timeout_ms)
{
        uint64_t now = apilogin_now_ms();
        unsigned n = 0;

        for (size_t i = 0; i < WARM_MAX; i++) {
                struct warm *w = &h->warm[i];

                if (!w->origin || w->in_flight || w->keeper)
                        continue;
                if (now - w->last_login_ms > h->warm_for_ms) {
                        warm_forget(w);
                        continue;
                }
                if (w->watch && !warm_fd_ours(w))
                        w->watch = false;
                if (!w->watch && now >= w->retry_ms)
                        warm_kick(h, w, now);
                else if (!w->watch && (*timeout_ms < 0 || w->retry_ms - now < (uint64_t)*timeout_ms))
                        *timeout_ms = (int)(w->retry_ms - now);
                if (w->watch)
                        h->wfds[first + n++] = (struct curl_waitfd){ .fd = w->fd,
                                                                     .events = CURL_WAIT_POLLIN };
        }
        return n;
}

/* After the poll: a watched idle socket that turned readable was closed by the server.
 * Not watched any more; the next warm_step re-opens (after a backoff if it died young). */
static void warm_check(struct apilogin_http *h, const struct curl_waitfd *wfds, unsigned n)
{
        uint64_t now = apilogin_now_ms();

        for (unsigned k = 0; k < n; k++) {
                if (!(wfds[k].revents & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI)))
                        continue;
                for (size_t i = 0; i < WARM_MAX; i++) {
                        struct warm *w = &h->warm[i];

                        if (!w->origin || !w->watch || w->fd != wfds[k].fd)
                                continue;
                        w->watch = false;
                        if (now - w->opened_ms < APILOGIN_WARM_MIN_LIFE_MS)
                                warm_backoff(w, now);
                }
        }
}

/* ---- completion and the poll step ------------------------------------------------------ */

static bool is_tls_error(CURLcode c)
{
        switch (c) {
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CLIENTCERT:
        case CURLE_USE_SSL_FAILED:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

static int map_curl_error(const struct apilogin_http_xfer *x, CURLcode c)
{
        if (c == CURLE_OK)
                return 0;
        if (c == CURLE_OPERATION_TIMEDOUT)
                return -ETIMEDOUT;
        if (c == CURLE_COULDNT_CONNECT)
                return -ECONNREFUSED;
        if (c == CURLE_FILESIZE_EXCEEDED || (c == CURLE_WRITE_ERROR && x->too_big))
                return -EMSGSIZE;
        if (is_tls_error(c))
                return -EPROTO;
        return -EIO;
}

/* The reason of a failed transfer, for the log: curl's error buffer says what went wrong
 * in its own words (the certificate problem, the host name that did not match), which
 * the errno of transport_error cannot. */
static const char *why_failed(struct apilogin_http_xfer *x, CURLcode c)
{
        size_t n = strlen(x->why);

        if (x->too_big)
                return "reply over the size cap"; /* curl would say "Failure writing" */
        while (n > 0 && x->why[n - 1] == '\n')
                x->why[--n] = '\0';
        return n > 0 ? x->why : curl_easy_strerror(c);
}

/* A 3xx answer is never followed (CURLOPT_FOLLOWLOCATION off): say where it pointed,
 * as scheme://host:port only (the path or query may carry anything). */
static const char *why_redirect(struct apilogin_http_xfer *x)
{
        char *to = NULL, *scheme = NULL, *host = NULL, *port = NULL;
        CURLU *u = NULL;

        if (curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &to) == CURLE_OK && to)
                u = curl_url();
        if (u && curl_url_set(u, CURLUPART_URL, to, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
                snprintf(x->why, sizeof(x->why), "redirect to %s://%s:%s not followed", scheme,
                         host, port);
        else
                snprintf(x->why, sizeof(x->why), "redirect not followed");
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
        return x->why;
}

/* A connect-only transfer is done: hand the connected handle over (still in the multi),
 * or report why there is none. */
static void finish_connect(struct apilogin_http_xfer *x, CURLcode c)
{
        int err = map_curl_error(x, c);
        CURL *easy = NULL;

        if (err == 0) {
                xfer_unlist(x);
                easy = TAKE_PTR(x->easy);
                (void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
                (void)curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL); /* x->why goes */
        } else {
                xfer_unlink(x);
        }
        x->connected(x->userdata, err, err < 0 ? why_failed(x, c) : NULL, easy);
        xfer_free(x);
}

/* Whether a line of CURLINFO_COOKIELIST (Netscape format: domain, tailmatch, path,
 * secure, expires, name, value, tab-separated) is a live cookie: curl keeps an expired or
 * deleted (Max-Age=0) one in the list until its next send. */
static bool cookie_live(const char *line, time_t now)
{
        const char *f = line;
        char *end;
        long long exp;

        for (int i = 0; i < 4 && f; i++) {
                f = strchr(f, '\t');
                f = f ? f + 1 : NULL;
        }
        if (!f)
                return false;
        exp = strtoll(f, &end, 10);
        return end != f && *end == '\t' && (exp == 0 || exp > (long long)now);
}

/* How many live cookies x's jar holds now; then x lets go of the jar, so that the done
 * callback may free it. The list curl hands out holds the cookie values: wiped. */
static unsigned jar_release(struct apilogin_http_xfer *x)
{
        struct curl_slist *l = NULL;
        time_t now = time(NULL);
        unsigned n = 0;

        if (!x->req.jar)
                return 0;
        if (curl_easy_getinfo(x->easy, CURLINFO_COOKIELIST, &l) == CURLE_OK)
                for (struct curl_slist *i = l; i; i = i->next)
                        n += i->data && cookie_live(i->data, now);
        wipe_slist(l);
        (void)curl_easy_setopt(x->easy, CURLOPT_SHARE, NULL);
        return n;
}

static void finish(struct apilogin_http_xfer *x, CURLcode c)
{
        struct apilogin_http_resp *r = &x->resp;
        long status = 0;

        if (x->connected) {
                finish_connect(x, c);
                return;
        }
        warm_adopt(x);
        xfer_unlink(x);
        (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        r->status = status;
        r->transport_error = map_curl_error(x, c);
        r->cookies = jar_release(x);
        if (r->transport_error < 0)
                r->why = why_failed(x, c);
        else if (status >= 300 && status < 400)
                r->why = why_redirect(x);
        if (r->transport_error < 0) {
                /* A cut transfer's partial body is never handed on. */
                apilogin_freezero(r->body, x->cap);
                r->body = NULL;
                r->len = 0;
        } else if (!r->body) {
                r->body = calloc(1, 1); /* always NUL-terminated, even when empty */
                if (!r->body)
                        r->transport_error = -ENOMEM;
        }
        /* The request held the password: wipe it now, before anything else runs. */
        wipe_slist(x->hdrs);
        x->hdrs = NULL;
        apilogin_http_req_clear(&x->req);
        x->done(x->userdata, r);
        xfer_free(x);
}

static short to_curl_events(short ev)
{
        return (short)(((ev & POLLIN) ? CURL_WAIT_POLLIN : 0) |
                       ((ev & POLLPRI) ? CURL_WAIT_POLLPRI : 0) |
                       ((ev & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
}

static short from_curl_events(short ev)
{
        return (short)(((ev & CURL_WAIT_POLLIN) ? POLLIN : 0) |
                       ((ev & CURL_WAIT_POLLPRI) ? POLLPRI : 0) |
                       ((ev & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
}

static int ensure_wfds(struct apilogin_http *h, unsigned n)
{
        struct curl_waitfd *w;

        if (n <= h->n_wfds)
                return 0;
        w = realloc(h->wfds, n * sizeof(*w));
        if (!w)
                return -ENOMEM;
        h->wfds = w;
        h->n_wfds = n;
        return 0;
}

/* A negative timeout_ms waits without limit (curl's own timers still wake it). Only
 * POLLIN, POLLPRI and POLLOUT are reported in the extra fds' revents (curl_multi_poll
 * folds nothing else; a hung-up socket shows as readable). Done callbacks may start or
 * cancel other transfers, but must not free h. -ENOMEM, or -EIO when curl fails. */
int apilogin_http_poll(struct apilogin_http *h, struct pollfd *extra, unsigned n_extra,
                       int timeout_ms)
{
        struct CURLMsg *m;
        unsigned n_warm;
        int running, left, r;

        r = ensure_wfds(h, n_extra + WARM_MAX);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < n_extra; i++)
                h->wfds[i] = (struct curl_waitfd){ .fd = extra[i].fd,
                                                   .events = to_curl_events(extra[i].events) };
        n_warm = warm_step(h, n_extra, &timeout_ms);
        if (curl_multi_poll(h->multi, h->wfds, n_extra + n_warm,
                            timeout_ms < 0 ? INT_MAX : timeout_ms, NULL) != CURLM_OK)
                return -EIO;
        for (unsigned i = 0; i < n_extra; i++)
                extra[i].revents = from_curl_events(h->wfds[i].revents);
        warm_check(h, h->wfds + n_extra, n_warm);
        if (curl_multi_perform(h->multi, &running) != CURLM_OK)
                return -EIO;
        /* Read one message at a time: a done callback may start or cancel transfers. */
        while ((m = curl_multi_info_read(h->multi, &left))) {
                struct apilogin_http_xfer *x = NULL;

                if (m->msg != CURLMSG_DONE)
                        continue;
                (void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
                if (x)
                        finish(x, m->data.result);
        }
        return 0;
}

/* Transfers started and neither done nor cancelled. */
unsigned apilogin_http_in_flight(const struct apilogin_http *h)
{
        return h ? h->n_xfers : 0;
}

/* ---- lifetime ------------------------------------------------------------------------- */

/* The share holds the cookies; CURLOPT_COOKIEFILE "" on each transfer turns the engine on
 * for it (setup_easy). */
int apilogin_http_jar_new(struct apilogin_http_jar **ret)
{
        struct apilogin_http_jar *jar = calloc(1, sizeof(*jar));

        if (!jar)
                return -ENOMEM;
        jar->share = curl_share_init();
        if (!jar->share ||
            curl_share_setopt(jar->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK) {
                apilogin_http_jar_free(jar);
                return -ENOMEM;
        }
        *ret = jar;
        return 0;
}

/* curl frees the cookies with the share (it has no hook to wipe them first; they live in
 * the daemon's memory only, as the connection's TLS keys do). */
struct apilogin_http_jar *apilogin_http_jar_free(struct apilogin_http_jar *jar)
{
        if (!jar)
                return NULL;
        if (jar->share)
                (void)curl_share_cleanup(jar->share);
        free(jar);
        return NULL;
}

/* APILOGIND_WARM_FOR_S (1..300) shortens how long endpoints stay warm after their last
 * login, for tests; anything else is ignored (this file never logs). */
static uint64_t warm_for_from_env(void)
{
        const char *e = getenv("APILOGIND_WARM_FOR_S");
        char *end = NULL;
        unsigned long v;

        if (!e || !*e)
                return WARM_FOR_MS;
        v = strtoul(e, &end, 10);
        return *end || v < 1 || v > 300 ? WARM_FOR_MS : v * 1000u;
}

uint64_t apilogin_http_warm_for_ms(const struct apilogin_http *h)
{
        return h->warm_for_ms;
}

/* The multi handle (up to MAX_CONNECTS idle connections kept warm) and a share handle
 * for TLS sessions. curl_global_init must have run (the daemon's main does it). */
int apilogin_http_new(struct apilogin_http **ret)
{
        struct apilogin_http *h = calloc(1, sizeof(*h));

        if (!h)
                return -ENOMEM;
        h->warm_for_ms = warm_for_from_env();
        h->multi = curl_multi_init();
        h->share = curl_share_init();
        if (!h->multi || !h->share ||
            curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)MAX_CONNECTS) != CURLM_OK ||
            curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
                    CURLSHE_OK) {
                apilogin_http_free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

/* Cancels every transfer in flight (no callbacks), closes the pool; accepts NULL. */
struct apilogin_http *apilogin_http_free(struct apilogin_http *h)
{
        if (!h)
                return NULL;
        while (h->xfers)
                apilogin_http_cancel(h, h->xfers);
        for (size_t i = 0; i < WARM_MAX; i++)
                warm_forget(&h->warm[i]);
        for (unsigned i = 0; i < h->n_pool; i++)
                curl_easy_cleanup(h->pool[i]);
        if (h->multi)
                curl_multi_cleanup(h->multi);
        if (h->share)
                curl_share_cleanup(h->share);
        free(h->wfds);
        free(h);
        return NULL;
}
