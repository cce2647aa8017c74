/*
 * bench/sigv4_chunk.c: what checking one aws-chunked chunk costs the
 * request thread (s3/body.c), on one core.
 *
 *     make RELEASE=1 build-release/bench/sigv4_chunk && build-release/bench/sigv4_chunk
 *
 *   sha256 64 KiB   the SHA-256 of a chunk's data with OpenSSL (EVP, SHA-NI
 *                   where the CPU has it): the price of a signed upload, per
 *                   chunk, before util/sha256;
 *   one stream      util/sha256, one chunk at a time;
 *   two streams     util/sha256_update2(), two chunks together (per chunk):
 *                   what s3/body.c pays on a CPU with the SHA extensions;
 *   chunk signature sigv4_chunk_sign(): the chained HMAC that each chunk's
 *                   signature is checked against.
 * Microseconds of this thread's CPU time per call, best of 3 rounds.
 */
#include "util/base.h"

#include <openssl/evp.h>
#include <time.h>

#include "auth/sigv4.h"
#include "util/sha256.h"

#define CHUNK (64u * 1024)

static double
cpu_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(void)
{
    static uint8_t data[CHUNK], data2[CHUNK];
    struct sha256 c1, c2;
    double best_one = 1e9, best_two = 1e9;
    bool ni = sha256_ni_available();
    struct sigv4_auth a;
    uint8_t hash[32] = { 0 }, hash2[32];
    char sig[65];
    double best_sha = 1e9, best_sig = 1e9;
    unsigned round, i, len;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    for (i = 0; i < CHUNK; i++)
        data[i] = (uint8_t)(i * 31), data2[i] = (uint8_t)(i * 17);
    sigv4_auth_for_signing(&a, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                           "us-east-1", 1369353600,
                           "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    for (round = 0; round < 3; round++) {
        double t = cpu_now();

        for (i = 0; i < 20000; i++) {
            BUG_ON(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1);
            EVP_DigestUpdate(ctx, data, sizeof(data));
            EVP_DigestFinal_ex(ctx, hash, &len);
            data[0] = hash[0];
        }
        best_sha = MIN(best_sha, (cpu_now() - t) / 20000);
        if (ni) {
            t = cpu_now();
            for (i = 0; i < 20000; i++) {
                sha256_init(&c1);
                sha256_update(&c1, data, sizeof(data));
                sha256_final(&c1, hash);
                data[0] = hash[0];
            }
            best_one = MIN(best_one, (cpu_now() - t) / 20000);
            t = cpu_now();
            for (i = 0; i < 10000; i++) {
                sha256_init(&c1);
                sha256_init(&c2);
                sha256_update2(&c1, data, sizeof(data), &c2, data2, sizeof(data2));
                sha256_final(&c1, hash);
                sha256_final(&c2, hash2);
                data[0] = hash[0], data2[0] = hash2[0];
            }
            best_two = MIN(best_two, (cpu_now() - t) / 20000);
        }
        t = cpu_now();
        for (i = 0; i < 200000; i++) {
            sigv4_chunk_sign(&a, a.seed_signature, hash, sig);
            hash[0] = (uint8_t)sig[0];
        }
        best_sig = MIN(best_sig, (cpu_now() - t) / 200000);
    }
    printf("sha256 64 KiB    %6.2f us  (OpenSSL)\n", best_sha * 1e6);
    if (ni)
        printf("one stream       %6.2f us  (util/sha256)\ntwo streams      %6.2f us  "
               "(util/sha256_update2, per chunk)\n",
               best_one * 1e6, best_two * 1e6);
    else
        printf("util/sha256: no SHA extensions on this CPU\n");
    printf("chunk signature  %6.2f us\n", best_sig * 1e6);
    EVP_MD_CTX_free(ctx);
    sigv4_auth_clear(&a);
    return 0;
}
