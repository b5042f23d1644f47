/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* admit.c: per-uid connection caps, request token buckets and rate-limited refusal
 * warnings for apilogind's socket (see admit.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "admit.h"
#include "daemon/http.h"
#include "dlog.h"
#include "loop.h"

#define MILLI 1000   /* tokens are counted in thousandths */

struct uid_slot {
        uid_t uid;
        bool used;
        unsigned conns;
        uint64_t tokens;      /* thousandths of a request */
        uint64_t refill_ms;   /* when tokens was last brought up to date */
        uint64_t warn_ms;     /* last refusal line, 0 = none yet */
        unsigned unlogged;    /* refusals since that line */
        const char *what;     /* the last of them, and its pid */
        pid_t pid;
};

struct admit {
        struct loop *loop;
        struct loop_timer flush;            /* logs the refusals not logged yet */
        unsigned root_max, nonroot_max;
        unsigned root_conns, nonroot_conns;
        struct uid_slot root;               /* warn state only */
        struct uid_slot other;              /* warn state of uids without a slot */
        struct uid_slot slot[ADMIT_SLOTS];
};

static unsigned clamp(uint64_t v, unsigned lo, unsigned hi)
{
        return v < lo ? lo : v > hi ? hi : (unsigned)v;
}

static void on_flush(void *userdata);

int admit_new(struct loop *loop, uint64_t nofile, struct admit **ret)
{
        struct admit *a = calloc(1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        a->loop = loop;
        loop_timer_init(&a->flush, on_flush, a);
        /* Half of the descriptors for root, an eighth for everyone else: the rest is for
         * the API connections, session leaders' pidfds and files. */
        a->root_max = clamp(nofile / 2, 16, ADMIT_ROOT_MAX);
        a->nonroot_max = clamp(nofile / 8, 4, ADMIT_NONROOT_MAX);
        *ret = a;
        return 0;
}

struct admit *admit_free(struct admit *a)
{
        if (!a)
                return NULL;
        loop_timer_stop(a->loop, &a->flush);
        free(a);
        return NULL;
}

void admit_limits(const struct admit *a, unsigned *ret_root, unsigned *ret_nonroot)
{
        *ret_root = a->root_max;
        *ret_nonroot = a->nonroot_max;
}

static struct uid_slot *slot_find(struct admit *a, uid_t uid)
{
        if (uid == 0)
                return &a->root;
        for (size_t i = 0; i < ADMIT_SLOTS; i++)
                if (a->slot[i].used && a->slot[i].uid == uid)
                        return &a->slot[i];
        return NULL;
}

/* uid's slot, made if needed: a free one, else the one without connections used least
 * recently (its bucket is forgotten, a refill that came early). NULL when every slot
 * holds connections, which the non-root budget (< ADMIT_SLOTS) rules out. */
static struct uid_slot *slot_get(struct admit *a, uid_t uid)
{
        struct uid_slot *s = slot_find(a, uid), *best = NULL;

        if (s)
                return s;
        for (size_t i = 0; i < ADMIT_SLOTS; i++) {
                s = &a->slot[i];
                if (!s->used) {
                        best = s;
                        break;
                }
                if (s->conns == 0 && (!best || s->refill_ms < best->refill_ms))
                        best = s;
        }
        if (best)
                *best = (struct uid_slot){ .uid = uid, .used = true,
                                           .tokens = ADMIT_BURST * MILLI,
                                           .refill_ms = apilogin_now_ms() };
        return best;
}

bool admit_conn_open(struct admit *a, uid_t uid)
{
        struct uid_slot *s;

        if (uid == 0) {
                if (a->root_conns >= a->root_max)
                        return false;
                a->root_conns++;
                return true;
        }
        if (a->nonroot_conns >= a->nonroot_max)
                return false;
        s = slot_get(a, uid);
        if (!s || s->conns >= ADMIT_UID_CONNS)
                return false;
        s->conns++;
        a->nonroot_conns++;
        return true;
}

void admit_conn_close(struct admit *a, uid_t uid)
{
        struct uid_slot *s;

        if (uid == 0) {
                a->root_conns--;
                return;
        }
        s = slot_find(a, uid);
        if (s && s->conns > 0)
                s->conns--;
        a->nonroot_conns--;
}

bool admit_request(struct admit *a, uid_t uid)
{
        struct uid_slot *s;
        uint64_t now;

        if (uid == 0)
                return true;
        s = slot_get(a, uid);
        if (!s)
                return false;
        now = apilogin_now_ms();
        s->tokens += (now - s->refill_ms) * ADMIT_RATE; /* ms * per-second = thousandths */
        if (s->tokens > ADMIT_BURST * MILLI)
                s->tokens = ADMIT_BURST * MILLI;
        s->refill_ms = now;
        if (s->tokens < MILLI)
                return false;
        s->tokens -= MILLI;
        return true;
}

static void warn_line(struct uid_slot *s, uid_t uid, uint64_t now)
{
        dlog_warn("Refused %s from uid %u (pid %d); %u more refusal(s) of this uid in the "
                  "last %d s", s->what, (unsigned)uid, (int)s->pid, s->unlogged,
                  ADMIT_WARN_MS / 1000);
        s->warn_ms = now;
        s->unlogged = 0;
}

/* Every ADMIT_WARN_MS while refusals wait: one summary line per uid whose window is over.
 * A slot reused meanwhile loses its count (only with ADMIT_SLOTS uids refused at once). */
static void on_flush(void *userdata)
{
        struct admit *a = userdata;
        uint64_t now = apilogin_now_ms();
        bool waiting = false;

        for (size_t i = 0; i < ADMIT_SLOTS + 2; i++) {
                struct uid_slot *s = i < ADMIT_SLOTS ? &a->slot[i]
                                     : i == ADMIT_SLOTS ? &a->root : &a->other;

                if (s->unlogged == 0)
                        continue;
                if (now - s->warn_ms >= ADMIT_WARN_MS) {
                        s->unlogged--; /* the one the line names */
                        warn_line(s, s == &a->root ? 0 : s->uid, now);
                } else {
                        waiting = true;
                }
        }
        if (waiting)
                (void)loop_timer_set(a->loop, &a->flush, now + ADMIT_WARN_MS);
}

void admit_warn(struct admit *a, uid_t uid, pid_t pid, const char *what)
{
        struct uid_slot *s = slot_get(a, uid);
        uint64_t now = apilogin_now_ms();

        if (!s)
                s = &a->other;
        s->what = what;
        s->pid = pid;
        if (s->warn_ms && now - s->warn_ms < ADMIT_WARN_MS) {
                s->unlogged++;
                if (!loop_timer_armed(&a->flush))
                        (void)loop_timer_set(a->loop, &a->flush, s->warn_ms + ADMIT_WARN_MS);
                return;
        }
        warn_line(s, uid, now);
}
