/*
 * fuzz/iam_policy.c: the policy parser and evaluator (iam/policy.h).
 *
 * Input: a policy document, optionally followed by a NUL byte and a request
 * value. The document is parsed both as an identity policy and as a bucket
 * policy; a failure must be one of the documented errors with a message.
 * Each parsed policy is evaluated against a few fixed requests and one
 * built from the request value (used as the resource's key, as the value of
 * every condition key and as the principal's name), and asked whether it is
 * public.
 */
#include "util/base.h"

#include "iam/policy.h"
#include "util/buf.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
    "aws:SourceIp",  "aws:SecureTransport", "aws:CurrentTime", "aws:EpochTime", "aws:username",
    "aws:userid",    "s3:prefix",           "s3:max-keys",     "aws:TagKeys",   "aws:PrincipalArn",
    "aws:SourceArn", "s3:x-amz-acl",        "aws:Referer",     "s3:delimiter",
};

static void
eval_all(const struct iam_policy *p, const char *value)
{
    static const struct iam_cond_kv fixed[] = {
        { "aws:SourceIp", "10.1.2.3" },
        { "aws:SourceIp", "2001:db8::1" },
        { "aws:SecureTransport", "true" },
        { "aws:CurrentTime", "2026-01-02T03:04:05Z" },
        { "aws:EpochTime", "1767323045" },
        { "aws:username", "alice" },
        { "s3:prefix", "home/alice/" },
        { "s3:max-keys", "10.5" },
        { "aws:TagKeys", "env" },
        { "aws:TagKeys", "team" },
        { "aws:PrincipalArn", "arn:aws:iam::123456789012:user/alice" },
    };
    struct iam_cond_kv fuzzed[ARRAY_SIZE(keys)];
    struct iam_cond_table t_fixed = { fixed, ARRAY_SIZE(fixed) };
    struct iam_cond_table t_fuzzed = { fuzzed, ARRAY_SIZE(fuzzed) };
    struct buf res = BUF_INIT;
    struct iam_request reqs[] = {
        { "s3:GetObject", "arn:aws:s3:::b/k", "arn:aws:iam::123456789012:user/alice", "alice",
          "123456789012", iam_cond_table, &t_fixed },
        { "s3:ListBucket", "arn:aws:s3:::b", NULL, NULL, NULL, iam_cond_table, &t_fixed },
        { "admin:ServerInfo", NULL, "arn:aws:iam::123456789012:root", "root", "123456789012", NULL,
          NULL },
        { "s3:PutObject", NULL, "arn:aws:iam::123456789012:user/x", value, "123456789012",
          iam_cond_table, &t_fuzzed },
        { value, "arn:aws:s3:::b/k", NULL, NULL, NULL, iam_cond_table, &t_fuzzed },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(keys); i++) {
        fuzzed[i].key = keys[i];
        fuzzed[i].value = value;
    }
    buf_addf(&res, "arn:aws:s3:::b/%s", value);
    reqs[3].resource = res.ptr;
    for (i = 0; i < ARRAY_SIZE(reqs); i++) {
        enum iam_decision d = iam_policy_eval(p, &reqs[i]);

        BUG_ON(d != IAM_NONE && d != IAM_ALLOW && d != IAM_DENY);
    }
    (void)iam_policy_is_public(p);
    buf_release(&res);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum iam_policy_kind kinds[] = { IAM_POLICY_IDENTITY, IAM_POLICY_BUCKET };
    const uint8_t *nul = memchr(data, '\0', size);
    size_t doclen = nul ? (size_t)(nul - data) : size;
    char *value = nul ? xstrndup((const char *)nul + 1, size - doclen - 1) : xstrdup("");
    size_t i;

    for (i = 0; i < ARRAY_SIZE(kinds); i++) {
        struct iam_policy *p = NULL;
        struct buf msg = BUF_INIT;
        int rc = iam_policy_parse(slice_make(data, doclen), kinds[i], &p, &msg);

        if (rc == 0) {
            eval_all(p, value);
            iam_policy_free(p);
        } else {
            BUG_ON(rc != -ERR_MALFORMED_POLICY && rc != -ERR_POLICY_TOO_LARGE);
            BUG_ON(msg.len == 0);
            BUG_ON(p != NULL);
        }
        buf_release(&msg);
    }
    free(value);
    return 0;
}
