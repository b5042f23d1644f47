/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loop.c: the event loop of apilogind (see loop.h): a table of watched fds, a min-heap of
 * timers, and apilogin_http_poll as the one place the process sleeps. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>

#include "daemon/http.h"
#include "loop.h"
#include "macro.h"

struct io {
        int fd;             /* -1 once removed */
        short events;
        loop_io_fn fn;
        void *userdata;
};

struct loop {
        struct apilogin_http *http;
        struct io *io;
        size_t n_io, cap_io;
        bool dirty;         /* removed entries to compact after dispatch */
        struct pollfd *pfd;
        size_t *pfd_io;     /* pfd[k] watches io[pfd_io[k]] */
        size_t cap_pfd, cap_map;
        struct loop_timer **heap;
        size_t n_heap, cap_heap;
};

int loop_new(struct apilogin_http *http, struct loop **ret)
{
        struct loop *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->http = http;
        *ret = l;
        return 0;
}

struct loop *loop_free(struct loop *l)
{
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_heap; i++)
                l->heap[i]->idx = SIZE_MAX;
        free(l->io);
        free(l->pfd);
        free(l->pfd_io);
        free(l->heap);
        free(l);
        return NULL;
}

/* ---- fds ------------------------------------------------------------------------------ */

static struct io *io_find(struct loop *l, int fd)
{
        for (size_t i = 0; i < l->n_io; i++)
                if (l->io[i].fd == fd)
                        return &l->io[i];
        return NULL;
}

/* Grow an array of elements of size sz to hold at least need; 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t need, size_t sz)
{
        size_t n = *cap ? *cap : 16;
        void *p;

        if (need <= *cap)
                return 0;
        while (n < need)
                n *= 2;
        p = reallocarray(*arr, n, sz);
        if (!p)
                return -ENOMEM;
        *arr = p;
        *cap = n;
        return 0;
}

int loop_add_io(struct loop *l, int fd, short events, loop_io_fn fn, void *userdata)
{
        int r;

        if (fd < 0 || io_find(l, fd))
                return fd < 0 ? -EBADF : -EEXIST;
        r = grow((void **)&l->io, &l->cap_io, l->n_io + 1, sizeof(*l->io));
        if (r < 0)
                return r;
        l->io[l->n_io++] = (struct io){ .fd = fd, .events = events, .fn = fn,
                                        .userdata = userdata };
        return 0;
}

int loop_set_events(struct loop *l, int fd, short events)
{
        struct io *io = fd >= 0 ? io_find(l, fd) : NULL;

        if (!io)
                return -ENOENT;
        io->events = events;
        return 0;
}

void loop_remove_io(struct loop *l, int fd)
{
        struct io *io = fd >= 0 ? io_find(l, fd) : NULL;

        if (!io)
                return;
        /* Only marked: the dispatch loop may be walking the table right now. */
        io->fd = -1;
        io->fn = NULL;
        l->dirty = true;
}

static void io_compact(struct loop *l)
{
        size_t j = 0;

        if (!l->dirty)
                return;
        for (size_t i = 0; i < l->n_io; i++)
                if (l->io[i].fd >= 0)
                        l->io[j++] = l->io[i];
        l->n_io = j;
        l->dirty = false;
}

/* ---- timers: a binary min-heap on when_ms; each timer knows its index ------------------ */

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *userdata)
{
        *t = (struct loop_timer){ .idx = SIZE_MAX, .fn = fn, .userdata = userdata };
}

static void heap_place(struct loop *l, size_t i, struct loop_timer *t)
{
        l->heap[i] = t;
        t->idx = i;
}

static void heap_up(struct loop *l, size_t i)
{
        struct loop_timer *t = l->heap[i];

        while (i > 0 && l->heap[(i - 1) / 2]->when_ms > t->when_ms) {
                heap_place(l, i, l->heap[(i - 1) / 2]);
                i = (i - 1) / 2;
        }
        heap_place(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
        struct loop_timer *t = l->heap[i];

        for (;;) {
                size_t c = 2 * i + 1;

                if (c >= l->n_heap)
                        break;
                if (c + 1 < l->n_heap && l->heap[c + 1]->when_ms < l->heap[c]->when_ms)
                        c++;
                if (l->heap[c]->when_ms >= t->when_ms)
                        break;
                heap_place(l, i, l->heap[c]);
                i = c;
        }
        heap_place(l, i, t);
}

void loop_timer_stop(struct loop *l, struct loop_timer *t)
{
        size_t i = t->idx;
        struct loop_timer *last;

        if (i == SIZE_MAX)
                return;
        t->idx = SIZE_MAX;
        last = l->heap[--l->n_heap];
        if (last == t)
                return;
        heap_place(l, i, last);
        heap_up(l, i);
        heap_down(l, last->idx);
}

int loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t when_ms)
{
        int r;

        if (t->idx != SIZE_MAX) {
                t->when_ms = when_ms;
                heap_up(l, t->idx);
                heap_down(l, t->idx);
                return 0;
        }
        r = grow((void **)&l->heap, &l->cap_heap, l->n_heap + 1, sizeof(*l->heap));
        if (r < 0)
                return r;
        t->when_ms = when_ms;
        heap_place(l, l->n_heap++, t);
        heap_up(l, t->idx);
        return 0;
}

/* Poll timeout in ms for the next timer: -1 when none is armed. */
static int next_timeout(struct loop *l, int max_wait_ms)
{
        uint64_t now, d;
        int t;

        if (l->n_heap == 0)
                return max_wait_ms;
        now = apilogin_now_ms();
        d = l->heap[0]->when_ms > now ? l->heap[0]->when_ms - now : 0;
        t = d > 24 * 3600 * 1000 ? 24 * 3600 * 1000 : (int)d;
        return max_wait_ms >= 0 && max_wait_ms < t ? max_wait_ms : t;
}

static void run_timers(struct loop *l)
{
        uint64_t now = apilogin_now_ms();

        while (l->n_heap > 0 && l->heap[0]->when_ms <= now) {
                struct loop_timer *t = l->heap[0];

                loop_timer_stop(l, t);
                t->fn(t->userdata);
        }
}

/* ---- one iteration ------------------------------------------------------------------- */

/* Paused fds (events 0) are left out: poll reports POLLHUP/POLLERR even without asking,
 * and curl_multi_poll hands neither on, so a paused client that hung up would make every
 * poll return at once. Such a client is noticed when it is next read or written. */
static int build_pollfds(struct loop *l, size_t *ret_n)
{
        size_t n = 0;
        int r;

        io_compact(l);
        r = grow((void **)&l->pfd, &l->cap_pfd, l->n_io, sizeof(*l->pfd));
        if (r == 0)
                r = grow((void **)&l->pfd_io, &l->cap_map, l->n_io, sizeof(*l->pfd_io));
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n_io; i++) {
                if (l->io[i].events == 0)
                        continue;
                l->pfd[n] = (struct pollfd){ .fd = l->io[i].fd, .events = l->io[i].events };
                l->pfd_io[n++] = i;
        }
        *ret_n = n;
        return 0;
}

int loop_iterate(struct loop *l, int max_wait_ms)
{
        size_t n;
        int r;

        r = build_pollfds(l, &n);
        if (r < 0)
                return r;
        r = apilogin_http_poll(l->http, l->pfd, (unsigned)n, next_timeout(l, max_wait_ms));
        if (r < 0)
                return r;
        /* The io indexes stay valid while callbacks run: entries added meanwhile go at the
         * end, and removed ones are only marked until the next compaction. */
        for (size_t k = 0; k < n; k++) {
                short ev = l->pfd[k].revents;
                struct io *io = &l->io[l->pfd_io[k]];

                if (ev && io->fn && io->fd == l->pfd[k].fd)
                        io->fn(io->userdata, io->fd, ev);
        }
        run_timers(l);
        io_compact(l);
        return 0;
}
