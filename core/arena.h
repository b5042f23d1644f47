/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arena.h: a bump allocator over a caller's buffer, used to pack NSS results (struct passwd,
 * struct group) into the buffer glibc hands the module. Nothing is ever allocated on the
 * heap; every pointer it returns lies inside the buffer.
 *
 * The arena keeps two pointers, next and end. Every request is checked as
 * "size > (size_t)(end - next)" before any pointer is formed, so no pointer past the end
 * of the buffer is ever computed (the nss-mdns defect). A failed request leaves the arena
 * as it was; the caller reports ERANGE. */
#pragma once

#include <stddef.h>

struct apilogin_arena {
        char *next;
        char *end;
};

/* Start an arena over buf[0..len). buf may be NULL only when len is 0 (every request then
 * fails). */
void apilogin_arena_init(struct apilogin_arena *a, char *buf, size_t len);

/* size bytes aligned to align (a power of two, at most 64), or NULL if they do not fit.
 * The memory is not cleared. */
void *apilogin_arena_alloc(struct apilogin_arena *a, size_t size, size_t align);

/* Copy len bytes of s and a terminating NUL into the arena; NULL if they do not fit. s need
 * not be NUL-terminated. */
char *apilogin_arena_strndup(struct apilogin_arena *a, const char *s, size_t len);

/* Bytes still free (ignoring alignment). */
size_t apilogin_arena_left(const struct apilogin_arena *a);
