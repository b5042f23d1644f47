/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loop.h: apilogind's single event loop. One thread; one poll per iteration through
 * apilogin_http_poll, which waits on curl's sockets and on the fds registered here (signalfd,
 * listening socket, clients) at once. Timers live in a min-heap; the poll timeout is the
 * next timer, or infinite when none is due, so an idle daemon uses no CPU. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct apilogin_http;
struct loop;

/* Called with the revents (POLLIN/POLLOUT/POLLPRI) of a registered fd. */
typedef void (*loop_io_fn)(void *userdata, int fd, short revents);
typedef void (*loop_timer_fn)(void *userdata);

/* A timer, embedded in its owner's struct and initialised with loop_timer_init. It is
 * "armed" between loop_timer_set and either its firing or loop_timer_stop. Its owner must
 * stop it before freeing the memory it lives in. */
struct loop_timer {
        uint64_t when_ms;   /* CLOCK_MONOTONIC ms (apilogin_now_ms) */
        size_t idx;         /* position in the heap; SIZE_MAX when not armed */
        loop_timer_fn fn;
        void *userdata;
};

/* A new loop on the given http multi (borrowed; must outlive the loop). 0 or -ENOMEM. */
int loop_new(struct apilogin_http *http, struct loop **ret);

/* Free the loop (not the fds, not the timers' owners); accepts NULL; returns NULL. */
struct loop *loop_free(struct loop *l);

/* Watch fd for events (POLLIN and/or POLLOUT, or 0 to pause it). fd must not be watched
 * already. Safe to call from any callback. 0 or -ENOMEM/-EEXIST. */
int loop_add_io(struct loop *l, int fd, short events, loop_io_fn fn, void *userdata);

/* Change the events of a watched fd. 0 or -ENOENT. */
int loop_set_events(struct loop *l, int fd, short events);

/* Stop watching fd (does not close it). Safe from any callback, including fd's own: a
 * removed fd gets no further callback, even in the current iteration. */
void loop_remove_io(struct loop *l, int fd);

/* Prepare t (not armed). */
void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *userdata);

/* Arm t for when_ms, or move it there if armed. 0 or -ENOMEM. */
int loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t when_ms);

/* Disarm t; a no-op when it is not armed (e.g. it has fired). */
void loop_timer_stop(struct loop *l, struct loop_timer *t);

static inline int loop_timer_armed(const struct loop_timer *t)
{
        return t->idx != SIZE_MAX;
}

/* One iteration: wait until an fd is ready, a transfer progresses or the next timer is due
 * (at most max_wait_ms when that is >= 0), then run the http callbacks, the fd callbacks
 * and every due timer. Returns 0 or -errno from the poll. */
int loop_iterate(struct loop *l, int max_wait_ms);
