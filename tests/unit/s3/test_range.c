/* tests/unit/s3/test_range.c: the Range header. */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"
#include "util/err.h"

static int
range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    *off = 777;
    *len = 777;
    return s3_range_parse(slice_cstr(h), size, off, len);
}

TEST(s3_range_forms)
{
    uint64_t off, len;

    ASSERT_EQ(range("bytes=0-9", 100, &off, &len), 1);
    ASSERT_EQ(off, 0);
    ASSERT_EQ(len, 10);
    ASSERT_EQ(range("bytes=10-", 100, &off, &len), 1);
    ASSERT_EQ(off, 10);
    ASSERT_EQ(len, 90);
    ASSERT_EQ(range("bytes=-10", 100, &off, &len), 1);
    ASSERT_EQ(off, 90);
    ASSERT_EQ(len, 10);
    ASSERT_EQ(range("bytes=-1000", 100, &off, &len), 1); /* suffix longer than the object */
    ASSERT_EQ(off, 0);
    ASSERT_EQ(len, 100);
    ASSERT_EQ(range("bytes=50-1000", 100, &off, &len), 1); /* end clamped */
    ASSERT_EQ(off, 50);
    ASSERT_EQ(len, 50);
    ASSERT_EQ(range("bytes=99-99", 100, &off, &len), 1);
    ASSERT_EQ(off, 99);
    ASSERT_EQ(len, 1);
    ASSERT_EQ(range(" bytes=1-2 ", 100, &off, &len), 1);
    ASSERT_EQ(range("bytes=0-18446744073709551615", 100, &off, &len), 1);
    ASSERT_EQ(len, 100);
}

TEST(s3_range_unsatisfiable)
{
    uint64_t off, len;

    ASSERT_EQ(range("bytes=100-", 100, &off, &len), -ERR_INVALID_RANGE);
    ASSERT_EQ(range("bytes=100-200", 100, &off, &len), -ERR_INVALID_RANGE);
    ASSERT_EQ(range("bytes=-0", 100, &off, &len), -ERR_INVALID_RANGE);
    ASSERT_EQ(range("bytes=0-", 0, &off, &len), -ERR_INVALID_RANGE);
    ASSERT_EQ(range("bytes=-5", 0, &off, &len), -ERR_INVALID_RANGE);
    ASSERT_EQ(off, 777); /* untouched on error */
}

TEST(s3_range_ignored)
{
    static const char *const ignored[] = {
        "",
        "bytes",
        "bytes=",
        "bytes=-",
        "items=0-1",
        "bytes=0-1,3-4",
        "bytes=5-1",
        "bytes=a-b",
        "bytes=1-b",
        "bytes=--1",
        "bytes=+1-2",
        "bytes=1-2-3",
        "Bytes=0-1",
        "bytes=18446744073709551616-",
        "bytes=0x1-2",
    };
    uint64_t off, len;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(ignored); i++)
        if (range(ignored[i], 100, &off, &len) != 0)
            harness_fail(__FILE__, __LINE__, "'%s' should be ignored", ignored[i]);
}

static int
cond(const char *im, const char *inm, const char *ims, const char *ius, time_t mtime)
{
    struct s3_conditions c = { slice_cstr(im), slice_cstr(inm), slice_cstr(ims), slice_cstr(ius) };

    return s3_conditions_eval(&c, "abc123", mtime);
}

/* Conditional GET/HEAD, with S3's precedence rules. */
TEST(s3_conditional_headers)
{
    const char *before = "Sun, 06 Nov 1994 08:49:37 GMT"; /* 784111777 */
    time_t t = 784111777;

    ASSERT_EQ(cond(NULL, NULL, NULL, NULL, t), 0);
    ASSERT_EQ(cond("\"abc123\"", NULL, NULL, NULL, t), 0);
    ASSERT_EQ(cond("\"x\", W/\"abc123\"", NULL, NULL, NULL, t), 0);
    ASSERT_EQ(cond("*", NULL, NULL, NULL, t), 0);
    ASSERT_EQ(cond("\"other\"", NULL, NULL, NULL, t), -ERR_PRECONDITION_FAILED);
    ASSERT_EQ(cond(NULL, "\"abc123\"", NULL, NULL, t), -ERR_NOT_MODIFIED);
    ASSERT_EQ(cond(NULL, "abc123", NULL, NULL, t), -ERR_NOT_MODIFIED);
    ASSERT_EQ(cond(NULL, "\"other\"", NULL, NULL, t), 0);
    ASSERT_EQ(cond(NULL, NULL, before, NULL, t), -ERR_NOT_MODIFIED);
    ASSERT_EQ(cond(NULL, NULL, before, NULL, t + 1), 0);
    ASSERT_EQ(cond(NULL, NULL, NULL, before, t), 0);
    ASSERT_EQ(cond(NULL, NULL, NULL, before, t + 1), -ERR_PRECONDITION_FAILED);
    /* If-Match true wins over a false If-Unmodified-Since (S3) */
    ASSERT_EQ(cond("\"abc123\"", NULL, NULL, before, t + 1), 0);
    /* If-None-Match false (the ETag matches), If-Modified-Since true: 304 (S3) */
    ASSERT_EQ(cond(NULL, "\"abc123\"", before, NULL, t + 1), -ERR_NOT_MODIFIED);
    /* If-None-Match true: If-Modified-Since is not consulted (RFC 7232) */
    ASSERT_EQ(cond(NULL, "\"other\"", before, NULL, t), 0);
    ASSERT_EQ(cond(NULL, NULL, "not a date", "not a date", t), 0);
}
