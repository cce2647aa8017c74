/*
 * iam/canned.c: the built-in policies, under MinIO's names and with MinIO's
 * statements (minio/pkg policy.DefaultPolicies), so that operators' habits
 * carry over ("mc admin policy attach ALIAS readwrite --user alice").
 *
 * Differences, each because Basalt's policy grammar (iam/policy.h) differs:
 *  - MinIO writes the resource of every statement as "arn:aws:s3:::*" (its
 *    NewResource("*")), admin statements included; here admin: statements
 *    have no Resource, which policy.h defines as "any resource", since an
 *    admin request has none.
 *  - consoleAdmin: MinIO's "kms:*" statement is left out (no kms: service
 *    here); "iam:*" and "sts:*" are added, because Basalt also serves the AWS
 *    IAM and STS query APIs, which MinIO covers with admin:* alone.
 * They cannot be changed or deleted (iam_policy_put/iam_policy_delete).
 */
#include "util/base.h"

#include "iam/internal.h"

const struct iam_canned iam__canned[] = {
    { "consoleAdmin",
      "{\"Version\":\"2012-10-17\",\"Statement\":["
      "{\"Effect\":\"Allow\",\"Action\":[\"admin:*\"]},"
      "{\"Effect\":\"Allow\",\"Action\":[\"iam:*\",\"sts:*\"],\"Resource\":[\"*\"]},"
      "{\"Effect\":\"Allow\",\"Action\":[\"s3:*\"],\"Resource\":[\"arn:aws:s3:::*\"]}]}" },
    { "diagnostics",
      "{\"Version\":\"2012-10-17\",\"Statement\":["
      "{\"Effect\":\"Allow\",\"Action\":[\"admin:Profiling\",\"admin:ServerTrace\","
      "\"admin:ConsoleLog\",\"admin:ServerInfo\",\"admin:TopLocksInfo\",\"admin:OBDInfo\","
      "\"admin:BandwidthMonitor\",\"admin:Prometheus\"]}]}" },
    { "readonly", "{\"Version\":\"2012-10-17\",\"Statement\":["
                  "{\"Effect\":\"Allow\",\"Action\":[\"s3:GetBucketLocation\",\"s3:GetObject\"],"
                  "\"Resource\":[\"arn:aws:s3:::*\"]},"
                  "{\"Effect\":\"Deny\",\"Action\":[\"admin:CreateUser\"]}]}" },
    { "readwrite",
      "{\"Version\":\"2012-10-17\",\"Statement\":["
      "{\"Effect\":\"Allow\",\"Action\":[\"s3:*\"],\"Resource\":[\"arn:aws:s3:::*\"]}]}" },
    { "writeonly",
      "{\"Version\":\"2012-10-17\",\"Statement\":["
      "{\"Effect\":\"Allow\",\"Action\":[\"s3:PutObject\"],\"Resource\":[\"arn:aws:s3:::*\"]}]}" },
};
const size_t iam__ncanned = ARRAY_SIZE(iam__canned);

bool
iam_policy_is_canned(const char *name)
{
    size_t i;

    for (i = 0; name && i < iam__ncanned; i++)
        if (!strcmp(iam__canned[i].name, name))
            return true;
    return false;
}
