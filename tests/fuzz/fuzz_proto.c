/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_proto.c: libFuzzer target for the socket protocol (core/proto.c), both directions.
 *
 * The first input byte picks the direction: even = a request as the daemon reads it (type
 * forced to one of the request verbs), odd = a reply as the PAM module / apiloginctl read
 * it (type REPLY). The rest is the message on the wire. A message that decodes must encode
 * again, and the encoding must decode to the same fields (decode -> encode -> decode). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static const uint8_t req_types[] = {
        APILOGIN_REQ_AUTH, APILOGIN_REQ_ACCT, APILOGIN_REQ_OPEN, APILOGIN_REQ_CLOSE,
        APILOGIN_REQ_PING, APILOGIN_REQ_STATUS, APILOGIN_REQ_USERS, APILOGIN_REQ_SESSIONS,
        APILOGIN_REQ_USER_ADD, APILOGIN_REQ_USER_DEL, APILOGIN_REQ_FLUSH,
};

static struct apilogin_msg m1, m2;
static uint8_t wire[APILOGIN_PROTO_MAX_MSG + 64], again[APILOGIN_PROTO_MAX_MSG];

static void same_str(const char *a, const char *b)
{
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
                abort();
}

static void same_msg(const struct apilogin_msg *a, const struct apilogin_msg *b)
{
        same_str(a->user, b->user);
        same_str(a->secret, b->secret);
        same_str(a->service, b->service);
        same_str(a->tty, b->tty);
        same_str(a->rhost, b->rhost);
        same_str(a->provider, b->provider);
        same_str(a->session, b->session);
        same_str(a->message, b->message);
        same_str(a->token_file, b->token_file);
        same_str(a->text, b->text);
        if (a->type != b->type || a->has_pid != b->has_pid || a->has_uid != b->has_uid ||
            a->has_outcome != b->has_outcome || a->pid != b->pid || a->uid != b->uid ||
            a->outcome != b->outcome)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t type, dir;
        uint32_t body_len;
        int r, n;

        if (size < 1 || size - 1 > sizeof(wire))
                return 0;
        dir = data[0];
        size--;
        memcpy(wire, data + 1, size);
        if (size >= 4)
                wire[3] = dir & 1 ? APILOGIN_REPLY : req_types[(dir >> 1) % sizeof(req_types)];

        /* The header check alone, as the daemon and client do before reading the body. */
        if (size >= APILOGIN_PROTO_HEADER) {
                r = apilogin_proto_header(wire, &type, &body_len);
                if (r == 0 && body_len > APILOGIN_PROTO_MAX_BODY)
                        abort();
        }
        r = apilogin_proto_decode(wire, size, &m1);
        if (r < 0)
                return 0;
        n = apilogin_proto_encode(&m1, again, sizeof(again));
        if (n < APILOGIN_PROTO_HEADER || (size_t)n > size)
                abort(); /* what decoded must encode, never longer (unknown tags dropped) */
        if (apilogin_proto_decode(again, (size_t)n, &m2) != 0)
                abort();
        same_msg(&m1, &m2);
        apilogin_proto_wipe(&m1);
        apilogin_proto_wipe(&m2);
        return 0;
}
