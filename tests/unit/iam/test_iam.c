/*
 * tests/unit/iam/test_iam.c: the IAM store (iam/iam.h): management and its
 * errors, authentication of every identity type, authorization combining
 * user, group, bucket, service account and session policies, STS tokens,
 * and persistence on drive folders (reopen, secrets never in clear on a
 * drive, two instances kept in step by iam_changed).
 *
 * The policies used here need only Effect, Action and Resource, so that the
 * tests exercise the combining rules of iam.c, not the evaluator.
 */
#include "util/base.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "object/objlayer.h"

#define ROOT "rootadmin"
#define ROOT_SECRET "rootsecret123"

#define P_GET_B                                                                                    \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:"            \
    "GetObject\","                                                                                 \
    "\"Resource\":\"arn:aws:s3:::b/*\"}]}"
#define P_PUT_B                                                                                    \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:"            \
    "PutObject\","                                                                                 \
    "\"Resource\":\"arn:aws:s3:::b/*\"}]}"
#define P_DENY_GET_B                                                                               \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"s3:GetObject\"," \
    "\"Resource\":\"arn:aws:s3:::b/*\"}]}"
#define P_BUCKET_GET_B                                                                             \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","        \
    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}"

static struct iam *
open_mem(void)
{
    struct iam_config cfg = { .root_user = ROOT, .root_secret = ROOT_SECRET };
    struct buf err = BUF_INIT;
    struct iam *iam = NULL;

    if (iam_open(&cfg, &iam, &err) < 0)
        harness_fail(__FILE__, __LINE__, "iam_open: %s", err.ptr);
    buf_release(&err);
    return iam;
}

static struct iam_request
req(const char *action, const char *resource)
{
    return (struct iam_request){ .action = action, .resource = resource };
}

static bool
allowed(struct iam *iam, const struct iam_identity *id, const char *action, const char *resource,
        const struct iam_policy *bp)
{
    struct iam_request r = req(action, resource);

    return iam_is_allowed(iam, id, &r, bp);
}

/* Authenticates `ak` (and `token`): the rc; the identity in `id`. */
static int
auth(struct iam *iam, const char *ak, const char *token, struct iam_identity *id)
{
    struct buf secret = BUF_INIT;
    int rc =
        iam_authenticate(iam, slice_cstr(ak), token ? slice_cstr(token) : SLICE_NULL, &secret, id);

    buf_release_secure(&secret);
    return rc;
}

static void
new_key(struct iam *iam, const char *user, bool svc, const char *policy, char ak[129], char sk[41])
{
    struct iam_new_key nk = { .user = user, .service_account = svc, .policy = policy };
    struct buf a = BUF_INIT, s = BUF_INIT, err = BUF_INIT;

    if (iam_key_create(iam, &nk, &a, &s, &err) < 0)
        harness_fail(__FILE__, __LINE__, "iam_key_create: %s", err.ptr);
    snprintf(ak, 129, "%s", a.ptr);
    if (sk)
        snprintf(sk, 41, "%s", s.ptr);
    buf_release(&a);
    buf_release_secure(&s);
    buf_release(&err);
}

TEST(iam_names_and_duplicates)
{
    struct iam *iam = open_mem();
    struct buf err = BUF_INIT;
    char long_name[201];

    memset(long_name, 'a', 200);
    long_name[200] = '\0';
    ASSERT_OK(iam_user_create(iam, "alice", NULL, NULL, &err));
    ASSERT_EQ(iam_user_create(iam, "alice", NULL, NULL, &err), -ERR_ENTITY_EXISTS);
    ASSERT_EQ(iam_user_create(iam, ROOT, NULL, NULL, &err), -ERR_ENTITY_EXISTS);
    buf_clear(&err);
    ASSERT_EQ(iam_user_create(iam, "a/b", NULL, NULL, &err), -ERR_INVAL);
    ASSERT(err.len > 0);
    ASSERT_EQ(iam_user_create(iam, long_name, NULL, NULL, &err), -ERR_INVAL);
    ASSERT_EQ(iam_user_create(iam, "", NULL, NULL, &err), -ERR_INVAL);
    ASSERT_EQ(iam_group_create(iam, "g/x", &err), -ERR_INVAL);
    ASSERT_OK(iam_group_create(iam, "devs", &err));
    ASSERT_EQ(iam_group_create(iam, "devs", &err), -ERR_ENTITY_EXISTS);
    ASSERT_EQ(iam_policy_put(iam, "p/q", SLICE_LIT(P_GET_B), false, &err), -ERR_INVAL);
    ASSERT_OK(iam_policy_put(iam, "getb", SLICE_LIT(P_GET_B), false, &err));
    ASSERT_EQ(iam_policy_put(iam, "getb", SLICE_LIT(P_GET_B), false, &err), -ERR_ENTITY_EXISTS);
    ASSERT_OK(iam_policy_put(iam, "getb", SLICE_LIT(P_PUT_B), true, &err));
    ASSERT_EQ(iam_policy_put(iam, "readwrite", SLICE_LIT(P_GET_B), true, &err), -ERR_ENTITY_EXISTS);
    ASSERT_EQ(iam_policy_put(iam, "bad", SLICE_LIT("{not json"), false, &err),
              -ERR_MALFORMED_POLICY);
    buf_release(&err);
    iam_close(iam);
}

struct count {
    unsigned n;
    char last[256];
    size_t extra;
};

static int
count_user(void *arg, const struct iam_user_view *u)
{
    struct count *c = arg;

    c->n++;
    snprintf(c->last, sizeof(c->last), "%s %s %d p%zu i%zu g%zu", u->name, u->id, u->enabled,
             u->npolicies, u->ninline, u->ngroups);
    return 0;
}

static int
count_policy(void *arg, const struct iam_policy_view *p)
{
    struct count *c = arg;

    c->n++;
    if (!strcmp(p->name, "getb"))
        c->extra = p->attachments;
    return 0;
}

static int
count_key(void *arg, const struct iam_key_view *k)
{
    struct count *c = arg;

    c->n++;
    snprintf(c->last, sizeof(c->last), "%s %s svc%d %s", k->access_key, k->user, k->service_account,
             k->policy ? "pol" : "nopol");
    return 0;
}

TEST(iam_users_groups_policies_management)
{
    struct iam *iam = open_mem();
    struct buf err = BUF_INIT, doc = BUF_INIT;
    struct count c = { 0 };
    char ak[129];

    ASSERT_OK(iam_user_create(iam, "alice", NULL, NULL, &err));
    ASSERT_OK(iam_group_create(iam, "devs", &err));
    ASSERT_OK(iam_policy_put(iam, "getb", SLICE_LIT(P_GET_B), false, &err));
    /* attach: both must exist */
    ASSERT_EQ(iam_policy_attach(iam, "nope", IAM_ENTITY_USER, "alice"), -ERR_NO_SUCH_ENTITY);
    ASSERT_EQ(iam_policy_attach(iam, "getb", IAM_ENTITY_USER, "bob"), -ERR_NO_SUCH_ENTITY);
    ASSERT_OK(iam_policy_attach(iam, "getb", IAM_ENTITY_USER, "alice"));
    ASSERT_OK(iam_policy_attach(iam, "getb", IAM_ENTITY_GROUP, "devs"));
    ASSERT_OK(iam_policy_attach(iam, "readonly", IAM_ENTITY_USER, "alice")); /* canned */
    ASSERT_OK(iam_policy_list(iam, NULL, count_policy, &c));
    ASSERT_EQ(c.n, 6); /* five canned + getb */
    ASSERT_EQ(c.extra, 2);
    /* deleting an attached policy: DeleteConflict; canned: refused */
    ASSERT_EQ(iam_policy_delete(iam, "getb", &err), -ERR_DELETE_CONFLICT);
    ASSERT_EQ(iam_policy_delete(iam, "readonly", &err), -ERR_INVAL);
    ASSERT_EQ(iam_policy_delete(iam, "nope", &err), -ERR_NO_SUCH_ENTITY);
    /* membership */
    ASSERT_EQ(iam_group_add_member(iam, "devs", "bob"), -ERR_NO_SUCH_ENTITY);
    ASSERT_EQ(iam_group_add_member(iam, "nogroup", "alice"), -ERR_NO_SUCH_ENTITY);
    ASSERT_OK(iam_group_add_member(iam, "devs", "alice"));
    /* inline */
    ASSERT_EQ(iam_inline_put(iam, IAM_ENTITY_USER, "alice", "in1", SLICE_NULL, &err), -ERR_INVAL);
    ASSERT_EQ(iam_inline_put(iam, IAM_ENTITY_USER, "bob", "in1", SLICE_LIT(P_PUT_B), &err),
              -ERR_NO_SUCH_ENTITY);
    ASSERT_OK(iam_inline_put(iam, IAM_ENTITY_USER, "alice", "in1", SLICE_LIT(P_PUT_B), &err));
    ASSERT_OK(iam_inline_get(iam, IAM_ENTITY_USER, "alice", "in1", &doc));
    ASSERT_STREQ(doc.ptr, P_PUT_B);
    ASSERT_EQ(iam_inline_get(iam, IAM_ENTITY_USER, "alice", "in2", &doc), -ERR_NO_SUCH_ENTITY);
    ASSERT_OK(iam_user_list(iam, "alice", count_user, &c));
    ASSERT(strstr(c.last, "alice AIDA") == c.last);
    ASSERT(strstr(c.last, " 1 p2 i1 g1"));
    ASSERT_EQ(strlen(strchr(c.last, ' ') + 1) - strlen(strstr(c.last, " 1 p2")), 21);
    ASSERT_EQ(iam_user_list(iam, "bob", count_user, &c), -ERR_NO_SUCH_ENTITY);

    /* a user with things: DeleteConflict; group likewise */
    new_key(iam, "alice", false, NULL, ak, NULL);
    ASSERT_EQ(iam_user_delete(iam, "alice", false, &err), -ERR_DELETE_CONFLICT);
    ASSERT_EQ(iam_group_delete(iam, "devs", false, &err), -ERR_DELETE_CONFLICT);
    ASSERT_EQ(iam_user_delete(iam, "bob", false, &err), -ERR_NO_SUCH_ENTITY);
    /* undo piece by piece, then an AWS-style delete works */
    ASSERT_OK(iam_key_delete(iam, ak));
    ASSERT_EQ(iam_key_delete(iam, ak), -ERR_NO_SUCH_ENTITY);
    ASSERT_OK(iam_inline_delete(iam, IAM_ENTITY_USER, "alice", "in1"));
    ASSERT_EQ(iam_inline_delete(iam, IAM_ENTITY_USER, "alice", "in1"), -ERR_NO_SUCH_ENTITY);
    ASSERT_OK(iam_policy_detach(iam, "getb", IAM_ENTITY_USER, "alice"));
    ASSERT_EQ(iam_policy_detach(iam, "getb", IAM_ENTITY_USER, "alice"), -ERR_NO_SUCH_ENTITY);
    ASSERT_OK(iam_policy_detach(iam, "readonly", IAM_ENTITY_USER, "alice"));
    ASSERT_OK(iam_group_remove_member(iam, "devs", "alice"));
    ASSERT_OK(iam_user_delete(iam, "alice", false, &err));
    /* the group: forced */
    ASSERT_OK(iam_group_delete(iam, "devs", true, &err));
    ASSERT_OK(iam_policy_delete(iam, "getb", &err));
    c.n = 0;
    ASSERT_OK(iam_user_list(iam, NULL, count_user, &c));
    ASSERT_EQ(c.n, 0);
    buf_release(&doc);
    buf_release(&err);
    iam_close(iam);
}

TEST(iam_keys_limits_and_forced_delete)
{
    struct iam *iam = open_mem();
    struct buf err = BUF_INIT, a = BUF_INIT, s = BUF_INIT;
    struct iam_new_key nk = { .user = "alice" };
    struct count c = { 0 };
    char ak1[129], ak2[129], svc[129], sk[41];
    size_t i;

    ASSERT_OK(iam_user_create(iam, "alice", NULL, NULL, &err));
    ASSERT_OK(iam_group_create(iam, "devs", &err));
    ASSERT_OK(iam_group_add_member(iam, "devs", "alice"));
    new_key(iam, "alice", false, NULL, ak1, sk);
    /* generated: 20 of [A-Z0-9], 40 of base64's alphabet */
    ASSERT_EQ(strlen(ak1), 20);
    ASSERT_EQ(strlen(sk), 40);
    for (i = 0; i < 20; i++)
        ASSERT(strchr(iam__upper_digits, ak1[i]));
    for (i = 0; i < 40; i++)
        ASSERT(strchr(iam__base64_chars, sk[i]));
    new_key(iam, "alice", false, NULL, ak2, NULL);
    ASSERT_EQ(iam_key_create(iam, &nk, &a, &s, &err), -ERR_LIMIT_EXCEEDED);
    /* service accounts are not counted */
    new_key(iam, "alice", true, P_GET_B, svc, NULL);
    nk = (struct iam_new_key){ .user = "bob" };
    ASSERT_EQ(iam_key_create(iam, &nk, &a, &s, &err), -ERR_NO_SUCH_ENTITY);
    nk = (struct iam_new_key){ .user = "alice", .service_account = true, .access_key = ak1 };
    ASSERT_EQ(iam_key_create(iam, &nk, &a, &s, &err), -ERR_ENTITY_EXISTS);
    nk = (struct iam_new_key){ .user = "alice", .service_account = true, .access_key = ROOT };
    ASSERT_EQ(iam_key_create(iam, &nk, &a, &s, &err), -ERR_ENTITY_EXISTS);
    nk = (struct iam_new_key){ .user = "alice", .service_account = true, .secret = "short" };
    ASSERT_EQ(iam_key_create(iam, &nk, &a, &s, &err), -ERR_INVAL);
    nk = (struct iam_new_key){ .user = "alice", .service_account = true, .policy = "{x" };
    ASSERT_EQ(iam_key_create(iam, &nk, &a, &s, &err), -ERR_MALFORMED_POLICY);
    nk = (struct iam_new_key){ .user = ROOT }; /* root's own key is the root credential */
    ASSERT_EQ(iam_key_create(iam, &nk, &a, &s, &err), -ERR_INVAL);
    ASSERT_EQ(a.len, 0);

    ASSERT_OK(iam_key_list(iam, "alice", NULL, false, count_key, &c));
    ASSERT_EQ(c.n, 2);
    c.n = 0;
    ASSERT_OK(iam_key_list(iam, "alice", NULL, true, count_key, &c));
    ASSERT_EQ(c.n, 1);
    ASSERT(strstr(c.last, "svc1 pol"));
    ASSERT_OK(iam_key_edit(iam, svc, NULL, "", -1, "backup", NULL, &err));
    ASSERT_OK(iam_key_list(iam, NULL, svc, false, count_key, &c));
    ASSERT(strstr(c.last, "svc1 nopol"));
    ASSERT_EQ(iam_key_edit(iam, ak1, NULL, NULL, -1, NULL, NULL, &err), -ERR_INVAL);
    ASSERT_EQ(iam_key_list(iam, NULL, "NOPE", false, count_key, &c), -ERR_NO_SUCH_ENTITY);

    /* forced: keys, service accounts and memberships go with the user */
    ASSERT_OK(iam_user_delete(iam, "alice", true, &err));
    c.n = 0;
    ASSERT_OK(iam_key_list(iam, NULL, NULL, false, count_key, &c));
    ASSERT_OK(iam_key_list(iam, NULL, NULL, true, count_key, &c));
    ASSERT_EQ(c.n, 0);
    ASSERT_OK(iam_group_delete(iam, "devs", false, &err)); /* no members left */
    buf_release(&a);
    buf_release(&s);
    buf_release(&err);
    iam_close(iam);
}

TEST(iam_authenticate_every_identity)
{
    struct iam *iam = open_mem();
    struct buf err = BUF_INIT, secret = BUF_INIT;
    struct iam_identity id;
    struct iam_new_key nk;
    char ak[129], sk[41], svc[129], rsvc[129];
    struct buf a = BUF_INIT, s = BUF_INIT;

    /* root */
    ASSERT_OK(iam_authenticate(iam, SLICE_LIT(ROOT), SLICE_NULL, &secret, &id));
    ASSERT_STREQ(secret.ptr, ROOT_SECRET);
    ASSERT_EQ(id.type, IAM_ROOT);
    ASSERT_EQ(strlen(iam_account_id(iam)), 12);
    ASSERT(!strncmp(id.arn, "arn:aws:iam::", 13) && strstr(id.arn, ":root"));
    buf_clear(&secret);
    /* a user's key (MinIO's way: the user named after its key, secret given) */
    ASSERT_OK(iam_user_create(iam, "AKALICE", "AKALICE", "alicesecret1", &err));
    ASSERT_OK(iam_authenticate(iam, SLICE_LIT("AKALICE"), SLICE_NULL, &secret, &id));
    ASSERT_STREQ(secret.ptr, "alicesecret1");
    ASSERT_EQ(id.type, IAM_USER);
    ASSERT_STREQ(id.user, "AKALICE");
    ASSERT(!strncmp(id.userid, "AIDA", 4));
    ASSERT(strstr(id.arn, ":user/AKALICE"));
    buf_clear(&secret);
    ASSERT_EQ(auth(iam, "UNKNOWN", NULL, &id), -ERR_INVALID_ACCESS_KEY);
    /* a token on a key that is not a session's */
    ASSERT_EQ(auth(iam, "AKALICE", "abc", &id), -ERR_INVALID_TOKEN);

    new_key(iam, "AKALICE", false, NULL, ak, sk);
    new_key(iam, "AKALICE", true, NULL, svc, NULL);
    new_key(iam, ROOT, true, NULL, rsvc, NULL);
    ASSERT_OK(auth(iam, svc, NULL, &id));
    ASSERT_EQ(id.type, IAM_SERVICE_ACCOUNT);
    ASSERT_STREQ(id.user, "AKALICE");
    ASSERT_OK(auth(iam, rsvc, NULL, &id));
    ASSERT_EQ(id.type, IAM_SERVICE_ACCOUNT);
    ASSERT_STREQ(id.user, ROOT);
    /* a disabled key, then a disabled user: refused from the moment the call returns */
    ASSERT_OK(iam_key_set_enabled(iam, ak, false));
    ASSERT_EQ(auth(iam, ak, NULL, &id), -ERR_INVALID_ACCESS_KEY);
    ASSERT_OK(iam_key_set_enabled(iam, ak, true));
    ASSERT_OK(auth(iam, ak, NULL, &id));
    ASSERT_OK(iam_user_set_enabled(iam, "AKALICE", false));
    ASSERT_EQ(auth(iam, ak, NULL, &id), -ERR_INVALID_ACCESS_KEY);
    ASSERT_EQ(auth(iam, svc, NULL, &id), -ERR_INVALID_ACCESS_KEY); /* dies with its parent */
    ASSERT_OK(iam_user_set_enabled(iam, "AKALICE", true));
    ASSERT_OK(auth(iam, svc, NULL, &id));
    /* an expiring service account (expiry one second ahead, then waited for) */
    nk = (struct iam_new_key){ .user = "AKALICE",
                               .service_account = true,
                               .expires = (int64_t)time(NULL) + 1 };
    ASSERT_OK(iam_key_create(iam, &nk, &a, &s, &err));
    ASSERT_OK(auth(iam, a.ptr, NULL, &id));
    ASSERT_EQ(id.expires, nk.expires);
    sleep(2);
    ASSERT_EQ(auth(iam, a.ptr, NULL, &id), -ERR_INVALID_ACCESS_KEY);
    nk.expires = (int64_t)time(NULL) - 10; /* in the past: refused at creation */
    ASSERT_EQ(iam_key_create(iam, &nk, &a, &s, &err), -ERR_INVAL);
    /* deleted parent */
    ASSERT_OK(iam_user_delete(iam, "AKALICE", true, &err));
    ASSERT_EQ(auth(iam, svc, NULL, &id), -ERR_INVALID_ACCESS_KEY);
    ASSERT_EQ(auth(iam, "AKALICE", NULL, &id), -ERR_INVALID_ACCESS_KEY);
    ASSERT_OK(auth(iam, rsvc, NULL, &id));
    buf_release(&a);
    buf_release_secure(&s);
    buf_release_secure(&secret);
    buf_release(&err);
    iam_close(iam);
}

TEST(iam_authorization_combines_user_group_bucket_and_deny)
{
    struct iam *iam = open_mem();
    struct buf err = BUF_INIT;
    struct iam_identity id, anon;
    struct iam_policy *bp = NULL;
    char ak[129];

    ASSERT_OK(iam_user_create(iam, "alice", NULL, NULL, &err));
    new_key(iam, "alice", false, NULL, ak, NULL);
    ASSERT_OK(auth(iam, ak, NULL, &id));
    ASSERT_OK(iam_policy_parse(SLICE_LIT(P_BUCKET_GET_B), IAM_POLICY_BUCKET, &bp, NULL));
    iam_identity_anonymous(&anon);

    /* nothing attached: default deny; root: always */
    ASSERT(!allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::b/k", NULL));
    ASSERT(allowed(iam, &(struct iam_identity){ .type = IAM_ROOT }, "s3:GetObject",
                   "arn:aws:s3:::b/k", NULL));
    /* anonymous: the bucket policy only */
    ASSERT(!allowed(iam, &anon, "s3:GetObject", "arn:aws:s3:::b/k", NULL));
    ASSERT(allowed(iam, &anon, "s3:GetObject", "arn:aws:s3:::b/k", bp));
    ASSERT(!allowed(iam, &anon, "s3:PutObject", "arn:aws:s3:::b/k", bp));
    /* the bucket policy alone allows the user too */
    ASSERT(allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::b/k", bp));
    /* a group's policy, while the group is enabled */
    ASSERT_OK(iam_group_create(iam, "writers", &err));
    ASSERT_OK(iam_inline_put(iam, IAM_ENTITY_GROUP, "writers", "w", SLICE_LIT(P_PUT_B), &err));
    ASSERT_OK(iam_group_add_member(iam, "writers", "alice"));
    ASSERT(allowed(iam, &id, "s3:PutObject", "arn:aws:s3:::b/k", NULL));
    ASSERT(!allowed(iam, &id, "s3:PutObject", "arn:aws:s3:::c/k", NULL));
    ASSERT_OK(iam_group_set_enabled(iam, "writers", false));
    ASSERT(!allowed(iam, &id, "s3:PutObject", "arn:aws:s3:::b/k", NULL));
    ASSERT_OK(iam_group_set_enabled(iam, "writers", true));
    /* a canned policy attached */
    ASSERT_OK(iam_policy_attach(iam, "readonly", IAM_ENTITY_USER, "alice"));
    ASSERT(allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::any/k", NULL));
    /* a deny anywhere wins: in a group's attached policy, over the user's and the bucket's */
    ASSERT_OK(iam_policy_put(iam, "nogetb", SLICE_LIT(P_DENY_GET_B), false, &err));
    ASSERT_OK(iam_policy_attach(iam, "nogetb", IAM_ENTITY_GROUP, "writers"));
    ASSERT(!allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::b/k", bp));
    ASSERT(allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::c/k", NULL));
    /* disabled since authentication: refused here too */
    ASSERT_OK(iam_user_set_enabled(iam, "alice", false));
    ASSERT(!allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::c/k", NULL));
    ASSERT_OK(iam_user_set_enabled(iam, "alice", true));
    ASSERT_OK(iam_key_delete(iam, ak));
    ASSERT(!allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::c/k", NULL));
    iam_policy_free(bp);
    buf_release(&err);
    iam_close(iam);
}

TEST(iam_service_account_narrowed_and_dies_with_parent)
{
    struct iam *iam = open_mem();
    struct buf err = BUF_INIT;
    struct iam_identity id, rid;
    char svc[129], rsvc[129];

    ASSERT_OK(iam_user_create(iam, "alice", NULL, NULL, &err));
    ASSERT_OK(iam_policy_attach(iam, "readwrite", IAM_ENTITY_USER, "alice"));
    new_key(iam, "alice", true, P_GET_B, svc, NULL);
    ASSERT_OK(auth(iam, svc, NULL, &id));
    ASSERT(allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::b/k", NULL));
    ASSERT(!allowed(iam, &id, "s3:PutObject", "arn:aws:s3:::b/k", NULL)); /* narrowed */
    ASSERT(!allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::c/k", NULL));
    /* the parent loses the right: so does the service account */
    ASSERT_OK(iam_policy_detach(iam, "readwrite", IAM_ENTITY_USER, "alice"));
    ASSERT(!allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::b/k", NULL));
    ASSERT_OK(iam_policy_attach(iam, "readwrite", IAM_ENTITY_USER, "alice"));
    /* no inline policy: the parent's rights */
    ASSERT_OK(iam_key_edit(iam, svc, NULL, "", -1, NULL, NULL, &err));
    ASSERT(allowed(iam, &id, "s3:PutObject", "arn:aws:s3:::b/k", NULL));
    /* root's service account: root narrowed */
    new_key(iam, ROOT, true, P_PUT_B, rsvc, NULL);
    ASSERT_OK(auth(iam, rsvc, NULL, &rid));
    ASSERT(allowed(iam, &rid, "s3:PutObject", "arn:aws:s3:::b/k", NULL));
    ASSERT(!allowed(iam, &rid, "admin:CreateUser", NULL, NULL));
    /* the parent deleted */
    ASSERT_OK(iam_user_delete(iam, "alice", true, &err));
    ASSERT(!allowed(iam, &id, "s3:PutObject", "arn:aws:s3:::b/k", NULL));
    buf_release(&err);
    iam_close(iam);
}

TEST(iam_sts_sessions)
{
    struct iam *iam = open_mem(), *other;
    struct iam_config ocfg = { .root_user = ROOT, .root_secret = "anothersecret" };
    struct buf err = BUF_INIT, secret = BUF_INIT;
    struct iam_identity caller, sess, root = { .type = IAM_ROOT };
    struct iam_sts_creds c, rc_;
    char ak[129];

    snprintf(root.user, sizeof(root.user), "%s", ROOT);
    ASSERT_OK(iam_user_create(iam, "alice", NULL, NULL, &err));
    ASSERT_OK(iam_policy_attach(iam, "readwrite", IAM_ENTITY_USER, "alice"));
    new_key(iam, "alice", false, NULL, ak, NULL);
    ASSERT_OK(auth(iam, ak, NULL, &caller));
    ASSERT_EQ(iam_sts_assume_role(iam, &caller, NULL, 60, &c, &err), -ERR_INVAL);
    ASSERT_EQ(iam_sts_assume_role(iam, &caller, NULL, 43201, &c, &err), -ERR_INVAL);
    ASSERT_EQ(iam_sts_assume_role(iam, &caller, "{x", 900, &c, &err), -ERR_MALFORMED_POLICY);
    ASSERT_OK(iam_sts_assume_role(iam, &caller, P_GET_B, 900, &c, &err));
    ASSERT(!strncmp(c.access_key, "ASIA", 4) && strlen(c.access_key) == 20);
    ASSERT_EQ(strlen(c.secret), 40);
    ASSERT(c.expires > (int64_t)time(NULL) + 800);

    /* the session authenticates with its token, and only with it */
    ASSERT_OK(iam_authenticate(iam, slice_cstr(c.access_key), buf_slice(&c.token), &secret, &sess));
    ASSERT_STREQ(secret.ptr, c.secret);
    ASSERT_EQ(sess.type, IAM_ASSUMED_ROLE);
    ASSERT_STREQ(sess.user, "alice");
    ASSERT(strstr(sess.arn, ":assumed-role/alice/"));
    ASSERT_STREQ(sess.userid, caller.userid);
    ASSERT_EQ(auth(iam, c.access_key, NULL, &sess), -ERR_INVALID_ACCESS_KEY);
    ASSERT_EQ(auth(iam, "ASIAOTHEROTHEROTHER1", c.token.ptr, &sess), -ERR_INVALID_TOKEN);
    ASSERT_OK(auth(iam, c.access_key, c.token.ptr, &sess));
    /* narrowed by the session policy */
    ASSERT(allowed(iam, &sess, "s3:GetObject", "arn:aws:s3:::b/k", NULL));
    ASSERT(!allowed(iam, &sess, "s3:PutObject", "arn:aws:s3:::b/k", NULL));
    /* a session may not assume a role; nor a service account */
    ASSERT_EQ(iam_sts_assume_role(iam, &sess, NULL, 900, &rc_, &err), -ERR_ACCESS_DENIED);
    /* tampered: every byte position matters */
    {
        struct buf t = BUF_INIT;

        buf_addslice(&t, buf_slice(&c.token));
        t.ptr[t.len / 2] = t.ptr[t.len / 2] == 'A' ? 'B' : 'A';
        ASSERT_EQ(auth(iam, c.access_key, t.ptr, &sess), -ERR_INVALID_TOKEN);
        buf_release(&t);
    }
    /* another deployment (other root credentials) cannot open it */
    ASSERT_OK(iam_open(&ocfg, &other, &err));
    ASSERT_EQ(auth(other, c.access_key, c.token.ptr, &sess), -ERR_INVALID_TOKEN);
    iam_close(other);
    /* the parent disabled: refused at once, in authentication and authorization */
    ASSERT_OK(auth(iam, c.access_key, c.token.ptr, &sess));
    ASSERT_OK(iam_user_set_enabled(iam, "alice", false));
    ASSERT_EQ(auth(iam, c.access_key, c.token.ptr, &sess), -ERR_INVALID_ACCESS_KEY);
    ASSERT(!allowed(iam, &sess, "s3:GetObject", "arn:aws:s3:::b/k", NULL));
    ASSERT_OK(iam_user_set_enabled(iam, "alice", true));
    /* root's session: root narrowed */
    ASSERT_OK(iam_sts_assume_role(iam, &root, P_PUT_B, 900, &rc_, &err));
    ASSERT_OK(auth(iam, rc_.access_key, rc_.token.ptr, &sess));
    ASSERT(allowed(iam, &sess, "s3:PutObject", "arn:aws:s3:::b/k", NULL));
    ASSERT(!allowed(iam, &sess, "s3:GetObject", "arn:aws:s3:::b/k", NULL));
    /* expired: a session whose expiry has passed (authorization checks it too) */
    sess.expires = (int64_t)time(NULL) - 1;
    ASSERT(!allowed(iam, &sess, "s3:PutObject", "arn:aws:s3:::b/k", NULL));
    iam_sts_creds_release(&rc_);
    iam_sts_creds_release(&c);
    buf_release_secure(&secret);
    buf_release(&err);
    iam_close(iam);
}

TEST(iam_sts_token_expires)
{
    struct iam *iam = open_mem();
    struct buf err = BUF_INIT;
    struct iam_identity root = { .type = IAM_ROOT }, sess;
    struct iam_sts_creds c;

    snprintf(root.user, sizeof(root.user), "%s", ROOT);
    ASSERT_OK(iam_sts_assume_role(iam, &root, NULL, IAM_STS_MIN_SECONDS, &c, &err));
    ASSERT_OK(auth(iam, c.access_key, c.token.ptr, &sess));
    /*
     * An honest expiry needs 15 minutes; instead a token sealed now with an
     * expiry in the past, made the way sts.c makes them (same key, same format).
     */
    {
        struct buf plain = BUF_INIT, sealed = BUF_INIT, tok = BUF_INIT;
        uint8_t v = 1;

        buf_addf(&plain, "{\"ak\":\"%s\",\"sk\":\"%s\",\"u\":\"%s\",\"pt\":\"root\",\"exp\":%lld}",
                 c.access_key, c.secret, ROOT, (long long)time(NULL) - 1);
        buf_add(&sealed, &v, 1);
        iam__seal(iam->sts_key, slice_make(&v, 1), buf_slice(&plain), &sealed);
        iam__base64url_encode(&tok, sealed.ptr, sealed.len);
        ASSERT_EQ(auth(iam, c.access_key, tok.ptr, &sess), -ERR_EXPIRED_TOKEN);
        buf_release(&plain);
        buf_release(&sealed);
        buf_release(&tok);
    }
    iam_sts_creds_release(&c);
    buf_release(&err);
    iam_close(iam);
}

TEST(iam_failed_write_changes_nothing)
{
    struct iam *iam = open_mem();
    struct buf err = BUF_INIT;
    struct iam_identity id;
    char ak[129];

    ASSERT_OK(iam_user_create(iam, "alice", NULL, NULL, &err));
    new_key(iam, "alice", false, NULL, ak, NULL);
    iam__test_fail_writes(iam, 0, 1);
    ASSERT_EQ(iam_user_set_enabled(iam, "alice", false), -ERR_QUORUM);
    ASSERT_OK(auth(iam, ak, NULL, &id)); /* still enabled */
    iam__test_fail_writes(iam, 0, 1);
    ASSERT_EQ(iam_user_create(iam, "bob", NULL, NULL, &err), -ERR_QUORUM);
    ASSERT_EQ(iam_user_list(iam, "bob", count_user, &(struct count){ 0 }), -ERR_NO_SUCH_ENTITY);
    /* a user with a key: the key's write fails, the user is taken back */
    iam__test_fail_writes(iam, 1, 1);
    ASSERT_EQ(iam_user_create(iam, "carol", "AKCAROL", "carolsecret1", &err), -ERR_QUORUM);
    ASSERT_EQ(iam_user_list(iam, "carol", count_user, &(struct count){ 0 }), -ERR_NO_SUCH_ENTITY);
    ASSERT_EQ(auth(iam, "AKCAROL", NULL, &id), -ERR_INVALID_ACCESS_KEY);
    ASSERT_OK(iam_reload(iam)); /* and the store agrees */
    ASSERT_EQ(iam_user_list(iam, "carol", count_user, &(struct count){ 0 }), -ERR_NO_SUCH_ENTITY);
    ASSERT_OK(iam_user_list(iam, "alice", count_user, &(struct count){ 0 }));
    buf_release(&err);
    iam_close(iam);
}

/* ---- on drive folders ---- */

#define NDRIVES 4

static struct objlayer *
open_layer(void)
{
    static char paths[NDRIVES][4200];
    const char *ptrs[NDRIVES];
    struct objlayer_config cfg = {
        .drives = ptrs, .ndrives = NDRIVES, .sync = true, .format_fresh = true
    };
    struct buf err = BUF_INIT;
    struct objlayer *ol = NULL;
    unsigned i;

    for (i = 0; i < NDRIVES; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/d%u", harness_tmpdir(), i);
        mkdir(paths[i], 0755);
        ptrs[i] = paths[i];
    }
    if (objlayer_open(&cfg, &ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
    return ol;
}

static struct iam *
open_on(struct objlayer *ol, const char *secret, int *rc, struct buf *err)
{
    struct iam_config cfg = { .ol = ol, .root_user = ROOT, .root_secret = secret };
    struct iam *iam = NULL;

    *rc = iam_open(&cfg, &iam, err);
    return iam;
}

/* Whether any file under `dir` contains `needle`. */
static bool
tree_contains(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;

    if (!d)
        return false;
    while (!found && (e = readdir(d))) {
        char path[8192];
        struct stat st;

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            found = tree_contains(path, needle);
        } else if (S_ISREG(st.st_mode)) {
            FILE *f = fopen(path, "rb");
            char *data = xmalloc((size_t)st.st_size + 1);
            size_t n = f ? fread(data, 1, (size_t)st.st_size, f) : 0;

            data[n] = '\0';
            found = memmem(data, n, needle, strlen(needle)) != NULL;
            free(data);
            if (f)
                fclose(f);
        }
    }
    closedir(d);
    return found;
}

TEST(iam_persists_and_keeps_secrets_sealed)
{
    struct objlayer *ol = open_layer();
    struct buf err = BUF_INIT, secret = BUF_INIT;
    struct iam_identity id;
    struct iam *iam;
    struct iam_new_key nk = { .user = "alice",
                              .service_account = true,
                              .secret = "Zq8pL2mN4vX6cB1dF3gH5jK7" };
    struct buf a = BUF_INIT, s = BUF_INIT;
    struct count c = { 0 };
    int rc;

    iam = open_on(ol, ROOT_SECRET, &rc, &err);
    ASSERT_OK(rc);
    ASSERT_OK(iam_user_create(iam, "alice", "AKIAALICE", "Wn5tR7yU9iO1pA3sD5fG7hJ9", &err));
    ASSERT_OK(iam_group_create(iam, "devs", &err));
    ASSERT_OK(iam_group_add_member(iam, "devs", "alice"));
    ASSERT_OK(iam_policy_put(iam, "getb", SLICE_LIT(P_GET_B), false, &err));
    ASSERT_OK(iam_policy_attach(iam, "getb", IAM_ENTITY_GROUP, "devs"));
    ASSERT_OK(iam_inline_put(iam, IAM_ENTITY_USER, "alice", "in", SLICE_LIT(P_PUT_B), &err));
    ASSERT_OK(iam_key_create(iam, &nk, &a, &s, &err));
    iam_close(iam);
    objlayer_close(ol);

    /* no drive file holds a secret in clear (index.db, its WAL, shard files) */
    ASSERT(tree_contains(harness_tmpdir(), "AKIAALICE")); /* the walk does find what is there */
    ASSERT(!tree_contains(harness_tmpdir(), "Wn5tR7yU9iO1pA3sD5fG7hJ9"));
    ASSERT(!tree_contains(harness_tmpdir(), "Zq8pL2mN4vX6cB1dF3gH5jK7"));

    ol = open_layer();
    iam = open_on(ol, ROOT_SECRET, &rc, &err);
    ASSERT_OK(rc);
    ASSERT_OK(iam_authenticate(iam, SLICE_LIT("AKIAALICE"), SLICE_NULL, &secret, &id));
    ASSERT_STREQ(secret.ptr, "Wn5tR7yU9iO1pA3sD5fG7hJ9");
    buf_clear(&secret);
    ASSERT_OK(iam_authenticate(iam, buf_slice(&a), SLICE_NULL, &secret, &id));
    ASSERT_STREQ(secret.ptr, "Zq8pL2mN4vX6cB1dF3gH5jK7");
    ASSERT_OK(iam_authenticate(iam, SLICE_LIT("AKIAALICE"), SLICE_NULL, &secret, &id));
    ASSERT(allowed(iam, &id, "s3:GetObject", "arn:aws:s3:::b/k", NULL)); /* via the group */
    ASSERT(allowed(iam, &id, "s3:PutObject", "arn:aws:s3:::b/k", NULL)); /* inline */
    ASSERT_OK(iam_user_list(iam, "alice", count_user, &c));
    ASSERT(strstr(c.last, " 1 p0 i1 g1"));
    iam_close(iam);

    /* other root credentials: the secrets do not open, and iam_open says why */
    buf_clear(&err);
    iam = open_on(ol, "not-the-root-secret", &rc, &err);
    ASSERT_EQ(rc, -ERR_CORRUPT);
    ASSERT(iam == NULL);
    ASSERT(strstr(err.ptr, "root credentials"));
    objlayer_close(ol);
    buf_release(&a);
    buf_release_secure(&s);
    buf_release_secure(&secret);
    buf_release(&err);
}

TEST(iam_two_instances_stay_in_step)
{
    struct objlayer *ol = open_layer();
    struct buf err = BUF_INIT;
    struct iam_identity id;
    struct iam *a, *b;
    char ak[129];
    int rc;

    a = open_on(ol, ROOT_SECRET, &rc, &err);
    ASSERT_OK(rc);
    b = open_on(ol, ROOT_SECRET, &rc, &err);
    ASSERT_OK(rc);
    ASSERT_OK(iam_user_create(a, "alice", NULL, NULL, &err));
    new_key(a, "alice", false, NULL, ak, NULL);
    ASSERT_EQ(auth(b, ak, NULL, &id), -ERR_INVALID_ACCESS_KEY); /* b has not heard yet */
    ASSERT_OK(iam_changed(b, "user/alice"));
    ASSERT_OK(iam_changed(b, (char[160]){ 0 }) /* "" = everything */);
    ASSERT_OK(auth(b, ak, NULL, &id));
    /* a disables alice; b hears of it */
    ASSERT_OK(iam_user_set_enabled(a, "alice", false));
    ASSERT_OK(auth(b, ak, NULL, &id));
    ASSERT_OK(iam_changed(b, "user/alice"));
    ASSERT_EQ(auth(b, ak, NULL, &id), -ERR_INVALID_ACCESS_KEY);
    /* a deletes the key; b hears of that one key */
    {
        struct buf key = BUF_INIT;

        buf_addf(&key, "key/%s", ak);
        ASSERT_OK(iam_user_set_enabled(a, "alice", true));
        ASSERT_OK(iam_changed(b, "user/alice"));
        ASSERT_OK(auth(b, ak, NULL, &id));
        ASSERT_OK(iam_key_delete(a, ak));
        ASSERT_OK(iam_changed(b, key.ptr));
        ASSERT_EQ(auth(b, ak, NULL, &id), -ERR_INVALID_ACCESS_KEY);
        buf_release(&key);
    }
    iam_close(a);
    iam_close(b);
    objlayer_close(ol);
    buf_release(&err);
}
