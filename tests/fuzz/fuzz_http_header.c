/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_http_header.c: libFuzzer target for apilogind's reading of HTTP response headers
 * (daemon/http.c: Retry-After in both its forms, status lines of 1xx responses; cookies
 * are libcurl's). The input is split into lines at '\n' (kept, as curl hands them over) and
 * fed one by one through the same function curl's header callback calls. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http.h"
#include "daemon/http_header.h"

#define RETRY_LIMIT 86400L

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct apilogin_http_resp r = { .retry_after = -1 };
        size_t off = 0;

        while (off < size) {
                const uint8_t *nl = memchr(data + off, '\n', size - off);
                size_t n = nl ? (size_t)(nl - (data + off)) + 1 : size - off;
                /* curl's buffer is not NUL-terminated: give an exact-size copy so ASan sees
                 * any read past the line */
                char *line = malloc(n ? n : 1);

                if (!line)
                        break;
                memcpy(line, data + off, n);
                apilogin_http_header_line(&r, line, n);
                free(line);
                off += n;
                if (r.retry_after < -1 || r.retry_after > RETRY_LIMIT)
                        abort();
        }
        apilogin_http_resp_clear(&r);
        return 0;
}
