/*
 * tests/unit/object/test_drive_hang.c: a drive whose calls stop returning
 * (monitor.c, the hung-drive watch). Once its oldest call is older than the
 * drive timeout the drive goes offline: new PUTs and GETs go on with the
 * other drives while the stuck call still hangs; when the calls return the
 * drive is back and healed with what it missed.
 */
#include "util/base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "harness.h"
#include "object/objlayer.h"
#include "object_test.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define NDRIVES 4
#define SIZE (300 * 1024) /* not inline: shard files on every drive */

struct putter {
    struct objlayer *ol;
    const uint8_t *data;
    _Atomic int rc; /* 1 until the PUT returns */
};

static void *
put_main(void *arg)
{
    struct putter *p = arg;

    atomic_store(&p->rc, object_test_put(p->ol, "stuck", p->data, SIZE, SLICE_NULL));
    return NULL;
}

static bool
wait_for(bool (*cond)(void *), void *arg, unsigned ms)
{
    unsigned waited;

    for (waited = 0; waited < ms; waited += 10) {
        if (cond(arg))
            return true;
        usleep(10 * 1000);
    }
    return cond(arg);
}

static bool
is_offline(void *d)
{
    return !drive_is_online(d);
}

static bool
is_online(void *d)
{
    return drive_is_online(d);
}

static bool
has_during(void *d)
{
    struct obj_meta m;
    int rc;

    objmeta_init(&m);
    rc = drive_meta_read(d, "b", "during", &m);
    objmeta_release(&m);
    return rc == 0;
}

TEST(object_hung_drive_goes_offline_and_requests_go_on)
{
    struct drive *drives[NDRIVES];
    struct objlayer_config cfg = {
        .ndrives = NDRIVES, .sync = true, .prebuilt = drives, .drive_timeout_ns = 200 * 1000000LL
    };
    struct objlayer_drive_state st[NDRIVES];
    uint8_t *a = xmalloc(SIZE), *b = xmalloc(SIZE), *c = xmalloc(SIZE);
    struct putter p;
    struct objlayer *ol = NULL;
    struct buf err = BUF_INIT;
    pthread_t t;
    unsigned i;

    for (i = 0; i < NDRIVES; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        drives[i] = drive_faulty_new(drive_mem_new(name));
    }
    if (objlayer_open(&cfg, &ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
    object_test_fill(a, SIZE, 1);
    object_test_fill(b, SIZE, 2);
    object_test_fill(c, SIZE, 3);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, "before", a, SIZE, SLICE_NULL));

    /* drive 0 stops answering; a PUT runs into it */
    drive_faulty_hang(drives[0], DRIVE_FAULTY_OP_ALL);
    p = (struct putter){ .ol = ol, .data = c, .rc = 1 };
    ASSERT_EQ(pthread_create(&t, NULL, put_main, &p), 0);
    ASSERT(wait_for(is_offline, drives[0], 10000));
    ASSERT_EQ(objlayer_drives(ol, st, NDRIVES), NDRIVES);
    ASSERT(st[0].hung && !st[0].online);
    ASSERT(!st[1].hung && st[1].online);

    /* the other requests go on without it, the stuck one still waits */
    ASSERT_OK(object_test_put(ol, "during", b, SIZE, SLICE_NULL));
    ASSERT_OK(object_test_check_read(ol, "before", a, SIZE));
    ASSERT_OK(object_test_check_read(ol, "during", b, SIZE));
    ASSERT_EQ(atomic_load(&p.rc), 1);
    ASSERT(drive_faulty_hanging(drives[0]) >= 1);

    /* it answers again: the stuck PUT completes, the drive comes back and is healed */
    drive_faulty_hang(drives[0], 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(atomic_load(&p.rc));
    ASSERT_OK(object_test_check_read(ol, "stuck", c, SIZE));
    ASSERT(wait_for(is_online, drives[0], 10000));
    ASSERT(wait_for(has_during, drives[0], 20000));
    /* with drive 1 failing, the object must be readable with drive 0's shards */
    drive_faulty_fail_after(drives[1], DRIVE_FAULTY_OP_ALL, 1, -ERR_IO);
    ASSERT_OK(object_test_check_read(ol, "during", b, SIZE));
    ASSERT_OK(object_test_check_read(ol, "before", a, SIZE));
    objlayer_close(ol);
    free(a);
    free(b);
    free(c);
}
