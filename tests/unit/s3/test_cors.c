/* tests/unit/s3/test_cors.c: CORSConfiguration parsing and checks, rule matching, headers. */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"

#define CORS_DOC(rules)                                                                            \
    "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" rules                  \
    "</CORSConfiguration>"

static const char doc[] =
    CORS_DOC("<CORSRule><ID>web</ID><AllowedOrigin>https://*.example.com</AllowedOrigin>"
             "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
             "<AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>"
             "<ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>"
             "<MaxAgeSeconds>300</MaxAgeSeconds></CORSRule>"
             "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod>"
             "<AllowedMethod>GET</AllowedMethod></CORSRule>");

static int
parse(const char *s, struct buf *msg)
{
    struct s3_cors_config *c = NULL;
    int rc = s3_cors_parse(slice_cstr(s), &c, msg);

    s3_cors_config_unref(c);
    return rc;
}

TEST(s3_cors_parse_and_canonical_form)
{
    struct s3_cors_config *c, *c2;
    struct buf x = BUF_INIT, x2 = BUF_INIT;

    ASSERT_OK(s3_cors_parse(SLICE_LIT(doc), &c, NULL));
    s3_cors_xml(c, &x);
    ASSERT(strstr(x.ptr, "<ID>web</ID>") != NULL);
    ASSERT(strstr(x.ptr, "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"));
    ASSERT(strstr(x.ptr, "<MaxAgeSeconds>300</MaxAgeSeconds>") != NULL);
    /* the canonical form parses to itself */
    ASSERT_OK(s3_cors_parse(buf_slice(&x), &c2, NULL));
    s3_cors_xml(c2, &x2);
    ASSERT_STREQ(x.ptr, x2.ptr);
    s3_cors_config_unref(c);
    s3_cors_config_unref(c2);
    buf_release(&x);
    buf_release(&x2);
}

TEST(s3_cors_parse_refuses)
{
    struct buf msg = BUF_INIT, many = BUF_INIT;
    int i;

    ASSERT_EQ(parse(CORS_DOC(""), NULL), -ERR_MALFORMED_XML); /* no rule */
    ASSERT_EQ(parse(CORS_DOC("<CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>"), NULL),
              -ERR_MALFORMED_XML); /* no origin */
    ASSERT_EQ(parse(CORS_DOC("<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>"), NULL),
              -ERR_MALFORMED_XML); /* no method */
    ASSERT_EQ(parse(CORS_DOC("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
                             "</AllowedMethod><Unknown/></CORSRule>"),
                    NULL),
              -ERR_MALFORMED_XML);
    ASSERT_EQ(parse(CORS_DOC("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
                             "</AllowedMethod><MaxAgeSeconds>x</MaxAgeSeconds></CORSRule>"),
                    NULL),
              -ERR_MALFORMED_XML);
    ASSERT_EQ(parse(CORS_DOC("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH"
                             "</AllowedMethod></CORSRule>"),
                    &msg),
              -ERR_INVALID_REQUEST);
    ASSERT(strstr(msg.ptr, "Unsupported method is PATCH") != NULL);
    buf_clear(&msg);
    ASSERT_EQ(parse(CORS_DOC("<CORSRule><AllowedOrigin>http://*.*.com</AllowedOrigin>"
                             "<AllowedMethod>GET</AllowedMethod></CORSRule>"),
                    &msg),
              -ERR_INVALID_REQUEST);
    ASSERT(strstr(msg.ptr, "can not have more than one wildcard") != NULL);
    ASSERT_EQ(parse("<CORSConfiguration><CORSRule>", NULL), -ERR_MALFORMED_XML);
    ASSERT_EQ(parse("<Other/>", NULL), -ERR_MALFORMED_XML);
    /* 100 rules, not 101 */
    buf_adds(&many, "<CORSConfiguration>");
    for (i = 0; i < 100; i++)
        buf_adds(&many, "<CORSRule><AllowedOrigin>*</AllowedOrigin>"
                        "<AllowedMethod>GET</AllowedMethod></CORSRule>");
    buf_adds(&many, "</CORSConfiguration>");
    ASSERT_OK(parse(many.ptr, NULL));
    buf_setlen(&many, many.len - strlen("</CORSConfiguration>"));
    buf_adds(&many, "<CORSRule><AllowedOrigin>*</AllowedOrigin>"
                    "<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>");
    ASSERT_EQ(parse(many.ptr, NULL), -ERR_MALFORMED_XML);
    buf_release(&many);
    buf_release(&msg);
}

TEST(s3_cors_wildcards)
{
    ASSERT(s3_cors_wildcard_match("*", SLICE_LIT("anything")));
    ASSERT(s3_cors_wildcard_match("*", SLICE_LIT("")));
    ASSERT(s3_cors_wildcard_match("https://*.example.com", SLICE_LIT("https://a.b.example.com")));
    ASSERT(!s3_cors_wildcard_match("https://*.example.com", SLICE_LIT("https://example.com")));
    ASSERT(!s3_cors_wildcard_match("https://*.example.com", SLICE_LIT("http://a.example.com")));
    ASSERT(s3_cors_wildcard_match("http://a.com", SLICE_LIT("http://A.com")));
    ASSERT(!s3_cors_wildcard_match("http://a.com", SLICE_LIT("http://a.com.evil")));
    ASSERT(s3_cors_wildcard_match("x-amz-*", SLICE_LIT("X-Amz-Date")));
    ASSERT(s3_cors_wildcard_match("ab*ba", SLICE_LIT("aba")) == false);
    ASSERT(s3_cors_wildcard_match("ab*ba", SLICE_LIT("abba")));
}

TEST(s3_cors_match_and_headers)
{
    struct arena *a = arena_new(0);
    struct s3_cors_config *c;
    struct http_header h[S3_CORS_MAX_HEADERS];
    size_t n, i;
    bool origin = false, creds = false, expose = false, age = false, allow_h = false;

    ASSERT_OK(s3_cors_parse(SLICE_LIT(doc), &c, NULL));
    ASSERT_EQ(s3_cors_match(c, SLICE_LIT("https://app.example.com"), SLICE_LIT("PUT"),
                            SLICE_LIT("content-type, x-amz-date")),
              0);
    /* a header no rule allows, a method of no rule, an origin of no rule */
    ASSERT_EQ(s3_cors_match(c, SLICE_LIT("https://app.example.com"), SLICE_LIT("PUT"),
                            SLICE_LIT("authorization")),
              -1);
    ASSERT_EQ(
        s3_cors_match(c, SLICE_LIT("https://app.example.com"), SLICE_LIT("DELETE"), SLICE_NULL),
        -1);
    ASSERT_EQ(s3_cors_match(c, SLICE_LIT("https://evil.com"), SLICE_LIT("PUT"), SLICE_NULL), -1);
    /* the first matching rule answers; the second takes any origin for GET and HEAD */
    ASSERT_EQ(s3_cors_match(c, SLICE_LIT("https://evil.com"), SLICE_LIT("GET"), SLICE_NULL), 1);
    ASSERT_EQ(s3_cors_match(c, SLICE_LIT("https://a.example.com"), SLICE_LIT("HEAD"), SLICE_NULL),
              1);
    ASSERT_EQ(s3_cors_match(c, SLICE_NULL, SLICE_LIT("GET"), SLICE_NULL), -1);

    n = s3_cors_headers(a, c, 0, SLICE_LIT("https://app.example.com"), true,
                        SLICE_LIT("content-type"), h);
    for (i = 0; i < n; i++) {
        if (slice_eq_cstr(h[i].name, "Access-Control-Allow-Origin"))
            origin = slice_eq_cstr(h[i].value, "https://app.example.com");
        if (slice_eq_cstr(h[i].name, "Access-Control-Allow-Credentials"))
            creds = slice_eq_cstr(h[i].value, "true");
        if (slice_eq_cstr(h[i].name, "Access-Control-Expose-Headers"))
            expose = slice_eq_cstr(h[i].value, "ETag, x-amz-request-id");
        if (slice_eq_cstr(h[i].name, "Access-Control-Max-Age"))
            age = slice_eq_cstr(h[i].value, "300");
        if (slice_eq_cstr(h[i].name, "Access-Control-Allow-Headers"))
            allow_h = slice_eq_cstr(h[i].value, "content-type");
    }
    ASSERT(origin && creds && expose && age && allow_h);
    /* an origin of "*" answers "*" and no credentials */
    n = s3_cors_headers(a, c, 1, SLICE_LIT("https://evil.com"), false, SLICE_NULL, h);
    ASSERT(slice_eq_cstr(h[0].name, "Access-Control-Allow-Origin"));
    ASSERT(slice_eq_cstr(h[0].value, "*"));
    for (i = 0; i < n; i++)
        ASSERT(!slice_eq_cstr(h[i].name, "Access-Control-Allow-Credentials"));
    /* no rule: only Vary */
    n = s3_cors_headers(a, c, -1, SLICE_LIT("https://evil.com"), false, SLICE_NULL, h);
    ASSERT_EQ(n, 1);
    ASSERT(slice_eq_cstr(h[0].name, "Vary"));
    s3_cors_config_unref(c);
    arena_free(a);
}
