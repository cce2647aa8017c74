/*
 * auth/jwt.h: the bearer token of a Prometheus scrape, as MinIO's `mc admin
 * prometheus generate` makes it: a JSON Web Token (RFC 7519) signed with
 * HS512 (HMAC-SHA512, RFC 7518) keyed by the user's secret key, with the
 * claims
 *
 *   {"exp": <unix seconds>, "sub": "<access key>", "iss": "prometheus"}
 *
 * plus "iat" (issued at, unix seconds). `basalt admin prometheus generate`
 * signs one (cli/); the metrics endpoint (s3/metrics.c) verifies it. A token
 * stays valid until it expires, the secret changes, or `basalt admin
 * prometheus revoke` refuses every token issued before a time (tokens
 * without "iat", as MinIO makes them, count as issued at 0).
 */
#ifndef BASALT_AUTH_JWT_H
#define BASALT_AUTH_JWT_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

#define JWT_PROMETHEUS_ISSUER "prometheus"

/*
 * Appends the token for `access_key`, issued at `iat` and expiring at `exp`
 * (unix seconds), signed with `secret`.
 */
void jwt_prometheus_sign(struct slice secret, const char *access_key, int64_t iat, int64_t exp,
                         struct buf *out);

/*
 * Verifies `token` against `secret` (constant-time comparison of the
 * signature) and its claims: the header's alg is HS512, iss is
 * "prometheus", sub is `access_key`, exp is a number after `now` (unix
 * seconds), iat (0 if absent) is not before `revoked_before`. Returns 0,
 * -ERR_EXPIRED (a valid token past its exp), or -ERR_ACCESS_DENIED
 * (malformed, wrong signature, issuer or subject, revoked).
 */
int jwt_prometheus_verify(struct slice token, struct slice secret, const char *access_key,
                          int64_t now, int64_t revoked_before);

#endif
