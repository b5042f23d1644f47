/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stall.h: the "stall" fault: park a connection, answer nothing, close it later.
 *
 * stall_add() suspends the MHD connection and queues it with a deadline of now +
 * --stall-seconds.  One timer thread resumes due connections; MHD then calls the
 * router again, which sees rq->stalled and returns MHD_NO, closing the connection.
 * MHD panics if it is stopped with suspended connections, hence stall_stop().
 */
#ifndef REFAPI_STALL_H
#define REFAPI_STALL_H

#include <microhttpd.h>

/* Starts the timer thread.  Returns 0 or -errno. */
int stall_start(unsigned seconds);

/* Suspends conn (from inside the access handler) and queues it.  Returns 0, or
 * -ENOMEM, in which case conn is not suspended. */
int stall_add(struct MHD_Connection *conn);

/* Called by the router once a stalled request has been closed. */
void stall_done(void);

/* Resumes every queued connection at once, waits up to 2 s until all are closed,
 * and stops the thread.  Call before MHD_stop_daemon(). */
void stall_stop(void);

#endif
