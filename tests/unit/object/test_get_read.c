/*
 * tests/unit/object/test_get_read.c: reads served from the shard buffers
 * (object/get.c): a block is its data shards one after the other, so reads
 * that straddle a shard boundary or a block boundary, at every phase, on
 * healthy drives and with data shards rebuilt from parity, give the bytes
 * written; and the buffers are recycled between GETs.
 */
#include "util/base.h"

#include "harness.h"
#include "object/internal.h"
#include "object/objlayer.h"
#include "object_test.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define N_DRIVES 4

/* Reads of `n` bytes at offsets around each multiple of `step`, checked against `data`. */
static void
check_reads_around(struct obj_get *g, const uint8_t *data, size_t size, size_t step)
{
    static const size_t lens[] = { 1, 150, 4096, 300 * 1024 + 7 };
    uint8_t *out = xmalloc(lens[ARRAY_SIZE(lens) - 1]);
    size_t b, i;

    for (b = step; b < size; b += step) {
        for (i = 0; i < ARRAY_SIZE(lens); i++) {
            size_t off = b > lens[i] / 2 ? b - lens[i] / 2 : 0;
            ssize_t got = obj_get_read(g, off, out, lens[i]);

            ASSERT_EQ(got, (ssize_t)MIN(lens[i], size - off));
            ASSERT(memcmp(out, data + off, (size_t)got) == 0);
        }
    }
    free(out);
}

static void
check_object(struct objlayer *ol, const uint8_t *data, size_t size)
{
    struct obj_info info;
    struct obj_get *g;

    obj_info_init(&info);
    ASSERT_OK(objlayer_get_open(ol, NULL, "b", "o", &g, &info));
    ASSERT_EQ(info.size, size);
    /* EC 2+2 over 1 MiB blocks: each data shard holds 512 KiB of a block */
    check_reads_around(g, data, size, 512 * 1024);
    check_reads_around(g, data, size, 1024 * 1024);
    obj_get_close(g);
    obj_info_release(&info);
    ASSERT_OK(object_test_check_read(ol, "o", data, size));
}

TEST(object_get_reads_across_shards)
{
    struct objlayer *ol;
    struct drive *drives[N_DRIVES];
    size_t size = 2 * 1024 * 1024 + 512 * 1024 + 999; /* 3 blocks, the last one short */
    uint8_t *data = xmalloc(size);
    struct bufpool_stats before, after;
    unsigned j;

    object_test_open_faulty(&ol, drives, N_DRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    object_test_fill(data, size, 11);
    ASSERT_OK(object_test_put(ol, "o", data, size, SLICE_NULL));

    /* healthy: data shards only, from recycled buffers after the first GET */
    check_object(ol, data, size);
    bufpool_get_stats(ol->blocks, &before);
    check_object(ol, data, size);
    bufpool_get_stats(ol->blocks, &after);
    ASSERT(after.reused > before.reused);
    ASSERT_EQ(after.allocated, before.allocated);

    /* every drive in turn failing its shard reads: one data shard rebuilt from parity */
    for (j = 0; j < N_DRIVES; j++) {
        drive_faulty_fail_after(drives[j], DRIVE_FAULTY_OP_SHARD_READ, 1, -ERR_IO);
        check_object(ol, data, size);
        drive_faulty_fail_after(drives[j], 0, 0, 0);
    }
    /* two drives bad, one failing and one returning flipped bits: both parity shards read */
    drive_faulty_fail_after(drives[0], DRIVE_FAULTY_OP_SHARD_READ, 1, -ERR_IO);
    drive_faulty_flip_bits_on_read(drives[1], true);
    check_object(ol, data, size);
    drive_faulty_flip_bits_on_read(drives[1], false);
    drive_faulty_fail_after(drives[0], 0, 0, 0);
    objlayer_close(ol);
    free(data);
}
