/*
 * tests/unit/object/test_heal_race.c: a heal never races a commit in flight.
 *
 * A small PUT answers once write quorum committed; the last drive's commit
 * answers later (put.c commit_all). A read landing in between finds that
 * drive's old record: it must not queue a heal, and a heal running then
 * must not take the commit in flight for a missing copy (it would commit
 * over it and count an object that was never damaged as healed). Drive 3
 * here commits on a thread of its own and hangs until released.
 */
#include "util/base.h"

#include <pthread.h>
#include <time.h>

#include "harness.h"
#include "object/internal.h"
#include "object/objlayer.h"
#include "object_test.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"
#include "util/clock.h"

#define NDRIVES 4
#define SIZE 4096

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* Waits up to 5 s for `n` calls to hang on drive d. */
static bool
wait_hanging(struct drive *d, unsigned n)
{
    int64_t end = clock_mono_ns() + 5000000000LL;

    while (drive_faulty_hanging(d) != n && clock_mono_ns() < end)
        sleep_ms(5);
    return drive_faulty_hanging(d) == n;
}

/*
 * A key whose fast read (quorum.c fast_mask: the drives of the data shards,
 * drive j holding shard (j + hash) % n) asks drive 3, so that the reads
 * below see its old record.
 */
static char key[16];

static void
pick_key(void)
{
    unsigned i;

    for (i = 0;; i++) {
        unsigned start;

        snprintf(key, sizeof(key), "k%u", i);
        start = (unsigned)(object__hash("b", key) % NDRIVES);
        if ((NDRIVES - start) % NDRIVES == 3 || (NDRIVES - start + 1) % NDRIVES == 3)
            return;
    }
}

/* v1 everywhere, then v2 answered at write quorum with drive 3's commit hanging. */
static void
put_with_commit_in_flight(struct objlayer *ol, struct drive **drives, uint8_t *v1, uint8_t *v2)
{
    pick_key();
    object_test_fill(v1, SIZE, 1);
    object_test_fill(v2, SIZE, 2);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, key, v1, SIZE, SLICE_NULL));
    drive_faulty_async_commits(drives[3], true);
    drive_faulty_hang(drives[3], DRIVE_FAULTY_OP_META_COMMIT);
    ASSERT_OK(object_test_put(ol, key, v2, SIZE, SLICE_NULL));
    ASSERT(wait_hanging(drives[3], 1));
}

/* Releases drive 3's commit and waits until it answered. */
static void
land_commit(struct objlayer *ol, struct drive **drives)
{
    drive_faulty_hang(drives[3], 0);
    ASSERT(object__flight_settle(ol, "b", key, clock_mono_ns() + 5000000000LL));
    drive_faulty_async_commits(drives[3], false);
}

static uint64_t
queued(struct objlayer *ol)
{
    struct objlayer_status st;

    objlayer_status(ol, &st);
    return st.queued;
}

TEST(object_read_of_a_commit_in_flight_queues_no_heal)
{
    struct drive *drives[NDRIVES];
    struct objlayer *ol = NULL;
    uint8_t v1[SIZE], v2[SIZE];
    struct obj_info info;
    struct obj_meta m;

    object_test_open_faulty(&ol, drives, NDRIVES);
    put_with_commit_in_flight(ol, drives, v1, v2);
    /* drive 3 still holds v1: the reads serve v2 from the others */
    objmeta_init(&m);
    object_test_record(drives[3], "b", key, &m);
    ASSERT_EQ(m.size, SIZE);
    objmeta_release(&m);
    ASSERT_OK(object_test_check_read(ol, key, v2, SIZE));
    obj_info_init(&info);
    ASSERT_OK(objlayer_head(ol, NULL, "b", key, &info));
    obj_info_release(&info);
    /*
     * No heal queued: one would commit over drive 3's commit in flight (a
     * second call hanging on drive 3) or sit in the queue.
     */
    sleep_ms(200);
    ASSERT_EQ(drive_faulty_hanging(drives[3]), 1);
    ASSERT_EQ(queued(ol), 0);
    land_commit(ol, drives);
    ASSERT_EQ(drive_faulty_hanging(drives[3]), 0);
    ASSERT_OK(object_test_check_read(ol, key, v2, SIZE));
    ASSERT_EQ(atomic_load(&ol->heals_needless), 0);
    objlayer_close(ol);
}

struct release_arg {
    struct drive *d;
    unsigned ms;
};

static void *
release_later(void *arg)
{
    struct release_arg *a = arg;

    sleep_ms(a->ms);
    drive_faulty_hang(a->d, 0);
    return NULL;
}

TEST(object_heal_waits_for_a_commit_in_flight_and_heals_nothing)
{
    struct drive *drives[NDRIVES];
    struct objlayer *ol = NULL;
    uint8_t v1[SIZE], v2[SIZE];
    struct heal_report r = { 0 };
    struct release_arg ra;
    pthread_t t;
    struct obj_meta m;

    object_test_open_faulty(&ol, drives, NDRIVES);
    put_with_commit_in_flight(ol, drives, v1, v2);
    /* the commit answers while the heal runs */
    ra = (struct release_arg){ drives[3], 200 };
    ASSERT_EQ(pthread_create(&t, NULL, release_later, &ra), 0);
    ASSERT_OK(objlayer_heal_object(ol, NULL, "b", key, &r));
    pthread_join(t, NULL);
    ASSERT_EQ(r.objects_healed, 0);
    ASSERT_EQ(r.shards_missing, 0);
    ASSERT_EQ(r.objects_failed, 0);
    land_commit(ol, drives);
    objmeta_init(&m);
    object_test_record(drives[3], "b", key, &m);
    ASSERT_OK(object_test_check_read(ol, key, v2, SIZE));
    objmeta_release(&m);
    objlayer_close(ol);
}

/* A heal queued for an object with every copy good is counted as needless. */
TEST(object_needless_heal_is_counted)
{
    struct drive *drives[NDRIVES];
    struct objlayer *ol = NULL;
    uint8_t v1[SIZE];
    int64_t end = clock_mono_ns() + 5000000000LL;

    object_test_open_faulty(&ol, drives, NDRIVES);
    object_test_fill(v1, SIZE, 1);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, key, v1, SIZE, SLICE_NULL));
    object__heal_enqueue(ol, "b", "k");
    while (atomic_load(&ol->heals_needless) == 0 && clock_mono_ns() < end)
        sleep_ms(5);
    ASSERT_EQ(atomic_load(&ol->heals_needless), 1);
    objlayer_close(ol);
}

struct put_arg {
    struct objlayer *ol;
    const uint8_t *data;
    int rc;
    atomic_bool done;
};

static void *
put_later(void *arg)
{
    struct put_arg *a = arg;

    a->rc = object_test_put(a->ol, "d", a->data, SIZE, SLICE_NULL);
    atomic_store(&a->done, true);
    return NULL;
}

/*
 * A DELETE answers at delete quorum while the last drive still deletes
 * (delete.c delete_in_async); that drive's delete keeps the name lock, so a
 * PUT of the key right after waits for it and its new version is never
 * removed by the delete landing late.
 */
TEST(object_delete_answers_at_quorum_and_orders_later_writes)
{
    struct drive *drives[NDRIVES];
    struct objlayer *ol = NULL;
    uint8_t v1[SIZE], v2[SIZE];
    struct put_arg pa;
    struct obj_meta m;
    pthread_t t;
    unsigned j;

    object_test_open_faulty(&ol, drives, NDRIVES);
    object_test_fill(v1, SIZE, 1);
    object_test_fill(v2, SIZE, 2);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, "d", v1, SIZE, SLICE_NULL));
    drive_faulty_async_commits(drives[3], true); /* as a local drive's committer answers */
    drive_faulty_hang(drives[3], DRIVE_FAULTY_OP_META_DELETE);
    ASSERT_OK(objlayer_delete(ol, NULL, "b", "d"));
    drive_faulty_async_commits(drives[3], false); /* the PUT's commits land before it answers */
    ASSERT(wait_hanging(drives[3], 1));
    ASSERT_EQ(object_test_check_read(ol, "d", v1, SIZE), -ERR_KEY_NOT_FOUND);
    pa = (struct put_arg){ .ol = ol, .data = v2 };
    ASSERT_EQ(pthread_create(&t, NULL, put_later, &pa), 0);
    sleep_ms(200);
    ASSERT(!atomic_load(&pa.done)); /* waits for the name lock */
    drive_faulty_hang(drives[3], 0);
    pthread_join(t, NULL);
    ASSERT_OK(pa.rc);
    for (j = 0; j < NDRIVES; j++) {
        objmeta_init(&m);
        object_test_record(drives[j], "b", "d", &m);
        ASSERT_EQ(m.size, SIZE);
        objmeta_release(&m);
    }
    ASSERT_OK(object_test_check_read(ol, "d", v2, SIZE));
    objlayer_close(ol);
}
