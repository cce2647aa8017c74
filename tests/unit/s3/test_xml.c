/* tests/unit/s3/test_xml.c: XML escaping and the CreateBucketConfiguration reader. */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"
#include "s3/xml.h"

TEST(s3_xml_escape)
{
    struct buf b = BUF_INIT;

    xml_escape(&b, SLICE_LIT("a&b<c>d\"e'f"));
    ASSERT_STREQ(b.ptr, "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    buf_clear(&b);
    xml_escape(&b, SLICE_LIT("x\x01y\tz\n\r\x1f"));
    ASSERT_STREQ(b.ptr, "x&#x1;y&#x9;z&#xA;&#xD;&#x1F;");
    buf_clear(&b);
    xml_escape(&b, SLICE_LIT("caf\xc3\xa9 ../a//b"));
    ASSERT_STREQ(b.ptr, "caf\xc3\xa9 ../a//b");
    buf_clear(&b);
    xml_elem(&b, "Key", SLICE_LIT("<k>"));
    xml_elem_u64(&b, "Size", 42);
    xml_elem_bool(&b, "IsTruncated", false);
    ASSERT_STREQ(b.ptr, "<Key>&lt;k&gt;</Key><Size>42</Size><IsTruncated>false</IsTruncated>");
    buf_release(&b);
}

static int
parse(const char *body, struct buf *loc)
{
    return s3_parse_create_bucket(slice_cstr(body), loc);
}

TEST(s3_xml_create_bucket)
{
    struct buf loc = BUF_INIT;

    ASSERT_EQ(parse("", &loc), 0);
    ASSERT_STREQ(loc.ptr, "");
    ASSERT_EQ(parse("  \n", &loc), 0);
    ASSERT_EQ(parse("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    "<LocationConstraint>eu-west-1</LocationConstraint>"
                    "</CreateBucketConfiguration>",
                    &loc),
              0);
    ASSERT_STREQ(loc.ptr, "eu-west-1");
    ASSERT_EQ(parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateBucketConfiguration>"
                    "<LocationConstraint> us-east-1 </LocationConstraint>"
                    "</CreateBucketConfiguration>",
                    &loc),
              0);
    ASSERT_STREQ(loc.ptr, "us-east-1");
    ASSERT_EQ(parse("<CreateBucketConfiguration/>", &loc), 0);
    ASSERT_STREQ(loc.ptr, "");
    buf_release(&loc);
}

TEST(s3_xml_malformed)
{
    static const char *const bad[] = {
        "<CreateBucketConfiguration>",
        "<CreateBucketConfiguration><LocationConstraint>x</CreateBucketConfiguration>",
        "<Other><LocationConstraint>x</LocationConstraint></Other>",
        "not xml at all",
        "<CreateBucketConfiguration></CreateBucketConfiguration><Extra/>",
        "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><CreateBucketConfiguration>&a;"
        "</CreateBucketConfiguration>",
        "<CreateBucketConfiguration>\xff</CreateBucketConfiguration>",
    };
    struct buf loc = BUF_INIT;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(bad); i++)
        if (parse(bad[i], &loc) != -ERR_MALFORMED_XML)
            harness_fail(__FILE__, __LINE__, "body %zu should be malformed", i);
    buf_release(&loc);
}

TEST(s3_xml_huge_and_deep)
{
    struct buf body = BUF_INIT, loc = BUF_INIT;
    size_t i;

    /* 2 MiB of text inside the constraint: refused, not kept. */
    buf_adds(&body, "<CreateBucketConfiguration><LocationConstraint>");
    for (i = 0; i < (2u << 20) / 16; i++)
        buf_adds(&body, "aaaaaaaaaaaaaaaa");
    buf_adds(&body, "</LocationConstraint></CreateBucketConfiguration>");
    ASSERT_EQ(s3_parse_create_bucket(buf_slice(&body), &loc), -ERR_MALFORMED_XML);
    buf_clear(&body);
    buf_adds(&body, "<CreateBucketConfiguration>");
    for (i = 0; i < 100; i++)
        buf_adds(&body, "<a>");
    for (i = 0; i < 100; i++)
        buf_adds(&body, "</a>");
    buf_adds(&body, "</CreateBucketConfiguration>");
    ASSERT_EQ(s3_parse_create_bucket(buf_slice(&body), &loc), -ERR_MALFORMED_XML);
    buf_release(&body);
    buf_release(&loc);
}
