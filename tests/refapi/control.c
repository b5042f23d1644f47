/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control.c: the test-control endpoints /_stats, /_fault and /_reset (not counted). */
#include <stdio.h>
#include <string.h>

#include "faults.h"
#include "refapi.h"
#include "stats.h"

/* GET /_stats: every counter as one JSON object. */
void ctl_stats(struct rq *rq)
{
        char *s = stats_json();

        if (!s) {
                rq_reply_text(rq, 500, "out of memory\n");
                return;
        }
        rq_reply_buf(rq, 200, "application/json", s, strlen(s));
}

/* GET /_fault lists the table; POST /_fault?path=P&mode=M sets (mode=none clears). */
void ctl_fault(struct rq *rq)
{
        const char *path = rq_query(rq, "path"), *mode = rq_query(rq, "mode");
        enum fault_mode m;
        char *s;

        if (rq_is_post(rq)) {
                if (!path || path[0] != '/' || fault_parse(mode, &m) < 0) {
                        rq_reply_text(rq, 400, "usage: POST /_fault?path=/x&mode="
                                      "none|stall|500|garbage|oversized|close|redirect:URL\n");
                        return;
                }
                if (faults_set(path, mode) < 0) {
                        rq_reply_text(rq, 507, "fault table full or path too long\n");
                        return;
                }
        }
        s = faults_json();
        if (!s) {
                rq_reply_text(rq, 500, "out of memory\n");
                return;
        }
        rq_reply_buf(rq, 200, "application/json", s, strlen(s));
}

/* POST /_reset: zero all counters.  Tokens, sessions and faults are kept. */
void ctl_reset(struct rq *rq)
{
        stats_reset();
        rq_reply_text(rq, 200, "{\"reset\":true}");
        rq->ctype = "application/json";
}
