/*
 * bench/sigv4_chunk.c: what checking one aws-chunked chunk costs the
 * request thread (s3/body.c), on one core.
 *
 *     make RELEASE=1 build-release/bench/sigv4_chunk && build-release/bench/sigv4_chunk
 *
 *   sha256 64 KiB   the SHA-256 of a chunk's data (EVP, SHA-NI where the CPU
 *                   has it): the price of a signed upload, per chunk;
 *   chunk signature sigv4_chunk_sign(): the chained HMAC that each chunk's
 *                   signature is checked against.
 * Microseconds of this thread's CPU time per call, best of 3 rounds.
 */
#include "util/base.h"

#include <openssl/evp.h>
#include <time.h>

#include "auth/sigv4.h"

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
    static uint8_t data[CHUNK];
    struct sigv4_auth a;
    uint8_t hash[32] = { 0 };
    char sig[65];
    double best_sha = 1e9, best_sig = 1e9;
    unsigned round, i, len;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    for (i = 0; i < CHUNK; i++)
        data[i] = (uint8_t)(i * 31);
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
        t = cpu_now();
        for (i = 0; i < 200000; i++) {
            sigv4_chunk_sign(&a, a.seed_signature, hash, sig);
            hash[0] = (uint8_t)sig[0];
        }
        best_sig = MIN(best_sig, (cpu_now() - t) / 200000);
    }
    printf("sha256 64 KiB    %6.2f us\nchunk signature  %6.2f us\n", best_sha * 1e6,
           best_sig * 1e6);
    EVP_MD_CTX_free(ctx);
    sigv4_auth_clear(&a);
    return 0;
}
