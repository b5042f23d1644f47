/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_tmpfile.h: the fuzz targets whose parser takes a path (config, NSS cache) get
 * their input as a file: one private temp file per process, rewritten for every input. */
#pragma once
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write data to this process's temp file (mode 0600, owned by the caller, as a config
 * must be) and return its path; aborts when the file system fails us. */
static const char *fuzz_tmpfile(const char *tag, const uint8_t *data, size_t size)
{
        static char path[256];
        const char *dir = getenv("TMPDIR");
        int fd;

        if (!path[0])
                (void)snprintf(path, sizeof(path), "%s/apilogin-fuzz-%s.%ld", dir ? dir : "/tmp",
                               tag, (long)getpid());
        /* a new inode every time: the cache reader keys its mapping on (dev, ino) */
        (void)unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                abort();
        for (size_t off = 0; off < size;) {
                ssize_t n = write(fd, data + off, size - off);

                if (n <= 0)
                        abort();
                off += (size_t)n;
        }
        close(fd);
        return path;
}
