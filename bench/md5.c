/*
 * bench/md5.c: what util/md5 costs next to OpenSSL, on one core.
 *
 *     make bench-md5        (builds build-release/bench/md5 and runs it)
 *
 * Each figure hashes 1 MiB blocks (a PUT's block) for about a second and
 * reports the bytes hashed per second of this thread's CPU time:
 *   openssl      EVP MD5, one stream (what PUTs used before util/md5);
 *   one stream   md5_update() (plain C);
 *   N streams    md5_update_many() over N streams of one block each, the
 *                hashing worker's batch (AVX2 lanes when N > 1).
 * Best of 3 rounds per figure.
 */
#include "util/base.h"

#include <openssl/evp.h>
#include <time.h>

#include "util/md5.h"

#define BLOCK (1u << 20)

static double
cpu_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint8_t *blocks[MD5_LANES];

/* Bytes per CPU second of `nstreams` streams hashed together (0: OpenSSL, one stream). */
static double
rate(unsigned nstreams)
{
    struct md5 ctx[MD5_LANES];
    struct iovec iov[MD5_LANES];
    struct md5_input in[MD5_LANES];
    EVP_MD_CTX *evp = EVP_MD_CTX_new();
    double best = 0;
    unsigned round, i;

    BUG_ON(!evp || !EVP_DigestInit_ex(evp, EVP_md5(), NULL));
    for (i = 0; i < MD5_LANES; i++) {
        md5_init(&ctx[i]);
        iov[i] = (struct iovec){ .iov_base = blocks[i], .iov_len = BLOCK };
        in[i] = (struct md5_input){ .ctx = &ctx[i], .iov = &iov[i], .iovcnt = 1 };
    }
    for (round = 0; round < 3; round++) {
        double t0 = cpu_now(), t;
        uint64_t bytes = 0;

        do {
            if (nstreams == 0) {
                EVP_DigestUpdate(evp, blocks[0], BLOCK);
                bytes += BLOCK;
            } else {
                md5_update_many(in, nstreams);
                bytes += (uint64_t)BLOCK * nstreams;
            }
            t = cpu_now() - t0;
        } while (t < 1.0);
        best = MAX(best, (double)bytes / t);
    }
    EVP_MD_CTX_free(evp);
    return best;
}

int
main(void)
{
    static const unsigned streams[] = { 1, 2, 4, 8 };
    double base;
    unsigned i;

    for (i = 0; i < MD5_LANES; i++) {
        size_t j;

        blocks[i] = xmalloc(BLOCK);
        for (j = 0; j < BLOCK; j++)
            blocks[i][j] = (uint8_t)(j * 31 + i * 7 + (j >> 9));
    }
    printf("MD5 of 1 MiB blocks, bytes per CPU second of one core (AVX2 lanes: %s)\n",
           md5_simd_available() ? "yes" : "no");
    base = rate(0);
    printf("| %-28s | %8.0f MB/s | %5.2fx |\n", "OpenSSL EVP, one stream", base / 1e6, 1.0);
    for (i = 0; i < ARRAY_SIZE(streams); i++) {
        char name[64];
        double r = rate(streams[i]);

        snprintf(name, sizeof(name),
                 streams[i] == 1 ? "md5_update, one stream" : "md5_update_many, %u streams",
                 streams[i]);
        printf("| %-28s | %8.0f MB/s | %5.2fx |\n", name, r / 1e6, r / base);
    }
    for (i = 0; i < MD5_LANES; i++)
        free(blocks[i]);
    return 0;
}
