/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dlog.h: apilogind's log shim. Everything the daemon says goes through here: syslog
 * (ident "apilogind", LOG_PID; facility LOG_DAEMON, or LOG_AUTHPRIV for login events), plus
 * stderr with --foreground. Debug messages only with --debug. Every message is cleaned of
 * control characters before it is written, so text from an API cannot forge log lines.
 * Never pass a password, a token or a request body to these functions. */
#pragma once

#include <stdbool.h>

/* Open syslog and remember the flags. Call once, early; calling again updates the flags. */
void dlog_setup(bool foreground, bool debug);

/* Whether debug messages are written (so callers can skip costly formatting). */
bool dlog_debug_enabled(void);

void dlog_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dlog_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dlog_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dlog_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A login event, to LOG_AUTHPRIV with the given level (LOG_INFO, LOG_NOTICE, ...). */
void dlog_auth(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A value from outside (a client's rhost, tty, service or user name, an API's message)
 * made safe for a key=value log line: returned as is when it is a plain token, else in
 * double quotes with '"', '\\', control and non-ASCII bytes escaped (\n, \xNN), so it
 * can neither end its field nor forge another one or a new line. NULL and "" give "-".
 * The result lives in one of DLOG_Q_SLOTS rotating buffers (the daemon is single-threaded):
 * valid until that many more calls, so a log call may hold up to that many at once. Long
 * values are cut (with "..." inside the quotes). */
#define DLOG_Q_SLOTS 8
const char *dlog_q(const char *s);

/* An endpoint URL made fit for a log: scheme://host[:port]/path, without userinfo, query
 * or fragment (which may carry credentials or keys), then quoted as dlog_q does. Same
 * buffers as dlog_q. */
const char *dlog_url(const char *url);

/* Close syslog. */
void dlog_close(void);
