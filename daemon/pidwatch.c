/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidwatch.c: session leaders watched through pidfds in the event loop, or a kill(pid, 0)
 * sweep where no pidfd can be had (see pidwatch.h). Few distinct leaders live at once on
 * one host, so the watches sit in a plain array. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/http.h"
#include "loop.h"
#include "macro.h"
#include "pidwatch.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct entry {
        struct pidwatch *w;
        uint32_t pid;
        uint64_t start;
        int fd;        /* pidfd, or -1: checked by the sweep */
        unsigned refs;
};

struct pidwatch {
        struct loop *loop;
        pidwatch_fn fn;
        void *userdata;
        struct entry **e;
        size_t n, cap;
        unsigned n_swept;
        struct loop_timer sweep;
};

uint64_t pidwatch_start_time(uint32_t pid)
{
        char path[64], buf[1024];
        unsigned long long start = 0;
        const char *p;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%u/stat", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof(buf) - 1);
        (void)close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* "pid (comm) state ppid ...": comm may hold anything, so count from the last ')'.
         * starttime is field 22, the 20th after the ')'. */
        p = strrchr(buf, ')');
        for (int field = 2; p && field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (p && field == 21 && sscanf(p + 1, "%llu", &start) != 1)
                        start = 0;
        }
        return p ? (uint64_t)start : 0;
}

/* ---- one watch ------------------------------------------------------------------------- */

static struct entry *entry_find(const struct pidwatch *w, uint32_t pid, size_t *ret_i)
{
        for (size_t i = 0; i < w->n; i++) {
                if (w->e[i]->pid == pid) {
                        if (ret_i)
                                *ret_i = i;
                        return w->e[i];
                }
        }
        return NULL;
}

static void entry_drop(struct pidwatch *w, size_t i)
{
        struct entry *e = w->e[i];

        if (e->fd >= 0) {
                loop_remove_io(w->loop, e->fd);
                (void)close(e->fd);
        } else {
                w->n_swept--;
        }
        free(e);
        w->e[i] = w->e[--w->n];
        if (w->n_swept == 0)
                loop_timer_stop(w->loop, &w->sweep);
}

/* The process went away: drop the watch, then tell the owner. */
static void entry_dead(struct pidwatch *w, struct entry *e)
{
        uint32_t pid = e->pid;
        size_t i;

        if (entry_find(w, pid, &i))
                entry_drop(w, i);
        w->fn(w->userdata, pid);
}

static void on_pidfd(void *userdata, int fd, short revents)
{
        struct entry *e = userdata;

        entry_dead(e->w, e);
}

/* Whether a swept pid is still the process it was. */
static bool swept_alive(const struct entry *e)
{
        if (kill((pid_t)e->pid, 0) < 0 && errno == ESRCH)
                return false;
        return e->start == 0 || pidwatch_start_time(e->pid) == e->start;
}

static void on_sweep(void *userdata)
{
        struct pidwatch *w = userdata;

        /* One dead pid per pass through the list: its callback may change the list. */
        for (bool again = true; again;) {
                again = false;
                for (size_t i = 0; i < w->n; i++) {
                        if (w->e[i]->fd < 0 && !swept_alive(w->e[i])) {
                                entry_dead(w, w->e[i]);
                                again = true;
                                break;
                        }
                }
        }
        if (w->n_swept > 0)
                (void)loop_timer_set(w->loop, &w->sweep, apilogin_now_ms() + PIDWATCH_SWEEP_MS);
}

/* A pidfd for pid that refers to the process with start time start. -ESRCH if gone. */
static int open_pidfd(uint32_t pid, uint64_t start)
{
        uint64_t now;
        int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);

        if (fd < 0)
                return negative_errno();
        /* Read after the pidfd is open: if it matches now, the pidfd is that process. */
        now = pidwatch_start_time(pid);
        if (now == 0 || (start != 0 && now != start)) {
                (void)close(fd);
                return -ESRCH;
        }
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
}

static int entry_new(struct pidwatch *w, uint32_t pid, uint64_t start)
{
        struct entry *e;
        int fd = open_pidfd(pid, start);

        if (fd == -ESRCH)
                return fd;
        if (fd < 0 && !swept_alive(&(struct entry){ .pid = pid, .start = start }))
                return -ESRCH;
        if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 16;
                struct entry **a = reallocarray(w->e, cap, sizeof(*a));

                if (!a)
                        goto fail;
                w->e = a;
                w->cap = cap;
        }
        e = calloc(1, sizeof(*e));
        if (!e)
                goto fail;
        *e = (struct entry){ .w = w, .pid = pid, .start = start, .fd = fd, .refs = 1 };
        if (fd >= 0 && loop_add_io(w->loop, fd, POLLIN, on_pidfd, e) < 0) {
                free(e);
                goto fail;
        }
        w->e[w->n++] = e;
        if (fd < 0 && w->n_swept++ == 0)
                (void)loop_timer_set(w->loop, &w->sweep, apilogin_now_ms() + PIDWATCH_SWEEP_MS);
        return 0;
fail:
        if (fd >= 0)
                (void)close(fd);
        return -ENOMEM;
}

int pidwatch_add(struct pidwatch *w, uint32_t pid, uint64_t start)
{
        struct entry *e;

        if (pid == 0 || pid > INT32_MAX)
                return -EINVAL;
        e = entry_find(w, pid, NULL);
        if (!e)
                return entry_new(w, pid, start);
        /* Known already: the same process, unless the caller knows another start time. */
        if (start != 0 && e->start != 0 && start != e->start)
                return -ESRCH;
        e->refs++;
        return 0;
}

void pidwatch_remove(struct pidwatch *w, uint32_t pid)
{
        size_t i;
        struct entry *e = entry_find(w, pid, &i);

        if (e && --e->refs == 0)
                entry_drop(w, i);
}

void pidwatch_count(const struct pidwatch *w, unsigned *ret_pids, unsigned *ret_pidfds)
{
        *ret_pids = (unsigned)w->n;
        *ret_pidfds = (unsigned)w->n - w->n_swept;
}

/* ---- lifetime ------------------------------------------------------------------------- */

int pidwatch_new(struct loop *loop, pidwatch_fn fn, void *userdata, struct pidwatch **ret)
{
        struct pidwatch *w = calloc(1, sizeof(*w));
        struct rlimit rl;

        if (!w)
                return -ENOMEM;
        w->loop = loop;
        w->fn = fn;
        w->userdata = userdata;
        loop_timer_init(&w->sweep, on_sweep, w);
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
        *ret = w;
        return 0;
}

struct pidwatch *pidwatch_free(struct pidwatch *w)
{
        if (!w)
                return NULL;
        while (w->n > 0)
                entry_drop(w, w->n - 1);
        loop_timer_stop(w->loop, &w->sweep);
        free(w->e);
        free(w);
        return NULL;
}
