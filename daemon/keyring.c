/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* keyring.c: re-login secrets in the kernel keyring through libkeyutils (see keyring.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <keyutils.h>

#include "daemon/fsutil.h"
#include "keyring.h"
#include "macro.h"
#include "names.h"
#include "proto.h"
#include "secure.h"

#define RING_PREFIX "apilogind:"
#define RING_NAME_LEN (sizeof(RING_PREFIX) - 1 + 16)
#define KEY_PREFIX "apilogin:"
#define ID_FILE ".keyring"

/* Possessor and owner (root) only: no group, no other; link only for the possessor. */
#define KEY_PERM                                                                          \
        (KEY_POS_VIEW | KEY_POS_READ | KEY_POS_WRITE | KEY_POS_SEARCH | KEY_POS_LINK |    \
         KEY_POS_SETATTR | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_WRITE | KEY_USR_SEARCH | \
         KEY_USR_SETATTR)

struct keyring {
        key_serial_t ring;  /* 0 until created */
        char dir[4096];     /* run_dir/sessions */
};

static int ring_name_valid(const char *s, size_t len)
{
        size_t p = sizeof(RING_PREFIX) - 1;

        return len == RING_NAME_LEN && memcmp(s, RING_PREFIX, p) == 0 &&
               strspn(s + p, "0123456789abcdef") == 16;
}

/* The instance name recorded in dir, into name (RING_NAME_LEN + 1 bytes). */
static int read_name(const char *dir, char *name)
{
        char path[4096];
        char *text = NULL;
        size_t len = 0;
        int r;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, ID_FILE) >= sizeof(path))
                return -ENAMETOOLONG;
        r = apilogin_read_file(path, 256, &text, &len);
        if (r < 0)
                return r;
        while (len > 0 && text[len - 1] == '\n')
                len--;
        if (ring_name_valid(text, len)) {
                memcpy(name, text, RING_NAME_LEN);
                name[RING_NAME_LEN] = '\0';
        } else {
                r = -EBADMSG;
        }
        free(text);
        return r;
}

static int new_name(char *name)
{
        uint8_t raw[8];

        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                return -EIO;
        memcpy(name, RING_PREFIX, sizeof(RING_PREFIX) - 1);
        for (size_t i = 0; i < sizeof(raw); i++)
                snprintf(name + sizeof(RING_PREFIX) - 1 + 2 * i, 3, "%02x", raw[i]);
        return 0;
}

/* A new instance keyring in @u, its name recorded in dir. */
static int ring_create(const char *dir, char *name, key_serial_t *ret)
{
        key_serial_t ring;
        int r;

        r = new_name(name);
        if (r < 0)
                return r;
        ring = add_key("keyring", name, NULL, 0, KEY_SPEC_USER_KEYRING);
        if (ring < 0)
                return negative_errno();
        if (keyctl_setperm(ring, KEY_PERM) < 0) {
                r = negative_errno();
                (void)keyctl_unlink(ring, KEY_SPEC_USER_KEYRING);
                return r;
        }
        r = apilogin_mkdir_owned(dir, 0700, (uid_t)-1, (gid_t)-1);
        r = r ?: apilogin_write_atomic(dir, ID_FILE, name, strlen(name), 0600, (uid_t)-1,
                                       (gid_t)-1);
        if (r < 0) {
                (void)keyctl_unlink(ring, KEY_SPEC_USER_KEYRING);
                return r;
        }
        *ret = ring;
        return 0;
}

int keyring_open(const char *run_dir, struct keyring **ret)
{
        char name[RING_NAME_LEN + 1];
        _cleanup_free_ struct keyring *k = calloc(1, sizeof(*k));
        key_serial_t ring;
        int r;

        if (!k)
                return -ENOMEM;
        if ((size_t)snprintf(k->dir, sizeof(k->dir), "%s/sessions", run_dir) >= sizeof(k->dir))
                return -ENAMETOOLONG;
        r = read_name(k->dir, name);
        if (r == 0) {
                ring = keyctl_search(KEY_SPEC_USER_KEYRING, "keyring", name, 0);
                r = ring < 0 ? negative_errno() : 0;
                if (r == 0)
                        k->ring = ring;
        } else if (keyctl_get_keyring_ID(KEY_SPEC_USER_KEYRING, 0) < 0) {
                r = negative_errno(); /* no keyring support at all */
        }
        /* No instance yet, or its keyring is gone (a reboot): created when needed. */
        if (r < 0 && r != -ENOENT && r != -EBADMSG && r != -ENOKEY && r != -EKEYEXPIRED &&
            r != -EKEYREVOKED)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

struct keyring *keyring_free(struct keyring *k)
{
        free(k);
        return NULL;
}

int keyring_discard(struct keyring *k)
{
        char path[4096 + sizeof(ID_FILE)];

        if (k->ring == 0)
                return 0;
        if (keyctl_unlink(k->ring, KEY_SPEC_USER_KEYRING) < 0 && errno != ENOENT)
                return negative_errno();
        k->ring = 0;
        snprintf(path, sizeof(path), "%s/%s", k->dir, ID_FILE);
        return unlink(path) < 0 && errno != ENOENT ? negative_errno() : 0;
}

static int key_desc(const char *user, char *buf, size_t n)
{
        if (!apilogin_name_valid(user))
                return -EINVAL;
        return (size_t)snprintf(buf, n, KEY_PREFIX "%s", user) < n ? 0 : -ENAMETOOLONG;
}

static int key_find(struct keyring *k, const char *user, key_serial_t *ret)
{
        char desc[sizeof(KEY_PREFIX) + APILOGIN_NAME_MAX];
        key_serial_t key;
        int r = key_desc(user, desc, sizeof(desc));

        if (r < 0)
                return r;
        if (k->ring == 0)
                return -ENOKEY;
        key = keyctl_search(k->ring, "user", desc, 0);
        if (key < 0) {
                r = negative_errno();
                /* An expired or revoked key is as good as none. */
                return r == -EKEYEXPIRED || r == -EKEYREVOKED ? -ENOKEY : r;
        }
        *ret = key;
        return 0;
}

int keyring_store(struct keyring *k, const char *user, const char *secret, unsigned timeout_s)
{
        char desc[sizeof(KEY_PREFIX) + APILOGIN_NAME_MAX];
        size_t len = secret ? strnlen(secret, APILOGIN_SECRET_MAX + 1) : 0;
        key_serial_t key;
        int r = key_desc(user, desc, sizeof(desc));

        if (r < 0)
                return r;
        if (len == 0 || len > APILOGIN_SECRET_MAX)
                return -EINVAL;
        if (k->ring == 0) {
                char name[RING_NAME_LEN + 1];

                r = ring_create(k->dir, name, &k->ring);
                if (r < 0)
                        return r;
        }
        /* The kernel gives a new user key possessor rights and user view only, so the
         * secret is never readable by anyone else, not even before the setperm. */
        key = add_key("user", desc, secret, len, k->ring);
        if (key < 0)
                return negative_errno();
        if (keyctl_setperm(key, KEY_PERM) < 0 || keyctl_set_timeout(key, timeout_s) < 0) {
                r = negative_errno();
                (void)keyctl_invalidate(key);
                return r;
        }
        return 0;
}

int keyring_fetch(struct keyring *k, const char *user, char **ret)
{
        key_serial_t key;
        void *buf = NULL;
        long n;
        int r = key_find(k, user, &key);

        if (r < 0)
                return r;
        n = keyctl_read_alloc(key, &buf); /* NUL-terminated by libkeyutils */
        if (n < 0)
                return errno == EKEYEXPIRED || errno == EKEYREVOKED ? -ENOKEY
                                                                    : negative_errno();
        if (n == 0 || strlen(buf) != (size_t)n) {
                apilogin_freezero(buf, (size_t)n + 1);
                return -EBADMSG;
        }
        *ret = buf;
        return 0;
}

int keyring_touch(struct keyring *k, const char *user, unsigned timeout_s)
{
        key_serial_t key;
        int r = key_find(k, user, &key);

        if (r < 0)
                return r;
        return keyctl_set_timeout(key, timeout_s) < 0 ? negative_errno() : 0;
}

int keyring_remove(struct keyring *k, const char *user)
{
        key_serial_t key;
        int r = key_find(k, user, &key);

        if (r == -ENOKEY)
                return 0;
        if (r < 0)
                return r;
        /* Invalidate: gone at once for every search, payload freed by the kernel's GC. */
        if (keyctl_invalidate(key) < 0) {
                r = negative_errno();
                if (keyctl_unlink(key, k->ring) < 0)
                        return r;
        }
        return 0;
}
