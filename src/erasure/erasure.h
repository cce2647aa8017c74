/*
 * erasure/erasure.h: systematic Reed-Solomon over GF(2^8) with ISA-L, and the
 * stripe geometry of Basalt's shard files (DESIGN.md "Erasure coding").
 *
 * Stripe layout. An object is cut into blocks of `block_size` bytes (1 MiB;
 * the last block may be shorter). Block b of length L is split into k data
 * shards of S = ceil(L / k) bytes (the tail zero-padded: the last data shard,
 * and for a short block possibly the ones before it, hold padding) and m
 * parity shards of S bytes. Shard i of every block goes to the same drive, in
 * that drive's shard file, one after the other, each preceded by the 16-byte
 * XXH3-128 hash of its S bytes:
 *
 *   shard file i:  [hash(b0,i)][shard(b0,i): S0 bytes][hash(b1,i)][shard(b1,i)] ...
 *
 * so a reader verifies each shard block before using a byte of it.
 */
#ifndef BASALT_ERASURE_ERASURE_H
#define BASALT_ERASURE_ERASURE_H

#include "util/base.h"

#define ERASURE_MAX_SHARDS 16
#define ERASURE_HASH_LEN 16 /* XXH3-128 */
#define ERASURE_BLOCK_SIZE (1024 * 1024)

struct erasure;

/*
 * A codec for `k` data and `m` parity shards (1 <= k, 0 <= m, k + m <= 16).
 * Returns NULL for an invalid pair. Thread safe once built (read-only tables).
 */
struct erasure *erasure_new(unsigned k, unsigned m);
void erasure_free(struct erasure *e);
unsigned erasure_k(const struct erasure *e);
unsigned erasure_m(const struct erasure *e);

/*
 * Computes the m parity shards from the k data shards. `shards[0..k-1]` are
 * read, `shards[k..k+m-1]` written; every shard is `len` bytes.
 */
void erasure_encode(const struct erasure *e, uint8_t *const *shards, size_t len);
/*
 * Rebuilds every shard i with `present[i] == false` (data and parity) from the
 * present ones, in place. Returns 0, or -ERR_CORRUPT if fewer than k shards
 * are present (then no shard is written). Present shards are only read (the
 * first k of them are used); `present` has k + m entries. Any thread, with
 * its own shard buffers: the tables are on the caller's stack (about 9 KiB).
 */
int erasure_decode(const struct erasure *e, uint8_t *const *shards, const bool *present,
                   size_t len);

/* Known-answer self-check of the codec and the hash; 0 or -ERR_CORRUPT. Run at start-up. */
int erasure_selftest(void);

/* Reference codec (erasure/ref.c), slow and simple, same matrix: for tests only. */
void erasure_ref_encode(unsigned k, unsigned m, uint8_t *const *shards, size_t len);

/* Bitrot hash: XXH3-128 of `n` bytes, big-endian canonical form, into `out`. */
void bitrot_hash(const void *p, size_t n, uint8_t out[ERASURE_HASH_LEN]);
/* True when `hash` is the bitrot hash of the `n` bytes at `p`. */
bool bitrot_verify(const void *p, size_t n, const uint8_t hash[ERASURE_HASH_LEN]);

/* Geometry (see the layout above). */
/* Shard bytes S for a block of `block_len` bytes. */
size_t erasure_shard_len(unsigned k, size_t block_len);
/* Number of blocks of an object of `size` bytes (0 for an empty object). */
uint64_t erasure_nblocks(uint64_t size, uint32_t block_size);
/* Length of block `blk`; 0 past the last block. */
size_t erasure_block_len(uint64_t size, uint32_t block_size, uint64_t blk);
/*
 * Offset of block `blk`'s hash in every shard file; for blk >= the number of
 * blocks, the file size (the end of the last block).
 */
uint64_t erasure_shard_offset(unsigned k, uint64_t size, uint32_t block_size, uint64_t blk);
/* Total size of each shard file of the object. */
uint64_t erasure_shard_file_size(unsigned k, uint64_t size, uint32_t block_size);

/*
 * Splits one block into k data shards of S bytes each (copying, zero padding
 * the tail) at `shards[0..k-1]`, and joins them back. Each shard buffer holds
 * at least erasure_shard_len(k, block_len) bytes.
 */
void erasure_split(unsigned k, const void *block, size_t block_len, uint8_t *const *shards);
void erasure_join(unsigned k, uint8_t *const *shards, size_t block_len, void *block);

#endif
