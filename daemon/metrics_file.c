/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics_file.c: the metrics_file writer (see metrics.h): gathers the gauges from the
 * daemon's parts and rewrites the file on a timer. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/http.h"
#include "daemon/users.h"
#include "dlog.h"
#include "loop.h"
#include "macro.h"
#include "metrics.h"
#include "server.h"
#include "sessions.h"

struct metrics_file {
        struct apilogind *d;
        struct loop_timer timer;
        bool warned; /* a write failure was logged (once per run of failures) */
};

static void gather(const struct apilogind *d, struct metrics_gauges *g)
{
        struct sessions_stats st = { 0 };

        if (d->sessions)
                sessions_stats(d->sessions, &st);
        *g = (struct metrics_gauges){
                .renewed = st.renewed, .renew_failed = st.renew_failed, .expired = st.expired,
                .sessions = st.sessions, .session_users = st.users,
                .offline_users = st.offline, .pending = st.pending,
                .users = users_count(d->users),
        };
}

/* Replace path with the text: a temp file beside it, 0644, renamed over it. No fsync: the
 * file is rewritten every few seconds and worthless after a crash, and syncing that often
 * would cost the disk for nothing. */
static int write_file(const struct apilogind *d, const char *path)
{
        struct metrics_gauges g;
        char tmp[4096];
        FILE *f;
        int fd, r;

        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
                return -ENAMETOOLONG;
        (void)unlink(tmp); /* a leftover of a crash */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return negative_errno();
        /* The daemon's umask is 077; the collector runs as another user. */
        if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w"))) {
                r = negative_errno();
                (void)close(fd);
                (void)unlink(tmp);
                return r;
        }
        gather(d, &g);
        r = metrics_render(d->metrics, &g, f);
        if (fclose(f) != 0 && r == 0)
                r = negative_errno();
        if (r == 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

static void write_now(struct metrics_file *w)
{
        const char *path = w->d->cfg ? w->d->cfg->metrics_file : NULL;
        int r;

        if (!path || !w->d->metrics)
                return;
        r = write_file(w->d, path);
        if (r < 0 && !w->warned)
                dlog_warn("Failed to write the metrics file %s: %s", path, strerror(-r));
        else if (r == 0 && w->warned)
                dlog_info("Wrote the metrics file %s again", path);
        w->warned = r < 0;
}

static void on_timer(void *userdata)
{
        struct metrics_file *w = userdata;

        write_now(w);
        if (loop_timer_set(w->d->loop, &w->timer, apilogin_now_ms() + METRICS_INTERVAL_MS) < 0)
                dlog_warn("Failed to arm the metrics timer; the metrics file stops here");
}

int metrics_file_start(struct apilogind *d, struct metrics_file **ret)
{
        struct metrics_file *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        w->d = d;
        loop_timer_init(&w->timer, on_timer, w);
        if (loop_timer_set(d->loop, &w->timer, apilogin_now_ms()) < 0) {
                free(w);
                return -ENOMEM;
        }
        *ret = w;
        return 0;
}

struct metrics_file *metrics_file_stop(struct metrics_file *w)
{
        if (!w)
                return NULL;
        loop_timer_stop(w->d->loop, &w->timer);
        write_now(w);
        free(w);
        return NULL;
}
