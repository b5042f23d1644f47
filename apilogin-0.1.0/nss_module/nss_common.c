/* nss_common.c: the global state of libnss_apilogin.so.2 (one mapping, one mutex), the
 * errno -> nss_status conversion and the enumeration helpers shared by nss_passwd.c and
 * nss_group.c. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "nss_common.h"

struct apilogin_nss apilogin_nss = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .cache = APILOGIN_CACHE_INIT,
        .pwent = { .cache = APILOGIN_CACHE_INIT },
        .grent = { .cache = APILOGIN_CACHE_INIT },
};

static pthread_once_t debug_once = PTHREAD_ONCE_INIT;
static bool debug_on;
static pthread_once_t program_once = PTHREAD_ONCE_INIT;
static char program[256];

static void program_init(void)
{
        static const char deleted[] = " (deleted)";
        char path[4096];
        const char *base;
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        size_t len;

        if (n <= 0)
                return; /* no /proc: no program, so no provisional entries */
        path[n] = 0;
        len = (size_t)n;
        /* the binary was replaced (a package upgrade) since this process started */
        if (len > sizeof(deleted) - 1 && strcmp(path + len - (sizeof(deleted) - 1), deleted) == 0)
                path[len - (sizeof(deleted) - 1)] = 0;
        base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (strlen(base) < sizeof(program))
                strcpy(program, base);
}

const char *apilogin_nss_program(void)
{
        int saved = errno;

        (void)pthread_once(&program_once, program_init);
        errno = saved;
        return program;
}

static void debug_init(void)
{
        /* secure_getenv: a setuid program never takes this from its caller. */
        debug_on = secure_getenv("APILOGIN_NSS_DEBUG") != NULL;
}

void apilogin_nss_debug(const char *fmt, ...)
{
        int saved = errno;
        va_list ap;

        (void)pthread_once(&debug_once, debug_init);
        if (debug_on) {
                va_start(ap, fmt);
                (void)fputs("nss_apilogin: ", stderr);
                (void)vfprintf(stderr, fmt, ap);
                (void)fputc('\n', stderr);
                va_end(ap);
        }
        errno = saved;
}

int apilogin_nss_lock(void)
{
        int r;

        (void)pthread_mutex_lock(&apilogin_nss.lock);
        r = apilogin_cache_refresh(&apilogin_nss.cache, APILOGIN_CACHE_PATH);
        if (r < 0)
                apilogin_nss_debug("cannot map %s: %s", APILOGIN_CACHE_PATH, strerror(-r));
        return r;
}

void apilogin_nss_unlock(void)
{
        (void)pthread_mutex_unlock(&apilogin_nss.lock);
}

enum nss_status apilogin_errno_to_nss(int r, int *errnop)
{
        if (r > 0)
                return NSS_STATUS_SUCCESS;
        if (r == 0)
                return NSS_STATUS_NOTFOUND;
        if (r == -ERANGE) {
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        *errnop = ENOENT;
        return NSS_STATUS_UNAVAIL;
}

int apilogin_nss_ent_start(struct apilogin_nss_ent *e)
{
        int r;

        apilogin_nss_ent_end(e);
        r = apilogin_cache_open(&e->cache, APILOGIN_CACHE_PATH);
        if (r < 0)
                return r;
        /* Enumeration is off unless the administrator enabled it: then the enumeration
         * is active but has no mapping, and yields nothing. */
        if (!(e->cache.meta.flags & APILOGIN_CACHE_F_ENUMERATE))
                apilogin_cache_close(&e->cache);
        e->cursor = APILOGIN_CACHE_CURSOR_START;
        e->active = true;
        return 0;
}

void apilogin_nss_ent_end(struct apilogin_nss_ent *e)
{
        apilogin_cache_close(&e->cache);
        e->cursor = APILOGIN_CACHE_CURSOR_START;
        e->active = false;
}
