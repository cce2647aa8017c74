/* tests/unit/s3/test_authz.c: every S3 operation has its authorization entry (s3/authz.c). */
#include "util/base.h"

#include "harness.h"
#include "iam/policy.h"
#include "s3/internal.h"

/* Every operation has an entry; those that name an action name one the policy parser knows. */
TEST(s3_authz_table_covers_every_operation)
{
    unsigned op, with_action = 0;

    for (op = 0; op < S3_OP__COUNT; op++) {
        const struct s3_authz *z = s3_op_authz((enum s3_op)op);

        if (!z)
            harness_fail(__FILE__, __LINE__, "operation %s (%u) has no authorization entry",
                         s3_op_name((enum s3_op)op), op);
        switch (z->kind) {
        case S3_AUTHZ_ADMIN:
        case S3_AUTHZ_ALL:
        case S3_AUTHZ_BUCKET:
        case S3_AUTHZ_OBJECT:
            ASSERT(z->action != NULL);
            break;
        default:
            break;
        }
        if (z->action) {
            if (!iam_action_is_known(z->action))
                harness_fail(__FILE__, __LINE__, "operation %s: action %s is unknown to iam/policy",
                             s3_op_name((enum s3_op)op), z->action);
            with_action++;
        }
    }
    ASSERT(with_action > 30);
    ASSERT(s3_op_authz(S3_OP__COUNT) == NULL);
}

/* The subtle ones S3 documents. */
TEST(s3_authz_subtle_operations)
{
    ASSERT_STREQ(s3_op_authz(S3_OP_HEAD_OBJECT)->action, "s3:GetObject");
    ASSERT_STREQ(s3_op_authz(S3_OP_HEAD_BUCKET)->action, "s3:ListBucket");
    ASSERT_STREQ(s3_op_authz(S3_OP_LIST_OBJECTS_V2)->action, "s3:ListBucket");
    ASSERT_STREQ(s3_op_authz(S3_OP_UPLOAD_PART)->action, "s3:PutObject");
    ASSERT_STREQ(s3_op_authz(S3_OP_COMPLETE_MULTIPART_UPLOAD)->action, "s3:PutObject");
    ASSERT_STREQ(s3_op_authz(S3_OP_COPY_OBJECT)->action, "s3:PutObject");
    ASSERT_STREQ(s3_op_authz(S3_OP_DELETE_BUCKET_TAGGING)->action, "s3:PutBucketTagging");
    ASSERT_STREQ(s3_op_authz(S3_OP_LIST_MULTIPART_UPLOADS)->action,
                 "s3:ListBucketMultipartUploads");
    ASSERT_EQ(s3_op_authz(S3_OP_LIST_BUCKETS)->kind, S3_AUTHZ_HANDLER);
    ASSERT_EQ(s3_op_authz(S3_OP_HEALTH)->kind, S3_AUTHZ_PUBLIC);
    ASSERT_EQ(s3_op_authz(S3_OP_DELETE_OBJECTS)->kind, S3_AUTHZ_HANDLER);
}
