/*
 * tests/unit/s3/test_acl.c: canned ACLs, x-amz-grant-* headers, the
 * AccessControlPolicy document both ways, the stored form, and the
 * permissions a caller gets.
 */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"
#include "util/err.h"

#define OWNER "1111111111111111111111111111111111111111111111111111111111111111"
#define OTHER "2222222222222222222222222222222222222222222222222222222222222222"
#define ALL "http://acs.amazonaws.com/groups/global/AllUsers"

static struct s3_acl *
new_acl(void)
{
    return xcalloc(1, sizeof(struct s3_acl));
}

static bool
has_grant(const struct s3_acl *a, enum s3_grantee type, const char *id, unsigned perm)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        if (a->g[i].type == type && a->g[i].perm == perm && !strcmp(a->g[i].id, id))
            return true;
    return false;
}

TEST(s3_acl_canned)
{
    struct s3_acl *a = new_acl();

    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("private"), OWNER, OWNER));
    ASSERT_EQ(a->n, 1);
    ASSERT(has_grant(a, S3_GRANTEE_USER, OWNER, S3_PERM_FULL_CONTROL));
    ASSERT(s3_acl_is_owner_only(a, OWNER));
    ASSERT(!s3_acl_is_owner_only(a, OTHER));
    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("public-read"), OWNER, OWNER));
    ASSERT_EQ(a->n, 2);
    ASSERT(has_grant(a, S3_GRANTEE_ALL_USERS, "", S3_PERM_READ));
    ASSERT(s3_acl_is_public(a));
    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("public-read-write"), OWNER, NULL));
    ASSERT_EQ(a->n, 3);
    ASSERT(has_grant(a, S3_GRANTEE_ALL_USERS, "", S3_PERM_WRITE));
    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("authenticated-read"), OWNER, NULL));
    ASSERT(has_grant(a, S3_GRANTEE_AUTH_USERS, "", S3_PERM_READ));
    ASSERT(s3_acl_is_public(a));
    /* the bucket owner's canned ACLs add a grant only when someone else owns the bucket */
    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("bucket-owner-read"), OWNER, OWNER));
    ASSERT_EQ(a->n, 1);
    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("bucket-owner-read"), OWNER, OTHER));
    ASSERT(has_grant(a, S3_GRANTEE_USER, OTHER, S3_PERM_READ));
    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("bucket-owner-full-control"), OWNER, OTHER));
    ASSERT(has_grant(a, S3_GRANTEE_USER, OTHER, S3_PERM_FULL_CONTROL));
    ASSERT(!s3_acl_is_public(a));
    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("aws-exec-read"), OWNER, OWNER));
    ASSERT_EQ(a->n, 1);
    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("log-delivery-write"), OWNER, NULL));
    ASSERT(has_grant(a, S3_GRANTEE_LOG_DELIVERY, "", S3_PERM_WRITE));
    ASSERT(has_grant(a, S3_GRANTEE_LOG_DELIVERY, "", S3_PERM_READ_ACP));
    ASSERT_EQ(s3_acl_canned(a, SLICE_LIT("everyone"), OWNER, NULL), -ERR_INVALID_ARGUMENT);
    free(a);
}

TEST(s3_acl_grant_headers)
{
    struct http_header h[] = {
        { SLICE_LIT("x-amz-grant-read"), SLICE_LIT("id=\"" OTHER "\", uri=\"" ALL "\"") },
        { SLICE_LIT("Content-Type"), SLICE_LIT("text/plain") },
        { SLICE_LIT("X-Amz-Grant-Full-Control"), SLICE_LIT("emailAddress=\"alice\"") },
        { SLICE_LIT("x-amz-grant-write-acp"), SLICE_LIT("id=" OWNER) },
    };
    struct http_header bad[] = {
        { SLICE_LIT("x-amz-grant-read"), SLICE_LIT("uri=\"http://example.com/g\"") },
    };
    struct http_header bad2[] = {
        { SLICE_LIT("x-amz-grant-write"), SLICE_LIT("name=\"x\"") },
    };
    struct s3_acl *a = new_acl();

    ASSERT_EQ(s3_acl_from_grant_headers(a, h, 2 - 1, OWNER), 1);
    ASSERT_EQ(a->n, 2);
    ASSERT_EQ(s3_acl_from_grant_headers(a, h + 1, 1, OWNER), 0);
    ASSERT_EQ(s3_acl_from_grant_headers(a, h, ARRAY_SIZE(h), OWNER), 1);
    ASSERT_STREQ(a->owner, OWNER);
    ASSERT_EQ(a->n, 4);
    ASSERT(has_grant(a, S3_GRANTEE_USER, OTHER, S3_PERM_READ));
    ASSERT(has_grant(a, S3_GRANTEE_ALL_USERS, "", S3_PERM_READ));
    ASSERT(has_grant(a, S3_GRANTEE_EMAIL, "alice", S3_PERM_FULL_CONTROL));
    ASSERT(has_grant(a, S3_GRANTEE_USER, OWNER, S3_PERM_WRITE_ACP));
    ASSERT_EQ(s3_acl_from_grant_headers(a, bad, 1, OWNER), -ERR_INVALID_ARGUMENT);
    ASSERT_EQ(s3_acl_from_grant_headers(a, bad2, 1, OWNER), -ERR_INVALID_ARGUMENT);
    free(a);
}

TEST(s3_acl_xml_both_ways)
{
    static const char doc[] =
        "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Owner><ID>" OWNER "</ID><DisplayName>o</DisplayName></Owner><AccessControlList>"
        "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        "xsi:type=\"CanonicalUser\"><ID>" OTHER "</ID></Grantee>"
        "<Permission>WRITE_ACP</Permission></Grant>"
        "<Grant><Grantee xsi:type=\"AmazonCustomerByEmail\" "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><EmailAddress>bob</EmailAddress>"
        "</Grantee><Permission>READ</Permission></Grant>"
        "<Grant><Grantee xsi:type=\"Group\" "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<URI>" ALL "</URI></Grantee><Permission>READ</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>";
    struct s3_acl *a = new_acl(), *b = new_acl();
    struct buf x = BUF_INIT;

    ASSERT_OK(s3_acl_parse_xml(a, SLICE_LIT(doc)));
    ASSERT_STREQ(a->owner, OWNER);
    ASSERT_EQ(a->n, 3);
    ASSERT(has_grant(a, S3_GRANTEE_USER, OTHER, S3_PERM_WRITE_ACP));
    ASSERT(has_grant(a, S3_GRANTEE_EMAIL, "bob", S3_PERM_READ));
    ASSERT(has_grant(a, S3_GRANTEE_ALL_USERS, "", S3_PERM_READ));
    a->g[1].type = S3_GRANTEE_USER; /* as resolved */
    snprintf(a->g[1].id, sizeof(a->g[1].id), "%s", OWNER);
    s3_acl_xml(a, NULL, NULL, &x);
    ASSERT(strstr(x.ptr, "<Owner><ID>" OWNER "</ID><DisplayName></DisplayName></Owner>"));
    ASSERT(strstr(x.ptr, "xsi:type=\"Group\"><URI>" ALL "</URI></Grantee>"));
    ASSERT_OK(s3_acl_parse_xml(b, buf_slice(&x)));
    ASSERT_EQ(b->n, 3);
    ASSERT(has_grant(b, S3_GRANTEE_USER, OWNER, S3_PERM_READ));
    /* malformed documents */
    ASSERT_EQ(s3_acl_parse_xml(b, SLICE_LIT("<AccessControlPolicy>")), -ERR_MALFORMED_ACL);
    ASSERT_EQ(s3_acl_parse_xml(b, SLICE_LIT("<Tagging/>")), -ERR_MALFORMED_ACL);
    ASSERT_EQ(s3_acl_parse_xml(b, SLICE_LIT("<AccessControlPolicy><AccessControlList><Grant>"
                                            "<Grantee><ID>x</ID></Grantee><Permission>ALL"
                                            "</Permission></Grant></AccessControlList>"
                                            "</AccessControlPolicy>")),
              -ERR_MALFORMED_ACL);
    ASSERT_EQ(s3_acl_parse_xml(b, SLICE_LIT("<AccessControlPolicy><AccessControlList><Grant>"
                                            "<Grantee></Grantee><Permission>READ"
                                            "</Permission></Grant></AccessControlList>"
                                            "</AccessControlPolicy>")),
              -ERR_MALFORMED_ACL);
    ASSERT_EQ(s3_acl_parse_xml(b, SLICE_LIT("<AccessControlPolicy><AccessControlList><Grant>"
                                            "<Grantee><URI>http://x/</URI></Grantee><Permission>"
                                            "READ</Permission></Grant></AccessControlList>"
                                            "</AccessControlPolicy>")),
              -ERR_INVALID_ARGUMENT);
    buf_release(&x);
    free(a);
    free(b);
}

TEST(s3_acl_stored_form)
{
    struct s3_acl *a = new_acl(), *b = new_acl();
    struct buf enc = BUF_INIT;

    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("public-read-write"), OWNER, NULL));
    ASSERT_OK(s3_acl_canned(b, SLICE_LIT("bucket-owner-full-control"), OTHER, OWNER));
    a->g[a->n++] = b->g[1];
    s3_acl_encode(a, &enc);
    ASSERT_STREQ(enc.ptr, OWNER " u:" OWNER ":f a::1 a::2 u:" OWNER ":f");
    ASSERT_OK(s3_acl_decode(b, buf_slice(&enc)));
    ASSERT_STREQ(b->owner, OWNER);
    ASSERT_EQ(b->n, 4);
    ASSERT(has_grant(b, S3_GRANTEE_ALL_USERS, "", S3_PERM_WRITE));
    ASSERT_EQ(s3_acl_decode(b, SLICE_LIT(OWNER " x::1")), -ERR_CORRUPT);
    ASSERT_EQ(s3_acl_decode(b, SLICE_LIT(OWNER " a::")), -ERR_CORRUPT);
    ASSERT_EQ(s3_acl_decode(b, SLICE_LIT("")), -ERR_CORRUPT);
    buf_release(&enc);
    free(a);
    free(b);
}

TEST(s3_acl_permissions)
{
    struct s3_acl *a = new_acl();
    bool object;

    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("authenticated-read"), OWNER, NULL));
    ASSERT_EQ(s3_acl_perms(a, OWNER, false), S3_PERM_FULL_CONTROL);
    ASSERT_EQ(s3_acl_perms(a, OTHER, false), S3_PERM_READ);
    ASSERT_EQ(s3_acl_perms(a, NULL, false), 0); /* anonymous is not authenticated */
    ASSERT_EQ(s3_acl_perms(a, OTHER, true), 0); /* IgnorePublicAcls */
    ASSERT_OK(s3_acl_canned(a, SLICE_LIT("public-read"), OWNER, NULL));
    ASSERT_EQ(s3_acl_perms(a, NULL, false), S3_PERM_READ);
    /* the owner keeps READ_ACP and WRITE_ACP even without a grant */
    a->n = 0;
    ASSERT_EQ(s3_acl_perms(a, OWNER, false), S3_PERM_READ_ACP | S3_PERM_WRITE_ACP);
    ASSERT_EQ(s3_acl_action_perm("s3:ListBucket", &object), S3_PERM_READ);
    ASSERT(!object);
    ASSERT_EQ(s3_acl_action_perm("s3:PutObject", &object), S3_PERM_WRITE);
    ASSERT(!object); /* the bucket's WRITE */
    ASSERT_EQ(s3_acl_action_perm("s3:GetObject", &object), S3_PERM_READ);
    ASSERT(object);
    ASSERT_EQ(s3_acl_action_perm("s3:PutObjectAcl", &object), S3_PERM_WRITE_ACP);
    ASSERT_EQ(s3_acl_action_perm("s3:GetBucketAcl", &object), S3_PERM_READ_ACP);
    ASSERT_EQ(s3_acl_action_perm("s3:PutBucketPolicy", &object), 0);
    ASSERT_EQ(s3_acl_action_perm("s3:DeleteBucket", &object), 0);
    free(a);
}

TEST(s3_ownership_names)
{
    enum s3_ownership o;

    ASSERT_OK(s3_ownership_parse("ObjectWriter", &o));
    ASSERT_EQ(o, S3_OWN_WRITER);
    ASSERT_STREQ(s3_ownership_name(S3_OWN_ENFORCED), "BucketOwnerEnforced");
    ASSERT_EQ(s3_ownership_parse("objectwriter", &o), -ERR_INVALID_ARGUMENT);
}
