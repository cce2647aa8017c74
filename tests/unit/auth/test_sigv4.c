/*
 * tests/unit/auth/test_sigv4.c: SigV4 against the examples AWS publishes in
 * the S3 API reference ("Signature Calculations for the Authorization Header:
 * Transferring Payload in a Single Chunk" and "Authenticating Requests: Using
 * Query Parameters"), then the error paths and sign/verify round trips.
 */
#include "util/base.h"

#include "auth/sigv4.h"
#include "harness.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/enc.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define HOST "examplebucket.s3.amazonaws.com"
#define T0 ((time_t)1369353600) /* 20130524T000000Z */
#define EMPTY SIGV4_EMPTY_SHA256
#define CRED AK "/20130524/us-east-1/s3/aws4_request"

/* Each test key maps to its secret; "odd keys" exercise the round trips. */
struct key {
    const char *access;
    const char *secret;
};

static const struct key keys[] = {
    { AK, SK },
    { "odd key+/%2F", "s p a c e+/%2F\xc3\xa9\xe2\x82\xac" },
};

static int
lookup(void *arg, struct slice access_key, struct buf *secret)
{
    size_t i;

    if (slice_eq_cstr(access_key, "AKIDQUORUM"))
        return -ERR_QUORUM; /* the IAM store cannot answer */
    for (i = 0; i < ARRAY_SIZE(keys); i++) {
        if (slice_eq_cstr(access_key, keys[i].access)) {
            buf_adds(secret, keys[i].secret);
            return 0;
        }
    }
    return -ERR_INVALID_ACCESS_KEY;
}

/* A request under test: up to 8 headers. */
struct treq {
    struct sigv4_header h[8];
    struct sigv4_req r;
};

static void
treq_init(struct treq *t, const char *method, const char *path, const char *query)
{
    memset(t, 0, sizeof(*t));
    t->r.method = slice_cstr(method);
    t->r.path = slice_cstr(path);
    t->r.query = slice_cstr(query);
    t->r.headers = t->h;
    t->r.now = T0;
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
verify(const struct treq *t, struct sigv4_auth *a)
{
    struct buf msg = BUF_INIT;
    int rc = sigv4_verify(&t->r, lookup, NULL, a, &msg);

    buf_release(&msg);
    return rc;
}

/* GET Object: Range bytes=0-9. */
static void
get_object_req(struct treq *t, const char *authz)
{
    treq_init(t, "GET", "/test.txt", "");
    treq_add(t, "Host", HOST);
    treq_add(t, "Range", "bytes=0-9");
    treq_add(t, "x-amz-content-sha256", EMPTY);
    treq_add(t, "x-amz-date", "20130524T000000Z");
    if (authz)
        treq_add(t, "Authorization", authz);
}

#define GET_OBJECT_SIG "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
#define GET_OBJECT_AUTHZ                                                                           \
    "AWS4-HMAC-SHA256 Credential=" CRED                                                            \
    ",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=" GET_OBJECT_SIG

TEST(sigv4_aws_get_object)
{
    struct treq t;
    struct sigv4_auth a;
    struct buf authz = BUF_INIT;

    get_object_req(&t, NULL);
    sigv4_sign(&t.r, AK, SK, "us-east-1", &authz);
    ASSERT_STREQ(authz.ptr, GET_OBJECT_AUTHZ);
    treq_add(&t, "Authorization", authz.ptr);
    ASSERT_OK(verify(&t, &a));
    ASSERT_STREQ(a.access_key, AK);
    ASSERT_STREQ(a.region, "us-east-1");
    ASSERT_STREQ(a.date, "20130524");
    ASSERT_STREQ(a.payload_hash, EMPTY);
    ASSERT_STREQ(a.seed_signature, GET_OBJECT_SIG);
    ASSERT_EQ(a.request_time, T0);
    ASSERT(!a.presigned);
    sigv4_auth_clear(&a);
    buf_release(&authz);
}

/* PUT Object: "PUT test$file.text" is sent raw and signed as /test%24file.text. */
TEST(sigv4_aws_put_object)
{
    static const char body_sha[] =
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    struct treq t;
    struct sigv4_auth a;
    char h[65];

    sha256_hex("Welcome to Amazon S3.", 21, h);
    ASSERT_STREQ(h, body_sha);
    treq_init(&t, "PUT", "/test$file.text", "");
    treq_add(&t, "Host", HOST);
    treq_add(&t, "Date", "Fri, 24 May 2013 00:00:00 GMT");
    treq_add(&t, "x-amz-date", "20130524T000000Z");
    treq_add(&t, "x-amz-storage-class", "REDUCED_REDUNDANCY");
    treq_add(&t, "x-amz-content-sha256", body_sha);
    treq_add(&t, "Authorization",
             "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=date;host;x-amz-content-sha256;"
             "x-amz-date;x-amz-storage-class,Signature="
             "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    ASSERT_OK(verify(&t, &a));
    ASSERT_STREQ(a.payload_hash, body_sha);
    /* The same path sent encoded signs the same. */
    t.r.path = SLICE_LIT("/test%24file.text");
    ASSERT_OK(verify(&t, &a));
}

static void
bucket_get_req(struct treq *t, const char *query, const char *sig)
{
    static char authz[512];

    treq_init(t, "GET", "/", query);
    treq_add(t, "Host", HOST);
    treq_add(t, "x-amz-date", "20130524T000000Z");
    treq_add(t, "x-amz-content-sha256", EMPTY);
    snprintf(authz, sizeof(authz),
             "AWS4-HMAC-SHA256 Credential=" CRED
             ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=%s",
             sig);
    treq_add(t, "Authorization", authz);
}

/* GET Bucket Lifecycle: a parameter without a value is signed as "lifecycle=". */
TEST(sigv4_aws_get_lifecycle)
{
    static const char sig[] = "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543";
    struct treq t;
    struct sigv4_auth a;

    bucket_get_req(&t, "lifecycle", sig);
    ASSERT_OK(verify(&t, &a));
    bucket_get_req(&t, "lifecycle=", sig);
    ASSERT_OK(verify(&t, &a));
}

/* GET Bucket (List Objects): parameters sorted, order on the wire does not matter. */
TEST(sigv4_aws_list_objects)
{
    static const char sig[] = "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7";
    struct treq t;
    struct sigv4_auth a;

    bucket_get_req(&t, "max-keys=2&prefix=J", sig);
    ASSERT_OK(verify(&t, &a));
    bucket_get_req(&t, "prefix=J&max-keys=2", sig);
    ASSERT_OK(verify(&t, &a));
    bucket_get_req(&t, "prefix=%4A&max-keys=2", sig); /* decoded then encoded again */
    ASSERT_OK(verify(&t, &a));
    bucket_get_req(&t, "max-keys=2&prefix=K", sig);
    ASSERT_EQ(verify(&t, &a), -ERR_SIG_MISMATCH);
}

#define PRESIGN_SIG "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
#define PRESIGN_QUERY                                                                              \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"         \
    "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"               \
    "X-Amz-SignedHeaders=host&X-Amz-Signature=" PRESIGN_SIG

TEST(sigv4_aws_presigned)
{
    struct buf q = BUF_INIT;
    struct treq t;
    struct sigv4_auth a;

    sigv4_presign(SLICE_LIT("GET"), SLICE_LIT("/test.txt"), SLICE_NULL, SLICE_LIT(HOST), T0, 86400,
                  AK, SK, "us-east-1", &q);
    ASSERT_STREQ(q.ptr, PRESIGN_QUERY);
    treq_init(&t, "GET", "/test.txt", PRESIGN_QUERY);
    treq_add(&t, "Host", HOST);
    t.r.now = T0 + 3600;
    ASSERT_OK(verify(&t, &a));
    ASSERT(a.presigned);
    ASSERT_STREQ(a.payload_hash, SIGV4_UNSIGNED_PAYLOAD);
    ASSERT_STREQ(a.seed_signature, PRESIGN_SIG);
    t.r.now = T0 + 86400 + 1;
    ASSERT_EQ(verify(&t, &a), -ERR_EXPIRED);
    t.r.now = T0 - 16 * 60;
    ASSERT_EQ(verify(&t, &a), -ERR_TIME_SKEWED);
    t.r.now = T0 - 14 * 60;
    ASSERT_OK(verify(&t, &a));
    buf_release(&q);
}

TEST(sigv4_presigned_errors)
{
    struct treq t;
    struct sigv4_auth a;
    struct buf q = BUF_INIT;

    sigv4_presign(SLICE_LIT("GET"), SLICE_LIT("/b/k"), SLICE_LIT("versionId=3"), SLICE_LIT("h"), T0,
                  604801, AK, SK, "us-east-1", &q);
    treq_init(&t, "GET", "/b/k", q.ptr);
    treq_add(&t, "host", "h");
    ASSERT_EQ(verify(&t, &a), -ERR_AUTH_MALFORMED);
    buf_clear(&q);
    sigv4_presign(SLICE_LIT("GET"), SLICE_LIT("/b/k"), SLICE_LIT("versionId=3"), SLICE_LIT("h"), T0,
                  604800, AK, SK, "us-east-1", &q);
    t.r.query = buf_slice(&q);
    ASSERT_OK(verify(&t, &a));
    /* Tampered query value. */
    buf_adds(&q, "&x=1");
    t.r.query = buf_slice(&q);
    ASSERT_EQ(verify(&t, &a), -ERR_SIG_MISMATCH);
    /* Presigned and Authorization together. */
    t.r.query = SLICE_LIT(PRESIGN_QUERY);
    treq_add(&t, "Authorization", GET_OBJECT_AUTHZ);
    ASSERT_EQ(verify(&t, &a), -ERR_AUTH_MALFORMED);
    /* Duplicate parameter, missing parameter, non-hex signature. */
    treq_init(&t, "GET", "/test.txt", PRESIGN_QUERY "&X-Amz-Expires=86400");
    treq_add(&t, "host", HOST);
    ASSERT_EQ(verify(&t, &a), -ERR_AUTH_MALFORMED);
    t.r.query = SLICE_LIT("X-Amz-Signature=" PRESIGN_SIG);
    ASSERT_EQ(verify(&t, &a), -ERR_AUTH_MALFORMED);
    t.r.query = SLICE_LIT("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
                          "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                          "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=zz");
    ASSERT_EQ(verify(&t, &a), -ERR_AUTH_MALFORMED);
    buf_release(&q);
}

TEST(sigv4_wrong_secret_and_unknown_key)
{
    struct treq t;
    struct sigv4_auth a;
    struct buf authz = BUF_INIT;

    get_object_req(&t, NULL);
    sigv4_sign(&t.r, AK, "not-the-secret", "us-east-1", &authz);
    treq_add(&t, "Authorization", authz.ptr);
    memset(&a, 0x55, sizeof(a));
    ASSERT_EQ(verify(&t, &a), -ERR_SIG_MISMATCH);
    ASSERT_EQ(a.access_key[0], 0x55); /* untouched on error */
    buf_clear(&authz);
    get_object_req(&t, NULL);
    sigv4_sign(&t.r, "AKIDUNKNOWN", SK, "us-east-1", &authz);
    treq_add(&t, "Authorization", authz.ptr);
    ASSERT_EQ(verify(&t, &a), -ERR_INVALID_ACCESS_KEY);
    buf_clear(&authz);
    get_object_req(&t, NULL);
    sigv4_sign(&t.r, "AKIDQUORUM", SK, "us-east-1", &authz);
    treq_add(&t, "Authorization", authz.ptr);
    ASSERT_EQ(verify(&t, &a), -ERR_QUORUM);
    buf_release(&authz);
}

/*
 * Signing keys are cached (sigv4.c): the same request signed again with the
 * secret, after more other secrets than the cache holds and after secrets
 * that differ only in their last byte or length, still gives AWS's
 * signature; each other secret gives its own.
 */
TEST(sigv4_signing_key_cache)
{
    char secret[64], first[65] = "";
    struct buf authz = BUF_INIT;
    struct treq t;
    int i, round;

    for (round = 0; round < 2; round++) {
        for (i = 0; i < 40; i++) {
            snprintf(secret, sizeof(secret), "%s%s", SK, i % 2 ? "x" : "");
            if (i >= 2)
                snprintf(secret, sizeof(secret), "other-secret-%d", i);
            get_object_req(&t, NULL);
            buf_clear(&authz);
            sigv4_sign(&t.r, AK, secret, "us-east-1", &authz);
            if (i == 0)
                ASSERT_STREQ(authz.ptr, GET_OBJECT_AUTHZ);
            else
                ASSERT(strstr(authz.ptr, GET_OBJECT_SIG) == NULL);
            if (i == 1 && round == 0)
                snprintf(first, sizeof(first), "%s", strstr(authz.ptr, "Signature=") + 10);
            if (i == 1 && round == 1)
                ASSERT_STREQ(strstr(authz.ptr, "Signature=") + 10, first);
        }
        get_object_req(&t, NULL);
        buf_clear(&authz);
        sigv4_sign(&t.r, AK, SK, "us-east-1", &authz);
        ASSERT_STREQ(authz.ptr, GET_OBJECT_AUTHZ);
    }
    buf_release(&authz);
}

TEST(sigv4_tampered_header)
{
    struct treq t;
    struct sigv4_auth a;

    get_object_req(&t, GET_OBJECT_AUTHZ);
    t.h[1].value = SLICE_LIT("bytes=0-10");
    ASSERT_EQ(verify(&t, &a), -ERR_SIG_MISMATCH);
    get_object_req(&t, GET_OBJECT_AUTHZ);
    t.h[1].value = SLICE_LIT("  bytes=0-9  "); /* trimmed: still good */
    ASSERT_OK(verify(&t, &a));
    get_object_req(&t, GET_OBJECT_AUTHZ);
    t.r.method = SLICE_LIT("PUT");
    ASSERT_EQ(verify(&t, &a), -ERR_SIG_MISMATCH);
    get_object_req(&t, GET_OBJECT_AUTHZ);
    t.r.query = SLICE_LIT("x=1");
    ASSERT_EQ(verify(&t, &a), -ERR_SIG_MISMATCH);
    get_object_req(&t, GET_OBJECT_AUTHZ);
    t.h[1].name = SLICE_LIT("x-not-range"); /* the signed range header is missing */
    ASSERT_EQ(verify(&t, &a), -ERR_AUTH_MALFORMED);
}

static int
verify_at(const char *amz_date, time_t now)
{
    struct treq t;
    struct sigv4_auth a;
    struct buf authz = BUF_INIT;
    int rc;

    get_object_req(&t, NULL);
    t.h[3].value = slice_cstr(amz_date);
    t.r.now = now;
    sigv4_sign(&t.r, AK, SK, "us-east-1", &authz);
    treq_add(&t, "Authorization", authz.ptr);
    rc = verify(&t, &a);
    buf_release(&authz);
    return rc;
}

TEST(sigv4_clock_skew)
{
    ASSERT_OK(verify_at("20130524T000000Z", T0 + 14 * 60));
    ASSERT_OK(verify_at("20130524T000000Z", T0 - 14 * 60));
    ASSERT_OK(verify_at("20130524T000000Z", T0 + 15 * 60));
    ASSERT_EQ(verify_at("20130524T000000Z", T0 + 16 * 60), -ERR_TIME_SKEWED);
    ASSERT_EQ(verify_at("20130524T000000Z", T0 - 16 * 60), -ERR_TIME_SKEWED);
    ASSERT_EQ(verify_at("2013-05-24T00:00:00Z", T0), -ERR_AUTH_MALFORMED);
}

/* Without x-amz-date the Date header gives the time (AWS's fallback). */
TEST(sigv4_date_header_fallback)
{
    struct treq t;
    struct sigv4_auth a;
    struct buf authz = BUF_INIT;

    treq_init(&t, "GET", "/b/k", "");
    treq_add(&t, "host", "localhost:9000");
    treq_add(&t, "date", "Fri, 24 May 2013 00:05:00 GMT");
    t.r.now = T0 + 300;
    sigv4_sign(&t.r, AK, SK, "us-east-1", &authz);
    treq_add(&t, "Authorization", authz.ptr);
    ASSERT_OK(verify(&t, &a));
    ASSERT_EQ(a.request_time, T0 + 300);
    ASSERT_STREQ(a.payload_hash, EMPTY);
    buf_release(&authz);
}

static int
verify_authz(const char *authz)
{
    struct treq t;
    struct sigv4_auth a;

    get_object_req(&t, authz);
    return verify(&t, &a);
}

TEST(sigv4_header_parsing)
{
    static const char *const good[] = {
        "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host;range;x-amz-content-sha256;"
        "x-amz-date, Signature=" GET_OBJECT_SIG,
        "  AWS4-HMAC-SHA256   Signature=" GET_OBJECT_SIG " ,Credential=" CRED
        " ,  SignedHeaders=host;range;x-amz-content-sha256;x-amz-date  ",
    };
    static const char *const bad[] = {
        "garbage",
        "",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256Credential=" CRED ",SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
        "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host;range;x-amz-date",
        "AWS4-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" CRED ",Credential=" CRED
        ",SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" CRED
        ",SignedHeaders=range;x-amz-date,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host;range,Signature=xyz",
        "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host;range,Signature=" GET_OBJECT_SIG
        "00",
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/ec2/aws4_request,"
        "SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" AK "/20130525/us-east-1/s3/aws4_request,"
        "SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" AK "/2013052/us-east-1/s3/aws4_request,"
        "SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=Host;range,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host;;range,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host,Signature=" GET_OBJECT_SIG
        ",Extra=1",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(good); i++)
        ASSERT_OK(verify_authz(good[i]));
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        int rc = verify_authz(bad[i]);

        if (rc != -ERR_AUTH_MALFORMED)
            harness_fail(__FILE__, __LINE__, "bad[%zu] gave %s", i, err_name(rc));
    }
}

TEST(sigv4_no_auth_is_anonymous)
{
    struct treq t;
    struct sigv4_auth a;

    get_object_req(&t, NULL);
    ASSERT(!sigv4_is_signed(&t.r));
    ASSERT_EQ(verify(&t, &a), -ERR_ACCESS_DENIED);
    t.r.query = SLICE_LIT("X-Amz-Credential=x");
    ASSERT(sigv4_is_signed(&t.r));
    ASSERT_EQ(verify(&t, &a), -ERR_AUTH_MALFORMED);
    get_object_req(&t, GET_OBJECT_AUTHZ);
    ASSERT(sigv4_is_signed(&t.r));
    treq_add(&t, "authorization", GET_OBJECT_AUTHZ);
    ASSERT_EQ(verify(&t, &a), -ERR_AUTH_MALFORMED); /* two Authorization headers */
}

/* Sign as the client does, verify as the server does, with awkward keys, paths and queries. */
static void
roundtrip(const struct key *k, const char *path, const char *query)
{
    struct treq t;
    struct sigv4_auth a;
    struct buf authz = BUF_INIT, q = BUF_INIT;

    treq_init(&t, "PUT", path, query);
    treq_add(&t, "Host", "127.0.0.1:9000");
    treq_add(&t, "X-Amz-Date", "20130524T000000Z");
    treq_add(&t, "X-Amz-Content-Sha256", SIGV4_UNSIGNED_PAYLOAD);
    treq_add(&t, "x-amz-meta-a", "  one   two ");
    treq_add(&t, "X-Amz-Meta-A", "three");
    sigv4_sign(&t.r, k->access, k->secret, "eu-west-3", &authz);
    treq_add(&t, "Authorization", authz.ptr);
    ASSERT_OK(verify(&t, &a));
    ASSERT_STREQ(a.access_key, k->access);
    ASSERT_STREQ(a.region, "eu-west-3");
    sigv4_presign(SLICE_LIT("GET"), slice_cstr(path), slice_cstr(query),
                  SLICE_LIT("127.0.0.1:9000"), T0, 60, k->access, k->secret, "eu-west-3", &q);
    treq_init(&t, "GET", path, q.ptr);
    treq_add(&t, "host", "127.0.0.1:9000");
    ASSERT_OK(verify(&t, &a));
    ASSERT_STREQ(a.access_key, k->access);
    buf_release(&authz);
    buf_release(&q);
}

TEST(sigv4_roundtrip_odd_keys)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(keys); i++) {
        roundtrip(&keys[i], "/b/k", "");
        roundtrip(&keys[i], "/b/a%20b%2Fc+d%E2%82%AC", "prefix=a%2Fb&delimiter=%2F&x");
        roundtrip(&keys[i], "/b/raw key+$&=,@", "a=%zz&b=1&b=0&c=+");
        roundtrip(&keys[i], "", "uploads");
    }
}

TEST(sigv4_hash_helpers)
{
    char h[65];
    uint8_t mac[32];
    struct buf hex = BUF_INIT;

    sha256_hex("", 0, h);
    ASSERT_STREQ(h, EMPTY);
    /* RFC 4231 test case 2 */
    hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    hex_encode(&hex, mac, sizeof(mac));
    ASSERT_STREQ(hex.ptr, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    buf_release(&hex);
}
