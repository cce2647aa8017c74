/*
 * fuzz/md5_many.c: util/md5 against OpenSSL's MD5, differentially.
 *
 * Input layout: byte 0 gives the number of streams (1 + b % 12); then, per
 * stream, a byte `pre` (bytes fed by md5_update() first, pre % 100) and a
 * byte with the number of segments (b % 5), each segment a byte `len` and
 * a byte `skew`: `len * 37 + skew` bytes of a 64 KiB pool derived from the
 * input. Every stream gets its segments through one md5_update_many()
 * call over all streams; each digest must equal OpenSSL's MD5 of the same
 * bytes.
 */
#include "util/base.h"

#include <openssl/evp.h>

#include "util/md5.h"

#define MAX_STREAMS 12
#define MAX_SEGS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t
take(const uint8_t **p, const uint8_t *end)
{
    return *p < end ? *(*p)++ : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    struct md5 ctx[MAX_STREAMS];
    struct iovec iov[MAX_STREAMS][MAX_SEGS];
    struct md5_input in[MAX_STREAMS];
    uint8_t *whole[MAX_STREAMS];
    size_t wlen[MAX_STREAMS];
    unsigned n, s, g;
    static uint8_t pool[64 * 1024];

    if (size == 0)
        return 0;
    for (size_t i = 0; i < sizeof(pool); i++) /* the bytes streams hash: a function of the input */
        pool[i] = data[i % size] ^ (uint8_t)(i * 131);
    n = 1 + take(&p, end) % MAX_STREAMS;
    for (s = 0; s < n; s++) {
        size_t pre = take(&p, end) % 100, off = (size_t)(p - data) * 977 % (sizeof(pool) - 100);
        unsigned nseg = take(&p, end) % (MAX_SEGS + 1);

        whole[s] = malloc(pre + MAX_SEGS * (255 * 37 + 255) + 1);
        memcpy(whole[s], pool + off, pre);
        wlen[s] = pre;
        md5_init(&ctx[s]);
        md5_update(&ctx[s], pool + off, pre);
        for (g = 0; g < nseg; g++) {
            size_t len = (size_t)take(&p, end) * 37, at;

            len += take(&p, end);
            at = (off + 7919 * (g + 1)) % (sizeof(pool) - len);
            iov[s][g] = (struct iovec){ .iov_base = pool + at, .iov_len = len };
            memcpy(whole[s] + wlen[s], pool + at, len);
            wlen[s] += len;
        }
        in[s] = (struct md5_input){ .ctx = &ctx[s], .iov = iov[s], .iovcnt = nseg };
    }
    md5_update_many(in, n);
    for (s = 0; s < n; s++) {
        uint8_t got[MD5_SIZE], want[MD5_SIZE];
        unsigned len = 0;

        md5_final(&ctx[s], got);
        if (!EVP_Digest(whole[s], wlen[s], want, &len, EVP_md5(), NULL))
            abort();
        if (memcmp(got, want, MD5_SIZE) != 0)
            abort(); /* a digest that is not MD5's */
        free(whole[s]);
    }
    return 0;
}
