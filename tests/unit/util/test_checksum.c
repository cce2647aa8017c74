/*
 * tests/unit/util/test_checksum.c: the flexible checksums against published
 * check values (the CRC catalogue's "123456789", FIPS 180 "abc"), the AWS
 * trailer example's CRC32C, streaming in pieces, combination and names.
 */
#include "util/base.h"

#include "harness.h"
#include "util/checksum.h"
#include "util/enc.h"

#define CHECK "123456789"

static uint64_t
crc_of(enum checksum_algo algo, const void *p, size_t n)
{
    struct checksum c;

    checksum_init(&c, algo);
    checksum_update(&c, p, n);
    return checksum_crc_value(&c);
}

TEST(checksum_crc_check_values)
{
    /* The "check" of each CRC in the CRC catalogue (reveng.sourceforge.io). */
    ASSERT_EQ(crc_of(CHECKSUM_CRC32, CHECK, 9), 0xCBF43926ull);
    ASSERT_EQ(crc_of(CHECKSUM_CRC32C, CHECK, 9), 0xE3069283ull);
    ASSERT(crc_of(CHECKSUM_CRC64NVME, CHECK, 9) == 0xAE8B14860A799888ull);
    ASSERT_EQ(crc_of(CHECKSUM_CRC32, "", 0), 0);
    ASSERT_EQ(crc_of(CHECKSUM_CRC32C, "", 0), 0);
    ASSERT(crc_of(CHECKSUM_CRC64NVME, "", 0) == 0);
}

TEST(checksum_sha_check_values)
{
    struct checksum c;
    uint8_t raw[CHECKSUM_MAX_SIZE];
    char hex[65];

    checksum_init(&c, CHECKSUM_SHA1);
    checksum_update(&c, "abc", 3);
    ASSERT_EQ(checksum_final(&c, raw), 20);
    hex_encode_to(hex, raw, 20);
    ASSERT_STREQ(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    checksum_release(&c); /* a no-op after final */
    checksum_init(&c, CHECKSUM_SHA256);
    checksum_update(&c, "ab", 2);
    checksum_update(&c, "c", 1);
    ASSERT_EQ(checksum_final(&c, raw), 32);
    hex_encode_to(hex, raw, 32);
    ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(checksum_base64_values)
{
    char b64[CHECKSUM_B64_SIZE];
    char *a = xmalloc(66560);

    /* What S3 answers for an empty object. */
    checksum_b64(CHECKSUM_CRC32, "", 0, b64);
    ASSERT_STREQ(b64, "AAAAAA==");
    checksum_b64(CHECKSUM_CRC64NVME, "", 0, b64);
    ASSERT_STREQ(b64, "AAAAAAAAAAA=");
    checksum_b64(CHECKSUM_SHA256, "", 0, b64);
    ASSERT_STREQ(b64, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    checksum_b64(CHECKSUM_CRC32, CHECK, 9, b64);
    ASSERT_STREQ(b64, "y/Q5Jg=="); /* big-endian cbf43926 */
    /* The AWS "trailing headers" example: 66,560 bytes of 'a' -> x-amz-checksum-crc32c:sOO8/Q== */
    memset(a, 'a', 66560);
    checksum_b64(CHECKSUM_CRC32C, a, 66560, b64);
    ASSERT_STREQ(b64, "sOO8/Q==");
    free(a);
}

TEST(checksum_streaming_any_split)
{
    static const enum checksum_algo all[] = { CHECKSUM_CRC32, CHECKSUM_CRC32C, CHECKSUM_CRC64NVME,
                                              CHECKSUM_SHA1, CHECKSUM_SHA256 };
    uint8_t data[3001];
    char whole[CHECKSUM_B64_SIZE], parts[CHECKSUM_B64_SIZE];
    size_t i, j, off;

    for (i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131 + (i >> 3));
    srand(7);
    for (i = 0; i < ARRAY_SIZE(all); i++) {
        for (j = 0; j < 20; j++) {
            struct checksum c;

            checksum_b64(all[i], data + j, sizeof(data) - j, whole);
            checksum_init(&c, all[i]);
            for (off = j; off < sizeof(data);) {
                size_t n = (size_t)(rand() % 97); /* MIN() evaluates twice */

                n = MIN(n, sizeof(data) - off);

                checksum_update(&c, data + off, n);
                off += n;
            }
            checksum_final_b64(&c, parts);
            ASSERT_STREQ(whole, parts);
        }
    }
}

TEST(checksum_crc_combine)
{
    static const enum checksum_algo crcs[] = { CHECKSUM_CRC32, CHECKSUM_CRC32C,
                                               CHECKSUM_CRC64NVME };
    uint8_t data[5000];
    size_t i, cut;

    for (i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    for (i = 0; i < ARRAY_SIZE(crcs); i++) {
        uint64_t whole = crc_of(crcs[i], data, sizeof(data));

        for (cut = 0; cut <= sizeof(data); cut += 613) {
            uint64_t a = crc_of(crcs[i], data, cut);
            uint64_t b = crc_of(crcs[i], data + cut, sizeof(data) - cut);

            ASSERT(checksum_crc_combine(crcs[i], a, b, sizeof(data) - cut) == whole);
        }
        ASSERT(checksum_crc_combine(crcs[i], crc_of(crcs[i], "1234", 4),
                                    crc_of(crcs[i], "56789", 5), 5) == crc_of(crcs[i], CHECK, 9));
    }
}

static enum checksum_algo
algo_of(struct slice name)
{
    enum checksum_algo a = CHECKSUM_NONE;

    if (checksum_algo_parse(name, &a) < 0)
        ASSERT_EQ(a, CHECKSUM_NONE); /* untouched */
    return a;
}

TEST(checksum_names_and_raw)
{
    uint8_t raw[CHECKSUM_MAX_SIZE];
    char b64[CHECKSUM_B64_SIZE];

    ASSERT_EQ(algo_of(SLICE_LIT("CRC32")), CHECKSUM_CRC32);
    ASSERT_EQ(algo_of(SLICE_LIT("crc32c")), CHECKSUM_CRC32C);
    ASSERT_EQ(algo_of(SLICE_LIT("x-amz-checksum-crc64nvme")), CHECKSUM_CRC64NVME);
    ASSERT_EQ(algo_of(SLICE_LIT("X-Amz-Checksum-SHA1")), CHECKSUM_SHA1);
    ASSERT_EQ(algo_of(SLICE_LIT("sha256")), CHECKSUM_SHA256);
    ASSERT_EQ(algo_of(SLICE_LIT("md5")), CHECKSUM_NONE);
    ASSERT_EQ(algo_of(SLICE_LIT("x-amz-checksum-")), CHECKSUM_NONE);
    ASSERT_EQ(algo_of(SLICE_LIT("")), CHECKSUM_NONE);
    ASSERT_STREQ(checksum_algo_name(CHECKSUM_CRC64NVME), "CRC64NVME");
    ASSERT_STREQ(checksum_algo_lower(CHECKSUM_CRC32C), "crc32c");
    ASSERT_STREQ(checksum_header_name(CHECKSUM_SHA256), "x-amz-checksum-sha256");
    ASSERT_EQ(checksum_size(CHECKSUM_CRC64NVME), 8);
    ASSERT(checksum_is_crc(CHECKSUM_CRC32C) && !checksum_is_crc(CHECKSUM_SHA1));
    ASSERT_OK(checksum_b64_decode(CHECKSUM_CRC32, SLICE_LIT("y/Q5Jg=="), raw));
    ASSERT(checksum_crc_from_raw(CHECKSUM_CRC32, raw) == 0xCBF43926ull);
    checksum_crc_to_raw(CHECKSUM_CRC64NVME, 0xAE8B14860A799888ull, raw);
    checksum_b64_encode(CHECKSUM_CRC64NVME, raw, b64);
    ASSERT_OK(checksum_b64_decode(CHECKSUM_CRC64NVME, slice_cstr(b64), raw));
    ASSERT(checksum_crc_from_raw(CHECKSUM_CRC64NVME, raw) == 0xAE8B14860A799888ull);
    /* Wrong length, not base64, unknown algorithm. */
    ASSERT_EQ(checksum_b64_decode(CHECKSUM_CRC32, SLICE_LIT("AAAAAAAAAAA="), raw),
              -ERR_INVALID_CHECKSUM);
    ASSERT_EQ(checksum_b64_decode(CHECKSUM_CRC32, SLICE_LIT("y/Q5J==="), raw),
              -ERR_INVALID_CHECKSUM);
    ASSERT_EQ(checksum_b64_decode(CHECKSUM_CRC32, SLICE_LIT("y/Q5Jg"), raw), -ERR_INVALID_CHECKSUM);
    ASSERT_EQ(checksum_b64_decode(CHECKSUM_NONE, SLICE_LIT("AAAAAA=="), raw),
              -ERR_INVALID_CHECKSUM);
}
