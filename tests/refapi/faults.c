/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* faults.c: the per-path fault table and the HTTP side of fault injection (faults.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faults.h"
#include "stall.h"
#include "stats.h"

#define FAULTS_MAX 64
#define FAULT_PATH_MAX 128
#define OVERSIZED_LEN (1024 * 1024)

struct fault {
        char path[FAULT_PATH_MAX];
        enum fault_mode mode;
        char location[FAULT_LOCATION_MAX];     /* FAULT_REDIRECT only */
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct fault table[FAULTS_MAX];
static int nfaults;

static const char *const mode_names[] = {
        [FAULT_NONE] = "none", [FAULT_STALL] = "stall", [FAULT_500] = "500",
        [FAULT_GARBAGE] = "garbage", [FAULT_OVERSIZED] = "oversized", [FAULT_CLOSE] = "close",
        [FAULT_REDIRECT] = "redirect",
};

#define REDIRECT_PREFIX "redirect:"

/* The URL of a "redirect:<URL>" spec, or NULL when s is not one or the URL is unusable
 * (it goes into a header line: printable ASCII without blanks only). */
static const char *redirect_url(const char *s)
{
        size_t n = sizeof(REDIRECT_PREFIX) - 1, len;

        if (!s || strncmp(s, REDIRECT_PREFIX, n) != 0)
                return NULL;
        s += n;
        len = strlen(s);
        if (len == 0 || len >= FAULT_LOCATION_MAX)
                return NULL;
        for (size_t i = 0; i < len; i++)
                if (s[i] <= ' ' || s[i] > '~')
                        return NULL;
        return s;
}

int fault_parse(const char *s, enum fault_mode *ret)
{
        if (redirect_url(s)) {
                *ret = FAULT_REDIRECT;
                return 0;
        }
        for (size_t i = 0; s && i < FAULT_REDIRECT; i++)
                if (strcmp(s, mode_names[i]) == 0) {
                        *ret = (enum fault_mode)i;
                        return 0;
                }
        return -EINVAL;
}

const char *fault_name(enum fault_mode m)
{
        return mode_names[m];
}

static int find(const char *path)
{
        for (int i = 0; i < nfaults; i++)
                if (strcmp(table[i].path, path) == 0)
                        return i;
        return -1;
}

int faults_set(const char *path, const char *spec)
{
        const char *loc = redirect_url(spec);
        enum fault_mode m;
        int i, r = 0;

        if (!path || strlen(path) >= FAULT_PATH_MAX || fault_parse(spec, &m) < 0)
                return -EINVAL;
        pthread_rwlock_wrlock(&lock);
        i = find(path);
        if (m == FAULT_NONE) {
                if (i >= 0)
                        table[i] = table[--nfaults];
        } else if (i >= 0 || (i = nfaults) < FAULTS_MAX) {
                if (i == nfaults)
                        nfaults++;
                snprintf(table[i].path, FAULT_PATH_MAX, "%s", path);
                snprintf(table[i].location, FAULT_LOCATION_MAX, "%s", loc ? loc : "");
                table[i].mode = m;
        } else {
                r = -ENOSPC;
        }
        pthread_rwlock_unlock(&lock);
        return r;
}

enum fault_mode faults_get(const char *path)
{
        enum fault_mode m = FAULT_NONE;
        int i;

        pthread_rwlock_rdlock(&lock);
        if (nfaults > 0 && (i = find(path)) >= 0)
                m = table[i].mode;
        pthread_rwlock_unlock(&lock);
        return m;
}

void faults_location(const char *path, char *buf, size_t size)
{
        int i;

        buf[0] = '\0';
        pthread_rwlock_rdlock(&lock);
        if (nfaults > 0 && (i = find(path)) >= 0)
                snprintf(buf, size, "%s", table[i].location);
        pthread_rwlock_unlock(&lock);
}

char *faults_json(void)
{
        cJSON *root = cJSON_CreateObject(), *f = cJSON_AddObjectToObject(root, "faults");
        char spec[sizeof(REDIRECT_PREFIX) + FAULT_LOCATION_MAX];
        char *s;

        pthread_rwlock_rdlock(&lock);
        for (int i = 0; f && i < nfaults; i++) {
                if (table[i].mode == FAULT_REDIRECT)
                        snprintf(spec, sizeof(spec), REDIRECT_PREFIX "%s", table[i].location);
                else
                        snprintf(spec, sizeof(spec), "%s", fault_name(table[i].mode));
                cJSON_AddStringToObject(f, table[i].path, spec);
        }
        pthread_rwlock_unlock(&lock);
        s = f ? cJSON_PrintUnformatted(root) : NULL;
        cJSON_Delete(root);
        return s;
}

static char *oversized;

static void oversized_init(void)
{
        static const char head[] = "{\"token\":\"", tail[] = "\",\"refresh_token\":\"x\"}";

        oversized = malloc(OVERSIZED_LEN + 1);
        if (!oversized)
                return;
        memset(oversized, 'a', OVERSIZED_LEN);
        memcpy(oversized, head, sizeof(head) - 1);
        memcpy(oversized + OVERSIZED_LEN - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
        oversized[OVERSIZED_LEN] = '\0';
}

const char *fault_oversized_body(size_t *ret_len)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        pthread_once(&once, oversized_init);
        *ret_len = oversized ? OVERSIZED_LEN : 0;
        return oversized ? oversized : "";
}

static enum fault_action apply_reply(struct rq *rq, enum fault_mode m)
{
        size_t len;

        switch (m) {
        case FAULT_500:
                rq_reply_text(rq, 500, "Internal Server Error (refapi fault)\n");
                stat_inc(ST_fault_500);
                return FA_REPLY;
        case FAULT_GARBAGE:
                rq_reply_text(rq, 200, "<html>refapi garbage {\"not\": json");
                rq->ctype = "application/json";
                stat_inc(ST_fault_garbage);
                return FA_REPLY;
        default:
                rq_reply_buf(rq, 200, "application/json", NULL, 0);
                (void)fault_oversized_body(&len);      /* builds it on first use */
                rq->reply = oversized;
                rq->reply_len = len;
                rq->reply_static = true;
                stat_inc(ST_fault_oversized);
                return FA_REPLY;
        }
}

/* 307 keeps the method and body: a client that followed it would post the password
 * again, to wherever Location points.  That is what the redirect tests want to see not
 * happen. */
static enum fault_action apply_redirect(struct rq *rq)
{
        char loc[FAULT_LOCATION_MAX];

        faults_location(rq->path, loc, sizeof(loc));
        rq_reply_text(rq, 307, "Temporary Redirect (refapi fault)\n");
        rq_add_header(rq, "Location", "%s", loc);
        stat_inc(ST_fault_redirect);
        return FA_REPLY;
}

enum fault_action fault_apply(struct rq *rq, enum fault_mode m)
{
        if (m == FAULT_NONE)
                return FA_PASS;
        stat_inc(ST_faulted);
        if (m == FAULT_CLOSE) {
                stat_inc(ST_fault_close);
                return FA_CLOSE;
        }
        if (m == FAULT_STALL) {
                stat_inc(ST_fault_stall);
                return stall_add(rq->conn) == 0 ? FA_SUSPEND : FA_CLOSE;
        }
        if (m == FAULT_REDIRECT)
                return apply_redirect(rq);
        return apply_reply(rq, m);
}

void faults_free(void)
{
        free(oversized);
        oversized = NULL;
}
