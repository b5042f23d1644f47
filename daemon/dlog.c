/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dlog.c: syslog (+ stderr in the foreground) for apilogind; see dlog.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "dlog.h"

#define DLOG_LINE_MAX 2048
#define DLOG_Q_MAX 256   /* bytes of one quoted value, quotes and NUL included */

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

/* ---- values from outside ------------------------------------------------------------- */

static char *q_slot(void)
{
        static char bufs[DLOG_Q_SLOTS][DLOG_Q_MAX];
        static unsigned next;

        return bufs[next++ % DLOG_Q_SLOTS];
}

/* Bytes that may stand unquoted in a key=value line. */
static bool plain_byte(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr("._-@:/+,%[]", c);
}

static bool is_plain(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (!plain_byte((unsigned char)s[i]))
                        return false;
        return len > 0 && len < DLOG_Q_MAX;
}

/* Quote len bytes of s into out (DLOG_Q_MAX bytes). */
static void quote_into(char *out, const char *s, size_t len)
{
        size_t o = 0;

        out[o++] = '"';
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                char esc[5];

                if (c == '"' || c == '\\')
                        snprintf(esc, sizeof(esc), "\\%c", c);
                else if (c == '\n')
                        snprintf(esc, sizeof(esc), "\\n");
                else if (c < 0x20 || c >= 0x7f)
                        snprintf(esc, sizeof(esc), "\\x%02x", c);
                else
                        snprintf(esc, sizeof(esc), "%c", c);
                if (o + strlen(esc) + 5 > DLOG_Q_MAX) { /* room for ...", NUL */
                        memcpy(out + o, "...", 3);
                        o += 3;
                        break;
                }
                memcpy(out + o, esc, strlen(esc));
                o += strlen(esc);
        }
        out[o++] = '"';
        out[o] = '\0';
}

static const char *q_len(const char *s, size_t len)
{
        char *out;

        if (!s || len == 0)
                return "-";
        out = q_slot();
        if (is_plain(s, len)) {
                memcpy(out, s, len);
                out[len] = '\0';
        } else {
                quote_into(out, s, len);
        }
        return out;
}

const char *dlog_q(const char *s)
{
        return q_len(s, s ? strlen(s) : 0);
}

const char *dlog_url(const char *url)
{
        const char *host, *at, *end;
        char tmp[DLOG_Q_MAX];
        size_t head, len;

        if (!url || !(host = strstr(url, "://")))
                return dlog_q(url);
        host += 3;
        end = host + strcspn(host, "?#");
        at = memchr(host, '@', strcspn(host, "/?#"));
        head = (size_t)(host - url);
        if (at)
                host = at + 1;
        len = (size_t)(end - host);
        if (head + len >= sizeof(tmp))
                len = sizeof(tmp) - head - 1;
        memcpy(tmp, url, head);
        memcpy(tmp + head, host, len);
        return q_len(tmp, head + len);
}

void dlog_close(void)
{
        closelog();
}
