/*
 * util/md5.c: MD5 for one stream (plain C) and for eight streams in the
 * lanes of AVX2 registers (see util/md5.h for why it is here).
 *
 * Both compress 64-byte blocks with the same 64 steps, listed once in
 * MD5_STEPS: step (f, a, b, c, d, i, k, s) is
 *     a = b + rotl(a + f(b, c, d) + x[i] + k, s)
 * with the round functions F, G, H, I of RFC 1321. b is the value computed
 * last, so each step is as fast as the operations that wait for it: x[i] +
 * k is added to a first, F is d ^ (b & (c ^ d)), and G, whose two terms
 * never have a bit in common, is (b & d) + (c & ~d), the second term
 * computed before b is known (one stream 627 -> 698 MB/s, eight 2,554 ->
 * 2,929 MB/s, make bench-md5; docs/benchmarks.md).
 */
#include "util/base.h"

#include "util/md5.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define MD5_HAVE_X86 1
#endif

/* clang-format off */
#define MD5_STEPS(S)                                                                    \
    S(F, a, b, c, d, 0, 0xd76aa478, 7)  S(F, d, a, b, c, 1, 0xe8c7b756, 12)            \
    S(F, c, d, a, b, 2, 0x242070db, 17) S(F, b, c, d, a, 3, 0xc1bdceee, 22)            \
    S(F, a, b, c, d, 4, 0xf57c0faf, 7)  S(F, d, a, b, c, 5, 0x4787c62a, 12)            \
    S(F, c, d, a, b, 6, 0xa8304613, 17) S(F, b, c, d, a, 7, 0xfd469501, 22)            \
    S(F, a, b, c, d, 8, 0x698098d8, 7)  S(F, d, a, b, c, 9, 0x8b44f7af, 12)            \
    S(F, c, d, a, b, 10, 0xffff5bb1, 17) S(F, b, c, d, a, 11, 0x895cd7be, 22)          \
    S(F, a, b, c, d, 12, 0x6b901122, 7) S(F, d, a, b, c, 13, 0xfd987193, 12)           \
    S(F, c, d, a, b, 14, 0xa679438e, 17) S(F, b, c, d, a, 15, 0x49b40821, 22)          \
    S(G, a, b, c, d, 1, 0xf61e2562, 5)  S(G, d, a, b, c, 6, 0xc040b340, 9)             \
    S(G, c, d, a, b, 11, 0x265e5a51, 14) S(G, b, c, d, a, 0, 0xe9b6c7aa, 20)           \
    S(G, a, b, c, d, 5, 0xd62f105d, 5)  S(G, d, a, b, c, 10, 0x02441453, 9)            \
    S(G, c, d, a, b, 15, 0xd8a1e681, 14) S(G, b, c, d, a, 4, 0xe7d3fbc8, 20)           \
    S(G, a, b, c, d, 9, 0x21e1cde6, 5)  S(G, d, a, b, c, 14, 0xc33707d6, 9)            \
    S(G, c, d, a, b, 3, 0xf4d50d87, 14) S(G, b, c, d, a, 8, 0x455a14ed, 20)            \
    S(G, a, b, c, d, 13, 0xa9e3e905, 5) S(G, d, a, b, c, 2, 0xfcefa3f8, 9)             \
    S(G, c, d, a, b, 7, 0x676f02d9, 14) S(G, b, c, d, a, 12, 0x8d2a4c8a, 20)           \
    S(H, a, b, c, d, 5, 0xfffa3942, 4)  S(H, d, a, b, c, 8, 0x8771f681, 11)            \
    S(H, c, d, a, b, 11, 0x6d9d6122, 16) S(H, b, c, d, a, 14, 0xfde5380c, 23)          \
    S(H, a, b, c, d, 1, 0xa4beea44, 4)  S(H, d, a, b, c, 4, 0x4bdecfa9, 11)            \
    S(H, c, d, a, b, 7, 0xf6bb4b60, 16) S(H, b, c, d, a, 10, 0xbebfbc70, 23)           \
    S(H, a, b, c, d, 13, 0x289b7ec6, 4) S(H, d, a, b, c, 0, 0xeaa127fa, 11)            \
    S(H, c, d, a, b, 3, 0xd4ef3085, 16) S(H, b, c, d, a, 6, 0x04881d05, 23)            \
    S(H, a, b, c, d, 9, 0xd9d4d039, 4)  S(H, d, a, b, c, 12, 0xe6db99e5, 11)           \
    S(H, c, d, a, b, 15, 0x1fa27cf8, 16) S(H, b, c, d, a, 2, 0xc4ac5665, 23)           \
    S(I, a, b, c, d, 0, 0xf4292244, 6)  S(I, d, a, b, c, 7, 0x432aff97, 10)            \
    S(I, c, d, a, b, 14, 0xab9423a7, 15) S(I, b, c, d, a, 5, 0xfc93a039, 21)           \
    S(I, a, b, c, d, 12, 0x655b59c3, 6) S(I, d, a, b, c, 3, 0x8f0ccc92, 10)            \
    S(I, c, d, a, b, 10, 0xffeff47d, 15) S(I, b, c, d, a, 1, 0x85845dd1, 21)           \
    S(I, a, b, c, d, 8, 0x6fa87e4f, 6)  S(I, d, a, b, c, 15, 0xfe2ce6e0, 10)           \
    S(I, c, d, a, b, 6, 0xa3014314, 15) S(I, b, c, d, a, 13, 0x4e0811a1, 21)           \
    S(I, a, b, c, d, 4, 0xf7537e82, 6)  S(I, d, a, b, c, 11, 0xbd3af235, 10)           \
    S(I, c, d, a, b, 2, 0x2ad7d2bb, 15) S(I, b, c, d, a, 9, 0xeb86d391, 21)
/* clang-format on */

/* ---- one stream ---- */

#define F1(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define G1(b, c, d) (((b) & (d)) + ((c) & ~(d)))
#define H1(b, c, d) ((b) ^ (c) ^ (d))
#define I1(b, c, d) ((c) ^ ((b) | ~(d)))
#define STEP1(f, a, b, c, d, i, k, s)                                                              \
    a += x[i] + (uint32_t)(k);                                                                     \
    a += f##1(b, c, d);                                                                            \
    a = b + ((a << s) | (a >> (32 - s)));

static inline uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
blocks1(uint32_t h[4], const uint8_t *p, size_t nblocks)
{
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];

    for (; nblocks; nblocks--, p += 64) {
        uint32_t x[16], a0 = a, b0 = b, c0 = c, d0 = d;
        unsigned i;

        for (i = 0; i < 16; i++)
            x[i] = le32(p + 4 * i);
        MD5_STEPS(STEP1)
        a += a0;
        b += b0;
        c += c0;
        d += d0;
    }
    h[0] = a;
    h[1] = b;
    h[2] = c;
    h[3] = d;
}

void
md5_init(struct md5 *c)
{
    c->_h[0] = 0x67452301;
    c->_h[1] = 0xefcdab89;
    c->_h[2] = 0x98badcfe;
    c->_h[3] = 0x10325476;
    c->_len = 0;
    c->_nbuf = 0;
}

void
md5_update(struct md5 *c, const void *data, size_t n)
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

void
md5_final(struct md5 *c, uint8_t out[MD5_SIZE])
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
        c->_buf[56 + i] = (uint8_t)(bits >> (8 * i));
    blocks1(c->_h, c->_buf, 1);
    for (i = 0; i < 16; i++)
        out[i] = (uint8_t)(c->_h[i / 4] >> (8 * (i % 4)));
}

/* ---- eight streams: lane l of each register belongs to stream l ---- */

#ifdef MD5_HAVE_X86
#define VADD(x, y) _mm256_add_epi32((x), (y))
#define F8(b, c, d) _mm256_xor_si256((d), _mm256_and_si256((b), _mm256_xor_si256((c), (d))))
#define G8(b, c, d) VADD(_mm256_and_si256((b), (d)), _mm256_andnot_si256((d), (c)))
#define H8(b, c, d) _mm256_xor_si256(_mm256_xor_si256((b), (c)), (d))
#define I8(b, c, d) _mm256_xor_si256((c), _mm256_or_si256((b), _mm256_xor_si256((d), ones)))
#define STEP8(f, a, b, c, d, i, k, s)                                                              \
    a = VADD(VADD(a, VADD(x[i], _mm256_set1_epi32((int)(k)))), f##8(b, c, d));                     \
    a = VADD(b, _mm256_or_si256(_mm256_slli_epi32(a, s), _mm256_srli_epi32(a, 32 - s)));

/* Message words i..i+7 of 32 bytes at offset `off` of each lane, as 8 registers (a transpose). */
__attribute__((target("avx2"))) static inline void
load8(__m256i x[8], const uint8_t *const p[MD5_LANES], size_t off)
{
    __m256i r[8], t[8], u[8];
    unsigned l;

    for (l = 0; l < 8; l++)
        r[l] = _mm256_loadu_si256((const __m256i *)(const void *)(p[l] + off));
    for (l = 0; l < 8; l += 2) {
        t[l] = _mm256_unpacklo_epi32(r[l], r[l + 1]);
        t[l + 1] = _mm256_unpackhi_epi32(r[l], r[l + 1]);
    }
    for (l = 0; l < 8; l += 4) {
        u[l] = _mm256_unpacklo_epi64(t[l], t[l + 2]);
        u[l + 1] = _mm256_unpackhi_epi64(t[l], t[l + 2]);
        u[l + 2] = _mm256_unpacklo_epi64(t[l + 1], t[l + 3]);
        u[l + 3] = _mm256_unpackhi_epi64(t[l + 1], t[l + 3]);
    }
    for (l = 0; l < 4; l++) {
        x[l] = _mm256_permute2x128_si256(u[l], u[l + 4], 0x20);
        x[l + 4] = _mm256_permute2x128_si256(u[l], u[l + 4], 0x31);
    }
}

/* Compresses `nblocks` 64-byte blocks of each lane: h[w][l] is word w of lane l's state. */
__attribute__((target("avx2"))) static void
blocks8(uint32_t h[4][MD5_LANES], const uint8_t *const p[MD5_LANES], size_t nblocks)
{
    const __m256i ones = _mm256_set1_epi32(-1);
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)h[0]);
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)h[1]);
    __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)h[2]);
    __m256i d = _mm256_loadu_si256((const __m256i *)(const void *)h[3]);
    size_t blk;

    for (blk = 0; blk < nblocks; blk++) {
        __m256i x[16], a0 = a, b0 = b, c0 = c, d0 = d;

        load8(x, p, blk * 64);
        load8(x + 8, p, blk * 64 + 32);
        MD5_STEPS(STEP8)
        a = VADD(a, a0);
        b = VADD(b, b0);
        c = VADD(c, c0);
        d = VADD(d, d0);
    }
    _mm256_storeu_si256((__m256i *)(void *)h[0], a);
    _mm256_storeu_si256((__m256i *)(void *)h[1], b);
    _mm256_storeu_si256((__m256i *)(void *)h[2], c);
    _mm256_storeu_si256((__m256i *)(void *)h[3], d);
}
#endif

bool
md5_simd_available(void)
{
#ifdef MD5_HAVE_X86
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

/* Where one input stands: its segment `idx`, `left` bytes of it from `p`. */
struct cursor {
    const struct md5_input *in;
    unsigned idx;
    const uint8_t *p;
    size_t left;
    bool done;
};

static void
cursor_init(struct cursor *cu, const struct md5_input *in)
{
    *cu = (struct cursor){ .in = in };
    if (in->iovcnt) {
        cu->p = in->iov[0].iov_base;
        cu->left = in->iov[0].iov_len;
    }
    cu->done = in->iovcnt == 0;
}

/* The rest of one input, alone. */
static void
cursor_finish(struct cursor *cu)
{
    const struct md5_input *in = cu->in;
    unsigned i;

    if (cu->done)
        return;
    md5_update(in->ctx, cu->p, cu->left);
    for (i = cu->idx + 1; i < in->iovcnt; i++)
        md5_update(in->ctx, in->iov[i].iov_base, in->iov[i].iov_len);
    cu->done = true;
}

#ifdef MD5_HAVE_X86
/*
 * Feeds bytes through md5_update() until the stream's buffer is empty and
 * at least one whole block lies at `p` (or the input is used up): what is
 * left for the lanes is then whole blocks straight from the input.
 */
static void
cursor_settle(struct cursor *cu)
{
    struct md5 *c = cu->in->ctx;

    while (!cu->done && (c->_nbuf || cu->left < 64)) {
        size_t take;

        if (cu->left == 0) {
            if (++cu->idx == cu->in->iovcnt) {
                cu->done = true;
                break;
            }
            cu->p = cu->in->iov[cu->idx].iov_base;
            cu->left = cu->in->iov[cu->idx].iov_len;
            continue;
        }
        take = c->_nbuf ? MIN(cu->left, 64 - c->_nbuf) : cu->left;
        md5_update(c, cu->p, take);
        cu->p += take;
        cu->left -= take;
    }
}

/* Up to MD5_LANES inputs together: whole blocks in the lanes, the rest one by one. */
static void
update_lanes(const struct md5_input *in, unsigned n)
{
    struct cursor cu[MD5_LANES];
    uint32_t h[4][MD5_LANES];
    const uint8_t *p[MD5_LANES];
    unsigned l, w;

    for (l = 0; l < n; l++)
        cursor_init(&cu[l], &in[l]);
    for (;;) {
        unsigned active = 0, first = 0;
        size_t nblocks = SIZE_MAX;

        for (l = 0; l < n; l++) {
            cursor_settle(&cu[l]);
            if (cu[l].done)
                continue;
            if (active++ == 0)
                first = l;
            nblocks = MIN(nblocks, cu[l].left / 64);
        }
        if (active == 0)
            return;
        if (active == 1) { /* one lane of eight would be slower than one stream */
            cursor_finish(&cu[first]);
            return;
        }
        for (l = 0; l < MD5_LANES; l++) {
            /* idle lanes hash a copy of an active lane's bytes; their result is dropped */
            const struct cursor *src = l < n && !cu[l].done ? &cu[l] : &cu[first];

            p[l] = src->p;
            for (w = 0; w < 4; w++)
                h[w][l] = src->in->ctx->_h[w];
        }
        blocks8(h, p, nblocks);
        for (l = 0; l < n; l++) {
            struct md5 *c = cu[l].in->ctx;

            if (cu[l].done)
                continue;
            for (w = 0; w < 4; w++)
                c->_h[w] = h[w][l];
            c->_len += nblocks * 64;
            cu[l].p += nblocks * 64;
            cu[l].left -= nblocks * 64;
        }
    }
}
#endif

void
md5_update_many(const struct md5_input *in, unsigned n)
{
    unsigned i;

#ifdef MD5_HAVE_X86
    if (n > 1 && md5_simd_available()) {
        for (i = 0; i < n; i += MD5_LANES)
            update_lanes(in + i, MIN(n - i, (unsigned)MD5_LANES));
        return;
    }
#endif
    for (i = 0; i < n; i++) {
        struct cursor cu;

        cursor_init(&cu, &in[i]);
        cursor_finish(&cu);
    }
}
