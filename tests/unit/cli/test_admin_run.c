/* tests/unit/cli/test_admin_run.c: which admin API calls are retried (cli/admin_run.h). */
#include "util/base.h"

#include "cli/admin_run.h"

#include "harness.h"

TEST(cli_admin_retry_class)
{
    /* reads and the writes that answer the same the second time */
    ASSERT_EQ(admin_retry_class("GET", "users"), CLIENT_RETRY_IDEMPOTENT);
    ASSERT_EQ(admin_retry_class("GET", "heal/status"), CLIENT_RETRY_IDEMPOTENT);
    ASSERT_EQ(admin_retry_class("POST", "heal"), CLIENT_RETRY_IDEMPOTENT);
    ASSERT_EQ(admin_retry_class("PUT", "policies/p"), CLIENT_RETRY_IDEMPOTENT);
    ASSERT_EQ(admin_retry_class("POST", "users/u/enable"), CLIENT_RETRY_IDEMPOTENT);
    ASSERT_EQ(admin_retry_class("POST", "groups/g/disable"), CLIENT_RETRY_IDEMPOTENT);
    ASSERT_EQ(admin_retry_class("POST", "groups/g/members"), CLIENT_RETRY_IDEMPOTENT);
    ASSERT_EQ(admin_retry_class("POST", "policies/p/attach"), CLIENT_RETRY_IDEMPOTENT);
    ASSERT_EQ(admin_retry_class("POST", "service-accounts/AK"), CLIENT_RETRY_IDEMPOTENT);
    /* only when the server provably did nothing */
    ASSERT_EQ(admin_retry_class("PUT", "users/u"), CLIENT_RETRY_UNSENT);
    ASSERT_EQ(admin_retry_class("PUT", "groups/g"), CLIENT_RETRY_UNSENT);
    ASSERT_EQ(admin_retry_class("POST", "service-accounts"), CLIENT_RETRY_UNSENT);
    ASSERT_EQ(admin_retry_class("POST", "policies/p/detach"), CLIENT_RETRY_UNSENT);
    ASSERT_EQ(admin_retry_class("DELETE", "users/u"), CLIENT_RETRY_UNSENT);
    ASSERT_EQ(admin_retry_class("DELETE", "service-accounts/AK"), CLIENT_RETRY_UNSENT);
    ASSERT_EQ(admin_retry_class("POST", "service/restart"), CLIENT_RETRY_UNSENT);
    ASSERT_EQ(admin_retry_class("POST", "service/stop"), CLIENT_RETRY_UNSENT);
}
