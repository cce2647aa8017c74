/*
 * tests/unit/object/test_quorum.c: the object layer over fault-injecting
 * drives (storage/drive_faulty.h): bitrot on read, a full drive, a failed
 * commit below write quorum rolled back, drives offline.
 */
#include "util/base.h"

#include "harness.h"
#include "object_test.h"
#include "object/objlayer.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define NDRIVES 4

struct ffixture {
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
};

static void
ffixture_open(struct ffixture *f)
{
    struct objlayer_config cfg = { .ndrives = NDRIVES, .sync = true, .prebuilt = f->drives };
    struct buf err = BUF_INIT;
    unsigned i;

    for (i = 0; i < NDRIVES; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        f->drives[i] = drive_faulty_new(drive_mem_new(name));
    }
    if (objlayer_open(&cfg, &f->ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
    ASSERT_OK(objlayer_bucket_make(f->ol, NULL, "b"));
}

static void
pattern(uint8_t *p, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 11));
}

TEST(object_bitrot_on_one_drive_still_reads)
{
    struct ffixture f;
    size_t n = 3 * 1024 * 1024 + 11;
    uint8_t *data = xmalloc(n);
    unsigned d;

    ffixture_open(&f);
    pattern(data, n, 1);
    ASSERT_OK(object_test_put(f.ol, "k", data, n, SLICE_NULL));
    for (d = 0; d < NDRIVES; d++) {
        drive_faulty_flip_bits_on_read(f.drives[d], true);
        ASSERT_OK(object_test_check_read(f.ol, "k", data, n));
        drive_faulty_flip_bits_on_read(f.drives[d], false);
    }
    /* Two rotting drives of four: still k = 2 good shards. */
    drive_faulty_flip_bits_on_read(f.drives[0], true);
    drive_faulty_flip_bits_on_read(f.drives[3], true);
    ASSERT_OK(object_test_check_read(f.ol, "k", data, n));
    /* Three: the read must fail, never return wrong bytes. */
    drive_faulty_flip_bits_on_read(f.drives[1], true);
    ASSERT(object_test_check_read(f.ol, "k", data, n) < 0);
    free(data);
    objlayer_close(f.ol);
}

TEST(object_full_drive_write_succeeds_with_quorum_and_heals)
{
    struct ffixture f;
    size_t n = 2 * 1024 * 1024;
    uint8_t *data = xmalloc(n);
    struct heal_report r = { 0 };

    ffixture_open(&f);
    pattern(data, n, 2);
    drive_faulty_enospc(f.drives[2], true);
    ASSERT_OK(object_test_put(f.ol, "k", data, n, SLICE_NULL));
    ASSERT_OK(object_test_check_read(f.ol, "k", data, n));
    drive_faulty_enospc(f.drives[2], false);
    ASSERT_OK(objlayer_heal(f.ol, NULL, "b", SLICE_NULL, &r));
    ASSERT_EQ(r.objects_failed, 0);
    /* Whoever healed it (the heal queue or this call), drive 2 now holds
     * its shard: with drives 0 and 1 rotting, 2 and 3 must answer. */
    drive_faulty_flip_bits_on_read(f.drives[0], true);
    drive_faulty_flip_bits_on_read(f.drives[1], true);
    ASSERT_OK(object_test_check_read(f.ol, "k", data, n));
    free(data);
    objlayer_close(f.ol);
}

TEST(object_two_full_drives_fail_cleanly)
{
    struct ffixture f;
    size_t n = 2 * 1024 * 1024;
    uint8_t *data = xmalloc(n);

    ffixture_open(&f);
    pattern(data, n, 3);
    drive_faulty_enospc(f.drives[0], true);
    drive_faulty_enospc(f.drives[1], true);
    ASSERT_EQ(object_test_put(f.ol, "k", data, n, SLICE_NULL), -ERR_QUORUM);
    drive_faulty_enospc(f.drives[0], false);
    drive_faulty_enospc(f.drives[1], false);
    ASSERT_EQ(object_test_check_read(f.ol, "k", data, n), -ERR_KEY_NOT_FOUND);
    free(data);
    objlayer_close(f.ol);
}

TEST(object_commit_below_quorum_rolls_back_to_old_version)
{
    struct ffixture f;
    uint8_t v1[300000], v2[300000];

    ffixture_open(&f);
    pattern(v1, sizeof(v1), 4);
    pattern(v2, sizeof(v2), 5);
    ASSERT_OK(object_test_put(f.ol, "k", v1, sizeof(v1), SLICE_NULL));
    drive_faulty_fail_after(f.drives[1], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    drive_faulty_fail_after(f.drives[2], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    ASSERT_EQ(object_test_put(f.ol, "k", v2, sizeof(v2), SLICE_NULL), -ERR_QUORUM);
    drive_faulty_clear(f.drives[1]);
    drive_faulty_clear(f.drives[2]);
    ASSERT_OK(object_test_check_read(f.ol, "k", v1, sizeof(v1)));
    objlayer_close(f.ol);
}

TEST(object_offline_drives)
{
    struct ffixture f;
    uint8_t data[70000];
    struct collect;

    ffixture_open(&f);
    pattern(data, sizeof(data), 6);
    ASSERT_OK(object_test_put(f.ol, "before", data, sizeof(data), SLICE_NULL));
    drive_faulty_go_offline(f.drives[3]);
    /* One of four offline: writes reach 3 = write quorum of 2+2. */
    ASSERT_OK(object_test_put(f.ol, "one-down", data, sizeof(data), SLICE_NULL));
    ASSERT_OK(object_test_check_read(f.ol, "one-down", data, sizeof(data)));
    drive_faulty_go_offline(f.drives[0]);
    /* Two offline: reads still work, writes refuse. */
    ASSERT_OK(object_test_check_read(f.ol, "before", data, sizeof(data)));
    ASSERT_OK(object_test_check_read(f.ol, "one-down", data, sizeof(data)));
    ASSERT_EQ(object_test_put(f.ol, "two-down", data, sizeof(data), SLICE_NULL), -ERR_QUORUM);
    objlayer_close(f.ol);
}

/*
 * The request context follows the work: a PUT and a GET under a context
 * reach every drive (their I/O workers, or the request thread for cheap
 * lookups) with that context's request id; internal work has none.
 */
TEST(object_request_context_reaches_the_drives)
{
    struct reqctx ctx = { .id = "0123456789ABCDEF" };
    struct obj_put_opts opts = { .size = 300000 };
    struct objlayer *ol;
    struct drive *drives[4];
    uint8_t *data = xcalloc(1, 300000);
    char seen[REQCTX_ID_LEN + 1];
    struct obj_info info;
    struct obj_put *p;
    unsigned j;

    object_test_open_faulty(&ol, drives, 4);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(objlayer_put_begin(ol, &ctx, "b", "k", &opts, &p));
    ASSERT_OK(obj_put_write(p, data, 300000));
    ASSERT_OK(obj_put_finish(p, NULL));
    for (j = 0; j < 4; j++) {
        drive_faulty_last_request(drives[j], seen);
        ASSERT_STREQ(seen, ctx.id); /* the commit on the drive's I/O worker */
    }
    ASSERT(reqctx_current() == NULL); /* left as it was */
    obj_info_init(&info);
    ASSERT_OK(objlayer_head(ol, NULL, "b", "k", &info));
    obj_info_release(&info);
    drive_faulty_last_request(drives[0], seen);
    ASSERT_STREQ(seen, "");
    free(data);
    objlayer_close(ol);
}

/*
 * A delete cut off half-way (its coordinator died after 4 of 8 drives) over
 * a key whose newest version missed 2 drives: 2 copies of the new version, 2
 * of the old one, 4 drives without. Neither can ever be read: the key is
 * absent (not 503 for good), and the heal removes the leftovers.
 */
TEST(object_unreadable_leftovers_read_as_absent_and_are_healed_away)
{
    struct drive *drives[8];
    struct objlayer *ol = NULL;
    struct heal_report r = { 0 };
    struct obj_meta m;
    unsigned j, left = 0;

    object_test_open_faulty(&ol, drives, 8);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, "k", "one", 3, SLICE_NULL));
    for (j = 2; j < 4; j++) /* the new version misses drives 2 and 3 */
        drive_faulty_fail_after(drives[j], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    ASSERT_OK(object_test_put(ol, "k", "two", 3, SLICE_NULL));
    for (j = 0; j < 8; j++) /* the delete that reached drives 0, 1, 4, 5 */
        if (j < 2 || j == 4 || j == 5)
            ASSERT_OK(drive_meta_delete(drives[j], "b", "k", NULL));
    for (j = 2; j < 4; j++) /* kept failing until now: the heal queue could not write them */
        drive_faulty_clear(drives[j]);
    ASSERT_EQ(object_test_check_read(ol, "k", (const uint8_t *)"two", 3), -ERR_KEY_NOT_FOUND);
    ASSERT_OK(objlayer_heal_object(ol, NULL, "b", "k", &r)); /* or the heal queue did it */
    ASSERT_EQ(r.objects_failed, 0);
    objmeta_init(&m);
    for (j = 0; j < 8; j++)
        left += drive_meta_read(drives[j], "b", "k", &m) == 0;
    objmeta_release(&m);
    ASSERT_EQ(left, 0);
    ASSERT_EQ(object_test_check_read(ol, "k", (const uint8_t *)"two", 3), -ERR_KEY_NOT_FOUND);
    objlayer_close(ol);
}
