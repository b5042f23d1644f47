/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics.c: counters since start, providers' reachability and the Prometheus text file
 * (see metrics.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "metrics.h"

#define LOCAL_NAME "-" /* the "provider" of logins decided before any API was asked */

/* Upper bounds (seconds) of the login latency histogram; +Inf is implied. */
static const double buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60 };

struct metrics {
        int64_t started_at;
        struct metrics_provider prov[METRICS_PROVIDERS_MAX + 1]; /* last: "other" */
        size_t n_prov;
        char codes[METRICS_CODES_MAX][METRICS_CODE_LEN + 1];
        size_t n_codes;
        uint64_t hist[ELEMENTSOF(buckets) + 1]; /* per bucket (not cumulative); last: +Inf */
        uint64_t hist_count;
        double hist_sum;
};

/* ---- hooks ----------------------------------------------------------------------------- */

static struct metrics_provider *prov_get(struct metrics *m, const char *name)
{
        struct metrics_provider *p;

        if (!name)
                name = LOCAL_NAME;
        for (size_t i = 0; i < m->n_prov; i++)
                if (strcmp(m->prov[i].name, name) == 0)
                        return &m->prov[i];
        if (m->n_prov >= METRICS_PROVIDERS_MAX || strlen(name) > METRICS_NAME_LEN)
                return &m->prov[METRICS_PROVIDERS_MAX]; /* "other" */
        p = &m->prov[m->n_prov++];
        *p = (struct metrics_provider){ .up = -1 };
        snprintf(p->name, sizeof(p->name), "%s", name);
        return p;
}

void metrics_login(struct metrics *m, const char *provider, enum apilogin_outcome o,
                   uint64_t elapsed_ms, bool offline)
{
        struct metrics_provider *p;
        double s = (double)elapsed_ms / 1000.0;
        size_t b = 0;

        if (!m)
                return;
        p = prov_get(m, provider);
        if ((unsigned)o < _APILOGIN_OUTCOME_MAX)
                p->logins[o]++;
        if (offline)
                p->offline_logins++;
        while (b < ELEMENTSOF(buckets) && s > buckets[b])
                b++;
        m->hist[b]++;
        m->hist_count++;
        m->hist_sum += s;
}

/* The index of an API error code, sanitised; METRICS_CODES_MAX ("other") once the table is
 * full. */
static size_t code_index(struct metrics *m, const char *code, long status)
{
        char c[METRICS_CODE_LEN + 1];
        size_t n = 0;

        if (code && code[0]) {
                for (; code[n] && n < METRICS_CODE_LEN; n++) {
                        char x = code[n];
                        bool ok = (x >= 'a' && x <= 'z') || (x >= 'A' && x <= 'Z') ||
                                  (x >= '0' && x <= '9') || x == '_' || x == '.' || x == '-';

                        c[n] = ok ? x : '_';
                }
                c[n] = '\0';
        } else {
                snprintf(c, sizeof(c), "http_%ld", status >= 0 && status < 1000 ? status : 0);
        }
        for (size_t i = 0; i < m->n_codes; i++)
                if (strcmp(m->codes[i], c) == 0)
                        return i;
        if (m->n_codes >= METRICS_CODES_MAX)
                return METRICS_CODES_MAX;
        memcpy(m->codes[m->n_codes], c, sizeof(c));
        return m->n_codes++;
}

void metrics_api_error(struct metrics *m, const char *provider, const char *code, long status)
{
        if (m)
                prov_get(m, provider)->api_errors[code_index(m, code, status)]++;
}

void metrics_provider_seen(struct metrics *m, const char *provider, bool up, const char *why)
{
        struct metrics_provider *p;

        if (!m || !provider)
                return;
        p = prov_get(m, provider);
        p->up = up;
        if (up) {
                p->last_ok = time(NULL);
        } else {
                p->last_err = time(NULL);
                snprintf(p->last_error, sizeof(p->last_error), "%s", why ? why : "");
        }
}

/* ---- reading ---------------------------------------------------------------------------- */

int64_t metrics_started_at(const struct metrics *m)
{
        return m ? m->started_at : 0;
}

uint64_t metrics_logins_total(const struct metrics *m, enum apilogin_outcome o)
{
        uint64_t n = 0;

        if (!m || (unsigned)o >= _APILOGIN_OUTCOME_MAX)
                return 0;
        for (size_t i = 0; i <= METRICS_PROVIDERS_MAX; i++)
                n += m->prov[i].logins[o];
        return n;
}

uint64_t metrics_offline_logins_total(const struct metrics *m)
{
        uint64_t n = 0;

        for (size_t i = 0; m && i <= METRICS_PROVIDERS_MAX; i++)
                n += m->prov[i].offline_logins;
        return n;
}

const struct metrics_provider *metrics_provider_find(const struct metrics *m, const char *name)
{
        for (size_t i = 0; m && name && i < m->n_prov; i++)
                if (strcmp(m->prov[i].name, name) == 0)
                        return &m->prov[i];
        return NULL;
}

/* ---- the text format -------------------------------------------------------------------- */

/* A label value as the text format wants it: \, " and newline escaped. Provider names are
 * config words and codes are sanitised, so this is a second fence, not the first. */
static void put_label(FILE *f, const char *s)
{
        for (; *s; s++) {
                if (*s == '\\' || *s == '"')
                        fputc('\\', f);
                if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Each tracked provider, then "other" when anything landed there. */
#define FOR_PROV(m, p)                                                                  \
        for (const struct metrics_provider *p = &(m)->prov[0];                          \
             p <= &(m)->prov[METRICS_PROVIDERS_MAX]; p++)                               \
                if (p < &(m)->prov[(m)->n_prov] || p == &(m)->prov[METRICS_PROVIDERS_MAX])

static const char *prov_label(const struct metrics *m, const struct metrics_provider *p)
{
        return p == &m->prov[METRICS_PROVIDERS_MAX] ? "other" : p->name;
}

static void render_logins(const struct metrics *m, FILE *f)
{
        head(f, "apilogin_logins_total", "counter",
             "Logins answered, by provider (- = decided locally) and outcome.");
        FOR_PROV(m, p) {
                for (int o = 0; o < _APILOGIN_OUTCOME_MAX; o++) {
                        if (o == APILOGIN_IGNORE || (!p->logins[o] && p == &m->prov[METRICS_PROVIDERS_MAX]))
                                continue;
                        fputs("apilogin_logins_total{provider=\"", f);
                        put_label(f, prov_label(m, p));
                        fprintf(f, "\",outcome=\"%s\"} %llu\n", apilogin_outcome_name(o),
                                (unsigned long long)p->logins[o]);
                }
        }
        head(f, "apilogin_offline_logins_total", "counter",
             "Logins answered by an offline verifier, by provider.");
        FOR_PROV(m, p) {
                if (p == &m->prov[METRICS_PROVIDERS_MAX] && !p->offline_logins)
                        continue;
                fputs("apilogin_offline_logins_total{provider=\"", f);
                put_label(f, prov_label(m, p));
                fprintf(f, "\"} %llu\n", (unsigned long long)p->offline_logins);
        }
}

static void render_histogram(const struct metrics *m, FILE *f)
{
        uint64_t cum = 0;

        head(f, "apilogin_login_duration_seconds", "histogram",
             "Time from a login request to its answer.");
        for (size_t b = 0; b < ELEMENTSOF(buckets); b++) {
                cum += m->hist[b];
                fprintf(f, "apilogin_login_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[b],
                        (unsigned long long)cum);
        }
        cum += m->hist[ELEMENTSOF(buckets)];
        fprintf(f, "apilogin_login_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                   "apilogin_login_duration_seconds_sum %.3f\n"
                   "apilogin_login_duration_seconds_count %llu\n",
                (unsigned long long)cum, m->hist_sum, (unsigned long long)m->hist_count);
}

static void render_errors(const struct metrics *m, FILE *f)
{
        head(f, "apilogin_api_errors_total", "counter",
             "Error answers from login APIs, by provider and the API's own code (else http_STATUS).");
        FOR_PROV(m, p) {
                for (size_t c = 0; c <= METRICS_CODES_MAX; c++) {
                        if (!p->api_errors[c])
                                continue;
                        fputs("apilogin_api_errors_total{provider=\"", f);
                        put_label(f, prov_label(m, p));
                        fputs("\",code=\"", f);
                        put_label(f, c < METRICS_CODES_MAX ? m->codes[c] : "other");
                        fprintf(f, "\"} %llu\n", (unsigned long long)p->api_errors[c]);
                }
        }
}

static void render_providers(const struct metrics *m, FILE *f)
{
        head(f, "apilogin_provider_up", "gauge",
             "1 when the provider's last request got an answer, 0 when it was unreachable "
             "(absent until the first request).");
        for (size_t i = 0; i < m->n_prov; i++) {
                if (m->prov[i].up < 0)
                        continue;
                fputs("apilogin_provider_up{provider=\"", f);
                put_label(f, m->prov[i].name);
                fprintf(f, "\"} %d\n", m->prov[i].up);
        }
        head(f, "apilogin_provider_last_success_timestamp_seconds", "gauge",
             "When the provider last answered.");
        for (size_t i = 0; i < m->n_prov; i++) {
                if (!m->prov[i].last_ok)
                        continue;
                fputs("apilogin_provider_last_success_timestamp_seconds{provider=\"", f);
                put_label(f, m->prov[i].name);
                fprintf(f, "\"} %lld\n", (long long)m->prov[i].last_ok);
        }
}

static void gauge(FILE *f, const char *name, const char *type, const char *help,
                  unsigned long long v)
{
        head(f, name, type, help);
        fprintf(f, "%s %llu\n", name, v);
}

static void render_state(const struct metrics *m, const struct metrics_gauges *g, FILE *f)
{
        gauge(f, "apilogin_refreshes_total", "counter",
              "Successful token renewals (refresh, keep-alive, re-login).", g->renewed);
        gauge(f, "apilogin_refresh_failures_total", "counter",
              "Failed token renewal attempts (each backoff step counts).", g->renew_failed);
        gauge(f, "apilogin_tokens_expired_total", "counter",
              "Tokens given up as expired.", g->expired);
        gauge(f, "apilogin_sessions", "gauge", "Live sessions.", g->sessions);
        gauge(f, "apilogin_session_users", "gauge", "Users with live sessions.", g->session_users);
        gauge(f, "apilogin_offline_session_users", "gauge",
              "Users whose sessions are offline (no token yet).", g->offline_users);
        gauge(f, "apilogin_pending_logins", "gauge",
              "Logins authenticated whose session is not open yet.", g->pending);
        gauge(f, "apilogin_users", "gauge", "Remote users in the NSS cache.", g->users);
        gauge(f, "apilogin_start_time_seconds", "gauge", "When apilogind started.",
              (unsigned long long)m->started_at);
}

int metrics_render(const struct metrics *m, const struct metrics_gauges *g, FILE *f)
{
        render_logins(m, f);
        render_histogram(m, f);
        render_errors(m, f);
        render_providers(m, f);
        render_state(m, g, f);
        return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

/* ---- lifetime ----------------------------------------------------------------------------- */

struct metrics *metrics_new(void)
{
        struct metrics *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        m->started_at = time(NULL);
        m->prov[METRICS_PROVIDERS_MAX].up = -1;
        return m;
}

struct metrics *metrics_free(struct metrics *m)
{
        free(m);
        return NULL;
}
