/*
 * tests/unit/s3/test_body.c: the upload body decoder (s3/body.c): every
 * x-amz-content-sha256 mode, fed whole, byte by byte and in random splits,
 * with checksums as headers and trailers; then every bad input: chunk
 * signatures that do not chain, a chunk longer than declared, a missing final
 * chunk, trailers with a wrong checksum or signature, bounds.
 */
#include "util/base.h"

#include <openssl/evp.h>

#include "harness.h"
#include "s3/body.h"
#include "s3/internal.h"
#include "util/checksum.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T0 ((time_t)1369353600)
#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define SIGNED "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#define SIGNED_TRAILER "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
#define UNSIGNED_TRAILER "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

/* A request under test: headers, the verified auth, and a call around them. */
struct tcall {
    struct http_header h[12];
    struct http_req req;
    struct s3_call call;
    struct buf out; /* what reached the sink */
};

static void
tcall_init(struct tcall *t, const char *payload_hash)
{
    memset(t, 0, sizeof(*t));
    t->req.arena = arena_new(0);
    t->req.headers = t->h;
    t->req.content_length = -1;
    t->call.req = &t->req;
    sigv4_auth_for_signing(&t->call.auth, AK, SK, "us-east-1", T0, SEED);
    snprintf(t->call.auth.payload_hash, sizeof(t->call.auth.payload_hash), "%s", payload_hash);
    buf_init(&t->out, 0);
}

static void
tcall_release(struct tcall *t)
{
    arena_free(t->req.arena);
    buf_release(&t->out);
}

static void
tcall_header(struct tcall *t, const char *name, const char *value)
{
    BUG_ON(t->req.nheaders >= ARRAY_SIZE(t->h));
    t->h[t->req.nheaders].name = slice_cstr(arena_strdup(t->req.arena, name));
    t->h[t->req.nheaders].value = slice_cstr(arena_strdup(t->req.arena, value));
    t->req.nheaders++;
}

static int
sink(void *arg, const void *data, size_t n)
{
    buf_add(arg, data, n);
    return 0;
}

static void
sha256_raw(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 32;

    BUG_ON(!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL));
}

/* ---- building aws-chunked bodies ---- */

struct enc_opts {
    bool sign;
    size_t chunk;        /* bytes per chunk */
    const char *trailer; /* "x-amz-checksum-crc32:<b64>" or NULL */
    bool no_trailer_sig; /* signed trailer mode without x-amz-trailer-signature */
    bool no_final;       /* stop before the final chunk */
};

/* Appends one chunk (size line, data, CRLF); chains `prev`. */
static void
enc_chunk(struct buf *out, const struct sigv4_auth *a, char prev[65], const void *p, size_t n,
          bool sign)
{
    uint8_t hash[32];
    char sig[65];

    buf_addf(out, "%zx", n);
    if (sign) {
        sha256_raw(p, n, hash);
        sigv4_chunk_sign(a, prev, hash, sig);
        buf_addf(out, ";chunk-signature=%s", sig);
        memcpy(prev, sig, 65);
    }
    buf_adds(out, "\r\n");
    if (n) {
        buf_add(out, p, n);
        buf_adds(out, "\r\n");
    }
}

static void
encode(struct buf *out, const struct sigv4_auth *a, const void *data, size_t n,
       const struct enc_opts *o)
{
    const uint8_t *p = data;
    char prev[65], line[256], sig[65];
    uint8_t hash[32];
    size_t off;

    memcpy(prev, a->seed_signature, 65);
    for (off = 0; off < n; off += MIN(o->chunk, n - off))
        enc_chunk(out, a, prev, p + off, MIN(o->chunk, n - off), o->sign);
    if (o->no_final)
        return;
    enc_chunk(out, a, prev, "", 0, o->sign);
    if (o->trailer) {
        buf_addf(out, "%s\r\n", o->trailer);
        if (o->sign && !o->no_trailer_sig) {
            snprintf(line, sizeof(line), "%s\n", o->trailer);
            sha256_raw(line, strlen(line), hash);
            sigv4_trailer_sign(a, prev, hash, sig);
            buf_addf(out, "x-amz-trailer-signature:%s\r\n", sig);
        }
    } else if (o->sign && strstr(a->payload_hash, "TRAILER") && !o->no_trailer_sig) {
        sha256_raw("", 0, hash);
        sigv4_trailer_sign(a, prev, hash, sig);
        buf_addf(out, "x-amz-trailer-signature:%s\r\n", sig);
    }
    buf_adds(out, "\r\n");
}

/* ---- feeding ---- */

/* How run() cuts the raw body: whole, byte by byte, random pieces of < 300 bytes or < 200 KB. */
enum split { WHOLE, BYTES, RANDOM, LARGE };

/* begin, feed `raw` split as asked, finish; returns the first error. */
static int
run(struct tcall *t, struct slice raw, enum split how, struct s3_body **out)
{
    struct s3_body *b;
    size_t off = 0, n;
    int rc;

    buf_clear(&t->out);
    rc = s3_body_begin(&t->call, &b);
    if (rc < 0)
        return rc;
    while (off < raw.len) {
        n = how == WHOLE    ? raw.len
            : how == BYTES  ? 1
            : how == RANDOM ? (size_t)(rand() % 300)
                            : (size_t)(rand() % 200000);
        n = MIN(n, raw.len - off);
        rc = s3_body_feed(b, raw.ptr + off, n, sink, &t->out);
        if (rc < 0)
            return rc;
        off += n;
    }
    if (out)
        *out = b;
    return s3_body_finish(b);
}

static void
pattern(uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + (i >> 9));
}

/* A well-formed chunked upload in `mode` decodes to `data` in every split. */
static void
check_roundtrip(const char *mode, const struct enc_opts *o, const char *hdr_name,
                const char *hdr_value, size_t n, const char *want_algo)
{
    uint8_t *data = xmalloc(n + 1);
    struct buf raw = BUF_INIT;
    struct tcall t;
    struct s3_body *b = NULL;
    const char *algo, *b64;
    char want[CHECKSUM_B64_SIZE];
    int how;

    pattern(data, n);
    srand(11);
    for (how = WHOLE; how <= LARGE; how++) {
        tcall_init(&t, mode);
        tcall_header(&t, "x-amz-decoded-content-length", "0");
        t.h[0].value = slice_cstr(arena_printf(t.req.arena, "%zu", n));
        if (hdr_name)
            tcall_header(&t, hdr_name, hdr_value);
        buf_clear(&raw);
        encode(&raw, &t.call.auth, data, n, o);
        ASSERT_OK(run(&t, buf_slice(&raw), (enum split)how, &b));
        ASSERT_EQ(t.out.len, n);
        ASSERT_MEMEQ(t.out.ptr, data, n);
        ASSERT_EQ(s3_body_size(b), (int64_t)n);
        ASSERT(s3_body_is_chunked(b));
        if (want_algo) {
            ASSERT(s3_body_checksum(b, &algo, &b64));
            ASSERT_STREQ(algo, want_algo);
            enum checksum_algo ca = CHECKSUM_NONE;

            ASSERT_OK(checksum_algo_parse(slice_cstr(algo), &ca));
            checksum_b64(ca, data, n, want);
            ASSERT_STREQ(b64, want);
        } else {
            ASSERT(!s3_body_checksum(b, &algo, &b64));
        }
        tcall_release(&t);
    }
    buf_release(&raw);
    free(data);
}

/* The trailer line "x-amz-checksum-<algo>:<b64 of the pattern>". */
static char *
trailer_of(enum checksum_algo algo, size_t n)
{
    uint8_t *data = xmalloc(n + 1);
    char b64[CHECKSUM_B64_SIZE];
    struct buf line = BUF_INIT;

    pattern(data, n);
    checksum_b64(algo, data, n, b64);
    buf_addf(&line, "%s:%s", checksum_header_name(algo), b64);
    free(data);
    return buf_detach(&line, NULL);
}

TEST(s3_body_signed_chunks)
{
    struct enc_opts o = { .sign = true, .chunk = 65536 };

    check_roundtrip(SIGNED, &o, NULL, NULL, 66560, NULL);
    check_roundtrip(SIGNED, &o, NULL, NULL, 0, NULL);
    o.chunk = 1000;
    check_roundtrip(SIGNED, &o, NULL, NULL, 5000, NULL); /* exact multiple */
    check_roundtrip(SIGNED, &o, "x-amz-checksum-crc32c", "AAAAAA==", 0, "crc32c");
}

TEST(s3_body_signed_chunks_with_header_checksum)
{
    struct enc_opts o = { .sign = true, .chunk = 8192 };
    char b64[CHECKSUM_B64_SIZE];
    uint8_t data[20000];

    pattern(data, sizeof(data));
    checksum_b64(CHECKSUM_SHA256, data, sizeof(data), b64);
    check_roundtrip(SIGNED, &o, "x-amz-checksum-sha256", b64, sizeof(data), "sha256");
}

TEST(s3_body_signed_trailer)
{
    static const enum checksum_algo all[] = { CHECKSUM_CRC32, CHECKSUM_CRC32C, CHECKSUM_CRC64NVME,
                                              CHECKSUM_SHA1, CHECKSUM_SHA256 };
    struct enc_opts o = { .sign = true, .chunk = 4096 };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(all); i++) {
        char *tr = trailer_of(all[i], 10000);

        o.trailer = tr;
        check_roundtrip(SIGNED_TRAILER, &o, "x-amz-trailer", checksum_header_name(all[i]), 10000,
                        checksum_algo_lower(all[i]));
        free(tr);
    }
    o.trailer = NULL; /* a signed trailer with no checksum: only its signature */
    check_roundtrip(SIGNED_TRAILER, &o, NULL, NULL, 3000, NULL);
}

TEST(s3_body_unsigned_trailer)
{
    struct enc_opts o = { .chunk = 65536 };
    char *tr = trailer_of(CHECKSUM_CRC32, 200000);

    o.trailer = tr;
    check_roundtrip(UNSIGNED_TRAILER, &o, "x-amz-trailer", "x-amz-checksum-crc32", 200000, "crc32");
    free(tr);
    tr = trailer_of(CHECKSUM_CRC32, 0);
    o.trailer = tr;
    check_roundtrip(UNSIGNED_TRAILER, &o, "x-amz-trailer", "x-amz-checksum-crc32", 0, "crc32");
    free(tr);
    o.trailer = NULL;
    check_roundtrip(UNSIGNED_TRAILER, &o, NULL, NULL, 100, NULL);
}

TEST(s3_body_aws_example)
{
    /* The documented body, verbatim: it decodes to 66,560 bytes of 'a'. */
    struct buf raw = BUF_INIT;
    char *a = xmalloc(65536);
    struct tcall t;
    int how;

    memset(a, 'a', 65536);
    buf_adds(&raw, "10000;chunk-signature="
                   "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
    buf_add(&raw, a, 65536);
    buf_adds(&raw, "\r\n400;chunk-signature="
                   "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
    buf_add(&raw, a, 1024);
    buf_adds(&raw, "\r\n0;chunk-signature="
                   "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
    ASSERT_EQ(raw.len, 66824); /* the documented Content-Length */
    for (how = WHOLE; how <= LARGE; how++) {
        tcall_init(&t, SIGNED);
        tcall_header(&t, "x-amz-decoded-content-length", "66560");
        ASSERT_OK(run(&t, buf_slice(&raw), (enum split)how, NULL));
        ASSERT_EQ(t.out.len, 66560);
        ASSERT_MEMEQ(t.out.ptr, a, 1024);
        tcall_release(&t);
    }
    /* The trailer example: its crc32c must match the data, its signature the chain. */
    buf_clear(&raw);
    buf_adds(&raw, "10000;chunk-signature="
                   "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n");
    buf_add(&raw, a, 65536);
    buf_adds(&raw, "\r\n400;chunk-signature="
                   "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n");
    buf_add(&raw, a, 1024);
    buf_adds(&raw, "\r\n0;chunk-signature="
                   "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n"
                   "x-amz-checksum-crc32c:sOO8/Q==\r\n"
                   "x-amz-trailer-signature:"
                   "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n");
    tcall_init(&t, SIGNED_TRAILER);
    memcpy(t.call.auth.seed_signature,
           "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e", 65);
    tcall_header(&t, "x-amz-decoded-content-length", "66560");
    tcall_header(&t, "x-amz-trailer", "x-amz-checksum-crc32c");
    ASSERT_OK(run(&t, buf_slice(&raw), RANDOM, NULL));
    ASSERT_EQ(t.out.len, 66560);
    tcall_release(&t);
    buf_release(&raw);
    free(a);
}

TEST(s3_body_raw_modes)
{
    uint8_t data[3000];
    char hex[65], b64[CHECKSUM_B64_SIZE];
    struct tcall t;
    struct s3_body *b;
    const char *algo, *v;

    pattern(data, sizeof(data));
    sha256_hex(data, sizeof(data), hex);
    /* Signed payload, and a CRC32 header. */
    tcall_init(&t, hex);
    t.req.content_length = sizeof(data);
    checksum_b64(CHECKSUM_CRC32, data, sizeof(data), b64);
    tcall_header(&t, "X-Amz-Checksum-CRC32", b64);
    tcall_header(&t, "x-amz-sdk-checksum-algorithm", "CRC32");
    ASSERT_OK(run(&t, slice_make(data, sizeof(data)), RANDOM, &b));
    ASSERT(!s3_body_is_chunked(b));
    ASSERT_EQ(s3_body_size(b), (int64_t)sizeof(data));
    ASSERT(s3_body_checksum(b, &algo, &v));
    ASSERT_STREQ(algo, "crc32");
    ASSERT_STREQ(v, b64);
    ASSERT_EQ(t.out.len, sizeof(data));
    tcall_release(&t);
    /* A wrong SHA-256, a wrong checksum, a short body. */
    tcall_init(&t, hex);
    ASSERT_EQ(run(&t, slice_make(data, sizeof(data) - 1), WHOLE, NULL), -ERR_SHA256_MISMATCH);
    tcall_release(&t);
    tcall_init(&t, SIGV4_UNSIGNED_PAYLOAD);
    tcall_header(&t, "x-amz-checksum-crc32", b64);
    ASSERT_EQ(run(&t, slice_make(data + 1, sizeof(data) - 1), WHOLE, NULL), -ERR_CHECKSUM_MISMATCH);
    tcall_release(&t);
    tcall_init(&t, SIGV4_UNSIGNED_PAYLOAD);
    t.req.content_length = sizeof(data);
    ASSERT_EQ(run(&t, slice_make(data, 10), WHOLE, NULL), -ERR_INCOMPLETE_BODY);
    tcall_release(&t);
    /* x-amz-sdk-checksum-algorithm alone: computed and stored. */
    tcall_init(&t, "");
    tcall_header(&t, "x-amz-sdk-checksum-algorithm", "crc64nvme");
    ASSERT_OK(run(&t, slice_make(data, sizeof(data)), BYTES, &b));
    ASSERT(s3_body_checksum(b, &algo, &v));
    ASSERT_STREQ(algo, "crc64nvme");
    tcall_release(&t);
}

/* begin() must refuse the request with `want`. */
static void
check_begin(const char *mode, const char *h1, const char *v1, const char *h2, const char *v2,
            int want)
{
    struct tcall t;
    struct s3_body *b = NULL;

    tcall_init(&t, mode);
    if (h1)
        tcall_header(&t, h1, v1);
    if (h2)
        tcall_header(&t, h2, v2);
    ASSERT_EQ(s3_body_begin(&t.call, &b), want);
    ASSERT(b == NULL);
    tcall_release(&t);
}

TEST(s3_body_bad_headers)
{
    check_begin("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", NULL, NULL, NULL, NULL,
                -ERR_NOT_IMPLEMENTED);
    check_begin("nothex", NULL, NULL, NULL, NULL, -ERR_AUTH_MALFORMED);
    check_begin(SIGNED, "x-amz-decoded-content-length", "12x", NULL, NULL, -ERR_INVALID_ARGUMENT);
    check_begin(SIGNED, "x-amz-decoded-content-length", "99999999999", NULL, NULL, -ERR_TOO_LARGE);
    check_begin("", "x-amz-checksum-crc32", "AAAAAA==", "x-amz-checksum-sha1",
                "2jmj7l5rSw0yVb/vlWAYkK/YBwk=", -ERR_INVALID_CHECKSUM);
    check_begin("", "x-amz-checksum-md5", "AAAAAA==", NULL, NULL, -ERR_INVALID_CHECKSUM);
    check_begin("", "x-amz-checksum-crc32", "AAAA", NULL, NULL, -ERR_INVALID_CHECKSUM);
    check_begin("", "x-amz-checksum-crc32", "AAAAAA==", "x-amz-sdk-checksum-algorithm", "SHA1",
                -ERR_INVALID_CHECKSUM);
    check_begin("", "x-amz-sdk-checksum-algorithm", "MD5", NULL, NULL, -ERR_INVALID_CHECKSUM);
    check_begin(SIGNED, "x-amz-trailer", "x-amz-checksum-crc32", NULL, NULL, -ERR_INVALID_REQUEST);
    check_begin(UNSIGNED_TRAILER, "x-amz-trailer", "x-amz-checksum-xyz", NULL, NULL,
                -ERR_INVALID_CHECKSUM);
    check_begin(UNSIGNED_TRAILER, "x-amz-trailer", "x-amz-checksum-crc32", "x-amz-checksum-crc32",
                "AAAAAA==", -ERR_INVALID_CHECKSUM);
}

/* A chunked body in `mode` built from `raw` must fail with `want` in every split. */
static void
check_bad(const char *mode, const char *trailer_hdr, struct slice raw, size_t decoded, int want)
{
    struct tcall t;
    int how;

    for (how = WHOLE; how <= LARGE; how++) {
        tcall_init(&t, mode);
        if (decoded != SIZE_MAX)
            tcall_header(&t, "x-amz-decoded-content-length",
                         arena_printf(t.req.arena, "%zu", decoded));
        if (trailer_hdr)
            tcall_header(&t, "x-amz-trailer", trailer_hdr);
        ASSERT_EQ(run(&t, raw, (enum split)how, NULL), want);
        tcall_release(&t);
    }
}

/* Encodes the pattern with `o` in `mode` (the auth the decoder will use). */
static void
build(struct buf *raw, const char *mode, size_t n, const struct enc_opts *o)
{
    uint8_t *data = xmalloc(n + 1);
    struct sigv4_auth a;

    pattern(data, n);
    sigv4_auth_for_signing(&a, AK, SK, "us-east-1", T0, SEED);
    snprintf(a.payload_hash, sizeof(a.payload_hash), "%s", mode);
    buf_clear(raw);
    encode(raw, &a, data, n, o);
    sigv4_auth_clear(&a);
    free(data);
}

static void
replace_first(struct buf *b, const char *from, const char *to)
{
    char *p = memmem(b->ptr, b->len, from, strlen(from));

    BUG_ON(!p || strlen(from) != strlen(to));
    memcpy(p, to, strlen(to));
}

TEST(s3_body_bad_chunks)
{
    struct enc_opts o = { .sign = true, .chunk = 1000 };
    struct buf raw = BUF_INIT;
    char *p;

    /* A data byte changed: its chunk's signature no longer matches. */
    build(&raw, SIGNED, 3000, &o);
    p = memmem(raw.ptr, raw.len, "\r\n", 2);
    p[500] ^= 1;
    check_bad(SIGNED, NULL, buf_slice(&raw), 3000, -ERR_CHUNK_SIG_MISMATCH);
    /*
     * Signatures that do not chain: two chunks of the same bytes, the second
     * carrying the first's signature (valid for its data, but chained from
     * the seed instead of its predecessor).
     */
    {
        struct sigv4_auth a;
        char *same = xmalloc(2000), *s1, *s2;

        memset(same, 'a', 2000);
        sigv4_auth_for_signing(&a, AK, SK, "us-east-1", T0, SEED);
        buf_clear(&raw);
        encode(&raw, &a, same, 2000, &o);
        s1 = memmem(raw.ptr, raw.len, "3e8;chunk-signature=", 20);
        s2 = memmem(s1 + 20, raw.len - (size_t)(s1 + 20 - raw.ptr), "3e8;chunk-signature=", 20);
        BUG_ON(!s1 || !s2);
        memcpy(s2 + 20, s1 + 20, 64);
        check_bad(SIGNED, NULL, buf_slice(&raw), 2000, -ERR_CHUNK_SIG_MISMATCH);
        sigv4_auth_clear(&a);
        free(same);
    }
    /* A chunk shorter than its size line says: the CRLF is taken as data. */
    build(&raw, SIGNED, 2000, &o);
    replace_first(&raw, "3e8;", "3e9;");
    check_bad(SIGNED, NULL, buf_slice(&raw), 2000, -ERR_INVALID_CHUNK);
    /* A chunk longer than its size line: the byte after the data is not CR. */
    build(&raw, SIGNED, 2000, &o);
    replace_first(&raw, "3e8;", "3e7;");
    check_bad(SIGNED, NULL, buf_slice(&raw), 2000, -ERR_INVALID_CHUNK);
    /* No final chunk. */
    o.no_final = true;
    build(&raw, SIGNED, 2000, &o);
    check_bad(SIGNED, NULL, buf_slice(&raw), 2000, -ERR_INVALID_CHUNK);
    o.no_final = false;
    /* A body cut in the middle of a chunk. */
    build(&raw, SIGNED, 2000, &o);
    check_bad(SIGNED, NULL, slice_make(raw.ptr, 1500), 2000, -ERR_INVALID_CHUNK);
    /* More bytes than x-amz-decoded-content-length; fewer. */
    check_bad(SIGNED, NULL, buf_slice(&raw), 1999, -ERR_INVALID_CHUNK);
    check_bad(SIGNED, NULL, buf_slice(&raw), 2001, -ERR_INCOMPLETE_BODY);
    /* Bytes after the end. */
    buf_adds(&raw, "x");
    check_bad(SIGNED, NULL, buf_slice(&raw), 2000, -ERR_INVALID_CHUNK);
    /* Unsigned chunks in a signed mode, and a malformed signature. */
    o.sign = false;
    build(&raw, SIGNED, 100, &o);
    check_bad(SIGNED, NULL, buf_slice(&raw), 100, -ERR_INVALID_CHUNK);
    o.sign = true;
    build(&raw, SIGNED, 100, &o);
    replace_first(&raw, "signature=", "signaturE=");
    check_bad(SIGNED, NULL, buf_slice(&raw), 100, -ERR_INVALID_CHUNK);
    buf_release(&raw);
}

TEST(s3_body_bad_lines)
{
    struct buf raw = BUF_INIT;
    size_t i;

    /* A size line without end: bounded. */
    buf_adds(&raw, "1");
    for (i = 0; i < S3_BODY_LINE_MAX + 10; i++)
        buf_addch(&raw, '0');
    check_bad(UNSIGNED_TRAILER, NULL, buf_slice(&raw), SIZE_MAX, -ERR_INVALID_CHUNK);
    /* More than 16 hex digits, no digits, a bare LF, garbage after the size. */
    check_bad(UNSIGNED_TRAILER, NULL, SLICE_LIT("00000000000000001\r\nx\r\n0\r\n\r\n"), SIZE_MAX,
              -ERR_INVALID_CHUNK);
    check_bad(UNSIGNED_TRAILER, NULL, SLICE_LIT(";x\r\n"), SIZE_MAX, -ERR_INVALID_CHUNK);
    check_bad(UNSIGNED_TRAILER, NULL, SLICE_LIT("1\nx\r\n0\r\n\r\n"), SIZE_MAX, -ERR_INVALID_CHUNK);
    check_bad(UNSIGNED_TRAILER, NULL, SLICE_LIT("1 x\r\nx\r\n0\r\n\r\n"), SIZE_MAX,
              -ERR_INVALID_CHUNK);
    /* A huge chunk with no declared length: over the 5 GiB bound. */
    check_bad(UNSIGNED_TRAILER, NULL, SLICE_LIT("ffffffffff\r\nx"), SIZE_MAX, -ERR_INVALID_CHUNK);
    /* Unsigned: chunk extensions are ignored; without a declared length the size is unknown. */
    check_bad(UNSIGNED_TRAILER, NULL, SLICE_LIT("1;ext=1\r\nx\r\n0\r\n\r\n"), SIZE_MAX, 0);
    buf_release(&raw);
}

TEST(s3_body_bad_trailers)
{
    struct enc_opts o = { .sign = true, .chunk = 1000 };
    struct buf raw = BUF_INIT;
    char *good = trailer_of(CHECKSUM_CRC32, 2500), *bad = xstrdup(good), *p;

    p = strchr(bad, ':') + 1;
    *p = *p == 'A' ? 'B' : 'A'; /* another valid base64 value */
    /* A trailer with the wrong checksum (correctly signed). */
    o.trailer = bad;
    build(&raw, SIGNED_TRAILER, 2500, &o);
    check_bad(SIGNED_TRAILER, "x-amz-checksum-crc32", buf_slice(&raw), 2500,
              -ERR_CHECKSUM_MISMATCH);
    o.sign = false;
    build(&raw, UNSIGNED_TRAILER, 2500, &o);
    check_bad(UNSIGNED_TRAILER, "x-amz-checksum-crc32", buf_slice(&raw), 2500,
              -ERR_CHECKSUM_MISMATCH);
    /* The right checksum, but the trailer signature of another value. */
    o.sign = true;
    build(&raw, SIGNED_TRAILER, 2500, &o);
    replace_first(&raw, bad, good);
    check_bad(SIGNED_TRAILER, "x-amz-checksum-crc32", buf_slice(&raw), 2500,
              -ERR_CHUNK_SIG_MISMATCH);
    /* No trailer signature in a signed trailer mode. */
    o.trailer = good;
    o.no_trailer_sig = true;
    build(&raw, SIGNED_TRAILER, 2500, &o);
    check_bad(SIGNED_TRAILER, "x-amz-checksum-crc32", buf_slice(&raw), 2500, -ERR_INVALID_CHUNK);
    o.no_trailer_sig = false;
    /* A trailer that x-amz-trailer did not announce; an announced one missing. */
    build(&raw, SIGNED_TRAILER, 2500, &o);
    check_bad(SIGNED_TRAILER, NULL, buf_slice(&raw), 2500, -ERR_INVALID_CHUNK);
    check_bad(SIGNED_TRAILER, "x-amz-checksum-crc32c", buf_slice(&raw), 2500, -ERR_INVALID_CHUNK);
    o.trailer = NULL;
    o.sign = false;
    build(&raw, UNSIGNED_TRAILER, 2500, &o);
    check_bad(UNSIGNED_TRAILER, "x-amz-checksum-crc32", buf_slice(&raw), 2500, -ERR_INVALID_CHUNK);
    /* A malformed trailer value, and a trailer signature in an unsigned mode. */
    check_bad(UNSIGNED_TRAILER, "x-amz-checksum-crc32",
              SLICE_LIT("0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n"), 0, -ERR_INVALID_CHECKSUM);
    check_bad(UNSIGNED_TRAILER, NULL,
              SLICE_LIT("0\r\nx-amz-trailer-signature:"
                        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n"),
              0, -ERR_INVALID_CHUNK);
    /* The AWS doc's variant with an empty line before the trailer is accepted. */
    check_bad(UNSIGNED_TRAILER, "x-amz-checksum-crc32",
              SLICE_LIT("0\r\n\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"), 0, 0);
    free(good);
    free(bad);
    buf_release(&raw);
}

struct failing_sink {
    size_t calls;
};

static int
fail_second(void *arg, const void *data, size_t n)
{
    struct failing_sink *f = arg;

    return ++f->calls == 2 ? -ERR_QUORUM : 0;
}

TEST(s3_body_sink_error_is_sticky)
{
    struct enc_opts o = { .sign = true, .chunk = 100 };
    struct buf raw = BUF_INIT;
    struct failing_sink f = { 0 };
    struct tcall t;
    struct s3_body *b;

    build(&raw, SIGNED, 1000, &o);
    tcall_init(&t, SIGNED);
    ASSERT_OK(s3_body_begin(&t.call, &b));
    ASSERT_EQ(s3_body_feed(b, raw.ptr, raw.len, fail_second, &f), -ERR_QUORUM);
    ASSERT_EQ(s3_body_feed(b, raw.ptr, 1, fail_second, &f), -ERR_QUORUM);
    ASSERT_EQ(s3_body_finish(b), -ERR_QUORUM);
    ASSERT_EQ(f.calls, 2);
    tcall_release(&t);
    buf_release(&raw);
}

/*
 * More chunks in one s3_body_feed() call than body.c keeps records for (16):
 * the records are hashed and checked mid-call; and chunks of unequal sizes
 * side by side in the two hash lanes (the LARGE split cuts them anywhere).
 */
TEST(s3_body_signed_chunks_many_per_call)
{
    struct enc_opts o = { .sign = true, .chunk = 100 };

    check_roundtrip(SIGNED, &o, NULL, NULL, 10000, NULL); /* 100 chunks */
    o.chunk = 1;
    check_roundtrip(SIGNED, &o, NULL, NULL, 40, NULL);
    o.chunk = 65536;
    check_roundtrip(SIGNED, &o, NULL, NULL, 1000000, NULL);
    o.chunk = 65536 + 37; /* the two lanes' chunks start at different offsets of a call */
    check_roundtrip(SIGNED, &o, NULL, NULL, 700001, NULL);
}

/* The size line of chunk `k` (from 0) of a body of 100-byte chunks. */
static char *
chunk_at(struct buf *raw, int k)
{
    char *p = raw->ptr;
    int i;

    for (i = 0; i <= k; i++) {
        p = memmem(p + (i > 0), raw->len - (size_t)(p + (i > 0) - raw->ptr),
                   "64;chunk-signature=", 19);
        BUG_ON(!p);
    }
    return p;
}

/*
 * A bad chunk far into the body, after two sets of records; then the same
 * with a framing error two chunks later (in the same set of records, so the
 * parse stops before the set is hashed): the bad chunk, first in the
 * stream, is the error reported.
 */
TEST(s3_body_bad_chunk_after_many)
{
    struct enc_opts o = { .sign = true, .chunk = 100 };
    struct buf raw = BUF_INIT;

    build(&raw, SIGNED, 5000, &o);
    chunk_at(&raw, 41)[85 + 50] ^= 1; /* a data byte: size line, CRLF, 50 bytes */
    check_bad(SIGNED, NULL, buf_slice(&raw), 5000, -ERR_CHUNK_SIG_MISMATCH);
    chunk_at(&raw, 43)[1] = '5'; /* 0x54 bytes where 0x64 follow */
    check_bad(SIGNED, NULL, buf_slice(&raw), 5000, -ERR_CHUNK_SIG_MISMATCH);
    /* Only the framing error: it is the error. */
    build(&raw, SIGNED, 5000, &o);
    chunk_at(&raw, 43)[1] = '5';
    check_bad(SIGNED, NULL, buf_slice(&raw), 5000, -ERR_INVALID_CHUNK);
    /* The final, empty chunk with a signature that is not the chain's. */
    build(&raw, SIGNED, 5000, &o);
    {
        char *fin = memmem(raw.ptr, raw.len, "\r\n0;chunk-signature=", 20);

        BUG_ON(!fin);
        fin[20] = fin[20] == '0' ? '1' : '0';
    }
    check_bad(SIGNED, NULL, buf_slice(&raw), 5000, -ERR_CHUNK_SIG_MISMATCH);
    buf_release(&raw);
}

/* Everything signed again with OpenSSL's one-at-a-time hashes (CPUs without the SHA extensions). */
TEST(s3_body_signed_chunks_without_sha_ni)
{
    s3_body_test_no_sha_ni = true;
    test_s3_body_signed_chunks();
    test_s3_body_signed_trailer();
    test_s3_body_aws_example();
    test_s3_body_bad_chunks();
    test_s3_body_signed_chunks_many_per_call();
    test_s3_body_bad_chunk_after_many();
    s3_body_test_no_sha_ni = false;
}

/* s3_body_compute(): the checksum of an algorithm the request did not name (FULL_OBJECT parts). */
TEST(s3_body_compute_when_none_named)
{
    uint8_t data[5000];
    char b64[CHECKSUM_B64_SIZE];
    struct tcall t;
    struct s3_body *b;
    const char *algo, *v;

    pattern(data, sizeof(data));
    checksum_b64(CHECKSUM_CRC32C, data, sizeof(data), b64);
    tcall_init(&t, SIGV4_UNSIGNED_PAYLOAD);
    ASSERT_OK(s3_body_begin(&t.call, &b));
    ASSERT_EQ(s3_body_algo(b), CHECKSUM_NONE);
    s3_body_compute(b, CHECKSUM_CRC32C);
    ASSERT_EQ(s3_body_algo(b), CHECKSUM_CRC32C);
    ASSERT_OK(s3_body_feed(b, data, 1234, sink, &t.out));
    ASSERT_OK(s3_body_feed(b, data + 1234, sizeof(data) - 1234, sink, &t.out));
    ASSERT_OK(s3_body_finish(b));
    ASSERT(s3_body_checksum(b, &algo, &v));
    ASSERT_STREQ(algo, "crc32c");
    ASSERT_STREQ(v, b64);
    tcall_release(&t);
    /* a request that names one keeps it */
    checksum_b64(CHECKSUM_SHA1, data, sizeof(data), b64);
    tcall_init(&t, SIGV4_UNSIGNED_PAYLOAD);
    tcall_header(&t, "x-amz-checksum-sha1", b64);
    ASSERT_OK(s3_body_begin(&t.call, &b));
    s3_body_compute(b, CHECKSUM_CRC32C);
    ASSERT_EQ(s3_body_algo(b), CHECKSUM_SHA1);
    ASSERT_OK(s3_body_feed(b, data, sizeof(data), sink, &t.out));
    ASSERT_OK(s3_body_finish(b));
    ASSERT(s3_body_checksum(b, &algo, &v));
    ASSERT_STREQ(algo, "sha1");
    tcall_release(&t);
}
