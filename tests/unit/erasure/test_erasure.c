/*
 * tests/unit/erasure/test_erasure.c: the erasure layer (STYLE 2.12 "Erasure
 * coding against the reference"): ISA-L equals the reference codec, every
 * loss pattern of up to m shards decodes, bitrot hashes catch every single-bit
 * flip, the stripe geometry, split/join and the start-up self-test.
 */
#include "util/base.h"

#include <pthread.h>

#include "erasure/erasure.h"
#include "harness.h"

/* k + m shards of `len` bytes in one allocation; the caller frees shards[0]. */
static void
alloc_shards(unsigned n, size_t len, uint8_t **shards)
{
    uint8_t *mem = xcalloc(n, len ? len : 1);
    unsigned i;

    for (i = 0; i < n; i++)
        shards[i] = mem + i * len;
}

TEST(erasure_new_rejects_bad_geometry)
{
    struct erasure *e;

    ASSERT(erasure_new(0, 2) == NULL);
    ASSERT(erasure_new(15, 2) == NULL);
    ASSERT(erasure_new(0, 0) == NULL);
    ASSERT(erasure_new(2, UINT32_MAX) == NULL);
    e = erasure_new(16, 0);
    ASSERT(e != NULL);
    ASSERT_EQ(erasure_k(e), 16);
    ASSERT_EQ(erasure_m(e), 0);
    erasure_free(e);
    e = erasure_new(1, 15);
    ASSERT(e != NULL);
    ASSERT_EQ(erasure_m(e), 15);
    erasure_free(e);
}

/* ISA-L parity == reference parity for one geometry and length. */
static void
check_against_ref(unsigned k, unsigned m, size_t len, uint64_t *rng)
{
    struct erasure *e = erasure_new(k, m);
    uint8_t *a[ERASURE_MAX_SHARDS], *b[ERASURE_MAX_SHARDS];

    ASSERT(e != NULL);
    alloc_shards(k + m, len, a);
    alloc_shards(k + m, len, b);
    harness_fill_random(rng, a[0], k * len);
    memcpy(b[0], a[0], k * len);
    erasure_encode(e, a, len);
    erasure_ref_encode(k, m, b, len);
    if (memcmp(a[0], b[0], (k + m) * len) != 0)
        harness_fail(__FILE__, __LINE__, "ISA-L != reference for %u+%u, len %zu", k, m, len);
    free(a[0]);
    free(b[0]);
    erasure_free(e);
}

TEST(erasure_encode_matches_reference)
{
    static const unsigned geo[][2] = { { 2, 2 }, { 4, 2 },  { 8, 4 },  { 3, 3 }, { 12, 4 },
                                       { 1, 1 }, { 1, 15 }, { 5, 3 },  { 6, 2 }, { 10, 6 },
                                       { 7, 1 }, { 14, 2 }, { 16, 0 }, { 9, 7 } };
    static const size_t lens[] = { 1, 7, 16, 31, 64, 100, 4096 + 3 };
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    size_t g, l;

    for (g = 0; g < ARRAY_SIZE(geo); g++)
        for (l = 0; l < ARRAY_SIZE(lens); l++)
            check_against_ref(geo[g][0], geo[g][1], lens[l], &rng);
}

/*
 * Encodes random data, then for every mask of lost shards with at most m bits
 * overwrites the lost shards with garbage, decodes, and compares all shards.
 */
static void
check_every_loss(unsigned k, unsigned m, size_t len)
{
    struct erasure *e = erasure_new(k, m);
    uint8_t *shards[ERASURE_MAX_SHARDS], *want;
    bool present[ERASURE_MAX_SHARDS];
    unsigned n = k + m, mask, i, patterns = 0;
    uint64_t rng = 42 + k * 100 + m;

    alloc_shards(n, len, shards);
    harness_fill_random(&rng, shards[0], k * len);
    erasure_encode(e, shards, len);
    want = xmemdup(shards[0], n * len);
    for (mask = 0; mask < (1U << n); mask++) {
        if ((unsigned)__builtin_popcount(mask) > m)
            continue;
        for (i = 0; i < n; i++) {
            present[i] = !(mask & (1U << i));
            if (!present[i])
                memset(shards[i], 0xa5 ^ (int)i, len);
        }
        ASSERT_OK(erasure_decode(e, shards, present, len));
        if (memcmp(shards[0], want, n * len) != 0)
            harness_fail(__FILE__, __LINE__, "%u+%u: loss mask 0x%x decodes wrong", k, m, mask);
        patterns++;
    }
    ASSERT(patterns > n);
    free(want);
    free(shards[0]);
    erasure_free(e);
}

TEST(erasure_decode_every_loss_2_2)
{
    check_every_loss(2, 2, 1);
    check_every_loss(2, 2, 4096 + 3);
}

TEST(erasure_decode_every_loss_4_2)
{
    check_every_loss(4, 2, 7);
    check_every_loss(4, 2, 4096 + 3);
}

TEST(erasure_decode_every_loss_8_4)
{
    check_every_loss(8, 4, 1);
    check_every_loss(8, 4, 1000 + 3);
}

TEST(erasure_decode_every_loss_other)
{
    check_every_loss(3, 3, 33);
    check_every_loss(1, 3, 5);
    check_every_loss(5, 1, 65);
}

TEST(erasure_decode_too_few_is_corrupt)
{
    struct erasure *e = erasure_new(4, 2);
    uint8_t *shards[ERASURE_MAX_SHARDS], *want;
    bool present[6] = { true, false, true, false, true, false };
    uint64_t rng = 7;
    size_t len = 100;

    alloc_shards(6, len, shards);
    harness_fill_random(&rng, shards[0], 4 * len);
    erasure_encode(e, shards, len);
    want = xmemdup(shards[0], 6 * len);
    ASSERT_EQ(erasure_decode(e, shards, present, len), -ERR_CORRUPT);
    ASSERT_MEMEQ(shards[0], want, 6 * len); /* nothing written */
    memset(present, 0, sizeof(present));
    ASSERT_EQ(erasure_decode(e, shards, present, len), -ERR_CORRUPT);
    free(want);
    free(shards[0]);
    erasure_free(e);
}

TEST(erasure_decode_without_parity)
{
    struct erasure *e = erasure_new(3, 0);
    uint8_t *shards[ERASURE_MAX_SHARDS];
    bool all[3] = { true, true, true }, one_lost[3] = { true, false, true };

    alloc_shards(3, 10, shards);
    erasure_encode(e, shards, 10);
    ASSERT_OK(erasure_decode(e, shards, all, 10));
    ASSERT_EQ(erasure_decode(e, shards, one_lost, 10), -ERR_CORRUPT);
    free(shards[0]);
    erasure_free(e);
}

struct decode_job {
    const struct erasure *e;
    unsigned seed;
    bool ok;
};

static void *
decode_thread(void *arg)
{
    struct decode_job *job = arg;
    uint8_t *shards[ERASURE_MAX_SHARDS], *want;
    bool present[12];
    uint64_t rng = job->seed;
    unsigned i, round;
    size_t len = 1000;

    alloc_shards(12, len, shards);
    harness_fill_random(&rng, shards[0], 8 * len);
    erasure_encode(job->e, shards, len);
    want = xmemdup(shards[0], 12 * len);
    job->ok = true;
    for (round = 0; round < 200; round++) {
        for (i = 0; i < 12; i++)
            present[i] = (i + round + job->seed) % 3 != 0; /* 4 of 12 lost */
        for (i = 0; i < 12; i++)
            if (!present[i])
                memset(shards[i], 0, len);
        if (erasure_decode(job->e, shards, present, len) != 0 ||
            memcmp(shards[0], want, 12 * len) != 0)
            job->ok = false;
    }
    free(want);
    free(shards[0]);
    return NULL;
}

/* One struct erasure shared by threads without a lock (its contract). */
TEST(erasure_decode_shared_by_threads)
{
    struct erasure *e = erasure_new(8, 4);
    struct decode_job jobs[4];
    pthread_t tids[4];
    unsigned i;

    for (i = 0; i < 4; i++) {
        jobs[i] = (struct decode_job){ .e = e, .seed = i + 1 };
        ASSERT_EQ(pthread_create(&tids[i], NULL, decode_thread, &jobs[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(tids[i], NULL);
        ASSERT(jobs[i].ok);
    }
    erasure_free(e);
}

TEST(bitrot_every_bit_flip)
{
    uint8_t block[4096], hash[ERASURE_HASH_LEN];
    uint64_t rng = 1234;
    size_t bit;

    harness_fill_random(&rng, block, sizeof(block));
    bitrot_hash(block, sizeof(block), hash);
    ASSERT(bitrot_verify(block, sizeof(block), hash));
    for (bit = 0; bit < sizeof(block) * 8; bit++) {
        block[bit / 8] ^= (uint8_t)(1U << (bit % 8));
        if (bitrot_verify(block, sizeof(block), hash))
            harness_fail(__FILE__, __LINE__, "flip of bit %zu not detected", bit);
        block[bit / 8] ^= (uint8_t)(1U << (bit % 8));
    }
    for (bit = 0; bit < ERASURE_HASH_LEN * 8; bit++) {
        hash[bit / 8] ^= (uint8_t)(1U << (bit % 8));
        if (bitrot_verify(block, sizeof(block), hash))
            harness_fail(__FILE__, __LINE__, "flip of hash bit %zu not detected", bit);
        hash[bit / 8] ^= (uint8_t)(1U << (bit % 8));
    }
    ASSERT(bitrot_verify(block, sizeof(block), hash));
    ASSERT(!bitrot_verify(block, sizeof(block) - 1, hash)); /* truncation */
}

/*
 * XXH3-128 (seed 0) of the first `len` bytes of xxHash's sanity-test buffer,
 * from xxHash's own test vectors, in canonical (high 64 bits first) order.
 */
TEST(bitrot_known_answers)
{
    static const struct {
        size_t len;
        uint64_t high, low;
    } vec[] = {
        { 0, 0x99AA06D3014798D8ULL, 0x6001C324468D497FULL },
        { 1, 0xA6CD5E9392000F6AULL, 0xC44BDFF4074EECDBULL },
        { 222, 0x337E09641B948717ULL, 0xF1AEBD597CEC6B3AULL },
        { 2048, 0xF736557FD47073A5ULL, 0xDD59E2C3A5F038E0ULL },
        { 2367, 0xE89C0F6FF369B427ULL, 0xCB37AEB9E5D361EDULL },
    };
    uint8_t buf[2367], want[ERASURE_HASH_LEN], got[ERASURE_HASH_LEN];
    uint64_t gen = 2654435761U;
    size_t i, j;

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(gen >> 56);
        gen *= 11400714785074694797ULL;
    }
    for (i = 0; i < ARRAY_SIZE(vec); i++) {
        for (j = 0; j < 8; j++) {
            want[j] = (uint8_t)(vec[i].high >> (56 - 8 * j));
            want[8 + j] = (uint8_t)(vec[i].low >> (56 - 8 * j));
        }
        bitrot_hash(buf, vec[i].len, got);
        ASSERT_MEMEQ(got, want, ERASURE_HASH_LEN);
        ASSERT(bitrot_verify(buf, vec[i].len, want));
    }
}

#define B ERASURE_BLOCK_SIZE

/* Hand-computed: S_full = ceil(B / k); every full block takes 16 + S_full bytes. */
static const struct geometry_case {
    unsigned k;
    uint64_t size;
    uint64_t nblocks;
    size_t last_len;       /* length of the last block */
    size_t last_shard_len; /* S of the last block */
    uint64_t last_offset;  /* offset of the last block's hash */
    uint64_t file_size;
} geometry_cases[] = {
    /* k = 2: S_full = 524288, stride 524304 */
    { 2, 0, 0, 0, 0, 0, 0 },
    { 2, 1, 1, 1, 1, 0, 17 },
    { 2, B - 1, 1, B - 1, 524288, 0, 524304 },
    { 2, B, 1, B, 524288, 0, 524304 },
    { 2, B + 1, 2, 1, 1, 524304, 524321 },
    { 2, 5 * (uint64_t)B + 17, 6, 17, 9, 2621520, 2621545 },
    /* k = 3: S_full = 349526 (3 * 349525 = B - 1), stride 349542 */
    { 3, 0, 0, 0, 0, 0, 0 },
    { 3, 1, 1, 1, 1, 0, 17 },
    { 3, B - 1, 1, B - 1, 349525, 0, 349541 },
    { 3, B, 1, B, 349526, 0, 349542 },
    { 3, B + 1, 2, 1, 1, 349542, 349559 },
    { 3, 5 * (uint64_t)B + 17, 6, 17, 6, 1747710, 1747732 },
};

static void
check_geometry(const struct geometry_case *c)
{
    uint64_t n = erasure_nblocks(c->size, B), blk;

    ASSERT_EQ(n, c->nblocks);
    ASSERT_EQ(erasure_shard_file_size(c->k, c->size, B), c->file_size);
    ASSERT_EQ(erasure_shard_offset(c->k, c->size, B, n), c->file_size);
    ASSERT_EQ(erasure_block_len(c->size, B, n), 0);
    if (n == 0)
        return;
    ASSERT_EQ(erasure_block_len(c->size, B, n - 1), c->last_len);
    ASSERT_EQ(erasure_shard_len(c->k, c->last_len), c->last_shard_len);
    ASSERT_EQ(erasure_shard_offset(c->k, c->size, B, n - 1), c->last_offset);
    ASSERT_EQ(c->last_offset + ERASURE_HASH_LEN + c->last_shard_len, c->file_size);
    for (blk = 0; blk + 1 < n; blk++) {
        ASSERT_EQ(erasure_block_len(c->size, B, blk), B);
        ASSERT_EQ(erasure_shard_offset(c->k, c->size, B, blk),
                  blk * (ERASURE_HASH_LEN + erasure_shard_len(c->k, B)));
    }
}

TEST(erasure_geometry_k2_k3)
{
    size_t i;

    ASSERT_EQ(erasure_shard_len(2, B), 524288);
    ASSERT_EQ(erasure_shard_len(3, B), 349526);
    ASSERT_EQ(erasure_shard_len(3, 0), 0);
    for (i = 0; i < ARRAY_SIZE(geometry_cases); i++)
        check_geometry(&geometry_cases[i]);
}

/* Split then join gives the block back; the shards hold the block then zeros. */
static void
check_split_join(unsigned k, size_t len, uint64_t *rng)
{
    size_t s = erasure_shard_len(k, len);
    uint8_t *block = xmalloc(len + 1), *back = xmalloc(len + 1);
    uint8_t *shards[ERASURE_MAX_SHARDS], *flat;
    unsigned i;

    harness_fill_random(rng, block, len);
    alloc_shards(k, s, shards);
    memset(shards[0], 0xee, (size_t)k * s);
    erasure_split(k, block, len, shards);
    flat = shards[0];
    ASSERT_MEMEQ(flat, block, len);
    for (i = 0; len + i < (size_t)k * s; i++)
        ASSERT_EQ(flat[len + i], 0);
    erasure_join(k, shards, len, back);
    ASSERT_MEMEQ(back, block, len);
    free(shards[0]);
    free(block);
    free(back);
}

TEST(erasure_split_join_roundtrip)
{
    static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 15, 16, 17, 100, 4096 + 3 };
    uint64_t rng = 99;
    unsigned k;
    size_t l;

    for (k = 1; k <= ERASURE_MAX_SHARDS; k++)
        for (l = 0; l < ARRAY_SIZE(lens); l++)
            check_split_join(k, lens[l], &rng);
}

TEST(erasure_selftest_passes)
{
    ASSERT_OK(erasure_selftest());
}
