/*
 * util/checksum.h: the streaming checksums of S3's flexible checksums
 * (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1, -sha256).
 *
 *   CRC32      CRC-32/ISO-HDLC (zlib's crc32), ISA-L crc32_gzip_refl
 *   CRC32C     CRC-32/ISCSI (Castagnoli), ISA-L crc32_iscsi
 *   CRC64NVME  CRC-64/NVME (poly 0xAD93D23594C93659 reflected, init and xorout ~0):
 *              ISA-L 2.30 (Debian 12) has no function for it (crc64_rocksoft_refl
 *              arrived in ISA-L 2.31), so it is computed here, slicing by 8
 *   SHA1, SHA256  OpenSSL EVP
 *
 * S3 sends and returns every value as the base64 of its raw big-endian bytes
 * (a CRC32 is 4 bytes, "AAAAAA==" for an empty body).
 *
 * `struct checksum` is embedded by its users (stack or arena); it owns an
 * EVP context for the SHA types, freed by checksum_final*() or
 * checksum_release(). Not thread-safe: one stream per struct.
 */
#ifndef BASALT_UTIL_CHECKSUM_H
#define BASALT_UTIL_CHECKSUM_H

#include "util/base.h"

#include "util/slice.h"

enum checksum_algo {
    CHECKSUM_NONE,
    CHECKSUM_CRC32,
    CHECKSUM_CRC32C,
    CHECKSUM_CRC64NVME,
    CHECKSUM_SHA1,
    CHECKSUM_SHA256,
};

#define CHECKSUM_MAX_SIZE 32 /* raw bytes of the largest (SHA-256) */
#define CHECKSUM_B64_SIZE 45 /* base64 of 32 bytes (44) and a NUL */

struct checksum {
    enum checksum_algo algo;
    uint64_t _crc; /* CRC types: the running register (not finalized) */
    void *_md;     /* SHA types: EVP_MD_CTX */
};

/*
 * The algorithm named by `name`: "CRC32", "crc32" (any case), or a header
 * name "x-amz-checksum-crc32" (any case). 0 and `*out`, or
 * -ERR_INVALID_CHECKSUM when unknown (`*out` untouched).
 */
int checksum_algo_parse(struct slice name, enum checksum_algo *out);
/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (as x-amz-sdk-checksum-algorithm). */
const char *checksum_algo_name(enum checksum_algo algo);
/* "crc32", ... as in the header name. */
const char *checksum_algo_lower(enum checksum_algo algo);
/* "x-amz-checksum-crc32", ... */
const char *checksum_header_name(enum checksum_algo algo);
/* Raw bytes of a value: 4, 4, 8, 20, 32 (0 for CHECKSUM_NONE). */
size_t checksum_size(enum checksum_algo algo);
bool checksum_is_crc(enum checksum_algo algo);

/* Starts a stream; `algo` must not be CHECKSUM_NONE. */
void checksum_init(struct checksum *c, enum checksum_algo algo);
void checksum_update(struct checksum *c, const void *p, size_t n);
/*
 * Ends the stream: writes the raw big-endian value into `out` and returns its
 * size; releases the stream (checksum_release() is then a no-op).
 */
size_t checksum_final(struct checksum *c, uint8_t out[CHECKSUM_MAX_SIZE]);
/* The same, as base64 with a NUL. */
void checksum_final_b64(struct checksum *c, char out[CHECKSUM_B64_SIZE]);
/* Frees what the stream holds (after an error); safe twice, and after final. */
void checksum_release(struct checksum *c);

/* One shot: the base64 value of `p[0..n)`. */
void checksum_b64(enum checksum_algo algo, const void *p, size_t n, char out[CHECKSUM_B64_SIZE]);

/*
 * Decodes a base64 value sent by a client into `out`: 0, or
 * -ERR_INVALID_CHECKSUM if it is not base64 of exactly checksum_size(algo) bytes.
 */
int checksum_b64_decode(enum checksum_algo algo, struct slice b64, uint8_t out[CHECKSUM_MAX_SIZE]);
/* Base64 of `checksum_size(algo)` raw bytes. */
void checksum_b64_encode(enum checksum_algo algo, const uint8_t *raw, char out[CHECKSUM_B64_SIZE]);

/* CRC types: the finished CRC of what was fed so far; the stream goes on. */
uint64_t checksum_crc_value(const struct checksum *c);
/* CRC types: a CRC value <-> its raw big-endian bytes (4 or 8). */
uint64_t checksum_crc_from_raw(enum checksum_algo algo, const uint8_t *raw);
void checksum_crc_to_raw(enum checksum_algo algo, uint64_t crc, uint8_t *raw);
/*
 * CRC types: the CRC of A followed by B from the CRC of A, the CRC of B and
 * the length of B, as zlib's crc32_combine (multipart full-object checksums).
 */
uint64_t checksum_crc_combine(enum checksum_algo algo, uint64_t crc_a, uint64_t crc_b,
                              uint64_t len_b);

#endif
