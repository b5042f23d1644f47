/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* faults.h: per-path fault injection ("stall", "500", "garbage", "oversized", "close",
 * "redirect:<URL>").
 *
 * The table maps an exact URL path to a mode.  It is filled from the accounts file
 * and changed at runtime by POST /_fault; lookups take a read lock.  A "stall" is
 * handed to stall.c.  The WebSocket paths handle stall/garbage/oversized inside the
 * protocol (ws_session.c) and use only the table from here.
 */
#ifndef REFAPI_FAULTS_H
#define REFAPI_FAULTS_H

#include <stddef.h>

#include "refapi.h"

enum fault_mode {
        FAULT_NONE,
        FAULT_STALL,
        FAULT_500,
        FAULT_GARBAGE,
        FAULT_OVERSIZED,
        FAULT_CLOSE,
        FAULT_REDIRECT,         /* 307 with Location: the URL given after "redirect:" */
};

enum fault_action {
        FA_PASS,        /* no fault: run the handler */
        FA_REPLY,       /* rq's reply fields hold the faulty answer */
        FA_CLOSE,       /* close the connection without an answer */
        FA_SUSPEND,     /* connection suspended; return MHD_YES */
};

#define FAULT_LOCATION_MAX 256      /* longest redirect URL, NUL included */

/* Parses a fault spec: a mode name, or "redirect:<URL>" (printable ASCII, no blanks,
 * shorter than FAULT_LOCATION_MAX).  Returns 0 or -EINVAL. */
int fault_parse(const char *s, enum fault_mode *ret);
const char *fault_name(enum fault_mode m);

/* Sets the fault of path from spec (see fault_parse); "none" clears it.  Returns 0,
 * -ENOSPC or -EINVAL. */
int faults_set(const char *path, const char *spec);

/* Returns the fault of path; FAULT_NONE when none is set.  Read-locked. */
enum fault_mode faults_get(const char *path);

/* Copies the redirect URL of path into buf (size >= FAULT_LOCATION_MAX); "" if none. */
void faults_location(const char *path, char *buf, size_t size);

/* Returns {"faults":{path:spec,...}} (caller frees) or NULL. */
char *faults_json(void);

/* Applies mode m to an HTTP request and counts it.  FA_SUSPEND means the connection
 * was suspended by stall_add(); the router must set rq->stalled and close the
 * connection when MHD calls it again. */
enum fault_action fault_apply(struct rq *rq, enum fault_mode m);

/* Returns the static 1 MiB JSON body of the "oversized" fault. */
const char *fault_oversized_body(size_t *ret_len);

/* Frees the oversized body.  Call after MHD_stop_daemon(). */
void faults_free(void);

#endif
