/*
 * erasure/erasure.c: the Reed-Solomon codec over ISA-L, the stripe geometry
 * of the shard files, and the start-up self-test (DESIGN.md "Erasure coding").
 *
 * DESIGN: the code. A (k + m) x k encode matrix over GF(2^8) built by
 * gf_gen_cauchy1_matrix: the identity on top, so data shards are the data
 * itself (systematic), and a Cauchy matrix below, every square submatrix of
 * which is invertible, so any k of the k + m shards determine the others.
 *
 *   encode: parity = P * data, P the m x k lower part; the expanded ISA-L
 *           tables for P are built once in erasure_new() and only read after.
 *   decode: take the first k present shards, rows R of the matrix; D = R^-1
 *           maps them back to the data. A missing data shard i is row i of
 *           D; a missing parity shard i is (matrix row i) * D. Those rows go
 *           through ec_init_tables() and ec_encode_data() in one pass.
 *
 * struct erasure holds only what erasure_new() computed: it is shared by all
 * threads without a lock, so decode tables live on the caller's stack (k, m
 * <= 16: at most 16 x 16 x 32 = 8 KiB).
 */
#include "util/base.h"

#include "erasure/erasure.h"

#include <isa-l/erasure_code.h>

#include "obs/log.h"
#include "util/err.h"

#define TABLES_LEN(k, rows) (32 * (k) * (rows)) /* ISA-L expanded tables */
#define MATRIX_MAX (ERASURE_MAX_SHARDS * ERASURE_MAX_SHARDS)
#define CALL_MAX_LEN (1U << 30) /* ec_encode_data() takes an int length */

struct erasure {
    unsigned k, m;
    uint8_t matrix[MATRIX_MAX]; /* (k + m) x k, row-major */
    /* ISA-L tables of the m parity rows of `matrix`, for erasure_encode() */
    uint8_t enc_tables[TABLES_LEN(ERASURE_MAX_SHARDS, ERASURE_MAX_SHARDS)];
};

struct erasure *
erasure_new(unsigned k, unsigned m)
{
    struct erasure *e;

    if (k < 1 || k > ERASURE_MAX_SHARDS || m > ERASURE_MAX_SHARDS - k)
        return NULL;
    e = xcalloc(1, sizeof(*e));
    e->k = k;
    e->m = m;
    gf_gen_cauchy1_matrix(e->matrix, (int)(k + m), (int)k);
    if (m)
        ec_init_tables((int)k, (int)m, &e->matrix[k * k], e->enc_tables);
    return e;
}

void
erasure_free(struct erasure *e)
{
    free(e);
}

unsigned
erasure_k(const struct erasure *e)
{
    return e->k;
}

unsigned
erasure_m(const struct erasure *e)
{
    return e->m;
}

/*
 * Runs ec_encode_data() over `len` bytes: dst[r] = sum over j of rows[r][j] *
 * src[j], in chunks an int can count. `tables` are read only.
 */
static void
apply_tables(unsigned k, unsigned rows, const uint8_t *tables, uint8_t *const *src,
             uint8_t *const *dst, size_t len)
{
    uint8_t *s[ERASURE_MAX_SHARDS], *d[ERASURE_MAX_SHARDS];
    size_t off, n;
    unsigned i;

    for (off = 0; off < len; off += n) {
        n = MIN(len - off, (size_t)CALL_MAX_LEN);
        for (i = 0; i < k; i++)
            s[i] = src[i] + off;
        for (i = 0; i < rows; i++)
            d[i] = dst[i] + off;
        /* ISA-L's prototype is not const-correct; it only reads the tables. */
        ec_encode_data((int)n, (int)k, (int)rows, (uint8_t *)tables, s, d);
    }
}

void
erasure_encode(const struct erasure *e, uint8_t *const *shards, size_t len)
{
    if (e->m == 0 || len == 0)
        return;
    apply_tables(e->k, e->m, e->enc_tables, shards, shards + e->k, len);
}

/*
 * Fills `inv` (k x k) with the inverse of the rows `src_idx[0..k-1]` of the
 * encode matrix. Returns 0, or -ERR_CORRUPT if singular (never, for Cauchy).
 */
static int
invert_present_rows(const struct erasure *e, const unsigned *src_idx, uint8_t *inv)
{
    uint8_t sub[MATRIX_MAX];
    unsigned i, k = e->k;

    for (i = 0; i < k; i++)
        memcpy(&sub[i * k], &e->matrix[src_idx[i] * k], k);
    if (NEVER(gf_invert_matrix(sub, inv, (int)k) != 0))
        return -ERR_CORRUPT;
    return 0;
}

/* Row `out` (k bytes) that rebuilds shard `idx` from the shards behind `inv`. */
static void
make_decode_row(const struct erasure *e, const uint8_t *inv, unsigned idx, uint8_t *out)
{
    const uint8_t *row = &e->matrix[idx * e->k];
    unsigned j, l, k = e->k;

    if (idx < k) {
        memcpy(out, &inv[idx * k], k);
        return;
    }
    for (j = 0; j < k; j++) {
        uint8_t acc = 0;

        for (l = 0; l < k; l++)
            acc ^= gf_mul(row[l], inv[l * k + j]);
        out[j] = acc;
    }
}

int
erasure_decode(const struct erasure *e, uint8_t *const *shards, const bool *present, size_t len)
{
    uint8_t inv[MATRIX_MAX], rows[MATRIX_MAX];
    uint8_t tables[TABLES_LEN(ERASURE_MAX_SHARDS, ERASURE_MAX_SHARDS)];
    uint8_t *src[ERASURE_MAX_SHARDS], *dst[ERASURE_MAX_SHARDS];
    unsigned src_idx[ERASURE_MAX_SHARDS];
    unsigned i, nsrc = 0, nmiss = 0, n = e->k + e->m;
    int rc;

    for (i = 0; i < n; i++) {
        if (!present[i])
            dst[nmiss++] = shards[i];
        else if (nsrc < e->k)
            src_idx[nsrc++] = i;
    }
    if (nsrc < e->k)
        return -ERR_CORRUPT;
    if (nmiss == 0 || len == 0)
        return 0;
    rc = invert_present_rows(e, src_idx, inv);
    if (rc < 0)
        return rc;
    nmiss = 0;
    for (i = 0; i < n; i++) {
        if (!present[i])
            make_decode_row(e, inv, i, &rows[nmiss++ * e->k]);
    }
    for (i = 0; i < e->k; i++)
        src[i] = shards[src_idx[i]];
    ec_init_tables((int)e->k, (int)nmiss, rows, tables);
    apply_tables(e->k, nmiss, tables, src, dst, len);
    return 0;
}

/* Geometry: see the stripe layout in erasure.h. */

size_t
erasure_shard_len(unsigned k, size_t block_len)
{
    BUG_ON(k == 0);
    return DIV_ROUND_UP(block_len, (size_t)k);
}

uint64_t
erasure_nblocks(uint64_t size, uint32_t block_size)
{
    BUG_ON(block_size == 0);
    return DIV_ROUND_UP(size, (uint64_t)block_size);
}

size_t
erasure_block_len(uint64_t size, uint32_t block_size, uint64_t blk)
{
    uint64_t start;

    if (blk >= erasure_nblocks(size, block_size))
        return 0;
    start = blk * block_size;
    return (size_t)MIN((uint64_t)block_size, size - start);
}

uint64_t
erasure_shard_offset(unsigned k, uint64_t size, uint32_t block_size, uint64_t blk)
{
    uint64_t full = ERASURE_HASH_LEN + erasure_shard_len(k, block_size);

    /* Every block before the last one is full, so each takes `full` bytes. */
    if (blk >= erasure_nblocks(size, block_size))
        return erasure_shard_file_size(k, size, block_size);
    return blk * full;
}

uint64_t
erasure_shard_file_size(unsigned k, uint64_t size, uint32_t block_size)
{
    uint64_t n = erasure_nblocks(size, block_size);
    size_t last;

    if (n == 0)
        return 0;
    last = erasure_block_len(size, block_size, n - 1);
    return (n - 1) * (ERASURE_HASH_LEN + erasure_shard_len(k, block_size)) + ERASURE_HASH_LEN +
           erasure_shard_len(k, last);
}

void
erasure_split(unsigned k, const void *block, size_t block_len, uint8_t *const *shards)
{
    size_t s = erasure_shard_len(k, block_len), off, n;
    const uint8_t *p = block;
    unsigned i;

    for (i = 0; i < k; i++) {
        off = (size_t)i * s;
        n = off < block_len ? MIN(s, block_len - off) : 0;
        if (n)
            memcpy(shards[i], p + off, n);
        if (n < s)
            memset(shards[i] + n, 0, s - n);
    }
}

void
erasure_join(unsigned k, uint8_t *const *shards, size_t block_len, void *block)
{
    size_t s = erasure_shard_len(k, block_len), off, n;
    uint8_t *p = block;
    unsigned i;

    for (i = 0; i < k; i++) {
        off = (size_t)i * s;
        n = off < block_len ? MIN(s, block_len - off) : 0;
        if (n)
            memcpy(p + off, shards[i], n);
    }
}

/*
 * Self-test. The data is xxHash's sanity-test byte stream (byte i is the top
 * byte of 2654435761 * 11400714785074694797^i mod 2^64), SELFTEST_LEN bytes
 * per data shard; the expected parity hashes were computed once with the
 * reference codec (erasure/ref.c); the unit tests check ISA-L against it.
 */
#define SELFTEST_LEN 1031 /* odd: exercises the SIMD tails */

struct selftest_vector {
    unsigned k, m;
    uint8_t parity_hash[ERASURE_HASH_LEN]; /* bitrot_hash of the m parity shards, end to end */
};

static const struct selftest_vector selftest_vectors[] = {
    { 2,
      2,
      { 0x48, 0x43, 0x37, 0x20, 0xfe, 0x3a, 0xee, 0x5e, 0xab, 0xc6, 0x55, 0xd6, 0xec, 0xcc, 0xba,
        0xbb } },
    { 4,
      2,
      { 0x55, 0x9a, 0xda, 0x43, 0xf7, 0x1c, 0xc2, 0x63, 0x5f, 0x31, 0x21, 0xa6, 0x99, 0x8b, 0xc8,
        0xf3 } },
    { 8,
      4,
      { 0xba, 0x0a, 0xb7, 0xeb, 0x62, 0xf8, 0x87, 0xf7, 0x91, 0xa9, 0x27, 0xe8, 0x5e, 0xd9, 0xa7,
        0xcf } },
};

static void
fill_pattern(uint8_t *p, size_t len)
{
    uint64_t gen = 2654435761U;
    size_t i;

    for (i = 0; i < len; i++) {
        p[i] = (uint8_t)(gen >> 56);
        gen *= 11400714785074694797ULL;
    }
}

/* Drops the shards in `lost` (a bit mask), decodes, compares with `want`. */
static int
selftest_decode(const struct erasure *e, uint8_t *const *shards, const uint8_t *want, unsigned lost)
{
    bool present[ERASURE_MAX_SHARDS];
    unsigned i, n = e->k + e->m;
    int rc;

    for (i = 0; i < n; i++) {
        present[i] = !(lost & (1U << i));
        if (!present[i])
            memset(shards[i], 0x5a, SELFTEST_LEN);
    }
    rc = erasure_decode(e, shards, present, SELFTEST_LEN);
    if (rc < 0)
        return rc;
    return memcmp(shards[0], want, (size_t)n * SELFTEST_LEN) ? -ERR_CORRUPT : 0;
}

/*
 * Encodes the pattern with `v`'s geometry and compares the parity hash, then
 * decodes two loss patterns of m shards: the first m, and m spread over data
 * and parity.
 */
static int
selftest_geometry(const struct selftest_vector *v)
{
    struct erasure *e = erasure_new(v->k, v->m);
    size_t n = v->k + v->m, total = n * SELFTEST_LEN;
    uint8_t *mem = xmalloc(2 * total), *want = mem + total;
    uint8_t *shards[ERASURE_MAX_SHARDS], hash[ERASURE_HASH_LEN];
    unsigned i, spread = 0, stride = (unsigned)n / v->m;
    int rc;

    for (i = 0; i < n; i++)
        shards[i] = mem + i * SELFTEST_LEN;
    fill_pattern(mem, v->k * SELFTEST_LEN);
    erasure_encode(e, shards, SELFTEST_LEN);
    bitrot_hash(shards[v->k], v->m * SELFTEST_LEN, hash);
    rc = memcmp(hash, v->parity_hash, sizeof(hash)) ? -ERR_CORRUPT : 0;
    memcpy(want, mem, total);
    for (i = 0; i < v->m; i++)
        spread |= 1U << (i * stride);
    if (rc == 0)
        rc = selftest_decode(e, shards, want, (1U << v->m) - 1);
    if (rc == 0)
        rc = selftest_decode(e, shards, want, spread);
    free(mem);
    erasure_free(e);
    return rc;
}

/*
 * XXH3-128 of the first 0 and 2367 bytes of the pattern, from xxHash's own
 * sanity tests (high 64 bits first: the canonical form).
 */
static int
selftest_bitrot(void)
{
    static const uint8_t empty[ERASURE_HASH_LEN] = {
        0x99, 0xaa, 0x06, 0xd3, 0x01, 0x47, 0x98, 0xd8,
        0x60, 0x01, 0xc3, 0x24, 0x46, 0x8d, 0x49, 0x7f,
    };
    static const uint8_t len2367[ERASURE_HASH_LEN] = {
        0xe8, 0x9c, 0x0f, 0x6f, 0xf3, 0x69, 0xb4, 0x27,
        0xcb, 0x37, 0xae, 0xb9, 0xe5, 0xd3, 0x61, 0xed,
    };
    uint8_t buf[2367];

    fill_pattern(buf, sizeof(buf));
    if (!bitrot_verify(buf, 0, empty) || !bitrot_verify(buf, sizeof(buf), len2367))
        return -ERR_CORRUPT;
    return 0;
}

int
erasure_selftest(void)
{
    struct log_ctx ctx = { .event = "erasure_selftest_failed" };
    size_t i;
    int rc;

    rc = selftest_bitrot();
    if (rc < 0) {
        log_error(&ctx, "bitrot hash (XXH3-128) gives wrong known answers");
        return rc;
    }
    for (i = 0; i < ARRAY_SIZE(selftest_vectors); i++) {
        rc = selftest_geometry(&selftest_vectors[i]);
        if (rc < 0) {
            log_error(&ctx, "erasure codec %u+%u gives wrong known answers", selftest_vectors[i].k,
                      selftest_vectors[i].m);
            return rc;
        }
    }
    return 0;
}
