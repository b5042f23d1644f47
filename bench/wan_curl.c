/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wan_curl.c: the in-process baseline of bench/wan.sh: what a PAM module that links
 * libcurl itself does (pam_url, pam-oauth2 style): a fresh easy handle per login, so every
 * login pays DNS, TCP, the TLS handshake and the request. Prints p50/p99 of one login.
 *
 *   wan_curl URL CONTENT-TYPE BODY CA_FILE ITERATIONS
 *
 * WAN_HEADER in the environment, when set and not empty, is one more request header (the
 * OAuth 2.0 client's "Authorization: Basic ..." for oauth2_password).
 *
 * A login counts as done when the server answered 200 (the answer is not parsed: that
 * costs microseconds next to the round trips measured here). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t discard(char *p, size_t s, size_t n, void *u)
{
        (void)p;
        (void)u;
        return s * n;
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static int login(const char *url, struct curl_slist *hdr, const char *body, const char *ca)
{
        CURL *h = curl_easy_init();
        long code = 0;
        CURLcode rc;

        if (!h)
                return -1;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        rc = curl_easy_perform(h);
        if (rc == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(h);
        return rc == CURLE_OK && code == 200 ? 0 : -1;
}

int main(int argc, char **argv)
{
        struct curl_slist *hdr = NULL;
        char ctype[256];
        double *lat;
        int n, fails = 0;

        if (argc != 6 || (n = atoi(argv[5])) < 1)
                return 2;
        lat = calloc((size_t)n, sizeof(*lat));
        if (!lat || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", argv[2]);
        hdr = curl_slist_append(hdr, ctype);
        if (getenv("WAN_HEADER") && *getenv("WAN_HEADER"))
                hdr = curl_slist_append(hdr, getenv("WAN_HEADER"));
        for (int i = 0; i < n; i++) {
                double t0 = now_ms();

                fails += login(argv[1], hdr, argv[3], argv[4]) < 0;
                lat[i] = now_ms() - t0;
        }
        qsort(lat, (size_t)n, sizeof(*lat), cmp);
        printf("p50_ms=%.1f p99_ms=%.1f fails=%d\n", lat[n / 2], lat[(size_t)(n * 0.99)], fails);
        curl_slist_free_all(hdr);
        curl_global_cleanup();
        return fails ? 1 : 0;
}
