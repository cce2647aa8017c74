/*
 * fuzz/aws_chunked.c: the upload body decoder (s3/body.c) on arbitrary bytes.
 * Input: byte 0 picks the mode (x-amz-content-sha256: signed chunks, signed
 * chunks + trailer, unsigned + trailer, raw with a checksum header), byte 1
 * the headers (x-amz-decoded-content-length from byte 2, x-amz-trailer and
 * its algorithm), byte 3 seeds the split of the raw body into feeds; the rest
 * is the raw body. Checks: no crash, no more payload out than declared, and
 * a success delivers exactly the declared length.
 * Then a property: the same bytes (their first KiB) encoded as a valid
 * aws-chunked body (signed, with a CRC32C trailer, chunks of 1 + byte 2
 * bytes) must decode back to themselves, in the same split.
 */
#include "util/base.h"

#include "auth/sigv4.h"
#include "s3/body.h"
#include "s3/internal.h"
#include "util/checksum.h"
#include "util/err.h"

#include <openssl/evp.h>

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T0 ((time_t)1369353600)
#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const modes[] = {
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "UNSIGNED-PAYLOAD",
};

static const char *const trailers[] = { "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
                                        "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1" };

struct fcall {
    struct http_header h[4];
    struct http_req req;
    struct s3_call call;
    uint64_t out;
    struct buf *copy; /* NULL: count only */
};

static void
fcall_init(struct fcall *f, const char *mode)
{
    memset(f, 0, sizeof(*f));
    f->req.arena = arena_new(0);
    f->req.headers = f->h;
    f->req.content_length = -1;
    f->call.req = &f->req;
    sigv4_auth_for_signing(&f->call.auth, AK, SK, "us-east-1", T0, SEED);
    snprintf(f->call.auth.payload_hash, sizeof(f->call.auth.payload_hash), "%s", mode);
}

static void
fcall_header(struct fcall *f, const char *name, const char *value)
{
    f->h[f->req.nheaders].name = slice_cstr(name);
    f->h[f->req.nheaders].value = slice_cstr(arena_strdup(f->req.arena, value));
    f->req.nheaders++;
}

static int
sink(void *arg, const void *p, size_t n)
{
    struct fcall *f = arg;

    f->out += n;
    if (f->copy)
        buf_add(f->copy, p, n);
    return 0;
}

/* Feeds `raw` in pieces drawn from `seed`; returns finish's result. */
static int
feed(struct fcall *f, struct s3_body *b, const uint8_t *raw, size_t n, unsigned seed)
{
    size_t off = 0;
    int rc = 0;

    while (off < n && rc == 0) {
        size_t step = seed ? 1 + (seed * 2654435761u + off) % 97 : n;

        step = MIN(step, n - off);
        rc = s3_body_feed(b, raw + off, step, sink, f);
        off += step;
    }
    return rc < 0 ? rc : s3_body_finish(b);
}

static void
fuzz_decoder(const uint8_t *data, size_t size)
{
    struct fcall f;
    struct s3_body *b;
    char len[24];
    int rc;

    fcall_init(&f, modes[data[0] & 3]);
    if (data[1] & 1) {
        snprintf(len, sizeof(len), "%u", (unsigned)data[2] * 7);
        fcall_header(&f, "x-amz-decoded-content-length", len);
    }
    if (data[1] & 2)
        fcall_header(&f, "x-amz-trailer", trailers[(data[1] >> 2) & 3]);
    if ((data[0] & 3) == 3)
        fcall_header(&f, "x-amz-checksum-crc32", "AAAAAA==");
    if (s3_body_begin(&f.call, &b) == 0) {
        rc = feed(&f, b, data + 4, size - 4, data[3]);
        if (s3_body_size(b) >= 0) {
            BUG_ON(f.out > (uint64_t)s3_body_size(b));
            BUG_ON(rc == 0 && f.out != (uint64_t)s3_body_size(b));
        }
    }
    arena_free(f.req.arena);
}

static void
sha256_raw(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 32;

    BUG_ON(!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL));
}

/* A valid signed body with a CRC32C trailer for `p[0..n)`, chunks of `chunk` bytes. */
static void
encode(struct buf *out, const struct sigv4_auth *a, const uint8_t *p, size_t n, size_t chunk)
{
    char prev[65], sig[65], b64[CHECKSUM_B64_SIZE], line[128];
    uint8_t hash[32];
    size_t off = 0, step;

    memcpy(prev, a->seed_signature, 65);
    do {
        step = MIN(chunk, n - off);
        sha256_raw(p + off, step, hash);
        sigv4_chunk_sign(a, prev, hash, sig);
        memcpy(prev, sig, 65);
        buf_addf(out, "%zx;chunk-signature=%s\r\n", step, sig);
        if (step) {
            buf_add(out, p + off, step);
            buf_adds(out, "\r\n");
        }
        off += step;
    } while (step);
    checksum_b64(CHECKSUM_CRC32C, p, n, b64);
    snprintf(line, sizeof(line), "x-amz-checksum-crc32c:%s\n", b64);
    sha256_raw(line, strlen(line), hash);
    sigv4_trailer_sign(a, prev, hash, sig);
    buf_addf(out, "x-amz-checksum-crc32c:%s\r\nx-amz-trailer-signature:%s\r\n\r\n", b64, sig);
}

static void
roundtrip(const uint8_t *data, size_t size)
{
    size_t n = MIN(size - 4, 1024); /* every chunk costs an HMAC: keep runs fast */
    struct buf raw = BUF_INIT, got = BUF_INIT;
    struct fcall f;
    struct s3_body *b;
    char len[24];
    const char *algo, *v;

    fcall_init(&f, modes[1]);
    snprintf(len, sizeof(len), "%zu", n);
    fcall_header(&f, "x-amz-decoded-content-length", len);
    fcall_header(&f, "x-amz-trailer", "x-amz-checksum-crc32c");
    encode(&raw, &f.call.auth, data + 4, n, 1 + (size_t)data[2]);
    f.copy = &got;
    BUG_ON(s3_body_begin(&f.call, &b) != 0);
    BUG_ON(feed(&f, b, (const uint8_t *)raw.ptr, raw.len, data[3]) != 0);
    BUG_ON(got.len != n || memcmp(got.ptr, data + 4, n) != 0);
    BUG_ON(!s3_body_checksum(b, &algo, &v) || strcmp(algo, "crc32c") != 0);
    arena_free(f.req.arena);
    buf_release(&raw);
    buf_release(&got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    fuzz_decoder(data, size);
    roundtrip(data, size);
    return 0;
}
