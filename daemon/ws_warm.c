/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws_warm.c: one spare WebSocket per endpoint in use (see ws_warm.h). Slots are keyed by
 * everything the connection depends on (URL, CA file, proxy, insecure_http); one loop timer
 * re-opens spares and forgets endpoints that had no login for the warm window. This file
 * never logs: a spare that cannot be opened only means logins go back to fresh
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
#define MIN_LIFE_MS 500u        /* a spare closed sooner counts as a failure */
#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 60000u
#define MIN(a, b) ((a) < (b) ? (a) : (b))

struct spare {
        char *url;              /* NULL: a free slot */
        char *ca_file, *proxy;
        bool insecure_http;
        struct apilogin_ws *w;  /* the spare, opening or open; NULL when there is none */
        uint64_t last_use_ms;   /* the endpoint's last login */
        uint64_t opened_ms;     /* when w was opened */
        uint64_t retry_ms;      /* no new spare before (backoff) */
        unsigned fails;
};

static struct {
        struct apilogin_http *h;
        struct loop *loop;
        struct spare s[WS_WARM_MAX];
        struct loop_timer timer;
} pool;

static void schedule(uint64_t when_ms);

static bool same_str(const char *a, const char *b)
{
        return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool matches(const struct spare *s, const char *url,
                    const struct apilogin_provider_cfg *p)
{
        return s->url && strcmp(s->url, url) == 0 && s->insecure_http == p->insecure_http &&
               same_str(s->ca_file, p->ca_file) && same_str(s->proxy, p->proxy);
}

static void forget(struct spare *s)
{
        apilogin_ws_cancel(s->w);
        free(s->url);
        free(s->ca_file);
        free(s->proxy);
        *s = (struct spare){ 0 };
}

/* The slot of (url, p): its own, else a free one, else the least recently used. */
static struct spare *slot_get(const char *url, const struct apilogin_provider_cfg *p)
{
        struct spare *lru = NULL;

        for (size_t i = 0; i < WS_WARM_MAX; i++) {
                struct spare *s = &pool.s[i];

                if (matches(s, url, p))
                        return s;
                if (!lru || (lru->url && (!s->url || s->last_use_ms < lru->last_use_ms)))
                        lru = s;
        }
        forget(lru);
        lru->url = strdup(url);
        lru->ca_file = p->ca_file ? strdup(p->ca_file) : NULL;
        lru->proxy = p->proxy ? strdup(p->proxy) : NULL;
        lru->insecure_http = p->insecure_http;
        if (!lru->url || (p->ca_file && !lru->ca_file) || (p->proxy && !lru->proxy)) {
                forget(lru);
                return NULL;
        }
        return lru;
}

static void backoff(struct spare *s, uint64_t now)
{
        uint64_t ms = BACKOFF_MIN_MS << (s->fails < 6 ? s->fails : 6);

        s->fails++;
        s->retry_ms = now + (ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS);
}

/* A spare failed or was closed: a failed open or a short life backs off, otherwise the
 * next one opens at once. */
static void on_gone(void *userdata, struct apilogin_ws *w, int error, bool was_open)
{
        struct spare *s = userdata;
        uint64_t now = apilogin_now_ms();

        (void)error;
        if (s->w != w)
                return;
        s->w = NULL;
        if (!was_open || now - s->opened_ms < MIN_LIFE_MS)
                backoff(s, now);
        else
                s->fails = 0;
        schedule(s->retry_ms > now ? s->retry_ms : now);
}

static void open_spare(struct spare *s, uint64_t now)
{
        const struct apilogin_provider_cfg p = { .ca_file = s->ca_file, .proxy = s->proxy,
                                                 .insecure_http = s->insecure_http };

        s->opened_ms = now;
        if (apilogin_ws_spare_open(pool.h, pool.loop, &p, s->url, now + OPEN_TIMEOUT_MS,
                                   on_gone, s, &s->w) < 0) {
                s->w = NULL;
                backoff(s, now);
        }
}

/* The timer: forget endpoints past the warm window, open the missing spares; then sleep
 * until the next thing to do. */
static void step(void *userdata)
{
        uint64_t now = apilogin_now_ms(), window = apilogin_http_warm_for_ms(pool.h);
        uint64_t next = UINT64_MAX;

        (void)userdata;
        for (size_t i = 0; i < WS_WARM_MAX; i++) {
                struct spare *s = &pool.s[i];
                uint64_t t;

                if (!s->url)
                        continue;
                if (now - s->last_use_ms >= window) {
                        forget(s);
                        continue;
                }
                if (!s->w && now >= s->retry_ms)
                        open_spare(s, now);
                t = s->w ? UINT64_MAX : s->retry_ms;
                next = MIN(next, MIN(t, s->last_use_ms + window));
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

/* The endpoint's ready spare, taken out of its slot, with the request on it; false when
 * there is none (or it was closed meanwhile). */
static bool use_spare(struct spare *s, struct apilogin_http_req *req, uint64_t deadline_ms,
                      apilogin_http_done_fn done, void *userdata, struct apilogin_ws **ret)
{
        struct apilogin_ws *w = s->w;

        if (!apilogin_ws_spare_ready(w))
                return false;
        if (apilogin_ws_spare_use(w, req, deadline_ms, done, userdata) < 0)
                return false; /* s->w is NULL now if it had been closed (on_gone) */
        s->w = NULL;
        s->fails = 0;
        if (ret)
                *ret = w;
        return true;
}

int apilogin_ws_warm_start(struct apilogin_http *h, struct loop *loop,
                           const struct apilogin_provider_cfg *p, struct apilogin_http_req *req,
                           uint64_t deadline_ms, apilogin_http_done_fn done, void *userdata,
                           struct apilogin_ws **ret)
{
        uint64_t now = apilogin_now_ms();
        struct spare *s = NULL;
        int r;

        if (p && p->keep_warm && req->url && (!pool.h || (pool.h == h && pool.loop == loop))) {
                if (!pool.h)
                        loop_timer_init(&pool.timer, step, NULL);
                pool.h = h;
                pool.loop = loop;
                s = slot_get(req->url, p);
        }
        if (s) {
                s->last_use_ms = now;
                if (s->w && use_spare(s, req, deadline_ms, done, userdata, ret))
                        r = 0;
                else
                        r = apilogin_ws_start(h, loop, p, req, deadline_ms, done, userdata, ret);
                schedule(now); /* the next spare, unless one is open or opening */
                return r;
        }
        return apilogin_ws_start(h, loop, p, req, deadline_ms, done, userdata, ret);
}

void apilogin_ws_warm_free(void)
{
        for (size_t i = 0; i < WS_WARM_MAX; i++)
                forget(&pool.s[i]);
        if (pool.loop)
                loop_timer_stop(pool.loop, &pool.timer);
        pool.h = NULL;
        pool.loop = NULL;
}
