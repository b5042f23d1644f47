/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tokenfile.h: the files of apilogind that hold tokens, and the per-user state they are
 * written from.
 *
 * - run_dir/users/UID/token (owner UID, gid = the apilogin group, 0600): the bare token,
 *   no newline, so "$(cat token)" is exact; token.json beside it with every field, and
 *   "state": "valid", or "expired" once the token can no longer be renewed.
 *   run_dir/users and run_dir/users/UID are root 0755.
 * - run_dir/sessions/NAME.json (root 0600, directory 0700): the user's token state
 *   (refresh credential included) and sessions, so a restarted daemon loses nothing.
 * Every file is replaced atomically: a temp file beside it, renamed over it (as
 * apilogin_write_atomic does; fsync where the file system keeps files across a crash, not
 * on tmpfs). This file never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "daemon/provider.h"

#define SESSION_ID_LEN 32 /* hex digits: 128 random bits */

/* The token state of one user. Strings are owned; token, refresh and extra values are
 * secrets, wiped by token_clear. */
struct apilogin_token {
        char *token;
        char *refresh;      /* NULL if none */
        int64_t expires_at; /* unix time, 0 if unknown (or: lives while kept alive) */
        int64_t issued_ms;  /* unix time in ms when obtained or last renewed, 0 if unknown */
        bool expired;       /* its renewal was refused or it ran out: token.json says
                               "state": "expired"; no more renewals until a new login */
        char *provider;     /* provider section name */
        char *endpoint;     /* URL that issued the token (a config URL: holds no secret) */
        char *role;         /* NULL if none */
        struct apilogin_pair extra[APILOGIN_EXTRA_MAX];
};

/* One PAM session of a user. */
struct apilogin_session {
        char id[SESSION_ID_LEN + 1];
        char *service;
        char *tty;          /* NULL if none */
        char *rhost;        /* NULL if none */
        uint32_t pid;       /* session leader */
        uint64_t pid_start; /* its start time (pidwatch_start_time), 0 if unknown */
        int64_t opened_at;  /* unix time */
        bool watched;       /* pid is in the daemon's pidwatch (not saved) */
};

struct refresh_job;

/* Everything apilogind keeps about a user with sessions. */
struct user_state {
        char *name;
        uint32_t uid;
        bool has_token;
        bool offline;      /* logged in offline, no token yet: tok holds only the provider
                              of the verifier; token.json says "offline": true */
        struct apilogin_token tok;
        struct apilogin_session *sess;
        size_t n_sess;
        struct refresh_job *job; /* renewal state (refresh.h), never saved; whoever drops
                                    the user stops it first (refresh_stop) */
};

/* Wipe and free every member; t is reset to empty. Accepts NULL. */
void token_clear(struct apilogin_token *t);

/* Fill t (empty) from a login result, taking its token, refresh, role and extra tokens
 * (they are NULLed in res), and copying provider and endpoint; issued_ms is now. 0 or
 * -ENOMEM/-EINVAL (no token in res); on failure t stays empty and res keeps what was not
 * taken. */
int token_from_result(struct apilogin_token *t, struct apilogin_result *res,
                      const char *provider, const char *endpoint);

/* Unix time in ms (CLOCK_REALTIME), the time base of issued_ms. */
int64_t token_now_ms(void);

/* Free a user state (tokens wiped); accepts NULL. u->job must be NULL (stopped). */
void user_state_free(struct user_state *u);

/* Write u's token and token.json (u->has_token must be set) under cfg->run_dir, creating
 * the directories. Writes the token file's path into ret_path (pathsz bytes).
 * 0 or -errno (-ENAMETOOLONG if the path does not fit). */
int tokenfile_write(const struct apilogin_config *cfg, const struct user_state *u,
                    char *ret_path, size_t pathsz);

/* Rewrite u's token and token.json after a renewal: like tokenfile_write, without
 * re-checking the directories (made by tokenfile_write at OPEN; remade if missing).
 * 0 or -errno. */
int tokenfile_update(const struct apilogin_config *cfg, const struct user_state *u);

/* Remove the temp files a daemon killed in the middle of a write left in
 * run_dir/users/UID (never the token files themselves). 0 or -errno. */
int tokenfile_tidy(const struct apilogin_config *cfg, uint32_t uid);

/* Delete run_dir/users/UID with everything in it. 0 (also when absent) or -errno. */
int tokenfile_remove(const struct apilogin_config *cfg, uint32_t uid);

/* Save u as run_dir/sessions/NAME.json (root 0600). 0 or -errno. */
int record_save(const struct apilogin_config *cfg, const struct user_state *u);

/* Delete u's record. 0 (also when absent) or -errno. */
int record_delete(const struct apilogin_config *cfg, const char *name);

/* Parse one record (the text of NAME.json; name is what the file name says) into a new
 * user state. 0, -EBADMSG (not a valid record), or -ENOMEM. */
int record_parse(const char *text, size_t len, const char *name, struct user_state **ret);

/* Call fn for every record in run_dir/sessions, handing it a new user state (fn takes it),
 * after removing the temp files a killed daemon may have left there. Files that cannot be
 * read or parsed are skipped and counted in *ret_bad.
 * 0 (also when the directory is missing) or -errno from reading the directory. */
int record_load_all(const struct apilogin_config *cfg,
                    void (*fn)(void *userdata, struct user_state *u), void *userdata,
                    unsigned *ret_bad);
