/* tests/unit/util/test_err.c: the error space's names (util/err.h). */
#include "util/base.h"

#include "harness.h"
#include "util/err.h"

/* Every code survives the trip through its name; unknown names and "" are told apart. */
TEST(err_names_round_trip)
{
    const char *n;
    int e;

    for (e = 1; e < ERR__COUNT; e++) {
        n = err_name(-e);
        ASSERT_EQ(err_from_name(n, strlen(n), -ERR_IO), -e);
    }
    ASSERT_EQ(err_from_name("", 0, -ERR_IO), 0);
    ASSERT_EQ(err_from_name("NO_SUCH_ERROR_YET", 17, -ERR_IO), -ERR_IO);
    ASSERT_EQ(err_from_name("NOT_FOUN", 8, -ERR_INTERNAL),
              -ERR_INTERNAL);                                           /* a prefix is not a name */
    ASSERT_EQ(err_from_name("NOT_FOUNDX", 9, -ERR_IO), -ERR_NOT_FOUND); /* n bytes only */
}
