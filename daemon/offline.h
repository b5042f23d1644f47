/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* offline.h: the verifier store of offline login (offline_login = yes). After an online
 * login succeeds, apilogind keeps, per user, a salted slow hash of the secret (yescrypt
 * through libxcrypt's crypt_gensalt_rn/crypt_r) with the time of that login and the
 * provider that accepted it; nothing else about the secret. When no API can be reached,
 * the same secret checked against it logs the user in, for at most offline_max_age after
 * the last online login.
 *
 * Files: state_dir/private/offline/NAME (root 0600; both directories root 0700), one line
 *   "apilogin-verifier 1 UNIX_TIME PROVIDER HASH\n"
 * replaced atomically (temp file, fsync, rename). Anything else - another version, a
 * truncated line, a time in the future, a hash that is not "$y$" - is refused as corrupt.
 *
 * Cost: one yescrypt hash at OFFLINE_COST takes tens to hundreds of ms, so the daemon runs
 * save and check in a worker thread (offline_job_start) and its loop goes on meanwhile.
 * The pure functions and the synchronous offline_save/offline_check never log. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFFLINE_COST 5         /* yescrypt cost (libxcrypt's default for /etc/shadow) */
#define OFFLINE_FILE_MAX 512   /* a verifier line is ~150 bytes */
#define OFFLINE_HASH_MAX 160
#define OFFLINE_PROVIDER_MAX 63

struct loop;

/* One verifier as stored. */
struct offline_verifier {
        int64_t at;                                 /* unix time of the online login */
        char provider[OFFLINE_PROVIDER_MAX + 1];
        char hash[OFFLINE_HASH_MAX + 1];            /* "$y$..." */
};

/* The file text of v into buf (n bytes). 0 or -ENAMETOOLONG/-EINVAL. */
int offline_format(const struct offline_verifier *v, char *buf, size_t n);

/* Parse a file's text (len bytes, not necessarily NUL-terminated). 0 with *ret filled, or
 * -EBADMSG for anything that is not exactly one valid line (now: unix time; a record from
 * the future by more than a minute is refused too). Never reads past len. */
int offline_parse(const char *text, size_t len, int64_t now, struct offline_verifier *ret);

/* Hash secret with a fresh random salt into ret (OFFLINE_HASH_MAX + 1 bytes). 0 or -errno. */
int offline_hash(const char *secret, unsigned long cost, char *ret, size_t n);

/* Whether secret matches hash (constant-time compare of the crypt outputs). */
bool offline_hash_matches(const char *hash, const char *secret);

/* Save the verifier of user (hash of secret, now, provider) under state_dir, creating the
 * directories. 0 or -errno. Blocks for one hash. */
int offline_save(const char *state_dir, const char *user, const char *provider,
                 const char *secret, int64_t now);

/* Check secret against user's verifier: 0 on a match (*ret_provider, n bytes, gets the
 * provider; may be NULL), -EACCES on a mismatch, -ENOENT when there is none, -ESTALE when
 * its login is older than max_age_s, -EBADMSG when the file is corrupt, other -errno.
 * Blocks for one hash. */
int offline_check(const char *state_dir, const char *user, const char *secret,
                  uint64_t max_age_s, int64_t now, char *ret_provider, size_t n);

/* Delete user's verifier. 0 (also when there is none) or -errno. */
int offline_delete(const char *state_dir, const char *user);

/* ---- off the loop ------------------------------------------------------------------ */

enum offline_op {
        OFFLINE_OP_SAVE,
        OFFLINE_OP_CHECK,
};

struct offline_job;

/* Called on the loop's thread with the result of offline_save or offline_check (and, for
 * a check, the provider of the verifier; "" otherwise). */
typedef void (*offline_done_fn)(void *userdata, int r, const char *provider);

/* Run op in a new thread (inputs copied; the secret is wiped when the job ends) and call
 * fn from loop once it is done. *ret (may be NULL) is the job until fn has been called.
 * 0 or -errno (fn is then never called). */
int offline_job_start(struct loop *loop, enum offline_op op, const char *state_dir,
                      const char *user, const char *provider, const char *secret,
                      uint64_t max_age_s, offline_done_fn fn, void *userdata,
                      struct offline_job **ret);

/* Forget the caller of j: fn will not be called; the job frees itself when its thread is
 * done. Accepts NULL. */
void offline_job_cancel(struct offline_job *j);
