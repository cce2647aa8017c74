/*
 * s3/sse.c: the server-side encryption headers of a request, checked as S3
 * checks them. Basalt does not encrypt yet, so a valid request for
 * encryption is answered 501 NotImplemented by the caller (never a plain,
 * unencrypted success); an invalid combination gets S3's 400 first:
 *
 *   SSE-C (x-amz-server-side-encryption-customer-algorithm, -key, -key-md5):
 *     all three, the algorithm AES256, the key 32 bytes in base64 and the MD5
 *     the key's; never with x-amz-server-side-encryption;
 *   x-amz-server-side-encryption: AES256, aws:kms or aws:kms:dsse;
 *   the KMS headers (-aws-kms-key-id, -context) only with aws:kms(:dsse);
 *   on a GET or HEAD, x-amz-server-side-encryption and the KMS headers are
 *   refused (S3 decrypts SSE-S3 and SSE-KMS objects by itself).
 *
 * CopyObject and UploadPartCopy name the source's SSE-C key with the same
 * three headers under "x-amz-copy-source-"; they are checked alike.
 */
#include "util/base.h"

#include "s3/internal.h"
#include "util/enc.h"
#include "util/err.h"
#include "util/md5.h"

#define SSE_HEADER "x-amz-server-side-encryption"
#define SSE_KEY_BYTES 32 /* AES-256 */

static const char *const kms_headers[] = {
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-context",
};

/* The value of header `name` (any case); false if absent. */
static bool
header_get(const struct http_header *h, size_t n, const char *name, struct slice *v)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (slice_case_eq_cstr(h[i].name, name)) {
            *v = slice_trim(h[i].value);
            return true;
        }
    }
    return false;
}

static int
fail(const char **code, const char **msg, const char *c, const char *m)
{
    *code = c;
    *msg = m;
    return -ERR_INVALID_ARGUMENT;
}

/* The three SSE-C headers named from `prefix` ("x-amz-" or "x-amz-copy-source-"). */
static int
check_customer(const struct http_header *h, size_t n, const char *prefix, const char **code,
               const char **msg)
{
    char name[96];
    struct slice algo, key, md5;
    bool has_algo, has_key, has_md5;
    struct buf raw = BUF_INIT, want = BUF_INIT;
    struct md5 c;
    uint8_t sum[MD5_SIZE];
    int rc = 0;

    snprintf(name, sizeof(name), "%sserver-side-encryption-customer-algorithm", prefix);
    has_algo = header_get(h, n, name, &algo);
    snprintf(name, sizeof(name), "%sserver-side-encryption-customer-key", prefix);
    has_key = header_get(h, n, name, &key);
    snprintf(name, sizeof(name), "%sserver-side-encryption-customer-key-md5", prefix);
    has_md5 = header_get(h, n, name, &md5);
    if (!has_algo && !has_key && !has_md5)
        return 0;
    if (!has_algo)
        return fail(code, msg, NULL,
                    "Requests specifying Server Side Encryption with Customer provided keys "
                    "must provide a valid encryption algorithm.");
    if (!slice_eq_cstr(algo, "AES256"))
        return fail(code, msg, "InvalidEncryptionAlgorithmError",
                    "The encryption request you specified is not valid. The valid value is "
                    "AES256.");
    if (!has_key)
        return fail(code, msg, NULL,
                    "Requests specifying Server Side Encryption with Customer provided keys "
                    "must provide an appropriate secret key.");
    if (base64_decode(&raw, key) < 0 || raw.len != SSE_KEY_BYTES) {
        rc = fail(code, msg, NULL, "The secret key was invalid for the specified algorithm.");
        goto out;
    }
    if (!has_md5) {
        rc = fail(code, msg, NULL,
                  "Requests specifying Server Side Encryption with Customer provided keys must "
                  "provide the client calculated MD5 of the secret key.");
        goto out;
    }
    md5_init(&c);
    md5_update(&c, raw.ptr, raw.len);
    md5_final(&c, sum);
    base64_encode(&want, sum, sizeof(sum));
    if (!slice_eq(md5, buf_slice(&want)))
        rc = fail(code, msg, NULL,
                  "The calculated MD5 hash of the key did not match the hash that was provided.");
    else
        rc = S3_SSE_CUSTOMER;
out:
    buf_release_secure(&raw); /* the customer's key */
    buf_release(&want);
    return rc;
}

int
s3_sse_check(const struct http_header *h, size_t n, bool read, const char **code, const char **msg)
{
    struct slice sse, v;
    bool has_sse = header_get(h, n, SSE_HEADER, &sse), kms = false;
    size_t i;
    int rc;

    *code = *msg = NULL;
    for (i = 0; i < ARRAY_SIZE(kms_headers); i++)
        kms |= header_get(h, n, kms_headers[i], &v);
    if (read && (has_sse || kms))
        return fail(code, msg, NULL,
                    "x-amz-server-side-encryption header is not supported for this operation.");
    rc = check_customer(h, n, "x-amz-", code, msg);
    if (rc < 0)
        return rc;
    if (rc == S3_SSE_CUSTOMER && has_sse)
        return fail(code, msg, NULL,
                    "Server Side Encryption with Customer provided key is incompatible with the "
                    "encryption method specified");
    if (rc == S3_SSE_CUSTOMER)
        return rc;
    if (has_sse && !slice_eq_cstr(sse, "AES256") && !slice_eq_cstr(sse, "aws:kms") &&
        !slice_eq_cstr(sse, "aws:kms:dsse"))
        return fail(code, msg, NULL, "The encryption method specified is not supported");
    if (kms && !(has_sse && slice_starts_with(sse, SLICE_LIT("aws:kms"))))
        return fail(code, msg, NULL,
                    "Server Side Encryption with AWS KMS managed key requires HTTP header "
                    "x-amz-server-side-encryption : aws:kms");
    return has_sse ? S3_SSE_MANAGED : 0;
}

int
s3_sse_check_copy_source(const struct http_header *h, size_t n, const char **code, const char **msg)
{
    *code = *msg = NULL;
    return check_customer(h, n, "x-amz-copy-source-", code, msg);
}
