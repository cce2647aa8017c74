/*
 * tests/unit/object/test_heal_journal.c: objects written while a drive was
 * away are parked for healing, and the park survives a restart (the
 * journal on the node's first drive): the layer opened again heals them
 * onto the drive once it is back, and forgets them only then.
 */
#include "util/base.h"

#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "object/objlayer.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define NDRIVES 4

static void
open_layer(struct objlayer **ol, struct drive **drives, char paths[NDRIVES][4200])
{
    struct objlayer_config cfg = { .ndrives = NDRIVES, .sync = true, .prebuilt = drives };
    struct drive_local_opts opts = { .sync = true };
    struct buf err = BUF_INIT;
    unsigned i;

    for (i = 0; i < NDRIVES; i++) {
        struct drive *d = NULL;

        ASSERT_OK(drive_local_open(paths[i], &opts, &d, &err));
        drives[i] = drive_faulty_new(d);
    }
    if (objlayer_open(&cfg, ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
}

static int
count_item(void *arg, struct slice item)
{
    (*(unsigned *)arg)++;
    return 0;
}

static unsigned
journal_items(const char *path)
{
    struct drive_local_opts opts = { .sync = true };
    struct drive *d = NULL;
    unsigned n = 0;

    ASSERT_OK(drive_local_open(path, &opts, &d, NULL));
    ASSERT_OK(drive_journal_list(d, "heal", SLICE_NULL, 0, count_item, &n));
    drive_close(d);
    return n;
}

TEST(object_parked_heal_survives_a_restart)
{
    char paths[NDRIVES][4200];
    struct drive *drives[NDRIVES];
    struct obj_put_opts opts = { .size = 5 };
    struct obj_meta rec;
    struct objlayer *ol;
    struct obj_put *p;
    unsigned i, tries;

    for (i = 0; i < NDRIVES; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/d%u", harness_tmpdir(), i);
        ASSERT_EQ(mkdir(paths[i], 0755), 0);
    }
    open_layer(&ol, drives, paths);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    drive_faulty_go_offline(drives[3]); /* a drive away (its node down) */
    ASSERT_OK(objlayer_put_begin(ol, NULL, "b", "k", &opts, &p));
    ASSERT_OK(obj_put_write(p, "hello", 5));
    ASSERT_OK(obj_put_finish(p, NULL));
    objlayer_close(ol); /* the park is written at close at the latest */
    ASSERT_EQ(journal_items(paths[0]), 1);
    /* every drive back, the layer opened again: the object reaches the drive that missed it */
    open_layer(&ol, drives, paths);
    objmeta_init(&rec);
    for (tries = 0; tries < 100 && drive_meta_read(drives[3], "b", "k", &rec) < 0; tries++)
        usleep(50 * 1000);
    ASSERT_OK(drive_meta_read(drives[3], "b", "k", &rec));
    objmeta_release(&rec);
    objlayer_close(ol);
    ASSERT_EQ(journal_items(paths[0]), 0); /* healed with every drive online: forgotten */
}
