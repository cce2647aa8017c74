/* tests/unit/s3/test_sse.c: server-side encryption headers checked as S3 checks them. */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"
#include "util/err.h"

#define KEY "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs="
#define KEY_MD5 "DWygnHRtgiJ77HCm+1rvHw=="

/* Checks headers given as "name", "value", ..., NULL. */
static int
check(bool read, const char **code, const char **msg, ...)
{
    struct http_header h[8];
    size_t n = 0;
    const char *name;
    va_list ap;

    va_start(ap, msg);
    while ((name = va_arg(ap, const char *)) != NULL && n < ARRAY_SIZE(h)) {
        h[n].name = slice_cstr(name);
        h[n].value = slice_cstr(va_arg(ap, const char *));
        n++;
    }
    va_end(ap);
    return s3_sse_check(h, n, read, code, msg);
}

#define ALGO "x-amz-server-side-encryption-customer-algorithm"
#define CKEY "x-amz-server-side-encryption-customer-key"
#define CMD5 "x-amz-server-side-encryption-customer-key-md5"
#define SSE "x-amz-server-side-encryption"
#define KMS_ID "x-amz-server-side-encryption-aws-kms-key-id"

TEST(s3_sse_valid_requests)
{
    const char *code, *msg;

    ASSERT_EQ(check(false, &code, &msg, "x-amz-meta-a", "b", NULL), 0);
    ASSERT_EQ(check(true, &code, &msg, NULL), 0);
    ASSERT_EQ(check(false, &code, &msg, SSE, "AES256", NULL), S3_SSE_MANAGED);
    ASSERT_EQ(check(false, &code, &msg, SSE, "aws:kms", KMS_ID, "k1", NULL), S3_SSE_MANAGED);
    ASSERT_EQ(check(false, &code, &msg, SSE, "aws:kms:dsse", NULL), S3_SSE_MANAGED);
    ASSERT_EQ(check(false, &code, &msg, ALGO, "AES256", CKEY, KEY, CMD5, KEY_MD5, NULL),
              S3_SSE_CUSTOMER);
    ASSERT_EQ(check(true, &code, &msg, ALGO, "AES256", CKEY, KEY, CMD5, KEY_MD5, NULL),
              S3_SSE_CUSTOMER);
}

TEST(s3_sse_invalid_requests)
{
    const char *code, *msg;

    /* SSE-C: the key and its MD5 without the algorithm (s3-tests test_encryption_key_no_sse_c) */
    ASSERT_EQ(check(false, &code, &msg, CKEY, KEY, CMD5, KEY_MD5, NULL), -ERR_INVALID_ARGUMENT);
    ASSERT(code == NULL && strstr(msg, "valid encryption algorithm"));
    ASSERT_EQ(check(false, &code, &msg, ALGO, "AES128", CKEY, KEY, CMD5, KEY_MD5, NULL),
              -ERR_INVALID_ARGUMENT);
    ASSERT_STREQ(code, "InvalidEncryptionAlgorithmError");
    ASSERT_EQ(check(false, &code, &msg, ALGO, "AES256", NULL), -ERR_INVALID_ARGUMENT);
    ASSERT_EQ(check(false, &code, &msg, ALGO, "AES256", CKEY, "c2hvcnQ=", CMD5, KEY_MD5, NULL),
              -ERR_INVALID_ARGUMENT);
    ASSERT_EQ(check(false, &code, &msg, ALGO, "AES256", CKEY, KEY, NULL), -ERR_INVALID_ARGUMENT);
    ASSERT_EQ(check(false, &code, &msg, ALGO, "AES256", CKEY, KEY, CMD5,
                    "AAAAAAAAAAAAAAAAAAAAAA==", NULL),
              -ERR_INVALID_ARGUMENT);
    ASSERT(strstr(msg, "MD5") != NULL);
    /* SSE-C with SSE-S3 or SSE-KMS */
    ASSERT_EQ(
        check(false, &code, &msg, SSE, "AES256", ALGO, "AES256", CKEY, KEY, CMD5, KEY_MD5, NULL),
        -ERR_INVALID_ARGUMENT);
    /* an unknown method; KMS headers without aws:kms */
    ASSERT_EQ(check(false, &code, &msg, SSE, "aes:kms", NULL), -ERR_INVALID_ARGUMENT);
    ASSERT_EQ(check(false, &code, &msg, KMS_ID, "k", NULL), -ERR_INVALID_ARGUMENT);
    ASSERT_EQ(check(false, &code, &msg, SSE, "AES256", KMS_ID, "k", NULL), -ERR_INVALID_ARGUMENT);
    /* a read declares no SSE-S3 or SSE-KMS */
    ASSERT_EQ(check(true, &code, &msg, SSE, "aws:kms", KMS_ID, "k", NULL), -ERR_INVALID_ARGUMENT);
    ASSERT_EQ(check(true, &code, &msg, SSE, "AES256", NULL), -ERR_INVALID_ARGUMENT);
}
