/*
 * util/sha256.h: SHA-256 (FIPS 180-4) with the x86 SHA extensions, for one
 * stream or for two streams at once: the hash of every chunk of a signed
 * aws-chunked upload (s3/body.c).
 *
 * Why by hand, next to OpenSSL: a signed upload hashes every byte, and that
 * hash is most of what it costs over an unsigned one. The CPU's SHA-256
 * round instruction waits for the one before it, so one stream leaves half
 * the unit idle: two streams interleaved in one loop run at about 1.8 times
 * the speed of one (OpenSSL's, or this file's one-stream code;
 * build-release/bench/sigv4_chunk, docs/benchmarks.md). The chunks of an aws-chunked body are
 * independent messages, so two of them can be hashed together. OpenSSL keeps
 * its two-stream code internal (for TLS record batches); Intel's
 * isa-l_crypto is not packaged in Debian 12; libipsec-mb's multi-buffer
 * SHA-256 refuses messages of 64 KiB, the chunk size clients send. Tests
 * compare every path with OpenSSL's SHA-256.
 *
 * Only where sha256_ni_available(): elsewhere the caller uses OpenSSL (whose
 * code without the extensions is faster than portable C would be).
 *
 * `struct sha256` is embedded by its user; it owns nothing. Not thread-safe:
 * one stream per struct, one thread at a time.
 */
#ifndef BASALT_UTIL_SHA256_H
#define BASALT_UTIL_SHA256_H

#include "util/base.h"

#define SHA256_SIZE 32

struct sha256 {
    uint32_t _h[8];
    uint64_t _len; /* bytes hashed so far */
    uint8_t _buf[64];
    unsigned _nbuf; /* bytes in _buf, < 64 */
};

/* Whether this CPU has the SHA extensions (and so whether the functions below may be called). */
bool sha256_ni_available(void);

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t n);
/*
 * As sha256_update(a, pa, na) and sha256_update(b, pb, nb), the whole
 * blocks the two have in common hashed together. `a` and `b` are distinct.
 */
void sha256_update2(struct sha256 *a, const void *pa, size_t na, struct sha256 *b, const void *pb,
                    size_t nb);
/* Writes the digest; `c` must be sha256_init()ed again before reuse. */
void sha256_final(struct sha256 *c, uint8_t out[SHA256_SIZE]);

#endif
