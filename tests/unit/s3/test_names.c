/* tests/unit/s3/test_names.c: bucket name and object key rules. */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"

TEST(s3_bucket_names_good)
{
    static const char *const good[] = {
        "abc",
        "my-bucket",
        "my.bucket.name",
        "0123",
        "a-b.c-d",
        "b1b",
        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123", /* 63 */
        "192.168.5.4a",
        "xn-abc",
        "s3alias-x",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(good); i++)
        if (s3_bucket_name_check(slice_cstr(good[i])) != 0)
            harness_fail(__FILE__, __LINE__, "'%s' should be valid", good[i]);
}

TEST(s3_bucket_names_bad)
{
    static const char *const bad[] = {
        "",
        "ab",
        "a",
        "ABC",
        "Abc",
        "-abc",
        "abc-",
        ".abc",
        "abc.",
        "a..b",
        "a_b",
        "a b",
        "abc/d",
        "192.168.5.4",
        "10.0.0.1",
        "xn--abc",
        "abc-s3alias",
        "abc--ol-s3",
        "sthree-abc",
        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234", /* 64 */
        "caf\xc3\xa9",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(bad); i++)
        if (s3_bucket_name_check(slice_cstr(bad[i])) != -ERR_INVALID_BUCKET_NAME)
            harness_fail(__FILE__, __LINE__, "'%s' should be invalid", bad[i]);
    for (i = 0; i < ARRAY_SIZE(bad); i++)
        if (s3_bucket_name_check_new(slice_cstr(bad[i])) != -ERR_INVALID_BUCKET_NAME)
            harness_fail(__FILE__, __LINE__, "'%s' should be invalid for a new bucket", bad[i]);
}

/* ".-" and "-." are refused for new buckets only: a bucket made before the rule stays reachable. */
TEST(s3_bucket_names_dot_dash_new_only)
{
    static const char *const names[] = { "foo.-bar", "foo-.bar", "a-.b.-c" };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(names); i++) {
        ASSERT_EQ(s3_bucket_name_check_new(slice_cstr(names[i])), -ERR_INVALID_BUCKET_NAME);
        ASSERT_EQ(s3_bucket_name_check(slice_cstr(names[i])), 0);
    }
}

TEST(s3_key_rules)
{
    char key[1026];

    memset(key, 'k', sizeof(key));
    ASSERT_EQ(s3_key_check(slice_make(key, 1)), 0);
    ASSERT_EQ(s3_key_check(slice_make(key, 1024)), 0);
    ASSERT_EQ(s3_key_check(slice_make(key, 1025)), -ERR_KEY_TOO_LONG);
    ASSERT_EQ(s3_key_check(slice_make(key, 0)), -ERR_INVALID_KEY);
    ASSERT_EQ(s3_key_check(SLICE_LIT("a\0b")), -ERR_INVALID_KEY);
    /* keys never become paths: these round-trip as they are */
    ASSERT_EQ(s3_key_check(SLICE_LIT("../../etc/passwd")), 0);
    ASSERT_EQ(s3_key_check(SLICE_LIT("./a//b/")), 0);
    ASSERT_EQ(s3_key_check(SLICE_LIT("with space and %2F")), 0);
    ASSERT_EQ(s3_key_check(SLICE_LIT("ctl\x01\x1f\t\r\n")), 0);
    ASSERT_EQ(s3_key_check(SLICE_LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")), 0);
}

TEST(s3_key_utf8)
{
    static const char *const bad[] = {
        "\xff",
        "\xc3",
        "\xc3(",
        "\xc0\xaf", /* overlong '/' */
        "\xe0\x80\xaf",
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* > U+10FFFF */
        "\xf8\x88\x80\x80\x80",
        "ab\x80",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(bad); i++)
        if (s3_key_check(slice_cstr(bad[i])) != -ERR_INVALID_KEY)
            harness_fail(__FILE__, __LINE__, "key %zu should be invalid UTF-8", i);
    ASSERT(s3_is_valid_utf8(SLICE_LIT("\xf4\x8f\xbf\xbf")));
    ASSERT(s3_is_valid_utf8(SLICE_LIT("\xef\xbf\xbd")));
}
