/* tests/unit/auth/test_jwt.c: the HS512 bearer tokens of Prometheus scrapes. */
#include "util/base.h"

#include "auth/jwt.h"
#include "harness.h"

#define SECRET SLICE_LIT("secret12345")
/* Made by Python's hmac/hashlib/base64 from the same header and claims (exp 2100-01-01). */
#define VECTOR                                                                                     \
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9."                                                        \
    "eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImJhc2FsdGFkbWluIiwiaXNzIjoicHJvbWV0aGV1cyJ9."                \
    "mRtgkszKXQV1OnjXgtJWQEQKERFQQnL0uRzUbf2Pi2rDLIwD2yRr-MitF5BjaON0PK7G-merH3Kf43kewwI9jA"

TEST(jwt_sign_round_trip_and_reference_verifies)
{
    struct buf t = BUF_INIT;

    jwt_prometheus_sign(SECRET, "basaltadmin", 1765000000, 4102444800, &t);
    /* the reference without "iat" is the same token but for the claim: same header */
    ASSERT(!strncmp(t.ptr, VECTOR, strlen("eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.")));
    ASSERT_OK(jwt_prometheus_verify(buf_slice(&t), SECRET, "basaltadmin", 1765000000, 0));
    ASSERT_OK(jwt_prometheus_verify(SLICE_LIT(VECTOR), SECRET, "basaltadmin", 1765000000, 0));
    buf_release(&t);
}

TEST(jwt_revoked_before_its_issue_time)
{
    struct buf t = BUF_INIT;

    jwt_prometheus_sign(SECRET, "basaltadmin", 1765000000, 4102444800, &t);
    ASSERT_OK(jwt_prometheus_verify(buf_slice(&t), SECRET, "basaltadmin", 1765000001, 1765000000));
    ASSERT_EQ(jwt_prometheus_verify(buf_slice(&t), SECRET, "basaltadmin", 1765000001, 1765000001),
              -ERR_ACCESS_DENIED);
    /* a token without iat (MinIO's) counts as issued at 0: refused by any revocation */
    ASSERT_EQ(jwt_prometheus_verify(SLICE_LIT(VECTOR), SECRET, "basaltadmin", 1765000000, 1),
              -ERR_ACCESS_DENIED);
    buf_release(&t);
}

/* A token "issued" more than 5 minutes ahead of the server's clock is refused: no revocation
 * made before its iat could reach it. */
TEST(jwt_issued_in_the_future_refused)
{
    struct buf t = BUF_INIT;

    jwt_prometheus_sign(SECRET, "basaltadmin", 1765000000, 4102444800, &t);
    ASSERT_OK(jwt_prometheus_verify(buf_slice(&t), SECRET, "basaltadmin", 1765000000 - 300, 0));
    ASSERT_EQ(jwt_prometheus_verify(buf_slice(&t), SECRET, "basaltadmin", 1765000000 - 301, 0),
              -ERR_ACCESS_DENIED);
    buf_release(&t);
}

TEST(jwt_expired_and_wrong_subject)
{
    ASSERT_EQ(jwt_prometheus_verify(SLICE_LIT(VECTOR), SECRET, "basaltadmin", 4102444800, 0),
              -ERR_EXPIRED);
    ASSERT_EQ(jwt_prometheus_verify(SLICE_LIT(VECTOR), SECRET, "someoneelse", 0, 0),
              -ERR_ACCESS_DENIED);
    ASSERT_EQ(
        jwt_prometheus_verify(SLICE_LIT(VECTOR), SLICE_LIT("secret12346"), "basaltadmin", 0, 0),
        -ERR_ACCESS_DENIED);
}

TEST(jwt_tampered_or_malformed_refused)
{
    struct buf t = BUF_INIT, claims = BUF_INIT;
    const char *bad[] = { "", "a.b", "a.b.c.d", "..", VECTOR ".", "x" VECTOR };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(bad); i++)
        ASSERT_EQ(jwt_prometheus_verify(slice_cstr(bad[i]), SECRET, "basaltadmin", 0, 0),
                  -ERR_ACCESS_DENIED);
    /* one character of the claims changed: the signature no longer matches */
    buf_adds(&t, VECTOR);
    t.ptr[40] = t.ptr[40] == 'A' ? 'B' : 'A';
    ASSERT_EQ(jwt_prometheus_verify(buf_slice(&t), SECRET, "basaltadmin", 0, 0),
              -ERR_ACCESS_DENIED);
    /* alg "none" with an empty signature */
    buf_clear(&t);
    buf_adds(&t, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                 "eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImJhc2FsdGFkbWluIiwiaXNzIjoicHJvbWV0aGV1cyJ9.");
    ASSERT_EQ(jwt_prometheus_verify(buf_slice(&t), SECRET, "basaltadmin", 0, 0),
              -ERR_ACCESS_DENIED);
    buf_release(&t);
    buf_release(&claims);
}
