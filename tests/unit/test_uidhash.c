/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_uidhash.c: the stable name -> uid mapping: pinned values (computed once with an
 * independent Python implementation of FNV-1a 64), range bounds, attempts. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "uidhash.h"

#define MIN 200000u
#define MAX 299999u

static void test_pinned(void **state)
{
        /* Every host must compute exactly these: changing them changes users' uids. */
        assert_int_equal(apilogin_uid_hash("alice", MIN, MAX, 0), 266183);
        assert_int_equal(apilogin_uid_hash("alice", MIN, MAX, 1), 299494);
        assert_int_equal(apilogin_uid_hash("alice", MIN, MAX, 2), 215573);
        assert_int_equal(apilogin_uid_hash("bob", MIN, MAX, 0), 211092);
        assert_int_equal(apilogin_uid_hash("bob", MIN, MAX, 1), 272325);
        assert_int_equal(apilogin_uid_hash("apilogin-users", MIN, MAX, 0), 237497);
        assert_int_equal(apilogin_uid_hash("a", MIN, MAX, 0), 241996);
        assert_int_equal(apilogin_uid_hash("", MIN, MAX, 0), 256037);
        assert_int_equal(apilogin_uid_hash("alice", 0, UINT32_MAX, 0), 1704999175u);
}

static void test_deterministic(void **state)
{
        assert_int_equal(apilogin_uid_hash("carol", MIN, MAX, 0),
                         apilogin_uid_hash("carol", MIN, MAX, 0));
        assert_int_equal(apilogin_uid_hash("carol", MIN, MAX, 5),
                         apilogin_uid_hash("carol", MIN, MAX, 5));
}

static void test_range(void **state)
{
        char name[32];

        for (unsigned i = 0; i < 5000; i++) {
                uint32_t u;

                snprintf(name, sizeof(name), "user%u", i);
                u = apilogin_uid_hash(name, MIN, MAX, i % 4);
                assert_true(u >= MIN && u <= MAX);
                u = apilogin_uid_hash(name, 1000, 1009, i % 4);
                assert_true(u >= 1000 && u <= 1009);
        }
        /* one-element range, whole 32-bit range, and an inverted range */
        assert_int_equal(apilogin_uid_hash("alice", 5, 5, 7), 5);
        assert_int_equal(apilogin_uid_hash("alice", 10, 5, 0), 10);
}

static void test_attempt_changes(void **state)
{
        char name[32];
        unsigned same01 = 0, same12 = 0;

        for (unsigned i = 0; i < 1000; i++) {
                uint32_t h0, h1, h2;

                snprintf(name, sizeof(name), "u%u", i);
                h0 = apilogin_uid_hash(name, MIN, MAX, 0);
                h1 = apilogin_uid_hash(name, MIN, MAX, 1);
                h2 = apilogin_uid_hash(name, MIN, MAX, 2);
                same01 += h0 == h1;
                same12 += h1 == h2;
        }
        /* over 100000 uids a coincidence has a chance of 1/100000 per name */
        assert_true(same01 <= 2);
        assert_true(same12 <= 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pinned),
                cmocka_unit_test(test_deterministic),
                cmocka_unit_test(test_range),
                cmocka_unit_test(test_attempt_changes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
