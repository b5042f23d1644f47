/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fsutil.c: atomic, symlink-safe file writing and bounded reading for apilogind. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "macro.h"

static int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int open_temp(int dfd, const char *name, mode_t mode, char *tmp, size_t tmpsz)
{
        for (int i = 0; i < 100; i++) {
                int fd;

                snprintf(tmp, tmpsz, ".%s.%08lx", name, (unsigned long)random());
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
                if (fd >= 0 || errno != EEXIST)
                        return fd >= 0 ? fd : negative_errno();
        }
        return -EEXIST;
}

static int fill_temp(int fd, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid)
{
        int r;

        if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
                return negative_errno();
        if (fchmod(fd, mode) < 0)
                return negative_errno();
        r = write_all(fd, data, len);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return negative_errno();
        return 0;
}

int apilogin_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                          mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        char tmp[512];
        int r;

        if (strchr(name, '/') || strlen(name) > 400)
                return -EINVAL;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return negative_errno();
        fd = open_temp(dfd, name, mode, tmp, sizeof(tmp));
        if (fd < 0)
                return fd;
        r = fill_temp(fd, data, len, mode, uid, gid);
        if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
                r = negative_errno();
        if (r < 0) {
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        (void)fsync(dfd);
        return 0;
}

int apilogin_mkdir_owned(const char *dir, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (mkdir(dir, mode) < 0 && errno != EEXIST)
                return negative_errno();
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (uid != (uid_t)-1 && (st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
                return negative_errno();
        if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
                return negative_errno();
        return 0;
}

int apilogin_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t got = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((size_t)st.st_size > max)
                return -EFBIG;
        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (got < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        buf[got] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = got;
        return 0;
}
