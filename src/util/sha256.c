/*
 * util/sha256.c: SHA-256 with the x86 SHA extensions, one stream or two
 * interleaved (see util/sha256.h for why it is here).
 *
 * The extensions keep the state in two registers, ABEF and CDGH (words of
 * the FIPS 180-4 state a..h). sha256rnds2 runs two rounds; each group of four
 * rounds takes four message words, the first 16 byte-swapped from the block,
 * the next 48 from the four before them (sha256msg1, an alignr for W[t-7],
 * sha256msg2). blocks2() is blocks1() twice, the two streams' instructions
 * side by side: each round waits for the one before it of its own stream
 * only, so the other stream's round fills the wait.
 */
#include "util/base.h"

#include "util/sha256.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define SHA256_HAVE_X86 1
#endif

static const uint32_t sha256_iv[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#ifdef SHA256_HAVE_X86
/* clang-format off */
static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
/* clang-format on */

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* h[0..8) to the ABEF and CDGH registers. */
SHA_TARGET static inline void
state_load(const uint32_t h[8], __m128i *abef, __m128i *cdgh)
{
    __m128i dcba = _mm_loadu_si128((const __m128i *)(const void *)h);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)(const void *)(h + 4));
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);

    *abef = _mm_alignr_epi8(cdab, efgh, 8);
    *cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
}

SHA_TARGET static inline void
state_store(uint32_t h[8], __m128i abef, __m128i cdgh)
{
    __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);

    _mm_storeu_si128((__m128i *)(void *)h, _mm_blend_epi16(feba, dchg, 0xf0));
    _mm_storeu_si128((__m128i *)(void *)(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

/* Message words 4i..4i+3 into w[i % 4], from the block (i < 4) or the 16 words before. */
#define SCHEDULE(w, p, i)                                                                          \
    do {                                                                                           \
        if ((i) < 4) {                                                                             \
            w[(i)&3] = _mm_shuffle_epi8(                                                           \
                _mm_loadu_si128((const __m128i *)(const void *)((p) + 16 * (i))), bswap);          \
        } else {                                                                                   \
            __m128i t_ = _mm_sha256msg1_epu32(w[(i)&3], w[((i) + 1) & 3]);                         \
            t_ = _mm_add_epi32(t_, _mm_alignr_epi8(w[((i) + 3) & 3], w[((i) + 2) & 3], 4));        \
            w[(i)&3] = _mm_sha256msg2_epu32(t_, w[((i) + 3) & 3]);                                 \
        }                                                                                          \
    } while (0)

/* Four rounds: message words w[i % 4] plus the constants k[4i..4i+3]. */
#define ROUNDS4(abef, cdgh, w, i)                                                                  \
    do {                                                                                           \
        __m128i m_ = _mm_add_epi32(                                                                \
            w[(i)&3], _mm_loadu_si128((const __m128i *)(const void *)(sha256_k + 4 * (i))));       \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m_);                                              \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m_, 0x0e));                     \
    } while (0)

/* Compresses `nblocks` 64-byte blocks at `p` into h. */
SHA_TARGET static void
blocks1(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef, cdgh;

    state_load(h, &abef, &cdgh);
    for (; nblocks; nblocks--, p += 64) {
        __m128i abef0 = abef, cdgh0 = cdgh, w[4];
        int i;

#pragma GCC unroll 16
        for (i = 0; i < 16; i++) {
            SCHEDULE(w, p, i);
            ROUNDS4(abef, cdgh, w, i);
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    state_store(h, abef, cdgh);
}

/* blocks1(ha, pa, nblocks) and blocks1(hb, pb, nblocks), interleaved. */
SHA_TARGET static void
blocks2(uint32_t ha[8], const uint8_t *pa, uint32_t hb[8], const uint8_t *pb, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef_a, cdgh_a, abef_b, cdgh_b;

    state_load(ha, &abef_a, &cdgh_a);
    state_load(hb, &abef_b, &cdgh_b);
    for (; nblocks; nblocks--, pa += 64, pb += 64) {
        __m128i abef_a0 = abef_a, cdgh_a0 = cdgh_a, abef_b0 = abef_b, cdgh_b0 = cdgh_b;
        __m128i wa[4], wb[4];
        int i;

#pragma GCC unroll 16
        for (i = 0; i < 16; i++) {
            SCHEDULE(wa, pa, i);
            SCHEDULE(wb, pb, i);
            ROUNDS4(abef_a, cdgh_a, wa, i);
            ROUNDS4(abef_b, cdgh_b, wb, i);
        }
        abef_a = _mm_add_epi32(abef_a, abef_a0);
        cdgh_a = _mm_add_epi32(cdgh_a, cdgh_a0);
        abef_b = _mm_add_epi32(abef_b, abef_b0);
        cdgh_b = _mm_add_epi32(cdgh_b, cdgh_b0);
    }
    state_store(ha, abef_a, cdgh_a);
    state_store(hb, abef_b, cdgh_b);
}
#else
static void
blocks1(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    (void)h, (void)p, (void)nblocks;
    BUG_ON(1); /* callers ask sha256_ni_available() first */
}

static void
blocks2(uint32_t ha[8], const uint8_t *pa, uint32_t hb[8], const uint8_t *pb, size_t nblocks)
{
    (void)hb, (void)pb;
    blocks1(ha, pa, nblocks);
}
#endif

#ifdef SHA256_HAVE_X86
static bool
cpu_has_sha(void)
{
    unsigned a, b, c, d;

    /* SHA: leaf 7 EBX bit 29; SSSE3 and SSE4.1: leaf 1 ECX bits 9 and 19 */
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
        return false;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
}
#endif

bool
sha256_ni_available(void)
{
#ifdef SHA256_HAVE_X86
    /* Asked once: cpuid is slow, and a VM exit under a hypervisor. 0 unknown, 1 no, 2 yes. */
    static int known;
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);

    if (v == 0) {
        v = cpu_has_sha() ? 2 : 1;
        __atomic_store_n(&known, v, __ATOMIC_RELAXED);
    }
    return v == 2;
#else
    return false;
#endif
}

void
sha256_init(struct sha256 *c)
{
    memcpy(c->_h, sha256_iv, sizeof(c->_h));
    c->_len = 0;
    c->_nbuf = 0;
}

void
sha256_update(struct sha256 *c, const void *data, size_t n)
{
    const uint8_t *p = data;

    if (n == 0)
        return; /* `data` may be NULL */
    c->_len += n;
    if (c->_nbuf) {
        size_t take = MIN(n, 64 - c->_nbuf);

        memcpy(c->_buf + c->_nbuf, p, take);
        c->_nbuf += (unsigned)take;
        p += take;
        n -= take;
        if (c->_nbuf < 64)
            return;
        blocks1(c->_h, c->_buf, 1);
        c->_nbuf = 0;
    }
    if (n >= 64) {
        blocks1(c->_h, p, n / 64);
        p += n / 64 * 64;
        n %= 64;
    }
    if (n) {
        memcpy(c->_buf, p, n);
        c->_nbuf = (unsigned)n;
    }
}

/* Completes a partly filled block of `c` from *p (one stream): then _nbuf is 0 or *n is. */
static void
settle(struct sha256 *c, const uint8_t **p, size_t *n)
{
    size_t take;

    if (!c->_nbuf || !*n)
        return;
    take = MIN(*n, 64 - c->_nbuf);
    sha256_update(c, *p, take);
    *p += take;
    *n -= take;
}

void
sha256_update2(struct sha256 *a, const void *pa, size_t na, struct sha256 *b, const void *pb,
               size_t nb)
{
    const uint8_t *qa = pa, *qb = pb;
    size_t nblocks;

    BUG_ON(a == b);
    settle(a, &qa, &na);
    settle(b, &qb, &nb);
    nblocks = MIN(na / 64, nb / 64); /* > 0 only if both buffers are empty */
    if (nblocks) {
        blocks2(a->_h, qa, b->_h, qb, nblocks);
        a->_len += nblocks * 64;
        b->_len += nblocks * 64;
        qa += nblocks * 64;
        qb += nblocks * 64;
        na -= nblocks * 64;
        nb -= nblocks * 64;
    }
    sha256_update(a, qa, na);
    sha256_update(b, qb, nb);
}

void
sha256_final(struct sha256 *c, uint8_t out[SHA256_SIZE])
{
    uint64_t bits = c->_len * 8;
    unsigned i;

    c->_buf[c->_nbuf++] = 0x80;
    if (c->_nbuf > 56) {
        memset(c->_buf + c->_nbuf, 0, 64 - c->_nbuf);
        blocks1(c->_h, c->_buf, 1);
        c->_nbuf = 0;
    }
    memset(c->_buf + c->_nbuf, 0, 56 - c->_nbuf);
    for (i = 0; i < 8; i++)
        c->_buf[63 - i] = (uint8_t)(bits >> (8 * i));
    blocks1(c->_h, c->_buf, 1);
    for (i = 0; i < SHA256_SIZE; i++)
        out[i] = (uint8_t)(c->_h[i / 4] >> (24 - 8 * (i % 4)));
}
