/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* offline.c: the verifier store of offline login (see offline.h): file format, yescrypt
 * hashing through libxcrypt, and a worker thread per save or check so that the slow hash
 * never stalls the daemon's loop. */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/fsutil.h"
#include "loop.h"
#include "macro.h"
#include "names.h"
#include "offline.h"
#include "proto.h"
#include "secure.h"

#define MAGIC "apilogin-verifier 1 "
#define FUTURE_SLACK_S 60

/* ---- the file format ------------------------------------------------------------------ */

static bool provider_ok(const char *s)
{
        size_t n = strlen(s);

        return n >= 1 && n <= OFFLINE_PROVIDER_MAX &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* A yescrypt string as crypt_r makes it: "$y$", then only the crypt alphabet and '$'. */
static bool hash_ok(const char *s)
{
        size_t n = strlen(s);

        return n > 3 && n <= OFFLINE_HASH_MAX && strncmp(s, "$y$", 3) == 0 &&
               strspn(s, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$") ==
                       n;
}

int offline_format(const struct offline_verifier *v, char *buf, size_t n)
{
        int w;

        if (v->at <= 0 || !provider_ok(v->provider) || !hash_ok(v->hash))
                return -EINVAL;
        w = snprintf(buf, n, MAGIC "%" PRId64 " %s %s\n", v->at, v->provider, v->hash);
        return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* Copy the field that starts at *p and ends at the next space (or the end) into buf. */
static bool take_field(char **p, char *buf, size_t n)
{
        size_t len = strcspn(*p, " ");

        if (len == 0 || len >= n)
                return false;
        memcpy(buf, *p, len);
        buf[len] = '\0';
        *p += len;
        if (**p == ' ')
                (*p)++;
        return true;
}

int offline_parse(const char *text, size_t len, int64_t now, struct offline_verifier *ret)
{
        char line[OFFLINE_FILE_MAX + 1], num[24], *p, *end;
        struct offline_verifier v = { 0 };
        long long at;

        if (!text || len < sizeof(MAGIC) || len > OFFLINE_FILE_MAX || text[len - 1] != '\n' ||
            memchr(text, '\0', len) || memchr(text, '\n', len) != text + len - 1)
                return -EBADMSG;
        memcpy(line, text, len - 1);
        line[len - 1] = '\0';
        if (strncmp(line, MAGIC, strlen(MAGIC)) != 0)
                return -EBADMSG;
        p = line + strlen(MAGIC);
        if (!take_field(&p, num, sizeof(num)) || strspn(num, "0123456789") != strlen(num) ||
            !take_field(&p, v.provider, sizeof(v.provider)) ||
            !take_field(&p, v.hash, sizeof(v.hash)) || *p != '\0')
                return -EBADMSG;
        errno = 0;
        at = strtoll(num, &end, 10);
        if (errno || *end || at <= 0 || at > now + FUTURE_SLACK_S || !provider_ok(v.provider) ||
            !hash_ok(v.hash))
                return -EBADMSG;
        v.at = at;
        *ret = v;
        return 0;
}

/* ---- hashing -------------------------------------------------------------------------- */

int offline_hash(const char *secret, unsigned long cost, char *ret, size_t n)
{
        char salt[CRYPT_GENSALT_OUTPUT_SIZE];
        struct crypt_data *cd;
        const char *h;
        int r = 0;

        /* NULL random bytes: libxcrypt takes them from getrandom itself. */
        if (!crypt_gensalt_rn("$y$", cost, NULL, 0, salt, sizeof(salt)))
                return errno ? -errno : -EINVAL;
        cd = calloc(1, sizeof(*cd)); /* ~32 KiB: not on a worker's stack */
        if (!cd)
                return -ENOMEM;
        h = crypt_r(secret, salt, cd);
        if (!h || h[0] == '*' || strlen(h) >= n)
                r = h && h[0] != '*' ? -ENAMETOOLONG : -EINVAL;
        else
                strcpy(ret, h);
        apilogin_freezero(cd, sizeof(*cd));
        return r;
}

bool offline_hash_matches(const char *hash, const char *secret)
{
        struct crypt_data *cd = calloc(1, sizeof(*cd));
        const char *h;
        size_t n = strlen(hash);
        unsigned char diff = 0;

        if (!cd)
                return false;
        h = crypt_r(secret, hash, cd);
        if (!h || h[0] == '*' || strlen(h) != n) {
                apilogin_freezero(cd, sizeof(*cd));
                return false;
        }
        for (size_t i = 0; i < n; i++)
                diff |= (unsigned char)(h[i] ^ hash[i]);
        apilogin_freezero(cd, sizeof(*cd));
        return diff == 0;
}

/* ---- the files ------------------------------------------------------------------------ */

static int dir_of(const char *state_dir, char *priv, size_t np, char *dir, size_t nd)
{
        if ((size_t)snprintf(priv, np, "%s/private", state_dir) >= np ||
            (size_t)snprintf(dir, nd, "%s/private/offline", state_dir) >= nd)
                return -ENAMETOOLONG;
        return 0;
}

/* The verifier file of a valid user name. */
static int path_of(const char *state_dir, const char *user, char *path, size_t n)
{
        if (!apilogin_name_valid(user))
                return -EINVAL;
        if ((size_t)snprintf(path, n, "%s/private/offline/%s", state_dir, user) >= n)
                return -ENAMETOOLONG;
        return 0;
}

int offline_save(const char *state_dir, const char *user, const char *provider,
                 const char *secret, int64_t now)
{
        struct offline_verifier v = { .at = now };
        char priv[4096], dir[4096], text[OFFLINE_FILE_MAX + 1];
        int r;

        if (!apilogin_name_valid(user) || !provider || strlen(provider) > OFFLINE_PROVIDER_MAX)
                return -EINVAL;
        strcpy(v.provider, provider);
        r = dir_of(state_dir, priv, sizeof(priv), dir, sizeof(dir));
        r = r ?: offline_hash(secret, OFFLINE_COST, v.hash, sizeof(v.hash));
        r = r ?: offline_format(&v, text, sizeof(text));
        /* Owner: the daemon's (root); (uid_t)-1 keeps it, so unit tests run as anyone. */
        r = r ?: apilogin_mkdir_owned(priv, 0700, (uid_t)-1, (gid_t)-1);
        r = r ?: apilogin_mkdir_owned(dir, 0700, (uid_t)-1, (gid_t)-1);
        r = r ?: apilogin_write_atomic(dir, user, text, strlen(text), 0600, (uid_t)-1,
                                       (gid_t)-1);
        return r;
}

int offline_check(const char *state_dir, const char *user, const char *secret,
                  uint64_t max_age_s, int64_t now, char *ret_provider, size_t n)
{
        char path[4096 + APILOGIN_NAME_MAX + 2];
        struct offline_verifier v;
        char *text = NULL;
        size_t len = 0;
        int r = path_of(state_dir, user, path, sizeof(path));

        if (r < 0)
                return r;
        r = apilogin_read_file(path, OFFLINE_FILE_MAX, &text, &len);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        r = offline_parse(text, len, now, &v);
        free(text);
        if (r < 0)
                return r;
        if (now - v.at > (int64_t)max_age_s)
                return -ESTALE;
        if (!offline_hash_matches(v.hash, secret))
                return -EACCES;
        if (ret_provider)
                snprintf(ret_provider, n, "%s", v.provider);
        return 0;
}

int offline_delete(const char *state_dir, const char *user)
{
        char path[4096 + APILOGIN_NAME_MAX + 2];
        int r = path_of(state_dir, user, path, sizeof(path));

        if (r < 0)
                return r;
        return unlink(path) < 0 && errno != ENOENT ? negative_errno() : 0;
}

/* ---- worker threads ------------------------------------------------------------------- */

struct offline_job {
        struct loop *loop;
        enum offline_op op;
        char *state_dir, *user, *provider, *secret;
        uint64_t max_age_s;
        int64_t now;
        offline_done_fn fn;           /* NULL once cancelled */
        void *userdata;
        int pipe[2];                  /* the thread writes one byte when done */
        pthread_t thread;
        int r;                        /* written by the thread before its byte */
        char found[OFFLINE_PROVIDER_MAX + 1];
};

static void job_free(struct offline_job *j)
{
        free(j->state_dir);
        free(j->user);
        free(j->provider);
        apilogin_erase_free(j->secret);
        if (j->pipe[0] >= 0)
                close(j->pipe[0]);
        if (j->pipe[1] >= 0)
                close(j->pipe[1]);
        free(j);
}

static void *job_main(void *arg)
{
        struct offline_job *j = arg;
        char c = 1;

        if (j->op == OFFLINE_OP_SAVE)
                j->r = offline_save(j->state_dir, j->user, j->provider, j->secret, j->now);
        else
                j->r = offline_check(j->state_dir, j->user, j->secret, j->max_age_s, j->now,
                                     j->found, sizeof(j->found));
        while (write(j->pipe[1], &c, 1) < 0 && errno == EINTR)
                ;
        return NULL;
}

/* On the loop: the thread has written its byte, so it has finished with j but for
 * returning; join it (at once), then report. */
static void job_done(void *userdata, int fd, short revents)
{
        struct offline_job *j = userdata;
        char c;

        (void)revents;
        (void)!read(fd, &c, 1);
        loop_remove_io(j->loop, fd);
        pthread_join(j->thread, NULL);
        apilogin_erase_free(TAKE_PTR(j->secret));
        if (j->fn)
                j->fn(j->userdata, j->r, j->found);
        job_free(j);
}

static int job_new(const char *state_dir, const char *user, const char *provider,
                   const char *secret, struct offline_job **ret)
{
        struct offline_job *j = calloc(1, sizeof(*j));

        if (!j)
                return -ENOMEM;
        j->pipe[0] = j->pipe[1] = -1;
        j->state_dir = strdup(state_dir);
        j->user = strdup(user);
        j->provider = strdup(provider ? provider : "");
        j->secret = strdup(secret ? secret : "");
        if (!j->state_dir || !j->user || !j->provider || !j->secret) {
                job_free(j);
                return -ENOMEM;
        }
        if (pipe2(j->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                int r = negative_errno();

                job_free(j);
                return r;
        }
        *ret = j;
        return 0;
}

int offline_job_start(struct loop *loop, enum offline_op op, const char *state_dir,
                      const char *user, const char *provider, const char *secret,
                      uint64_t max_age_s, offline_done_fn fn, void *userdata,
                      struct offline_job **ret)
{
        struct offline_job *j;
        int r = job_new(state_dir, user, provider, secret, &j);

        if (r < 0)
                return r;
        *j = (struct offline_job){ .loop = loop, .op = op, .state_dir = j->state_dir,
                                   .user = j->user, .provider = j->provider,
                                   .secret = j->secret, .max_age_s = max_age_s,
                                   .now = (int64_t)time(NULL), .fn = fn, .userdata = userdata,
                                   .pipe = { j->pipe[0], j->pipe[1] } };
        r = loop_add_io(loop, j->pipe[0], POLLIN, job_done, j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        r = -pthread_create(&j->thread, NULL, job_main, j);
        if (r < 0) {
                loop_remove_io(loop, j->pipe[0]);
                job_free(j);
                return r;
        }
        if (ret)
                *ret = j;
        return 0;
}

void offline_job_cancel(struct offline_job *j)
{
        if (j)
                j->fn = NULL;
}
