/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* macro.h: cleanup attributes and small helpers shared by every part of apilogin. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _public_ __attribute__((visibility("default")))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Hand ownership of a cleanup-managed pointer on: returns it and NULLs the local. */
#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) _tp_ = (p);    \
                (p) = NULL;                  \
                _tp_;                        \
        })

#define TAKE_FD(fd)                   \
        ({                            \
                int _tf_ = (fd);      \
                (fd) = -1;            \
                _tf_;                 \
        })

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void)close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                (void)fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Keep the caller's errno across a success path (NSS entry points). */
static inline void restore_errnop(int *e)
{
        errno = *e;
}
#define PROTECT_ERRNO _cleanup_(restore_errnop) _unused_ int _saved_errno_ = errno

/* Convert a libc -1/errno result into -errno right at the call site. */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}
