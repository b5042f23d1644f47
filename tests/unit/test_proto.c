/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_proto.c: encode/decode of the apilogind socket protocol, including truncated,
 * oversized and malformed messages. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

static uint8_t buf[APILOGIN_PROTO_MAX_MSG + 64];
static struct apilogin_msg out;

static int encode_auth(void)
{
        struct apilogin_msg m = {
                .type = APILOGIN_REQ_AUTH, .user = "alice", .secret = "s3cret pass",
                .service = "sshd", .rhost = "192.0.2.1", .has_pid = true, .pid = 4242,
        };
        return apilogin_proto_encode(&m, buf, sizeof(buf));
}

static void test_roundtrip(void **state)
{
        int len = encode_auth();

        assert_true(len > APILOGIN_PROTO_HEADER);
        assert_int_equal(apilogin_proto_decode(buf, (size_t)len, &out), 0);
        assert_int_equal(out.type, APILOGIN_REQ_AUTH);
        assert_string_equal(out.user, "alice");
        assert_string_equal(out.secret, "s3cret pass");
        assert_string_equal(out.service, "sshd");
        assert_string_equal(out.rhost, "192.0.2.1");
        assert_null(out.tty);
        assert_true(out.has_pid);
        assert_int_equal(out.pid, 4242);
        assert_false(out.has_uid);
        apilogin_proto_wipe(&out);
        assert_null(out.user);
}

static void test_reply_ints(void **state)
{
        struct apilogin_msg m = { .type = APILOGIN_REPLY, .has_outcome = true, .outcome = 6,
                                  .has_uid = true, .uid = 250000, .message = "hi" };
        int len = apilogin_proto_encode(&m, buf, sizeof(buf));

        assert_int_equal(apilogin_proto_decode(buf, (size_t)len, &out), 0);
        assert_int_equal(out.outcome, 6);
        assert_int_equal(out.uid, 250000);
        assert_string_equal(out.message, "hi");
}

/* QUERY's reply: outcome, the prompt in text, the timeout tag (sent once, 4 bytes). */
static void test_query_reply(void **state)
{
        struct apilogin_msg m = { .type = APILOGIN_REPLY, .has_outcome = true, .outcome = 0,
                                  .text = "PIN: ", .has_timeout = true, .timeout = 3000 };
        int len = apilogin_proto_encode(&m, buf, sizeof(buf));

        assert_int_equal(apilogin_proto_decode(buf, (size_t)len, &out), 0);
        assert_string_equal(out.text, "PIN: ");
        assert_true(out.has_timeout);
        assert_int_equal(out.timeout, 3000);
        assert_false(out.has_uid);
        /* the same tag twice is malformed */
        memcpy(buf + len, buf + len - 7, 7);
        buf[7] += 7;
        assert_int_equal(apilogin_proto_decode(buf, (size_t)len + 7, &out), -EBADMSG);
}

static void test_truncated_every_length(void **state)
{
        int len = encode_auth();

        for (int i = 0; i < len; i++)
                assert_int_not_equal(apilogin_proto_decode(buf, (size_t)i, &out), 0);
        /* a header that claims more than is there */
        assert_int_equal(apilogin_proto_decode(buf, (size_t)len - 1, &out), -EBADMSG);
}

static void test_field_too_long(void **state)
{
        char name[APILOGIN_NAME_MAX + 2];
        struct apilogin_msg m = { .type = APILOGIN_REQ_AUTH, .user = name };

        memset(name, 'a', sizeof(name) - 1);
        name[sizeof(name) - 1] = 0;
        assert_int_equal(apilogin_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
        name[APILOGIN_NAME_MAX] = 0;
        assert_true(apilogin_proto_encode(&m, buf, sizeof(buf)) > 0);
}

static void test_oversized_body(void **state)
{
        int len = encode_auth();
        uint8_t type;
        uint32_t body;

        /* body length above the limit in the header */
        buf[4] = 0; buf[5] = 0x01; buf[6] = 0; buf[7] = 0x01;
        assert_int_equal(apilogin_proto_header(buf, &type, &body), -EMSGSIZE);
        assert_int_equal(apilogin_proto_decode(buf, (size_t)len, &out), -EMSGSIZE);
}

static void test_output_too_small(void **state)
{
        struct apilogin_msg m = { .type = APILOGIN_REQ_AUTH, .user = "alice" };

        assert_int_equal(apilogin_proto_encode(&m, buf, 10), -EMSGSIZE);
        assert_int_equal(apilogin_proto_encode(&m, buf, 4), -EMSGSIZE);
}

static void test_bad_magic_and_version(void **state)
{
        int len = encode_auth();
        uint8_t type;
        uint32_t body;

        buf[2] = APILOGIN_PROTO_VERSION + 1;
        assert_int_equal(apilogin_proto_header(buf, &type, &body), -EPROTONOSUPPORT);
        assert_int_equal(type, APILOGIN_REQ_AUTH);
        buf[2] = APILOGIN_PROTO_VERSION;
        buf[0] = 'X';
        assert_int_equal(apilogin_proto_decode(buf, (size_t)len, &out), -EBADMSG);
}

/* Build a raw message from a body. */
static size_t raw(const uint8_t *body, size_t n)
{
        buf[0] = 0x41; buf[1] = 0x4C; buf[2] = APILOGIN_PROTO_VERSION; buf[3] = APILOGIN_REQ_AUTH;
        buf[4] = 0; buf[5] = 0; buf[6] = (uint8_t)(n >> 8); buf[7] = (uint8_t)n;
        memcpy(buf + 8, body, n);
        return n + 8;
}

static void test_malformed_fields(void **state)
{
        const uint8_t dup[] = { 1, 0, 1, 'a', 1, 0, 1, 'b' };
        const uint8_t nul[] = { 1, 0, 2, 'a', 0 };
        const uint8_t badint[] = { 7, 0, 3, 1, 2, 3 };
        const uint8_t overrun[] = { 1, 0, 9, 'a' };
        const uint8_t unknown[] = { 99, 0, 2, 'z', 'z', 1, 0, 1, 'a' };
        const uint8_t toolong_field[] = { 6, 0x01, 0x00 }; /* provider of 256 bytes > 64 */

        assert_int_equal(apilogin_proto_decode(buf, raw(dup, sizeof(dup)), &out), -EBADMSG);
        assert_int_equal(apilogin_proto_decode(buf, raw(nul, sizeof(nul)), &out), -EBADMSG);
        assert_int_equal(apilogin_proto_decode(buf, raw(badint, sizeof(badint)), &out), -EBADMSG);
        assert_int_equal(apilogin_proto_decode(buf, raw(overrun, sizeof(overrun)), &out), -EBADMSG);
        assert_int_equal(apilogin_proto_decode(buf, raw(toolong_field, sizeof(toolong_field)), &out),
                         -EBADMSG);
        assert_int_equal(apilogin_proto_decode(buf, raw(unknown, sizeof(unknown)), &out), 0);
        assert_string_equal(out.user, "a");
}

static void test_random_bytes_never_crash(void **state)
{
        srand(7);
        for (int i = 0; i < 20000; i++) {
                size_t n = (size_t)(rand() % 64);
                uint8_t body[64];

                for (size_t j = 0; j < n; j++)
                        body[j] = (uint8_t)rand();
                (void)apilogin_proto_decode(buf, raw(body, n), &out);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_reply_ints),
                cmocka_unit_test(test_query_reply),
                cmocka_unit_test(test_truncated_every_length),
                cmocka_unit_test(test_field_too_long),
                cmocka_unit_test(test_oversized_body),
                cmocka_unit_test(test_output_too_small),
                cmocka_unit_test(test_bad_magic_and_version),
                cmocka_unit_test(test_malformed_fields),
                cmocka_unit_test(test_random_bytes_never_crash),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
