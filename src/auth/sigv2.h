/*
 * auth/sigv2.h: AWS Signature Version 2 (HMAC-SHA1) for S3, verification
 * only. S3 still accepts it, and the SDKs still make it by default in places:
 * botocore (boto3, the aws CLI v1) presigns URLs and POST forms with it unless
 * the client sets signature_version="s3v4". Two forms:
 *  - header: "Authorization: AWS <access key>:<base64 signature>", with a
 *    Date or x-amz-date header within 15 minutes of the server's clock;
 *  - presigned: "?AWSAccessKeyId=...&Expires=<unix time>&Signature=...".
 *
 * The string to sign (S3's "REST authentication"):
 *   METHOD \n Content-MD5 \n Content-Type \n Date (or Expires) \n
 *   x-amz-* headers, each "name:value\n" (lowercase, sorted, values trimmed,
 *   several of one name joined with ',') \n
 *   resource: the path-style path as sent (still percent-encoded), then the
 *   sub-resources of the query (acl, uploadId, partNumber, response-*...,
 *   sorted by name, values decoded) after '?'.
 * A presigned URL may carry Content-Type, Content-MD5 and x-amz-* as query
 * parameters (botocore moves them there): a header of the request wins, else
 * the parameter is used. With x-amz-date the Date line is empty (S3's rule);
 * botocore signs its Date header even then, so both are tried.
 *
 * The caller gives the candidate resource paths: the path as received and,
 * behind a path prefix or on a virtual host, the path-style path without the
 * prefix ("/bucket/key"); botocore signs one or the other depending on how
 * the endpoint was configured. Each candidate costs one HMAC-SHA1.
 */
#ifndef BASALT_AUTH_SIGV2_H
#define BASALT_AUTH_SIGV2_H

#include "util/base.h"

#include "auth/sigv4.h"
#include "util/buf.h"
#include "util/slice.h"

/* True when the request is SigV2: an "AWS " Authorization header, or AWSAccessKeyId in the query.
 */
bool sigv2_is_signed(const struct sigv4_req *r);

/*
 * Verifies a SigV2 request against the `nres` candidate resource paths
 * (raw, percent-encoded, without the query). On success returns 0 and fills
 * `*out`: access_key, request_time, presigned, payload_hash
 * "UNSIGNED-PAYLOAD" (SigV2 signs no payload hash; Content-MD5 still applies) unless
 * the request carries x-amz-content-sha256 (signed, as every x-amz-* header);
 * region stays empty (SigV2 has none). Errors as sigv4_verify():
 * -ERR_AUTH_MALFORMED (an unparsable header, a query that cannot be signed
 * safely), -ERR_ACCESS_DENIED (a presigned URL without its three parameters,
 * no usable date), -ERR_TIME_SKEWED,
 * -ERR_EXPIRED, -ERR_INVALID_ACCESS_KEY, -ERR_SIG_MISMATCH. Constant-time
 * comparison; `errmsg` as in sigv4_verify().
 */
int sigv2_verify(const struct sigv4_req *r, const struct slice *resources, size_t nres,
                 sigv4_lookup_fn *lookup, void *lookup_arg, struct sigv4_auth *out,
                 struct buf *errmsg);

/*
 * The string to sign of `r` for `resource` and the Date line `date` (the Date
 * header, "", or a presigned URL's Expires), appended to `out`. For tests and
 * clients.
 */
void sigv2_string_to_sign(const struct sigv4_req *r, struct slice resource, struct slice date,
                          struct buf *out);

/*
 * The header parameters of a presigned URL's query (Content-Type,
 * Content-MD5, x-amz-*, any case; names and values decoded as for the string
 * to sign) that the request did not send as headers: `fn(arg, name, value)`
 * for each. After sigv2_verify() they are signed, given once each and free
 * of control characters, and count as the request's headers. Nothing for a
 * request that is not presigned.
 */
typedef void sigv2_header_fn(void *arg, struct slice name, struct slice value);
void sigv2_query_headers(const struct sigv4_req *r, sigv2_header_fn *fn, void *arg);

/* base64(HMAC-SHA1(secret, msg)): 28 characters and a NUL. */
void sigv2_sign(struct slice secret, struct slice msg, char out[29]);

#endif
