/*
 * auth/post_policy.h: the POST policy of browser uploads (S3 "Browser-Based
 * Uploads Using POST", Signature Version 4).
 *
 * A form carries `policy` (base64 of a JSON document) and its SigV4
 * signature: x-amz-signature = hex(HMAC-SHA256(signing key, policy as
 * sent, base64)), with the signing key of the x-amz-credential scope
 * (secret, date, region, "s3"). The document:
 *
 *   { "expiration": "2007-12-01T12:00:00.000Z",
 *     "conditions": [ {"bucket": "b"},                     exact match
 *                     ["eq", "$key", "a/b"],                exact match
 *                     ["starts-with", "$key", "user/"],     prefix ("" = anything)
 *                     ["content-length-range", 1, 1048576] ] }
 *
 * Field names are case-insensitive ("$Content-Type" covers content-type).
 * A starts-with on Content-Type holding a comma-separated list applies to
 * each element. An absent field compares as the empty string. Every form
 * field must be named by a condition except x-amz-signature, file, policy
 * and x-ignore-* (S3's rule); content-length-range is the caller's to
 * enforce on the file's size (post_policy_length_range).
 *
 * Pure functions of their arguments; any thread.
 */
#ifndef BASALT_AUTH_POST_POLICY_H
#define BASALT_AUTH_POST_POLICY_H

#include "util/base.h"

#include <time.h>

#include "auth/sigv4.h"
#include "util/buf.h"
#include "util/slice.h"

#define POST_POLICY_MAX_CONDITIONS 256

struct post_policy;

/* A form field, borrowed. */
struct post_field {
    struct slice name;
    struct slice value;
};

/*
 * Decodes and parses a policy (the base64 text of the form's `policy`
 * field). Returns 0 and a new policy in `*out` (free with
 * post_policy_free), or -ERR_MALFORMED_POST (not base64, not JSON, no or a
 * malformed expiration, no conditions, an unknown condition or operator, a
 * content-length-range that is not two integers min <= max), with the
 * reason in `errmsg` if non-NULL ("Invalid Policy: ...", S3's wording; s3/
 * answers it as InvalidPolicyDocument).
 */
int post_policy_parse(struct slice policy_b64, struct post_policy **out, struct buf *errmsg);
void post_policy_free(struct post_policy *p);

/* The expiration (seconds since the epoch, UTC). */
time_t post_policy_expiration(const struct post_policy *p);

/*
 * The intersection of the content-length-range conditions: true and
 * `*min`/`*max` when there is at least one; false (untouched) otherwise.
 */
bool post_policy_length_range(const struct post_policy *p, uint64_t *min, uint64_t *max);

/*
 * Checks the policy against the form: not expired at `now`, every condition
 * holds (`$bucket` is compared with `bucket`, the bucket of the request,
 * and with a `bucket` field if the form has one), every field is covered.
 * Field names of `fields` may be in any case. Returns 0 or
 * -ERR_INVALID_POLICY with S3's message in `errmsg` ("Invalid according to
 * Policy: Policy expired.", "... Policy Condition failed: [\"eq\", \"$key\",
 * \"x\"]", "... Extra input fields: foo").
 */
int post_policy_check(const struct post_policy *p, const char *bucket,
                      const struct post_field *fields, size_t nfields, time_t now,
                      struct buf *errmsg);

/* The signature fields of a SigV4 POST form (slices of the field values). */
struct post_sig {
    struct slice algorithm;  /* x-amz-algorithm: AWS4-HMAC-SHA256 */
    struct slice credential; /* x-amz-credential: AK/YYYYMMDD/region/s3/aws4_request */
    struct slice date;       /* x-amz-date: YYYYMMDDTHHMMSSZ, same day as the scope */
    struct slice signature;  /* x-amz-signature: 64 hex digits */
};

/*
 * Verifies the signature of `policy_b64` (the text as sent). `region` is the
 * server's: the credential scope must name it. On success returns 0 and
 * fills `out` (access key, region, date, request time, signing key: clear
 * it with sigv4_auth_clear). Errors: -ERR_AUTH_MALFORMED (wrong algorithm,
 * malformed credential or date, a scope of another region or service, a
 * date on another day than the scope), -ERR_INVALID_ACCESS_KEY,
 * -ERR_SIG_MISMATCH, or any other error of `lookup`; the reason in `errmsg`
 * if non-NULL (never the secret). Compared in constant time.
 */
int post_policy_verify(struct slice policy_b64, const struct post_sig *sig, const char *region,
                       sigv4_lookup_fn *lookup, void *lookup_arg, struct sigv4_auth *out,
                       struct buf *errmsg);

/*
 * A Signature Version 2 form (AWSAccessKeyId, signature, policy): the
 * signature is base64(HMAC-SHA1(secret, policy_b64)). 0 and `out` (access
 * key), -ERR_INVALID_ACCESS_KEY, -ERR_SIG_MISMATCH, or an error of `lookup`.
 * Compared in constant time.
 */
int post_policy_verify_v2(struct slice policy_b64, struct slice access_key, struct slice signature,
                          sigv4_lookup_fn *lookup, void *lookup_arg, struct sigv4_auth *out,
                          struct buf *errmsg);

/*
 * Signs `policy_b64` as a client does: writes 64 hex digits and a NUL into
 * `sig_hex`. `date` is the scope's YYYYMMDD.
 */
void post_policy_sign(struct slice policy_b64, const char *secret_key, const char *date,
                      const char *region, char sig_hex[65]);

#endif
