/*
 * tests/unit/object/test_heal_lock.c: one heal of an object at a time in
 * the whole deployment. The heal takes the object's "h/<bucket>/<key>" lock
 * of the lock service (another node's heal would stage into the same tmp
 * files of the same drives): while someone else holds it the heal leaves the
 * object alone (and queues it again), and heals it once it is free.
 */
#include "util/base.h"

#include "cluster/lock.h"
#include "harness.h"
#include "object/internal.h"
#include "object/objlayer.h"
#include "object_test.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"
#include "util/clock.h"

#define NDRIVES 4
#define SIZE (200 * 1024)

TEST(object_heal_waits_for_another_heal_of_the_object)
{
    struct lock_service *locks = lock_service_local_new();
    struct drive *drives[NDRIVES];
    struct objlayer_config cfg = {
        .ndrives = NDRIVES, .sync = true, .prebuilt = drives, .locks = locks
    };
    struct objlayer *ol = NULL;
    struct lock_held *other = NULL;
    struct heal_report r = { 0 };
    struct buf err = BUF_INIT;
    uint8_t *data = xmalloc(SIZE);
    struct obj_meta m;
    unsigned i;

    for (i = 0; i < NDRIVES; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        drives[i] = drive_faulty_new(drive_mem_new(name));
    }
    if (objlayer_open(&cfg, &ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    object_test_fill(data, SIZE, 9);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    /* another heal of it runs (its lock held), before the heal queue's own attempt can */
    ASSERT_OK(lock_acquire(locks, "h/b/k", LOCK_WRITE, clock_mono_ns() + 1000000000LL, &other));
    /* drive 0 misses the object: its commit failed */
    drive_faulty_fail_after(drives[0], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    ASSERT_OK(object_test_put(ol, "k", data, SIZE, SLICE_NULL));
    drive_faulty_clear(drives[0]);
    objmeta_init(&m);
    ASSERT_EQ(drive_meta_read(drives[0], "b", "k", &m), -ERR_NOT_FOUND);

    /* this heal does nothing, fails nothing */
    ASSERT_OK(objlayer_heal_object(ol, NULL, "b", "k", &r));
    ASSERT_EQ(r.objects_healed, 0);
    ASSERT_EQ(r.objects_failed, 0);
    ASSERT_EQ(drive_meta_read(drives[0], "b", "k", &m), -ERR_NOT_FOUND);
    lock_release(other);

    /* free: healed (by this call, or by the queue's attempt just before it) */
    ASSERT_OK(objlayer_heal_object(ol, NULL, "b", "k", &r));
    ASSERT_EQ(r.objects_failed, 0);
    ASSERT_OK(drive_meta_read(drives[0], "b", "k", &m));
    objmeta_release(&m);
    objlayer_close(ol);
    lock_service_free(locks);
    free(data);
}

/* A key parked for a drive that is away is parked once, however often it is queued. */
TEST(object_parked_heal_items_are_parked_once)
{
    struct drive *drives[NDRIVES];
    struct objlayer *ol = NULL;
    struct objlayer_status st;
    unsigned i;

    object_test_open_faulty(&ol, drives, NDRIVES);
    drive_faulty_go_offline(drives[0]);
    for (i = 0; i < 5; i++) {
        object__heal_enqueue(ol, "b", "k");
        object__heal_enqueue(ol, "b", "k2");
    }
    objlayer_status(ol, &st);
    ASSERT_EQ(st.parked, 2);
    objlayer_close(ol);
}

/*
 * Buckets changed while a drive was away: one deleted (the drive kept it)
 * is removed from it, one made is made on it; a heal of the
 * buckets does both, and the layer's view follows.
 */
TEST(object_buckets_deleted_or_made_while_a_drive_was_away_are_healed)
{
    struct drive *drives[NDRIVES];
    struct objlayer *ol = NULL;
    int64_t created;

    object_test_open_faulty(&ol, drives, NDRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "gone"));
    drive_faulty_fail_after(drives[3], DRIVE_FAULTY_OP_BUCKET | DRIVE_FAULTY_OP_META_DELETE, 1,
                            -ERR_IO);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "new"));
    ASSERT_OK(objlayer_bucket_delete(ol, NULL, "gone"));
    drive_faulty_clear(drives[3]);
    ASSERT_OK(drive_bucket_stat(drives[3], "gone", &created)); /* the drive kept it */
    ASSERT_EQ(drive_bucket_stat(drives[3], "new", &created), -ERR_NOT_FOUND);
    object__heal_buckets(ol);
    ASSERT_EQ(drive_bucket_stat(drives[3], "gone", &created), -ERR_NOT_FOUND);
    ASSERT_OK(drive_bucket_stat(drives[3], "new", &created));
    ASSERT_EQ(objlayer_bucket_stat(ol, NULL, "gone", NULL), -ERR_BUCKET_NOT_FOUND);
    ASSERT_OK(objlayer_bucket_stat(ol, NULL, "new", NULL));
    objlayer_close(ol);
}

/*
 * A bucket that a quorum of drives says is gone, but that three drives hold
 * and an offline fourth may hold too: its objects may be on k drives once
 * that drive is back, so the heal must not remove it (drives formatted back
 * also say "not found").
 */
TEST(object_bucket_heal_never_drops_what_k_drives_may_hold)
{
    struct drive *drives[8];
    struct objlayer *ol = NULL;
    int64_t created;
    unsigned j;

    object_test_open_faulty(&ol, drives, 8);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, "k", "data", 4, SLICE_NULL));
    for (j = 0; j < 4; j++) /* drives 0-3 formatted back: no bucket, no records */
        ASSERT_OK(drive_bucket_delete(drives[j], "b", true));
    drive_faulty_go_offline(drives[4]);
    object__heal_buckets(ol);
    for (j = 5; j < 8; j++)
        ASSERT_OK(drive_bucket_stat(drives[j], "b", &created));
    objlayer_close(ol);
}
