/*
 * tests/unit/util/test_md5.c: util/md5 against RFC 1321's test suite and
 * against OpenSSL's MD5 on pseudo-random inputs: one stream fed in random
 * pieces, and md5_update_many() over 1 to 20 streams with random segments
 * (empty ones, unaligned ones, streams that already hold part of a block).
 */
#include "util/base.h"

#include <openssl/evp.h>

#include "harness.h"
#include "util/enc.h"
#include "util/md5.h"

static void
openssl_md5(const void *p, size_t n, uint8_t out[MD5_SIZE])
{
    unsigned len = 0;

    BUG_ON(!EVP_Digest(p, n, out, &len, EVP_md5(), NULL) || len != MD5_SIZE);
}

TEST(md5_rfc1321_suite)
{
    static const char *const in[] = {
        "",
        "a",
        "abc",
        "message digest",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
    };
    static const char *const want[] = {
        "d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
        "900150983cd24fb0d6963f7d28e17f72", "f96b697d7cb7938d525a2f31aaf161d0",
        "c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
        "57edf4a22be3c955ac49da2e2107b67a",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(in); i++) {
        struct md5 c;
        uint8_t d[MD5_SIZE];
        char hex[2 * MD5_SIZE + 1];

        md5_init(&c);
        md5_update(&c, in[i], strlen(in[i]));
        md5_final(&c, d);
        hex_encode_to(hex, d, MD5_SIZE);
        ASSERT_STREQ(hex, want[i]);
    }
}

TEST(md5_pieces_match_openssl)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    uint8_t *data = xmalloc(70000);
    unsigned round;

    harness_fill_random(&rng, data, 70000);
    for (round = 0; round < 300; round++) {
        /* every length around the padding edges first, then random ones */
        size_t n = round < 200 ? round : (size_t)(harness_rand(&rng) % 70000), off = 0;
        struct md5 c;
        uint8_t got[MD5_SIZE], want[MD5_SIZE];

        md5_init(&c);
        while (off < n) {
            size_t want_len = (size_t)(harness_rand(&rng) % 200), take = MIN(n - off, want_len);

            md5_update(&c, data + off, take);
            off += take;
        }
        md5_final(&c, got);
        openssl_md5(data, n, want);
        ASSERT_MEMEQ(got, want, MD5_SIZE);
    }
    free(data);
}

#define MANY 20
#define SEGS 5

/*
 * One round: MANY streams; stream s first takes `pre` bytes by
 * md5_update(), then its segments by md5_update_many() over the first `n`
 * streams (with the rest after, one by one), then more bytes by
 * md5_update(); each digest must be OpenSSL's of the whole.
 */
static void
many_round(uint64_t *rng, uint8_t *data, size_t datalen, unsigned n, bool equal)
{
    struct md5 ctx[MANY];
    struct iovec iov[MANY][SEGS];
    struct md5_input in[MANY];
    uint8_t *whole[MANY];
    size_t wlen[MANY], post[MANY], seglen = 0;
    unsigned s, g;

    if (equal) /* the PUT's case: every stream has the same lengths, whole blocks */
        seglen = 64 * (1 + harness_rand(rng) % 40);
    for (s = 0; s < MANY; s++) {
        size_t pre = equal ? 0 : harness_rand(rng) % 130, off;
        unsigned nseg = equal ? 2 : (unsigned)(harness_rand(rng) % (SEGS + 1));
        uint8_t *cur;

        whole[s] = xmalloc(pre + 100 + SEGS * 5000 + 1);
        cur = whole[s];
        off = harness_rand(rng) % (datalen - 5000);
        memcpy(cur, data + off, pre);
        cur += pre;
        md5_init(&ctx[s]);
        md5_update(&ctx[s], data + off, pre);
        for (g = 0; g < nseg; g++) {
            size_t len = equal ? seglen : harness_rand(rng) % 5 == 0 ? 0 : harness_rand(rng) % 5000;
            size_t at = harness_rand(rng) % (datalen - len); /* any alignment */

            iov[s][g] = (struct iovec){ .iov_base = data + at, .iov_len = len };
            memcpy(cur, data + at, len);
            cur += len;
        }
        in[s] = (struct md5_input){ .ctx = &ctx[s], .iov = iov[s], .iovcnt = nseg };
        post[s] = harness_rand(rng) % 100;
        memcpy(cur, data + off, post[s]);
        wlen[s] = (size_t)(cur - whole[s]) + post[s];
    }
    md5_update_many(in, n);
    for (s = n; s < MANY; s++)
        md5_update_many(&in[s], 1);
    for (s = 0; s < MANY; s++) {
        uint8_t got[MD5_SIZE], want[MD5_SIZE];

        md5_update(&ctx[s], whole[s] + wlen[s] - post[s], post[s]);
        openssl_md5(whole[s], wlen[s], want);
        md5_final(&ctx[s], got);
        ASSERT_MEMEQ(got, want, MD5_SIZE);
        free(whole[s]);
    }
}

TEST(md5_many_streams_match_openssl)
{
    if (!md5_simd_available())
        fprintf(stderr,
                "    note: no AVX2 on this CPU: md5_update_many() runs one stream at a time\n");
    uint64_t rng = 0x243f6a8885a308d3ull;
    size_t datalen = 1 << 16;
    uint8_t *data = xmalloc(datalen);
    unsigned round;

    harness_fill_random(&rng, data, datalen);
    for (round = 0; round < 400; round++)
        many_round(&rng, data, datalen, 1 + round % MANY, round % 4 == 0);
    free(data);
}

/* Long runs in the lanes: eight 1 MiB blocks as two 512 KiB segments each. */
TEST(md5_many_streams_long)
{
    uint64_t rng = 7;
    size_t half = 512 * 1024;
    uint8_t *data = xmalloc(8 * 2 * half);
    struct md5 ctx[8];
    struct iovec iov[8][2];
    struct md5_input in[8];
    unsigned s;

    harness_fill_random(&rng, data, 8 * 2 * half);
    for (s = 0; s < 8; s++) {
        md5_init(&ctx[s]);
        iov[s][0] = (struct iovec){ data + s * 2 * half, half };
        iov[s][1] = (struct iovec){ data + s * 2 * half + half, half - 3 * s }; /* ragged ends */
        in[s] = (struct md5_input){ .ctx = &ctx[s], .iov = iov[s], .iovcnt = 2 };
    }
    md5_update_many(in, 8);
    for (s = 0; s < 8; s++) {
        uint8_t got[MD5_SIZE], want[MD5_SIZE];

        md5_final(&ctx[s], got);
        openssl_md5(data + s * 2 * half, 2 * half - 3 * s, want);
        ASSERT_MEMEQ(got, want, MD5_SIZE);
    }
    free(data);
}
