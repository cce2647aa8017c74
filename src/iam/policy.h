/*
 * iam/policy.h: AWS policy documents (IAM identity policies, S3 bucket
 * policies, session policies) parsed once into an immutable compiled form and
 * evaluated without I/O or allocation-heavy work on the request path
 * (DESIGN.md "Identity and access").
 *
 * A document: {"Version": "2012-10-17" | "2008-10-17", "Id"?: "...",
 * "Statement": [ statement, ... ] | statement}. A statement:
 *   Sid        optional string
 *   Effect     "Allow" | "Deny"
 *   Principal  bucket policies only (required there, refused elsewhere):
 *              "*", {"AWS": "*" | arn | [arns]}; NotPrincipal likewise
 *   Action | NotAction      string or list; "service:Name" with * and ?,
 *                           matched case-insensitively; services s3, admin,
 *                           iam, sts; every name must match a known action
 *   Resource | NotResource  string or list of ARNs with * and ?, matched
 *                           case-sensitively; optional for admin:/sts: only
 *   Condition  {operator: {key: value | [values]}}
 * Operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
 * StringNotEqualsIgnoreCase, StringLike, StringNotLike, NumericEquals,
 * NumericNotEquals, NumericLessThan, NumericLessThanEquals,
 * NumericGreaterThan, NumericGreaterThanEquals, DateEquals, DateNotEquals,
 * DateLessThan, DateLessThanEquals, DateGreaterThan, DateGreaterThanEquals,
 * Bool, IpAddress, NotIpAddress, Null, ArnEquals, ArnNotEquals, ArnLike,
 * ArnNotLike; each also as <op>IfExists (but Null), and prefixed with
 * ForAnyValue: or ForAllValues: for multi-valued keys. Values of the wrong
 * type (a Numeric* value that is not a number, a Date* value that is neither
 * ISO 8601 nor epoch seconds, an IpAddress value that is not an IPv4/IPv6
 * address or CIDR, a Bool value not true/false) are refused at parse time.
 *
 * Policy variables ${aws:username}, ${aws:userid}, ${aws:PrincipalType},
 * ${s3:prefix}... (any condition key) in Resource and in condition values of
 * String* and Arn* operators, and the escapes ${*}, ${?}, ${$}; a variable
 * whose key the request does not have makes that resource or value match
 * nothing. Only with Version 2012-10-17: under 2008-10-17 (or no Version,
 * which AWS reads as 2008-10-17) "${...}" is literal text.
 *
 * Evaluation of one document (iam_policy_eval): IAM_DENY if any matching
 * Deny statement; else IAM_ALLOW if any matching Allow statement; else
 * IAM_NONE. Combining documents (explicit deny wins, default deny, the
 * parent's rights narrowed by an inline or session policy) is iam/iam.c's.
 */
#ifndef BASALT_IAM_POLICY_H
#define BASALT_IAM_POLICY_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

#define IAM_POLICY_MAX (20u * 1024) /* bytes of a document; more: -ERR_POLICY_TOO_LARGE */

struct iam_policy; /* compiled, immutable; thread-safe to evaluate concurrently */

enum iam_policy_kind {
    IAM_POLICY_IDENTITY, /* user, group, service account, session: no Principal */
    IAM_POLICY_BUCKET,   /* a bucket policy: Principal required */
};

enum iam_decision {
    IAM_NONE,  /* no statement applies */
    IAM_ALLOW, /* an Allow statement applies and no Deny does */
    IAM_DENY,  /* a Deny statement applies */
};

/*
 * Parses and checks `doc`. Returns 0 and `*out` (free with
 * iam_policy_free), or -ERR_POLICY_TOO_LARGE (over IAM_POLICY_MAX), or
 * -ERR_MALFORMED_POLICY with the reason in `errmsg` (if not NULL): where
 * the JSON breaks (line and column), or which statement and field is wrong
 * ("Statement[2].Condition: NumericLessThan value \"abc\" is not a number",
 * "Statement[0].Action: unknown action \"s3:GetObjekt\"").
 */
int iam_policy_parse(struct slice doc, enum iam_policy_kind kind, struct iam_policy **out,
                     struct buf *errmsg);
void iam_policy_free(struct iam_policy *p);

/*
 * The values of condition key `key` (case-insensitive name as written in
 * the policy: "aws:SourceIp", "s3:prefix", "s3:ExistingObjectTag/owner")
 * for the request being evaluated: up to `max` values into `vals` (slices
 * stay valid until the evaluation returns); returns how many the key has
 * (0: the key is absent), which may exceed `max` (only `max` are used).
 * Called only for keys the matching statements name, so that a costly key
 * (an object's existing tags) is fetched only when a policy asks for it.
 */
typedef size_t iam_cond_fn(void *arg, const char *key, struct slice *vals, size_t max);

/* What a request asks for, as the policy sees it. */
struct iam_request {
    const char *action;   /* "s3:GetObject", "admin:CreateUser", "iam:CreateUser" */
    const char *resource; /* "arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket"; NULL: none */
    /*
     * The caller, for bucket policies' Principal: its ARN
     * ("arn:aws:iam::<account>:user/<name>", "arn:aws:iam::<account>:root"),
     * NULL for an anonymous request. `account` is the deployment's account
     * id (12 digits): "arn:aws:iam::<account>:root" and the bare account id
     * in a Principal match every authenticated caller of the deployment.
     * `principal_name` (the user name or access key) also matches a bare
     * name in a Principal, as MinIO allows.
     */
    const char *principal;
    const char *principal_name;
    const char *account;
    iam_cond_fn *cond; /* NULL: every key absent */
    void *cond_arg;
};

/*
 * Evaluates `p` for `r`: IAM_DENY, IAM_ALLOW or IAM_NONE (see above). A
 * statement with no Resource (admin:, sts:) applies to any resource; a
 * request with a NULL resource is matched only by such statements, by a
 * Resource of "*" or by a NotResource (it is none of the ARNs listed).
 * Thread-safe; no I/O but what `r->cond` does.
 */
enum iam_decision iam_policy_eval(const struct iam_policy *p, const struct iam_request *r);

/*
 * Whether `action` ("s3:GetObject", any case) is one the parser knows: the
 * table of actions that a policy may name (S3's complete list as AWS
 * documents it, MinIO's admin: actions, the iam: and sts: actions Basalt
 * serves).
 */
bool iam_action_is_known(const char *action);

/*
 * Whether `p` could allow anything to an anonymous caller, for
 * GetBucketPolicyStatus (IsPublic): an Allow statement whose Principal is
 * "*" (or {"AWS": "*"}) without a Condition that restricts it to specific
 * addresses or accounts (aws:SourceIp, aws:SourceVpc, aws:PrincipalAccount...).
 */
bool iam_policy_is_public(const struct iam_policy *p);

/*
 * A condition key table for tests and simple callers: `kv` pairs of
 * (key, value) with repeated keys for multi-valued ones; key names compare
 * case-insensitively. Use as r->cond = iam_cond_table, r->cond_arg = &table.
 */
struct iam_cond_kv {
    const char *key;
    const char *value;
};
struct iam_cond_table {
    const struct iam_cond_kv *kv;
    size_t n;
};
size_t iam_cond_table(void *arg, const char *key, struct slice *vals, size_t max);

#endif
