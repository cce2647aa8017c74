/* tests/unit/util/test_buf.c: struct buf, slices and encodings. */
#include "util/base.h"

#include "harness.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/enc.h"

TEST(buf_add_and_detach)
{
    struct buf b = BUF_INIT;
    char *p;
    size_t len;

    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(b.ptr[0], '\0');
    buf_adds(&b, "abc");
    buf_addf(&b, "-%d-", 42);
    buf_add(&b, "\0z", 2);
    ASSERT_EQ(b.len, 9);
    ASSERT_MEMEQ(b.ptr, "abc-42-\0z", 9);
    ASSERT_EQ(b.ptr[9], '\0');
    p = buf_detach(&b, &len);
    ASSERT_EQ(len, 9);
    ASSERT_EQ(b.len, 0);
    free(p);
    buf_release(&b);
}

TEST(parse_u64_bounds)
{
    uint64_t v = 7;

    ASSERT_OK(parse_u64(SLICE_LIT("18446744073709551615"), &v));
    ASSERT(v == UINT64_MAX);
    ASSERT_EQ(parse_u64(SLICE_LIT("18446744073709551616"), &v), -ERR_INVAL);
    ASSERT_EQ(parse_u64(SLICE_LIT(""), &v), -ERR_INVAL);
    ASSERT_EQ(parse_u64(SLICE_LIT("-1"), &v), -ERR_INVAL);
    ASSERT_EQ(parse_u64(SLICE_LIT("1 "), &v), -ERR_INVAL);
    ASSERT(v == UINT64_MAX);
}

TEST(base64_roundtrip)
{
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const coded[] = {
        "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"
    }; /* RFC 4648 section 10 */
    size_t i;

    for (i = 0; i < ARRAY_SIZE(plain); i++) {
        struct buf e = BUF_INIT, d = BUF_INIT;

        base64_encode(&e, plain[i], strlen(plain[i]));
        ASSERT_STREQ(e.ptr, coded[i]);
        ASSERT_OK(base64_decode(&d, buf_slice(&e)));
        ASSERT_STREQ(d.ptr, plain[i]);
        buf_release(&e);
        buf_release(&d);
    }
    {
        struct buf d = BUF_INIT;

        ASSERT_EQ(base64_decode(&d, SLICE_LIT("Zm9=v")), -ERR_INVAL);
        buf_release(&d);
    }
}

TEST(uri_encode_sigv4)
{
    struct buf b = BUF_INIT;

    uri_encode(&b, SLICE_LIT("a b/c~d*é"), true);
    ASSERT_STREQ(b.ptr, "a%20b/c~d%2A%C3%A9");
    buf_clear(&b);
    uri_encode(&b, SLICE_LIT("a/b"), false);
    ASSERT_STREQ(b.ptr, "a%2Fb");
    buf_clear(&b);
    ASSERT_OK(uri_decode(&b, SLICE_LIT("a%20b%2f")));
    ASSERT_STREQ(b.ptr, "a b/");
    ASSERT_EQ(uri_decode(&b, SLICE_LIT("%2")), -ERR_INVAL);
    buf_release(&b);
}

TEST(clock_formats)
{
    struct buf b = BUF_INIT;
    time_t t;

    clock_fmt_rfc1123(&b, 1369353600);
    ASSERT_STREQ(b.ptr, "Fri, 24 May 2013 00:00:00 GMT");
    ASSERT_OK(clock_parse_http(buf_slice(&b), &t));
    ASSERT_EQ(t, 1369353600);
    buf_clear(&b);
    clock_fmt_amz(&b, 1369353600);
    ASSERT_STREQ(b.ptr, "20130524T000000Z");
    ASSERT_OK(clock_parse_amz(buf_slice(&b), &t));
    ASSERT_EQ(t, 1369353600);
    ASSERT_EQ(clock_parse_amz(SLICE_LIT("20130524T000000"), &t), -ERR_INVAL);
    /* numeric zones: S3's SigV2 examples (+0000), Python's formatdate() (-0000), offsets */
    t = 0;
    ASSERT_OK(clock_parse_http(SLICE_LIT("Fri, 24 May 2013 00:00:00 +0000"), &t));
    ASSERT_EQ(t, 1369353600);
    t = 0;
    ASSERT_OK(clock_parse_http(SLICE_LIT("Fri, 24 May 2013 00:00:00 -0000"), &t));
    ASSERT_EQ(t, 1369353600);
    ASSERT_OK(clock_parse_http(SLICE_LIT("Fri, 24 May 2013 02:30:00 +0230"), &t));
    ASSERT_EQ(t, 1369353600);
    ASSERT_OK(clock_parse_http(SLICE_LIT("Thu, 23 May 2013 19:00:00 -0500"), &t));
    ASSERT_EQ(t, 1369353600);
    ASSERT_EQ(clock_parse_http(SLICE_LIT("Fri, 24 May 2013 00:00:00 -00"), &t), -ERR_INVAL);
    ASSERT_EQ(clock_parse_http(SLICE_LIT("Fri, 24 May 2013 00:00:00 +0000x"), &t), -ERR_INVAL);
    ASSERT_EQ(clock_parse_http(SLICE_LIT("Fri, 24 May 2013 00:00:00 +0099"), &t), -ERR_INVAL);
    buf_clear(&b);
    clock_fmt_iso8601(&b, 1369353600123000000LL);
    ASSERT_STREQ(b.ptr, "2013-05-24T00:00:00.123Z");
    buf_release(&b);
}

TEST(slice_ends_with_suffixes)
{
    ASSERT(slice_ends_with(SLICE_LIT("/p/basalt/health/live"), SLICE_LIT("/basalt/health/live")));
    ASSERT(slice_ends_with(SLICE_LIT("/basalt/health/live"), SLICE_LIT("/basalt/health/live")));
    ASSERT(slice_ends_with(SLICE_LIT("abc"), SLICE_LIT("")));
    ASSERT(!slice_ends_with(SLICE_LIT("/basalt/health/lives"), SLICE_LIT("/health/live")));
    ASSERT(!slice_ends_with(SLICE_LIT("live"), SLICE_LIT("/health/live")));
    ASSERT(!slice_ends_with(SLICE_NULL, SLICE_LIT("x")));
}
