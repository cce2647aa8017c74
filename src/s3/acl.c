/*
 * s3/acl.c: access control lists, object ownership and the public access
 * block (issue 12), as S3 defines them.
 *
 * ACLs: an owner (a canonical user id, iam/iam.h) and up to 100 grants of
 * READ, WRITE, READ_ACP, WRITE_ACP or FULL_CONTROL to a canonical user, a
 * user named by "email" (Basalt users have no email: the user NAME is
 * accepted as the EmailAddress and resolved to its canonical id when the
 * ACL is stored) or the groups AllUsers, AuthenticatedUsers and LogDelivery.
 * A bucket's ACL is its "acl" configuration document; an object's the stored
 * header x-basalt-acl (hidden from GET/HEAD), both in the compact form of
 * s3_acl_encode, and only when not the default: a bucket without one is
 * root's with FULL_CONTROL to root, an object without one is its bucket
 * owner's with FULL_CONTROL to that owner.
 *
 * Object ownership: the "ownership" document (BucketOwnerEnforced when there
 * is none: the buckets Basalt made before ACLs existed were that; "" once
 * DeleteBucketOwnershipControls removed the setting: then objects behave as
 * ObjectWriter). With BucketOwnerEnforced ACLs play no part in access and
 * only ACLs equal to "the bucket owner has FULL_CONTROL" are accepted.
 *
 * Public access block: the "public-access-block" document, four flags.
 *
 * The pure parts (canned ACLs, grant headers, the XML, the compact form,
 * the permissions a caller gets) are separate from the handlers, for
 * tests/unit/s3/test_acl.c.
 */
#include "util/base.h"

#include <strings.h>

#include "s3/internal.h"
#include "s3/xml.h"
#include "util/err.h"
#include "util/hdrs.h"

#define URI_ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define URI_AUTH_USERS "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define URI_LOG_DELIVERY "http://acs.amazonaws.com/groups/s3/LogDelivery"
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

static const char *const perm_names[] = {
    [S3_PERM_READ] = "READ",
    [S3_PERM_WRITE] = "WRITE",
    [S3_PERM_READ_ACP] = "READ_ACP",
    [S3_PERM_WRITE_ACP] = "WRITE_ACP",
    [S3_PERM_FULL_CONTROL] = "FULL_CONTROL",
};

static unsigned
perm_parse(struct slice s)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(perm_names); i++)
        if (perm_names[i] && slice_eq_cstr(s, perm_names[i]))
            return (unsigned)i;
    return 0;
}

static int
grant_add(struct s3_acl *a, enum s3_grantee type, const char *id, size_t id_len, unsigned perm)
{
    struct s3_grant *g;

    if (a->n >= S3_ACL_MAX_GRANTS)
        return -ERR_MALFORMED_ACL;
    if (id_len > IAM_NAME_MAX)
        return type == S3_GRANTEE_EMAIL ? -ERR_UNRESOLVABLE_GRANT : -ERR_INVALID_ARGUMENT;
    g = &a->g[a->n++];
    g->type = type;
    g->perm = perm;
    memcpy(g->id, id ? id : "", id ? id_len : 0);
    g->id[id ? id_len : 0] = '\0';
    return 0;
}

static int
grant_user(struct s3_acl *a, const char *id, unsigned perm)
{
    return grant_add(a, S3_GRANTEE_USER, id, strlen(id), perm);
}

void
s3_acl_private(struct s3_acl *a, const char *owner)
{
    char id[IAM_CANONICAL_ID_LEN + 1];

    snprintf(id, sizeof(id), "%s", owner); /* `owner` may be a->owner */
    memset(a, 0, sizeof(*a));
    memcpy(a->owner, id, sizeof(id));
    grant_user(a, id, S3_PERM_FULL_CONTROL);
}

int
s3_acl_canned(struct s3_acl *a, struct slice name, const char *owner, const char *bucket_owner)
{
    bool other = bucket_owner && strcmp(bucket_owner, owner) != 0;

    s3_acl_private(a, owner);
    name = slice_trim(name);
    if (slice_eq_cstr(name, "private") || slice_eq_cstr(name, "aws-exec-read"))
        return 0; /* aws-exec-read: EC2's READ, a grantee that does not exist here */
    if (slice_eq_cstr(name, "public-read"))
        return grant_add(a, S3_GRANTEE_ALL_USERS, NULL, 0, S3_PERM_READ);
    if (slice_eq_cstr(name, "public-read-write")) {
        grant_add(a, S3_GRANTEE_ALL_USERS, NULL, 0, S3_PERM_READ);
        return grant_add(a, S3_GRANTEE_ALL_USERS, NULL, 0, S3_PERM_WRITE);
    }
    if (slice_eq_cstr(name, "authenticated-read"))
        return grant_add(a, S3_GRANTEE_AUTH_USERS, NULL, 0, S3_PERM_READ);
    if (slice_eq_cstr(name, "bucket-owner-read"))
        return other ? grant_user(a, bucket_owner, S3_PERM_READ) : 0;
    if (slice_eq_cstr(name, "bucket-owner-full-control"))
        return other ? grant_user(a, bucket_owner, S3_PERM_FULL_CONTROL) : 0;
    if (slice_eq_cstr(name, "log-delivery-write")) {
        grant_add(a, S3_GRANTEE_LOG_DELIVERY, NULL, 0, S3_PERM_WRITE);
        return grant_add(a, S3_GRANTEE_LOG_DELIVERY, NULL, 0, S3_PERM_READ_ACP);
    }
    return -ERR_INVALID_ARGUMENT;
}

/* A group's URI: its grantee type, or -1. */
static int
group_parse(struct slice uri)
{
    if (slice_eq_cstr(uri, URI_ALL_USERS))
        return S3_GRANTEE_ALL_USERS;
    if (slice_eq_cstr(uri, URI_AUTH_USERS))
        return S3_GRANTEE_AUTH_USERS;
    if (slice_eq_cstr(uri, URI_LOG_DELIVERY))
        return S3_GRANTEE_LOG_DELIVERY;
    return -1;
}

/* ---- x-amz-grant-* ---- */

static const struct {
    const char *header;
    unsigned perm;
} grant_headers[] = {
    { "x-amz-grant-read", S3_PERM_READ },
    { "x-amz-grant-write", S3_PERM_WRITE },
    { "x-amz-grant-read-acp", S3_PERM_READ_ACP },
    { "x-amz-grant-write-acp", S3_PERM_WRITE_ACP },
    { "x-amz-grant-full-control", S3_PERM_FULL_CONTROL },
};

/* One header's value: `type="value"` items separated by commas. */
static int
parse_grant_list(struct s3_acl *a, struct slice v, unsigned perm)
{
    struct slice item, rest = v, key, val;
    int type, rc;

    while (rest.ptr && rest.len) {
        rest = slice_split(rest, ',', &item);
        item = slice_trim(item);
        if (!item.len)
            return -ERR_INVALID_ARGUMENT;
        val = slice_split(item, '=', &key);
        key = slice_trim(key);
        val = slice_trim(val);
        if (!val.ptr)
            return -ERR_INVALID_ARGUMENT;
        if (val.len >= 2 && val.ptr[0] == '"' && val.ptr[val.len - 1] == '"')
            val = slice_make(val.ptr + 1, val.len - 2);
        if (slice_case_eq_cstr(key, "id")) {
            rc = grant_add(a, S3_GRANTEE_USER, val.ptr, val.len, perm);
        } else if (slice_case_eq_cstr(key, "emailAddress")) {
            rc = grant_add(a, S3_GRANTEE_EMAIL, val.ptr, val.len, perm);
        } else if (slice_case_eq_cstr(key, "uri")) {
            if ((type = group_parse(val)) < 0)
                return -ERR_INVALID_ARGUMENT;
            rc = grant_add(a, (enum s3_grantee)type, NULL, 0, perm);
        } else {
            return -ERR_INVALID_ARGUMENT;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int
s3_acl_from_grant_headers(struct s3_acl *a, const struct http_header *h, size_t n,
                          const char *owner)
{
    size_t i, j;
    int found = 0, rc;

    memset(a, 0, sizeof(*a));
    snprintf(a->owner, sizeof(a->owner), "%s", owner);
    for (j = 0; j < ARRAY_SIZE(grant_headers); j++)
        for (i = 0; i < n; i++) {
            if (!slice_case_eq_cstr(h[i].name, grant_headers[j].header))
                continue;
            found = 1;
            rc = parse_grant_list(a, h[i].value, grant_headers[j].perm);
            if (rc < 0)
                return rc;
        }
    return found;
}

/* ---- the AccessControlPolicy document ---- */

struct acl_parse {
    struct s3_acl *a;
    /* of the grant being read: copies (an element's text lives only during its callback) */
    char id[IAM_NAME_MAX + 1], email[IAM_NAME_MAX + 1], uri[128], perm[16];
    bool has_id, has_email, has_uri;
};

/* Copies `text` into `dst`; false when it does not fit. */
static bool
copy_text(char *dst, size_t size, struct slice text)
{
    if (text.len >= size)
        return false;
    memcpy(dst, text.ptr, text.len);
    dst[text.len] = '\0';
    return true;
}

static int
on_acl_elem(void *arg, unsigned depth, const char *name, struct slice text)
{
    struct acl_parse *p = arg;
    int type, rc;
    unsigned perm;

    if (depth == 3 && !strcmp(name, "ID")) {
        if (!text.len || !copy_text(p->a->owner, sizeof(p->a->owner), text))
            return -ERR_MALFORMED_ACL;
    } else if (depth == 5 && !strcmp(name, "ID")) {
        if (!copy_text(p->id, sizeof(p->id), text))
            return -ERR_INVALID_ARGUMENT;
        p->has_id = true;
    } else if (depth == 5 && !strcmp(name, "EmailAddress")) {
        if (!copy_text(p->email, sizeof(p->email), text))
            return -ERR_UNRESOLVABLE_GRANT;
        p->has_email = true;
    } else if (depth == 5 && !strcmp(name, "URI")) {
        if (!copy_text(p->uri, sizeof(p->uri), text))
            return -ERR_INVALID_ARGUMENT;
        p->has_uri = true;
    } else if (depth == 4 && !strcmp(name, "Permission")) {
        if (!copy_text(p->perm, sizeof(p->perm), text))
            return -ERR_MALFORMED_ACL;
    } else if (depth == 3 && !strcmp(name, "Grant")) {
        perm = perm_parse(slice_cstr(p->perm));
        if (!perm || (p->has_id + p->has_email + p->has_uri) != 1)
            return -ERR_MALFORMED_ACL;
        if (p->has_id)
            rc = grant_add(p->a, S3_GRANTEE_USER, p->id, strlen(p->id), perm);
        else if (p->has_email)
            rc = grant_add(p->a, S3_GRANTEE_EMAIL, p->email, strlen(p->email), perm);
        else if ((type = group_parse(slice_cstr(p->uri))) < 0)
            rc = -ERR_INVALID_ARGUMENT;
        else
            rc = grant_add(p->a, (enum s3_grantee)type, NULL, 0, perm);
        p->has_id = p->has_email = p->has_uri = false;
        p->perm[0] = '\0';
        return rc;
    }
    return 0;
}

int
s3_acl_parse_xml(struct s3_acl *a, struct slice body)
{
    struct acl_parse *p = xcalloc(1, sizeof(*p));
    int rc;

    p->a = a;
    memset(a, 0, sizeof(*a));
    rc = xml_read(body, "AccessControlPolicy", on_acl_elem, p);
    free(p);
    if (rc == -ERR_MALFORMED_XML)
        rc = -ERR_MALFORMED_ACL;
    return rc;
}

static const char *
own_name(s3_acl_name_fn *name, void *arg, const char *id)
{
    const char *n = name ? name(arg, id) : NULL;

    return n ? n : "";
}

static void grant_xml(const struct s3_grant *g, const char *const *uris, s3_acl_name_fn *name,
                      void *arg, struct buf *x);

void
s3_acl_xml(const struct s3_acl *a, s3_acl_name_fn *name, void *arg, struct buf *x)
{
    static const char *const uris[] = {
        [S3_GRANTEE_ALL_USERS] = URI_ALL_USERS,
        [S3_GRANTEE_AUTH_USERS] = URI_AUTH_USERS,
        [S3_GRANTEE_LOG_DELIVERY] = URI_LOG_DELIVERY,
    };
    size_t i, pass;

    xml_declaration(x);
    xml_open_ns(x, "AccessControlPolicy");
    xml_open(x, "Owner");
    xml_elem_str(x, "ID", a->owner);
    xml_elem_str(x, "DisplayName", own_name(name, arg, a->owner));
    xml_close(x, "Owner");
    xml_open(x, "AccessControlList");
    /* groups first, then users (RGW's order, which s3-tests' check_grants relies on) */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < a->n; i++) {
            const struct s3_grant *g = &a->g[i];
            bool user = g->type == S3_GRANTEE_USER || g->type == S3_GRANTEE_EMAIL;

            if (user != (pass == 1))
                continue;
            grant_xml(g, uris, name, arg, x);
        }
    xml_close(x, "AccessControlList");
    xml_close(x, "AccessControlPolicy");
}

static void
grant_xml(const struct s3_grant *g, const char *const *uris, s3_acl_name_fn *name, void *arg,
          struct buf *x)
{
    {
        xml_open(x, "Grant");
        if (g->type == S3_GRANTEE_USER || g->type == S3_GRANTEE_EMAIL) {
            buf_adds(x, "<Grantee xmlns:xsi=\"" XSI_NS "\" xsi:type=\"CanonicalUser\">");
            xml_elem_str(x, "ID", g->id);
            xml_elem_str(x, "DisplayName", own_name(name, arg, g->id));
        } else {
            buf_adds(x, "<Grantee xmlns:xsi=\"" XSI_NS "\" xsi:type=\"Group\">");
            xml_elem_str(x, "URI", uris[g->type]);
        }
        xml_close(x, "Grantee");
        xml_elem_str(x, "Permission", perm_names[g->perm]);
        xml_close(x, "Grant");
    }
}

/* ---- the stored form: "OWNER u:ID:P a::P t::P l::P", P one hex digit ---- */

static const char grantee_tags[] = {
    [S3_GRANTEE_USER] = 'u',       [S3_GRANTEE_EMAIL] = 'u',        [S3_GRANTEE_ALL_USERS] = 'a',
    [S3_GRANTEE_AUTH_USERS] = 't', [S3_GRANTEE_LOG_DELIVERY] = 'l',
};

void
s3_acl_encode(const struct s3_acl *a, struct buf *out)
{
    size_t i;

    buf_adds(out, a->owner);
    for (i = 0; i < a->n; i++)
        buf_addf(out, " %c:%s:%x", grantee_tags[a->g[i].type], a->g[i].id, a->g[i].perm);
}

int
s3_acl_decode(struct s3_acl *a, struct slice s)
{
    struct slice tok, rest = slice_trim(s), id;
    const char *t;
    unsigned perm;
    int type;

    memset(a, 0, sizeof(*a));
    rest = slice_split(rest, ' ', &tok);
    if (!tok.len || tok.len > IAM_CANONICAL_ID_LEN)
        return -ERR_CORRUPT;
    memcpy(a->owner, tok.ptr, tok.len);
    while (rest.ptr && rest.len) {
        rest = slice_split(rest, ' ', &tok);
        if (tok.len < 4 || tok.ptr[1] != ':')
            return -ERR_CORRUPT;
        t = memchr(tok.ptr + 2, ':', tok.len - 2);
        if (!t || t + 2 != tok.ptr + tok.len)
            return -ERR_CORRUPT;
        id = slice_make(tok.ptr + 2, (size_t)(t - tok.ptr - 2));
        perm = t[1] >= 'a' ? (unsigned)(t[1] - 'a' + 10) : (unsigned)(t[1] - '0');
        if (perm >= ARRAY_SIZE(perm_names) || !perm_names[perm])
            return -ERR_CORRUPT;
        switch (tok.ptr[0]) {
        case 'u':
            type = S3_GRANTEE_USER;
            break;
        case 'a':
            type = S3_GRANTEE_ALL_USERS;
            break;
        case 't':
            type = S3_GRANTEE_AUTH_USERS;
            break;
        case 'l':
            type = S3_GRANTEE_LOG_DELIVERY;
            break;
        default:
            return -ERR_CORRUPT;
        }
        if (grant_add(a, (enum s3_grantee)type, id.ptr, id.len, perm) < 0)
            return -ERR_CORRUPT;
    }
    return 0;
}

/* ---- evaluation ---- */

bool
s3_acl_is_public(const struct s3_acl *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        if (a->g[i].type == S3_GRANTEE_ALL_USERS || a->g[i].type == S3_GRANTEE_AUTH_USERS)
            return true;
    return false;
}

bool
s3_acl_is_owner_only(const struct s3_acl *a, const char *owner)
{
    return !strcmp(a->owner, owner) && a->n == 1 && a->g[0].type == S3_GRANTEE_USER &&
           !strcmp(a->g[0].id, owner) && a->g[0].perm == S3_PERM_FULL_CONTROL;
}

unsigned
s3_acl_perms(const struct s3_acl *a, const char *caller, bool ignore_public)
{
    unsigned perms = 0;
    size_t i;

    /* the owner may always read and change the ACL (S3) */
    if (caller && !strcmp(caller, a->owner))
        perms |= S3_PERM_READ_ACP | S3_PERM_WRITE_ACP;
    for (i = 0; i < a->n; i++) {
        const struct s3_grant *g = &a->g[i];

        if ((g->type == S3_GRANTEE_USER && caller && !strcmp(g->id, caller)) ||
            (g->type == S3_GRANTEE_ALL_USERS && !ignore_public) ||
            (g->type == S3_GRANTEE_AUTH_USERS && caller && !ignore_public))
            perms |= g->perm;
    }
    return perms;
}

/* The ACL permission that grants `action`; `*object` true when it is the object's ACL's. */
static const struct {
    const char *action;
    bool object;
    unsigned perm;
} acl_actions[] = {
    { "s3:ListBucket", false, S3_PERM_READ },
    { "s3:ListBucketVersions", false, S3_PERM_READ },
    { "s3:ListBucketMultipartUploads", false, S3_PERM_READ },
    { "s3:PutObject", false, S3_PERM_WRITE },
    { "s3:DeleteObject", false, S3_PERM_WRITE },
    { "s3:GetBucketAcl", false, S3_PERM_READ_ACP },
    { "s3:PutBucketAcl", false, S3_PERM_WRITE_ACP },
    { "s3:GetObject", true, S3_PERM_READ },
    { "s3:GetObjectVersion", true, S3_PERM_READ },
    { "s3:GetObjectAcl", true, S3_PERM_READ_ACP },
    { "s3:PutObjectAcl", true, S3_PERM_WRITE_ACP },
};

unsigned
s3_acl_action_perm(const char *action, bool *object)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(acl_actions); i++)
        if (!strcasecmp(action, acl_actions[i].action)) {
            *object = acl_actions[i].object;
            return acl_actions[i].perm;
        }
    return 0;
}

/* ---- a bucket's settings ---- */

static const char *const ownership_names[] = {
    [S3_OWN_ENFORCED] = "BucketOwnerEnforced",
    [S3_OWN_PREFERRED] = "BucketOwnerPreferred",
    [S3_OWN_WRITER] = "ObjectWriter",
};

int
s3_ownership_parse(const char *s, enum s3_ownership *out)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(ownership_names); i++)
        if (!strcmp(s, ownership_names[i])) {
            *out = (enum s3_ownership)i;
            return 0;
        }
    return -ERR_INVALID_ARGUMENT;
}

const char *
s3_ownership_name(enum s3_ownership o)
{
    return (size_t)o < ARRAY_SIZE(ownership_names) ? ownership_names[o] : "";
}

static int
doc_get(struct s3_call *call, const char *bucket, const char *name, struct buf *doc)
{
    int rc = objlayer_bucket_config_get(call->s3->ol, &call->ctx, bucket, name, doc);

    return rc == -ERR_NOT_FOUND ? 1 : rc; /* 1: none */
}

int
s3__bucket_access_get(struct s3_call *call, const char *bucket, struct s3_bucket_access *ba)
{
    struct buf doc = BUF_INIT;
    int rc;

    memset(ba, 0, sizeof(*ba));
    ba->own = S3_OWN_ENFORCED;
    rc = doc_get(call, bucket, "ownership", &doc);
    if (rc == 0) {
        ba->own = S3_OWN_NONE;
        if (doc.len)
            s3_ownership_parse(doc.ptr, &ba->own);
    }
    if (rc < 0)
        goto out;
    buf_setlen(&doc, 0);
    rc = doc_get(call, bucket, "public-access-block", &doc);
    if (rc == 0 && doc.len == 4) {
        ba->pab.block_public_acls = doc.ptr[0] == '1';
        ba->pab.ignore_public_acls = doc.ptr[1] == '1';
        ba->pab.block_public_policy = doc.ptr[2] == '1';
        ba->pab.restrict_public_buckets = doc.ptr[3] == '1';
        ba->has_pab = true;
    }
    if (rc < 0)
        goto out;
    buf_setlen(&doc, 0);
    rc = doc_get(call, bucket, "acl", &doc);
    if (rc < 0)
        goto out;
    if (rc == 0 && s3_acl_decode(&ba->acl, buf_slice(&doc)) == 0)
        rc = 0;
    else
        s3_acl_private(&ba->acl, IAM_ROOT_CANONICAL_ID);
    rc = 0;
out:
    buf_release(&doc);
    return rc;
}

bool
s3__acls_enabled(const struct s3_bucket_access *ba)
{
    return ba->own != S3_OWN_ENFORCED;
}

/* The object's ACL: its x-basalt-acl, else FULL_CONTROL to the bucket's owner. */
static void
object_acl(const struct obj_info *info, const struct s3_bucket_access *ba, struct s3_acl *a)
{
    const char *v = obj_info_header(info, S3_ACL_HEADER);

    if (!v || s3_acl_decode(a, slice_cstr(v)) < 0)
        s3_acl_private(a, ba->acl.owner);
}

bool
s3__acl_allows(struct s3_call *call, const struct s3_bucket_access *ba, const char *action,
               const char *bucket, const char *key)
{
    const char *caller = call->id->type == IAM_ANONYMOUS ? NULL : call->id->canonical_id;
    bool on_object = false, ok = false;
    unsigned perm = s3_acl_action_perm(action, &on_object);
    struct obj_info info;
    struct s3_acl *a;

    if (!perm || !s3__acls_enabled(ba))
        return false;
    if (!on_object)
        return (s3_acl_perms(&ba->acl, caller, ba->pab.ignore_public_acls) & perm) == perm;
    if (!key)
        return false;
    obj_info_init(&info);
    if (objlayer_head(call->s3->ol, &call->ctx, bucket, key, &info) == 0) {
        a = arena_alloc(call->req->arena, sizeof(*a));
        object_acl(&info, ba, a);
        ok = (s3_acl_perms(a, caller, ba->pab.ignore_public_acls) & perm) == perm;
    }
    obj_info_release(&info);
    return ok;
}

/* ---- ACLs of requests ---- */

/* Grantees by email (a user name) become canonical ids; canonical ids must exist. */
static int
resolve_grants(struct s3_call *call, struct s3_acl *a)
{
    char id[IAM_CANONICAL_ID_LEN + 1];
    size_t i;

    for (i = 0; i < a->n; i++) {
        struct s3_grant *g = &a->g[i];

        if (g->type == S3_GRANTEE_EMAIL) {
            if (!call->s3->iam || iam_canonical_resolve(call->s3->iam, NULL, g->id, id, NULL) < 0) {
                if (strcmp(g->id, call->s3->root_user) != 0)
                    return -ERR_UNRESOLVABLE_GRANT;
                snprintf(id, sizeof(id), "%s", IAM_ROOT_CANONICAL_ID);
            }
            g->type = S3_GRANTEE_USER;
            snprintf(g->id, sizeof(g->id), "%s", id);
        } else if (g->type == S3_GRANTEE_USER && strcmp(g->id, IAM_ROOT_CANONICAL_ID) != 0 &&
                   (!call->s3->iam ||
                    iam_canonical_resolve(call->s3->iam, g->id, NULL, NULL, NULL) < 0)) {
            return -ERR_INVALID_ARGUMENT;
        }
    }
    return 0;
}

static const char *
display_name(void *arg, const char *id)
{
    struct s3_call *call = arg;
    char *name = arena_alloc(call->req->arena, IAM_NAME_MAX + 1);

    if (!strcmp(id, IAM_ROOT_CANONICAL_ID))
        return call->s3->root_user;
    if (call->s3->iam && iam_canonical_resolve(call->s3->iam, id, NULL, NULL, name) == 0)
        return name;
    return NULL;
}

/*
 * The ACL the request's headers give (x-amz-acl or x-amz-grant-*) for a
 * resource owned by `owner` in a bucket owned by `bucket_owner`: 1 and `a`,
 * 0 when the request has none, or an error (both kinds of headers: 400
 * InvalidRequest; a bad grant: InvalidArgument, UnresolvableGrantByEmailAddress).
 */
static int
request_acl(struct s3_call *call, const char *owner, const char *bucket_owner, struct s3_acl *a,
            bool *canned_bofc)
{
    struct http_req *req = call->req;
    struct slice canned;
    bool has_canned = http_req_header(req, "x-amz-acl", &canned);
    int rc;

    *canned_bofc = has_canned && slice_eq_cstr(slice_trim(canned), "bucket-owner-full-control");
    rc = s3_acl_from_grant_headers(a, req->headers, req->nheaders, owner);
    if (rc < 0)
        return rc;
    if (rc > 0 && has_canned)
        return -ERR_INVALID_REQUEST;
    if (rc > 0) {
        rc = resolve_grants(call, a);
        return rc < 0 ? rc : 1;
    }
    if (!has_canned)
        return 0;
    rc = s3_acl_canned(a, canned, owner, bucket_owner);
    return rc < 0 ? rc : 1;
}

static void
send_acl_error(struct s3_call *call, int rc)
{
    if (rc == -ERR_INVALID_REQUEST)
        s3__send_error(call, rc, "Specifying both Canned ACLs and Header Grants is not allowed");
    else if (rc == -ERR_INVALID_ARGUMENT)
        s3__send_error(call, rc, "Invalid id");
    else
        s3__send_error(call, rc, NULL);
}

int
s3__object_acl_header(struct s3_call *call, struct buf *h)
{
    struct s3_bucket_access *ba = arena_alloc(call->req->arena, sizeof(*ba));
    struct s3_acl *a = arena_alloc(call->req->arena, sizeof(*a));
    const char *owner;
    bool bofc;
    int rc, has;

    hdrs_remove(h, S3_ACL_HEADER);
    rc = s3__bucket_access_get(call, call->bucket, ba);
    if (rc < 0)
        return rc;
    owner = ba->acl.owner;
    if (ba->own != S3_OWN_ENFORCED && call->id->type != IAM_ANONYMOUS && call->id->canonical_id[0])
        owner = call->id->canonical_id;
    has = request_acl(call, owner, ba->acl.owner, a, &bofc);
    if (has < 0)
        return has;
    if (ba->own == S3_OWN_PREFERRED && bofc) {
        owner = ba->acl.owner; /* the bucket owner takes the object */
        has = request_acl(call, owner, ba->acl.owner, a, &bofc);
    }
    if (!has)
        s3_acl_private(a, owner);
    if (ba->own == S3_OWN_ENFORCED) {
        if (!s3_acl_is_owner_only(a, ba->acl.owner))
            return -ERR_ACL_NOT_SUPPORTED;
        return 0;
    }
    if (ba->pab.block_public_acls && s3_acl_is_public(a))
        return -ERR_ACCESS_DENIED;
    if (!s3_acl_is_owner_only(a, ba->acl.owner)) {
        struct buf enc = BUF_INIT;

        s3_acl_encode(a, &enc);
        hdrs_add(h, S3_ACL_HEADER, buf_slice(&enc));
        buf_release(&enc);
    }
    return 0;
}

int
s3__bucket_acl_check_new(struct s3_call *call, enum s3_ownership own, struct buf *acl_doc)
{
    struct s3_acl *a = arena_alloc(call->req->arena, sizeof(*a));
    const char *owner =
        call->id->type == IAM_ANONYMOUS ? IAM_ROOT_CANONICAL_ID : call->id->canonical_id;
    bool bofc;
    int has;

    if (!owner[0])
        owner = IAM_ROOT_CANONICAL_ID; /* no IAM: root */
    has = request_acl(call, owner, owner, a, &bofc);
    if (has < 0)
        return has;
    if (!has)
        s3_acl_private(a, owner);
    if (own == S3_OWN_ENFORCED && !s3_acl_is_owner_only(a, owner))
        return -ERR_INVALID_BUCKET_ACL_WITH_OWNERSHIP;
    if (strcmp(owner, IAM_ROOT_CANONICAL_ID) != 0 || !s3_acl_is_owner_only(a, owner))
        s3_acl_encode(a, acl_doc);
    return 0;
}

/* ---- Get/PutBucketAcl, Get/PutObjectAcl ---- */

struct acl_put {
    struct s3_bucket_access ba;
    struct s3_acl cur, next;
    struct obj_info info;
};

static void
send_acl(struct s3_call *call, const struct s3_acl *a)
{
    struct buf x = BUF_INIT;

    s3_acl_xml(a, display_name, call, &x);
    s3__send_xml(call, &x);
    buf_release(&x);
}

static void
acl_put_done(struct s3_call *call, int rc, struct slice body)
{
    struct acl_put *st = call->handler_arg;
    struct http_req *req = call->req;
    struct s3_acl *a = &st->next;
    bool object = call->op == S3_OP_PUT_OBJECT_ACL, bofc;
    const char *bucket_owner = st->ba.acl.owner;
    struct buf enc = BUF_INIT;
    int has;

    if (rc < 0)
        goto out;
    has = request_acl(call, st->cur.owner, bucket_owner, a, &bofc);
    if (has < 0) {
        rc = has;
        goto out;
    }
    if (has && body.len) {
        rc = -ERR_UNEXPECTED_CONTENT;
        goto out;
    }
    if (!has) {
        if (!body.len) {
            rc = -ERR_MALFORMED_ACL;
            goto out;
        }
        rc = s3_acl_parse_xml(a, body);
        if (rc == 0)
            rc = resolve_grants(call, a);
        if (rc < 0)
            goto out;
        /* the owner cannot be changed with an ACL: the document's must be the current one */
        if (a->owner[0] && strcmp(a->owner, st->cur.owner) != 0) {
            rc = -ERR_ACCESS_DENIED;
            goto out;
        }
        snprintf(a->owner, sizeof(a->owner), "%s", st->cur.owner);
    }
    if (!s3__acls_enabled(&st->ba)) {
        if (!s3_acl_is_owner_only(a, bucket_owner))
            rc = -ERR_ACL_NOT_SUPPORTED;
        goto out; /* nothing to store: it is the only ACL the bucket has */
    }
    if (st->ba.pab.block_public_acls && s3_acl_is_public(a)) {
        rc = -ERR_ACCESS_DENIED;
        goto out;
    }
    if (object) {
        struct obj_header_edit e = { .name = S3_ACL_HEADER, .value = NULL };

        if (!s3_acl_is_owner_only(a, bucket_owner)) {
            s3_acl_encode(a, &enc);
            e.value = enc.ptr;
        }
        rc = objlayer_update_headers(call->s3->ol, &call->ctx, call->bucket, call->key, &e, 1);
    } else if (!strcmp(a->owner, IAM_ROOT_CANONICAL_ID) &&
               s3_acl_is_owner_only(a, IAM_ROOT_CANONICAL_ID)) {
        rc = objlayer_bucket_config_delete(call->s3->ol, &call->ctx, call->bucket, "acl");
        if (rc == -ERR_NOT_FOUND)
            rc = 0;
    } else {
        s3_acl_encode(a, &enc);
        rc = objlayer_bucket_config_put(call->s3->ol, &call->ctx, call->bucket, "acl",
                                        buf_slice(&enc));
    }
out:
    buf_release(&enc);
    obj_info_release(&st->info);
    if (rc == -ERR_NOT_FOUND)
        rc = object ? -ERR_KEY_NOT_FOUND : -ERR_BUCKET_NOT_FOUND;
    if (rc < 0)
        send_acl_error(call, rc);
    else
        http_resp_empty(req, 200);
}

void
s3__acl(struct s3_call *call)
{
    struct acl_put *st = arena_zalloc(call->req->arena, sizeof(*st));
    bool object = call->op == S3_OP_GET_OBJECT_ACL || call->op == S3_OP_PUT_OBJECT_ACL;
    int rc;

    if (s3_bucket_name_check(slice_cstr(call->bucket)) < 0) {
        s3__send_error(call, -ERR_BUCKET_NOT_FOUND, NULL);
        return;
    }
    obj_info_init(&st->info);
    rc = s3__bucket_access_get(call, call->bucket, &st->ba);
    if (rc == 0 && object) {
        rc = s3__check_key(call) < 0 ? 1 : 0;
        if (rc)
            goto out_release; /* answered */
        rc = objlayer_head(call->s3->ol, &call->ctx, call->bucket, call->key, &st->info);
        if (rc == 0)
            object_acl(&st->info, &st->ba, &st->cur);
    } else if (rc == 0) {
        st->cur = st->ba.acl;
    }
    if (rc == -ERR_NOT_FOUND)
        rc = object ? -ERR_KEY_NOT_FOUND : -ERR_BUCKET_NOT_FOUND;
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        goto out_release;
    }
    if (call->op == S3_OP_GET_BUCKET_ACL || call->op == S3_OP_GET_OBJECT_ACL) {
        if (!s3__acls_enabled(&st->ba)) /* only the owner, with FULL_CONTROL */
            s3_acl_private(&st->cur, st->cur.owner);
        send_acl(call, &st->cur);
        goto out_release;
    }
    call->handler_arg = st;
    s3__expect_small_body(call, acl_put_done);
    return;
out_release:
    obj_info_release(&st->info);
}

/* ---- Put/Get/DeleteBucketOwnershipControls ---- */

struct own_parse {
    int n;
    enum s3_ownership own;
    bool bad;
};

static int
on_own_elem(void *arg, unsigned depth, const char *name, struct slice text)
{
    struct own_parse *p = arg;
    char v[32];

    if (depth == 3 && !strcmp(name, "ObjectOwnership")) {
        snprintf(v, sizeof(v), "%.*s", (int)text.len, text.ptr);
        p->n++;
        if (text.len >= sizeof(v) || s3_ownership_parse(v, &p->own) < 0)
            p->bad = true;
    }
    return 0;
}

static void
ownership_put_done(struct s3_call *call, int rc, struct slice body)
{
    struct own_parse p = { 0 };

    if (rc == 0)
        rc = xml_read(body, "OwnershipControls", on_own_elem, &p);
    if (rc == 0 && (p.n != 1 || p.bad))
        rc = -ERR_MALFORMED_XML;
    if (rc == 0)
        rc = objlayer_bucket_config_put(call->s3->ol, &call->ctx, call->bucket, "ownership",
                                        slice_cstr(s3_ownership_name(p.own)));
    if (rc == -ERR_NOT_FOUND)
        rc = -ERR_BUCKET_NOT_FOUND;
    if (rc < 0)
        s3__send_error(call, rc, NULL);
    else
        http_resp_empty(call->req, 200);
}

void
s3__ownership_controls(struct s3_call *call)
{
    struct s3_bucket_access ba;
    struct buf x = BUF_INIT;
    int rc;

    if (s3_bucket_name_check(slice_cstr(call->bucket)) < 0) {
        s3__send_error(call, -ERR_BUCKET_NOT_FOUND, NULL);
        return;
    }
    if (call->op == S3_OP_PUT_BUCKET_OWNERSHIP) {
        s3__expect_small_body(call, ownership_put_done);
        return;
    }
    rc = s3__bucket_access_get(call, call->bucket, &ba);
    if (rc == 0 && call->op == S3_OP_DELETE_BUCKET_OWNERSHIP)
        rc = objlayer_bucket_config_put(call->s3->ol, &call->ctx, call->bucket, "ownership",
                                        SLICE_LIT(""));
    if (rc == 0 && call->op == S3_OP_GET_BUCKET_OWNERSHIP && ba.own == S3_OWN_NONE)
        rc = -ERR_NO_OWNERSHIP_CONTROLS;
    if (rc == -ERR_NOT_FOUND)
        rc = -ERR_BUCKET_NOT_FOUND;
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    if (call->op == S3_OP_DELETE_BUCKET_OWNERSHIP) {
        http_resp_empty(call->req, 204);
        return;
    }
    xml_declaration(&x);
    xml_open_ns(&x, "OwnershipControls");
    xml_open(&x, "Rule");
    xml_elem_str(&x, "ObjectOwnership", s3_ownership_name(ba.own));
    xml_close(&x, "Rule");
    xml_close(&x, "OwnershipControls");
    s3__send_xml(call, &x);
    buf_release(&x);
}

/* ---- Put/Get/DeletePublicAccessBlock ---- */

static const char *const pab_fields[] = { "BlockPublicAcls", "IgnorePublicAcls",
                                          "BlockPublicPolicy", "RestrictPublicBuckets" };

struct pab_parse {
    char flags[5];
    bool bad;
};

static int
on_pab_elem(void *arg, unsigned depth, const char *name, struct slice text)
{
    struct pab_parse *p = arg;
    size_t i;

    if (depth != 2)
        return 0;
    for (i = 0; i < ARRAY_SIZE(pab_fields); i++) {
        if (strcmp(name, pab_fields[i]) != 0)
            continue;
        if (slice_case_eq_cstr(text, "true"))
            p->flags[i] = '1';
        else if (!slice_case_eq_cstr(text, "false"))
            p->bad = true;
    }
    return 0;
}

static void
pab_put_done(struct s3_call *call, int rc, struct slice body)
{
    struct pab_parse p = { .flags = "0000" };

    if (rc == 0)
        rc = xml_read(body, "PublicAccessBlockConfiguration", on_pab_elem, &p);
    if (rc == 0 && p.bad)
        rc = -ERR_MALFORMED_XML;
    if (rc == 0)
        rc = objlayer_bucket_config_put(call->s3->ol, &call->ctx, call->bucket,
                                        "public-access-block", slice_make(p.flags, 4));
    if (rc == -ERR_NOT_FOUND)
        rc = -ERR_BUCKET_NOT_FOUND;
    if (rc < 0)
        s3__send_error(call, rc, NULL);
    else
        http_resp_empty(call->req, 200);
}

void
s3__public_access_block(struct s3_call *call)
{
    struct s3_bucket_access ba;
    struct buf x = BUF_INIT;
    bool flags[4];
    size_t i;
    int rc;

    if (s3_bucket_name_check(slice_cstr(call->bucket)) < 0) {
        s3__send_error(call, -ERR_BUCKET_NOT_FOUND, NULL);
        return;
    }
    if (call->op == S3_OP_PUT_PUBLIC_ACCESS_BLOCK) {
        s3__expect_small_body(call, pab_put_done);
        return;
    }
    if (call->op == S3_OP_DELETE_PUBLIC_ACCESS_BLOCK) {
        rc = objlayer_bucket_config_delete(call->s3->ol, &call->ctx, call->bucket,
                                           "public-access-block");
        if (rc == -ERR_NOT_FOUND)
            rc = 0;
        if (rc < 0)
            s3__send_error(call, rc, NULL);
        else
            http_resp_empty(call->req, 204);
        return;
    }
    rc = s3__bucket_access_get(call, call->bucket, &ba);
    if (rc == 0 && !ba.has_pab)
        rc = -ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK;
    if (rc == -ERR_NOT_FOUND)
        rc = -ERR_BUCKET_NOT_FOUND;
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    flags[0] = ba.pab.block_public_acls;
    flags[1] = ba.pab.ignore_public_acls;
    flags[2] = ba.pab.block_public_policy;
    flags[3] = ba.pab.restrict_public_buckets;
    xml_declaration(&x);
    xml_open_ns(&x, "PublicAccessBlockConfiguration");
    for (i = 0; i < ARRAY_SIZE(pab_fields); i++)
        xml_elem_bool(&x, pab_fields[i], flags[i]);
    xml_close(&x, "PublicAccessBlockConfiguration");
    s3__send_xml(call, &x);
    buf_release(&x);
}
