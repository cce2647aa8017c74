/*
 * iam/policy.c: AWS policy documents (see policy.h), compiled at parse time
 * into flat arrays so that evaluation does no parsing and, but for a policy
 * variable whose value is huge, no allocation.
 *
 * Compiled forms:
 *  - actions: a bitmap over the table of known actions (actions[] below), so
 *    a request's action is one binary search and one bit test per statement;
 *    the patterns are kept as well, for an action outside the table.
 *  - patterns (Resource, String*, Arn*): an encoded string in which '*' and
 *    '?' are wildcards, ESC c is the literal byte c (a '*' or '?' written
 *    where no wildcard is allowed, or from ${*} ${?}) and VAR stands for the
 *    next policy variable; without variables, a pattern that is "*", a plain
 *    string or a plain prefix followed by '*' is matched without the glob.
 *  - numbers (double), dates (microseconds since the epoch), CIDRs (16 bytes,
 *    IPv4 as ::ffff:a.b.c.d/96+n) and booleans are parsed once.
 *  - Deny statements come first, so the first matching Deny ends the
 *    evaluation, and then the first matching Allow.
 */
#include "util/base.h"

#include "iam/policy.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <strings.h>

#include "util/err.h"

#define ESC '\x01' /* the next byte is literal */
#define VAR '\x02' /* the next policy variable of the pattern */

#define STACK_VALS 32    /* condition values fetched without allocating */
#define STACK_EXPAND 512 /* a pattern with variables expanded without allocating */

/* Every action a policy may name, sorted case-insensitively (checked in debug builds). */
static const char *const actions[] = {
    "admin:AddUserToGroup",
    "admin:AttachUserOrGroupPolicy",
    "admin:BandwidthMonitor",
    "admin:CancelBatchJob",
    "admin:ChangeMyPassword",
    "admin:ClusterInfo",
    "admin:ConfigUpdate",
    "admin:ConsoleLog",
    "admin:CreatePolicy",
    "admin:CreateServiceAccount",
    "admin:CreateUser",
    "admin:DataUsageInfo",
    "admin:Decommission",
    "admin:DeletePolicy",
    "admin:DeleteUser",
    "admin:DescribeBatchJob",
    "admin:DisableGroup",
    "admin:DisableUser",
    "admin:DriveInfo",
    "admin:DriveList",
    "admin:EnableGroup",
    "admin:EnableUser",
    "admin:ExportBucketMetadata",
    "admin:ExportIAM",
    "admin:ForceUnlock",
    "admin:GenerateBatchJob",
    "admin:GetBucketCompression",
    "admin:GetBucketQuota",
    "admin:GetBucketTarget",
    "admin:GetGroup",
    "admin:GetPolicy",
    "admin:GetUser",
    "admin:Heal",
    "admin:ImportBucketMetadata",
    "admin:ImportIAM",
    "admin:InspectData",
    "admin:InventoryControl",
    "admin:KMSBackup",
    "admin:KMSCreateKey",
    "admin:KMSEnable",
    "admin:KMSKeyRotate",
    "admin:KMSKeyStatus",
    "admin:KMSRestore",
    "admin:LicenseInfo",
    "admin:ListBatchJobs",
    "admin:ListGroups",
    "admin:ListServiceAccounts",
    "admin:ListTemporaryAccounts",
    "admin:ListTier",
    "admin:ListUserPolicies",
    "admin:ListUsers",
    "admin:NodeInfo",
    "admin:NodeList",
    "admin:OBDInfo",
    "admin:PoolInfo",
    "admin:PoolList",
    "admin:Profiling",
    "admin:Prometheus",
    "admin:Rebalance",
    "admin:RemoveServiceAccount",
    "admin:RemoveUserFromGroup",
    "admin:ReplicationDiff",
    "admin:ServerInfo",
    "admin:ServerTrace",
    "admin:ServerUpdate",
    "admin:ServiceCordon",
    "admin:ServiceFreeze",
    "admin:ServiceRestart",
    "admin:ServiceStop",
    "admin:SetBucketCompression",
    "admin:SetBucketQuota",
    "admin:SetBucketTarget",
    "admin:SetInfo",
    "admin:SetTier",
    "admin:SiteReplicationAdd",
    "admin:SiteReplicationDisable",
    "admin:SiteReplicationInfo",
    "admin:SiteReplicationOperation",
    "admin:SiteReplicationRemove",
    "admin:SiteReplicationResync",
    "admin:StartBatchJob",
    "admin:StorageInfo",
    "admin:TopLocksInfo",
    "admin:UpdatePolicyAssociation",
    "admin:UpdateServiceAccount",
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateGroup",
    "iam:CreatePolicy",
    "iam:CreateUser",
    "iam:DeleteAccessKey",
    "iam:DeleteGroup",
    "iam:DeleteGroupPolicy",
    "iam:DeletePolicy",
    "iam:DeleteUser",
    "iam:DeleteUserPolicy",
    "iam:DetachGroupPolicy",
    "iam:DetachUserPolicy",
    "iam:GetGroup",
    "iam:GetGroupPolicy",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetUser",
    "iam:GetUserPolicy",
    "iam:ListAccessKeys",
    "iam:ListAttachedGroupPolicies",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupPolicies",
    "iam:ListGroups",
    "iam:ListGroupsForUser",
    "iam:ListPolicies",
    "iam:ListUserPolicies",
    "iam:ListUsers",
    "iam:PutGroupPolicy",
    "iam:PutUserPolicy",
    "iam:RemoveUserFromGroup",
    "iam:UpdateAccessKey",
    "iam:UpdateUser",
    "s3:AbortMultipartUpload",
    "s3:AllowVendedLogDeliveryForResource",
    "s3:AssociateAccessGrantsIdentityCenter",
    "s3:BypassGovernanceRetention",
    "s3:CreateAccessGrant",
    "s3:CreateAccessGrantsInstance",
    "s3:CreateAccessGrantsLocation",
    "s3:CreateAccessPoint",
    "s3:CreateAccessPointForObjectLambda",
    "s3:CreateBucket",
    "s3:CreateBucketMetadataTableConfiguration",
    "s3:CreateJob",
    "s3:CreateMultiRegionAccessPoint",
    "s3:CreateStorageLensGroup",
    "s3:DeleteAccessGrant",
    "s3:DeleteAccessGrantsInstance",
    "s3:DeleteAccessGrantsInstanceResourcePolicy",
    "s3:DeleteAccessGrantsLocation",
    "s3:DeleteAccessPoint",
    "s3:DeleteAccessPointForObjectLambda",
    "s3:DeleteAccessPointPolicy",
    "s3:DeleteAccessPointPolicyForObjectLambda",
    "s3:DeleteBucket",
    "s3:DeleteBucketMetadataTableConfiguration",
    "s3:DeleteBucketPolicy",
    "s3:DeleteBucketWebsite",
    "s3:DeleteJobTagging",
    "s3:DeleteMultiRegionAccessPoint",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:DeleteStorageLensConfiguration",
    "s3:DeleteStorageLensConfigurationTagging",
    "s3:DeleteStorageLensGroup",
    "s3:DescribeJob",
    "s3:DescribeMultiRegionAccessPointOperation",
    "s3:DissociateAccessGrantsIdentityCenter",
    "s3:GetAccelerateConfiguration",
    "s3:GetAccessGrant",
    "s3:GetAccessGrantsInstance",
    "s3:GetAccessGrantsInstanceForPrefix",
    "s3:GetAccessGrantsInstanceResourcePolicy",
    "s3:GetAccessGrantsLocation",
    "s3:GetAccessPoint",
    "s3:GetAccessPointConfigurationForObjectLambda",
    "s3:GetAccessPointForObjectLambda",
    "s3:GetAccessPointPolicy",
    "s3:GetAccessPointPolicyForObjectLambda",
    "s3:GetAccessPointPolicyStatus",
    "s3:GetAccessPointPolicyStatusForObjectLambda",
    "s3:GetAccountPublicAccessBlock",
    "s3:GetAnalyticsConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketMetadataTableConfiguration",
    "s3:GetBucketNotification",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetDataAccess",
    "s3:GetEncryptionConfiguration",
    "s3:GetIntelligentTieringConfiguration",
    "s3:GetInventoryConfiguration",
    "s3:GetJobTagging",
    "s3:GetLifecycleConfiguration",
    "s3:GetMetricsConfiguration",
    "s3:GetMultiRegionAccessPoint",
    "s3:GetMultiRegionAccessPointPolicy",
    "s3:GetMultiRegionAccessPointPolicyStatus",
    "s3:GetMultiRegionAccessPointRoutes",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectAttributes",
    "s3:GetObjectLegalHold",
    "s3:GetObjectRetention",
    "s3:GetObjectTagging",
    "s3:GetObjectTorrent",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionAttributes",
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectVersionTorrent",
    "s3:GetReplicationConfiguration",
    "s3:GetStorageLensConfiguration",
    "s3:GetStorageLensConfigurationTagging",
    "s3:GetStorageLensDashboard",
    "s3:GetStorageLensGroup",
    "s3:InitiateReplication",
    "s3:ListAccessGrants",
    "s3:ListAccessGrantsInstances",
    "s3:ListAccessGrantsLocations",
    "s3:ListAccessPoints",
    "s3:ListAccessPointsForObjectLambda",
    "s3:ListAllMyBuckets",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:ListCallerAccessGrants",
    "s3:ListenBucketNotification",
    "s3:ListenNotification",
    "s3:ListJobs",
    "s3:ListMultipartUploadParts",
    "s3:ListMultiRegionAccessPoints",
    "s3:ListStorageLensConfigurations",
    "s3:ListStorageLensGroups",
    "s3:ListTagsForResource",
    "s3:ObjectOwnerOverrideToBucketOwner",
    "s3:PauseReplication",
    "s3:PutAccelerateConfiguration",
    "s3:PutAccessGrantsInstanceResourcePolicy",
    "s3:PutAccessPointConfigurationForObjectLambda",
    "s3:PutAccessPointPolicy",
    "s3:PutAccessPointPolicyForObjectLambda",
    "s3:PutAccessPointPublicAccessBlock",
    "s3:PutAccountPublicAccessBlock",
    "s3:PutAnalyticsConfiguration",
    "s3:PutBucketAcl",
    "s3:PutBucketCORS",
    "s3:PutBucketLogging",
    "s3:PutBucketNotification",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketRequestPayment",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutBucketWebsite",
    "s3:PutEncryptionConfiguration",
    "s3:PutIntelligentTieringConfiguration",
    "s3:PutInventoryConfiguration",
    "s3:PutJobTagging",
    "s3:PutLifecycleConfiguration",
    "s3:PutMetricsConfiguration",
    "s3:PutMultiRegionAccessPointPolicy",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectFanOut",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectVersionTagging",
    "s3:PutReplicationConfiguration",
    "s3:PutStorageLensConfiguration",
    "s3:PutStorageLensConfigurationTagging",
    "s3:ReplicateDelete",
    "s3:ReplicateObject",
    "s3:ReplicateTags",
    "s3:ResetBucketReplicationState",
    "s3:RestoreObject",
    "s3:SubmitMultiRegionAccessPointRoutes",
    "s3:TagResource",
    "s3:UntagResource",
    "s3:UpdateAccessGrantsLocation",
    "s3:UpdateBucketMetadataInventoryTableConfiguration",
    "s3:UpdateBucketMetadataJournalTableConfiguration",
    "s3:UpdateJobPriority",
    "s3:UpdateJobStatus",
    "s3:UpdateStorageLensGroup",
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:GetCallerIdentity",
};

#define NACTIONS ARRAY_SIZE(actions)
#define ABITS_WORDS ((NACTIONS + 63) / 64)

enum pat_kind {
    PAT_ANY,    /* "*" */
    PAT_EXACT,  /* `s` is the literal */
    PAT_PREFIX, /* `s` is the literal before a final '*' */
    PAT_GLOB,   /* `s` is encoded */
    PAT_VARS,   /* `s` is encoded with VAR bytes; `vars` their keys */
};

struct pat {
    enum pat_kind kind;
    char *s;
    size_t len;
    char **vars;
    size_t nvars;
};

/* What a condition operator compares. */
enum cond_kind {
    COND_STR,    /* StringEquals */
    COND_STR_CI, /* StringEqualsIgnoreCase */
    COND_LIKE,   /* StringLike */
    COND_NUM,
    COND_DATE,
    COND_BOOL,
    COND_IP,
    COND_ARN, /* ArnEquals and ArnLike: both take wildcards (AWS) */
    COND_NULL,
};

enum cond_cmp { CMP_EQ, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
enum cond_set { SET_NONE, SET_ANY, SET_ALL };

struct cidr {
    uint8_t addr[16];
    unsigned prefix; /* 0-128 */
};

union cval {
    struct pat pat;
    double num;
    int64_t date; /* microseconds since the epoch */
    bool b;
    struct cidr ip;
};

struct cond {
    enum cond_kind kind;
    enum cond_cmp cmp;
    enum cond_set set;
    bool neg;
    bool if_exists;
    char *key;
    union cval *vals;
    size_t nvals;
};

enum princ_kind {
    PRINC_ACCOUNT, /* "123456789012" or "arn:aws:iam::123456789012:root" */
    PRINC_ARN,     /* any other ARN, compared whole */
    PRINC_NAME,    /* a bare user name or access key (MinIO) */
};

struct princ {
    enum princ_kind kind;
    char *s;
};

enum elem_mode { ELEM_NONE, ELEM_LIST, ELEM_NOT };

struct stmt {
    bool deny;
    bool not_action;
    uint64_t abits[ABITS_WORDS]; /* the known actions the Action list matches */
    struct pat *act;             /* lowercase not needed: matched case-insensitively */
    size_t nact;
    enum elem_mode res_mode;
    struct pat *res;
    size_t nres;
    enum elem_mode pr_mode;
    bool pr_any; /* "*" or {"AWS": "*"} among the principals */
    struct princ *pr;
    size_t npr;
    struct cond *conds;
    size_t nconds;
};

struct iam_policy {
    enum iam_policy_kind kind;
    struct stmt *stmts; /* the Deny statements first */
    size_t nstmts;
};

/* ---- the action table ---------------------------------------------------------------------- */

static ssize_t
action_index(const char *action)
{
    size_t lo = 0, hi = NACTIONS;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcasecmp(action, actions[mid]);

        if (c == 0)
            return (ssize_t)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

UNUSED static bool
actions_are_sorted(void)
{
    size_t i;

    for (i = 1; i < NACTIONS; i++)
        if (strcasecmp(actions[i - 1], actions[i]) >= 0)
            return false;
    return true;
}

bool
iam_action_is_known(const char *action)
{
    return action && action_index(action) >= 0;
}

/* ---- glob matching --------------------------------------------------------------------------- */

static inline bool
byte_eq(char a, char b, bool fold)
{
    if (a == b)
        return true;
    if (!fold)
        return false;
    if (a >= 'A' && a <= 'Z')
        a += 'a' - 'A';
    if (b >= 'A' && b <= 'Z')
        b += 'a' - 'A';
    return a == b;
}

static bool
mem_eq(const char *a, const char *b, size_t n, bool fold)
{
    return fold ? strncasecmp(a, b, n) == 0 : memcmp(a, b, n) == 0;
}

/* The index after the UTF-8 character at s[i]: '?' and '*' count characters, not bytes. */
static inline size_t
utf8_next(const char *s, size_t i, size_t n)
{
    i++;
    while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
        i++;
    return i;
}

/*
 * Whether subject `s` matches encoded pattern `p` ('*', '?', ESC c): the
 * classic greedy matcher that backtracks to the last '*' only, linear in
 * practice and O(pn * sn) at worst.
 */
static bool
glob_match(const char *p, size_t pn, const char *s, size_t sn, bool fold)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

    while (si < sn) {
        if (pi < pn) {
            char c = p[pi];
            size_t step = 1;

            if (c == '*') {
                star_p = ++pi;
                star_s = si;
                continue;
            }
            if (c == '?') {
                pi++;
                si = utf8_next(s, si, sn);
                continue;
            }
            if (c == ESC && pi + 1 < pn) {
                c = p[pi + 1];
                step = 2;
            }
            if (byte_eq(c, s[si], fold)) {
                pi += step;
                si++;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        pi = star_p;
        star_s = utf8_next(s, star_s, sn);
        si = star_s;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/* ---- patterns ------------------------------------------------------------------------------ */

struct xbuf {
    char *p;
    size_t len, cap;
    bool heap;
};

static void
xbuf_add(struct xbuf *x, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (x->len + n > x->cap) {
        size_t cap = MAX(x->cap * 2, x->len + n);
        char *np = x->heap ? xrealloc(x->p, cap) : xmalloc(cap);

        if (!x->heap && x->len)
            memcpy(np, x->p, x->len);
        x->p = np;
        x->cap = cap;
        x->heap = true;
    }
    memcpy(x->p + x->len, s, n);
    x->len += n;
}

/* Appends `s` with every byte that is special in a pattern escaped. */
static void
xbuf_add_literal(struct xbuf *x, const char *s, size_t n)
{
    size_t i, start = 0;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '*' || c == '?' || c == ESC || c == VAR) {
            char esc[2] = { ESC, c };

            xbuf_add(x, s + start, i - start);
            xbuf_add(x, esc, 2);
            start = i + 1;
        }
    }
    xbuf_add(x, s + start, n - start);
}

static void
xbuf_release(struct xbuf *x)
{
    if (x->heap)
        free(x->p);
}

static void
pat_release(struct pat *p)
{
    size_t i;

    free(p->s);
    for (i = 0; i < p->nvars; i++)
        free(p->vars[i]);
    free(p->vars);
}

/*
 * Compiles `src` (`n` bytes): with `wild`, '*' and '?' are wildcards; with
 * `vars`, ${key} is a policy variable and ${*} ${?} ${$} are escapes.
 */
static void
pat_compile(struct pat *out, const char *src, size_t n, bool wild, bool vars)
{
    struct xbuf x = { 0 };
    char **keys = NULL;
    size_t nkeys = 0, i = 0, nwild = 0;
    bool trailing_star = false;
    bool escaped = false;

    while (i < n) {
        char c = src[i];

        if (vars && c == '$' && i + 1 < n && src[i + 1] == '{') {
            const char *end = memchr(src + i + 2, '}', n - i - 2);

            if (end) {
                size_t klen = (size_t)(end - (src + i + 2));
                const char *k = src + i + 2;

                if (klen == 1 && (k[0] == '*' || k[0] == '?' || k[0] == '$')) {
                    xbuf_add_literal(&x, k, 1);
                    escaped = true;
                    i += 4;
                    trailing_star = false;
                    continue;
                }
                if (klen > 0) {
                    char v = VAR;

                    keys = xrealloc(keys, (nkeys + 1) * sizeof(*keys));
                    keys[nkeys++] = xstrndup(k, klen);
                    xbuf_add(&x, &v, 1);
                    i += klen + 3;
                    trailing_star = false;
                    continue;
                }
            }
        }
        if (wild && (c == '*' || c == '?')) {
            xbuf_add(&x, &c, 1);
            nwild++;
            trailing_star = c == '*' && i + 1 == n;
        } else {
            if (c == '*' || c == '?' || c == ESC || c == VAR)
                escaped = true;
            xbuf_add_literal(&x, &c, 1);
            trailing_star = false;
        }
        i++;
    }
    memset(out, 0, sizeof(*out));
    if (nkeys) {
        out->kind = PAT_VARS;
        out->vars = keys;
        out->nvars = nkeys;
    } else if (nwild == 1 && trailing_star && x.len == 1) {
        out->kind = PAT_ANY;
    } else if (nwild == 0 && !escaped) {
        out->kind = PAT_EXACT;
    } else if (nwild == 1 && trailing_star && !escaped) {
        out->kind = PAT_PREFIX;
        x.len--;
    } else {
        out->kind = PAT_GLOB;
    }
    out->s = xmalloc(x.len + 1);
    if (x.len)
        memcpy(out->s, x.p, x.len);
    out->s[x.len] = '\0';
    out->len = x.len;
    xbuf_release(&x);
}

/* Whether the pattern contains a wildcard or a variable (for iam_policy_is_public). */
static bool
pat_is_fixed(const struct pat *p)
{
    return p->kind == PAT_EXACT ||
           (p->kind == PAT_GLOB && !memchr(p->s, '*', p->len) && !memchr(p->s, '?', p->len));
}

struct eval_ctx {
    const struct iam_request *r;
    ssize_t action;
};

static size_t
cond_fetch(const struct eval_ctx *e, const char *key, struct slice *vals, size_t max)
{
    if (!e->r->cond)
        return 0;
    return e->r->cond(e->r->cond_arg, key, vals, max);
}

/*
 * Expands the variables of `p` into `x` (each value escaped). Returns false
 * if a variable's key is absent: the pattern then matches nothing.
 */
static bool
pat_expand(const struct pat *p, const struct eval_ctx *e, struct xbuf *x)
{
    size_t i, start = 0, v = 0;

    for (i = 0; i < p->len; i++) {
        if (p->s[i] == ESC) {
            i++;
            continue;
        }
        if (p->s[i] == VAR) {
            struct slice val;

            xbuf_add(x, p->s + start, i - start);
            if (NEVER(v >= p->nvars) || cond_fetch(e, p->vars[v++], &val, 1) == 0)
                return false;
            xbuf_add_literal(x, val.ptr, val.len);
            start = i + 1;
        }
    }
    xbuf_add(x, p->s + start, p->len - start);
    return true;
}

static bool
pat_match(const struct pat *p, struct slice s, bool fold, const struct eval_ctx *e)
{
    switch (p->kind) {
    case PAT_ANY:
        return true;
    case PAT_EXACT:
        return s.len == p->len && mem_eq(s.ptr, p->s, s.len, fold);
    case PAT_PREFIX:
        return s.len >= p->len && mem_eq(s.ptr, p->s, p->len, fold);
    case PAT_GLOB:
        return glob_match(p->s, p->len, s.ptr, s.len, fold);
    case PAT_VARS: {
        char stack[STACK_EXPAND];
        struct xbuf x = { stack, 0, sizeof(stack), false };
        bool ok = pat_expand(p, e, &x) && glob_match(x.p, x.len, s.ptr, s.len, fold);

        xbuf_release(&x);
        return ok;
    }
    }
    return false;
}

/*
 * Splits an ARN (or an encoded ARN pattern, whose ESC pairs never hide a
 * ':') into its 6 fields; the last keeps any further ':'. False if it has
 * fewer than 6.
 */
static bool
arn_split(const char *s, size_t n, struct slice f[6])
{
    size_t i, k = 0, start = 0;

    for (i = 0; i < n && k < 5; i++) {
        if (s[i] == ESC) {
            i++;
            continue;
        }
        if (s[i] == ':') {
            f[k++] = slice_make(s + start, i - start);
            start = i + 1;
        }
    }
    if (k < 5)
        return false;
    f[5] = slice_make(s + start, n - start);
    return true;
}

static bool
arn_glob(const char *p, size_t pn, struct slice s)
{
    struct slice pf[6], sf[6];
    int i;

    /* a pattern that is no ARN ("*") is matched whole */
    if (!arn_split(p, pn, pf))
        return glob_match(p, pn, s.ptr, s.len, false);
    if (!arn_split(s.ptr, s.len, sf))
        return false;
    for (i = 0; i < 6; i++)
        if (!glob_match(pf[i].ptr, pf[i].len, sf[i].ptr, sf[i].len, false))
            return false;
    return true;
}

static bool
arn_match(const struct pat *p, struct slice s, const struct eval_ctx *e)
{
    char stack[STACK_EXPAND];
    struct xbuf x = { stack, 0, sizeof(stack), false };
    bool ok;

    if (p->kind == PAT_ANY)
        return true;
    if (p->kind != PAT_VARS)
        return p->kind == PAT_GLOB ? arn_glob(p->s, p->len, s)
                                   : pat_match(p, s, false, e); /* plain: compared whole */
    ok = pat_expand(p, e, &x) && arn_glob(x.p, x.len, s);
    xbuf_release(&x);
    return ok;
}

/* ---- scalar values --------------------------------------------------------------------------- */

/* "12", "-3", "0.25", "+7.": an integer or a decimal, no exponent. */
static bool
parse_number(struct slice s, double *out)
{
    char tmp[64];
    size_t i = 0, digits = 0;
    char *end;

    if (s.len == 0 || s.len >= sizeof(tmp))
        return false;
    if (s.ptr[0] == '-' || s.ptr[0] == '+')
        i++;
    for (; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++)
        digits++;
    if (i < s.len && s.ptr[i] == '.')
        for (i++; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++)
            digits++;
    if (i != s.len || digits == 0)
        return false;
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    *out = strtod(tmp, &end);
    return end == tmp + s.len;
}

static bool
digits_at(struct slice s, size_t at, size_t n, int *out)
{
    size_t i;
    int v = 0;

    if (at + n > s.len)
        return false;
    for (i = at; i < at + n; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
        v = v * 10 + (s.ptr[i] - '0');
    }
    *out = v;
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int
days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dm[m - 1];
}

/*
 * ISO 8601 "2026-01-02", "2026-01-02T03:04:05Z", with a fraction
 * (".123456"), with "Z", "+hh:mm", "-hhmm" or no zone (UTC), or epoch
 * seconds ("1767323045"): microseconds since the epoch.
 */
static bool
parse_date(struct slice s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    int64_t frac = 0, t;
    size_t i;

    if (s.len > 0 && s.len <= 12 && s.ptr[0] != '-') {
        uint64_t e;

        if (parse_u64(s, &e) == 0) {
            *out = (int64_t)e * 1000000;
            return true;
        }
    }
    if (!digits_at(s, 0, 4, &y) || s.len < 10 || s.ptr[4] != '-' || !digits_at(s, 5, 2, &mo) ||
        s.ptr[7] != '-' || !digits_at(s, 8, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    i = 10;
    if (i < s.len) {
        if ((s.ptr[i] != 'T' && s.ptr[i] != 't') || !digits_at(s, i + 1, 2, &h) || i + 3 >= s.len ||
            s.ptr[i + 3] != ':' || !digits_at(s, i + 4, 2, &mi))
            return false;
        i += 6;
        if (i < s.len && s.ptr[i] == ':') {
            if (!digits_at(s, i + 1, 2, &sec))
                return false;
            i += 3;
            if (i < s.len && s.ptr[i] == '.') {
                int64_t scale = 100000;
                size_t nd = 0;

                for (i++; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++, nd++) {
                    frac += (s.ptr[i] - '0') * scale;
                    scale /= 10;
                }
                if (nd == 0)
                    return false;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return false;
        if (i < s.len && (s.ptr[i] == 'Z' || s.ptr[i] == 'z')) {
            i++;
        } else if (i < s.len && (s.ptr[i] == '+' || s.ptr[i] == '-')) {
            int sign = s.ptr[i] == '-' ? -1 : 1;

            if (!digits_at(s, i + 1, 2, &oh))
                return false;
            i += 3;
            if (i < s.len && s.ptr[i] == ':')
                i++;
            if (!digits_at(s, i, 2, &om) || oh > 23 || om > 59)
                return false;
            i += 2;
            oh *= sign;
            om *= sign;
        }
        if (i != s.len)
            return false;
    }
    t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= oh * 3600 + om * 60;
    *out = t * 1000000 + frac;
    return true;
}

/* An address or a CIDR ("10.0.0.0/8", "2001:db8::/32"); IPv4 mapped into IPv6. */
static bool
parse_cidr(struct slice s, struct cidr *out, bool allow_prefix)
{
    char tmp[INET6_ADDRSTRLEN + 8];
    ssize_t slash = slice_find(s, '/');
    size_t alen = slash >= 0 ? (size_t)slash : s.len;
    unsigned max;
    uint64_t prefix;
    struct in_addr a4;

    if (alen == 0 || alen >= sizeof(tmp) || (slash >= 0 && !allow_prefix))
        return false;
    memcpy(tmp, s.ptr, alen);
    tmp[alen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, tmp, &a4) == 1) {
        out->addr[10] = out->addr[11] = 0xff;
        memcpy(out->addr + 12, &a4, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, tmp, out->addr) == 1) {
        max = 128;
    } else {
        return false;
    }
    prefix = max;
    if (slash >= 0 &&
        (parse_u64(slice_make(s.ptr + alen + 1, s.len - alen - 1), &prefix) < 0 || prefix > max))
        return false;
    out->prefix = (unsigned)prefix + (128 - max);
    return true;
}

static bool
cidr_contains(const struct cidr *c, const struct cidr *a)
{
    unsigned full = c->prefix / 8, rest = c->prefix % 8;

    if (memcmp(c->addr, a->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((c->addr[full] ^ a->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static bool
parse_bool(struct slice s, bool *out)
{
    if (slice_case_eq_cstr(s, "true"))
        *out = true;
    else if (slice_case_eq_cstr(s, "false"))
        *out = false;
    else
        return false;
    return true;
}

/* ---- conditions ------------------------------------------------------------------------------ */

static bool
cmp_holds(enum cond_cmp cmp, int c)
{
    switch (cmp) {
    case CMP_EQ:
        return c == 0;
    case CMP_LT:
        return c < 0;
    case CMP_LE:
        return c <= 0;
    case CMP_GT:
        return c > 0;
    case CMP_GE:
        return c >= 0;
    }
    return false;
}

/* Whether request value `v` matches policy value `pv` under the positive form of `c`. */
static bool
value_match(const struct cond *c, const union cval *pv, struct slice v, const struct eval_ctx *e)
{
    switch (c->kind) {
    case COND_STR:
    case COND_LIKE:
        return pat_match(&pv->pat, v, false, e);
    case COND_STR_CI:
        return pat_match(&pv->pat, v, true, e);
    case COND_ARN:
        return arn_match(&pv->pat, v, e);
    case COND_NUM: {
        double d;

        /* the request value is compared to the policy's: "key < value" */
        return parse_number(v, &d) && cmp_holds(c->cmp, d < pv->num ? -1 : d > pv->num ? 1 : 0);
    }
    case COND_DATE: {
        int64_t t;

        return parse_date(v, &t) && cmp_holds(c->cmp, t < pv->date ? -1 : t > pv->date ? 1 : 0);
    }
    case COND_BOOL: {
        bool b;

        return parse_bool(v, &b) && b == pv->b;
    }
    case COND_IP: {
        struct cidr a;

        return parse_cidr(v, &a, false) && cidr_contains(&pv->ip, &a);
    }
    case COND_NULL:
        break;
    }
    return false;
}

/* One request value against the condition's values: ORed, negated for the Not operators. */
static bool
value_ok(const struct cond *c, struct slice v, const struct eval_ctx *e)
{
    size_t i;

    for (i = 0; i < c->nvals; i++)
        if (value_match(c, &c->vals[i], v, e))
            return !c->neg;
    return c->neg;
}

/*
 * AWS's rules ("IAM JSON policy elements: Condition operators"):
 *  - key absent: a plain operator is false, a negated one (StringNotEquals,
 *    NotIpAddress, ArnNotLike...) true; ...IfExists is true; ForAllValues
 *    is true (the empty set); ForAnyValue is false; Null "true" is true.
 *  - key present: several values in the policy are ORed for a positive
 *    operator, and for a negated one the key must match none of them (AWS:
 *    "the effective permission works like a logical AND").
 *  - a multi-valued key with a plain operator: true if any of its values
 *    passes (positive), or if none matches (negated); ForAnyValue: some
 *    value passes; ForAllValues: every value passes.
 */
static bool
cond_holds(const struct cond *c, const struct eval_ctx *e)
{
    struct slice stack[STACK_VALS], *vals = stack;
    size_t n, i;
    bool ok;

    n = cond_fetch(e, c->key, vals, STACK_VALS);
    if (UNLIKELY(n > STACK_VALS)) {
        size_t m = n;

        vals = xmalloc(m * sizeof(*vals));
        n = MIN(cond_fetch(e, c->key, vals, m), m);
    }
    if (c->kind == COND_NULL) {
        ok = false;
        for (i = 0; i < c->nvals && !ok; i++)
            ok = c->vals[i].b == (n == 0);
        goto out;
    }
    if (n == 0) {
        ok = c->set == SET_ALL || (c->set == SET_NONE && (c->if_exists || c->neg)) ||
             (c->set == SET_ANY && c->if_exists);
        goto out;
    }
    switch (c->set) {
    case SET_ALL:
        ok = true;
        for (i = 0; i < n && ok; i++)
            ok = value_ok(c, vals[i], e);
        break;
    case SET_ANY:
        ok = false;
        for (i = 0; i < n && !ok; i++)
            ok = value_ok(c, vals[i], e);
        break;
    case SET_NONE:
    default: {
        bool any = false;
        size_t j;

        /* the positive operator over every pair, negated at the end */
        for (i = 0; i < n && !any; i++)
            for (j = 0; j < c->nvals && !any; j++)
                any = value_match(c, &c->vals[j], vals[i], e);
        ok = c->neg ? !any : any;
        break;
    }
    }
out:
    if (vals != stack)
        free(vals);
    return ok;
}

/* ---- statements ------------------------------------------------------------------------------ */

/* The account of "arn:aws:iam::<account>:..." (field 5), or an empty slice. */
static struct slice
arn_account(const char *arn)
{
    struct slice f[6];

    if (!arn || !arn_split(arn, strlen(arn), f))
        return SLICE_NULL;
    return f[4];
}

static bool
principal_matches(const struct stmt *st, const struct iam_request *r)
{
    size_t i;

    if (st->pr_any)
        return true;
    if (!r->principal)
        return false;
    for (i = 0; i < st->npr; i++) {
        const struct princ *p = &st->pr[i];

        switch (p->kind) {
        case PRINC_ACCOUNT:
            if ((r->account && strcmp(r->account, p->s) == 0) ||
                slice_eq_cstr(arn_account(r->principal), p->s))
                return true;
            break;
        case PRINC_ARN:
            if (strcmp(r->principal, p->s) == 0)
                return true;
            break;
        case PRINC_NAME:
            if (r->principal_name && strcmp(r->principal_name, p->s) == 0)
                return true;
            break;
        }
    }
    return false;
}

static bool
action_matches(const struct stmt *st, const struct eval_ctx *e)
{
    bool hit = false;
    size_t i;

    if (!e->r->action)
        return false;
    if (LIKELY(e->action >= 0)) {
        hit = (st->abits[e->action / 64] >> (e->action % 64)) & 1;
    } else {
        for (i = 0; i < st->nact && !hit; i++)
            hit = pat_match(&st->act[i], slice_cstr(e->r->action), true, e);
    }
    return hit != st->not_action;
}

static bool
resource_matches(const struct stmt *st, const struct eval_ctx *e)
{
    struct slice res = slice_cstr(e->r->resource);
    bool hit = false;
    size_t i;

    if (st->res_mode == ELEM_NONE)
        return true;
    for (i = 0; i < st->nres && !hit; i++) {
        const struct pat *p = &st->res[i];

        if (p->kind == PAT_ANY)
            hit = true;
        else if (e->r->resource)
            hit = pat_match(p, res, false, e);
    }
    /* NotResource: a request without a resource is none of those listed */
    return hit != (st->res_mode == ELEM_NOT);
}

static bool
stmt_applies(const struct iam_policy *p, const struct stmt *st, const struct eval_ctx *e)
{
    size_t i;

    if (!action_matches(st, e) || !resource_matches(st, e))
        return false;
    if (p->kind == IAM_POLICY_BUCKET && st->pr_mode != ELEM_NONE &&
        principal_matches(st, e->r) != (st->pr_mode == ELEM_LIST))
        return false;
    for (i = 0; i < st->nconds; i++)
        if (!cond_holds(&st->conds[i], e))
            return false;
    return true;
}

enum iam_decision
iam_policy_eval(const struct iam_policy *p, const struct iam_request *r)
{
    struct eval_ctx e = { r, r->action ? action_index(r->action) : -1 };
    size_t i;

    for (i = 0; i < p->nstmts; i++)
        if (stmt_applies(p, &p->stmts[i], &e))
            return p->stmts[i].deny ? IAM_DENY : IAM_ALLOW;
    return IAM_NONE;
}

size_t
iam_cond_table(void *arg, const char *key, struct slice *vals, size_t max)
{
    const struct iam_cond_table *t = arg;
    size_t i, n = 0;

    for (i = 0; i < t->n; i++) {
        if (strcasecmp(t->kv[i].key, key) != 0)
            continue;
        if (n < max)
            vals[n] = slice_cstr(t->kv[i].value);
        n++;
    }
    return n;
}

/* ---- iam_policy_is_public -------------------------------------------------------------------- */

/* Keys that, compared with fixed values, narrow a statement to known callers (AWS's list). */
static const char *const restricting_keys[] = {
    "aws:PrincipalAccount",  "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:SourceAccount",
    "aws:SourceArn",         "aws:SourceIp",     "aws:SourceOwner",    "aws:SourceVpc",
    "aws:SourceVpce",        "aws:userid",       "aws:username",       "s3:DataAccessPointAccount",
    "s3:DataAccessPointArn",
};

static bool
cond_restricts(const struct cond *c)
{
    size_t i;
    bool known = false;

    for (i = 0; i < ARRAY_SIZE(restricting_keys) && !known; i++)
        known = strcasecmp(c->key, restricting_keys[i]) == 0;
    if (!known || c->neg || c->if_exists || c->set == SET_ALL)
        return false;
    for (i = 0; i < c->nvals; i++) {
        switch (c->kind) {
        case COND_STR:
        case COND_STR_CI:
        case COND_LIKE:
        case COND_ARN:
            if (!pat_is_fixed(&c->vals[i].pat))
                return false;
            break;
        case COND_IP:
            /* 0.0.0.0/0 (::ffff:0:0/96) and ::/0 admit anyone */
            if (c->vals[i].ip.prefix == 0 ||
                (c->vals[i].ip.prefix == 96 && c->vals[i].ip.addr[10] == 0xff &&
                 c->vals[i].ip.addr[11] == 0xff))
                return false;
            break;
        default:
            return false;
        }
    }
    return true;
}

bool
iam_policy_is_public(const struct iam_policy *p)
{
    size_t i, j;

    for (i = 0; i < p->nstmts; i++) {
        const struct stmt *st = &p->stmts[i];
        bool restricted = false;

        if (st->deny || !((st->pr_mode == ELEM_LIST && st->pr_any) || st->pr_mode == ELEM_NOT))
            continue;
        for (j = 0; j < st->nconds && !restricted; j++)
            restricted = cond_restricts(&st->conds[j]);
        if (!restricted)
            return true;
    }
    return false;
}

/* ---- parsing --------------------------------------------------------------------------------- */

struct parser {
    enum iam_policy_kind kind;
    bool vars; /* Version 2012-10-17: policy variables */
    struct buf *errmsg;
    size_t idx; /* the statement being parsed */
};

static int PRINTF_LIKE(3, 4) fail(struct parser *ps, const char *field, const char *fmt, ...)
{
    va_list ap;
    char msg[512];

    if (!ps->errmsg)
        return -ERR_MALFORMED_POLICY;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_clear(ps->errmsg);
    if (field && ps->idx != SIZE_MAX)
        buf_addf(ps->errmsg, "Statement[%zu].%s: %s", ps->idx, field, msg);
    else if (ps->idx != SIZE_MAX)
        buf_addf(ps->errmsg, "Statement[%zu]: %s", ps->idx, msg);
    else if (field)
        buf_addf(ps->errmsg, "%s: %s", field, msg);
    else
        buf_adds(ps->errmsg, msg);
    return -ERR_MALFORMED_POLICY;
}

/* A string or a non-empty list of strings: the count, or -ERR_MALFORMED_POLICY. */
static ssize_t
string_list(struct parser *ps, const char *field, json_t *v)
{
    size_t i;

    if (json_is_string(v))
        return 1;
    if (!json_is_array(v))
        return fail(ps, field, "must be a string or a list of strings");
    if (json_array_size(v) == 0)
        return fail(ps, field, "empty list");
    for (i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return fail(ps, field, "element %zu is not a string", i);
    return (ssize_t)json_array_size(v);
}

static json_t *
list_get(json_t *v, size_t i)
{
    return json_is_string(v) ? v : json_array_get(v, i);
}

static bool
is_s3_or_iam_action(size_t i)
{
    return strncasecmp(actions[i], "s3:", 3) == 0 || strncasecmp(actions[i], "iam:", 4) == 0;
}

static int
parse_actions(struct parser *ps, struct stmt *st, const char *field, json_t *v)
{
    ssize_t n = string_list(ps, field, v);
    size_t i, k;

    if (n < 0)
        return (int)n;
    st->act = xcalloc((size_t)n, sizeof(*st->act));
    for (i = 0; i < (size_t)n; i++) {
        json_t *s = list_get(v, i);
        const char *name = json_string_value(s);
        struct pat *p = &st->act[i];
        bool any = false;

        st->nact++;
        pat_compile(p, name, json_string_length(s), true, false);
        if (p->kind == PAT_ANY || (memchr(name, ':', json_string_length(s)) && p->len > 0)) {
            for (k = 0; k < NACTIONS; k++) {
                if (pat_match(p, slice_cstr(actions[k]), true, NULL)) {
                    st->abits[k / 64] |= UINT64_C(1) << (k % 64);
                    any = true;
                }
            }
        }
        if (!any)
            return fail(ps, field, "unknown action \"%s\"", name);
    }
    return 0;
}

static int
parse_resources(struct parser *ps, struct stmt *st, const char *field, json_t *v)
{
    ssize_t n = string_list(ps, field, v);
    size_t i;

    if (n < 0)
        return (int)n;
    st->res = xcalloc((size_t)n, sizeof(*st->res));
    for (i = 0; i < (size_t)n; i++) {
        json_t *s = list_get(v, i);
        const char *arn = json_string_value(s);

        if (strcmp(arn, "*") != 0 && strncmp(arn, "arn:", 4) != 0)
            return fail(ps, field, "\"%s\" is neither an ARN nor \"*\"", arn);
        pat_compile(&st->res[st->nres++], arn, json_string_length(s), true, ps->vars);
    }
    return 0;
}

static bool
is_account_id(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return i == 12;
}

static int
add_principal(struct parser *ps, struct stmt *st, const char *field, const char *s)
{
    struct princ *p;
    struct slice f[6];
    size_t n = strlen(s);

    if (strcmp(s, "*") == 0) {
        st->pr_any = true;
        return 0;
    }
    if (n == 0)
        return fail(ps, field, "empty principal");
    if (strpbrk(s, "*?"))
        return fail(ps, field, "\"%s\": a principal takes no wildcard but \"*\"", s);
    if (strncmp(s, "arn:", 4) == 0 && !arn_split(s, n, f))
        return fail(ps, field, "\"%s\" is not an ARN", s);
    st->pr = xrealloc(st->pr, (st->npr + 1) * sizeof(*st->pr));
    p = &st->pr[st->npr++];
    if (is_account_id(s)) {
        p->kind = PRINC_ACCOUNT;
        p->s = xstrdup(s);
    } else if (strncmp(s, "arn:", 4) == 0) {
        if (slice_eq_cstr(f[5], "root") && f[4].len == 12) {
            p->kind = PRINC_ACCOUNT;
            p->s = slice_dup(f[4]);
        } else {
            p->kind = PRINC_ARN;
            p->s = xstrdup(s);
        }
    } else {
        p->kind = PRINC_NAME;
        p->s = xstrdup(s);
    }
    return 0;
}

static int
parse_principal(struct parser *ps, struct stmt *st, const char *field, json_t *v)
{
    const char *type;
    json_t *list;
    size_t i;
    ssize_t n;
    int rc;

    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "*") != 0)
            return fail(ps, field, "a string principal must be \"*\" (else use {\"AWS\": ...})");
        st->pr_any = true;
        return 0;
    }
    if (!json_is_object(v))
        return fail(ps, field, "must be \"*\" or an object");
    if (json_object_size(v) == 0)
        return fail(ps, field, "empty object");
    json_object_foreach(v, type, list)
    {
        if (strcmp(type, "AWS") != 0 && strcmp(type, "CanonicalUser") != 0)
            return fail(ps, field, "unsupported principal type \"%s\"", type);
        n = string_list(ps, field, list);
        if (n < 0)
            return (int)n;
        for (i = 0; i < (size_t)n; i++) {
            rc = add_principal(ps, st, field, json_string_value(list_get(list, i)));
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static const struct {
    const char *name;
    enum cond_kind kind;
    enum cond_cmp cmp;
    bool neg;
} operators[] = {
    { "StringEquals", COND_STR, CMP_EQ, false },
    { "StringNotEquals", COND_STR, CMP_EQ, true },
    { "StringEqualsIgnoreCase", COND_STR_CI, CMP_EQ, false },
    { "StringNotEqualsIgnoreCase", COND_STR_CI, CMP_EQ, true },
    { "StringLike", COND_LIKE, CMP_EQ, false },
    { "StringNotLike", COND_LIKE, CMP_EQ, true },
    { "NumericEquals", COND_NUM, CMP_EQ, false },
    { "NumericNotEquals", COND_NUM, CMP_EQ, true },
    { "NumericLessThan", COND_NUM, CMP_LT, false },
    { "NumericLessThanEquals", COND_NUM, CMP_LE, false },
    { "NumericGreaterThan", COND_NUM, CMP_GT, false },
    { "NumericGreaterThanEquals", COND_NUM, CMP_GE, false },
    { "DateEquals", COND_DATE, CMP_EQ, false },
    { "DateNotEquals", COND_DATE, CMP_EQ, true },
    { "DateLessThan", COND_DATE, CMP_LT, false },
    { "DateLessThanEquals", COND_DATE, CMP_LE, false },
    { "DateGreaterThan", COND_DATE, CMP_GT, false },
    { "DateGreaterThanEquals", COND_DATE, CMP_GE, false },
    { "Bool", COND_BOOL, CMP_EQ, false },
    { "IpAddress", COND_IP, CMP_EQ, false },
    { "NotIpAddress", COND_IP, CMP_EQ, true },
    { "Null", COND_NULL, CMP_EQ, false },
    { "ArnEquals", COND_ARN, CMP_EQ, false },
    { "ArnNotEquals", COND_ARN, CMP_EQ, true },
    { "ArnLike", COND_ARN, CMP_EQ, false },
    { "ArnNotLike", COND_ARN, CMP_EQ, true },
};

/* "ForAnyValue:StringLikeIfExists" -> the operator's fields in `c`; false if unknown. */
static bool
parse_operator(const char *name, struct cond *c)
{
    size_t n, i;

    c->set = SET_NONE;
    if (strncasecmp(name, "ForAnyValue:", 12) == 0) {
        c->set = SET_ANY;
        name += 12;
    } else if (strncasecmp(name, "ForAllValues:", 13) == 0) {
        c->set = SET_ALL;
        name += 13;
    }
    n = strlen(name);
    c->if_exists = n > 8 && strcasecmp(name + n - 8, "IfExists") == 0;
    if (c->if_exists)
        n -= 8;
    for (i = 0; i < ARRAY_SIZE(operators); i++) {
        if (strlen(operators[i].name) == n && strncasecmp(operators[i].name, name, n) == 0) {
            c->kind = operators[i].kind;
            c->cmp = operators[i].cmp;
            c->neg = operators[i].neg;
            /* Null tests presence itself: no IfExists, no set operator */
            return c->kind != COND_NULL || (!c->if_exists && c->set == SET_NONE);
        }
    }
    return false;
}

/* A JSON scalar as text (numbers and booleans as JSON writes them). */
static bool
scalar_text(json_t *v, char *tmp, size_t tmpsz, struct slice *out)
{
    if (json_is_string(v)) {
        *out = slice_make(json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        snprintf(tmp, tmpsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = slice_cstr(tmp);
    } else if (json_is_real(v)) {
        snprintf(tmp, tmpsz, "%.17g", json_real_value(v));
        *out = slice_cstr(tmp);
    } else if (json_is_boolean(v)) {
        *out = slice_cstr(json_is_true(v) ? "true" : "false");
    } else {
        return false;
    }
    return true;
}

static int
parse_cond_value(struct parser *ps, const char *op, struct cond *c, union cval *cv, json_t *v)
{
    char tmp[64];
    struct slice s;

    if (!scalar_text(v, tmp, sizeof(tmp), &s))
        return fail(ps, "Condition", "%s \"%s\": values must be strings, numbers or booleans", op,
                    c->key);
    switch (c->kind) {
    case COND_STR:
    case COND_STR_CI:
        pat_compile(&cv->pat, s.ptr, s.len, false, ps->vars);
        break;
    case COND_LIKE:
    case COND_ARN:
        pat_compile(&cv->pat, s.ptr, s.len, true, ps->vars);
        break;
    case COND_NUM:
        if (json_is_integer(v))
            cv->num = (double)json_integer_value(v);
        else if (json_is_real(v))
            cv->num = json_real_value(v);
        else if (!json_is_string(v) || !parse_number(s, &cv->num))
            return fail(ps, "Condition", "%s value \"%.*s\" is not a number", op, (int)s.len,
                        s.ptr);
        break;
    case COND_DATE:
        if (json_is_integer(v) && json_integer_value(v) >= 0 &&
            json_integer_value(v) < INT64_C(1000000000000))
            cv->date = (int64_t)json_integer_value(v) * 1000000;
        else if (!json_is_string(v) || !parse_date(s, &cv->date))
            return fail(ps, "Condition", "%s value \"%.*s\" is not a date", op, (int)s.len, s.ptr);
        break;
    case COND_BOOL:
    case COND_NULL:
        if (json_is_boolean(v))
            cv->b = json_is_true(v);
        else if (!json_is_string(v) || !parse_bool(s, &cv->b))
            return fail(ps, "Condition", "%s value \"%.*s\" is not true or false", op, (int)s.len,
                        s.ptr);
        break;
    case COND_IP:
        if (!json_is_string(v) || !parse_cidr(s, &cv->ip, true))
            return fail(ps, "Condition", "%s value \"%.*s\" is not an IP address or CIDR", op,
                        (int)s.len, s.ptr);
        break;
    }
    return 0;
}

static void
cond_release(struct cond *c)
{
    size_t i;

    if (c->kind == COND_STR || c->kind == COND_STR_CI || c->kind == COND_LIKE ||
        c->kind == COND_ARN)
        for (i = 0; i < c->nvals; i++)
            pat_release(&c->vals[i].pat);
    free(c->vals);
    free(c->key);
}

static int
parse_condition(struct parser *ps, struct stmt *st, json_t *v)
{
    const char *op, *key;
    json_t *keys, *vals;
    size_t n = 0, i;
    int rc;

    if (!json_is_object(v))
        return fail(ps, "Condition", "must be an object");
    json_object_foreach(v, op, keys)
    {
        if (!json_is_object(keys) || json_object_size(keys) == 0)
            return fail(ps, "Condition", "%s must be a non-empty object of keys", op);
        n += json_object_size(keys);
    }
    st->conds = xcalloc(n, sizeof(*st->conds));
    json_object_foreach(v, op, keys)
    {
        struct cond proto = { 0 };

        if (!parse_operator(op, &proto))
            return fail(ps, "Condition", "unknown operator \"%s\"", op);
        json_object_foreach(keys, key, vals)
        {
            struct cond *c = &st->conds[st->nconds++];
            size_t nv = json_is_array(vals) ? json_array_size(vals) : 1;

            *c = proto;
            c->key = xstrdup(key);
            if (key[0] == '\0')
                return fail(ps, "Condition", "%s: empty key", op);
            if (nv == 0)
                return fail(ps, "Condition", "%s \"%s\": empty list", op, key);
            c->vals = xcalloc(nv, sizeof(*c->vals));
            for (i = 0; i < nv; i++) {
                rc = parse_cond_value(ps, op, c, &c->vals[i],
                                      json_is_array(vals) ? json_array_get(vals, i) : vals);
                if (rc < 0)
                    return rc;
                c->nvals++;
            }
        }
    }
    return 0;
}

static void
stmt_release(struct stmt *st)
{
    size_t i;

    for (i = 0; i < st->nact; i++)
        pat_release(&st->act[i]);
    free(st->act);
    for (i = 0; i < st->nres; i++)
        pat_release(&st->res[i]);
    free(st->res);
    for (i = 0; i < st->npr; i++)
        free(st->pr[i].s);
    free(st->pr);
    for (i = 0; i < st->nconds; i++)
        cond_release(&st->conds[i]);
    free(st->conds);
}

static int
parse_stmt(struct parser *ps, struct stmt *st, json_t *js)
{
    static const char *const fields[] = { "Sid",          "Effect",      "Principal",
                                          "NotPrincipal", "Action",      "NotAction",
                                          "Resource",     "NotResource", "Condition" };
    json_t *effect, *act, *nact, *res, *nres, *pr, *npr, *cond, *sid, *v;
    const char *field;
    size_t i, k;
    bool needs_res = false;
    int rc;

    if (!json_is_object(js))
        return fail(ps, NULL, "not an object");
    json_object_foreach(js, field, v)
    {
        bool known = false;

        for (i = 0; i < ARRAY_SIZE(fields) && !known; i++)
            known = strcmp(field, fields[i]) == 0;
        if (!known)
            return fail(ps, NULL, "unknown field \"%s\"", field);
    }
    sid = json_object_get(js, "Sid");
    if (sid && !json_is_string(sid))
        return fail(ps, "Sid", "must be a string");
    effect = json_object_get(js, "Effect");
    if (!effect)
        return fail(ps, "Effect", "missing");
    if (!json_is_string(effect) || (strcmp(json_string_value(effect), "Allow") != 0 &&
                                    strcmp(json_string_value(effect), "Deny") != 0))
        return fail(ps, "Effect", "must be \"Allow\" or \"Deny\"");
    st->deny = strcmp(json_string_value(effect), "Deny") == 0;

    act = json_object_get(js, "Action");
    nact = json_object_get(js, "NotAction");
    if (act && nact)
        return fail(ps, "Action", "both Action and NotAction");
    if (!act && !nact)
        return fail(ps, "Action", "missing (Action or NotAction)");
    st->not_action = nact != NULL;
    rc = parse_actions(ps, st, act ? "Action" : "NotAction", act ? act : nact);
    if (rc < 0)
        return rc;

    res = json_object_get(js, "Resource");
    nres = json_object_get(js, "NotResource");
    if (res && nres)
        return fail(ps, "Resource", "both Resource and NotResource");
    for (k = 0; k < NACTIONS && !needs_res; k++)
        needs_res =
            (((st->abits[k / 64] >> (k % 64)) & 1) != st->not_action) && is_s3_or_iam_action(k);
    if (!res && !nres && needs_res)
        return fail(ps, "Resource", "missing (required for s3: and iam: actions)");
    if (res || nres) {
        st->res_mode = res ? ELEM_LIST : ELEM_NOT;
        rc = parse_resources(ps, st, res ? "Resource" : "NotResource", res ? res : nres);
        if (rc < 0)
            return rc;
    }

    pr = json_object_get(js, "Principal");
    npr = json_object_get(js, "NotPrincipal");
    if (ps->kind == IAM_POLICY_IDENTITY && (pr || npr))
        return fail(ps, pr ? "Principal" : "NotPrincipal", "not allowed in an identity policy");
    if (ps->kind == IAM_POLICY_BUCKET) {
        if (pr && npr)
            return fail(ps, "Principal", "both Principal and NotPrincipal");
        if (!pr && !npr)
            return fail(ps, "Principal", "missing (required in a bucket policy)");
        st->pr_mode = pr ? ELEM_LIST : ELEM_NOT;
        rc = parse_principal(ps, st, pr ? "Principal" : "NotPrincipal", pr ? pr : npr);
        if (rc < 0)
            return rc;
    }

    cond = json_object_get(js, "Condition");
    if (cond)
        return parse_condition(ps, st, cond);
    return 0;
}

void
iam_policy_free(struct iam_policy *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->nstmts; i++)
        stmt_release(&p->stmts[i]);
    free(p->stmts);
    free(p);
}

int
iam_policy_parse(struct slice doc, enum iam_policy_kind kind, struct iam_policy **out,
                 struct buf *errmsg)
{
    struct parser ps = { kind, false, errmsg, SIZE_MAX };
    struct iam_policy *p = NULL;
    struct stmt *tmp = NULL;
    json_error_t jerr;
    json_t *root, *v, *stmts;
    const char *field;
    size_t i, n, d = 0;
    int rc;

    DEBUG_ASSERT(actions_are_sorted());
    if (doc.len > IAM_POLICY_MAX) {
        if (errmsg) {
            buf_clear(errmsg);
            buf_addf(errmsg, "the document has %zu bytes, more than the %u allowed", doc.len,
                     IAM_POLICY_MAX);
        }
        return -ERR_POLICY_TOO_LARGE;
    }
    root = json_loadb(doc.ptr, doc.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return fail(&ps, NULL, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) {
        rc = fail(&ps, NULL, "the document is not a JSON object");
        goto out_decref;
    }
    json_object_foreach(root, field, v)
    {
        if (strcmp(field, "Version") != 0 && strcmp(field, "Id") != 0 &&
            strcmp(field, "Statement") != 0) {
            rc = fail(&ps, NULL, "unknown field \"%s\"", field);
            goto out_decref;
        }
    }
    v = json_object_get(root, "Version");
    if (v && (!json_is_string(v) || (strcmp(json_string_value(v), "2012-10-17") != 0 &&
                                     strcmp(json_string_value(v), "2008-10-17") != 0))) {
        rc = fail(&ps, "Version", "must be \"2012-10-17\" or \"2008-10-17\"");
        goto out_decref;
    }
    /* without Version, AWS reads 2008-10-17: no policy variables */
    ps.vars = v && strcmp(json_string_value(v), "2012-10-17") == 0;
    v = json_object_get(root, "Id");
    if (v && !json_is_string(v)) {
        rc = fail(&ps, "Id", "must be a string");
        goto out_decref;
    }
    stmts = json_object_get(root, "Statement");
    if (!stmts) {
        rc = fail(&ps, "Statement", "missing");
        goto out_decref;
    }
    if (!json_is_array(stmts) && !json_is_object(stmts)) {
        rc = fail(&ps, "Statement", "must be a list of statements or one statement");
        goto out_decref;
    }
    n = json_is_array(stmts) ? json_array_size(stmts) : 1;
    if (n == 0) {
        rc = fail(&ps, "Statement", "empty list");
        goto out_decref;
    }
    tmp = xcalloc(n, sizeof(*tmp));
    for (i = 0; i < n; i++) {
        ps.idx = i;
        rc = parse_stmt(&ps, &tmp[i], json_is_array(stmts) ? json_array_get(stmts, i) : stmts);
        if (rc < 0)
            goto out_free;
    }
    /* Deny statements first, each group in document order */
    p = xcalloc(1, sizeof(*p));
    p->kind = kind;
    p->stmts = xcalloc(n, sizeof(*p->stmts));
    p->nstmts = n;
    for (i = 0; i < n; i++)
        if (tmp[i].deny)
            p->stmts[d++] = tmp[i];
    for (i = 0; i < n; i++)
        if (!tmp[i].deny)
            p->stmts[d++] = tmp[i];
    free(tmp);
    json_decref(root);
    *out = p;
    return 0;

out_free:
    for (i = 0; i < n; i++)
        stmt_release(&tmp[i]);
    free(tmp);
out_decref:
    json_decref(root);
    return rc;
}
