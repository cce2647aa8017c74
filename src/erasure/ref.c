/*
 * erasure/ref.c: the reference Reed-Solomon encoder, for tests only.
 *
 * Slow and simple on purpose (STYLE 2.1, ISA-L's ec_base.c beside its
 * per-arch versions): GF(2^8) multiplication by shift-and-add modulo the
 * polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), inverses by exponentiation,
 * and the same Cauchy encode matrix as ISA-L's gf_gen_cauchy1_matrix: the
 * k x k identity on top (systematic code), then for parity row i (k <= i <
 * k + m) and column j the element 1 / (i ^ j). It shares no code with
 * erasure.c, so tests/unit/erasure/test_erasure.c can compare the two.
 * The contract of erasure_ref_encode() is in erasure.h.
 */
#include "util/base.h"

#include "erasure/erasure.h"

#define REF_POLY 0x11d

static uint8_t
ref_mul(uint8_t a, uint8_t b)
{
    unsigned x = a, y = b, r = 0;

    while (y) {
        if (y & 1)
            r ^= x;
        y >>= 1;
        x <<= 1;
        if (x & 0x100)
            x ^= REF_POLY;
    }
    return (uint8_t)r;
}

/* a^254 == a^-1 in GF(2^8) for a != 0 (the multiplicative group has order 255). */
static uint8_t
ref_inv(uint8_t a)
{
    uint8_t r = 1;
    unsigned i;

    BUG_ON(a == 0);
    for (i = 0; i < 254; i++)
        r = ref_mul(r, a);
    return r;
}

/* The parity rows of the Cauchy matrix: coef[r * k + j] for parity r. */
static void
build_parity_matrix(unsigned k, unsigned m, uint8_t *coef)
{
    unsigned r, j;

    for (r = 0; r < m; r++)
        for (j = 0; j < k; j++)
            coef[r * k + j] = ref_inv((uint8_t)((k + r) ^ j));
}

void
erasure_ref_encode(unsigned k, unsigned m, uint8_t *const *shards, size_t len)
{
    uint8_t coef[ERASURE_MAX_SHARDS * ERASURE_MAX_SHARDS];
    unsigned r, j;
    size_t b;

    BUG_ON(k < 1 || k > ERASURE_MAX_SHARDS || m > ERASURE_MAX_SHARDS - k);
    build_parity_matrix(k, m, coef);
    for (r = 0; r < m; r++) {
        uint8_t *out = shards[k + r];

        for (b = 0; b < len; b++) {
            uint8_t acc = 0;

            for (j = 0; j < k; j++)
                acc ^= ref_mul(coef[r * k + j], shards[j][b]);
            out[b] = acc;
        }
    }
}
