/*
 * tests/unit/util/test_sha256.c: util/sha256 against FIPS 180-4's examples
 * and against OpenSSL's SHA-256 on pseudo-random inputs: one stream fed in
 * random pieces, and two streams through sha256_update2() with random
 * lengths (empty ones, unequal ones, streams that already hold part of a
 * block). Without the SHA extensions there is nothing of util/sha256 to run:
 * each test says so on stderr.
 */
#include "util/base.h"

#include <openssl/evp.h>

#include "harness.h"
#include "util/enc.h"
#include "util/sha256.h"

static void
openssl_sha256(const void *p, size_t n, uint8_t out[SHA256_SIZE])
{
    unsigned len = 0;

    BUG_ON(!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) || len != SHA256_SIZE);
}

static bool
have_ni(void)
{
    if (sha256_ni_available())
        return true;
    fprintf(stderr, "    note: no SHA extensions on this CPU: util/sha256 is not used here, "
                    "nothing checked\n");
    return false;
}

TEST(sha256_fips_examples)
{
    static const char *const in[] = {
        "",
        "abc",
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    };
    static const char *const want[] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    };
    struct sha256 c;
    uint8_t got[SHA256_SIZE];
    char hex[2 * SHA256_SIZE + 1];
    char *million;
    size_t i;

    if (!have_ni())
        return;
    for (i = 0; i < ARRAY_SIZE(in); i++) {
        sha256_init(&c);
        sha256_update(&c, in[i], strlen(in[i]));
        sha256_final(&c, got);
        hex_encode_to(hex, got, SHA256_SIZE);
        ASSERT_STREQ(hex, want[i]);
    }
    /* one million 'a', fed as 1000 pieces of 1000 */
    million = xmalloc(1000);
    memset(million, 'a', 1000);
    sha256_init(&c);
    for (i = 0; i < 1000; i++)
        sha256_update(&c, million, 1000);
    sha256_final(&c, got);
    hex_encode_to(hex, got, SHA256_SIZE);
    ASSERT_STREQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

/* Every length 0..300, then random lengths up to 64 KiB, each fed in random pieces. */
TEST(sha256_one_stream_matches_openssl)
{
    uint64_t rng = 0x13198a2e03707344ull;
    size_t datalen = 1 << 16, n, off, piece;
    uint8_t *data;
    unsigned round;

    if (!have_ni())
        return;
    data = xmalloc(datalen);
    harness_fill_random(&rng, data, datalen);
    for (round = 0; round < 600; round++) {
        struct sha256 c;
        uint8_t got[SHA256_SIZE], want[SHA256_SIZE];

        n = round <= 300 ? round : (size_t)(harness_rand(&rng) % datalen);
        sha256_init(&c);
        for (off = 0; off < n; off += piece) {
            piece = (size_t)(harness_rand(&rng) % (round % 2 ? 200 : 9000));
            piece = MIN(n - off, piece);
            sha256_update(&c, data + off, piece);
        }
        sha256_final(&c, got);
        openssl_sha256(data, n, want);
        ASSERT_MEMEQ(got, want, SHA256_SIZE);
    }
    free(data);
}

/*
 * Two streams, each of random length, fed through sha256_update2() in random
 * pairs of pieces (sometimes one side empty), after a random one-stream
 * prefix, with the odd sha256_update() between: each ends as OpenSSL's hash
 * of its bytes.
 */
TEST(sha256_two_streams_match_openssl)
{
    uint64_t rng = 0xa4093822299f31d0ull;
    size_t datalen = 1 << 18; /* two halves, each longer than the longest stream */
    uint8_t *data;
    unsigned round;

    if (!have_ni())
        return;
    data = xmalloc(datalen);
    harness_fill_random(&rng, data, datalen);
    for (round = 0; round < 500; round++) {
        struct sha256 c[2];
        const uint8_t *base[2] = { data, data + datalen / 2 };
        size_t len[2], off[2] = { 0, 0 }, piece[2];
        uint8_t got[SHA256_SIZE], want[SHA256_SIZE];
        unsigned s;

        for (s = 0; s < 2; s++) {
            len[s] = (size_t)(harness_rand(&rng) % (round % 3 ? 70000 : 300));
            sha256_init(&c[s]);
            off[s] = (size_t)(harness_rand(&rng) % 130);
            off[s] = MIN(len[s], off[s]);
            sha256_update(&c[s], base[s], off[s]);
        }
        while (off[0] < len[0] || off[1] < len[1]) {
            for (s = 0; s < 2; s++) {
                uint64_t r = harness_rand(&rng);

                piece[s] = r % 5 == 0 ? 0 : (size_t)(r % (round % 2 ? 20000 : 700));
                piece[s] = MIN(piece[s], len[s] - off[s]);
            }
            if (harness_rand(&rng) % 8 == 0) {
                sha256_update(&c[0], base[0] + off[0], piece[0]);
                sha256_update(&c[1], base[1] + off[1], piece[1]);
            } else if (harness_rand(&rng) % 2) {
                sha256_update2(&c[0], base[0] + off[0], piece[0], &c[1], base[1] + off[1],
                               piece[1]);
            } else {
                sha256_update2(&c[1], base[1] + off[1], piece[1], &c[0], base[0] + off[0],
                               piece[0]);
            }
            off[0] += piece[0];
            off[1] += piece[1];
        }
        for (s = 0; s < 2; s++) {
            sha256_final(&c[s], got);
            openssl_sha256(base[s], len[s], want);
            ASSERT_MEMEQ(got, want, SHA256_SIZE);
        }
    }
    free(data);
}

/* Long equal runs in the two lanes: two 64 KiB chunks, the size clients send. */
TEST(sha256_two_streams_long)
{
    uint64_t rng = 3;
    size_t n = 64 * 1024;
    uint8_t *data;
    struct sha256 a, b;
    uint8_t got[SHA256_SIZE], want[SHA256_SIZE];

    if (!have_ni())
        return;
    data = xmalloc(2 * n);
    harness_fill_random(&rng, data, 2 * n);
    sha256_init(&a);
    sha256_init(&b);
    sha256_update2(&a, data, n, &b, data + n, n);
    sha256_final(&a, got);
    openssl_sha256(data, n, want);
    ASSERT_MEMEQ(got, want, SHA256_SIZE);
    sha256_final(&b, got);
    openssl_sha256(data + n, n, want);
    ASSERT_MEMEQ(got, want, SHA256_SIZE);
    free(data);
}
