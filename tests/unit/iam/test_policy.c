/*
 * tests/unit/iam/test_policy.c: the policy parser and evaluator (iam/policy.h)
 * against tables: documents and requests with the decision AWS's rules give,
 * malformed documents with where the error must point, iam_policy_is_public
 * and the action table.
 *
 * Documents are written with ' for " (converted before parsing) so that the
 * tables stay readable. Condition keys of a case are "key=value|key=value"
 * (a key repeated for a multi-valued one).
 */
#include "util/base.h"

#include "iam/policy.h"

#include <time.h>

#include "harness.h"
#include "util/buf.h"
#include "util/err.h"

#define ACCT "123456789012"
#define ALICE "arn:aws:iam::" ACCT ":user/alice"
#define BOB "arn:aws:iam::" ACCT ":user/bob"
#define OTHER "arn:aws:iam::210987654321:user/carol"

#define DOC(stmts) "{'Version':'2012-10-17','Statement':[" stmts "]}"
#define ALLOW(act, res) "{'Effect':'Allow','Action':" act ",'Resource':" res "}"
#define DENY(act, res) "{'Effect':'Deny','Action':" act ",'Resource':" res "}"
/* An Allow of s3:GetObject on everything under one condition block. */
#define CND(c) DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':'*','Condition':" c "}")
/* A bucket policy statement. */
#define BSTMT(eff, pr, act, res)                                                                   \
    "{'Effect':'" eff "','Principal':" pr ",'Action':" act ",'Resource':" res "}"

#define GET "s3:GetObject"
#define PUT "s3:PutObject"
#define LIST "s3:ListBucket"
#define OBJ "arn:aws:s3:::b/k"
#define BKT "arn:aws:s3:::b"

enum { N = IAM_NONE, A = IAM_ALLOW, D = IAM_DENY };

struct pcase {
    int line;
    bool bucket;
    const char *doc;
    const char *action;
    const char *resource;
    const char *principal; /* NULL: anonymous */
    const char *kv;
    int want;
};

#define I(doc, act, res, kv, want)                                                                 \
    {                                                                                              \
        __LINE__, false, doc, act, res, ALICE, kv, want                                            \
    }
#define B(doc, act, res, pr, kv, want)                                                             \
    {                                                                                              \
        __LINE__, true, doc, act, res, pr, kv, want                                                \
    }
/* A condition case: CND(c) with s3:GetObject on OBJ. */
#define C(c, kv, want) I(CND(c), GET, OBJ, kv, want)

static const struct pcase cases[] = {
    /* allow, deny, default */
    I(DOC(ALLOW("'s3:GetObject'", "'arn:aws:s3:::b/*'")), GET, OBJ, "", A),
    I(DOC(ALLOW("'s3:GetObject'", "'arn:aws:s3:::b/*'")), PUT, OBJ, "", N),
    I(DOC(ALLOW("'s3:GetObject'", "'arn:aws:s3:::b/*'")), GET, "arn:aws:s3:::c/k", "", N),
    I(DOC(DENY("'s3:GetObject'", "'arn:aws:s3:::b/*'")), GET, OBJ, "", D),
    I(DOC(DENY("'s3:GetObject'", "'arn:aws:s3:::b/*'")), PUT, OBJ, "", N),
    I(DOC(ALLOW("'s3:*'", "'*'") "," DENY("'s3:DeleteObject'", "'*'")), "s3:DeleteObject", OBJ, "",
      D),
    I(DOC(DENY("'s3:DeleteObject'", "'*'") "," ALLOW("'s3:*'", "'*'")), "s3:DeleteObject", OBJ, "",
      D),
    I(DOC(ALLOW("'s3:*'", "'*'") "," DENY("'s3:DeleteObject'", "'*'")), GET, OBJ, "", A),
    I(DOC(ALLOW("['s3:GetObject','s3:PutObject']", "'arn:aws:s3:::b/*'")), PUT, OBJ, "", A),
    I(DOC(ALLOW("['s3:GetObject','s3:PutObject']", "'arn:aws:s3:::b/*'")), LIST, BKT, "", N),
    I("{'Statement':{'Effect':'Allow','Action':'s3:GetObject','Resource':'*'}}", GET, OBJ, "", A),
    I("{'Version':'2008-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'}]}",
      "iam:CreateUser", "arn:aws:iam::" ACCT ":user/x", "", A),
    I(DOC(ALLOW("'*'", "'*'")), "admin:ServerInfo", NULL, "", A),
    I(DOC(ALLOW("'*'", "'*'")), "sts:AssumeRole", NULL, "", A),
    /* action wildcards and case */
    I(DOC(ALLOW("'s3:Get*'", "'*'")), GET, OBJ, "", A),
    I(DOC(ALLOW("'s3:Get*'", "'*'")), "s3:GetBucketPolicy", BKT, "", A),
    I(DOC(ALLOW("'s3:Get*'", "'*'")), PUT, OBJ, "", N),
    I(DOC(ALLOW("'s3:*Object'", "'*'")), PUT, OBJ, "", A),
    I(DOC(ALLOW("'s3:*Object'", "'*'")), "s3:PutObjectAcl", OBJ, "", N),
    I(DOC(ALLOW("'s3:?etObject'", "'*'")), GET, OBJ, "", A),
    I(DOC(ALLOW("'s3:?etObject'", "'*'")), "s3:SetObject", OBJ, "",
      A), /* outside the table: the pattern */
    I(DOC(ALLOW("'s3:GetObjec?'", "'*'")), GET, OBJ, "", A),
    I(DOC(ALLOW("'s3:getobject'", "'*'")), GET, OBJ, "", A),
    I(DOC(ALLOW("'S3:GETOBJECT'", "'*'")), GET, OBJ, "", A),
    I(DOC(ALLOW("'s3:GetObject'", "'*'")), "S3:GETOBJECT", OBJ, "", A),
    I(DOC(ALLOW("'s3:GetObject'", "'*'")), "s3:getobjectacl", OBJ, "", N),
    I(DOC(ALLOW("'s3:*'", "'*'")), "admin:ServerInfo", NULL, "", N),
    I(DOC(ALLOW("'admin:*'", "'*'")), "admin:ServerInfo", NULL, "", A),
    I(DOC(ALLOW("'admin:*'", "'*'")), GET, OBJ, "", N),
    I(DOC(ALLOW("'iam:*User*'", "'*'")), "iam:ListUsers", NULL, "", A),
    I(DOC(ALLOW("'iam:*User*'", "'*'")), "iam:ListGroups", NULL, "", N),
    I(DOC(ALLOW("'s3:*'", "'*'")), "s3:SomethingNew", OBJ, "", A), /* outside the table */
    I(DOC(ALLOW("'s3:Get*'", "'*'")), "s3:GetSomethingNew", OBJ, "", A),
    I(DOC(ALLOW("'s3:GetObject'", "'*'")), "s3:GetSomethingNew", OBJ, "", N),
    I(DOC(ALLOW("'*'", "'*'")), "", OBJ, "", A),
    I(DOC(ALLOW("'*:GetObject'", "'*'")), GET, OBJ, "", A),
    /* statements without Resource: admin:, sts: */
    I(DOC("{'Effect':'Allow','Action':'admin:ServerInfo'}"), "admin:ServerInfo", NULL, "", A),
    I(DOC("{'Effect':'Allow','Action':'admin:ServerInfo'}"), "admin:ServerInfo", BKT, "", A),
    I(DOC("{'Effect':'Allow','Action':['admin:*','sts:AssumeRole']}"), "sts:AssumeRole", NULL, "",
      A),
    I(DOC("{'Effect':'Deny','Action':'admin:*'}"), "admin:CreateUser", NULL, "", D),
    I(DOC("{'Effect':'Allow','Action':'sts:*'}"), "sts:GetCallerIdentity", NULL, "", A),
    /* resources */
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b'")), LIST, BKT, "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b'")), GET, OBJ, "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/*'")), LIST, BKT, "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/*'")), GET, OBJ, "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b*'")), LIST, BKT, "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b*'")), GET, "arn:aws:s3:::bb/x", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/*'")), GET, "arn:aws:s3:::b/", "", A),
    I(DOC(ALLOW("'s3:*'", "['arn:aws:s3:::b','arn:aws:s3:::b/*']")), LIST, BKT, "", A),
    I(DOC(ALLOW("'s3:*'", "['arn:aws:s3:::b','arn:aws:s3:::b/*']")), GET, OBJ, "", A),
    I(DOC(ALLOW("'s3:*'", "['arn:aws:s3:::b','arn:aws:s3:::b/*']")), GET, "arn:aws:s3:::c/k", "",
      N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/logs/*'")), GET, "arn:aws:s3:::b/logs/2026/a.gz", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/logs/*'")), GET, "arn:aws:s3:::b/log/x", "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/*.jpg'")), GET, "arn:aws:s3:::b/a/b/c.jpg", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/*.jpg'")), GET, "arn:aws:s3:::b/a.jpeg", "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/*/x/*'")), GET, "arn:aws:s3:::b/a/x/y", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/*/x/*'")), GET, "arn:aws:s3:::b/a/y/x", "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/?'")), GET, "arn:aws:s3:::b/k", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/?'")), GET, "arn:aws:s3:::b/kk", "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/?'")), GET, "arn:aws:s3:::b/\xc3\xa9", "", A), /* é */
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/?"
                          "?'")),
      GET, "arn:aws:s3:::b/\xc3\xa9", "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/K'")), GET, "arn:aws:s3:::b/k", "", N), /* case */
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::B/*'")), GET, OBJ, "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/k'")), GET, OBJ, "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/k'")), GET, "arn:aws:s3:::b/k2", "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::*'")), "s3:ListAllMyBuckets", "arn:aws:s3:::", "", A),
    I(DOC(ALLOW("'s3:*'", "'*'")), "s3:ListAllMyBuckets", NULL, "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::*'")), "s3:ListAllMyBuckets", NULL, "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::*a*b*c*'")), GET, "arn:aws:s3:::xaxbxcx", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::*a*b*c*'")), GET, "arn:aws:s3:::xaxcxbx", "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/a*a*a*a*a*b'")), GET,
      "arn:aws:s3:::b/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "", N),
    /* NotAction, NotResource */
    I(DOC("{'Effect':'Allow','NotAction':'s3:DeleteObject','Resource':'*'}"), GET, OBJ, "", A),
    I(DOC("{'Effect':'Allow','NotAction':'s3:DeleteObject','Resource':'*'}"), "s3:DeleteObject",
      OBJ, "", N),
    I(DOC("{'Effect':'Deny','NotAction':'s3:Get*','Resource':'*'}"), PUT, OBJ, "", D),
    I(DOC("{'Effect':'Deny','NotAction':'s3:Get*','Resource':'*'}"), GET, OBJ, "", N),
    I(DOC("{'Effect':'Allow','NotAction':'s3:*','Resource':'*'}"), "admin:ServerInfo", NULL, "", A),
    I(DOC("{'Effect':'Allow','NotAction':'s3:*','Resource':'*'}"), GET, OBJ, "", N),
    I(DOC("{'Effect':'Allow','Action':'s3:*','NotResource':'arn:aws:s3:::secret/*'}"), GET, OBJ, "",
      A),
    I(DOC("{'Effect':'Allow','Action':'s3:*','NotResource':'arn:aws:s3:::secret/*'}"), GET,
      "arn:aws:s3:::secret/k", "", N),
    I(DOC("{'Effect':'Allow','Action':'s3:*','NotResource':['arn:aws:s3:::x','arn:aws:s3:::b/"
          "*']}"),
      GET, OBJ, "", N),
    I(DOC("{'Effect':'Deny','Action':'s3:*','NotResource':'arn:aws:s3:::ok/*'}"), GET, OBJ, "", D),
    I(DOC("{'Effect':'Deny','Action':'s3:*','NotResource':'arn:aws:s3:::ok/*'}"), GET,
      "arn:aws:s3:::ok/k", "", N),
    I(DOC("{'Effect':'Deny','Action':'s3:*','NotResource':'arn:aws:s3:::ok/*'}"),
      "s3:ListAllMyBuckets", NULL, "", D),
    I(DOC("{'Effect':'Allow','NotAction':'s3:Put*','NotResource':'arn:aws:s3:::x/*'}"), GET, OBJ,
      "", A),
    /* bucket policies: principals */
    B(DOC(BSTMT("Allow", "'*'", "'s3:GetObject'", "'arn:aws:s3:::b/*'")), GET, OBJ, NULL, "", A),
    B(DOC(BSTMT("Allow", "'*'", "'s3:GetObject'", "'arn:aws:s3:::b/*'")), GET, OBJ, ALICE, "", A),
    B(DOC(BSTMT("Allow", "{'AWS':'*'}", "'s3:GetObject'", "'arn:aws:s3:::b/*'")), GET, OBJ, NULL,
      "", A),
    B(DOC(BSTMT("Allow", "{'AWS':['*']}", "'s3:GetObject'", "'arn:aws:s3:::b/*'")), GET, OBJ, OTHER,
      "", A),
    B(DOC(BSTMT("Allow", "{'AWS':'" ALICE "'}", "'s3:GetObject'", "'*'")), GET, OBJ, ALICE, "", A),
    B(DOC(BSTMT("Allow", "{'AWS':'" ALICE "'}", "'s3:GetObject'", "'*'")), GET, OBJ, BOB, "", N),
    B(DOC(BSTMT("Allow", "{'AWS':'" ALICE "'}", "'s3:GetObject'", "'*'")), GET, OBJ, NULL, "", N),
    B(DOC(BSTMT("Allow", "{'AWS':['" BOB "','" ALICE "']}", "'s3:GetObject'", "'*'")), GET, OBJ,
      ALICE, "", A),
    B(DOC(BSTMT("Allow", "{'AWS':'arn:aws:iam::" ACCT ":root'}", "'s3:GetObject'", "'*'")), GET,
      OBJ, BOB, "", A),
    B(DOC(BSTMT("Allow", "{'AWS':'arn:aws:iam::" ACCT ":root'}", "'s3:GetObject'", "'*'")), GET,
      OBJ, NULL, "", N),
    B(DOC(BSTMT("Allow", "{'AWS':'arn:aws:iam::" ACCT ":root'}", "'s3:GetObject'", "'*'")), GET,
      OBJ, OTHER, "", N),
    B(DOC(BSTMT("Allow", "{'AWS':'" ACCT "'}", "'s3:GetObject'", "'*'")), GET, OBJ, ALICE, "", A),
    B(DOC(BSTMT("Allow", "{'AWS':'alice'}", "'s3:GetObject'", "'*'")), GET, OBJ, ALICE, "", A),
    B(DOC(BSTMT("Allow", "{'AWS':'alice'}", "'s3:GetObject'", "'*'")), GET, OBJ, BOB, "", N),
    B(DOC(BSTMT("Allow", "{'CanonicalUser':'alice'}", "'s3:GetObject'", "'*'")), GET, OBJ, ALICE,
      "", A),
    B(DOC(BSTMT("Deny", "{'AWS':'" BOB "'}", "'s3:*'", "'*'") "," BSTMT("Allow", "'*'", "'s3:*'",
                                                                        "'*'")),
      GET, OBJ, BOB, "", D),
    B(DOC(BSTMT("Deny", "{'AWS':'" BOB "'}", "'s3:*'", "'*'") "," BSTMT("Allow", "'*'", "'s3:*'",
                                                                        "'*'")),
      GET, OBJ, ALICE, "", A),
    B(DOC(BSTMT("Deny", "{'AWS':'" BOB "'}", "'s3:*'", "'*'") "," BSTMT("Allow", "'*'", "'s3:*'",
                                                                        "'*'")),
      GET, OBJ, NULL, "", A),
    B(DOC("{'Effect':'Deny','NotPrincipal':{'AWS':'" ALICE "'},'Action':'s3:*','Resource':'*'}"),
      GET, OBJ, BOB, "", D),
    B(DOC("{'Effect':'Deny','NotPrincipal':{'AWS':'" ALICE "'},'Action':'s3:*','Resource':'*'}"),
      GET, OBJ, ALICE, "", N),
    B(DOC("{'Effect':'Deny','NotPrincipal':{'AWS':'" ALICE "'},'Action':'s3:*','Resource':'*'}"),
      GET, OBJ, NULL, "", D),
    B(DOC("{'Effect':'Allow','NotPrincipal':{'AWS':'" ALICE "'},'Action':'s3:*','Resource':'*'}"),
      GET, OBJ, NULL, "", A),
    B(DOC("{'Effect':'Deny','NotPrincipal':{'AWS':'arn:aws:iam::" ACCT
          ":root'},'Action':'s3:*','Resource':'*'}"),
      GET, OBJ, OTHER, "", D),
    B(DOC("{'Effect':'Deny','NotPrincipal':{'AWS':'arn:aws:iam::" ACCT
          ":root'},'Action':'s3:*','Resource':'*'}"),
      GET, OBJ, ALICE, "", N),
    B(DOC(BSTMT("Allow", "'*'", "'s3:ListBucket'", "'arn:aws:s3:::b'")), LIST, BKT, NULL, "", A),
    B(DOC(BSTMT("Allow", "'*'", "'s3:ListBucket'", "'arn:aws:s3:::b'")), LIST, "arn:aws:s3:::b2",
      NULL, "", N),
    B(DOC(BSTMT("Allow", "'*'", "'s3:PutObject'", "'arn:aws:s3:::b/drop/*'")), PUT,
      "arn:aws:s3:::b/drop/f", NULL, "", A),
    B(DOC(BSTMT("Allow", "'*'", "'s3:PutObject'", "'arn:aws:s3:::b/drop/*'")), GET,
      "arn:aws:s3:::b/drop/f", NULL, "", N),
    /* String operators */
    C("{'StringEquals':{'s3:prefix':'home/'}}", "s3:prefix=home/", A),
    C("{'StringEquals':{'s3:prefix':'home/'}}", "s3:prefix=Home/", N),
    C("{'StringEquals':{'s3:prefix':'home/'}}", "", N),
    C("{'StringEquals':{'s3:prefix':['a','b']}}", "s3:prefix=b", A),
    C("{'StringEquals':{'s3:prefix':['a','b']}}", "s3:prefix=c", N),
    C("{'StringEquals':{'s3:prefix':'a*'}}", "s3:prefix=abc", N), /* no wildcards */
    C("{'StringEquals':{'s3:prefix':'a*'}}", "s3:prefix=a*", A),
    C("{'StringEquals':{'S3:PREFIX':'a'}}", "s3:prefix=a", A), /* key names: any case */
    C("{'StringEquals':{'s3:max-keys':10}}", "s3:max-keys=10", A),
    C("{'StringEquals':{'aws:SecureTransport':true}}", "aws:SecureTransport=true", A),
    C("{'StringNotEquals':{'s3:x-amz-acl':'public-read'}}", "s3:x-amz-acl=private", A),
    C("{'StringNotEquals':{'s3:x-amz-acl':'public-read'}}", "s3:x-amz-acl=public-read", N),
    C("{'StringNotEquals':{'s3:x-amz-acl':'public-read'}}", "", A),           /* absent: true */
    C("{'StringNotEquals':{'s3:x-amz-acl':['a','b']}}", "s3:x-amz-acl=b", N), /* none of */
    C("{'StringNotEquals':{'s3:x-amz-acl':['a','b']}}", "s3:x-amz-acl=c", A),
    C("{'StringEqualsIgnoreCase':{'aws:UserAgent':'Curl'}}", "aws:UserAgent=cURL", A),
    C("{'StringEqualsIgnoreCase':{'aws:UserAgent':'Curl'}}", "aws:UserAgent=wget", N),
    C("{'StringEqualsIgnoreCase':{'aws:UserAgent':'Curl'}}", "", N),
    C("{'StringNotEqualsIgnoreCase':{'aws:UserAgent':'Curl'}}", "aws:UserAgent=CURL", N),
    C("{'StringNotEqualsIgnoreCase':{'aws:UserAgent':'Curl'}}", "aws:UserAgent=wget", A),
    C("{'StringNotEqualsIgnoreCase':{'aws:UserAgent':'Curl'}}", "", A),
    C("{'StringLike':{'s3:prefix':'home/*'}}", "s3:prefix=home/alice/", A),
    C("{'StringLike':{'s3:prefix':'home/*'}}", "s3:prefix=work/", N),
    C("{'StringLike':{'s3:prefix':'home/*'}}", "", N),
    C("{'StringLike':{'s3:prefix':['','home/*']}}", "s3:prefix=", A),
    C("{'StringLike':{'aws:Referer':'https://?.example.com/*'}}",
      "aws:Referer=https://a.example.com/p", A),
    C("{'StringLike':{'aws:Referer':'https://?.example.com/*'}}",
      "aws:Referer=https://ab.example.com/p", N),
    C("{'StringLike':{'s3:prefix':'HOME/*'}}", "s3:prefix=home/x", N), /* case-sensitive */
    C("{'StringNotLike':{'s3:prefix':'tmp/*'}}", "s3:prefix=tmp/x", N),
    C("{'StringNotLike':{'s3:prefix':'tmp/*'}}", "s3:prefix=home/x", A),
    C("{'StringNotLike':{'s3:prefix':'tmp/*'}}", "", A),
    C("{'StringNotLike':{'s3:prefix':['tmp/*','cache/*']}}", "s3:prefix=cache/1", N),
    /* Numeric */
    C("{'NumericEquals':{'s3:max-keys':'10'}}", "s3:max-keys=10", A),
    C("{'NumericEquals':{'s3:max-keys':'10'}}", "s3:max-keys=10.0", A),
    C("{'NumericEquals':{'s3:max-keys':10}}", "s3:max-keys=11", N),
    C("{'NumericEquals':{'s3:max-keys':'10'}}", "s3:max-keys=ten", N),
    C("{'NumericEquals':{'s3:max-keys':'10'}}", "", N),
    C("{'NumericNotEquals':{'s3:max-keys':'10'}}", "s3:max-keys=11", A),
    C("{'NumericNotEquals':{'s3:max-keys':'10'}}", "s3:max-keys=10", N),
    C("{'NumericNotEquals':{'s3:max-keys':'10'}}", "", A),
    C("{'NumericLessThan':{'s3:max-keys':'10'}}", "s3:max-keys=9", A),
    C("{'NumericLessThan':{'s3:max-keys':'10'}}", "s3:max-keys=10", N),
    C("{'NumericLessThan':{'s3:max-keys':'10'}}", "s3:max-keys=-5", A),
    C("{'NumericLessThanEquals':{'s3:max-keys':'10'}}", "s3:max-keys=10", A),
    C("{'NumericLessThanEquals':{'s3:max-keys':'10'}}", "s3:max-keys=10.5", N),
    C("{'NumericGreaterThan':{'s3:max-keys':'10'}}", "s3:max-keys=10.01", A),
    C("{'NumericGreaterThan':{'s3:max-keys':'10'}}", "s3:max-keys=10", N),
    C("{'NumericGreaterThanEquals':{'s3:max-keys':'10'}}", "s3:max-keys=10", A),
    C("{'NumericGreaterThanEquals':{'s3:max-keys':'10'}}", "s3:max-keys=9.99", N),
    C("{'NumericLessThan':{'s3:max-keys':2.5}}", "s3:max-keys=2.49", A),
    C("{'NumericLessThan':{'s3:max-keys':'2.5'}}", "s3:max-keys=2.5", N),
    C("{'NumericGreaterThan':{'s3:max-keys':'-1.5'}}", "s3:max-keys=-1", A),
    C("{'NumericEquals':{'s3:max-keys':['1','2','3']}}", "s3:max-keys=3", A),
    C("{'NumericLessThanIfExists':{'s3:max-keys':'10'}}", "", A),
    C("{'NumericLessThanIfExists':{'s3:max-keys':'10'}}", "s3:max-keys=20", N),
    /* Date */
    C("{'DateLessThan':{'aws:CurrentTime':'2026-01-02T03:04:05Z'}}",
      "aws:CurrentTime=2026-01-02T03:04:04Z", A),
    C("{'DateLessThan':{'aws:CurrentTime':'2026-01-02T03:04:05Z'}}",
      "aws:CurrentTime=2026-01-02T03:04:05Z", N),
    C("{'DateLessThan':{'aws:CurrentTime':'2026-01-02T03:04:05Z'}}",
      "aws:CurrentTime=2026-01-02T03:04:04.999Z", A),
    C("{'DateLessThan':{'aws:CurrentTime':'2026-01-02T03:04:05.5Z'}}",
      "aws:CurrentTime=2026-01-02T03:04:05.4Z", A),
    C("{'DateLessThan':{'aws:CurrentTime':'2026-01-02'}}", "aws:CurrentTime=2026-01-01T23:59:59Z",
      A),
    C("{'DateLessThan':{'aws:CurrentTime':'2026-01-02'}}", "aws:CurrentTime=2026-01-02T00:00:00Z",
      N),
    C("{'DateLessThan':{'aws:CurrentTime':'2026-01-02T03:04:05Z'}}", "aws:CurrentTime=1767323044",
      A), /* 2026-01-02T03:04:04Z */
    C("{'DateLessThan':{'aws:EpochTime':1767323045}}", "aws:EpochTime=1767323045", N),
    C("{'DateLessThanEquals':{'aws:EpochTime':1767323045}}", "aws:EpochTime=1767323045", A),
    C("{'DateLessThanEquals':{'aws:EpochTime':'1767323045'}}", "aws:EpochTime=2026-01-02T03:04:05Z",
      A),
    C("{'DateEquals':{'aws:CurrentTime':'2026-01-02T03:04:05Z'}}", "aws:CurrentTime=1767323045", A),
    C("{'DateEquals':{'aws:CurrentTime':'2026-01-02T04:04:05+01:00'}}",
      "aws:CurrentTime=2026-01-02T03:04:05Z", A),
    C("{'DateEquals':{'aws:CurrentTime':'2026-01-02T03:04:05Z'}}",
      "aws:CurrentTime=2026-01-02T03:04:06Z", N),
    C("{'DateNotEquals':{'aws:CurrentTime':'2026-01-02T03:04:05Z'}}",
      "aws:CurrentTime=2026-01-02T03:04:06Z", A),
    C("{'DateNotEquals':{'aws:CurrentTime':'2026-01-02T03:04:05Z'}}", "", A),
    C("{'DateGreaterThan':{'aws:CurrentTime':'2024-02-29T00:00:00Z'}}",
      "aws:CurrentTime=2024-03-01T00:00:00Z", A),
    C("{'DateGreaterThan':{'aws:CurrentTime':'2024-02-29T00:00:00Z'}}",
      "aws:CurrentTime=2024-02-28T23:59:59Z", N),
    C("{'DateGreaterThan':{'aws:CurrentTime':'2024-02-29T00:00:00Z'}}", "aws:CurrentTime=junk", N),
    C("{'DateGreaterThan':{'aws:CurrentTime':'2024-02-29T00:00:00Z'}}", "", N),
    C("{'DateGreaterThanEquals':{'aws:CurrentTime':'1999-12-31T23:59:59Z'}}",
      "aws:CurrentTime=2000-01-01T00:00:00Z", A),
    C("{'DateGreaterThanEquals':{'aws:CurrentTime':'2000-01-01T00:00:00Z'}}",
      "aws:CurrentTime=946684800", A),
    C("{'DateGreaterThanIfExists':{'aws:CurrentTime':'2000-01-01'}}", "", A),
    /* Bool */
    C("{'Bool':{'aws:SecureTransport':'true'}}", "aws:SecureTransport=true", A),
    C("{'Bool':{'aws:SecureTransport':'true'}}", "aws:SecureTransport=TRUE", A),
    C("{'Bool':{'aws:SecureTransport':true}}", "aws:SecureTransport=false", N),
    C("{'Bool':{'aws:SecureTransport':'false'}}", "aws:SecureTransport=false", A),
    C("{'Bool':{'aws:SecureTransport':'false'}}", "", N),
    C("{'Bool':{'aws:SecureTransport':'false'}}", "aws:SecureTransport=maybe", N),
    C("{'BoolIfExists':{'aws:SecureTransport':'false'}}", "", A),
    /* IpAddress */
    C("{'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", "aws:SourceIp=10.1.2.3", A),
    C("{'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", "aws:SourceIp=11.1.2.3", N),
    C("{'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", "", N),
    C("{'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", "aws:SourceIp=not-an-ip", N),
    C("{'IpAddress':{'aws:SourceIp':'192.168.1.7'}}", "aws:SourceIp=192.168.1.7", A),
    C("{'IpAddress':{'aws:SourceIp':'192.168.1.7'}}", "aws:SourceIp=192.168.1.8", N),
    C("{'IpAddress':{'aws:SourceIp':'192.168.1.7/31'}}", "aws:SourceIp=192.168.1.6", A),
    C("{'IpAddress':{'aws:SourceIp':'192.168.1.0/25'}}", "aws:SourceIp=192.168.1.128", N),
    C("{'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}", "aws:SourceIp=8.8.8.8", A),
    C("{'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}", "aws:SourceIp=2001:db8::1", N),
    C("{'IpAddress':{'aws:SourceIp':['10.0.0.0/8','172.16.0.0/12']}}", "aws:SourceIp=172.20.0.1",
      A),
    C("{'IpAddress':{'aws:SourceIp':'2001:db8::/32'}}", "aws:SourceIp=2001:db8:1::5", A),
    C("{'IpAddress':{'aws:SourceIp':'2001:db8::/32'}}", "aws:SourceIp=2001:db9::5", N),
    C("{'IpAddress':{'aws:SourceIp':'2001:db8::/32'}}", "aws:SourceIp=10.0.0.1", N),
    C("{'IpAddress':{'aws:SourceIp':'::1'}}", "aws:SourceIp=0:0:0:0:0:0:0:1", A),
    C("{'IpAddress':{'aws:SourceIp':'fe80::/10'}}", "aws:SourceIp=febf::1", A),
    C("{'IpAddress':{'aws:SourceIp':'fe80::/10'}}", "aws:SourceIp=fec0::1", N),
    C("{'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", "aws:SourceIp=::ffff:10.9.9.9", A),
    C("{'IpAddress':{'aws:SourceIp':'::/0'}}", "aws:SourceIp=10.9.9.9", A),
    C("{'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", "aws:SourceIp=11.0.0.1", A),
    C("{'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", "aws:SourceIp=10.0.0.1", N),
    C("{'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", "", A),
    C("{'NotIpAddress':{'aws:SourceIp':['10.0.0.0/8','2001:db8::/32']}}",
      "aws:SourceIp=2001:db8::9", N),
    /* Null */
    C("{'Null':{'s3:x-amz-server-side-encryption':'true'}}", "", A),
    C("{'Null':{'s3:x-amz-server-side-encryption':'true'}}",
      "s3:x-amz-server-side-encryption=AES256", N),
    C("{'Null':{'s3:x-amz-server-side-encryption':'false'}}",
      "s3:x-amz-server-side-encryption=AES256", A),
    C("{'Null':{'s3:x-amz-server-side-encryption':false}}", "", N),
    /* Arn */
    C("{'ArnEquals':{'aws:SourceArn':'arn:aws:s3:::b'}}", "aws:SourceArn=arn:aws:s3:::b", A),
    C("{'ArnEquals':{'aws:SourceArn':'arn:aws:s3:::b'}}", "aws:SourceArn=arn:aws:s3:::c", N),
    C("{'ArnEquals':{'aws:SourceArn':'arn:aws:s3:::b'}}", "", N),
    C("{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::*:user/a*'}}", "aws:PrincipalArn=" ALICE, A),
    C("{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::*:user/a*'}}", "aws:PrincipalArn=" BOB, N),
    C("{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::*:user/*'}}",
      "aws:PrincipalArn=arn:aws:iam::1:2:user/x", N), /* '*' stays in its field */
    C("{'ArnLike':{'aws:SourceArn':'arn:aws:s3:::b/*'}}", "aws:SourceArn=arn:aws:s3:::b/a:b:c", A),
    C("{'ArnLike':{'aws:SourceArn':'arn:aws:s3:::*'}}", "aws:SourceArn=not-an-arn", N),
    C("{'ArnLike':{'aws:SourceArn':'*'}}", "aws:SourceArn=arn:aws:s3:::x", A),
    C("{'ArnLike':{'aws:SourceArn':'arn:aws:S3:::*'}}", "aws:SourceArn=arn:aws:s3:::x", N),
    C("{'ArnEquals':{'aws:SourceArn':'arn:aws:s3:::b?'}}", "aws:SourceArn=arn:aws:s3:::bc", A),
    C("{'ArnNotEquals':{'aws:SourceArn':'arn:aws:s3:::b'}}", "aws:SourceArn=arn:aws:s3:::b", N),
    C("{'ArnNotEquals':{'aws:SourceArn':'arn:aws:s3:::b'}}", "aws:SourceArn=arn:aws:s3:::c", A),
    C("{'ArnNotLike':{'aws:SourceArn':'arn:aws:s3:::tmp*'}}", "aws:SourceArn=arn:aws:s3:::tmp1", N),
    C("{'ArnNotLike':{'aws:SourceArn':'arn:aws:s3:::tmp*'}}", "", A),
    /* IfExists */
    C("{'StringEqualsIfExists':{'s3:x-amz-acl':'private'}}", "", A),
    C("{'StringEqualsIfExists':{'s3:x-amz-acl':'private'}}", "s3:x-amz-acl=private", A),
    C("{'StringEqualsIfExists':{'s3:x-amz-acl':'private'}}", "s3:x-amz-acl=public-read", N),
    C("{'StringNotEqualsIfExists':{'s3:x-amz-acl':'public-read'}}", "", A),
    C("{'StringNotEqualsIfExists':{'s3:x-amz-acl':'public-read'}}", "s3:x-amz-acl=public-read", N),
    C("{'StringLikeIfExists':{'aws:Referer':'https://x/*'}}", "aws:Referer=https://y/", N),
    C("{'IpAddressIfExists':{'aws:SourceIp':'10.0.0.0/8'}}", "", A),
    C("{'IpAddressIfExists':{'aws:SourceIp':'10.0.0.0/8'}}", "aws:SourceIp=12.0.0.1", N),
    C("{'ArnLikeIfExists':{'aws:SourceArn':'arn:aws:s3:::b'}}", "", A),
    C("{'DateLessThanIfExists':{'aws:CurrentTime':'2000-01-01'}}", "aws:CurrentTime=2026-01-01", N),
    /* ForAnyValue, ForAllValues over multi-valued keys */
    C("{'ForAnyValue:StringEquals':{'aws:TagKeys':['env','team']}}",
      "aws:TagKeys=a|aws:TagKeys=team", A),
    C("{'ForAnyValue:StringEquals':{'aws:TagKeys':['env','team']}}", "aws:TagKeys=a|aws:TagKeys=b",
      N),
    C("{'ForAnyValue:StringEquals':{'aws:TagKeys':['env','team']}}", "", N),
    C("{'ForAnyValue:StringEqualsIfExists':{'aws:TagKeys':'env'}}", "", A),
    C("{'ForAllValues:StringEquals':{'aws:TagKeys':['env','team']}}",
      "aws:TagKeys=env|aws:TagKeys=team", A),
    C("{'ForAllValues:StringEquals':{'aws:TagKeys':['env','team']}}",
      "aws:TagKeys=env|aws:TagKeys=other", N),
    C("{'ForAllValues:StringEquals':{'aws:TagKeys':['env','team']}}", "", A), /* empty set */
    C("{'ForAllValues:StringLike':{'aws:TagKeys':'Created*'}}",
      "aws:TagKeys=CreatedBy|aws:TagKeys=CreatedAt", A),
    C("{'ForAllValues:StringLike':{'aws:TagKeys':'Created*'}}",
      "aws:TagKeys=CreatedBy|aws:TagKeys=Owner", N),
    C("{'ForAnyValue:StringNotEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys=env|aws:TagKeys=x", A),
    C("{'ForAnyValue:StringNotEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys=env", N),
    C("{'ForAnyValue:StringNotEquals':{'aws:TagKeys':'env'}}", "", N),
    C("{'ForAllValues:StringNotEquals':{'aws:TagKeys':['a','b']}}", "aws:TagKeys=c|aws:TagKeys=d",
      A),
    C("{'ForAllValues:StringNotEquals':{'aws:TagKeys':['a','b']}}", "aws:TagKeys=c|aws:TagKeys=b",
      N),
    C("{'ForAllValues:StringNotEquals':{'aws:TagKeys':['a','b']}}", "", A),
    C("{'ForAnyValue:IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}",
      "aws:SourceIp=1.1.1.1|aws:SourceIp=10.0.0.1", A),
    C("{'ForAllValues:NumericLessThan':{'s3:max-keys':'5'}}", "s3:max-keys=1|s3:max-keys=4", A),
    C("{'ForAllValues:NumericLessThan':{'s3:max-keys':'5'}}", "s3:max-keys=1|s3:max-keys=5", N),
    /* a multi-valued key with a plain operator: any value */
    C("{'StringEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys=x|aws:TagKeys=env", A),
    C("{'StringNotEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys=x|aws:TagKeys=env", N),
    /* several keys and several operators: AND */
    C("{'StringEquals':{'s3:prefix':'a','s3:delimiter':'/'}}", "s3:prefix=a|s3:delimiter=/", A),
    C("{'StringEquals':{'s3:prefix':'a','s3:delimiter':'/'}}", "s3:prefix=a", N),
    C("{'StringEquals':{'s3:prefix':'a'},'Bool':{'aws:SecureTransport':'true'}}",
      "s3:prefix=a|aws:SecureTransport=true", A),
    C("{'StringEquals':{'s3:prefix':'a'},'Bool':{'aws:SecureTransport':'true'}}",
      "s3:prefix=a|aws:SecureTransport=false", N),
    C("{'StringEquals':{'s3:prefix':'a'},'IpAddress':{'aws:SourceIp':'10.0.0.0/8'},'DateLessThan':"
      "{'aws:CurrentTime':'2030-01-01'}}",
      "s3:prefix=a|aws:SourceIp=10.0.0.1|aws:CurrentTime=2029-12-31T23:59:59Z", A),
    C("{'StringEquals':{'s3:prefix':'a'},'IpAddress':{'aws:SourceIp':'10.0.0.0/8'},'DateLessThan':"
      "{'aws:CurrentTime':'2030-01-01'}}",
      "s3:prefix=a|aws:SourceIp=10.0.0.1|aws:CurrentTime=2030-01-01T00:00:00Z", N),
    /* deny unless TLS */
    I(DOC(ALLOW("'s3:*'", "'*'") ",{'Effect':'Deny','Action':'s3:*','Resource':'*','Condition':{"
                                 "'Bool':{'aws:SecureTransport':'false'}}}"),
      GET, OBJ, "aws:SecureTransport=false", D),
    I(DOC(ALLOW("'s3:*'", "'*'") ",{'Effect':'Deny','Action':'s3:*','Resource':'*','Condition':{"
                                 "'Bool':{'aws:SecureTransport':'false'}}}"),
      GET, OBJ, "aws:SecureTransport=true", A),
    /* policy variables */
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::home/${aws:username}/*'")), GET,
      "arn:aws:s3:::home/alice/f", "aws:username=alice", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::home/${aws:username}/*'")), GET, "arn:aws:s3:::home/bob/f",
      "aws:username=alice", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::home/${aws:username}/*'")), GET, "arn:aws:s3:::home//f",
      "", N), /* absent: matches nothing */
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::home/${aws:username}/*'")), GET, "arn:aws:s3:::home/a*/f",
      "aws:username=a*", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::home/${aws:username}/*'")), GET, "arn:aws:s3:::home/ab/f",
      "aws:username=a*", N), /* a value is no wildcard */
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::home/${AWS:USERNAME}'")), GET, "arn:aws:s3:::home/alice",
      "aws:username=alice", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::${aws:userid}-${s3:prefix}'")), GET, "arn:aws:s3:::AID-p",
      "aws:userid=AID|s3:prefix=p", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::${aws:userid}-${s3:prefix}'")), GET, "arn:aws:s3:::AID-p",
      "aws:userid=AID", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/${*}'")), GET, "arn:aws:s3:::b/*", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/${*}'")), GET, "arn:aws:s3:::b/x", "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/${?}'")), GET, "arn:aws:s3:::b/?", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/${?}'")), GET, "arn:aws:s3:::b/x", "", N),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/${$}x'")), GET, "arn:aws:s3:::b/$x", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/$x{y}'")), GET, "arn:aws:s3:::b/$x{y}", "", A),
    I(DOC(ALLOW("'s3:*'", "'arn:aws:s3:::b/${unclosed'")), GET, "arn:aws:s3:::b/${unclosed", "", A),
    I("{'Version':'2008-10-17','Statement':[" ALLOW("'s3:*'",
                                                    "'arn:aws:s3:::h/${aws:username}'") "]}",
      GET, "arn:aws:s3:::h/${aws:username}", "aws:username=alice", A), /* 2008: literal */
    I("{'Statement':[" ALLOW("'s3:*'", "'arn:aws:s3:::h/${aws:username}'") "]}", GET,
      "arn:aws:s3:::h/alice", "aws:username=alice", N),
    C("{'StringLike':{'s3:prefix':'home/${aws:username}/*'}}",
      "s3:prefix=home/alice/x|aws:username=alice", A),
    C("{'StringLike':{'s3:prefix':'home/${aws:username}/*'}}",
      "s3:prefix=home/bob/x|aws:username=alice", N),
    C("{'StringLike':{'s3:prefix':'home/${aws:username}/*'}}", "s3:prefix=home/alice/x", N),
    C("{'StringEquals':{'s3:prefix':'${aws:username}'}}", "s3:prefix=alice|aws:username=alice", A),
    C("{'StringEquals':{'s3:prefix':['${aws:username}','']}}", "s3:prefix=|aws:username=alice", A),
    C("{'StringNotEquals':{'s3:prefix':'${aws:username}'}}", "s3:prefix=alice|aws:username=alice",
      N),
    C("{'StringNotEquals':{'s3:prefix':'${aws:username}'}}", "s3:prefix=alice", A),
    C("{'StringEqualsIgnoreCase':{'s3:prefix':'${aws:username}'}}",
      "s3:prefix=ALICE|aws:username=alice", A),
    C("{'StringEquals':{'s3:prefix':'${*}'}}", "s3:prefix=*", A),
    C("{'StringLike':{'s3:prefix':'${*}*'}}", "s3:prefix=*abc", A),
    C("{'StringLike':{'s3:prefix':'${*}*'}}", "s3:prefix=abc", N),
    C("{'ArnLike':{'aws:SourceArn':'arn:aws:s3:::${aws:username}-*'}}",
      "aws:SourceArn=arn:aws:s3:::alice-1|aws:username=alice", A),
    C("{'ArnEquals':{'aws:PrincipalArn':'arn:aws:iam::" ACCT ":user/${aws:username}'}}",
      "aws:PrincipalArn=" BOB "|aws:username=alice", N),
    /* conditions only asked when the rest matched; a Deny's condition */
    I(DOC("{'Effect':'Deny','Action':'s3:PutObject','Resource':'*','Condition':{'StringNotEquals':"
          "{'s3:x-amz-server-side-encryption':'AES256'}}}," ALLOW("'s3:*'", "'*'")),
      PUT, OBJ, "", D),
    I(DOC("{'Effect':'Deny','Action':'s3:PutObject','Resource':'*','Condition':{'StringNotEquals':"
          "{'s3:x-amz-server-side-encryption':'AES256'}}}," ALLOW("'s3:*'", "'*'")),
      PUT, OBJ, "s3:x-amz-server-side-encryption=AES256", A),
    I(DOC("{'Effect':'Deny','Action':'s3:PutObject','Resource':'*','Condition':{'StringNotEquals':"
          "{'s3:x-amz-server-side-encryption':'AES256'}}}," ALLOW("'s3:*'", "'*'")),
      GET, OBJ, "", A),
    B(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::b/"
          "*','Condition':{'IpAddress':{'aws:SourceIp':'192.0.2.0/24'}}}"),
      GET, OBJ, NULL, "aws:SourceIp=192.0.2.9", A),
    B(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::b/"
          "*','Condition':{'IpAddress':{'aws:SourceIp':'192.0.2.0/24'}}}"),
      GET, OBJ, NULL, "aws:SourceIp=198.51.100.1", N),
    B(DOC("{'Effect':'Allow','Principal':{'AWS':'*'},'Action':'s3:ListBucket','Resource':'arn:aws:"
          "s3:::b','Condition':{'StringLike':{'s3:prefix':['public/*','']}}}"),
      LIST, BKT, NULL, "s3:prefix=public/x", A),
    B(DOC("{'Effect':'Allow','Principal':{'AWS':'*'},'Action':'s3:ListBucket','Resource':'arn:aws:"
          "s3:::b','Condition':{'StringLike':{'s3:prefix':['public/*','']}}}"),
      LIST, BKT, NULL, "s3:prefix=private/", N),
};

static char *
quote(const char *s)
{
    char *d = xstrdup(s);
    char *p;

    for (p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    return d;
}

/* "k=v|k=v" into kv (pointers into `store`). */
static size_t
parse_kv(const char *spec, char *store, size_t storesz, struct iam_cond_kv *kv, size_t max)
{
    size_t n = 0;
    char *p, *next, *eq;

    snprintf(store, storesz, "%s", spec);
    for (p = store; *p && n < max; p = next) {
        next = strchr(p, '|');
        if (next)
            *next++ = '\0';
        else
            next = p + strlen(p);
        eq = strchr(p, '=');
        BUG_ON(!eq);
        *eq = '\0';
        kv[n].key = p;
        kv[n].value = eq + 1;
        n++;
    }
    return n;
}

static const char *
user_name(const char *arn)
{
    const char *u = arn ? strstr(arn, ":user/") : NULL;

    return u ? u + 6 : NULL;
}

TEST(iam_policy_eval_table)
{
    size_t i, failed = 0;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct pcase *c = &cases[i];
        char store[512];
        struct iam_cond_kv kv[16];
        struct iam_cond_table t;
        struct iam_request r = { 0 };
        struct iam_policy *p = NULL;
        struct buf msg = BUF_INIT;
        char *doc = quote(c->doc);
        int rc, got;

        t.kv = kv;
        t.n = parse_kv(c->kv, store, sizeof(store), kv, ARRAY_SIZE(kv));
        rc = iam_policy_parse(slice_cstr(doc), c->bucket ? IAM_POLICY_BUCKET : IAM_POLICY_IDENTITY,
                              &p, &msg);
        if (rc < 0) {
            fprintf(stderr, "line %d: parse: %s\n", c->line, msg.ptr);
            failed++;
            goto next;
        }
        r.action = c->action;
        r.resource = c->resource;
        r.principal = c->principal;
        r.principal_name = user_name(c->principal);
        r.account = c->principal ? ACCT : NULL;
        if (c->principal && strstr(c->principal, "210987654321"))
            r.account = "210987654321";
        r.cond = iam_cond_table;
        r.cond_arg = &t;
        got = (int)iam_policy_eval(p, &r);
        if (got != c->want) {
            fprintf(stderr, "line %d: got %d, want %d\n", c->line, got, c->want);
            failed++;
        }
        iam_policy_free(p);
    next:
        buf_release(&msg);
        free(doc);
    }
    fprintf(stderr, "iam_policy_eval_table: %zu cases\n", ARRAY_SIZE(cases));
    ASSERT_EQ(failed, 0);
}

/* Malformed documents: the error and a fragment of the message (where). */
static const struct {
    int line;
    bool bucket;
    const char *doc;
    int rc;
    const char *where;
} bad[] = {
#define BAD(doc, where)                                                                            \
    {                                                                                              \
        __LINE__, false, doc, -ERR_MALFORMED_POLICY, where                                         \
    }
#define BADB(doc, where)                                                                           \
    {                                                                                              \
        __LINE__, true, doc, -ERR_MALFORMED_POLICY, where                                          \
    }
    BAD("", "line 1"),
    BAD("{", "line 1, column 1"),
    BAD("{'Version':'2012-10-17',\n'Statement':[\n{'Effect':'Allow',}]}", "line 3, column 19"),
    BAD("{'Version':'2012-10-17','Version':'2012-10-17','Statement':[]}", "duplicate"),
    BAD("[]", "not a JSON object"),
    BAD("'x'", "line 1"),
    BAD("{'Version':'2012-10-17'}", "Statement: missing"),
    BAD("{'Version':'2012-10-17','Statement':[]}", "Statement: empty list"),
    BAD("{'Version':'2012-10-17','Statement':'x'}", "Statement: must be"),
    BAD("{'Version':'2019-01-01','Statement':[]}", "Version: must be"),
    BAD("{'Version':20121017,'Statement':[]}", "Version: must be"),
    BAD("{'Id':5,'Statement':[" ALLOW("'s3:*'", "'*'") "]}", "Id: must be a string"),
    BAD("{'Statement':[" ALLOW("'s3:*'", "'*'") "],'Extra':1}", "unknown field \"Extra\""),
    BAD(DOC("5"), "Statement[0]: not an object"),
    BAD(DOC(ALLOW("'s3:*'", "'*'") ",{'Effect':'Allow','Action':'s3:*','Resource':'*','Foo':1}"),
        "Statement[1]: unknown field \"Foo\""),
    BAD(DOC("{'Action':'s3:*','Resource':'*'}"), "Statement[0].Effect: missing"),
    BAD(DOC("{'Effect':'allow','Action':'s3:*','Resource':'*'}"), "Statement[0].Effect: must be"),
    BAD(DOC("{'Effect':true,'Action':'s3:*','Resource':'*'}"), "Statement[0].Effect"),
    BAD(DOC("{'Effect':'Allow','Resource':'*'}"), "Statement[0].Action: missing"),
    BAD(DOC("{'Effect':'Allow','Action':'s3:*','NotAction':'s3:Get*','Resource':'*'}"),
        "Statement[0].Action: both"),
    BAD(DOC(ALLOW("'s3:GetObjekt'", "'*'")),
        "Statement[0].Action: unknown action \"s3:GetObjekt\""),
    BAD(DOC(ALLOW("['s3:GetObject','ec2:RunInstances']", "'*'")),
        "Statement[0].Action: unknown action \"ec2:RunInstances\""),
    BAD(DOC(ALLOW("'s3:Frob*'", "'*'")), "unknown action \"s3:Frob*\""),
    BAD(DOC(ALLOW("'GetObject'", "'*'")), "unknown action \"GetObject\""),
    BAD(DOC(ALLOW("''", "'*'")), "Statement[0].Action: unknown action \"\""),
    BAD(DOC(ALLOW("[]", "'*'")), "Statement[0].Action: empty list"),
    BAD(DOC(ALLOW("5", "'*'")), "Statement[0].Action: must be a string"),
    BAD(DOC(ALLOW("['s3:GetObject',5]", "'*'")), "Statement[0].Action: element 1"),
    BAD(DOC("{'Effect':'Deny','NotAction':'s3:Nope','Resource':'*'}"),
        "Statement[0].NotAction: unknown action"),
    BAD(DOC("{'Effect':'Allow','Action':'s3:GetObject'}"), "Statement[0].Resource: missing"),
    BAD(DOC("{'Effect':'Allow','Action':'iam:CreateUser'}"), "Statement[0].Resource: missing"),
    BAD(DOC("{'Effect':'Allow','NotAction':'admin:*'}"), "Statement[0].Resource: missing"),
    BAD(DOC("{'Effect':'Allow','Action':['admin:*','s3:GetObject']}"),
        "Statement[0].Resource: missing"),
    BAD(DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','NotResource':'*'}"),
        "Statement[0].Resource: both"),
    BAD(DOC(ALLOW("'s3:*'", "'bucket/*'")), "Statement[0].Resource: \"bucket/*\" is neither"),
    BAD(DOC(ALLOW("'s3:*'", "{}")), "Statement[0].Resource: must be"),
    BAD(DOC(ALLOW("'s3:*'", "[]")), "Statement[0].Resource: empty list"),
    BAD(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*'}"),
        "Statement[0].Principal: not allowed in an identity policy"),
    BAD(DOC("{'Effect':'Allow','NotPrincipal':{'AWS':'x'},'Action':'s3:*','Resource':'*'}"),
        "Statement[0].NotPrincipal: not allowed"),
    BADB(DOC(ALLOW("'s3:*'", "'*'")), "Statement[0].Principal: missing"),
    BADB(DOC(BSTMT("Allow", "'alice'", "'s3:*'", "'*'")), "Statement[0].Principal: a string"),
    BADB(DOC(BSTMT("Allow", "{'Service':'s3.amazonaws.com'}", "'s3:*'", "'*'")),
         "Statement[0].Principal: unsupported principal type \"Service\""),
    BADB(DOC(BSTMT("Allow", "{}", "'s3:*'", "'*'")), "Statement[0].Principal: empty object"),
    BADB(DOC(BSTMT("Allow", "{'AWS':''}", "'s3:*'", "'*'")), "Statement[0].Principal: empty"),
    BADB(DOC(BSTMT("Allow", "{'AWS':'arn:aws:iam::*:user/x'}", "'s3:*'", "'*'")),
         "Statement[0].Principal: \"arn:aws:iam::*:user/x\": a principal takes no wildcard"),
    BADB(DOC(BSTMT("Allow", "{'AWS':'arn:aws:iam:x'}", "'s3:*'", "'*'")), "is not an ARN"),
    BADB(DOC(BSTMT("Allow", "5", "'s3:*'", "'*'")), "Statement[0].Principal: must be"),
    BADB(DOC("{'Effect':'Allow','Principal':'*','NotPrincipal':'*','Action':'s3:*','Resource':'"
             "*'}"),
         "Statement[0].Principal: both"),
    BAD(DOC("{'Effect':'Allow','Sid':5,'Action':'s3:*','Resource':'*'}"),
        "Statement[0].Sid: must be a string"),
    BAD(CND("[]"), "Statement[0].Condition: must be an object"),
    BAD(CND("{'StringEquals':'x'}"), "Statement[0].Condition: StringEquals must be a non-empty"),
    BAD(CND("{'StringEquals':{}}"), "Statement[0].Condition: StringEquals must be a non-empty"),
    BAD(CND("{'StringEqual':{'a':'b'}}"),
        "Statement[0].Condition: unknown operator \"StringEqual\""),
    BAD(CND("{'ForSomeValues:StringEquals':{'a':'b'}}"), "unknown operator"),
    BAD(CND("{'NullIfExists':{'a':'true'}}"), "unknown operator \"NullIfExists\""),
    BAD(CND("{'ForAllValues:Null':{'a':'true'}}"), "unknown operator"),
    BAD(CND("{'BinaryEquals':{'a':'QmluYXJ5'}}"), "unknown operator \"BinaryEquals\""),
    BAD(CND("{'StringEquals':{'':'b'}}"), "StringEquals: empty key"),
    BAD(CND("{'StringEquals':{'a':[]}}"), "StringEquals \"a\": empty list"),
    BAD(CND("{'StringEquals':{'a':null}}"), "Statement[0].Condition: StringEquals \"a\": values"),
    BAD(CND("{'StringEquals':{'a':{'b':'c'}}}"), "values must be strings"),
    BAD(CND("{'StringEquals':{'a':['x',['y']]}}"), "values must be strings"),
    BAD(CND("{'NumericLessThan':{'s3:max-keys':'abc'}}"),
        "Statement[0].Condition: NumericLessThan value \"abc\" is not a number"),
    BAD(CND("{'NumericEquals':{'s3:max-keys':'1e5'}}"), "value \"1e5\" is not a number"),
    BAD(CND("{'NumericEquals':{'s3:max-keys':true}}"), "is not a number"),
    BAD(CND("{'NumericEquals':{'s3:max-keys':''}}"), "is not a number"),
    BAD(CND("{'DateLessThan':{'aws:CurrentTime':'yesterday'}}"),
        "DateLessThan value \"yesterday\" is not a date"),
    BAD(CND("{'DateLessThan':{'aws:CurrentTime':'2026-02-30'}}"), "is not a date"),
    BAD(CND("{'DateLessThan':{'aws:CurrentTime':'2026-01-02T25:00:00Z'}}"), "is not a date"),
    BAD(CND("{'DateLessThan':{'aws:CurrentTime':'2026-01-02T03:04:05X'}}"), "is not a date"),
    BAD(CND("{'DateLessThan':{'aws:CurrentTime':1.5}}"), "is not a date"),
    BAD(CND("{'Bool':{'aws:SecureTransport':'yes'}}"), "Bool value \"yes\" is not true or false"),
    BAD(CND("{'Bool':{'aws:SecureTransport':1}}"), "is not true or false"),
    BAD(CND("{'Null':{'a':'maybe'}}"), "Null value \"maybe\" is not true or false"),
    BAD(CND("{'IpAddress':{'aws:SourceIp':'10.0.0.0/33'}}"),
        "IpAddress value \"10.0.0.0/33\" is not an IP address or CIDR"),
    BAD(CND("{'IpAddress':{'aws:SourceIp':'10.0.0/8'}}"), "is not an IP address"),
    BAD(CND("{'NotIpAddress':{'aws:SourceIp':'2001:db8::/129'}}"), "is not an IP address"),
    BAD(CND("{'IpAddress':{'aws:SourceIp':'example.com'}}"), "is not an IP address"),
    BAD(CND("{'IpAddress':{'aws:SourceIp':'10.0.0.0/'}}"), "is not an IP address"),
    BAD(CND("{'IpAddress':{'aws:SourceIp':24}}"), "is not an IP address"),
    BAD(DOC(ALLOW("'s3:*'", "'*'") "," ALLOW("'s3:*'", "'*'") "," DENY("'s3:Bad'", "'*'")),
        "Statement[2].Action: unknown action \"s3:Bad\""),
#undef BAD
#undef BADB
};

TEST(iam_policy_malformed_table)
{
    size_t i, failed = 0;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        struct iam_policy *p = NULL;
        struct buf msg = BUF_INIT;
        char *doc = quote(bad[i].doc);
        int rc = iam_policy_parse(
            slice_cstr(doc), bad[i].bucket ? IAM_POLICY_BUCKET : IAM_POLICY_IDENTITY, &p, &msg);

        if (rc != bad[i].rc || !strstr(msg.ptr, bad[i].where)) {
            fprintf(stderr, "line %d: rc %d (%s), message \"%s\", want \"%s\"\n", bad[i].line, rc,
                    err_name(rc), msg.ptr, bad[i].where);
            failed++;
        }
        if (rc == 0)
            iam_policy_free(p);
        buf_release(&msg);
        free(doc);
    }
    fprintf(stderr, "iam_policy_malformed_table: %zu cases\n", ARRAY_SIZE(bad));
    ASSERT_EQ(failed, 0);
}

TEST(iam_policy_too_large)
{
    struct buf doc = BUF_INIT, msg = BUF_INIT;
    struct iam_policy *p = NULL;
    size_t i;

    /* a valid document of IAM_POLICY_MAX bytes passes; one more byte does not */
    buf_adds(&doc, "{\"Version\":\"2012-10-17\",\"Statement\":[");
    for (i = 0; doc.len < IAM_POLICY_MAX - 200; i++)
        buf_addf(&doc,
                 "%s{\"Sid\":\"s%zu\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
                 "\"Resource\":\"arn:aws:s3:::b/%zu/*\"}",
                 i ? "," : "", i, i);
    buf_adds(&doc, "]}");
    while (doc.len < IAM_POLICY_MAX)
        buf_addch(&doc, ' ');
    ASSERT_OK(iam_policy_parse(buf_slice(&doc), IAM_POLICY_IDENTITY, &p, &msg));
    iam_policy_free(p);
    buf_addch(&doc, ' ');
    ASSERT_EQ(iam_policy_parse(buf_slice(&doc), IAM_POLICY_IDENTITY, &p, &msg),
              -ERR_POLICY_TOO_LARGE);
    ASSERT(strstr(msg.ptr, "20480"));
    /* too large is refused before parsing: garbage too */
    buf_clear(&doc);
    for (i = 0; i <= IAM_POLICY_MAX; i++)
        buf_addch(&doc, '{');
    ASSERT_EQ(iam_policy_parse(buf_slice(&doc), IAM_POLICY_IDENTITY, &p, NULL),
              -ERR_POLICY_TOO_LARGE);
    /* errmsg may be NULL; out is written only on success */
    p = (struct iam_policy *)&doc;
    ASSERT_EQ(iam_policy_parse(SLICE_LIT("{"), IAM_POLICY_IDENTITY, &p, NULL),
              -ERR_MALFORMED_POLICY);
    ASSERT(p == (struct iam_policy *)&doc);
    /* a NUL byte inside the document */
    ASSERT_EQ(iam_policy_parse(slice_make("{\"Version\":\"2012-10-17\"\0}", 25),
                               IAM_POLICY_IDENTITY, &p, NULL),
              -ERR_MALFORMED_POLICY);
    buf_release(&doc);
    buf_release(&msg);
}

static const struct {
    int line;
    const char *doc;
    bool want;
} public_cases[] = {
#define PUB(doc, want)                                                                             \
    {                                                                                              \
        __LINE__, doc, want                                                                        \
    }
    PUB(DOC(BSTMT("Allow", "'*'", "'s3:GetObject'", "'arn:aws:s3:::b/*'")), true),
    PUB(DOC(BSTMT("Allow", "{'AWS':'*'}", "'s3:GetObject'", "'arn:aws:s3:::b/*'")), true),
    PUB(DOC(BSTMT("Allow", "{'AWS':['" ALICE "','*']}", "'s3:GetObject'", "'*'")), true),
    PUB(DOC(BSTMT("Allow", "{'AWS':'" ALICE "'}", "'s3:GetObject'", "'*'")), false),
    PUB(DOC(BSTMT("Allow", "{'AWS':'" ACCT "'}", "'s3:GetObject'", "'*'")), false),
    PUB(DOC(BSTMT("Deny", "'*'", "'s3:*'", "'*'")), false),
    PUB(DOC("{'Effect':'Allow','NotPrincipal':{'AWS':'" ALICE "'},'Action':'s3:*','Resource':'*'}"),
        true),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}}"),
        false),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}}"),
        true),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'IpAddress':{'aws:SourceIp':['10.0.0.0/8','::/0']}}}"),
        true),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'}}}"),
        true),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'StringEquals':{'aws:PrincipalAccount':'" ACCT "'}}}"),
        false),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'StringLike':{'aws:PrincipalAccount':'*'}}}"),
        true),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'StringEqualsIfExists':{'aws:SourceVpc':'vpc-1'}}}"),
        true),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'StringEquals':{'aws:SourceVpce':'vpce-1'}}}"),
        false),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'ArnEquals':{'aws:PrincipalArn':'" ALICE "'}}}"),
        false),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'StringLike':{'s3:prefix':'public/*'}}}"),
        true),
    PUB(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'*','Condition':{"
            "'Bool':{'aws:SecureTransport':'true'}}}"),
        true),
    PUB(DOC(BSTMT("Allow", "{'AWS':'" ALICE "'}", "'s3:*'",
                  "'*'") "," BSTMT("Allow", "'*'", "'s3:GetObject'", "'arn:aws:s3:::b/pub/*'")),
        true),
#undef PUB
};

TEST(iam_policy_is_public)
{
    size_t i;
    struct iam_policy *p;

    for (i = 0; i < ARRAY_SIZE(public_cases); i++) {
        char *doc = quote(public_cases[i].doc);

        ASSERT_OK(iam_policy_parse(slice_cstr(doc), IAM_POLICY_BUCKET, &p, NULL));
        if (iam_policy_is_public(p) != public_cases[i].want)
            harness_fail(__FILE__, public_cases[i].line, "is_public != %d", public_cases[i].want);
        iam_policy_free(p);
        free(doc);
    }
    /* an identity policy has no principal: never public */
    ASSERT_OK(iam_policy_parse(SLICE_LIT("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
                                         "\"Resource\":\"*\"}}"),
                               IAM_POLICY_IDENTITY, &p, NULL));
    ASSERT(!iam_policy_is_public(p));
    iam_policy_free(p);
}

TEST(iam_policy_action_is_known)
{
    static const char *const known[] = {
        "s3:GetObject",
        "s3:putobject",
        "S3:LISTBUCKET",
        "s3:ListAllMyBuckets",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
        "s3:DeleteObjectVersion",
        "s3:GetObjectVersionTagging",
        "s3:GetBucketPolicyStatus",
        "s3:PutBucketCORS",
        "s3:GetBucketObjectLockConfiguration",
        "s3:BypassGovernanceRetention",
        "s3:PutBucketOwnershipControls",
        "s3:GetBucketPublicAccessBlock",
        "s3:ReplicateObject",
        "s3:RestoreObject",
        "s3:DeleteBucketWebsite",
        "s3:GetAccelerateConfiguration",
        "s3:GetObjectAttributes",
        "s3:PutLifecycleConfiguration",
        "s3:ListenBucketNotification",
        "admin:CreateUser",
        "admin:ServerInfo",
        "admin:Heal",
        "admin:Prometheus",
        "admin:AttachUserOrGroupPolicy",
        "admin:ListServiceAccounts",
        "iam:CreateUser",
        "iam:ListGroupsForUser",
        "iam:GetPolicyVersion",
        "iam:AttachGroupPolicy",
        "sts:AssumeRole",
        "sts:GetCallerIdentity",
        "sts:AssumeRoleWithWebIdentity",
    };
    static const char *const unknown[] = {
        "s3:GetObjekt",
        "s3:*",
        "*",
        "s3:",
        "GetObject",
        "ec2:RunInstances",
        "",
        "iam:Frob",
        "sts:AssumeRoleX",
        "admin:",
        "s3:GetObject ",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(known); i++)
        if (!iam_action_is_known(known[i]))
            harness_fail(__FILE__, __LINE__, "%s should be known", known[i]);
    for (i = 0; i < ARRAY_SIZE(unknown); i++)
        if (iam_action_is_known(unknown[i]))
            harness_fail(__FILE__, __LINE__, "%s should be unknown", unknown[i]);
    ASSERT(!iam_action_is_known(NULL));
}

/* The condition callback is asked only for the keys of statements whose action and resource match.
 */
struct counting {
    struct iam_cond_table t;
    int calls;
    const char *last;
};

static size_t
counting_cond(void *arg, const char *key, struct slice *vals, size_t max)
{
    struct counting *c = arg;

    c->calls++;
    c->last = key;
    return iam_cond_table(&c->t, key, vals, max);
}

TEST(iam_policy_cond_only_when_matched)
{
    static const char doc[] =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:"
        "GetObject\",\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringEquals\":{\"s3:"
        "ExistingObjectTag/owner\":\"${aws:username}\"}}}]}";
    static const struct iam_cond_kv kv[] = { { "s3:ExistingObjectTag/owner", "alice" },
                                             { "aws:username", "alice" } };
    struct counting c = { { kv, ARRAY_SIZE(kv) }, 0, NULL };
    struct iam_request r = { .action = "s3:GetObject",
                             .resource = "arn:aws:s3:::other/k",
                             .cond = counting_cond,
                             .cond_arg = &c };
    struct iam_policy *p;

    ASSERT_OK(iam_policy_parse(slice_cstr(doc), IAM_POLICY_IDENTITY, &p, NULL));
    ASSERT_EQ(iam_policy_eval(p, &r), IAM_NONE);
    ASSERT_EQ(c.calls, 0);
    r.action = "s3:PutObject";
    r.resource = "arn:aws:s3:::b/k";
    ASSERT_EQ(iam_policy_eval(p, &r), IAM_NONE);
    ASSERT_EQ(c.calls, 0);
    r.action = "s3:GetObject";
    ASSERT_EQ(iam_policy_eval(p, &r), IAM_ALLOW);
    ASSERT_EQ(c.calls, 2); /* the key, then the variable */
    /* no callback: every key absent */
    r.cond = NULL;
    ASSERT_EQ(iam_policy_eval(p, &r), IAM_NONE);
    iam_policy_free(p);
}

/* A key with more values than fit on the stack, and a huge variable value. */
TEST(iam_policy_many_values)
{
    static const char doc[] =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:s3:::b/${aws:username}/*\",\"Condition\":{\"ForAllValues:"
        "StringLike\":{\"aws:TagKeys\":\"k*\"}}}]}";
    struct iam_cond_kv kv[101];
    char names[100][8];
    struct iam_cond_table t = { kv, 0 };
    struct iam_request r = { .action = "s3:GetObject", .cond = iam_cond_table, .cond_arg = &t };
    struct iam_policy *p;
    struct buf user = BUF_INIT, res = BUF_INIT;
    size_t i;

    ASSERT_OK(iam_policy_parse(slice_cstr(doc), IAM_POLICY_IDENTITY, &p, NULL));
    for (i = 0; i < 2000; i++)
        buf_addch(&user, 'u');
    buf_addf(&res, "arn:aws:s3:::b/%s/x", user.ptr);
    kv[0].key = "aws:username";
    kv[0].value = user.ptr;
    for (i = 0; i < 100; i++) {
        snprintf(names[i], sizeof(names[i]), "k%zu", i);
        kv[i + 1].key = "aws:TagKeys";
        kv[i + 1].value = names[i];
    }
    t.n = 101;
    r.resource = res.ptr;
    ASSERT_EQ(iam_policy_eval(p, &r), IAM_ALLOW);
    names[99][0] = 'x'; /* the 100th value fails: it must be seen */
    ASSERT_EQ(iam_policy_eval(p, &r), IAM_NONE);
    iam_policy_free(p);
    buf_release(&user);
    buf_release(&res);
}

/* Evaluation cost of a 20-statement policy with conditions (printed, not asserted). */
TEST(iam_policy_eval_cost)
{
    struct buf doc = BUF_INIT;
    struct iam_policy *p;
    static const struct iam_cond_kv kv[] = {
        { "aws:SourceIp", "10.1.2.3" }, { "aws:SecureTransport", "true" },
        { "aws:username", "alice" },    { "aws:CurrentTime", "2026-01-02T03:04:05Z" },
        { "s3:prefix", "home/alice/" },
    };
    struct iam_cond_table t = { kv, ARRAY_SIZE(kv) };
    struct iam_request r = { .action = "s3:GetObject",
                             .resource = "arn:aws:s3:::data/home/alice/report.csv",
                             .cond = iam_cond_table,
                             .cond_arg = &t };
    struct timespec t0, t1;
    size_t i, n = 200000;
    double ns;

    buf_adds(&doc, "{\"Version\":\"2012-10-17\",\"Statement\":[");
    for (i = 0; i < 19; i++)
        buf_addf(&doc,
                 "{\"Effect\":\"%s\",\"Action\":[\"s3:Put*\",\"s3:DeleteObject\"],\"Resource\":"
                 "\"arn:aws:s3:::bucket%zu/*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":"
                 "\"10.0.0.0/8\"},\"Bool\":{\"aws:SecureTransport\":\"true\"}}},",
                 i % 4 == 0 ? "Deny" : "Allow", i);
    buf_adds(&doc,
             "{\"Effect\":\"Allow\",\"Action\":\"s3:Get*\",\"Resource\":\"arn:aws:s3:::data/"
             "home/${aws:username}/*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":"
             "[\"192.168.0.0/16\",\"10.0.0.0/8\"]},\"Bool\":{\"aws:SecureTransport\":\"true\"},"
             "\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"}}}]}");
    ASSERT_OK(iam_policy_parse(buf_slice(&doc), IAM_POLICY_IDENTITY, &p, NULL));
    ASSERT_EQ(iam_policy_eval(p, &r), IAM_ALLOW);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < n; i++)
        BUG_ON(iam_policy_eval(p, &r) != IAM_ALLOW);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;
    fprintf(stderr,
            "iam_policy_eval_cost: %.0f ns per evaluation (20 statements, 3 conditions on "
            "the matching one)\n",
            ns);
    iam_policy_free(p);
    buf_release(&doc);
}
