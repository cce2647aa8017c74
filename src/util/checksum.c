/*
 * util/checksum.c: CRC32, CRC32C, CRC64NVME, SHA1 and SHA256 as streams
 * (see checksum.h), and zlib-style CRC combination.
 *
 * CRC registers: all three CRCs are reflected with init and xorout ~0, so the
 * stream keeps the register (`_crc`, starting at ~0) and the value is its
 * complement. ISA-L's crc32_gzip_refl takes and returns finished values (it
 * complements internally); crc32_iscsi takes and returns the raw register.
 *
 * CRC64NVME is slicing-by-8 over eight 256-entry tables built once
 * (pthread_once): about 1.5-2 GB/s on one core. ISA-L >= 2.31 has
 * crc64_rocksoft_refl (PCLMULQDQ folding) for the same polynomial; switch to
 * it when Debian ships it.
 */
#include "util/base.h"

#include "util/checksum.h"

#include <isa-l/crc.h>
#include <openssl/evp.h>
#include <pthread.h>

#include "util/buf.h"
#include "util/enc.h"
#include "util/err.h"

#define CRC64NVME_POLY 0x9a6c9329ac4bc9b5ull /* 0xAD93D23594C93659 reflected */
#define CRC32_POLY 0xedb88320ull
#define CRC32C_POLY 0x82f63b78ull

struct algo_desc {
    const char *name;  /* "CRC32" */
    const char *lower; /* "crc32" */
    const char *header;
    size_t size;
};

static const struct algo_desc algos[] = {
    [CHECKSUM_NONE] = { "", "", "", 0 },
    [CHECKSUM_CRC32] = { "CRC32", "crc32", "x-amz-checksum-crc32", 4 },
    [CHECKSUM_CRC32C] = { "CRC32C", "crc32c", "x-amz-checksum-crc32c", 4 },
    [CHECKSUM_CRC64NVME] = { "CRC64NVME", "crc64nvme", "x-amz-checksum-crc64nvme", 8 },
    [CHECKSUM_SHA1] = { "SHA1", "sha1", "x-amz-checksum-sha1", 20 },
    [CHECKSUM_SHA256] = { "SHA256", "sha256", "x-amz-checksum-sha256", 32 },
};

/* Written once under crc64_once, read-only afterwards. */
static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void
crc64_table_build(void)
{
    unsigned i, j;

    for (i = 0; i < 256; i++) {
        uint64_t c = i;

        for (j = 0; j < 8; j++)
            c = (c & 1) ? (c >> 1) ^ CRC64NVME_POLY : c >> 1;
        crc64_table[0][i] = c;
    }
    for (i = 0; i < 256; i++)
        for (j = 1; j < 8; j++)
            crc64_table[j][i] =
                (crc64_table[j - 1][i] >> 8) ^ crc64_table[0][crc64_table[j - 1][i] & 0xff];
}

/* Register in, register out (no complement). */
static uint64_t
crc64nvme_update(uint64_t crc, const uint8_t *p, size_t n)
{
    const uint64_t(*t)[256] = (const uint64_t(*)[256])crc64_table;

    while (n && ((uintptr_t)p & 7)) {
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t w;

        memcpy(&w, p, 8);
        crc ^= le64toh(w);
        crc = t[7][crc & 0xff] ^ t[6][(crc >> 8) & 0xff] ^ t[5][(crc >> 16) & 0xff] ^
              t[4][(crc >> 24) & 0xff] ^ t[3][(crc >> 32) & 0xff] ^ t[2][(crc >> 40) & 0xff] ^
              t[1][(crc >> 48) & 0xff] ^ t[0][crc >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

int
checksum_algo_parse(struct slice name, enum checksum_algo *out)
{
    struct slice prefix = SLICE_LIT("x-amz-checksum-");
    size_t i;

    if (name.len > prefix.len && slice_case_eq(slice_make(name.ptr, prefix.len), prefix))
        name = slice_make(name.ptr + prefix.len, name.len - prefix.len);
    for (i = CHECKSUM_CRC32; i < ARRAY_SIZE(algos); i++) {
        if (slice_case_eq_cstr(name, algos[i].lower)) {
            *out = (enum checksum_algo)i;
            return 0;
        }
    }
    return -ERR_INVALID_CHECKSUM;
}

const char *
checksum_algo_name(enum checksum_algo algo)
{
    return algos[algo].name;
}

const char *
checksum_algo_lower(enum checksum_algo algo)
{
    return algos[algo].lower;
}

const char *
checksum_header_name(enum checksum_algo algo)
{
    return algos[algo].header;
}

size_t
checksum_size(enum checksum_algo algo)
{
    return algos[algo].size;
}

bool
checksum_is_crc(enum checksum_algo algo)
{
    return algo == CHECKSUM_CRC32 || algo == CHECKSUM_CRC32C || algo == CHECKSUM_CRC64NVME;
}

void
checksum_init(struct checksum *c, enum checksum_algo algo)
{
    BUG_ON(algo == CHECKSUM_NONE || algo >= ARRAY_SIZE(algos));
    c->algo = algo;
    c->_md = NULL;
    c->_crc = algo == CHECKSUM_CRC32 ? 0 : ~(uint64_t)0; /* CRC32: ISA-L's finished value */
    if (algo == CHECKSUM_CRC64NVME)
        pthread_once(&crc64_once, crc64_table_build);
    if (algo == CHECKSUM_SHA1 || algo == CHECKSUM_SHA256) {
        c->_md = EVP_MD_CTX_new();
        BUG_ON(!c->_md);
        BUG_ON(EVP_DigestInit_ex(c->_md, algo == CHECKSUM_SHA1 ? EVP_sha1() : EVP_sha256(), NULL) !=
               1);
    }
}

void
checksum_update(struct checksum *c, const void *p, size_t n)
{
    const uint8_t *b = p;

    switch (c->algo) {
    case CHECKSUM_CRC32:
        c->_crc = crc32_gzip_refl((uint32_t)c->_crc, b, n);
        break;
    case CHECKSUM_CRC32C:
        while (n) { /* crc32_iscsi takes an int length */
            size_t step = MIN(n, (size_t)1 << 30);

            c->_crc = crc32_iscsi((unsigned char *)b, (int)step, (unsigned)c->_crc);
            b += step;
            n -= step;
        }
        break;
    case CHECKSUM_CRC64NVME:
        c->_crc = crc64nvme_update(c->_crc, b, n);
        break;
    case CHECKSUM_SHA1:
    case CHECKSUM_SHA256:
        EVP_DigestUpdate(c->_md, p, n);
        break;
    case CHECKSUM_NONE:
        BUG_ON(1);
    }
}

uint64_t
checksum_crc_value(const struct checksum *c)
{
    switch (c->algo) {
    case CHECKSUM_CRC32:
        return (uint32_t)c->_crc;
    case CHECKSUM_CRC32C:
        return (uint32_t)~c->_crc;
    case CHECKSUM_CRC64NVME:
        return ~c->_crc;
    default:
        BUG_ON(1);
    }
    return 0;
}

uint64_t
checksum_crc_from_raw(enum checksum_algo algo, const uint8_t *raw)
{
    uint64_t v = 0;
    size_t i;

    BUG_ON(!checksum_is_crc(algo));
    for (i = 0; i < checksum_size(algo); i++)
        v = v << 8 | raw[i];
    return v;
}

void
checksum_crc_to_raw(enum checksum_algo algo, uint64_t crc, uint8_t *raw)
{
    size_t i, n = checksum_size(algo);

    BUG_ON(!checksum_is_crc(algo));
    for (i = 0; i < n; i++)
        raw[i] = (uint8_t)(crc >> (8 * (n - 1 - i)));
}

void
checksum_release(struct checksum *c)
{
    if (c->_md)
        EVP_MD_CTX_free(c->_md);
    c->_md = NULL;
}

size_t
checksum_final(struct checksum *c, uint8_t out[CHECKSUM_MAX_SIZE])
{
    unsigned len = 0;

    if (checksum_is_crc(c->algo)) {
        checksum_crc_to_raw(c->algo, checksum_crc_value(c), out);
        return checksum_size(c->algo);
    }
    BUG_ON(!c->_md);
    BUG_ON(EVP_DigestFinal_ex(c->_md, out, &len) != 1);
    checksum_release(c);
    return len;
}

void
checksum_b64_encode(enum checksum_algo algo, const uint8_t *raw, char out[CHECKSUM_B64_SIZE])
{
    struct buf b = BUF_INIT;

    base64_encode(&b, raw, checksum_size(algo));
    BUG_ON(b.len >= CHECKSUM_B64_SIZE);
    memcpy(out, b.ptr, b.len + 1);
    buf_release(&b);
}

void
checksum_final_b64(struct checksum *c, char out[CHECKSUM_B64_SIZE])
{
    uint8_t raw[CHECKSUM_MAX_SIZE];

    checksum_final(c, raw);
    checksum_b64_encode(c->algo, raw, out);
}

void
checksum_b64(enum checksum_algo algo, const void *p, size_t n, char out[CHECKSUM_B64_SIZE])
{
    struct checksum c;

    checksum_init(&c, algo);
    checksum_update(&c, p, n);
    checksum_final_b64(&c, out);
}

int
checksum_b64_decode(enum checksum_algo algo, struct slice b64, uint8_t out[CHECKSUM_MAX_SIZE])
{
    struct buf d = BUF_INIT;
    int rc = -ERR_INVALID_CHECKSUM;

    if (algo != CHECKSUM_NONE && b64.len <= CHECKSUM_B64_SIZE && base64_decode(&d, b64) == 0 &&
        d.len == checksum_size(algo)) {
        memcpy(out, d.ptr, d.len);
        rc = 0;
    }
    buf_release(&d);
    return rc;
}

/* ---- combination (zlib's crc32_combine, for any reflected CRC up to 64 bits) ---- */

struct crc_poly {
    uint64_t poly; /* reflected */
    unsigned width;
};

static struct crc_poly
crc_poly_of(enum checksum_algo algo)
{
    switch (algo) {
    case CHECKSUM_CRC32:
        return (struct crc_poly){ CRC32_POLY, 32 };
    case CHECKSUM_CRC32C:
        return (struct crc_poly){ CRC32C_POLY, 32 };
    case CHECKSUM_CRC64NVME:
        return (struct crc_poly){ CRC64NVME_POLY, 64 };
    default:
        BUG_ON(1);
    }
    return (struct crc_poly){ 0, 0 };
}

/* a(x) * b(x) modulo p(x), reflected: the top bit is x^0. */
static uint64_t
multmodp(struct crc_poly p, uint64_t a, uint64_t b)
{
    uint64_t m = (uint64_t)1 << (p.width - 1), prod = 0;

    while (m) {
        if (a & m) {
            prod ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ p.poly : b >> 1;
    }
    return prod;
}

/* x^(8 * len) modulo p(x): square and multiply. */
static uint64_t
x8nmodp(struct crc_poly p, uint64_t len)
{
    uint64_t one = (uint64_t)1 << (p.width - 1);
    uint64_t sq = one >> 8; /* x^8 */
    uint64_t r = one;

    while (len) {
        if (len & 1)
            r = multmodp(p, sq, r);
        sq = multmodp(p, sq, sq);
        len >>= 1;
    }
    return r;
}

uint64_t
checksum_crc_combine(enum checksum_algo algo, uint64_t crc_a, uint64_t crc_b, uint64_t len_b)
{
    struct crc_poly p = crc_poly_of(algo);

    return multmodp(p, x8nmodp(p, len_b), crc_a) ^ crc_b;
}
