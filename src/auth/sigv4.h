/*
 * auth/sigv4.h: AWS Signature Version 4 for S3: verification of requests
 * signed in the Authorization header or presigned in the query string, and
 * signing for Basalt's own client (client/).
 *
 * The caller (s3/) passes the request as received: method, the raw path and
 * raw query exactly as on the wire (still percent-encoded), and all headers.
 * The canonical request follows the S3 rules: the path is used as sent
 * (no normalisation, no double encoding for S3), query parameters are
 * decoded and re-encoded then sorted, header values trimmed with inner runs
 * of spaces collapsed.
 *
 * Streaming (aws-chunked) bodies: `struct sigv4_auth` keeps the signing key
 * and the seed signature (the request's own); each chunk's signature chains
 * from the previous one (sigv4_chunk_sign), the trailer's from the final
 * chunk's (sigv4_trailer_sign). s3/body.c verifies them while the body streams.
 */
#ifndef BASALT_AUTH_SIGV4_H
#define BASALT_AUTH_SIGV4_H

#include "util/base.h"

#include <time.h>

#include "util/buf.h"
#include "util/slice.h"

#define SIGV4_MAX_SKEW 900            /* seconds of clock skew accepted: 15 minutes */
#define SIGV4_MAX_EXPIRES (7 * 86400) /* presigned URLs: at most 7 days */
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_header {
    struct slice name; /* any case */
    struct slice value;
};

struct sigv4_req {
    struct slice method; /* "GET" */
    struct slice path;   /* raw, as sent: "/bucket/my%20key" */
    struct slice query;  /* raw, without '?': "list-type=2&prefix=a%2F" */
    const struct sigv4_header *headers;
    size_t nheaders;
    time_t now; /* the server's clock */
};

/*
 * Looks up the secret key of `access_key`; writes it into `secret` (cleared
 * by the caller with buf_release_secure) and returns 0, or -ERR_INVALID_ACCESS_KEY.
 */
typedef int sigv4_lookup_fn(void *arg, struct slice access_key, struct buf *secret);

struct sigv4_auth {
    char access_key[128];
    char region[64];
    char service[4];     /* of the credential scope: "s3", "iam" or "sts" */
    char date[9];        /* YYYYMMDD of the credential scope */
    time_t request_time; /* X-Amz-Date */
    bool presigned;
    /*
     * The value of x-amz-content-sha256: a 64-char lowercase hex SHA-256 the
     * body must match, or "UNSIGNED-PAYLOAD" (always for presigned URLs), or a
     * STREAMING-* value (an aws-chunked body: s3/body.c).
     */
    char payload_hash[80];
    char seed_signature[65];
    uint8_t signing_key[32]; /* secret: zeroed by sigv4_auth_clear() */
};

/* Zeroes the secret material of `a`. */
void sigv4_auth_clear(struct sigv4_auth *a);

/*
 * True when the request carries any SigV4 material: an Authorization header, or
 * X-Amz-Signature, X-Amz-Algorithm or X-Amz-Credential in the query.
 */
bool sigv4_is_signed(const struct sigv4_req *r);

/*
 * Verifies a signed request (header or presigned). On success returns 0 and
 * fills `*out`. Errors: -ERR_ACCESS_DENIED (no signature at all: anonymous),
 * -ERR_AUTH_MALFORMED (unparsable header/query, wrong algorithm, bad scope,
 * missing signed host header), -ERR_INVALID_ACCESS_KEY,
 * -ERR_SIG_MISMATCH, -ERR_TIME_SKEWED (more than 15 minutes off),
 * -ERR_EXPIRED (presigned past X-Amz-Expires, or X-Amz-Expires > 7 days:
 * -ERR_AUTH_MALFORMED); any other error of `lookup` is returned as is.
 * Signatures are compared in constant time.
 * When `errmsg` is non-NULL a human-readable reason is appended (for the S3
 * error Message: never contains the secret).
 */
int sigv4_verify(const struct sigv4_req *r, sigv4_lookup_fn *lookup, void *lookup_arg,
                 struct sigv4_auth *out, struct buf *errmsg);

/*
 * Signing, for the client: computes the Authorization header value for a
 * request whose headers already include host, x-amz-date and
 * x-amz-content-sha256 (all headers given are signed). `path` and `query`
 * as they will be sent (already URI-encoded). Like the verifier, it takes the
 * time from the Date header (else `r->now`) when there is no x-amz-date, and
 * signs an empty payload when there is no x-amz-content-sha256.
 */
void sigv4_sign(const struct sigv4_req *r, const char *access_key, const char *secret_key,
                const char *region, struct buf *authorization);
/*
 * Builds a presigned URL query string for `method` on `path` (raw, encoded)
 * with `host`, valid `expires` seconds from `now`: appends
 * "X-Amz-Algorithm=...&X-Amz-Credential=...&...&X-Amz-Signature=..." to `out`
 * (merged with `extra_query`, which may be empty).
 */
void sigv4_presign(struct slice method, struct slice path, struct slice extra_query,
                   struct slice host, time_t now, unsigned expires, const char *access_key,
                   const char *secret_key, const char *region, struct buf *out);

/*
 * aws-chunked signatures. String to sign of a chunk:
 *   AWS4-HMAC-SHA256-PAYLOAD \n <X-Amz-Date> \n <date>/<region>/s3/aws4_request \n
 *   <previous signature> \n <SHA-256 of ""> \n <SHA-256 of the chunk's data>
 * and of the trailer (STREAMING-...-TRAILER):
 *   AWS4-HMAC-SHA256-TRAILER \n <X-Amz-Date> \n <scope> \n <final chunk's signature> \n
 *   <SHA-256 of the trailer headers, each "name:value\n">
 * `prev_sig` is 64 lowercase hex digits: the seed signature for the first
 * chunk. Writes 64 lowercase hex digits and a NUL into `out`. `a` must come
 * from sigv4_verify or sigv4_auth_for_signing (signing key, date, region and
 * request time set). Any thread.
 */
void sigv4_chunk_sign(const struct sigv4_auth *a, const char *prev_sig,
                      const uint8_t chunk_sha256[32], char out[65]);
void sigv4_trailer_sign(const struct sigv4_auth *a, const char *prev_sig,
                        const uint8_t trailer_sha256[32], char out[65]);
/*
 * Fills `a` for signing aws-chunked bodies as a client (and for tests): the
 * signing key of `secret_key` for the day of `t` and `region`, the request
 * time `t`; `seed_signature` is the request's signature (64 hex digits).
 * Clear with sigv4_auth_clear().
 */
void sigv4_auth_for_signing(struct sigv4_auth *a, const char *access_key, const char *secret_key,
                            const char *region, time_t t, const char *seed_signature);

/* The first header named `name` (any case) into `*val`; returns how many there are. */
size_t sigv4_find_header(const struct sigv4_header *h, size_t n, const char *name,
                         struct slice *val);
/* The raw value of the first query parameter named `name`; returns how many there are. */
size_t sigv4_find_param(struct slice q, const char *name, struct slice *val);

/* Hash helpers (OpenSSL libcrypto). */
void sha256_hex(const void *p, size_t n, char out[65]);
void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, uint8_t out[32]);

#endif
