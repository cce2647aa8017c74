/*
 * tests/unit/auth/test_post_policy.c: POST policies: parsing, every kind of
 * condition, field coverage, expiry, and the signature against AWS's
 * published example ("Example: Browser-Based Upload using HTTP POST (Using
 * AWS Signature Version 4)") and a form botocore's generate_presigned_post
 * signed (S3SigV4PostAuth with the clock at 2029-12-31T00:00:00Z).
 */
#include "util/base.h"

#include "auth/post_policy.h"
#include "harness.h"
#include "util/buf.h"
#include "util/enc.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

/* AWS's example: policy as sent (base64) and its signature. */
static const char aws_policy[] =
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7"
    "ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91"
    "c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3Qi"
    "OiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwi"
    "fSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRh"
    "LXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVT"
    "MjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNy"
    "ZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9"
    "LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAi"
    "MjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
#define AWS_SIG "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
#define AWS_CRED AK "/20151229/us-east-1/s3/aws4_request"
#define AWS_T0 ((time_t)1451390400) /* 2015-12-29T12:00:00Z */

/* botocore 1.29 generate_presigned_post(Bucket="mybucket", Key="user/${filename}"). */
static const char boto_policy[] =
    "eyJleHBpcmF0aW9uIjogIjIwMzAtMDEtMDFUMDA6MDA6MDBaIiwgImNvbmRpdGlvbnMiOiBbeyJidWNrZXQiOiAibXli"
    "dWNrZXQifSwgWyJzdGFydHMtd2l0aCIsICIka2V5IiwgInVzZXIvIl0sIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQt"
    "SE1BQy1TSEEyNTYifSwgeyJ4LWFtei1jcmVkZW50aWFsIjogIkFLSUFJT1NGT0ROTjdFWEFNUExFLzIwMjkxMjMxL3Vz"
    "LWVhc3QtMS9zMy9hd3M0X3JlcXVlc3QifSwgeyJ4LWFtei1kYXRlIjogIjIwMjkxMjMxVDAwMDAwMFoifV19";
#define BOTO_SIG "259d08926f2b0716c827720495a877d2ccfad28a70196fc40fa461b99cf043ae"
#define BOTO_CRED AK "/20291231/us-east-1/s3/aws4_request"

static int
lookup(void *arg, struct slice access_key, struct buf *secret)
{
    if (!slice_eq_cstr(access_key, AK))
        return -ERR_INVALID_ACCESS_KEY;
    buf_adds(secret, SK);
    return 0;
}

#define F(n, v)                                                                                    \
    {                                                                                              \
        SLICE_LIT(n), SLICE_LIT(v)                                                                 \
    }

/* Parses a JSON policy given in clear text. */
static int
parse_json(const char *json, struct post_policy **p, struct buf *msg)
{
    struct buf b64 = BUF_INIT;
    int rc;

    base64_encode(&b64, json, strlen(json));
    rc = post_policy_parse(buf_slice(&b64), p, msg);
    buf_release(&b64);
    return rc;
}

/* Checks `fields` against a JSON policy; returns the rc and leaves the message in `msg`. */
static int
check_json(const char *json, const char *bucket, const struct post_field *f, size_t n, time_t now,
           struct buf *msg)
{
    struct post_policy *p = NULL;
    int rc = parse_json(json, &p, msg);

    ASSERT_OK(rc);
    buf_clear(msg);
    rc = post_policy_check(p, bucket, f, n, now, msg);
    post_policy_free(p);
    return rc;
}

#define EXP "\"expiration\": \"2030-01-01T00:00:00.000Z\""
#define NOW ((time_t)1700000000)

TEST(post_policy_aws_example_signature)
{
    struct post_sig sig = { SLICE_LIT("AWS4-HMAC-SHA256"), SLICE_LIT(AWS_CRED),
                            SLICE_LIT("20151229T000000Z"), SLICE_LIT(AWS_SIG) };
    struct sigv4_auth a;
    struct buf msg = BUF_INIT;
    char hex[65];

    post_policy_sign(slice_cstr(aws_policy), SK, "20151229", "us-east-1", hex);
    ASSERT_STREQ(hex, AWS_SIG);
    memset(&a, 0, sizeof(a));
    ASSERT_OK(
        post_policy_verify(slice_cstr(aws_policy), &sig, "us-east-1", lookup, NULL, &a, &msg));
    ASSERT_STREQ(a.access_key, AK);
    ASSERT_STREQ(a.region, "us-east-1");
    ASSERT_STREQ(a.date, "20151229");
    sigv4_auth_clear(&a);
    buf_release(&msg);
}

TEST(post_policy_aws_example_form)
{
    const struct post_field form[] = {
        F("key", "user/user1/${filename}"),
        F("acl", "public-read"),
        F("success_action_redirect",
          "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"),
        F("Content-Type", "image/jpeg"),
        F("x-amz-meta-uuid", "14365123651274"),
        F("x-amz-server-side-encryption", "AES256"),
        F("X-Amz-Credential", AWS_CRED),
        F("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        F("X-Amz-Date", "20151229T000000Z"),
        F("x-amz-meta-tag", ""),
        F("Policy", ""),
        F("X-Amz-Signature", AWS_SIG),
    };
    struct post_policy *p = NULL;
    struct buf msg = BUF_INIT;
    uint64_t min, max;

    ASSERT_OK(post_policy_parse(slice_cstr(aws_policy), &p, &msg));
    ASSERT_EQ(post_policy_expiration(p), 1451476800); /* 2015-12-30T12:00:00Z */
    ASSERT(!post_policy_length_range(p, &min, &max));
    ASSERT_OK(post_policy_check(p, "sigv4examplebucket", form, ARRAY_SIZE(form), AWS_T0, &msg));
    /* another bucket, too late, another key */
    ASSERT_EQ(post_policy_check(p, "otherbucket", form, ARRAY_SIZE(form), AWS_T0, &msg),
              -ERR_INVALID_POLICY);
    ASSERT_STREQ(msg.ptr, "Invalid according to Policy: Policy Condition failed: "
                          "[\"eq\", \"$bucket\", \"sigv4examplebucket\"]");
    ASSERT_EQ(
        post_policy_check(p, "sigv4examplebucket", form, ARRAY_SIZE(form), 1451476800 + 1, &msg),
        -ERR_INVALID_POLICY);
    ASSERT_STREQ(msg.ptr, "Invalid according to Policy: Policy expired.");
    ASSERT_OK(post_policy_check(p, "sigv4examplebucket", form, ARRAY_SIZE(form), 1451476800, &msg));
    post_policy_free(p);
    buf_release(&msg);
}

TEST(post_policy_botocore_vector)
{
    struct post_sig sig = { SLICE_LIT("AWS4-HMAC-SHA256"), SLICE_LIT(BOTO_CRED),
                            SLICE_LIT("20291231T000000Z"), SLICE_LIT(BOTO_SIG) };
    const struct post_field form[] = {
        F("key", "user/photo.png"),
        F("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        F("x-amz-credential", BOTO_CRED),
        F("x-amz-date", "20291231T000000Z"),
        F("policy", ""),
        F("x-amz-signature", BOTO_SIG),
    };
    struct sigv4_auth a;
    struct post_policy *p = NULL;
    struct buf msg = BUF_INIT;

    ASSERT_OK(
        post_policy_verify(slice_cstr(boto_policy), &sig, "us-east-1", lookup, NULL, &a, &msg));
    sigv4_auth_clear(&a);
    ASSERT_OK(post_policy_parse(slice_cstr(boto_policy), &p, &msg));
    ASSERT_OK(post_policy_check(p, "mybucket", form, ARRAY_SIZE(form), NOW, &msg));
    post_policy_free(p);
    buf_release(&msg);
}

TEST(post_policy_signature_errors)
{
    struct post_sig good = { SLICE_LIT("AWS4-HMAC-SHA256"), SLICE_LIT(AWS_CRED),
                             SLICE_LIT("20151229T000000Z"), SLICE_LIT(AWS_SIG) };
    struct post_sig s;
    struct sigv4_auth a;
    struct buf msg = BUF_INIT;
    char tampered[sizeof(aws_policy)];

    memcpy(tampered, aws_policy, sizeof(aws_policy));
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    ASSERT_EQ(post_policy_verify(slice_cstr(tampered), &good, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_SIG_MISMATCH);
    s = good;
    s.signature = SLICE_LIT("8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699f");
    ASSERT_EQ(post_policy_verify(slice_cstr(aws_policy), &s, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_SIG_MISMATCH);
    s.signature = SLICE_LIT("8afdbf40");
    ASSERT_EQ(post_policy_verify(slice_cstr(aws_policy), &s, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_SIG_MISMATCH);
    /* the server is in another region */
    ASSERT_EQ(
        post_policy_verify(slice_cstr(aws_policy), &good, "eu-west-1", lookup, NULL, &a, &msg),
        -ERR_AUTH_MALFORMED);
    s = good;
    s.algorithm = SLICE_LIT("AWS4-HMAC-SHA1");
    ASSERT_EQ(post_policy_verify(slice_cstr(aws_policy), &s, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_AUTH_MALFORMED);
    s = good;
    s.credential = SLICE_LIT("NOPE/20151229/us-east-1/s3/aws4_request");
    ASSERT_EQ(post_policy_verify(slice_cstr(aws_policy), &s, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_INVALID_ACCESS_KEY);
    s.credential = SLICE_LIT(AK "/20151229/us-east-1/ec2/aws4_request");
    ASSERT_EQ(post_policy_verify(slice_cstr(aws_policy), &s, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_AUTH_MALFORMED);
    s.credential = SLICE_LIT("/20151229/us-east-1/s3/aws4_request");
    ASSERT_EQ(post_policy_verify(slice_cstr(aws_policy), &s, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_AUTH_MALFORMED);
    s.credential = SLICE_LIT("20151229/us-east-1/s3/aws4_request");
    ASSERT_EQ(post_policy_verify(slice_cstr(aws_policy), &s, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_AUTH_MALFORMED);
    s = good;
    s.date = SLICE_LIT("20151230T000000Z"); /* not the scope's day */
    ASSERT_EQ(post_policy_verify(slice_cstr(aws_policy), &s, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_AUTH_MALFORMED);
    s.date = SLICE_LIT("2015");
    ASSERT_EQ(post_policy_verify(slice_cstr(aws_policy), &s, "us-east-1", lookup, NULL, &a, &msg),
              -ERR_AUTH_MALFORMED);
    buf_release(&msg);
}

TEST(post_policy_parse_errors)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"conditions\": []}",
        "{\"expiration\": 5, \"conditions\": []}",
        "{\"expiration\": \"2030-01-01\", \"conditions\": []}",
        "{\"expiration\": \"2030-13-01T00:00:00Z\", \"conditions\": []}",
        "{\"expiration\": \"2030-01-01T00:00:00+01:00\", \"conditions\": []}",
        "{\"expiration\": \"2030-01-01T00:00:00.Z\", \"conditions\": []}",
        "{" EXP "}",
        "{" EXP ", \"conditions\": {}}",
        "{" EXP ", \"conditions\": [5]}",
        "{" EXP ", \"conditions\": [{}]}",
        "{" EXP ", \"conditions\": [{\"a\": 1}]}",
        "{" EXP ", \"conditions\": [[\"eq\", \"$key\"]]}",
        "{" EXP ", \"conditions\": [[\"eq\", \"key\", \"x\"]]}",
        "{" EXP ", \"conditions\": [[\"eq\", \"$\", \"x\"]]}",
        "{" EXP ", \"conditions\": [[\"eq\", \"$key\", 5]]}",
        "{" EXP ", \"conditions\": [[\"ends-with\", \"$key\", \"x\"]]}",
        "{" EXP ", \"conditions\": [[\"content-length-range\", 10, 5]]}",
        "{" EXP ", \"conditions\": [[\"content-length-range\", -1, 5]]}",
        "{" EXP ", \"conditions\": [[\"content-length-range\", \"x\", 5]]}",
        "{" EXP ", \"conditions\": [[\"content-length-range\", 1.5, 5]]}",
        "{" EXP ", \"conditions\": [], \"conditions\": []}",
        "{" EXP ", \"conditions\": [{\"a\": \"x\\u0000y\"}]}",
    };
    struct post_policy *p = NULL;
    struct buf msg = BUF_INIT;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        buf_clear(&msg);
        if (parse_json(bad[i], &p, &msg) != -ERR_MALFORMED_POST)
            harness_fail(__FILE__, __LINE__, "accepted: %s", bad[i]);
        ASSERT(!strncmp(msg.ptr, "Invalid Policy: ", 16));
    }
    ASSERT_EQ(post_policy_parse(SLICE_LIT("%%%not base64"), &p, &msg), -ERR_MALFORMED_POST);
    ASSERT_STREQ(msg.ptr, "Invalid Policy: Invalid Base64 Encoding.");
    /* wrapped over lines, as MIME base64 encoders do */
    ASSERT_OK(post_policy_parse(SLICE_LIT("eyJleHBpcmF0aW9uIjogIjIwMzAtMDEtMDFUMDA6MDA6MDBaIiwg\r\n"
                                          "ImNvbmRpdGlvbnMiOiBbXX0=\r\n"),
                                &p, &msg));
    post_policy_free(p);
    ASSERT_EQ(post_policy_parse(SLICE_LIT("eyJ4Ijo="), &p, &msg), -ERR_MALFORMED_POST);
    ASSERT_STREQ(msg.ptr, "Invalid Policy: Invalid JSON.");
    buf_release(&msg);
}

TEST(post_policy_conditions)
{
    static const char json[] = "{" EXP ", \"conditions\": ["
                               "{\"bucket\": \"b1\"},"
                               "[\"starts-with\", \"$key\", \"up/\"],"
                               "[\"eq\", \"$success_action_status\", \"201\"],"
                               "[\"STARTS-WITH\", \"$Content-Type\", \"image/\"],"
                               "{\"x-amz-meta-color\": \"red\", \"x-amz-meta-size\": \"\"},"
                               "[\"starts-with\", \"$x-amz-meta-note\", \"\"],"
                               "[\"content-length-range\", 1, \"1048576\"]]}";
    struct post_field f[] = {
        F("key", "up/a.png"),
        F("Success_Action_Status", "201"),
        F("content-type", "image/png"),
        F("X-Amz-Meta-Color", "red"),
        F("x-amz-meta-note", "anything"),
        F("x-ignore-me", "1"),
        F("file", ""),
    };
    struct post_policy *p = NULL;
    struct buf msg = BUF_INIT;
    uint64_t min = 0, max = 0;

    ASSERT_OK(check_json(json, "b1", f, ARRAY_SIZE(f), NOW, &msg));
    ASSERT_OK(parse_json(json, &p, &msg));
    ASSERT(post_policy_length_range(p, &min, &max));
    ASSERT_EQ(min, 1);
    ASSERT_EQ(max, 1048576);
    post_policy_free(p);

    f[0].value = SLICE_LIT("other/a.png");
    ASSERT_EQ(check_json(json, "b1", f, ARRAY_SIZE(f), NOW, &msg), -ERR_INVALID_POLICY);
    ASSERT_STREQ(msg.ptr, "Invalid according to Policy: Policy Condition failed: "
                          "[\"starts-with\", \"$key\", \"up/\"]");
    f[0].value = SLICE_LIT("up/");
    f[1].value = SLICE_LIT("200");
    ASSERT_EQ(check_json(json, "b1", f, ARRAY_SIZE(f), NOW, &msg), -ERR_INVALID_POLICY);
    ASSERT_STREQ(msg.ptr, "Invalid according to Policy: Policy Condition failed: "
                          "[\"eq\", \"$success_action_status\", \"201\"]");
    f[1].value = SLICE_LIT("201");
    f[2].value = SLICE_LIT("image/png, image/gif");
    ASSERT_OK(check_json(json, "b1", f, ARRAY_SIZE(f), NOW, &msg));
    f[2].value = SLICE_LIT("image/png, text/html");
    ASSERT_EQ(check_json(json, "b1", f, ARRAY_SIZE(f), NOW, &msg), -ERR_INVALID_POLICY);
    f[2].value = SLICE_LIT("image/png");
    f[3].value = SLICE_LIT("Red"); /* values are case-sensitive */
    ASSERT_EQ(check_json(json, "b1", f, ARRAY_SIZE(f), NOW, &msg), -ERR_INVALID_POLICY);
    f[3].value = SLICE_LIT("red");
    ASSERT_EQ(check_json(json, "b2", f, ARRAY_SIZE(f), NOW, &msg), -ERR_INVALID_POLICY);
    buf_release(&msg);
}

TEST(post_policy_absent_fields)
{
    static const char json[] = "{" EXP ", \"conditions\": [{\"acl\": \"private\"},"
                               "[\"starts-with\", \"$Content-Type\", \"\"],"
                               "[\"eq\", \"$x-amz-meta-empty\", \"\"]]}";
    const struct post_field none[] = { F("policy", "") };
    const struct post_field acl[] = { F("acl", "private") };
    struct buf msg = BUF_INIT;

    /* an absent field compares as "": eq "private" fails, starts-with "" and eq "" hold */
    ASSERT_EQ(check_json(json, "b", none, ARRAY_SIZE(none), NOW, &msg), -ERR_INVALID_POLICY);
    ASSERT_STREQ(msg.ptr, "Invalid according to Policy: Policy Condition failed: "
                          "[\"eq\", \"$acl\", \"private\"]");
    ASSERT_OK(check_json(json, "b", acl, ARRAY_SIZE(acl), NOW, &msg));
    buf_release(&msg);
}

TEST(post_policy_extra_fields)
{
    static const char json[] = "{" EXP ", \"conditions\": [[\"starts-with\", \"$key\", \"\"],"
                               "[\"content-length-range\", 0, 10]]}";
    const struct post_field ok[] = {
        F("key", "k"),
        F("policy", "p"),
        F("X-Amz-Signature", "s"),
        F("file", ""),
        F("x-ignore-submit", "Upload"),
        F("x-amz-checksum-sha256", "v"), /* the file's checksum: checked against the file */
    };
    const struct post_field extra[] = { F("key", "k"), F("x-amz-meta-sneaky", "1") };
    const struct post_field range_only[] = { F("key", "k"), F("content-length", "5") };
    struct buf msg = BUF_INIT;

    ASSERT_OK(check_json(json, "b", ok, ARRAY_SIZE(ok), NOW, &msg));
    ASSERT_EQ(check_json(json, "b", extra, ARRAY_SIZE(extra), NOW, &msg), -ERR_INVALID_POLICY);
    ASSERT_STREQ(msg.ptr, "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky");
    /* content-length-range covers no field */
    ASSERT_EQ(check_json(json, "b", range_only, ARRAY_SIZE(range_only), NOW, &msg),
              -ERR_INVALID_POLICY);
    buf_release(&msg);
}

TEST(post_policy_bucket_field)
{
    static const char json[] = "{" EXP ", \"conditions\": [[\"eq\", \"$bucket\", \"b\"]]}";
    const struct post_field same[] = { F("bucket", "b") };
    const struct post_field other[] = { F("bucket", "c") };
    struct buf msg = BUF_INIT;

    ASSERT_OK(check_json(json, "b", NULL, 0, NOW, &msg));
    ASSERT_OK(check_json(json, "b", same, 1, NOW, &msg));
    ASSERT_EQ(check_json(json, "b", other, 1, NOW, &msg), -ERR_INVALID_POLICY);
    buf_release(&msg);
}

TEST(post_policy_expiration_forms_and_ranges)
{
    struct post_policy *p = NULL;
    struct buf msg = BUF_INIT;
    uint64_t min, max;

    ASSERT_OK(parse_json("{\"expiration\": \"2030-01-01T00:00:00Z\", \"conditions\": ["
                         "[\"content-length-range\", 5, 100],"
                         "[\"content-length-range\", \"10\", 50]]}",
                         &p, &msg));
    ASSERT_EQ(post_policy_expiration(p), 1893456000);
    ASSERT(post_policy_length_range(p, &min, &max));
    ASSERT_EQ(min, 10); /* the intersection */
    ASSERT_EQ(max, 50);
    ASSERT_EQ(post_policy_check(p, "b", NULL, 0, 1893456001, &msg), -ERR_INVALID_POLICY);
    ASSERT_OK(post_policy_check(p, "b", NULL, 0, 1893456000, &msg));
    post_policy_free(p);
    ASSERT_OK(parse_json("{\"expiration\": \"2030-01-01T00:00:00.123456Z\", \"conditions\": []}",
                         &p, &msg));
    ASSERT_EQ(post_policy_expiration(p), 1893456000);
    post_policy_free(p);
    buf_release(&msg);
}

/*
 * A Signature Version 2 form (botocore's default): signature =
 * base64(HMAC-SHA1(secret, policy as sent)); computed with Python's hmac.
 */
#define V2_POLICY                                                                                  \
    "eyJleHBpcmF0aW9uIjogIjIwMDctMTItMDFUMTI6MDA6MDAuMDAwWiIsICJjb25kaXRpb25zIjogW3siYnVja2V0Ijog" \
    "ImpvaG5zbWl0aCJ9XX0="
#define V2_SIG "CfxLnKyftmMZcwAleE5orcJZ14w="

TEST(post_policy_v2_signature)
{
    struct sigv4_auth a;

    ASSERT_OK(post_policy_verify_v2(SLICE_LIT(V2_POLICY), SLICE_LIT(AK), SLICE_LIT(V2_SIG), lookup,
                                    NULL, &a, NULL));
    ASSERT_STREQ(a.access_key, AK);
    ASSERT_EQ(post_policy_verify_v2(SLICE_LIT(V2_POLICY "x"), SLICE_LIT(AK), SLICE_LIT(V2_SIG),
                                    lookup, NULL, &a, NULL),
              -ERR_SIG_MISMATCH);
    ASSERT_EQ(post_policy_verify_v2(SLICE_LIT(V2_POLICY), SLICE_LIT(AK),
                                    SLICE_LIT("CfxLnKyftmMZcwAleE5orcJZ14W="), lookup, NULL, &a,
                                    NULL),
              -ERR_SIG_MISMATCH);
    ASSERT_EQ(post_policy_verify_v2(SLICE_LIT(V2_POLICY), SLICE_LIT(AK), SLICE_LIT(""), lookup,
                                    NULL, &a, NULL),
              -ERR_SIG_MISMATCH);
    ASSERT_EQ(post_policy_verify_v2(SLICE_LIT(V2_POLICY), SLICE_LIT("NOPE"), SLICE_LIT(V2_SIG),
                                    lookup, NULL, &a, NULL),
              -ERR_INVALID_ACCESS_KEY);
    ASSERT_EQ(post_policy_verify_v2(SLICE_LIT(V2_POLICY), SLICE_LIT(""), SLICE_LIT(V2_SIG), lookup,
                                    NULL, &a, NULL),
              -ERR_INVALID_ACCESS_KEY);
}
