/*
 * tests/unit/storage/test_drive_local_async.c: drive_meta_commit_async() on a
 * local drive: many commits in flight from few threads, all durable and
 * visible, grouped into few transactions; errors reach the callback.
 */
#include "util/base.h"

#include "harness.h"
#include "storage/drive.h"
#include "storage/internal.h"
#include "util/workq.h"

#define NCOMMITS 600

struct done_arg {
    struct latch *latch;
    int *rc;
};

static void
on_done(void *arg, int rc)
{
    struct done_arg *a = arg;

    *a->rc = rc;
    latch_count_down(a->latch);
}

static struct drive *
open_drive(void)
{
    struct drive_local_opts opts = { .sync = true };
    struct buf err = BUF_INIT;
    struct drive *d = NULL;

    ASSERT_OK(drive_local_open(harness_tmpdir(), &opts, &d, &err));
    buf_release(&err);
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    return d;
}

static void
make_meta(struct obj_meta *m, unsigned i)
{
    objmeta_init(m);
    objmeta_new_vid(m->vid);
    m->size = 4;
    m->mtime_ns = 1000 + i;
    snprintf(m->etag, sizeof(m->etag), "%032x", i);
    m->k = 2;
    m->m = 2;
    m->block_size = 1 << 20;
    m->dist[0] = 0;
    m->dist[1] = 1;
    m->dist[2] = 2;
    m->dist[3] = 3;
    m->is_inline = true;
    buf_add(&m->inline_data, "0123456789abcdef01234", 20);
}

TEST(storage_async_commit_groups_and_lands)
{
    struct drive *d = open_drive();
    struct obj_meta *metas = xcalloc(NCOMMITS, sizeof(*metas));
    struct done_arg *args = xcalloc(NCOMMITS, sizeof(*args));
    char(*keys)[16] = xcalloc(NCOMMITS, sizeof(*keys));
    int *rcs = xcalloc(NCOMMITS, sizeof(*rcs));
    struct latch latch;
    unsigned i;
    uint64_t before = drive_local__ntxn(d);

    latch_init(&latch, NCOMMITS);
    for (i = 0; i < NCOMMITS; i++) {
        make_meta(&metas[i], i);
        snprintf(keys[i], sizeof(keys[i]), "k%05u", i);
        rcs[i] = 1;
        args[i] = (struct done_arg){ &latch, &rcs[i] };
        drive_meta_commit_async(d, "b", keys[i], &metas[i], on_done, &args[i]);
    }
    latch_wait(&latch);
    for (i = 0; i < NCOMMITS; i++) {
        struct obj_meta got;

        ASSERT_EQ(rcs[i], 0);
        objmeta_init(&got);
        ASSERT_OK(drive_meta_read(d, "b", keys[i], &got));
        ASSERT_STREQ(got.vid, metas[i].vid);
        objmeta_release(&got);
        objmeta_release(&metas[i]);
    }
    /* Submitted without waiting, so most commits share a transaction. */
    ASSERT(drive_local__ntxn(d) - before < NCOMMITS / 4);
    latch_release(&latch);
    free(metas);
    free(args);
    free(keys);
    free(rcs);
    drive_close(d);
}

TEST(storage_async_commit_reports_errors)
{
    struct drive *d = open_drive();
    struct obj_meta m;
    struct latch latch;
    int rc = 1;
    struct done_arg a = { &latch, &rc };

    make_meta(&m, 1);
    latch_init(&latch, 1);
    drive_meta_commit_async(d, "no-such-bucket", "k", &m, on_done, &a);
    latch_wait(&latch);
    ASSERT_EQ(rc, -ERR_NOT_FOUND);
    latch_release(&latch);
    drive_set_offline(d, -ERR_IO);
    latch_init(&latch, 1);
    rc = 1;
    drive_meta_commit_async(d, "b", "k", &m, on_done, &a);
    latch_wait(&latch);
    ASSERT_EQ(rc, -ERR_OFFLINE);
    latch_release(&latch);
    objmeta_release(&m);
    drive_close(d);
}
