/* tests/unit/s3/test_errors.c: the S3 error table and the error document. */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"
#include "util/err.h"

/* Every util/errors.def symbol has an S3 mapping (iterating the generated tables). */
TEST(s3_error_table_complete)
{
    static const char *const codes[ERR__COUNT] = {
#define S3ERR(sym, status, code, msg) [ERR_##sym] = code,
#include "s3/errors.def"
#undef S3ERR
    };
    int e;

    for (e = 0; e < ERR__COUNT; e++) {
        const struct s3_error *x = s3_error_lookup(-e);

        if (!codes[e])
            harness_fail(__FILE__, __LINE__, "%s has no S3 mapping", err_name(e));
        ASSERT(x->status >= 200 && x->status <= 599);
        ASSERT(x->code && x->code[0]);
        ASSERT(x->message && x->message[0]);
    }
}

TEST(s3_error_codes)
{
    static const struct {
        int err;
        unsigned status;
        const char *code;
    } want[] = {
        { ERR_KEY_NOT_FOUND, 404, "NoSuchKey" },
        { ERR_BUCKET_NOT_FOUND, 404, "NoSuchBucket" },
        { ERR_BUCKET_EXISTS, 409, "BucketAlreadyOwnedByYou" },
        { ERR_NOT_EMPTY, 409, "BucketNotEmpty" },
        { ERR_INVALID_BUCKET_NAME, 400, "InvalidBucketName" },
        { ERR_KEY_TOO_LONG, 400, "KeyTooLongError" },
        { ERR_SIG_MISMATCH, 403, "SignatureDoesNotMatch" },
        { ERR_INVALID_ACCESS_KEY, 403, "InvalidAccessKeyId" },
        { ERR_ACCESS_DENIED, 403, "AccessDenied" },
        { ERR_TIME_SKEWED, 403, "RequestTimeTooSkewed" },
        { ERR_EXPIRED, 403, "AccessDenied" },
        { ERR_AUTH_MALFORMED, 400, "AuthorizationHeaderMalformed" },
        { ERR_INVALID_RANGE, 416, "InvalidRange" },
        { ERR_TOO_LARGE, 400, "EntityTooLarge" },
        { ERR_INVALID_DIGEST, 400, "InvalidDigest" },
        { ERR_BAD_DIGEST, 400, "BadDigest" },
        { ERR_SHA256_MISMATCH, 400, "XAmzContentSHA256Mismatch" },
        { ERR_INCOMPLETE_BODY, 400, "IncompleteBody" },
        { ERR_METHOD_NOT_ALLOWED, 405, "MethodNotAllowed" },
        { ERR_NOT_IMPLEMENTED, 501, "NotImplemented" },
        { ERR_BUSY, 503, "SlowDown" },
        { ERR_QUORUM, 503, "SlowDown" },
        { ERR_MALFORMED_XML, 400, "MalformedXML" },
        { ERR_INTERNAL, 500, "InternalError" },
        { ERR_MISSING_LENGTH, 411, "MissingContentLength" },
        { ERR_INVALID_ARGUMENT, 400, "InvalidArgument" },
        { ERR_INVALID_LOCATION, 400, "InvalidLocationConstraint" },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(want); i++) {
        const struct s3_error *x = s3_error_lookup(-want[i].err);

        ASSERT_EQ(x->status, want[i].status);
        ASSERT_STREQ(x->code, want[i].code);
    }
    ASSERT_STREQ(s3_error_lookup(ERR__COUNT + 5)->code, "InternalError");
}

TEST(s3_error_document)
{
    struct buf x = BUF_INIT;

    s3_error_xml(&x, s3_error_lookup(-ERR_KEY_NOT_FOUND), NULL, NULL, "/b/a&b", "b", "a&b",
                 "0123456789ABCDEF");
    ASSERT(strstr(x.ptr, "<Code>NoSuchKey</Code>"));
    ASSERT(strstr(x.ptr, "<Message>The specified key does not exist.</Message>"));
    ASSERT(strstr(x.ptr, "<Resource>/b/a&amp;b</Resource>"));
    ASSERT(strstr(x.ptr, "<Key>a&amp;b</Key>"));
    ASSERT(strstr(x.ptr, "<RequestId>0123456789ABCDEF</RequestId>"));
    buf_clear(&x);
    s3_error_xml(&x, s3_error_lookup(-ERR_AUTH_MALFORMED), "AuthorizationQueryParametersError",
                 "bad", "/", NULL, NULL, "1");
    ASSERT(strstr(x.ptr, "<Code>AuthorizationQueryParametersError</Code><Message>bad</Message>"));
    buf_release(&x);
}

/* The memory budget admits requests up to the limit, and always one at a time. */
TEST(s3_memory_budget)
{
    struct s3_config cfg = {
        .region = "us-east-1", .root_user = "user", .root_password = "password", .max_memory = 10
    };
    struct s3 *s = s3_new(&cfg);

    ASSERT(s3__mem_reserve(s, 4));
    ASSERT(s3__mem_reserve(s, 6));
    ASSERT(!s3__mem_reserve(s, 1));
    s3__mem_release(s, 6);
    ASSERT(s3__mem_reserve(s, 5));
    ASSERT(!s3__mem_reserve(s, 2));
    s3__mem_release(s, 5);
    s3__mem_release(s, 4);
    ASSERT(s3__mem_reserve(s, 100)); /* larger than the budget, but alone: admitted */
    ASSERT(!s3__mem_reserve(s, 1));
    s3__mem_release(s, 100);
    s3_free(s);
}
