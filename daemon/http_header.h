/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* http_header.h: http.c's reading of one response header line, exposed only so that the
 * fuzz target (tests/fuzz/fuzz_http_header.c) can drive it without curl; nothing else in
 * the daemon calls it. */
#pragma once
#include <stddef.h>

struct apilogin_http_resp;

/* Take one raw header line (as curl's header callback gets it: "Name: value\r\n", or the
 * status line) into r: Retry-After in seconds (r->retry_after, capped), a status line
 * forgetting it. Cookies are libcurl's cookie engine's (http.h). Never fails; what it
 * does not understand it ignores. */
void apilogin_http_header_line(struct apilogin_http_resp *r, const char *data, size_t n);
