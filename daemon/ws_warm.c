/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws_warm.c: spare WebSockets per endpoint in use (see ws_warm.h). Endpoints are keyed by
 * everything a connection depends on (URL, CA file, proxy, insecure_http). Each keeps
 * `want` spares: one, and one more each time a login found none ready while the last ones
 * were still opening (a burst of logins outran them), up to WS_WARM_PER_ENDPOINT; a spare
 * left unused for SURPLUS_IDLE_MS while others wait gives one back. One loop timer opens
 * the missing spares and forgets endpoints that had no login for the warm window. This
 * file never logs: a spare that cannot be opened only means logins go back to fresh
 * connections, which report their own errors. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "macro.h"
#include "ws_warm.h"

#define OPEN_TIMEOUT_MS 10000u  /* connect + TLS + handshake of one spare */
#define SURPLUS_IDLE_MS 30000u  /* an extra spare unused this long is closed */
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

struct endpoint {
        char *url;              /* NULL: a free slot */
        char *ca_file, *proxy;
        bool insecure_http;
        struct apilogin_ws *w[WS_WARM_PER_ENDPOINT]; /* spares, opening or open */
        uint64_t opened_ms[WS_WARM_PER_ENDPOINT];    /* when each was opened */
        unsigned want;          /* spares to keep, 1..WS_WARM_PER_ENDPOINT */
        uint64_t last_use_ms;   /* the endpoint's last login */
        uint64_t retry_ms;      /* no new spare before (backoff) */
        unsigned fails;
};

static struct {
        struct apilogin_http *h;
        struct loop *loop;
        struct endpoint e[WS_WARM_MAX];
        struct loop_timer timer;
} pool;

static void schedule(uint64_t when_ms);

static bool same_str(const char *a, const char *b)
{
        return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool matches(const struct endpoint *e, const char *url,
                    const struct apilogin_provider_cfg *p)
{
        return e->url && strcmp(e->url, url) == 0 && e->insecure_http == p->insecure_http &&
               same_str(e->ca_file, p->ca_file) && same_str(e->proxy, p->proxy);
}

static void forget(struct endpoint *e)
{
        for (size_t i = 0; i < WS_WARM_PER_ENDPOINT; i++)
                apilogin_ws_cancel(e->w[i]);
        free(e->url);
        free(e->ca_file);
        free(e->proxy);
        *e = (struct endpoint){ 0 };
}

/* The slot of (url, p): its own, else a free one, else the least recently used. */
static struct endpoint *endpoint_get(const char *url, const struct apilogin_provider_cfg *p)
{
        struct endpoint *lru = NULL;

        for (size_t i = 0; i < WS_WARM_MAX; i++) {
                struct endpoint *e = &pool.e[i];

                if (matches(e, url, p))
                        return e;
                if (!lru || (lru->url && (!e->url || e->last_use_ms < lru->last_use_ms)))
                        lru = e;
        }
        forget(lru);
        lru->url = strdup(url);
        lru->ca_file = p->ca_file ? strdup(p->ca_file) : NULL;
        lru->proxy = p->proxy ? strdup(p->proxy) : NULL;
        lru->insecure_http = p->insecure_http;
        lru->want = 1;
        if (!lru->url || (p->ca_file && !lru->ca_file) || (p->proxy && !lru->proxy)) {
                forget(lru);
                return NULL;
        }
        return lru;
}

static void backoff(struct endpoint *e, uint64_t now)
{
        e->retry_ms = now + apilogin_warm_backoff_ms(e->fails++);
}

/* A spare failed or was closed: a failed open or a short life backs off, otherwise a new
 * one opens at once. */
static void on_gone(void *userdata, struct apilogin_ws *w, int error, bool was_open)
{
        struct endpoint *e = userdata;
        uint64_t now = apilogin_now_ms();

        (void)error;
        for (size_t i = 0; i < WS_WARM_PER_ENDPOINT; i++) {
                if (e->w[i] != w)
                        continue;
                e->w[i] = NULL;
                if (!was_open || now - e->opened_ms[i] < APILOGIN_WARM_MIN_LIFE_MS)
                        backoff(e, now);
                else
                        e->fails = 0;
                schedule(e->retry_ms > now ? e->retry_ms : now);
        }
}

static void open_spare(struct endpoint *e, size_t i, uint64_t now)
{
        const struct apilogin_provider_cfg p = { .ca_file = e->ca_file, .proxy = e->proxy,
                                                 .insecure_http = e->insecure_http };

        e->opened_ms[i] = now;
        if (apilogin_ws_spare_open(pool.h, pool.loop, &p, e->url, now + OPEN_TIMEOUT_MS,
                                   on_gone, e, &e->w[i]) < 0) {
                e->w[i] = NULL;
                backoff(e, now);
        }
}

/* Open the spares e lacks (unless backing off); give one back when an extra one has sat
 * unused SURPLUS_IDLE_MS. Returns when e next needs a look. */
static uint64_t tend(struct endpoint *e, uint64_t now)
{
        unsigned have = 0;

        for (size_t i = 0; i < WS_WARM_PER_ENDPOINT; i++)
                have += e->w[i] != NULL;
        for (size_t i = 0; i < WS_WARM_PER_ENDPOINT && have > 1 && e->want > 1; i++)
                if (apilogin_ws_spare_ready(e->w[i]) &&
                    now - MAX(e->opened_ms[i], e->last_use_ms) >= SURPLUS_IDLE_MS) {
                        apilogin_ws_cancel(e->w[i]);
                        e->w[i] = NULL;
                        have--;
                        e->want--;
                }
        for (size_t i = 0; i < WS_WARM_PER_ENDPOINT && have < e->want && now >= e->retry_ms;
             i++)
                if (!e->w[i]) {
                        open_spare(e, i, now);
                        have += e->w[i] != NULL;
                }
        if (have < e->want)
                return e->retry_ms;
        return e->want > 1 ? now + SURPLUS_IDLE_MS : UINT64_MAX;
}

/* The timer: forget endpoints past the warm window, tend the others; then sleep until the
 * next thing to do. */
static void step(void *userdata)
{
        uint64_t now = apilogin_now_ms(), window = apilogin_http_warm_for_ms(pool.h);
        uint64_t next = UINT64_MAX;

        (void)userdata;
        for (size_t i = 0; i < WS_WARM_MAX; i++) {
                struct endpoint *e = &pool.e[i];

                if (!e->url)
                        continue;
                if (now - e->last_use_ms >= window) {
                        forget(e);
                        continue;
                }
                next = MIN(next, MIN(tend(e, now), e->last_use_ms + window));
        }
        if (next != UINT64_MAX)
                schedule(next);
}

static void schedule(uint64_t when_ms)
{
        if (loop_timer_armed(&pool.timer) && pool.timer.when_ms <= when_ms)
                return;
        (void)loop_timer_set(pool.loop, &pool.timer, when_ms);
}

/* One of e's ready spares, taken out, with the request on it; false when none is ready
 * (a burst outran them: e wants one more from now on). */
static bool use_spare(struct endpoint *e, struct apilogin_http_req *req, uint64_t deadline_ms,
                      apilogin_http_done_fn done, void *userdata, struct apilogin_ws **ret)
{
        bool opening = false;

        for (size_t i = 0; i < WS_WARM_PER_ENDPOINT; i++) {
                struct apilogin_ws *w = e->w[i];

                if (!apilogin_ws_spare_ready(w)) {
                        opening |= w != NULL;
                        continue;
                }
                /* fails when the server closed it meanwhile: on_gone cleared the slot */
                if (apilogin_ws_spare_use(w, req, deadline_ms, done, userdata) < 0)
                        continue;
                e->w[i] = NULL;
                if (ret)
                        *ret = w;
                return true;
        }
        if (opening && e->want < WS_WARM_PER_ENDPOINT)
                e->want++;
        return false;
}

int apilogin_ws_warm_start(struct apilogin_http *h, struct loop *loop,
                           const struct apilogin_provider_cfg *p, struct apilogin_http_req *req,
                           uint64_t deadline_ms, apilogin_http_done_fn done, void *userdata,
                           struct apilogin_ws **ret)
{
        struct endpoint *e = NULL;
        int r;

        if (p && p->keep_warm && req->url && (!pool.h || (pool.h == h && pool.loop == loop))) {
                if (!pool.h)
                        loop_timer_init(&pool.timer, step, NULL);
                pool.h = h;
                pool.loop = loop;
                e = endpoint_get(req->url, p);
        }
        if (!e)
                return apilogin_ws_start(h, loop, p, req, deadline_ms, done, userdata, ret);
        e->last_use_ms = apilogin_now_ms();
        if (use_spare(e, req, deadline_ms, done, userdata, ret))
                r = 0;
        else
                r = apilogin_ws_start(h, loop, p, req, deadline_ms, done, userdata, ret);
        schedule(e->last_use_ms); /* the spares behind this one */
        return r;
}

void apilogin_ws_warm_free(void)
{
        for (size_t i = 0; i < WS_WARM_MAX; i++)
                forget(&pool.e[i]);
        if (pool.loop)
                loop_timer_stop(pool.loop, &pool.timer);
        pool.h = NULL;
        pool.loop = NULL;
}
