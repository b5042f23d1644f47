/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tokenfile.c: token files for the session (token, token.json) and the session records
 * that let a restarted apilogind carry on (see tokenfile.h). JSON is built and read with
 * cJSON; every tree and text that held a token is wiped before it is freed. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/fsutil.h"
#include "macro.h"
#include "names.h"
#include "proto.h"
#include "secure.h"
#include "tokenfile.h"
#include "uidhash.h"

#define RECORD_MAX (256 * 1024)
#define FIELD_MAX 4096
#define MAX_SESSIONS_PER_USER 4096

static void json_freep(cJSON **j)
{
        apilogin_json_delete_wipe(*j);
}
#define _cleanup_json_ _cleanup_(json_freep)

void token_clear(struct apilogin_token *t)
{
        if (!t)
                return;
        apilogin_erase_free(t->token);
        apilogin_erase_free(t->refresh);
        free(t->provider);
        free(t->endpoint);
        free(t->role);
        for (size_t i = 0; i < APILOGIN_EXTRA_MAX; i++) {
                free(t->extra[i].key);
                apilogin_erase_free(t->extra[i].value);
        }
        *t = (struct apilogin_token){ 0 };
}

int token_from_result(struct apilogin_token *t, struct apilogin_result *res,
                      const char *provider, const char *endpoint)
{
        if (!res->token || !res->token[0])
                return -EINVAL;
        t->provider = strdup(provider);
        t->endpoint = strdup(endpoint);
        if (!t->provider || !t->endpoint) {
                token_clear(t);
                return -ENOMEM;
        }
        t->token = TAKE_PTR(res->token);
        t->refresh = TAKE_PTR(res->refresh);
        t->role = TAKE_PTR(res->role);
        t->expires_at = res->expires_at;
        t->issued_ms = token_now_ms();
        for (size_t i = 0; i < APILOGIN_EXTRA_MAX; i++) {
                t->extra[i].key = TAKE_PTR(res->extra[i].key);
                t->extra[i].value = TAKE_PTR(res->extra[i].value);
        }
        return 0;
}

int64_t token_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void session_clear(struct apilogin_session *s)
{
        free(s->service);
        free(s->tty);
        free(s->rhost);
        *s = (struct apilogin_session){ 0 };
}

void user_state_free(struct user_state *u)
{
        if (!u)
                return;
        token_clear(&u->tok);
        for (size_t i = 0; i < u->n_sess; i++)
                session_clear(&u->sess[i]);
        free(u->sess);
        free(u->name);
        free(u);
}

/* ---- whole-file writes ------------------------------------------------------------------ */

/* Whether fsync means anything for files under run_dir: not on tmpfs or ramfs (/run),
 * whose files die with the machine anyway; a killed daemon never needs it, since the page
 * cache outlives the process. Asked once per run_dir (the daemon has one). */
static bool wants_sync(const char *run_dir)
{
        static char cached[4096];
        static bool sync = true;
        struct statfs sf;

        if (cached[0] && strcmp(cached, run_dir) == 0)
                return sync;
        sync = !(statfs(run_dir, &sf) == 0 &&
                 (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC));
        snprintf(cached, sizeof(cached), "%s", run_dir);
        return sync;
}

static int write_all(int fd, const char *p, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Replace dfd/name with len bytes of data, as apilogin_write_atomic does: a new temp file
 * beside it (O_EXCL, never through a symlink), owned by uid:gid (uid -1: root), renamed
 * over name, so a reader sees the old file or the new one, whole. Leaner, for the files
 * rewritten at every renewal: the caller opens the directory once for several files, and
 * fsync only with sync. Every file here is 0600: created so (the daemon's umask 077 keeps
 * owner bits), so no fchmod. On failure the temp file is removed, the old file untouched. */
static int write_at(int dfd, const char *name, const char *data, size_t len, uid_t uid,
                    gid_t gid, bool sync)
{
        char tmp[APILOGIN_NAME_MAX + 32];
        int fd = -1, r = 0;

        for (int i = 0; i < 100 && fd < 0; i++) {
                snprintf(tmp, sizeof(tmp), ".%s.%08lx", name, (unsigned long)random());
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0 && errno != EEXIST)
                        return negative_errno();
        }
        if (fd < 0)
                return -EEXIST;
        if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
                r = negative_errno();
        r = r ?: write_all(fd, data, len);
        if (r == 0 && sync && fsync(fd) < 0)
                r = negative_errno();
        if (close(fd) < 0 && r == 0)
                r = negative_errno();
        if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
                r = negative_errno();
        if (r < 0) {
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        return sync && fsync(dfd) < 0 ? negative_errno() : 0;
}

static int open_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        return fd < 0 ? negative_errno() : fd;
}

static int open_dir_at(int dfd, const char *name)
{
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        return fd < 0 ? negative_errno() : fd;
}

/* The two directories every renewal writes into (RUN_DIR/sessions, RUN_DIR/users) stay
 * open: walking their path from / again for each file costs as much as writing it. A
 * cached fd of a directory removed meanwhile makes the write fail with ENOENT; the
 * caller then forgets it and tries once more with the path (with_dir). */
struct dir_cache {
        char path[4096];
        int fd;
};

static struct dir_cache sessions_dc = { .fd = -1 }, users_dc = { .fd = -1 };

static void dir_forget(struct dir_cache *c)
{
        if (c->fd >= 0)
                (void)close(c->fd);
        c->fd = -1;
        c->path[0] = '\0';
}

/* The open fd of path (borrowed: the cache keeps it), or -errno. */
static int dir_get(struct dir_cache *c, const char *path)
{
        if (c->fd >= 0 && strcmp(c->path, path) == 0)
                return c->fd;
        dir_forget(c);
        if (strlen(path) >= sizeof(c->path))
                return -ENAMETOOLONG;
        c->fd = open_dir(path);
        if (c->fd < 0)
                return c->fd;
        strcpy(c->path, path);
        return c->fd;
}

/* ---- token files ---------------------------------------------------------------------- */

static int path_join(char *buf, size_t n, const char *a, const char *b)
{
        return (size_t)snprintf(buf, n, "%s/%s", a, b) < n ? 0 : -ENAMETOOLONG;
}

static int uid_dir(const struct apilogin_config *cfg, uint32_t uid, char *buf, size_t n)
{
        return (size_t)snprintf(buf, n, "%s/users/%u", cfg->run_dir, uid) < n ? 0
                                                                              : -ENAMETOOLONG;
}

/* RFC 3339 UTC time, or NULL for 0 (unknown). */
static const char *rfc3339(int64_t t, char *buf, size_t n)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return NULL;
        return buf;
}

static bool is_reserved_key(const char *k)
{
        static const char *const reserved[] = { "user", "uid", "provider", "token",
                                                "expires_at", "expires", "role", "state",
                                                "offline" };

        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (strcmp(k, reserved[i]) == 0)
                        return true;
        return false;
}

/* An integer member. cJSON prints numbers with "%1.15g" and then parses them back to
 * check (and with "%1.17g" when they differ): that costs more than the rest of a record.
 * Integers below 10^15 (times in ms, pids, uids) print the same either way. */
static bool add_int(cJSON *o, const char *key, int64_t v)
{
        char buf[24];

        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return cJSON_AddRawToObject(o, key, buf) != NULL;
}

/* The text of o, in a buffer to free with apilogin_erase_free. apilogin_json_print_wipe
 * starts at 256 bytes and prints again into a buffer twice as big until the text fits; a
 * session record is 600 bytes or more, token.json 300: start bigger. */
static char *print_wipe(cJSON *o)
{
        size_t n = 2048;
        char *out = malloc(n);

        /* The tree's strings are wiped when it is freed (_cleanup_json_). */
        if (out && cJSON_PrintPreallocated(o, out, (int)n, false))
                return out;
        out = apilogin_freezero(out, n);
        return apilogin_json_print_wipe(o);
}

/* Add a string, or null for NULL. false on ENOMEM. */
static bool add_str(cJSON *o, const char *key, const char *v)
{
        return v ? cJSON_AddStringToObject(o, key, v) != NULL
                 : cJSON_AddNullToObject(o, key) != NULL;
}

/* The token.json text (a secret: free with apilogin_erase_free), NULL on ENOMEM. */
static char *token_json(const struct user_state *u)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        const struct apilogin_token *t = &u->tok;
        char when[64];
        bool ok;

        ok = o && add_str(o, "user", u->name) &&
             add_int(o, "uid", u->uid) &&
             add_str(o, "provider", t->provider) && add_str(o, "token", t->token) &&
             add_int(o, "expires_at", t->expires_at > 0 ? t->expires_at : 0) &&
             add_str(o, "expires", rfc3339(t->expires_at, when, sizeof(when))) &&
             add_str(o, "role", t->role) &&
             add_str(o, "state", t->expired ? "expired" : "valid") &&
             cJSON_AddBoolToObject(o, "offline", u->offline && !u->has_token);
        for (size_t i = 0; ok && i < APILOGIN_EXTRA_MAX; i++) {
                const struct apilogin_pair *p = &t->extra[i];

                if (p->key && p->value && !is_reserved_key(p->key))
                        ok = add_str(o, p->key, p->value);
        }
        return ok ? print_wipe(o) : NULL;
}

/* token, then token.json, into u's existing directory (RUN_DIR/users/UID). */
static int write_token_files(const struct apilogin_config *cfg, const struct user_state *u)
{
        gid_t gid = apilogin_uid_hash(cfg->group ? cfg->group : "apilogin-users", cfg->uid_min,
                                      cfg->uid_max, 0);
        _cleanup_erase_free_ char *json = token_json(u);
        _cleanup_close_ int dfd = -1;
        bool sync = wants_sync(cfg->run_dir);
        char users[4096], name[16];
        int r, ufd;

        r = path_join(users, sizeof(users), cfg->run_dir, "users");
        if (r < 0)
                return r;
        snprintf(name, sizeof(name), "%u", u->uid);
        ufd = dir_get(&users_dc, users);
        dfd = ufd < 0 ? ufd : open_dir_at(ufd, name);
        if (dfd == -ENOENT) {
                /* The cached directory may have been removed and made again. */
                dir_forget(&users_dc);
                ufd = dir_get(&users_dc, users);
                dfd = ufd < 0 ? ufd : open_dir_at(ufd, name);
        }
        if (dfd < 0)
                return dfd;
        if (!json)
                return -ENOMEM;
        /* An offline session has no token yet: an empty file, so the path exists. */
        r = write_at(dfd, "token", u->tok.token ? u->tok.token : "",
                     u->tok.token ? strlen(u->tok.token) : 0, u->uid, gid, sync);
        return r ?: write_at(dfd, "token.json", json, strlen(json), u->uid, gid, sync);
}

/* Whether u has token files: a token, or an offline session waiting for one. */
static bool has_files(const struct user_state *u)
{
        return (u->has_token && u->tok.token) || (u->offline && !u->has_token);
}

int tokenfile_write(const struct apilogin_config *cfg, const struct user_state *u,
                    char *ret_path, size_t pathsz)
{
        char users[4096], dir[4096], path[4096];
        int r;

        if (!has_files(u))
                return -EINVAL;
        r = path_join(users, sizeof(users), cfg->run_dir, "users");
        r = r ?: uid_dir(cfg, u->uid, dir, sizeof(dir));
        r = r ?: path_join(path, sizeof(path), dir, "token");
        if (r == 0 && strlen(path) >= pathsz)
                r = -ENAMETOOLONG;
        r = r ?: apilogin_mkdir_owned(users, 0755, (uid_t)-1, (gid_t)-1);
        r = r ?: apilogin_mkdir_owned(dir, 0755, (uid_t)-1, (gid_t)-1);
        r = r ?: write_token_files(cfg, u);
        if (r < 0)
                return r;
        strcpy(ret_path, path);
        return 0;
}

int tokenfile_update(const struct apilogin_config *cfg, const struct user_state *u)
{
        char path[4096];
        int r;

        if (!has_files(u))
                return -EINVAL;
        r = write_token_files(cfg, u);
        return r == -ENOENT ? tokenfile_write(cfg, u, path, sizeof(path)) : r;
}

/* Whether name is a temp file a write (write_at) left behind when the process died
 * between creating and renaming it: "." NAME "." 8 hex digits, NAME one of ours. */
static bool stale_temp(const char *name)
{
        static const char *const ours[] = { "token", "token.json" };
        size_t len = strlen(name);

        if (name[0] != '.' || len < 11 || name[len - 9] != '.' ||
            strspn(name + len - 8, "0123456789abcdef") != 8)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(ours); i++)
                if (len - 10 == strlen(ours[i]) && strncmp(name + 1, ours[i], len - 10) == 0)
                        return true;
        /* session records: ".NAME.json.XXXXXXXX" */
        return len > 15 && strncmp(name + len - 14, ".json", 5) == 0;
}

/* Unlink the stale temp files in dir (a missing dir is fine). */
static int remove_temps(const char *dir)
{
        struct dirent *de;
        DIR *d = opendir(dir);

        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(d)))
                if (stale_temp(de->d_name))
                        (void)unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        return 0;
}

int tokenfile_tidy(const struct apilogin_config *cfg, uint32_t uid)
{
        char dir[4096];
        int r = uid_dir(cfg, uid, dir, sizeof(dir));

        return r < 0 ? r : remove_temps(dir);
}

int tokenfile_remove(const struct apilogin_config *cfg, uint32_t uid)
{
        _cleanup_close_ int dfd = -1;
        char dir[4096];
        DIR *d;
        struct dirent *de;
        int fd2, r;

        r = uid_dir(cfg, uid, dir, sizeof(dir));
        if (r < 0)
                return r;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        /* Only apilogind writes here (root 0755): token, token.json, and temp files a
         * crash may have left. */
        fd2 = dup(dfd);
        d = fd2 >= 0 ? fdopendir(fd2) : NULL;
        if (!d) {
                r = negative_errno();
                if (fd2 >= 0)
                        close(fd2);
                return r;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        (void)unlinkat(dfd, de->d_name, 0);
        closedir(d);
        if (rmdir(dir) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

/* ---- session records ------------------------------------------------------------------ */

static cJSON *token_to_json(const struct apilogin_token *t)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        cJSON *x = NULL;
        bool ok;

        ok = o && add_str(o, "token", t->token) && add_str(o, "refresh", t->refresh) &&
             add_int(o, "expires_at", t->expires_at) && add_int(o, "issued_ms", t->issued_ms) &&
             add_str(o, "state", t->expired ? "expired" : "valid") &&
             add_str(o, "provider", t->provider) && add_str(o, "endpoint", t->endpoint) &&
             add_str(o, "role", t->role) && (x = cJSON_AddObjectToObject(o, "extra"));
        for (size_t i = 0; ok && i < APILOGIN_EXTRA_MAX; i++)
                if (t->extra[i].key && t->extra[i].value)
                        ok = add_str(x, t->extra[i].key, t->extra[i].value);
        return ok ? TAKE_PTR(o) : NULL;
}

static cJSON *session_to_json(const struct apilogin_session *s)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        bool ok;

        ok = o && add_str(o, "id", s->id) && add_str(o, "service", s->service) &&
             add_str(o, "tty", s->tty) && add_str(o, "rhost", s->rhost) &&
             add_int(o, "pid", s->pid) && add_int(o, "pid_start", (int64_t)s->pid_start) &&
             add_int(o, "opened_at", s->opened_at);
        return ok ? TAKE_PTR(o) : NULL;
}

static cJSON *record_to_json(const struct user_state *u)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        cJSON *arr, *t;

        if (!o || !add_str(o, "user", u->name) || !add_int(o, "uid", u->uid))
                return NULL;
        t = u->has_token ? token_to_json(&u->tok) : cJSON_CreateNull();
        if (!t)
                return NULL;
        if (u->offline && !u->has_token &&
            (!cJSON_AddBoolToObject(o, "offline", true) ||
             !add_str(o, "offline_provider", u->tok.provider))) {
                cJSON_Delete(t);
                return NULL;
        }
        cJSON_AddItemToObject(o, "token", t);
        arr = cJSON_AddArrayToObject(o, "sessions");
        if (!arr)
                return NULL;
        for (size_t i = 0; i < u->n_sess; i++) {
                cJSON *s = session_to_json(&u->sess[i]);

                if (!s)
                        return NULL;
                cJSON_AddItemToArray(arr, s);
        }
        return TAKE_PTR(o);
}

static int sessions_dir(const struct apilogin_config *cfg, char *buf, size_t n)
{
        return path_join(buf, n, cfg->run_dir, "sessions");
}

/* The sessions directory's fd (cached), made when missing. */
static int sessions_fd(const char *dir)
{
        int r, dfd = dir_get(&sessions_dc, dir);

        if (dfd != -ENOENT)
                return dfd;
        r = apilogin_mkdir_owned(dir, 0700, (uid_t)-1, (gid_t)-1);
        return r < 0 ? r : dir_get(&sessions_dc, dir);
}

int record_save(const struct apilogin_config *cfg, const struct user_state *u)
{
        _cleanup_json_ cJSON *o = record_to_json(u);
        _cleanup_erase_free_ char *text = NULL;
        char dir[4096], name[APILOGIN_NAME_MAX + 8];
        bool sync = wants_sync(cfg->run_dir);
        int r, dfd;

        if (!o)
                return -ENOMEM;
        text = print_wipe(o);
        if (!text)
                return -ENOMEM;
        r = sessions_dir(cfg, dir, sizeof(dir));
        if (r < 0)
                return r;
        snprintf(name, sizeof(name), "%s.json", u->name);
        dfd = sessions_fd(dir);
        r = dfd < 0 ? dfd : write_at(dfd, name, text, strlen(text), (uid_t)-1, (gid_t)-1, sync);
        if (r == -ENOENT) {
                /* The cached directory may have been removed (and made again). */
                dir_forget(&sessions_dc);
                dfd = sessions_fd(dir);
                r = dfd < 0 ? dfd : write_at(dfd, name, text, strlen(text), (uid_t)-1,
                                             (gid_t)-1, sync);
        }
        return r;
}

int record_delete(const struct apilogin_config *cfg, const char *name)
{
        char dir[4096], path[4096 + APILOGIN_NAME_MAX + 8];
        int r;

        r = sessions_dir(cfg, dir, sizeof(dir));
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/%s.json", dir, name);
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

/* A copy of o[key]: 0 with *ret (NULL when absent or null and !required), -EBADMSG when
 * it has another type or is too long, -ENOMEM. */
static int get_str(const cJSON *o, const char *key, bool required, char **ret)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        *ret = NULL;
        if (!v || cJSON_IsNull(v))
                return required ? -EBADMSG : 0;
        if (!cJSON_IsString(v) || strnlen(v->valuestring, FIELD_MAX + 1) > FIELD_MAX)
                return -EBADMSG;
        *ret = strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

static int get_int(const cJSON *o, const char *key, double min, double max, double *ret)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max)
                return -EBADMSG;
        *ret = v->valuedouble;
        return 0;
}

static int parse_extra(const cJSON *x, struct apilogin_token *t)
{
        size_t n = 0;
        const cJSON *i;

        if (!x || cJSON_IsNull(x))
                return 0;
        if (!cJSON_IsObject(x))
                return -EBADMSG;
        cJSON_ArrayForEach(i, x) {
                if (n >= APILOGIN_EXTRA_MAX || !cJSON_IsString(i) || !i->string)
                        return -EBADMSG;
                t->extra[n].key = strdup(i->string);
                t->extra[n].value = strdup(i->valuestring);
                if (!t->extra[n].key || !t->extra[n].value)
                        return -ENOMEM;
                n++;
        }
        return 0;
}

/* An optional number member: 0 when absent. */
static int get_opt_int(const cJSON *o, const char *key, double max, double *ret)
{
        *ret = 0;
        if (!cJSON_GetObjectItemCaseSensitive(o, key))
                return 0;
        return get_int(o, key, 0, max, ret);
}

/* "state" (optional): "valid" or "expired". */
static int get_state(const cJSON *o, bool *ret_expired)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "state");

        *ret_expired = false;
        if (!v)
                return 0;
        if (!cJSON_IsString(v))
                return -EBADMSG;
        if (strcmp(v->valuestring, "expired") == 0)
                *ret_expired = true;
        else if (strcmp(v->valuestring, "valid") != 0)
                return -EBADMSG;
        return 0;
}

static int parse_token(const cJSON *o, struct apilogin_token *t)
{
        double exp = 0, issued = 0;
        int r;

        if (!cJSON_IsObject(o))
                return -EBADMSG;
        r = get_str(o, "token", true, &t->token);
        r = r ?: get_str(o, "refresh", false, &t->refresh);
        r = r ?: get_int(o, "expires_at", 0, 1e15, &exp);
        r = r ?: get_opt_int(o, "issued_ms", 1e15, &issued);
        r = r ?: get_state(o, &t->expired);
        r = r ?: get_str(o, "provider", true, &t->provider);
        r = r ?: get_str(o, "endpoint", true, &t->endpoint);
        r = r ?: get_str(o, "role", false, &t->role);
        r = r ?: parse_extra(cJSON_GetObjectItemCaseSensitive(o, "extra"), t);
        t->expires_at = (int64_t)exp;
        t->issued_ms = (int64_t)issued;
        return r;
}

static bool session_id_ok(const char *id)
{
        if (strlen(id) != SESSION_ID_LEN)
                return false;
        return strspn(id, "0123456789abcdef") == SESSION_ID_LEN;
}

static int parse_session(const cJSON *o, struct apilogin_session *s)
{
        _cleanup_free_ char *id = NULL;
        double pid = 0, opened = 0, start = 0;
        int r;

        if (!cJSON_IsObject(o))
                return -EBADMSG;
        r = get_str(o, "id", true, &id);
        if (r == 0 && !session_id_ok(id))
                r = -EBADMSG;
        r = r ?: get_str(o, "service", true, &s->service);
        r = r ?: get_str(o, "tty", false, &s->tty);
        r = r ?: get_str(o, "rhost", false, &s->rhost);
        r = r ?: get_int(o, "pid", 0, UINT32_MAX, &pid);
        r = r ?: get_opt_int(o, "pid_start", 1e15, &start);
        r = r ?: get_int(o, "opened_at", 0, 1e15, &opened);
        if (r == 0)
                memcpy(s->id, id, SESSION_ID_LEN + 1);
        s->pid = (uint32_t)pid;
        s->pid_start = (uint64_t)start;
        s->opened_at = (int64_t)opened;
        return r;
}

static int parse_sessions(const cJSON *arr, struct user_state *u)
{
        int n = cJSON_GetArraySize(arr), r;
        const cJSON *i;

        if (!cJSON_IsArray(arr) || n > MAX_SESSIONS_PER_USER)
                return -EBADMSG;
        u->sess = calloc(n > 0 ? (size_t)n : 1, sizeof(*u->sess));
        if (!u->sess)
                return -ENOMEM;
        cJSON_ArrayForEach(i, arr) {
                r = parse_session(i, &u->sess[u->n_sess]);
                u->n_sess++; /* counted even on failure, so user_state_free frees it */
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_record(const cJSON *o, const char *name, struct user_state *u)
{
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "token");
        double uid = 0;
        int r;

        r = get_str(o, "user", true, &u->name);
        if (r == 0 && (strcmp(u->name, name) != 0 || !apilogin_name_valid(u->name)))
                r = -EBADMSG;
        r = r ?: get_int(o, "uid", 1, UINT32_MAX - 1, &uid);
        u->uid = (uint32_t)uid;
        if (r == 0 && t && !cJSON_IsNull(t)) {
                u->has_token = true;
                r = parse_token(t, &u->tok);
        } else if (r == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "offline"))) {
                u->offline = true; /* no token yet: the provider of its verifier */
                r = get_str(o, "offline_provider", true, &u->tok.provider);
        }
        return r ?: parse_sessions(cJSON_GetObjectItemCaseSensitive(o, "sessions"), u);
}

int record_parse(const char *text, size_t len, const char *name, struct user_state **ret)
{
        _cleanup_json_ cJSON *o = cJSON_ParseWithLength(text, len);
        struct user_state *u;
        int r;

        if (!cJSON_IsObject(o))
                return -EBADMSG;
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        r = parse_record(o, name, u);
        if (r < 0) {
                user_state_free(u);
                return r;
        }
        *ret = u;
        return 0;
}

/* "NAME.json" -> NAME in buf; false for anything else (temp files start with '.'). */
static bool record_name(const char *file, char *buf, size_t n)
{
        size_t len = strlen(file);

        if (len <= 5 || len - 5 >= n || strcmp(file + len - 5, ".json") != 0)
                return false;
        memcpy(buf, file, len - 5);
        buf[len - 5] = '\0';
        return apilogin_name_valid(buf);
}

static int load_one(const char *dir, const char *file, struct user_state **ret)
{
        char name[APILOGIN_NAME_MAX + 1], path[8192];
        char *text = NULL;
        size_t len = 0;
        int r;

        if (!record_name(file, name, sizeof(name)))
                return -EBADMSG;
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        r = apilogin_read_file(path, RECORD_MAX, &text, &len);
        if (r < 0)
                return r;
        r = record_parse(text, len, name, ret);
        apilogin_freezero(text, len + 1);
        return r;
}

int record_load_all(const struct apilogin_config *cfg,
                    void (*fn)(void *userdata, struct user_state *u), void *userdata,
                    unsigned *ret_bad)
{
        char dir[4096];
        struct dirent *de;
        DIR *d;
        int r;

        *ret_bad = 0;
        r = sessions_dir(cfg, dir, sizeof(dir));
        if (r < 0)
                return r;
        (void)remove_temps(dir);
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(d))) {
                struct user_state *u = NULL;

                if (de->d_name[0] == '.')
                        continue;
                if (load_one(dir, de->d_name, &u) < 0)
                        (*ret_bad)++;
                else
                        fn(userdata, u);
        }
        closedir(d);
        return 0;
}
