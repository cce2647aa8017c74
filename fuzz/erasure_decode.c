/*
 * fuzz/erasure_decode.c: libFuzzer target for the erasure codec (STYLE 2.12
 * "shard decoding with random losses"). Encodes the input with ISA-L, checks
 * the parity against the reference codec, drops shards, decodes, and aborts
 * unless every shard and the joined block come back byte for byte.
 *
 * Input layout:
 *   byte 0     k = 1 + b % 16
 *   byte 1     m = b % (17 - k), so k + m <= 16
 *   byte 2     bit 0 set: use the loss mask as is, even past m losses (then
 *              the decoder must answer -ERR_CORRUPT); clear: keep only the
 *              first m lost shards of the mask
 *   bytes 3-4  loss mask, little-endian, bit i = shard i lost
 *   rest       the block, split into k data shards
 */
#include "util/base.h"

#include "erasure/erasure.h"
#include "util/err.h"

#define HEADER_LEN 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_case {
    unsigned k, m, n;
    bool present[ERASURE_MAX_SHARDS];
    unsigned lost;
    const uint8_t *block;
    size_t block_len, len; /* len: bytes per shard */
};

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "erasure_decode: check failed: %s\n", #cond);                          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void
parse_case(const uint8_t *data, size_t size, struct fuzz_case *c)
{
    unsigned mask = data[3] | (unsigned)data[4] << 8, i;
    bool raw = data[2] & 1;

    c->k = 1 + data[0] % 16;
    c->m = data[1] % (17 - c->k);
    c->n = c->k + c->m;
    c->lost = 0;
    for (i = 0; i < c->n; i++) {
        c->present[i] = true;
        if (!(mask & (1U << i)) || (!raw && c->lost == c->m))
            continue;
        c->present[i] = false;
        c->lost++;
    }
    c->block = data + HEADER_LEN;
    c->block_len = size - HEADER_LEN;
    c->len = erasure_shard_len(c->k, c->block_len);
}

/* Parity from ISA-L equals parity from the reference codec. */
static void
check_reference(const struct fuzz_case *c, uint8_t *const *shards)
{
    uint8_t *ref[ERASURE_MAX_SHARDS];
    uint8_t *mem = xcalloc(c->n, c->len ? c->len : 1);
    unsigned i;

    for (i = 0; i < c->n; i++)
        ref[i] = mem + i * c->len;
    memcpy(mem, shards[0], c->k * c->len);
    erasure_ref_encode(c->k, c->m, ref, c->len);
    CHECK(memcmp(mem, shards[0], c->n * c->len) == 0);
    free(mem);
}

static void
run_case(const struct fuzz_case *c, struct erasure *e, uint8_t *const *shards, uint8_t *want)
{
    uint8_t *back;
    unsigned i;
    int rc;

    erasure_split(c->k, c->block, c->block_len, shards);
    erasure_encode(e, shards, c->len);
    check_reference(c, shards);
    memcpy(want, shards[0], c->n * c->len);
    for (i = 0; i < c->n; i++)
        if (!c->present[i])
            memset(shards[i], 0xa5, c->len);
    rc = erasure_decode(e, shards, c->present, c->len);
    if (c->lost > c->m) {
        CHECK(rc == -ERR_CORRUPT);
        return;
    }
    CHECK(rc == 0);
    CHECK(memcmp(shards[0], want, c->n * c->len) == 0);
    back = xmalloc(c->block_len + 1);
    erasure_join(c->k, shards, c->block_len, back);
    CHECK(memcmp(back, c->block, c->block_len) == 0);
    free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *shards[ERASURE_MAX_SHARDS], *mem, *want;
    struct fuzz_case c;
    struct erasure *e;
    unsigned i;

    if (size < HEADER_LEN)
        return 0;
    parse_case(data, size, &c);
    e = erasure_new(c.k, c.m);
    CHECK(e != NULL);
    mem = xcalloc(2 * c.n, c.len ? c.len : 1);
    want = mem + c.n * c.len;
    for (i = 0; i < c.n; i++)
        shards[i] = mem + i * c.len;
    run_case(&c, e, shards, want);
    free(mem);
    erasure_free(e);
    return 0;
}
