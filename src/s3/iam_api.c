/*
 * s3/iam_api.c: the AWS IAM and STS query APIs on the S3 endpoint (issue 12,
 * "Front doors" 3 and 4), as Ceph RGW and MinIO serve them, so that `aws iam
 * --endpoint-url`, boto3's IAM and STS clients and Terraform's AWS provider
 * manage Basalt's identities.
 *
 * A request is POST / with a form body (Action=CreateUser&UserName=bob&...;
 * parameters in the query string count too). Its SigV4 signature covers the
 * body's SHA-256, which the AWS SDKs do not send as x-amz-content-sha256 for
 * these services (only S3 does): so the router does not authenticate this
 * operation up front; the body is read first (at most QUERY_BODY_MAX),
 * hashed, and the request authenticated here (s3__authenticate) with that
 * hash, as MinIO does for STS.
 *
 * Then the Action is looked up in one table that says which entity it acts
 * on (a user, the caller, a group, a policy) and whether it answers a
 * <ActionResult>; the caller must be allowed "iam:<Action>" on that
 * entity's ARN (arn:aws:iam::<account>:user/<name>, group/<name>,
 * policy/<name>; listings have no resource, so only "Resource": "*" grants
 * them). STS needs no right: GetCallerIdentity only says who signed, and
 * AssumeRole (as MinIO) hands out credentials that never exceed the
 * caller's own. Anonymous callers are refused everything.
 *
 * Answers are AWS's documents (<CreateUserResponse xmlns=...><CreateUserResult>
 * ...<ResponseMetadata><RequestId>); errors are AWS's ErrorResponse, with
 * AWS's codes and statuses (s3__aws_query_error, which error.c calls for
 * every error of this operation, those of authentication included).
 */
#include "util/base.h"

#include <openssl/evp.h>
#include <time.h>
#include <xxhash.h>

#include "s3/internal.h"
#include "s3/xml.h"
#include "util/enc.h"
#include "util/err.h"

#define QUERY_BODY_MAX (128u * 1024) /* a 20 KiB policy, URL-encoded, and the rest */
#define IAM_XMLNS "https://iam.amazonaws.com/doc/2010-05-08/"
#define STS_XMLNS "https://sts.amazonaws.com/doc/2011-06-15/"
#define LIST_MAX_ITEMS 1000
#define LIST_DEFAULT_ITEMS 100
#define USER_NAME_MAX 64
#define GROUP_NAME_MAX 128
#define POLICY_NAME_MAX 128
#define SESSION_NAME_MAX 64

struct query;
/* One action: 0 with its Result's content in q->res, or an error (q->code and q->msg refine it). */
typedef int query_fn(struct query *q);

/* What an action acts on: its resource for authorization, checked before it runs. */
enum query_target {
    QT_NONE,        /* a listing: no resource */
    QT_USER,        /* UserName (required) */
    QT_SELF,        /* UserName, or the caller's own user when absent */
    QT_GROUP,       /* GroupName */
    QT_POLICY_ARN,  /* PolicyArn */
    QT_POLICY_NAME, /* PolicyName (CreatePolicy) */
    QT_STS,         /* STS: no iam: right */
};

struct query_action {
    const char *name;
    enum query_target target;
    bool result; /* answers an <ActionResult> element */
    query_fn *fn;
};

struct query {
    struct s3_call *call;
    struct iam *iam;
    struct arena *a;
    const struct query_action *act;
    struct http_header *params;
    size_t nparams;
    const char *acct;
    const char *user;   /* QT_USER, QT_SELF: the user; NULL for root itself */
    const char *group;  /* QT_GROUP */
    const char *policy; /* QT_POLICY_*: the policy's name */
    struct buf res;     /* the Result element's content */
    struct buf msg;     /* an error's message */
    const char *code;   /* an error's code when not the error symbol's */
};

/* ---- errors ---- */

struct query_code {
    const char *code;
    unsigned status;
};

static const struct query_code query_codes[] = {
    { "ValidationError", 400 },      { "InvalidInput", 400 },
    { "InvalidAction", 400 },        { "MissingAction", 400 },
    { "MalformedQueryString", 400 }, { "NoSuchEntity", 404 },
    { "EntityAlreadyExists", 409 },  { "DeleteConflict", 409 },
    { "LimitExceeded", 409 },        { "MalformedPolicyDocument", 400 },
    { "AccessDenied", 403 },         { "InvalidClientTokenId", 403 },
    { "NotImplemented", 501 },
};

struct query_err {
    int err;
    const char *code;
    const char *message;
};

/* The error symbols whose IAM code differs from S3's (statuses from query_codes). */
static const struct query_err query_errs[] = {
    { ERR_NO_SUCH_ENTITY, "NoSuchEntity", "The specified entity does not exist." },
    { ERR_ENTITY_EXISTS, "EntityAlreadyExists", "The entity already exists." },
    { ERR_DELETE_CONFLICT, "DeleteConflict", "The entity is still in use." },
    { ERR_LIMIT_EXCEEDED, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2" },
    { ERR_POLICY_TOO_LARGE, "LimitExceeded", "Cannot exceed quota for PolicySize: 20480" },
    { ERR_MALFORMED_POLICY, "MalformedPolicyDocument", "The policy document is malformed." },
    { ERR_INVAL, "InvalidInput", "A parameter is invalid." },
    { ERR_INVALID_ACCESS_KEY, "InvalidClientTokenId",
      "The security token included in the request is invalid." },
    { ERR_ACCESS_DENIED, "AccessDenied", "Access Denied." },
};

/* Whether the request's credential scope names the sts service. */
static bool
signed_for_sts(const struct http_req *req)
{
    struct slice v;

    if (!http_req_header(req, "authorization", &v) && !http_req_param(req, "X-Amz-Credential", &v))
        return false;
    return memmem(v.ptr, v.len, "/sts/aws4_request", 17) != NULL;
}

static void
open_ns(struct buf *x, const char *tag, bool sts)
{
    buf_addf(x, "<%s xmlns=\"%s\">", tag, sts ? STS_XMLNS : IAM_XMLNS);
}

void
s3__aws_query_error(struct s3_call *call, int err, const char *code, const char *msg)
{
    const struct s3_error *e = s3_error_lookup(err);
    struct http_req *req = call->req;
    struct buf x = BUF_INIT;
    unsigned status = e->status;
    const char *c = e->code, *m = e->message;
    size_t i;

    if (err > 0)
        err = -err;
    for (i = 0; i < ARRAY_SIZE(query_errs); i++) {
        if (-err == query_errs[i].err) {
            c = query_errs[i].code;
            m = query_errs[i].message;
        }
    }
    if (code)
        c = code;
    for (i = 0; i < ARRAY_SIZE(query_codes); i++)
        if (!strcmp(c, query_codes[i].code))
            status = query_codes[i].status;
    xml_declaration(&x);
    open_ns(&x, "ErrorResponse", signed_for_sts(req));
    xml_open(&x, "Error");
    xml_elem_str(&x, "Type", status >= 500 ? "Receiver" : "Sender");
    xml_elem_str(&x, "Code", c);
    xml_elem_str(&x, "Message", msg ? msg : m);
    xml_close(&x, "Error");
    xml_elem_str(&x, "RequestId", req->id);
    xml_close(&x, "ErrorResponse");
    http_resp_header(req, "Content-Type", "text/xml");
    http_resp_buf(req, status, &x);
    buf_release(&x);
}

/* An error of the action being served: its code and message, for query_send_error. */
static int fail(struct query *q, int err, const char *code, const char *fmt, ...) PRINTF_LIKE(4, 5);

static int
fail(struct query *q, int err, const char *code, const char *fmt, ...)
{
    va_list ap;

    q->code = code;
    buf_clear(&q->msg);
    va_start(ap, fmt);
    buf_vaddf(&q->msg, fmt, ap);
    va_end(ap);
    return err;
}

/* ---- parameters ---- */

/* Decodes one form-encoded part ('+' is a space) into the arena; false on a bad escape. */
static bool
form_decode(struct arena *a, struct slice s, struct slice *out)
{
    struct buf b = BUF_INIT, plus = BUF_INIT;
    size_t i;
    bool ok;

    buf_addslice(&plus, s);
    for (i = 0; i < plus.len; i++)
        if (plus.ptr[i] == '+')
            plus.ptr[i] = ' ';
    ok = uri_decode(&b, buf_slice(&plus)) == 0;
    *out = slice_make(arena_slicedup(a, buf_slice(&b)), b.len);
    buf_release(&plus);
    buf_release(&b);
    return ok;
}

/* Appends the pairs of form `s` to q->params; -ERR_INVAL on a malformed escape. */
static int
form_parse(struct query *q, struct slice s)
{
    struct slice rest = s, part, name, value;
    struct http_header *p;
    size_t cap = q->nparams + 1, i;

    for (i = 0; i < s.len; i++)
        cap += s.ptr[i] == '&';
    p = arena_alloc(q->a, cap * sizeof(*p));
    if (q->nparams)
        memcpy(p, q->params, q->nparams * sizeof(*p));
    q->params = p;
    while (rest.ptr && rest.len) {
        rest = slice_split(rest, '&', &part);
        if (part.len == 0)
            continue;
        value = slice_split(part, '=', &name);
        if (!form_decode(q->a, name, &p[q->nparams].name) ||
            !form_decode(q->a, value, &p[q->nparams].value))
            return -ERR_INVAL;
        q->nparams++;
    }
    return 0;
}

/* The value of parameter `name` (NUL-terminated in the arena), or NULL when absent. */
static const char *
param(const struct query *q, const char *name)
{
    size_t i;

    for (i = 0; i < q->nparams; i++)
        if (slice_eq_cstr(q->params[i].name, name))
            return q->params[i].value.ptr;
    return NULL;
}

/* AWS's names: [\w+=,.@-]+ of at most `max` characters. */
static bool
is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_+=,.@-", c) != NULL;
}

/* The message of AWS's ValidationError for a parameter. */
static int
invalid(struct query *q, const char *field, const char *v, const char *constraint)
{
    return fail(q, -ERR_INVAL, "ValidationError",
                "1 validation error detected: Value %s%s%s at '%s' failed to satisfy "
                "constraint: %s",
                v ? "'" : "", v ? v : "null", v ? "'" : "", field, constraint);
}

/*
 * Parameter `name` as an IAM name of 1..max characters of [\w+=,.@-]: 0 and
 * `*out`, or ValidationError naming `field` (AWS's camel case: "userName").
 */
static int
need_name(struct query *q, const char *name, const char *field, size_t max, const char **out)
{
    const char *v = param(q, name);
    size_t i, n;

    if (!v)
        return invalid(q, field, NULL, "Member must not be null");
    n = strlen(v);
    if (n == 0)
        return invalid(q, field, v, "Member must have length greater than or equal to 1");
    if (n > max)
        return invalid(q, field, v,
                       max == 64 ? "Member must have length less than or equal to 64"
                                 : "Member must have length less than or equal to 128");
    for (i = 0; i < n; i++)
        if (!is_name_char(v[i]))
            return invalid(q, field, v,
                           "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
    *out = v;
    return 0;
}

/* A required parameter of any content (a policy document, a key id). */
static int
need_param(struct query *q, const char *name, const char *field, const char **out)
{
    const char *v = param(q, name);

    if (!v || !*v)
        return invalid(q, field, v,
                       v ? "Member must have length greater than or equal to 1"
                         : "Member must not be null");
    *out = v;
    return 0;
}

/* A policy document parameter: LimitExceeded past AWS's size limit, before anything else. */
static int
need_doc(struct query *q, const char **out)
{
    int rc = need_param(q, "PolicyDocument", "policyDocument", out);

    if (rc == 0 && strlen(*out) > IAM_POLICY_MAX)
        return fail(q, -ERR_POLICY_TOO_LARGE, NULL, "Cannot exceed quota for PolicySize: %u",
                    IAM_POLICY_MAX);
    return rc;
}

/*
 * The policy name of ARN `v`: arn:aws:iam::<account>:policy/[path/]<name>,
 * with this deployment's account or "aws" (how AWS names its managed
 * policies, so ARNs written for AWS's ReadOnlyAccess-style policies parse).
 */
static int
policy_from_arn(struct query *q, const char *param_name, const char **out)
{
    const char *v = NULL, *p, *name;
    size_t alen = strlen(q->acct);
    int rc = need_param(q, param_name, "policyArn", &v);

    if (rc < 0)
        return rc;
    if (strncmp(v, "arn:aws:iam::", 13) != 0)
        return fail(q, -ERR_INVAL, "InvalidInput", "ARN %s is not valid.", v);
    p = v + 13;
    if (!strncmp(p, q->acct, alen) && p[alen] == ':')
        p += alen + 1;
    else if (!strncmp(p, "aws:", 4))
        p += 4;
    else
        return fail(q, -ERR_NO_SUCH_ENTITY, NULL, "Policy %s does not exist or is not attachable.",
                    v);
    if (strncmp(p, "policy/", 7) != 0)
        return fail(q, -ERR_INVAL, "InvalidInput", "ARN %s is not valid.", v);
    name = strrchr(p, '/') + 1;
    if (!*name)
        return fail(q, -ERR_INVAL, "InvalidInput", "ARN %s is not valid.", v);
    *out = name;
    return 0;
}

/* ---- names, times, ARNs ---- */

static const char *
user_arn(struct query *q, const char *user)
{
    return arena_printf(q->a, "arn:aws:iam::%s:user/%s", q->acct, user);
}

static const char *
group_arn(struct query *q, const char *group)
{
    return arena_printf(q->a, "arn:aws:iam::%s:group/%s", q->acct, group);
}

static const char *
policy_arn(struct query *q, const char *policy)
{
    return arena_printf(q->a, "arn:aws:iam::%s:policy/%s", q->acct, policy);
}

/* ISO 8601 in UTC, as AWS writes dates: 2024-05-01T10:00:00Z; none for 0 (canned policies). */
static void
elem_time(struct buf *x, const char *tag, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char s[32];

    if (t == 0)
        return;
    gmtime_r(&tt, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
    xml_elem_str(x, tag, s);
}

/*
 * A policy's id, as AWS shapes them ("ANPA" and 17 upper-case letters and
 * digits): derived from its name, so it is the same on every node and call.
 */
static const char *
policy_id(struct query *q, const char *name)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint64_t h = XXH3_64bits(name, strlen(name)), h2 = XXH3_64bits_withSeed(name, strlen(name), 1);
    char *s = arena_alloc(q->a, 22);
    size_t i;

    memcpy(s, "ANPA", 4);
    for (i = 0; i < 17; i++) {
        s[4 + i] = digits[(i < 12 ? h : h2) & 31];
        if (i < 12)
            h >>= 5;
        else
            h2 >>= 5;
    }
    s[21] = '\0';
    return s;
}

/* A document URL-encoded, as AWS returns policy documents (boto3 decodes them). */
static void
elem_doc(struct buf *x, const char *tag, struct slice doc)
{
    struct buf enc = BUF_INIT;

    uri_encode(&enc, doc, false);
    xml_elem(x, tag, buf_slice(&enc));
    buf_release(&enc);
}

/* ---- copies of the store's views (valid only during its callback) ---- */

static char **
strv_dup(struct arena *a, const char *const *v, size_t n)
{
    char **out = arena_alloc(a, (n + 1) * sizeof(*out));
    size_t i;

    for (i = 0; i < n; i++)
        out[i] = arena_strdup(a, v[i]);
    out[n] = NULL;
    return out;
}

struct user_copy {
    const char *name, *id;
    int64_t created;
    char **policies, **inline_names, **groups;
    size_t npolicies, ninline, ngroups;
};

struct group_copy {
    const char *name, *id;
    int64_t created;
    char **members, **policies, **inline_names;
    size_t nmembers, npolicies, ninline;
};

struct policy_copy {
    const char *name, *doc;
    int64_t created, updated;
    bool canned;
    size_t attachments;
};

struct key_copy {
    const char *access_key, *user;
    bool enabled;
    int64_t created;
};

/* A growing array of copies in the arena. */
struct coll {
    struct arena *a;
    void **items;
    size_t n, cap;
};

static void
coll_add(struct coll *c, void *item)
{
    if (c->n == c->cap) {
        void **v = arena_alloc(c->a, (c->cap ? 2 * c->cap : 16) * sizeof(*v));

        if (c->n)
            memcpy(v, c->items, c->n * sizeof(*v));
        c->items = v;
        c->cap = c->cap ? 2 * c->cap : 16;
    }
    c->items[c->n++] = item;
}

static int
collect_user(void *arg, const struct iam_user_view *u)
{
    struct coll *c = arg;
    struct user_copy *d = arena_zalloc(c->a, sizeof(*d));

    d->name = arena_strdup(c->a, u->name);
    d->id = arena_strdup(c->a, u->id);
    d->created = u->created;
    d->policies = strv_dup(c->a, u->policies, u->npolicies);
    d->npolicies = u->npolicies;
    d->inline_names = strv_dup(c->a, u->inline_names, u->ninline);
    d->ninline = u->ninline;
    d->groups = strv_dup(c->a, u->groups, u->ngroups);
    d->ngroups = u->ngroups;
    coll_add(c, d);
    return 0;
}

static int
collect_group(void *arg, const struct iam_group_view *g)
{
    struct coll *c = arg;
    struct group_copy *d = arena_zalloc(c->a, sizeof(*d));

    d->name = arena_strdup(c->a, g->name);
    d->id = arena_strdup(c->a, g->id);
    d->created = g->created;
    d->members = strv_dup(c->a, g->members, g->nmembers);
    d->nmembers = g->nmembers;
    d->policies = strv_dup(c->a, g->policies, g->npolicies);
    d->npolicies = g->npolicies;
    d->inline_names = strv_dup(c->a, g->inline_names, g->ninline);
    d->ninline = g->ninline;
    coll_add(c, d);
    return 0;
}

static int
collect_policy(void *arg, const struct iam_policy_view *p)
{
    struct coll *c = arg;
    struct policy_copy *d = arena_zalloc(c->a, sizeof(*d));

    d->name = arena_strdup(c->a, p->name);
    d->doc = arena_strdup(c->a, p->doc ? p->doc : "");
    d->created = p->created;
    d->updated = p->updated;
    d->canned = p->canned;
    d->attachments = p->attachments;
    coll_add(c, d);
    return 0;
}

static int
collect_key(void *arg, const struct iam_key_view *k)
{
    struct coll *c = arg;
    struct key_copy *d = arena_zalloc(c->a, sizeof(*d));

    d->access_key = arena_strdup(c->a, k->access_key);
    d->user = arena_strdup(c->a, k->user);
    d->enabled = k->enabled;
    d->created = k->created;
    coll_add(c, d);
    return 0;
}

/* User `name` (0 and `*out`), or NoSuchEntity as AWS words it. */
static int
get_user(struct query *q, const char *name, struct user_copy **out)
{
    struct coll c = { .a = q->a };
    int rc = iam_user_list(q->iam, name, collect_user, &c);

    if (rc == -ERR_NO_SUCH_ENTITY || (rc == 0 && c.n == 0))
        return fail(q, -ERR_NO_SUCH_ENTITY, NULL, "The user with name %s cannot be found.", name);
    if (rc < 0)
        return rc;
    *out = c.items[0];
    return 0;
}

static int
get_group(struct query *q, const char *name, struct group_copy **out)
{
    struct coll c = { .a = q->a };
    int rc = iam_group_list(q->iam, name, collect_group, &c);

    if (rc == -ERR_NO_SUCH_ENTITY || (rc == 0 && c.n == 0))
        return fail(q, -ERR_NO_SUCH_ENTITY, NULL, "The group with name %s cannot be found.", name);
    if (rc < 0)
        return rc;
    *out = c.items[0];
    return 0;
}

static int
get_policy(struct query *q, const char *name, struct policy_copy **out)
{
    struct coll c = { .a = q->a };
    int rc = iam_policy_list(q->iam, name, collect_policy, &c);

    if (rc == -ERR_NO_SUCH_ENTITY || (rc == 0 && c.n == 0))
        return fail(q, -ERR_NO_SUCH_ENTITY, NULL, "Policy %s does not exist or is not attachable.",
                    policy_arn(q, name));
    if (rc < 0)
        return rc;
    *out = c.items[0];
    return 0;
}

/* ---- XML of the entities ---- */

static void
user_xml(struct query *q, struct buf *x, const struct user_copy *u)
{
    xml_elem_str(x, "Path", "/");
    xml_elem_str(x, "UserName", u->name);
    xml_elem_str(x, "UserId", u->id);
    xml_elem_str(x, "Arn", user_arn(q, u->name));
    elem_time(x, "CreateDate", u->created);
}

static void
group_xml(struct query *q, struct buf *x, const struct group_copy *g)
{
    xml_elem_str(x, "Path", "/");
    xml_elem_str(x, "GroupName", g->name);
    xml_elem_str(x, "GroupId", g->id);
    xml_elem_str(x, "Arn", group_arn(q, g->name));
    elem_time(x, "CreateDate", g->created);
}

static void
policy_xml(struct query *q, struct buf *x, const struct policy_copy *p)
{
    xml_elem_str(x, "PolicyName", p->name);
    xml_elem_str(x, "PolicyId", policy_id(q, p->name));
    xml_elem_str(x, "Arn", policy_arn(q, p->name));
    xml_elem_str(x, "Path", "/");
    xml_elem_str(x, "DefaultVersionId", "v1");
    xml_elem_u64(x, "AttachmentCount", p->attachments);
    xml_elem_u64(x, "PermissionsBoundaryUsageCount", 0);
    xml_elem_bool(x, "IsAttachable", true);
    elem_time(x, "CreateDate", p->created);
    elem_time(x, "UpdateDate", p->updated ? p->updated : p->created);
}

static void
key_xml(struct buf *x, const struct key_copy *k)
{
    xml_elem_str(x, "UserName", k->user);
    xml_elem_str(x, "AccessKeyId", k->access_key);
    xml_elem_str(x, "Status", k->enabled ? "Active" : "Inactive");
    elem_time(x, "CreateDate", k->created);
}

/* ---- paging: Marker and MaxItems ---- */

struct entry {
    const char *key;
    const char *xml; /* the <member>'s content */
};

static int
entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

/*
 * Writes `<container><member>...</member>...</container><IsTruncated>` (and
 * <Marker>) for one page of `e` (sorted here by key): MaxItems 1..1000
 * (default 100), Marker the key to start at (the one that did not fit
 * last time). 0, or ValidationError for a bad MaxItems.
 */
static int
page(struct query *q, const char *container, struct entry *e, size_t n)
{
    const char *mi = param(q, "MaxItems"), *marker = param(q, "Marker");
    uint64_t max = LIST_DEFAULT_ITEMS;
    size_t i = 0, end;

    if (mi && (parse_u64(slice_cstr(mi), &max) < 0 || max < 1 || max > LIST_MAX_ITEMS))
        return invalid(q, "maxItems", mi,
                       "Member must have value between 1 and 1000 inclusive"); /* AWS's words */
    if (n > 1)
        qsort(e, n, sizeof(*e), entry_cmp);
    while (marker && i < n && strcmp(e[i].key, marker) < 0)
        i++;
    end = MIN(n, i + (size_t)max);
    xml_open(&q->res, container);
    for (; i < end; i++) {
        xml_open(&q->res, "member");
        buf_adds(&q->res, e[i].xml);
        xml_close(&q->res, "member");
    }
    xml_close(&q->res, container);
    xml_elem_bool(&q->res, "IsTruncated", end < n);
    if (end < n)
        xml_elem_str(&q->res, "Marker", e[end].key);
    return 0;
}

/* An entry whose XML is one name (ListUserPolicies' PolicyNames...): the name escaped. */
static void
name_entry(struct query *q, struct entry *e, const char *name)
{
    struct buf x = BUF_INIT;

    xml_escape(&x, slice_cstr(name));
    e->key = name;
    e->xml = arena_slicedup(q->a, buf_slice(&x));
    buf_release(&x);
}

/* A page of names (PolicyNames of inline policies). */
static int
names_page(struct query *q, const char *container, char **names, size_t n)
{
    struct entry *e = arena_alloc(q->a, (n + 1) * sizeof(*e));
    size_t i;

    for (i = 0; i < n; i++)
        name_entry(q, &e[i], names[i]);
    return page(q, container, e, n);
}

/* A page of AttachedPolicies (PolicyName, PolicyArn). */
static int
attached_page(struct query *q, char **names, size_t n)
{
    struct entry *e = arena_alloc(q->a, (n + 1) * sizeof(*e));
    struct buf x = BUF_INIT;
    size_t i;

    for (i = 0; i < n; i++) {
        buf_clear(&x);
        xml_elem_str(&x, "PolicyName", names[i]);
        xml_elem_str(&x, "PolicyArn", policy_arn(q, names[i]));
        e[i].key = names[i];
        e[i].xml = arena_slicedup(q->a, buf_slice(&x));
    }
    buf_release(&x);
    return page(q, "AttachedPolicies", e, n);
}

/* ---- users ---- */

static int
create_user(struct query *q)
{
    struct user_copy *u = NULL;
    int rc = iam_user_create(q->iam, q->user, NULL, NULL, &q->msg);

    if (rc == -ERR_ENTITY_EXISTS)
        return fail(q, rc, NULL, "User with name %s already exists.", q->user);
    if (rc == 0)
        rc = get_user(q, q->user, &u);
    if (rc < 0)
        return rc;
    xml_open(&q->res, "User");
    user_xml(q, &q->res, u);
    xml_close(&q->res, "User");
    return 0;
}

/* GetUser: UserName, or the caller (root has no name in AWS's answer). */
static int
get_user_action(struct query *q)
{
    struct user_copy *u = NULL;
    int rc;

    xml_open(&q->res, "User");
    if (!q->user) {
        xml_elem_str(&q->res, "Path", "/");
        xml_elem_str(&q->res, "UserId", q->acct);
        xml_elem_str(&q->res, "Arn", arena_printf(q->a, "arn:aws:iam::%s:root", q->acct));
    } else {
        rc = get_user(q, q->user, &u);
        if (rc < 0)
            return rc;
        user_xml(q, &q->res, u);
    }
    xml_close(&q->res, "User");
    return 0;
}

static int
list_users(struct query *q)
{
    struct coll c = { .a = q->a };
    const char *prefix = param(q, "PathPrefix");
    struct entry *e;
    struct buf x = BUF_INIT;
    size_t i;
    int rc = iam_user_list(q->iam, NULL, collect_user, &c);

    if (rc < 0)
        return rc;
    if (prefix && strcmp(prefix, "/") != 0)
        c.n = 0; /* every user's path is "/" */
    e = arena_alloc(q->a, (c.n + 1) * sizeof(*e));
    for (i = 0; i < c.n; i++) {
        const struct user_copy *u = c.items[i];

        buf_clear(&x);
        user_xml(q, &x, u);
        e[i].key = u->name;
        e[i].xml = arena_slicedup(q->a, buf_slice(&x));
    }
    buf_release(&x);
    return page(q, "Users", e, c.n);
}

static int
update_user(struct query *q)
{
    const char *new_name = NULL;
    int rc;

    if (!param(q, "NewUserName"))
        return 0; /* NewPath alone: every path is "/" */
    rc = need_name(q, "NewUserName", "newUserName", USER_NAME_MAX, &new_name);
    if (rc < 0)
        return rc;
    rc = iam_user_rename(q->iam, q->user, new_name, &q->msg);
    if (rc == -ERR_ENTITY_EXISTS)
        return fail(q, rc, NULL, "User with name %s already exists.", new_name);
    if (rc == -ERR_NO_SUCH_ENTITY)
        return fail(q, rc, NULL, "The user with name %s cannot be found.", q->user);
    return rc;
}

static int
delete_user(struct query *q)
{
    int rc = iam_user_delete(q->iam, q->user, false, &q->msg);

    if (rc == -ERR_NO_SUCH_ENTITY)
        return fail(q, rc, NULL, "The user with name %s cannot be found.", q->user);
    if (rc == -ERR_DELETE_CONFLICT && q->msg.len == 0)
        return fail(q, rc, NULL,
                    "Cannot delete entity, must delete policies, access keys and "
                    "group memberships first.");
    return rc;
}

/* ---- access keys ---- */

/* The user named by the request or the caller; root's keys are the server's credentials. */
static int
key_owner(struct query *q, const char **out)
{
    if (!q->user)
        return fail(q, -ERR_INVAL, "InvalidInput",
                    "The root user's access key is the server's credential; name a user.");
    *out = q->user;
    return 0;
}

static int
create_access_key(struct query *q)
{
    struct buf ak = BUF_INIT, secret = BUF_INIT;
    struct iam_new_key nk = { 0 };
    int rc = key_owner(q, &nk.user);

    if (rc == 0)
        rc = iam_key_create(q->iam, &nk, &ak, &secret, &q->msg);
    if (rc == -ERR_NO_SUCH_ENTITY)
        rc = fail(q, rc, NULL, "The user with name %s cannot be found.", nk.user);
    if (rc < 0)
        goto out;
    xml_open(&q->res, "AccessKey");
    xml_elem_str(&q->res, "UserName", nk.user);
    xml_elem_str(&q->res, "AccessKeyId", ak.ptr);
    xml_elem_str(&q->res, "Status", "Active");
    xml_elem_str(&q->res, "SecretAccessKey", secret.ptr);
    elem_time(&q->res, "CreateDate", time(NULL));
    xml_close(&q->res, "AccessKey");
out:
    buf_release(&ak);
    buf_release_secure(&secret);
    return rc;
}

static int
list_access_keys(struct query *q)
{
    struct coll c = { .a = q->a };
    const char *user = NULL;
    struct entry *e;
    struct buf x = BUF_INIT;
    size_t i;
    int rc = key_owner(q, &user);

    if (rc == 0)
        rc = get_user(q, user, &(struct user_copy *){ NULL });
    if (rc == 0)
        rc = iam_key_list(q->iam, user, NULL, false, collect_key, &c);
    if (rc < 0)
        return rc;
    xml_elem_str(&q->res, "UserName", user);
    e = arena_alloc(q->a, (c.n + 1) * sizeof(*e));
    for (i = 0; i < c.n; i++) {
        const struct key_copy *k = c.items[i];

        buf_clear(&x);
        key_xml(&x, k);
        e[i].key = k->access_key;
        e[i].xml = arena_slicedup(q->a, buf_slice(&x));
    }
    buf_release(&x);
    return page(q, "AccessKeyMetadata", e, c.n);
}

/*
 * AccessKeyId, checked to be an own key of the request's user: a right on
 * one user's keys must not reach another's (nor a service account).
 */
static int
own_key(struct query *q, const char **out)
{
    struct coll c = { .a = q->a };
    const char *user = NULL, *ak = NULL;
    int rc = key_owner(q, &user);

    if (rc == 0)
        rc = need_param(q, "AccessKeyId", "accessKeyId", &ak);
    if (rc == 0)
        rc = iam_key_list(q->iam, NULL, ak, false, collect_key, &c);
    if (rc < 0 && rc != -ERR_NO_SUCH_ENTITY)
        return rc;
    if (rc == -ERR_NO_SUCH_ENTITY || c.n != 1 ||
        strcmp(((struct key_copy *)c.items[0])->user, user) != 0)
        return fail(q, -ERR_NO_SUCH_ENTITY, NULL, "The Access Key with id %s cannot be found.", ak);
    *out = ak;
    return 0;
}

static int
update_access_key(struct query *q)
{
    const char *ak = NULL, *status = NULL;
    int rc = own_key(q, &ak);

    if (rc == 0)
        rc = need_param(q, "Status", "status", &status);
    if (rc < 0)
        return rc;
    if (strcmp(status, "Active") != 0 && strcmp(status, "Inactive") != 0)
        return invalid(q, "status", status,
                       "Member must satisfy enum value set: [Active, Inactive]");
    return iam_key_set_enabled(q->iam, ak, !strcmp(status, "Active"));
}

static int
delete_access_key(struct query *q)
{
    const char *ak = NULL;
    int rc = own_key(q, &ak);

    return rc < 0 ? rc : iam_key_delete(q->iam, ak);
}

/* ---- inline policies of users and groups ---- */

static enum iam_entity
entity_kind(const struct query *q)
{
    return q->act->target == QT_GROUP ? IAM_ENTITY_GROUP : IAM_ENTITY_USER;
}

static const char *
entity_name(const struct query *q)
{
    return q->act->target == QT_GROUP ? q->group : q->user;
}

/* 0 if the request's user or group exists, else NoSuchEntity naming it. */
static int
entity_exists(struct query *q)
{
    struct user_copy *u;
    struct group_copy *g;

    if (entity_kind(q) == IAM_ENTITY_GROUP)
        return get_group(q, q->group, &g);
    return get_user(q, q->user, &u);
}

/* NoSuchEntity as AWS words it for the user or group of the request. */
static int
no_entity(struct query *q, int rc)
{
    if (rc != -ERR_NO_SUCH_ENTITY)
        return rc;
    /* the entity exists: then it was the policy that did not */
    if (entity_exists(q) == 0)
        return fail(q, rc, NULL, "The policy could not be found.");
    return rc; /* entity_exists said which */
}

static int
put_inline(struct query *q)
{
    const char *name = NULL, *doc = NULL;
    int rc = need_name(q, "PolicyName", "policyName", POLICY_NAME_MAX, &name);

    if (rc == 0)
        rc = need_doc(q, &doc);
    if (rc == 0)
        rc = iam_inline_put(q->iam, entity_kind(q), entity_name(q), name, slice_cstr(doc), &q->msg);
    return no_entity(q, rc);
}

static int
get_inline(struct query *q)
{
    const char *name = NULL;
    struct buf doc = BUF_INIT;
    int rc = need_name(q, "PolicyName", "policyName", POLICY_NAME_MAX, &name);

    if (rc == 0)
        rc = iam_inline_get(q->iam, entity_kind(q), entity_name(q), name, &doc);
    if (rc == -ERR_NO_SUCH_ENTITY)
        rc = no_entity(q, rc);
    if (rc == 0) {
        xml_elem_str(&q->res, entity_kind(q) == IAM_ENTITY_GROUP ? "GroupName" : "UserName",
                     entity_name(q));
        xml_elem_str(&q->res, "PolicyName", name);
        elem_doc(&q->res, "PolicyDocument", buf_slice(&doc));
    }
    buf_release(&doc);
    return rc;
}

static int
delete_inline(struct query *q)
{
    const char *name = NULL;
    int rc = need_name(q, "PolicyName", "policyName", POLICY_NAME_MAX, &name);

    if (rc == 0)
        rc = iam_inline_delete(q->iam, entity_kind(q), entity_name(q), name);
    return no_entity(q, rc);
}

static int
list_inline(struct query *q)
{
    struct user_copy *u = NULL;
    struct group_copy *g = NULL;
    int rc;

    if (entity_kind(q) == IAM_ENTITY_GROUP) {
        rc = get_group(q, q->group, &g);
        return rc < 0 ? rc : names_page(q, "PolicyNames", g->inline_names, g->ninline);
    }
    rc = get_user(q, q->user, &u);
    return rc < 0 ? rc : names_page(q, "PolicyNames", u->inline_names, u->ninline);
}

/* ---- managed policies ---- */

static int
create_policy(struct query *q)
{
    struct policy_copy *p = NULL;
    const char *doc = NULL;
    int rc = need_doc(q, &doc);

    if (rc == 0)
        rc = iam_policy_put(q->iam, q->policy, slice_cstr(doc), false, &q->msg);
    if (rc == -ERR_ENTITY_EXISTS)
        return fail(q, rc, NULL,
                    "A policy called %s already exists. Duplicate names are not "
                    "allowed.",
                    q->policy);
    if (rc == 0)
        rc = get_policy(q, q->policy, &p);
    if (rc < 0)
        return rc;
    xml_open(&q->res, "Policy");
    policy_xml(q, &q->res, p);
    xml_close(&q->res, "Policy");
    return 0;
}

static int
get_policy_action(struct query *q)
{
    struct policy_copy *p = NULL;
    int rc = get_policy(q, q->policy, &p);

    if (rc < 0)
        return rc;
    xml_open(&q->res, "Policy");
    policy_xml(q, &q->res, p);
    xml_close(&q->res, "Policy");
    return 0;
}

static void
version_xml(struct buf *x, const struct policy_copy *p, bool doc)
{
    if (doc)
        elem_doc(x, "Document", slice_cstr(p->doc));
    xml_elem_str(x, "VersionId", "v1");
    xml_elem_bool(x, "IsDefaultVersion", true);
    elem_time(x, "CreateDate", p->updated ? p->updated : p->created);
}

/* GetPolicyVersion: one version per policy, v1 (a replaced document stays v1). */
static int
get_policy_version(struct query *q)
{
    struct policy_copy *p = NULL;
    const char *v = NULL;
    int rc = need_param(q, "VersionId", "versionId", &v);

    if (rc == 0)
        rc = get_policy(q, q->policy, &p);
    if (rc < 0)
        return rc;
    if (strcmp(v, "v1") != 0)
        return fail(q, -ERR_NO_SUCH_ENTITY, NULL, "Policy %s version %s does not exist.",
                    policy_arn(q, q->policy), v);
    xml_open(&q->res, "PolicyVersion");
    version_xml(&q->res, p, true);
    xml_close(&q->res, "PolicyVersion");
    return 0;
}

/* ListPolicyVersions (Terraform reads it before deleting a policy): v1. */
static int
list_policy_versions(struct query *q)
{
    struct policy_copy *p = NULL;
    struct entry e;
    struct buf x = BUF_INIT;
    int rc = get_policy(q, q->policy, &p);

    if (rc < 0)
        return rc;
    version_xml(&x, p, false);
    e.key = "v1";
    e.xml = arena_slicedup(q->a, buf_slice(&x));
    buf_release(&x);
    return page(q, "Versions", &e, 1);
}

/* Whether ListPolicies' Scope (All, AWS: the canned ones, Local: the others) keeps `p`. */
static bool
in_scope(const char *scope, const struct policy_copy *p)
{
    return !scope || !strcmp(scope, "All") || (!strcmp(scope, "AWS") && p->canned) ||
           (!strcmp(scope, "Local") && !p->canned);
}

static int
list_policies(struct query *q)
{
    struct coll c = { .a = q->a };
    const char *scope = param(q, "Scope"), *attached = param(q, "OnlyAttached");
    const char *prefix = param(q, "PathPrefix");
    struct entry *e;
    struct buf x = BUF_INIT;
    size_t i, n = 0;
    int rc;

    if (scope && strcmp(scope, "All") && strcmp(scope, "AWS") && strcmp(scope, "Local"))
        return invalid(q, "scope", scope, "Member must satisfy enum value set: [All, AWS, Local]");
    rc = iam_policy_list(q->iam, NULL, collect_policy, &c);
    if (rc < 0)
        return rc;
    e = arena_alloc(q->a, (c.n + 1) * sizeof(*e));
    for (i = 0; i < c.n; i++) {
        const struct policy_copy *p = c.items[i];

        if (!in_scope(scope, p) || (attached && !strcmp(attached, "true") && !p->attachments) ||
            (prefix && strcmp(prefix, "/") != 0))
            continue;
        buf_clear(&x);
        policy_xml(q, &x, p);
        e[n].key = p->name;
        e[n++].xml = arena_slicedup(q->a, buf_slice(&x));
    }
    buf_release(&x);
    return page(q, "Policies", e, n);
}

static int
delete_policy(struct query *q)
{
    int rc = iam_policy_delete(q->iam, q->policy, &q->msg);

    if (rc == -ERR_NO_SUCH_ENTITY)
        return get_policy(q, q->policy, &(struct policy_copy *){ NULL });
    if (rc == -ERR_DELETE_CONFLICT)
        return fail(q, rc, NULL, "Cannot delete a policy attached to entities.");
    if (rc == -ERR_INVAL && iam_policy_is_canned(q->policy))
        return fail(q, rc, "InvalidInput", "Policy %s is a canned policy: it cannot be deleted.",
                    q->policy);
    return rc;
}

/* Attach/DetachUserPolicy, Attach/DetachGroupPolicy: PolicyArn on the request's entity. */
static int
attach(struct query *q, bool on)
{
    const char *policy = NULL;
    int rc = policy_from_arn(q, "PolicyArn", &policy);

    if (rc < 0)
        return rc;
    rc = on ? iam_policy_attach(q->iam, policy, entity_kind(q), entity_name(q))
            : iam_policy_detach(q->iam, policy, entity_kind(q), entity_name(q));
    if (rc != -ERR_NO_SUCH_ENTITY)
        return rc;
    rc = get_policy(q, policy, &(struct policy_copy *){ NULL });
    if (rc < 0)
        return rc;
    rc = entity_exists(q);
    if (rc < 0)
        return rc;
    return fail(q, -ERR_NO_SUCH_ENTITY, NULL, "Policy %s is not attached to %s.",
                policy_arn(q, policy), entity_name(q));
}

static int
attach_policy(struct query *q)
{
    return attach(q, true);
}

static int
detach_policy(struct query *q)
{
    return attach(q, false);
}

static int
list_attached(struct query *q)
{
    struct user_copy *u = NULL;
    struct group_copy *g = NULL;
    int rc;

    if (entity_kind(q) == IAM_ENTITY_GROUP) {
        rc = get_group(q, q->group, &g);
        return rc < 0 ? rc : attached_page(q, g->policies, g->npolicies);
    }
    rc = get_user(q, q->user, &u);
    return rc < 0 ? rc : attached_page(q, u->policies, u->npolicies);
}

/* ---- groups ---- */

static int
create_group(struct query *q)
{
    struct group_copy *g = NULL;
    int rc = iam_group_create(q->iam, q->group, &q->msg);

    if (rc == -ERR_ENTITY_EXISTS)
        return fail(q, rc, NULL, "Group with name %s already exists.", q->group);
    if (rc == 0)
        rc = get_group(q, q->group, &g);
    if (rc < 0)
        return rc;
    xml_open(&q->res, "Group");
    group_xml(q, &q->res, g);
    xml_close(&q->res, "Group");
    return 0;
}

/* GetGroup: the group and a page of its members as User elements. */
static int
get_group_action(struct query *q)
{
    struct group_copy *g = NULL;
    struct user_copy *u;
    struct entry *e;
    struct buf x = BUF_INIT;
    size_t i, n = 0;
    int rc = get_group(q, q->group, &g);

    if (rc < 0)
        return rc;
    xml_open(&q->res, "Group");
    group_xml(q, &q->res, g);
    xml_close(&q->res, "Group");
    e = arena_alloc(q->a, (g->nmembers + 1) * sizeof(*e));
    for (i = 0; i < g->nmembers; i++) {
        if (get_user(q, g->members[i], &u) < 0)
            continue; /* deleted meanwhile */
        buf_clear(&x);
        user_xml(q, &x, u);
        e[n].key = u->name;
        e[n++].xml = arena_slicedup(q->a, buf_slice(&x));
    }
    buf_clear(&q->msg);
    buf_release(&x);
    return page(q, "Users", e, n);
}

/* The groups named `names` (or all, names NULL) as a page of Group elements. */
static int
groups_page(struct query *q, char **names, size_t nnames)
{
    struct coll c = { .a = q->a };
    struct entry *e;
    struct buf x = BUF_INIT;
    size_t i;
    int rc = 0;

    if (!names)
        rc = iam_group_list(q->iam, NULL, collect_group, &c);
    for (i = 0; names && i < nnames && rc == 0; i++) {
        rc = iam_group_list(q->iam, names[i], collect_group, &c);
        if (rc == -ERR_NO_SUCH_ENTITY)
            rc = 0; /* deleted meanwhile */
    }
    if (rc < 0)
        return rc;
    e = arena_alloc(q->a, (c.n + 1) * sizeof(*e));
    for (i = 0; i < c.n; i++) {
        const struct group_copy *g = c.items[i];

        buf_clear(&x);
        group_xml(q, &x, g);
        e[i].key = g->name;
        e[i].xml = arena_slicedup(q->a, buf_slice(&x));
    }
    buf_release(&x);
    return page(q, "Groups", e, c.n);
}

static int
list_groups(struct query *q)
{
    const char *prefix = param(q, "PathPrefix");

    if (prefix && strcmp(prefix, "/") != 0)
        return groups_page(q, (char *[]){ NULL }, 0);
    return groups_page(q, NULL, 0);
}

static int
list_groups_for_user(struct query *q)
{
    struct user_copy *u = NULL;
    int rc = get_user(q, q->user, &u);

    return rc < 0 ? rc : groups_page(q, u->groups, u->ngroups);
}

static int
delete_group(struct query *q)
{
    int rc = iam_group_delete(q->iam, q->group, false, &q->msg);

    if (rc == -ERR_NO_SUCH_ENTITY)
        return fail(q, rc, NULL, "The group with name %s cannot be found.", q->group);
    if (rc == -ERR_DELETE_CONFLICT && q->msg.len == 0)
        return fail(q, rc, NULL,
                    "Cannot delete entity, must remove users and policies from "
                    "group first.");
    return rc;
}

/* Add/RemoveUserFromGroup: UserName into or out of the group. */
static int
membership(struct query *q, bool add)
{
    const char *user = NULL;
    int rc = need_name(q, "UserName", "userName", USER_NAME_MAX, &user);

    if (rc < 0)
        return rc;
    rc = add ? iam_group_add_member(q->iam, q->group, user)
             : iam_group_remove_member(q->iam, q->group, user);
    if (rc != -ERR_NO_SUCH_ENTITY)
        return rc;
    rc = get_group(q, q->group, &(struct group_copy *){ NULL });
    if (rc == 0)
        rc = get_user(q, user, &(struct user_copy *){ NULL });
    if (rc == 0)
        rc = fail(q, -ERR_NO_SUCH_ENTITY, NULL, "User %s is not in group %s.", user, q->group);
    return rc;
}

static int
add_user_to_group(struct query *q)
{
    return membership(q, true);
}

static int
remove_user_from_group(struct query *q)
{
    return membership(q, false);
}

/* ---- STS ---- */

static int
get_caller_identity(struct query *q)
{
    const struct iam_identity *id = q->call->id;

    xml_elem_str(&q->res, "Arn", id->arn);
    xml_elem_str(&q->res, "UserId", id->userid[0] ? id->userid : q->acct);
    xml_elem_str(&q->res, "Account", q->acct);
    return 0;
}

/* DurationSeconds: 900..43200, default 3600; else ValidationError as AWS words it. */
static int
duration(struct query *q, unsigned *out)
{
    const char *v = param(q, "DurationSeconds");
    uint64_t n = IAM_STS_DEFAULT_SECONDS;

    if (v && parse_u64(slice_cstr(v), &n) < 0)
        return invalid(q, "durationSeconds", v, "Member must be a number");
    if (n < IAM_STS_MIN_SECONDS)
        return invalid(q, "durationSeconds", v,
                       "Member must have value greater than or equal to 900");
    if (n > IAM_STS_MAX_SECONDS)
        return invalid(q, "durationSeconds", v,
                       "Member must have value less than or equal to 43200");
    *out = (unsigned)n;
    return 0;
}

/* The AssumedRoleUser of AssumeRole: the role's name from RoleArn (any is accepted, as MinIO). */
static void
assumed_role_xml(struct query *q, const char *access_key, const char *session)
{
    const char *role = param(q, "RoleArn"), *slash = role ? strrchr(role, '/') : NULL;

    role = slash && slash[1] ? slash + 1 : "basalt";
    xml_open(&q->res, "AssumedRoleUser");
    xml_elem_str(&q->res, "Arn",
                 arena_printf(q->a, "arn:aws:sts::%s:assumed-role/%s/%s", q->acct, role, session));
    xml_elem_str(&q->res, "AssumedRoleId", arena_printf(q->a, "%s:%s", access_key, session));
    xml_close(&q->res, "AssumedRoleUser");
}

static int
assume_role(struct query *q)
{
    struct iam_sts_creds creds = { .token = BUF_INIT };
    const char *session = "basalt", *policy = param(q, "Policy");
    unsigned seconds = 0;
    int rc = duration(q, &seconds);

    if (rc == 0 && param(q, "RoleSessionName"))
        rc = need_name(q, "RoleSessionName", "roleSessionName", SESSION_NAME_MAX, &session);
    if (rc == 0 && policy && strlen(policy) > IAM_POLICY_MAX)
        rc = fail(q, -ERR_POLICY_TOO_LARGE, "PackedPolicyTooLarge",
                  "The session policy is larger than %u bytes.", IAM_POLICY_MAX);
    if (rc == 0)
        rc = iam_sts_assume_role(q->iam, q->call->id, policy && *policy ? policy : NULL, seconds,
                                 &creds, &q->msg);
    if (rc == -ERR_ACCESS_DENIED && q->msg.len == 0)
        rc = fail(q, rc, NULL, "Temporary credentials and service accounts cannot assume a role.");
    if (rc < 0)
        goto out;
    xml_open(&q->res, "Credentials");
    xml_elem_str(&q->res, "AccessKeyId", creds.access_key);
    xml_elem_str(&q->res, "SecretAccessKey", creds.secret);
    xml_elem(&q->res, "SessionToken", buf_slice(&creds.token));
    elem_time(&q->res, "Expiration", creds.expires);
    xml_close(&q->res, "Credentials");
    assumed_role_xml(q, creds.access_key, session);
out:
    iam_sts_creds_release(&creds);
    return rc;
}

/* ---- the table ---- */

static int
list_user_policies(struct query *q)
{
    return list_inline(q);
}

static const struct query_action actions[] = {
    { "CreateUser", QT_USER, true, create_user },
    { "GetUser", QT_SELF, true, get_user_action },
    { "ListUsers", QT_NONE, true, list_users },
    { "UpdateUser", QT_USER, false, update_user },
    { "DeleteUser", QT_USER, false, delete_user },
    { "CreateAccessKey", QT_SELF, true, create_access_key },
    { "ListAccessKeys", QT_SELF, true, list_access_keys },
    { "UpdateAccessKey", QT_SELF, false, update_access_key },
    { "DeleteAccessKey", QT_SELF, false, delete_access_key },
    { "PutUserPolicy", QT_USER, false, put_inline },
    { "GetUserPolicy", QT_USER, true, get_inline },
    { "ListUserPolicies", QT_USER, true, list_user_policies },
    { "DeleteUserPolicy", QT_USER, false, delete_inline },
    { "CreatePolicy", QT_POLICY_NAME, true, create_policy },
    { "GetPolicy", QT_POLICY_ARN, true, get_policy_action },
    { "GetPolicyVersion", QT_POLICY_ARN, true, get_policy_version },
    { "ListPolicyVersions", QT_POLICY_ARN, true, list_policy_versions },
    { "ListPolicies", QT_NONE, true, list_policies },
    { "DeletePolicy", QT_POLICY_ARN, false, delete_policy },
    { "AttachUserPolicy", QT_USER, false, attach_policy },
    { "DetachUserPolicy", QT_USER, false, detach_policy },
    { "ListAttachedUserPolicies", QT_USER, true, list_attached },
    { "CreateGroup", QT_GROUP, true, create_group },
    { "GetGroup", QT_GROUP, true, get_group_action },
    { "ListGroups", QT_NONE, true, list_groups },
    { "DeleteGroup", QT_GROUP, false, delete_group },
    { "AddUserToGroup", QT_GROUP, false, add_user_to_group },
    { "RemoveUserFromGroup", QT_GROUP, false, remove_user_from_group },
    { "PutGroupPolicy", QT_GROUP, false, put_inline },
    { "GetGroupPolicy", QT_GROUP, true, get_inline },
    { "DeleteGroupPolicy", QT_GROUP, false, delete_inline },
    { "ListGroupPolicies", QT_GROUP, true, list_inline },
    { "AttachGroupPolicy", QT_GROUP, false, attach_policy },
    { "DetachGroupPolicy", QT_GROUP, false, detach_policy },
    { "ListAttachedGroupPolicies", QT_GROUP, true, list_attached },
    { "ListGroupsForUser", QT_USER, true, list_groups_for_user },
    { "GetCallerIdentity", QT_STS, true, get_caller_identity },
    { "AssumeRole", QT_STS, true, assume_role },
};

static const struct query_action *
find_action(const char *name)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(actions); i++)
        if (!strcmp(actions[i].name, name))
            return &actions[i];
    return NULL;
}

/* ---- the request ---- */

/* Whether the caller is root itself (or a key of root's), for "the caller's own user". */
static bool
caller_is_root(const struct query *q)
{
    const struct iam_identity *id = q->call->id;

    return id->type == IAM_ROOT || !strcmp(id->user, q->call->s3->root_user);
}

/*
 * The entity the action names, checked, and its ARN: 0 and `*resource`
 * (NULL for listings), or ValidationError / InvalidInput.
 */
static int
resolve_target(struct query *q, const char **resource)
{
    int rc = 0;

    *resource = NULL;
    switch (q->act->target) {
    case QT_SELF:
        if (!param(q, "UserName")) {
            q->user = caller_is_root(q) ? NULL : q->call->id->user;
            *resource = q->user ? user_arn(q, q->user)
                                : arena_printf(q->a, "arn:aws:iam::%s:root", q->acct);
            return 0;
        }
        /* fall through */
    case QT_USER:
        rc = need_name(q, "UserName", "userName", USER_NAME_MAX, &q->user);
        if (rc == 0)
            *resource = user_arn(q, q->user);
        return rc;
    case QT_GROUP:
        rc = need_name(q, "GroupName", "groupName", GROUP_NAME_MAX, &q->group);
        if (rc == 0)
            *resource = group_arn(q, q->group);
        return rc;
    case QT_POLICY_NAME:
        rc = need_name(q, "PolicyName", "policyName", POLICY_NAME_MAX, &q->policy);
        if (rc == 0)
            *resource = policy_arn(q, q->policy);
        return rc;
    case QT_POLICY_ARN:
        rc = policy_from_arn(q, "PolicyArn", &q->policy);
        if (rc == 0)
            *resource = policy_arn(q, q->policy);
        return rc;
    default:
        return 0;
    }
}

/* Answers the action's document: <NameResponse><NameResult>res</NameResult><ResponseMetadata>. */
static void
send_result(struct query *q)
{
    const char *name = q->act->name;
    struct buf x = BUF_INIT;

    xml_declaration(&x);
    open_ns(&x, arena_printf(q->a, "%sResponse", name), q->act->target == QT_STS);
    if (q->act->result) {
        xml_open(&x, arena_printf(q->a, "%sResult", name));
        buf_addslice(&x, buf_slice(&q->res));
        xml_close(&x, arena_printf(q->a, "%sResult", name));
    }
    xml_open(&x, "ResponseMetadata");
    xml_elem_str(&x, "RequestId", q->call->req->id);
    xml_close(&x, "ResponseMetadata");
    xml_close(&x, arena_printf(q->a, "%sResponse", name));
    http_resp_header(q->call->req, "Content-Type", "text/xml");
    http_resp_buf(q->call->req, 200, &x);
    buf_release(&x);
}

/* Authorizes and runs the action; 0 once answered, or the error for the caller to answer. */
static int
run(struct query *q)
{
    const char *resource = NULL;
    int rc;

    if (q->call->id->type == IAM_ANONYMOUS)
        return fail(q, -ERR_ACCESS_DENIED, NULL, "%s needs a signed request.", q->act->name);
    rc = resolve_target(q, &resource);
    if (rc == 0 && q->act->target != QT_STS) {
        rc = s3__check_access(q->call, arena_printf(q->a, "iam:%s", q->act->name), resource, NULL,
                              NULL);
        if (rc == -ERR_ACCESS_DENIED)
            return fail(q, rc, NULL,
                        "User: %s is not authorized to perform: iam:%s on resource: %s",
                        q->call->id->arn, q->act->name, resource ? resource : "*");
    }
    if (rc == 0)
        rc = q->act->fn(q);
    if (rc == 0)
        send_result(q);
    return rc;
}

/*
 * The body's SHA-256 as the request's payload hash: x-amz-content-sha256
 * when the client sent none (the SDKs sign IAM and STS bodies without it),
 * or checked against the one sent. 0 or -ERR_SHA256_MISMATCH.
 */
static int
payload_hash(struct s3_call *call, struct slice body)
{
    struct http_req *req = call->req;
    struct http_header *h;
    unsigned char md[32];
    unsigned len = 0;
    char *hex = arena_alloc(req->arena, 65);
    struct slice v;

    EVP_Digest(body.ptr, body.len, md, &len, EVP_sha256(), NULL);
    hex_encode_to(hex, md, sizeof(md));
    if (http_req_header(req, "x-amz-content-sha256", &v)) {
        v = slice_trim(v);
        if (v.len != 64 || slice_eq_cstr(v, SIGV4_UNSIGNED_PAYLOAD))
            return 0; /* unsigned, or malformed: the signature check says so */
        return slice_eq_cstr(v, hex) ? 0 : -ERR_SHA256_MISMATCH;
    }
    if (http_req_has_param(req, "X-Amz-Signature"))
        return 0; /* a presigned request names its payload hash in the query, or none */
    h = arena_alloc(req->arena, (req->nheaders + 1) * sizeof(*h));
    memcpy(h, req->headers, req->nheaders * sizeof(*h));
    h[req->nheaders].name = SLICE_LIT("x-amz-content-sha256");
    h[req->nheaders].value = slice_make(hex, 64);
    req->headers = h;
    req->nheaders++;
    return 0;
}

static const char *
action_version(const struct query *q)
{
    const char *v = param(q, "Version");

    return v ? v : "2010-05-08";
}

static void
body_done(struct s3_call *call, int rc, struct slice body)
{
    struct query q = { .call = call, .iam = call->s3->iam, .a = call->req->arena };
    const char *action;

    q.res = (struct buf)BUF_INIT;
    q.msg = (struct buf)BUF_INIT;
    if (rc == 0)
        rc = payload_hash(call, body);
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    if (s3__authenticate(call) < 0)
        return; /* answered */
    if (call->auth.access_key[0])
        call->ctx.access_key = call->auth.access_key;
    if (form_parse(&q, call->req->query) < 0 || form_parse(&q, body) < 0) {
        s3__send_error_code(call, -ERR_INVAL, "MalformedQueryString",
                            "A parameter has a malformed escape.");
        return;
    }
    action = param(&q, "Action");
    q.act = action ? find_action(action) : NULL;
    if (!q.act) {
        if (action)
            s3__send_error_code(call, -ERR_INVAL, "InvalidAction",
                                arena_printf(q.a, "Could not find operation %s for version %s",
                                             action, action_version(&q)));
        else
            s3__send_error_code(call, -ERR_INVAL, "MissingAction", "Missing Action");
        return;
    }
    if (!q.iam) {
        s3__send_error_code(call, -ERR_NOT_IMPLEMENTED, NULL,
                            "This server runs without an identity store: root is the only "
                            "identity.");
        return;
    }
    q.acct = iam_account_id(q.iam);
    rc = run(&q);
    if (rc < 0)
        s3__send_error_code(call, rc, q.code, q.msg.len ? q.msg.ptr : NULL);
    buf_release(&q.res);
    buf_release(&q.msg);
}

void
s3__aws_query(struct s3_call *call)
{
    s3__expect_small_body_max(call, QUERY_BODY_MAX, body_done);
}
