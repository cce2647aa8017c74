/*
 * tests/unit/storage/test_drive_watch.c: the hung-drive watch (drive.h
 * drive_watch()): a call that does not return takes the drive offline once
 * older than the limit, without the watch calling the drive; new calls then
 * answer at once; the drive is back when the call returns, unless an error
 * took it offline meanwhile.
 */
#include "util/base.h"

#include <pthread.h>
#include <unistd.h>

#include "drive_common.h"
#include "harness.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define MS (1000000LL)

struct reader {
    struct drive *d;
    int rc;
};

static void *
read_main(void *arg)
{
    struct reader *r = arg;
    struct obj_meta m;

    objmeta_init(&m);
    r->rc = drive_meta_read(r->d, "b", "k", &m);
    objmeta_release(&m);
    return NULL;
}

/* Starts a meta_read that hangs on `d` (hang set for meta reads); returns once it hangs. */
static void
start_hung_read(struct drive *d, pthread_t *t, struct reader *r)
{
    unsigned waited;

    drive_faulty_hang(d, DRIVE_FAULTY_OP_META_READ);
    *r = (struct reader){ .d = d, .rc = 1 };
    ASSERT_EQ(pthread_create(t, NULL, read_main, r), 0);
    for (waited = 0; drive_faulty_hanging(d) == 0 && waited < 5000; waited++)
        usleep(1000);
    ASSERT_EQ(drive_faulty_hanging(d), 1);
}

static struct drive *
faulty_with_object(void)
{
    struct drive *d = drive_faulty_new(drive_mem_new("mem:w"));

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put_inline(d, "b", "k");
    return d;
}

TEST(storage_watch_hung_call_takes_drive_offline_until_it_returns)
{
    struct drive *d = faulty_with_object();
    struct drive_info info;
    struct obj_meta m;
    struct reader r;
    pthread_t t;

    ASSERT_EQ(drive_stuck_ns(d), 0);
    ASSERT_EQ(drive_watch(d, 10 * MS), DRIVE_OK);
    start_hung_read(d, &t, &r);
    ASSERT(drive_stuck_ns(d) > 0);
    ASSERT_EQ(drive_watch(d, 3600 * 1000 * MS), DRIVE_OK); /* not old enough for this limit */
    ASSERT(drive_is_online(d));
    usleep(30 * 1000);
    ASSERT(drive_stuck_ns(d) >= 30 * MS);
    ASSERT_EQ(drive_watch(d, 10 * MS), DRIVE_HUNG_NOW);
    ASSERT_EQ(drive_watch(d, 10 * MS), DRIVE_HUNG);
    ASSERT(!drive_is_online(d));
    ASSERT(drive_is_hung(d));

    /* new calls do not reach the drive: they answer at once */
    objmeta_init(&m);
    ASSERT_EQ(drive_meta_read(d, "b", "k", &m), -ERR_OFFLINE);
    objmeta_release(&m);
    ASSERT_EQ(drive_check(d), -ERR_OFFLINE);
    ASSERT_OK(drive_info(d, &info));
    ASSERT(!info.online);
    ASSERT_EQ(drive_faulty_hanging(d), 1);

    drive_faulty_hang(d, 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(r.rc); /* the stuck call itself completes as the drive answers it */
    ASSERT_EQ(drive_stuck_ns(d), 0);
    ASSERT_EQ(drive_watch(d, 10 * MS), DRIVE_BACK);
    ASSERT(drive_is_online(d));
    ASSERT(!drive_is_hung(d));
    ASSERT_EQ(drive_watch(d, 10 * MS), DRIVE_OK);
    objmeta_init(&m);
    ASSERT_OK(drive_meta_read(d, "b", "k", &m));
    objmeta_release(&m);
    drive_close(d);
}

TEST(storage_watch_error_while_hung_keeps_drive_offline)
{
    struct drive *d = faulty_with_object();
    struct reader r;
    pthread_t t;

    start_hung_read(d, &t, &r);
    usleep(20 * 1000);
    ASSERT_EQ(drive_watch(d, 10 * MS), DRIVE_HUNG_NOW);
    drive_set_offline(d, -ERR_OFFLINE); /* an answer "offline" is no news: still just hung */
    ASSERT(drive_is_hung(d));
    drive_set_offline(d, -ERR_IO); /* a real error: the drive failed */
    ASSERT(!drive_is_hung(d));
    drive_faulty_hang(d, 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_EQ(drive_watch(d, 10 * MS), DRIVE_OK);
    ASSERT(!drive_is_online(d)); /* stays offline, as any failed drive */
    drive_close(d);
}

TEST(storage_watch_counts_every_call_in_flight)
{
    struct drive *d = faulty_with_object();
    struct reader r[3];
    pthread_t t[3];
    unsigned i, waited;

    drive_faulty_hang(d, DRIVE_FAULTY_OP_META_READ);
    for (i = 0; i < 3; i++) {
        r[i] = (struct reader){ .d = d, .rc = 1 };
        ASSERT_EQ(pthread_create(&t[i], NULL, read_main, &r[i]), 0);
    }
    for (waited = 0; drive_faulty_hanging(d) < 3 && waited < 5000; waited++)
        usleep(1000);
    ASSERT_EQ(drive_faulty_hanging(d), 3);
    usleep(20 * 1000);
    ASSERT_EQ(drive_watch(d, 10 * MS), DRIVE_HUNG_NOW);
    drive_faulty_hang(d, 0);
    for (i = 0; i < 3; i++) {
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
        ASSERT_OK(r[i].rc);
    }
    ASSERT_EQ(drive_watch(d, 10 * MS), DRIVE_BACK);
    drive_close(d);
}
