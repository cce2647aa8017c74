/*
 * tests/unit/auth/test_sigv2.c: SigV2 against the examples of AWS's "Signing
 * and authenticating REST requests (AWS signature version 2)" (the object GET
 * and the upload with x-amz-meta-* headers), then presigned URLs, the
 * sub-resources of the resource, the Date rules and the error paths.
 * Signatures of the requests that are not AWS's examples were computed with
 * Python's hmac and base64 modules from the strings to sign shown beside them.
 */
#include "util/base.h"

#include "auth/sigv2.h"
#include "harness.h"
#include "util/buf.h"
#include "util/err.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T_GET ((time_t)1175024202)    /* Tue, 27 Mar 2007 19:36:42 +0000 */
#define T_UPLOAD ((time_t)1175029568) /* Tue, 27 Mar 2007 21:06:08 +0000 */

static int
lookup(void *arg, struct slice access_key, struct buf *secret)
{
    if (slice_eq_cstr(access_key, "AKIDQUORUM"))
        return -ERR_QUORUM;
    if (!slice_eq_cstr(access_key, AK))
        return -ERR_INVALID_ACCESS_KEY;
    buf_adds(secret, SK);
    return 0;
}

struct treq {
    struct sigv4_header h[10];
    struct sigv4_req r;
};

static void
treq_init(struct treq *t, const char *method, const char *path, const char *query, time_t now)
{
    memset(t, 0, sizeof(*t));
    t->r.method = slice_cstr(method);
    t->r.path = slice_cstr(path);
    t->r.query = slice_cstr(query);
    t->r.headers = t->h;
    t->r.now = now;
}

static void
treq_add(struct treq *t, const char *name, const char *value)
{
    BUG_ON(t->r.nheaders >= ARRAY_SIZE(t->h));
    t->h[t->r.nheaders].name = slice_cstr(name);
    t->h[t->r.nheaders].value = slice_cstr(value);
    t->r.nheaders++;
}

static int
verify1(const struct treq *t, const char *resource, struct sigv4_auth *a)
{
    struct slice res = slice_cstr(resource);

    return sigv2_verify(&t->r, &res, 1, lookup, NULL, a, NULL);
}

TEST(sigv2_aws_example_object_get)
{
    struct treq t;
    struct sigv4_auth a;
    struct buf sts = BUF_INIT;

    treq_init(&t, "GET", "/photos/puppy.jpg", "", T_GET + 60);
    treq_add(&t, "Host", "awsexamplebucket1.us-west-1.s3.amazonaws.com");
    treq_add(&t, "Date", "Tue, 27 Mar 2007 19:36:42 +0000");
    treq_add(&t, "Authorization", "AWS " AK ":qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    ASSERT(sigv2_is_signed(&t.r));
    sigv2_string_to_sign(&t.r, SLICE_LIT("/awsexamplebucket1/photos/puppy.jpg"),
                         SLICE_LIT("Tue, 27 Mar 2007 19:36:42 +0000"), &sts);
    ASSERT_STREQ(sts.ptr, "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n"
                          "/awsexamplebucket1/photos/puppy.jpg");
    ASSERT_OK(verify1(&t, "/awsexamplebucket1/photos/puppy.jpg", &a));
    ASSERT_STREQ(a.access_key, AK);
    ASSERT_STREQ(a.payload_hash, SIGV4_UNSIGNED_PAYLOAD);
    ASSERT_EQ(a.request_time, T_GET);
    ASSERT(!a.presigned);
    ASSERT_STREQ(a.region, "");
    /* the path as sent is not the resource of a virtual-host request */
    ASSERT_EQ(verify1(&t, "/photos/puppy.jpg", &a), -ERR_SIG_MISMATCH);
    buf_release(&sts);
}

TEST(sigv2_aws_example_upload_with_amz_headers)
{
    struct treq t;
    struct sigv4_auth a;
    struct slice res[2] = { SLICE_LIT("/db-backup.dat.gz"),
                            SLICE_LIT("/static.johnsmith.net/db-backup.dat.gz") };

    treq_init(&t, "PUT", "/db-backup.dat.gz", "", T_UPLOAD);
    treq_add(&t, "Date", "Tue, 27 Mar 2007 21:06:08 +0000");
    treq_add(&t, "x-amz-acl", "public-read");
    treq_add(&t, "content-type", "application/x-download");
    treq_add(&t, "Content-MD5", "4gJE4saaMU4BqNR0kLY+lw==");
    treq_add(&t, "X-Amz-Meta-ReviewedBy", "joe@johnsmith.net");
    treq_add(&t, "X-Amz-Meta-ReviewedBy", " jane@johnsmith.net ");
    treq_add(&t, "X-Amz-Meta-FileChecksum", "0x02661779");
    treq_add(&t, "X-Amz-Meta-ChecksumAlgorithm", "crc32");
    treq_add(&t, "Authorization", "AWS " AK ":ilyl83RwaSoYIEdixDQcA4OnAnc=");
    /* the second candidate resource is the one signed */
    ASSERT_OK(sigv2_verify(&t.r, res, 2, lookup, NULL, &a, NULL));
    /* a changed x-amz-* header breaks it */
    t.h[7].value = SLICE_LIT("0x02661778");
    ASSERT_EQ(sigv2_verify(&t.r, res, 2, lookup, NULL, &a, NULL), -ERR_SIG_MISMATCH);
}

/*
 * Presigned (query) form, botocore's: x-amz-* and Content-Type moved into the
 * query. String to sign:
 *   "PUT\n\ntext/plain\n1175029600\nx-amz-meta-m:1 2\n/b/k%20x?partNumber=3&uploadId=u/1"
 * (sub-resources sorted by name, values decoded; the other parameters left out).
 */
#define PRESIGNED_SIG "8qp6Pvvzo5k2%2ByAS1Jl1HpGEX2Q%3D" /* 8qp6Pvvzo5k2+yAS1Jl1HpGEX2Q= */

TEST(sigv2_presigned_query)
{
    struct treq t;
    struct sigv4_auth a;
    struct buf sts = BUF_INIT;
    const char *q = "uploadId=u%2F1&partNumber=3&AWSAccessKeyId=" AK
                    "&content-type=text%2Fplain&x-amz-meta-m=1%202&Expires=1175029600"
                    "&Signature=" PRESIGNED_SIG;

    treq_init(&t, "PUT", "/b/k%20x", q, 1175029000);
    ASSERT(sigv2_is_signed(&t.r));
    sigv2_string_to_sign(&t.r, SLICE_LIT("/b/k%20x"), SLICE_LIT("1175029600"), &sts);
    ASSERT_STREQ(sts.ptr, "PUT\n\ntext/plain\n1175029600\nx-amz-meta-m:1 2\n"
                          "/b/k%20x?partNumber=3&uploadId=u/1");
    ASSERT_OK(verify1(&t, "/b/k%20x", &a));
    ASSERT(a.presigned);
    ASSERT_EQ(a.request_time, (time_t)1175029600);
    /* a header of the request wins over the parameter */
    treq_add(&t, "Content-Type", "text/html");
    ASSERT_EQ(verify1(&t, "/b/k%20x", &a), -ERR_SIG_MISMATCH);
    /* past Expires */
    treq_init(&t, "PUT", "/b/k%20x", q, 1175029601);
    ASSERT_EQ(verify1(&t, "/b/k%20x", &a), -ERR_EXPIRED);
    buf_release(&sts);
}

TEST(sigv2_presigned_errors)
{
    struct treq t;
    struct sigv4_auth a;

    treq_init(&t, "GET", "/b/k", "AWSAccessKeyId=" AK "&Expires=1175029600", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_ACCESS_DENIED); /* no Signature: S3's AccessDenied */
    treq_init(&t, "GET", "/b/k", "AWSAccessKeyId=" AK "&Signature=x&Expires=soon", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_ACCESS_DENIED);
    treq_init(&t, "GET", "/b/k", "AWSAccessKeyId=&Signature=x&Expires=1", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_ACCESS_DENIED);
    treq_init(&t, "GET", "/b/k",
              "AWSAccessKeyId=" AK "&Signature=x&Expires=1175029600&X-Amz-Signature=y", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_AUTH_MALFORMED); /* two mechanisms */
    treq_init(&t, "GET", "/b/k", "AWSAccessKeyId=NOPE&Signature=x&Expires=1175029600", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_INVALID_ACCESS_KEY);
    treq_init(&t, "GET", "/b/k", "AWSAccessKeyId=AKIDQUORUM&Signature=x&Expires=1175029600", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_QUORUM);
    treq_init(&t, "GET", "/b/k", "AWSAccessKeyId=" AK "&Signature=x&Expires=1175029600", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_SIG_MISMATCH);
}

/*
 * Header form, Date rules. With x-amz-date the Date line is empty (S3's rule):
 *   "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg"
 *   -> R4dJ53KECjStyBO5iTBJZ4XVOaI=
 * botocore signs its Date header as well:
 *   "DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n..."
 *   -> P02rMyD5lwwtSgqJoECD9CvYO9M=
 */
TEST(sigv2_header_dates)
{
    static const char *const sigs[] = { "R4dJ53KECjStyBO5iTBJZ4XVOaI=",
                                        "P02rMyD5lwwtSgqJoECD9CvYO9M=" };
    struct treq t;
    struct sigv4_auth a;
    char authz[80];
    size_t i;

    for (i = 0; i < ARRAY_SIZE(sigs); i++) {
        snprintf(authz, sizeof(authz), "AWS %s:%s", AK, sigs[i]);
        treq_init(&t, "DELETE", "/johnsmith/photos/puppy.jpg", "", (time_t)1175030426);
        treq_add(&t, "Date", "Tue, 27 Mar 2007 21:20:26 +0000");
        treq_add(&t, "x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000");
        treq_add(&t, "Authorization", authz);
        ASSERT_OK(verify1(&t, "/johnsmith/photos/puppy.jpg", &a));
    }
    /* 15 minutes of skew at most, either way */
    t.r.now = (time_t)1175030426 + SIGV4_MAX_SKEW + 1;
    ASSERT_EQ(verify1(&t, "/johnsmith/photos/puppy.jpg", &a), -ERR_TIME_SKEWED);
    t.r.now = (time_t)1175030426 - SIGV4_MAX_SKEW - 1;
    ASSERT_EQ(verify1(&t, "/johnsmith/photos/puppy.jpg", &a), -ERR_TIME_SKEWED);
    /* no date at all, or one that does not parse */
    treq_init(&t, "DELETE", "/johnsmith/photos/puppy.jpg", "", (time_t)1175030426);
    treq_add(&t, "Authorization", authz);
    ASSERT_EQ(verify1(&t, "/johnsmith/photos/puppy.jpg", &a), -ERR_ACCESS_DENIED);
    treq_add(&t, "Date", "yesterday");
    ASSERT_EQ(verify1(&t, "/johnsmith/photos/puppy.jpg", &a), -ERR_ACCESS_DENIED);
    /* malformed headers */
    treq_init(&t, "GET", "/b", "", (time_t)1175030426);
    treq_add(&t, "Date", "Tue, 27 Mar 2007 21:20:26 +0000");
    treq_add(&t, "Authorization", "AWS " AK);
    ASSERT_EQ(verify1(&t, "/b", &a), -ERR_AUTH_MALFORMED);
    t.h[1].value = SLICE_LIT("AWS :abc");
    ASSERT_EQ(verify1(&t, "/b", &a), -ERR_AUTH_MALFORMED);
    t.h[1].value = SLICE_LIT("AWS4-HMAC-SHA256 Credential=x");
    ASSERT(!sigv2_is_signed(&t.r));
}

TEST(sigv2_subresources_in_resource)
{
    struct treq t;
    struct buf sts = BUF_INIT;

    /* only sub-resources, sorted by name (stable), "name" alone when sent without '=' */
    treq_init(&t, "GET", "/b/", "uploads&prefix=a&max-uploads=2&acl=&versionId=v%201&delete", 0);
    sigv2_string_to_sign(&t.r, SLICE_LIT("/b/"), SLICE_LIT("D"), &sts);
    ASSERT_STREQ(sts.ptr, "GET\n\n\nD\n/b/?acl=&delete&uploads&versionId=v 1");
    buf_clear(&sts);
    treq_init(&t, "GET", "/b/k", "response-content-type=a%2Fb&list-type=2&tagging", 0);
    sigv2_string_to_sign(&t.r, SLICE_LIT("/b/k"), SLICE_LIT("D"), &sts);
    ASSERT_STREQ(sts.ptr, "GET\n\n\nD\n/b/k?response-content-type=a/b&tagging");
    buf_release(&sts);
}

TEST(sigv2_query_names_decoded_and_checked)
{
    struct treq t;
    struct sigv4_auth a;
    struct buf sts = BUF_INIT, q = BUF_INIT;
    int i;

    /* an escaped sub-resource name is the sub-resource the router sees: it is signed */
    treq_init(&t, "DELETE", "/b/k", "%75ploadId=u1&x=%74agging", 0);
    sigv2_string_to_sign(&t.r, SLICE_LIT("/b/k"), SLICE_LIT("D"), &sts);
    ASSERT_STREQ(sts.ptr, "DELETE\n\n\nD\n/b/k?uploadId=u1");
    buf_clear(&sts);
    /* presigned: a header parameter in another case is the same parameter, once only */
    treq_init(&t, "PUT", "/b/k",
              "AWSAccessKeyId=" AK "&Expires=1175029600&Signature=x&content-type=a&Content-Type=b",
              0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_AUTH_MALFORMED);
    treq_init(&t, "PUT", "/b/k",
              "AWSAccessKeyId=" AK "&Expires=1175029600&Signature=x&X-Amz-Meta-A=1&x-amz-meta-a=2",
              0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_AUTH_MALFORMED);
    /* and without control characters (they would split the stored header records) */
    treq_init(&t, "PUT", "/b/k",
              "AWSAccessKeyId=" AK "&Expires=1175029600&Signature=x&Content-Type=a%00b", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_AUTH_MALFORMED);
    treq_init(&t, "PUT", "/b/k",
              "AWSAccessKeyId=" AK "&Expires=1175029600&Signature=x&x-amz-meta-a=a%0D%0Ab", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_AUTH_MALFORMED);
    /* a header parameter once, as botocore writes it, is signed: mismatch, not malformed */
    treq_init(&t, "PUT", "/b/k",
              "AWSAccessKeyId=" AK "&Expires=1175029600&Signature=x&Content-Type=text%2Fplain", 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_SIG_MISMATCH);
    /* more sub-resources than are signed: refused, not cut short */
    buf_adds(&q, "AWSAccessKeyId=" AK "&Expires=1175029600&Signature=x");
    for (i = 0; i < 65; i++)
        buf_adds(&q, "&acl");
    treq_init(&t, "GET", "/b/k", q.ptr, 0);
    ASSERT_EQ(verify1(&t, "/b/k", &a), -ERR_AUTH_MALFORMED);
    buf_release(&q);
    buf_release(&sts);
}

static void
collect_header(void *arg, struct slice name, struct slice value)
{
    struct buf *b = arg;

    buf_addf(b, "%.*s=%.*s|", (int)name.len, name.ptr, (int)value.len, value.ptr);
}

TEST(sigv2_query_headers_of_a_presigned_url)
{
    struct treq t;
    struct buf got = BUF_INIT;

    /* decoded names and values; the request's own header wins; other parameters are not headers */
    treq_init(&t, "PUT", "/b/k",
              "AWSAccessKeyId=" AK "&Expires=1&Signature=x&Content-Type=text%2Fplain"
              "&x%2Damz-meta-a=1%202&content-md5=AAAA&uploadId=u&x-amz-acl",
              0);
    treq_add(&t, "Content-MD5", "BBBB");
    sigv2_query_headers(&t.r, collect_header, &got);
    ASSERT_STREQ(got.ptr, "Content-Type=text/plain|x-amz-meta-a=1 2|x-amz-acl=|");
    /* a request signed in the header has none */
    buf_clear(&got);
    treq_init(&t, "PUT", "/b/k", "x-amz-meta-a=1", 0);
    treq_add(&t, "Authorization", "AWS " AK ":x");
    sigv2_query_headers(&t.r, collect_header, &got);
    ASSERT(got.len == 0);
    buf_release(&got);
}
