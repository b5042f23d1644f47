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

/* Close syslog. */
void dlog_close(void);
