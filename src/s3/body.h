/*
 * s3/body.h: the decoder of an upload's request body (PutObject, UploadPart,
 * POST): what x-amz-content-sha256 says the body is, the aws-chunked framing,
 * chunk and trailer signatures, the payload SHA-256 and the flexible checksums
 * (x-amz-checksum-<algo> as a header or a trailer).
 *
 * x-amz-content-sha256 decides the framing:
 *   <64 hex>                                  raw body, its SHA-256 must match
 *   UNSIGNED-PAYLOAD (or absent: presigned)   raw body
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD        aws-chunked, every chunk signed
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  the same, then a signed trailer
 *   STREAMING-UNSIGNED-PAYLOAD-TRAILER        aws-chunked, unsigned, then a trailer
 *   other STREAMING-* (SigV4a)                -ERR_NOT_IMPLEMENTED
 *
 * aws-chunked: "<hex size>[;chunk-signature=<64 hex>]\r\n<data>\r\n" repeated,
 * then the final "0[;chunk-signature=...]\r\n", then either "\r\n" or (TRAILER
 * modes) trailer lines "x-amz-checksum-crc32:<b64>\r\n" and, when signed,
 * "x-amz-trailer-signature:<64 hex>\r\n", then "\r\n". Each chunk's
 * signature chains from the previous one, the first from the request's seed
 * signature (auth/sigv4.h). x-amz-decoded-content-length, when present, is
 * the exact payload size.
 *
 * Payload bytes reach the sink as they arrive, before the chunk's signature
 * can be checked (it follows the data): the caller must not commit anything
 * before s3_body_finish() returned 0. Memory: the struct, one line buffer and
 * the hash contexts; no payload byte is copied.
 *
 * Errors (all sticky): -ERR_AUTH_MALFORMED (x-amz-content-sha256 not a
 * hash nor a known mode), -ERR_NOT_IMPLEMENTED, -ERR_INVALID_ARGUMENT
 * (x-amz-decoded-content-length not a number), -ERR_TOO_LARGE (over 5 GiB),
 * -ERR_INVALID_CHECKSUM (unknown algorithm, malformed or several checksums,
 * x-amz-sdk-checksum-algorithm naming another algorithm),
 * -ERR_INVALID_REQUEST (x-amz-trailer without a TRAILER mode), -ERR_INVALID_CHUNK
 * (bad framing: size line, chunk longer than declared, missing final chunk,
 * bad or missing trailer, more bytes than x-amz-decoded-content-length),
 * -ERR_CHUNK_SIG_MISMATCH, -ERR_INCOMPLETE_BODY (fewer payload bytes than
 * declared), -ERR_SHA256_MISMATCH, -ERR_CHECKSUM_MISMATCH, or the sink's error.
 *
 * One request's connection thread only.
 */
#ifndef BASALT_S3_BODY_H
#define BASALT_S3_BODY_H

#include "util/base.h"

#include "util/checksum.h"

struct http_req;
struct s3_call;
struct s3_body; /* in the request's arena */

#define S3_BODY_LINE_MAX 1024    /* a chunk-size or trailer line */
#define S3_BODY_TRAILER_MAX 4096 /* all trailer lines */

/* Receives payload bytes; returns 0 or a negative -ERR_* (then sticky). */
typedef int s3_body_sink_fn(void *arg, const void *data, size_t n);

/*
 * Reads x-amz-content-sha256 (from the verified auth), Content-Length,
 * x-amz-decoded-content-length, x-amz-trailer, x-amz-checksum-<algo> and
 * x-amz-sdk-checksum-algorithm. Returns 0 and `*out` (in the request's
 * arena; its hash contexts are freed with the arena), or a negative -ERR_*
 * for the caller to answer (`*out` untouched).
 */
int s3_body_begin(struct s3_call *call, struct s3_body **out);
/*
 * The checksum algorithm the request names (header, trailer or
 * x-amz-sdk-checksum-algorithm), CHECKSUM_NONE if none; and, right after
 * s3_body_begin() and before any byte, computing `algo` when the request
 * names none (a part of a FULL_OBJECT multipart upload: its CRC is needed to
 * combine the object's).
 */
enum checksum_algo s3_body_algo(const struct s3_body *b);
void s3_body_compute(struct s3_body *b, enum checksum_algo algo);
/*
 * True for a header that carries a checksum value, x-amz-checksum-<algo> (any
 * case; <algo> possibly unknown), not x-amz-checksum-mode, -type or -algorithm.
 */
bool s3_checksum_value_header(struct slice name);
/*
 * The message S3 gives (with InvalidRequest) for a request whose
 * x-amz-checksum-<algo> header of a known algorithm has a malformed value
 * (not base64, or not the algorithm's size): "Value for
 * x-amz-checksum-sha256 header is invalid."; NULL if it has none such.
 */
const char *s3_checksum_value_msg(struct http_req *req);
/* Payload size when known (x-amz-decoded-content-length, or Content-Length), else -1. */
int64_t s3_body_size(const struct s3_body *b);
/* True if the body is aws-chunked (Content-Encoding's "aws-chunked" is then not stored). */
bool s3_body_is_chunked(const struct s3_body *b);
/*
 * Raw request bytes in (any split), payload bytes out through `sink(arg,...)`.
 * Returns 0 or the sticky error.
 */
int s3_body_feed(struct s3_body *b, const void *raw, size_t n, s3_body_sink_fn *sink, void *arg);
/*
 * End of the raw body: final chunk present, trailer parsed and its signature
 * checked, the payload size, SHA-256 and checksum match. 0 or the sticky error.
 */
int s3_body_finish(struct s3_body *b);
/*
 * After a successful finish: the checksum to store, as the algorithm's name
 * in lowercase as in the header name ("crc32") and the base64 value, both
 * borrowed from `b`; false if the request carried none.
 */
bool s3_body_checksum(const struct s3_body *b, const char **algo, const char **b64);

/*
 * Tests only: when set before s3_body_begin(), chunk hashes are computed
 * with OpenSSL one chunk after the other, as on a CPU without the SHA
 * extensions (see body.c).
 */
extern bool s3_body_test_no_sha_ni;

#endif
