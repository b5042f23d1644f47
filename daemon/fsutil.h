/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fsutil.h: file writing as apilogind does it everywhere: never in place, never through a
 * symlink, always whole (temp file in the same directory, fsync, rename). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Replace dir/name with data (len bytes): create dir/.name.XXXXXX with O_EXCL|O_NOFOLLOW
 * and the given mode, fchown to uid:gid (skipped when uid == (uid_t)-1), write, fsync,
 * rename over dir/name, fsync the directory. On failure the temp file is removed and the
 * old file is untouched. Returns 0 or -errno. */
int apilogin_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                          mode_t mode, uid_t uid, gid_t gid);

/* Create dir (one level) with mode and owner if missing, and enforce mode and owner if it
 * exists (refusing a symlink or a non-directory). uid (uid_t)-1 keeps the owner. */
int apilogin_mkdir_owned(const char *dir, mode_t mode, uid_t uid, gid_t gid);

/* Read a whole regular file of at most max bytes into a new NUL-terminated buffer.
 * Returns 0 (and *ret, *ret_len), -EFBIG if larger, or -errno. Refuses symlinks. */
int apilogin_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
