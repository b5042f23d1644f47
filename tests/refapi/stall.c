/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stall.c: timer thread that resumes connections parked by the "stall" fault. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "stall.h"

#define BATCH 64

struct parked {
        struct MHD_Connection *conn;
        struct timespec due;
        struct parked *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;             /* CLOCK_MONOTONIC; queue changes and closes */
static struct parked *queue;            /* sorted by due: the delay is constant */
static struct parked **tail = &queue;
static unsigned delay;
static unsigned outstanding;            /* suspended and not yet closed */
static bool stopping, started;
static pthread_t thread;

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
        return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Pops up to BATCH connections due before now (all of them when stopping). */
static int pop_due(struct MHD_Connection **out)
{
        struct timespec now;
        int n = 0;

        clock_gettime(CLOCK_MONOTONIC, &now);
        while (queue && n < BATCH && (stopping || !ts_before(&now, &queue->due))) {
                struct parked *p = queue;

                queue = p->next;
                if (!queue)
                        tail = &queue;
                out[n++] = p->conn;
                free(p);
        }
        return n;
}

static void *stall_main(void *arg)
{
        struct MHD_Connection *due[BATCH];
        int n;

        (void)arg;
        pthread_mutex_lock(&lock);
        for (;;) {
                n = pop_due(due);
                if (n > 0) {
                        /* resume without our lock: MHD takes its own locks inside */
                        pthread_mutex_unlock(&lock);
                        for (int i = 0; i < n; i++)
                                MHD_resume_connection(due[i]);
                        pthread_mutex_lock(&lock);
                        continue;
                }
                if (stopping)
                        break;
                if (queue)
                        pthread_cond_timedwait(&cond, &lock, &queue->due);
                else
                        pthread_cond_wait(&cond, &lock);
        }
        pthread_mutex_unlock(&lock);
        return NULL;
}

int stall_start(unsigned seconds)
{
        pthread_condattr_t attr;
        int r;

        delay = seconds;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&cond, &attr);
        pthread_condattr_destroy(&attr);
        r = pthread_create(&thread, NULL, stall_main, NULL);
        if (r != 0)
                return -r;
        started = true;
        return 0;
}

int stall_add(struct MHD_Connection *conn)
{
        struct parked *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->conn = conn;
        clock_gettime(CLOCK_MONOTONIC, &p->due);
        p->due.tv_sec += delay;
        /* suspend outside our lock: MHD takes its own locks inside */
        MHD_suspend_connection(conn);
        pthread_mutex_lock(&lock);
        outstanding++;
        if (!stopping) {
                *tail = p;
                tail = &p->next;
                pthread_cond_broadcast(&cond);
                pthread_mutex_unlock(&lock);
                return 0;
        }
        pthread_mutex_unlock(&lock);
        free(p);
        MHD_resume_connection(conn);    /* shutting down: close it right away */
        return 0;
}

void stall_done(void)
{
        pthread_mutex_lock(&lock);
        if (outstanding > 0)
                outstanding--;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
}

void stall_stop(void)
{
        struct timespec limit;

        if (!started)
                return;
        pthread_mutex_lock(&lock);
        stopping = true;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
        pthread_join(thread, NULL);     /* it resumed everything on its way out */
        clock_gettime(CLOCK_MONOTONIC, &limit);
        limit.tv_sec += 2;
        pthread_mutex_lock(&lock);
        while (outstanding > 0)
                if (pthread_cond_timedwait(&cond, &lock, &limit) == ETIMEDOUT)
                        break;
        pthread_mutex_unlock(&lock);
        started = false;
}
