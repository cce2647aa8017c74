/* tests/unit/s3/test_tagging.c: tag sets from x-amz-tagging and Tagging XML, S3's limits. */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"

static int
parse_q(struct arena *a, const char *q, unsigned max, struct s3_tagset *t)
{
    return s3_tagging_parse_query(a, slice_cstr(q), max, t, NULL);
}

static int
parse_x(struct arena *a, const char *x, unsigned max, struct s3_tagset *t)
{
    return s3_tagging_parse_xml(a, slice_cstr(x), max, t, NULL);
}

static char *
repeat(struct arena *a, const char *unit, size_t n)
{
    struct buf b = BUF_INIT;
    char *s;

    while (n--)
        buf_adds(&b, unit);
    s = arena_strdup(a, b.ptr);
    buf_release(&b);
    return s;
}

TEST(s3_tagging_query_form)
{
    struct arena *a = arena_new(0);
    struct s3_tagset t;
    struct buf enc = BUF_INIT;

    ASSERT_OK(parse_q(a, "a=1&b%20c=x+y&empty=&novalue", 10, &t));
    ASSERT_EQ(t.n, 4);
    ASSERT(slice_eq_cstr(t.tags[0].key, "a") && slice_eq_cstr(t.tags[0].value, "1"));
    ASSERT(slice_eq_cstr(t.tags[1].key, "b c") && slice_eq_cstr(t.tags[1].value, "x y"));
    ASSERT(slice_eq_cstr(t.tags[2].key, "empty") && t.tags[2].value.len == 0);
    ASSERT(slice_eq_cstr(t.tags[3].key, "novalue") && t.tags[3].value.len == 0);
    s3_tagging_encode(&t, &enc);
    ASSERT_STREQ(enc.ptr, "a=1&b%20c=x%20y&empty=&novalue=");
    /* the stored form parses back to the same set */
    ASSERT_OK(parse_q(a, enc.ptr, 10, &t));
    ASSERT_EQ(t.n, 4);
    ASSERT(slice_eq_cstr(t.tags[1].value, "x y"));
    ASSERT_OK(parse_q(a, "", 10, &t));
    ASSERT_EQ(t.n, 0);
    ASSERT_OK(parse_q(a, "k=%2B%26%3D", 10, &t)); /* "+&=" in a value */
    ASSERT(slice_eq_cstr(t.tags[0].value, "+&="));
    buf_release(&enc);
    arena_free(a);
}

TEST(s3_tagging_limits)
{
    struct arena *a = arena_new(0);
    struct s3_tagset t;
    struct buf msg = BUF_INIT;
    const char *q;

    ASSERT_EQ(parse_q(a, "a=1&a=2", 10, &t), -ERR_INVALID_TAG);
    ASSERT_EQ(s3_tagging_parse_query(a, SLICE_LIT("a=1&a=2"), 10, &t, &msg), -ERR_INVALID_TAG);
    ASSERT_STREQ(msg.ptr, "Cannot provide multiple Tags with the same key");
    ASSERT_EQ(parse_q(a, "aws:x=1", 10, &t), -ERR_INVALID_TAG);
    ASSERT_EQ(parse_q(a, "=1", 10, &t), -ERR_INVALID_TAG);
    ASSERT_EQ(parse_q(a, "a=%zz", 10, &t), -ERR_INVALID_TAG);
    ASSERT_EQ(parse_q(a, "a=%ff", 10, &t), -ERR_INVALID_TAG); /* not UTF-8 */
    /* 10 tags per object, 50 per bucket */
    q = "a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1";
    ASSERT_OK(parse_q(a, q, S3_OBJECT_TAGS_MAX, &t));
    ASSERT_EQ(parse_q(a, arena_printf(a, "%s&k=1", q), S3_OBJECT_TAGS_MAX, &t), -ERR_INVALID_TAG);
    ASSERT_OK(parse_q(a, arena_printf(a, "%s&k=1", q), S3_BUCKET_TAGS_MAX, &t));
    /* keys up to 128 characters, values up to 256: characters, not bytes */
    ASSERT_OK(
        parse_q(a, arena_printf(a, "%s=%s", repeat(a, "k", 128), repeat(a, "v", 256)), 10, &t));
    ASSERT_EQ(parse_q(a, arena_printf(a, "%s=1", repeat(a, "k", 129)), 10, &t), -ERR_INVALID_TAG);
    ASSERT_EQ(parse_q(a, arena_printf(a, "k=%s", repeat(a, "v", 257)), 10, &t), -ERR_INVALID_TAG);
    ASSERT_OK(
        parse_q(a, arena_printf(a, "%s=%s", repeat(a, "%C3%A9", 128), repeat(a, "%E2%82%AC", 256)),
                10, &t));
    ASSERT_EQ(t.tags[0].key.len, 256);
    ASSERT_EQ(parse_q(a, arena_printf(a, "%s=1", repeat(a, "%C3%A9", 129)), 10, &t),
              -ERR_INVALID_TAG);
    buf_release(&msg);
    arena_free(a);
}

TEST(s3_tagging_xml)
{
    struct arena *a = arena_new(0);
    struct s3_tagset t;
    struct buf x = BUF_INIT;

    ASSERT_OK(parse_x(a,
                      "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>"
                      "<Tag><Key>a &amp; b</Key><Value>1</Value></Tag>"
                      "<Tag><Value></Value><Key>c</Key></Tag>"
                      "</TagSet></Tagging>",
                      10, &t));
    ASSERT_EQ(t.n, 2);
    ASSERT(slice_eq_cstr(t.tags[0].key, "a & b") && slice_eq_cstr(t.tags[0].value, "1"));
    ASSERT(slice_eq_cstr(t.tags[1].key, "c") && t.tags[1].value.len == 0);
    s3_tagging_xml(&t, &x);
    ASSERT(strstr(x.ptr, "<Tag><Key>a &amp; b</Key><Value>1</Value></Tag>") != NULL);
    ASSERT(strstr(x.ptr, "<Tagging xmlns=") != NULL);
    ASSERT_OK(parse_x(a, "<Tagging><TagSet/></Tagging>", 10, &t));
    ASSERT_EQ(t.n, 0);
    ASSERT_EQ(parse_x(a, "<Tagging></Tagging>", 10, &t), -ERR_MALFORMED_XML);
    ASSERT_EQ(parse_x(a, "<Tags><TagSet/></Tags>", 10, &t), -ERR_MALFORMED_XML);
    ASSERT_EQ(
        parse_x(a, "<Tagging><TagSet><Tag><Key>a</Key><Bad/></Tag></TagSet></Tagging>", 10, &t),
        -ERR_MALFORMED_XML);
    ASSERT_EQ(parse_x(a,
                      "<Tagging><TagSet><Tag><Key>a</Key></Tag><Tag><Key>a</Key></Tag>"
                      "</TagSet></Tagging>",
                      10, &t),
              -ERR_INVALID_TAG);
    ASSERT_EQ(parse_x(a, "<Tagging><TagSet>", 10, &t), -ERR_MALFORMED_XML);
    buf_release(&x);
    arena_free(a);
}
