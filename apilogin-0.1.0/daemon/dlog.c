/* dlog.c: syslog (+ stderr in the foreground) for apilogind; see dlog.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "dlog.h"

#define DLOG_LINE_MAX 2048

static bool log_foreground;
static bool log_debug;

void dlog_setup(bool foreground, bool debug)
{
        log_foreground = foreground;
        log_debug = debug;
        openlog("apilogind", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool dlog_debug_enabled(void)
{
        return log_debug;
}

static const char *level_name(int level)
{
        switch (level) {
        case LOG_ERR: return "error";
        case LOG_WARNING: return "warning";
        case LOG_NOTICE: return "notice";
        case LOG_DEBUG: return "debug";
        default: return "info";
        }
}

/* Replace control bytes (newlines included) by '?': one event is one line. */
static void clean_line(char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        *s = '?';
}

static void vlog(int facility, int level, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
static void vlog(int facility, int level, const char *fmt, va_list ap)
{
        char line[DLOG_LINE_MAX];

        if (level == LOG_DEBUG && !log_debug)
                return;
        (void)vsnprintf(line, sizeof(line), fmt, ap);
        clean_line(line);
        syslog(facility | level, "%s", line);
        if (log_foreground)
                fprintf(stderr, "apilogind: %s: %s\n", level_name(level), line);
}

#define DEFINE_LOG(fn, facility, level)               \
        void fn(const char *fmt, ...)                 \
        {                                             \
                va_list ap;                           \
                va_start(ap, fmt);                    \
                vlog(facility, level, fmt, ap);       \
                va_end(ap);                           \
        }

DEFINE_LOG(dlog_err, LOG_DAEMON, LOG_ERR)
DEFINE_LOG(dlog_warn, LOG_DAEMON, LOG_WARNING)
DEFINE_LOG(dlog_info, LOG_DAEMON, LOG_INFO)
DEFINE_LOG(dlog_debug, LOG_DAEMON, LOG_DEBUG)

void dlog_auth(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vlog(LOG_AUTHPRIV, level, fmt, ap);
        va_end(ap);
}

void dlog_close(void)
{
        closelog();
}
