/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* keyring.h: the secrets apilogind keeps for re-login (the password of a `renew = relogin`
 * provider, the access token of a token_login session), in the kernel keyring and nowhere
 * else: never on disk, never in a session record, never in the daemon's memory longer
 * than one request takes.
 *
 * Each secret is a "user" key described "apilogin:USER", possessor/user (root) only, with
 * a timeout (keyring_store). The keys live in a keyring of this daemon instance,
 * "apilogind:<16 hex>", made at the first need and linked into root's user keyring (@u),
 * which outlives the process: a restarted daemon finds its keys again. The instance name is kept in
 * run_dir/sessions/.keyring (root 0600; not a secret), so daemons with different run_dirs
 * (tests in namespaces, several configs side by side) never see each other's keys, and a
 * reboot (which empties /run and the keyrings alike) starts afresh. This file never logs. */
#pragma once

#include <stdint.h>

/* How long a key lives without being used: renewals that use it push the timeout out
 * again (keyring_touch), so it only outlives its session when the daemon is gone. */
#define KEYRING_MAX_AGE_S (7U * 24 * 3600)

struct keyring;

/* A handle on this instance's keyring: the one named in run_dir/sessions/.keyring when it
 * still exists; otherwise it is created (and its name recorded) by the first
 * keyring_store. 0, -ENOMEM, or -errno when the kernel keyring cannot be used here
 * (-ENOSYS/-EPERM/-EACCES: seccomp, no CONFIG_KEYS). */
int keyring_open(const char *run_dir, struct keyring **ret);

/* Forget the handle; the keys stay. Accepts NULL; returns NULL. */
struct keyring *keyring_free(struct keyring *k);

/* Unlink the instance keyring (and every key in it) and delete its name file: for a clean
 * stop with no sessions left. 0 or -errno. */
int keyring_discard(struct keyring *k);

/* Store (or replace) user's secret with a timeout of timeout_s seconds. 0 or -errno. */
int keyring_store(struct keyring *k, const char *user, const char *secret, unsigned timeout_s);

/* A new NUL-terminated copy of user's secret (free with apilogin_erase_free) in *ret.
 * 0, -ENOKEY when there is none (never stored, removed, timed out), or -errno. */
int keyring_fetch(struct keyring *k, const char *user, char **ret);

/* Push the timeout of user's key out to timeout_s from now. 0, -ENOKEY, or -errno. */
int keyring_touch(struct keyring *k, const char *user, unsigned timeout_s);

/* Remove user's key at once. 0 (also when there is none) or -errno. */
int keyring_remove(struct keyring *k, const char *user);
