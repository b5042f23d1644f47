/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* url.c: the URL policy shared by the config parser and the daemon (see url.h). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "url.h"

static bool host_is_loopback(const char *host, size_t len, bool bracketed)
{
        char buf[64];
        struct in_addr a4;
        struct in6_addr a6;

        if (len == 0 || len >= sizeof(buf))
                return false;
        memcpy(buf, host, len);
        buf[len] = '\0';
        if (bracketed)
                return inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
        if (strcasecmp(buf, "localhost") == 0)
                return true;
        /* Strict dotted quad only: "127.1" or "127.0.0.1.example.com" are not loopback. */
        return inet_pton(AF_INET, buf, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

static bool port_ok(const char *s, size_t len)
{
        unsigned long v = 0;

        if (len == 0 || len > 5 || strspn(s, "0123456789") < len)
                return false;
        for (size_t i = 0; i < len; i++)
                v = v * 10 + (unsigned long)(s[i] - '0');
        return v >= 1 && v <= 65535;
}

/* Check "host[:port]" or "[v6][:port]" (len bytes at a); say whether it is loopback.
 * Userinfo ("user@host") is refused: it is the classic way to disguise a host. */
static bool authority_ok(const char *a, size_t len, bool *ret_loopback)
{
        const char *host = a, *port = NULL, *end;
        size_t hlen;
        bool bracketed = a[0] == '[';

        if (len == 0 || memchr(a, '@', len))
                return false;
        if (bracketed) {
                end = memchr(a, ']', len);
                if (!end || (end + 1 < a + len && end[1] != ':'))
                        return false;
                host = a + 1;
                hlen = (size_t)(end - host);
                port = end + 1 < a + len ? end + 2 : NULL;
        } else {
                end = memchr(a, ':', len);
                hlen = end ? (size_t)(end - a) : len;
                port = end ? end + 1 : NULL;
        }
        if (hlen == 0 || (port && !port_ok(port, (size_t)(a + len - port))))
                return false;
        *ret_loopback = host_is_loopback(host, hlen, bracketed);
        return true;
}

/* Judge a provider URL: scheme https or http (wss or ws when ws is set); a plain scheme
 * only for a loopback host (127.0.0.0/8, [::1], localhost) or with insecure_http. */
enum apilogin_url_verdict apilogin_url_check(const char *url, bool ws, bool insecure_http)
{
        const char *tls = ws ? "wss" : "https", *plain = ws ? "ws" : "http";
        const char *sep = strstr(url, "://"), *auth;
        size_t slen;
        bool loopback = false, is_tls;

        for (const char *c = url; *c; c++)
                if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '\\')
                        return APILOGIN_URL_MALFORMED;
        if (!sep)
                return APILOGIN_URL_MALFORMED;
        slen = (size_t)(sep - url);
        is_tls = slen == strlen(tls) && strncasecmp(url, tls, slen) == 0;
        if (!is_tls && !(slen == strlen(plain) && strncasecmp(url, plain, slen) == 0))
                return APILOGIN_URL_SCHEME;
        auth = sep + 3;
        if (!authority_ok(auth, strcspn(auth, "/?#"), &loopback))
                return APILOGIN_URL_MALFORMED;
        return is_tls || loopback || insecure_http ? APILOGIN_URL_OK : APILOGIN_URL_INSECURE;
}
