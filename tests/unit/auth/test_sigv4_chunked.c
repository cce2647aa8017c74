/*
 * tests/unit/auth/test_sigv4_chunked.c: aws-chunked signatures against the
 * examples AWS publishes in the S3 API reference: "Signature Calculations for
 * the Authorization Header: Transferring Payload in Multiple Chunks" (PUT of
 * 66,560 bytes of 'a' in chunks of 65,536 and 1,024 bytes, then the final
 * empty chunk) and "Signature calculations for trailing headers" (the same
 * with an x-amz-checksum-crc32c trailer).
 */
#include "util/base.h"

#include <openssl/evp.h>

#include "auth/sigv4.h"
#include "harness.h"
#include "util/buf.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T0 ((time_t)1369353600) /* 20130524T000000Z */

static int
lookup(void *arg, struct slice access_key, struct buf *secret)
{
    if (!slice_eq_cstr(access_key, AK))
        return -ERR_INVALID_ACCESS_KEY;
    buf_adds(secret, SK);
    return 0;
}

static void
sha256_raw(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 32;

    BUG_ON(!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL));
}

/* Verifies the example's request head; returns the auth state the chunks chain from. */
static void
verify_example(bool trailer, struct sigv4_auth *a)
{
    struct sigv4_header h[9] = {
        { SLICE_LIT("Host"), SLICE_LIT("s3.amazonaws.com") },
        { SLICE_LIT("x-amz-date"), SLICE_LIT("20130524T000000Z") },
        { SLICE_LIT("x-amz-storage-class"), SLICE_LIT("REDUCED_REDUNDANCY") },
        { SLICE_LIT("Content-Encoding"), SLICE_LIT("aws-chunked") },
        { SLICE_LIT("x-amz-decoded-content-length"), SLICE_LIT("66560") },
    };
    struct sigv4_req r = { .method = SLICE_LIT("PUT"),
                           .path = SLICE_LIT("/examplebucket/chunkObject.txt"),
                           .headers = h,
                           .nheaders = 5,
                           .now = T0 };
    struct buf msg = BUF_INIT;

    if (!trailer) {
        h[r.nheaders++] = (struct sigv4_header){ SLICE_LIT("x-amz-content-sha256"),
                                                 SLICE_LIT("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") };
        h[r.nheaders++] = (struct sigv4_header){ SLICE_LIT("Content-Length"), SLICE_LIT("66824") };
        h[r.nheaders++] = (struct sigv4_header){
            SLICE_LIT("Authorization"),
            SLICE_LIT(
                "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;"
                "x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
                "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
        };
    } else {
        h[r.nheaders++] =
            (struct sigv4_header){ SLICE_LIT("x-amz-content-sha256"),
                                   SLICE_LIT("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") };
        h[r.nheaders++] =
            (struct sigv4_header){ SLICE_LIT("x-amz-trailer"), SLICE_LIT("x-amz-checksum-crc32c") };
        h[r.nheaders++] = (struct sigv4_header){
            SLICE_LIT("Authorization"),
            SLICE_LIT(
                "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;"
                "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,"
                "Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e")
        };
    }
    ASSERT_OK(sigv4_verify(&r, lookup, NULL, a, &msg));
    buf_release(&msg);
}

/* Signs the example's three chunks from `a`'s seed; checks each against `want`. */
static void
check_chain(const struct sigv4_auth *a, const char *const want[3], char last[65])
{
    char *data = xmalloc(65536);
    uint8_t hash[32];
    char sig[65], prev[65];

    memset(data, 'a', 65536);
    memcpy(prev, a->seed_signature, 65);
    sha256_raw(data, 65536, hash);
    sigv4_chunk_sign(a, prev, hash, sig);
    ASSERT_STREQ(sig, want[0]);
    memcpy(prev, sig, 65);
    sha256_raw(data, 1024, hash);
    sigv4_chunk_sign(a, prev, hash, sig);
    ASSERT_STREQ(sig, want[1]);
    memcpy(prev, sig, 65);
    sha256_raw("", 0, hash);
    sigv4_chunk_sign(a, prev, hash, sig);
    ASSERT_STREQ(sig, want[2]);
    memcpy(last, sig, 65);
    free(data);
}

TEST(sigv4_chunked_aws_example)
{
    static const char *const want[3] = {
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    };
    struct sigv4_auth a;
    char last[65];

    verify_example(false, &a);
    ASSERT_STREQ(a.payload_hash, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    ASSERT_STREQ(a.seed_signature,
                 "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    check_chain(&a, want, last);
    sigv4_auth_clear(&a);
}

TEST(sigv4_chunked_aws_trailer_example)
{
    static const char *const want[3] = {
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    };
    static const char trailer[] = "x-amz-checksum-crc32c:sOO8/Q==\n";
    struct sigv4_auth a;
    uint8_t hash[32];
    char last[65], sig[65];

    verify_example(true, &a);
    ASSERT_STREQ(a.seed_signature,
                 "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e");
    check_chain(&a, want, last);
    sha256_raw(trailer, sizeof(trailer) - 1, hash);
    sigv4_trailer_sign(&a, last, hash, sig);
    ASSERT_STREQ(sig, "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435");
    sigv4_auth_clear(&a);
}

TEST(sigv4_chunked_for_signing_matches_verify)
{
    static const char *const want[3] = {
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    };
    struct sigv4_auth a;
    uint8_t hash[32];
    char last[65], sig[65];

    /* The client's way in: the key from the secret, the seed from the request. */
    sigv4_auth_for_signing(&a, AK, SK, "us-east-1", T0,
                           "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    ASSERT_STREQ(a.date, "20130524");
    check_chain(&a, want, last);
    /* Another previous signature, another result: the chain is order-sensitive. */
    sha256_raw("", 0, hash);
    sigv4_chunk_sign(&a, want[0], hash, sig);
    ASSERT(strcmp(sig, want[2]) != 0);
    sigv4_auth_clear(&a);
}
