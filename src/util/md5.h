/*
 * util/md5.h: MD5 (RFC 1321), the ETag of an S3 object or part, for one
 * stream or for up to eight streams at once.
 *
 * Why by hand, next to OpenSSL: MD5 is the largest CPU cost of a PUT (one
 * core hashes about 0.65 GB/s), and S3 makes it the ETag of every object
 * and part, so it cannot be skipped. Eight streams hashed together in the
 * eight 32-bit lanes of AVX2 registers cost less than a quarter of eight
 * streams hashed one after the other (bench/md5.c; docs/benchmarks.md). OpenSSL
 * has no multi-stream MD5; the library that does (Intel's isa-l_crypto,
 * md5_mb) is not packaged in Debian 12, and libipsec-mb only hashes whole
 * messages as HMAC-MD5. The one-stream code is plain C, as fast as
 * OpenSSL's assembly here. Tests compare every path with OpenSSL's MD5.
 *
 * MD5 is no security here: it is the checksum S3 clients expect.
 *
 * `struct md5` is embedded by its user; it owns nothing. Not thread-safe:
 * one stream per struct, one thread at a time.
 */
#ifndef BASALT_UTIL_MD5_H
#define BASALT_UTIL_MD5_H

#include "util/base.h"

#include <sys/uio.h>

#define MD5_SIZE 16
#define MD5_LANES 8 /* streams md5_update_many() hashes together */

struct md5 {
    uint32_t _h[4];
    uint64_t _len; /* bytes hashed so far */
    uint8_t _buf[64];
    unsigned _nbuf; /* bytes in _buf, < 64 */
};

void md5_init(struct md5 *c);
void md5_update(struct md5 *c, const void *data, size_t n);
/* Writes the digest; `c` must be md5_init()ed again before reuse. */
void md5_final(struct md5 *c, uint8_t out[MD5_SIZE]);

/*
 * One work item of md5_update_many(): stream `ctx` gets the bytes of
 * `iov[0..iovcnt)`, in order, as by md5_update() on each.
 */
struct md5_input {
    struct md5 *ctx;
    const struct iovec *iov;
    unsigned iovcnt;
};

/*
 * Hashes `n` inputs, each into its own stream (no two inputs may share a
 * `ctx`). Up to MD5_LANES streams advance together when the CPU has AVX2;
 * the results are those of md5_update() in every case.
 */
void md5_update_many(const struct md5_input *in, unsigned n);

/* Whether md5_update_many() uses SIMD lanes on this CPU (for logs and benchmarks). */
bool md5_simd_available(void);

#endif
