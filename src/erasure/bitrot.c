/*
 * erasure/bitrot.c: the bitrot hash of every shard block (DESIGN.md "Erasure
 * coding"): XXH3-128, stored in its canonical big-endian form so that shard
 * files read the same on every machine. The hash is not a secret nor a MAC
 * (it catches decay, not tampering), so a plain comparison is enough.
 * The contracts are in erasure.h, beside the stripe layout that uses them.
 */
#include "util/base.h"

#include "erasure/erasure.h"

#include <xxhash.h>

_Static_assert(sizeof(XXH128_canonical_t) == ERASURE_HASH_LEN, "bitrot hash is 16 bytes");

void
bitrot_hash(const void *p, size_t n, uint8_t out[ERASURE_HASH_LEN])
{
    XXH128_canonical_t c;

    XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
    memcpy(out, c.digest, ERASURE_HASH_LEN);
}

bool
bitrot_verify(const void *p, size_t n, const uint8_t hash[ERASURE_HASH_LEN])
{
    uint8_t got[ERASURE_HASH_LEN];

    bitrot_hash(p, n, got);
    return memcmp(got, hash, ERASURE_HASH_LEN) == 0;
}
