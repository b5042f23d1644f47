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
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct fault table[FAULTS_MAX];
static int nfaults;

static const char *const mode_names[] = {
        [FAULT_NONE] = "none", [FAULT_STALL] = "stall", [FAULT_500] = "500",
        [FAULT_GARBAGE] = "garbage", [FAULT_OVERSIZED] = "oversized", [FAULT_CLOSE] = "close",
};

int fault_parse(const char *s, enum fault_mode *ret)
{
        for (size_t i = 0; s && i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
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

int faults_set(const char *path, enum fault_mode m)
{
        int i, r = 0;

        if (!path || strlen(path) >= FAULT_PATH_MAX)
                return -EINVAL;
        pthread_rwlock_wrlock(&lock);
        i = find(path);
        if (m == FAULT_NONE) {
                if (i >= 0)
                        table[i] = table[--nfaults];
        } else if (i >= 0) {
                table[i].mode = m;
        } else if (nfaults < FAULTS_MAX) {
                snprintf(table[nfaults].path, FAULT_PATH_MAX, "%s", path);
                table[nfaults++].mode = m;
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

char *faults_json(void)
{
        cJSON *root = cJSON_CreateObject(), *f = cJSON_AddObjectToObject(root, "faults");
        char *s;

        pthread_rwlock_rdlock(&lock);
        for (int i = 0; f && i < nfaults; i++)
                cJSON_AddStringToObject(f, table[i].path, fault_name(table[i].mode));
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
        return apply_reply(rq, m);
}

void faults_free(void)
{
        free(oversized);
        oversized = NULL;
}
