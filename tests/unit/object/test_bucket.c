/*
 * tests/unit/object/test_bucket.c: the bucket metadata of object/bucket.c:
 * lookups served from the node's snapshot without drive I/O, configuration
 * documents read once and then from memory, other nodes told of every
 * change (the notify hook), and what another node changed dropped on
 * objlayer_bucket_changed().
 */
#include "util/base.h"

#include "harness.h"
#include "object/objlayer.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define NDRIVES 4

struct told {
    char log[512]; /* "topic:name|..." */
};

static void
notify_cb(void *arg, const char *topic, const char *name)
{
    struct told *t = arg;
    size_t n = strlen(t->log);

    snprintf(t->log + n, sizeof(t->log) - n, "%s:%s|", topic, name);
}

static struct objlayer *
open_layer(struct drive **drives, struct told *t)
{
    struct objlayer_config cfg = {
        .ndrives = NDRIVES, .sync = true, .prebuilt = drives, .notify = notify_cb, .notify_arg = t
    };
    struct objlayer *ol = NULL;
    struct buf err = BUF_INIT;
    unsigned i;

    for (i = 0; i < NDRIVES; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        drives[i] = drive_faulty_new(drive_mem_new(name));
    }
    if (objlayer_open(&cfg, &ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
    return ol;
}

static void
fail_all(struct drive **drives, unsigned ops)
{
    unsigned i;

    for (i = 0; i < NDRIVES; i++)
        drive_faulty_fail_after(drives[i], ops, ops ? 1 : 0, -ERR_IO);
}

TEST(object_bucket_lookups_need_no_drive)
{
    struct drive *drives[NDRIVES];
    struct told t = { "" };
    struct objlayer *ol = open_layer(drives, &t);
    int64_t created = 0, again = 0;

    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(objlayer_bucket_stat(ol, NULL, "b", &created));
    ASSERT(created > 0);
    /* every bucket call of the drives now fails: lookups still answer, from memory */
    fail_all(drives, DRIVE_FAULTY_OP_BUCKET);
    ASSERT_OK(objlayer_bucket_stat(ol, NULL, "b", &again));
    ASSERT_EQ(again, created);
    /* a bucket the node does not know is looked up on the drives (here failing) */
    ASSERT_EQ(objlayer_bucket_stat(ol, NULL, "other", NULL), -ERR_QUORUM);
    fail_all(drives, 0);
    ASSERT_EQ(objlayer_bucket_stat(ol, NULL, "other", NULL), -ERR_BUCKET_NOT_FOUND);
    objlayer_close(ol);
}

/*
 * Another node deleted the bucket (here: straight on the drives): this node
 * still believes in it until told, then looks again and finds it gone; a
 * bucket made elsewhere is found at once (not in the snapshot: the drives).
 */
TEST(object_bucket_changed_elsewhere)
{
    struct drive *drives[NDRIVES];
    struct told t = { "" };
    struct objlayer *ol = open_layer(drives, &t);
    unsigned i;

    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(objlayer_bucket_stat(ol, NULL, "b", NULL));
    for (i = 0; i < NDRIVES; i++)
        ASSERT_OK(drive_bucket_delete(drives[i], "b", true));
    ASSERT_OK(objlayer_bucket_stat(ol, NULL, "b", NULL)); /* not told yet */
    objlayer_bucket_changed(ol, "b");
    ASSERT_EQ(objlayer_bucket_stat(ol, NULL, "b", NULL), -ERR_BUCKET_NOT_FOUND);
    for (i = 0; i < NDRIVES; i++)
        ASSERT_OK(drive_bucket_make(drives[i], "new", 7));
    ASSERT_OK(objlayer_bucket_stat(ol, NULL, "new", NULL));
    objlayer_close(ol);
}

TEST(object_bucket_changes_are_told)
{
    struct drive *drives[NDRIVES];
    struct told t = { "" };
    struct objlayer *ol = open_layer(drives, &t);

    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(objlayer_bucket_config_put(ol, NULL, "b", "cors", SLICE_LIT("<x/>")));
    ASSERT_OK(objlayer_bucket_config_delete(ol, NULL, "b", "cors"));
    ASSERT_OK(objlayer_bucket_delete(ol, NULL, "b"));
    /* make, the system bucket made for the first document, put, delete, delete of the bucket */
    ASSERT_STREQ(t.log, "bucket:b|bucket:.basalt.sys|bucket:b|bucket:b|bucket:b|");
    objlayer_close(ol);
}

/*
 * A configuration document is read from its system object once, then from
 * memory (the drives may fail meanwhile); a change on this node or one told
 * by another node makes the next read go to the drives again.
 */
TEST(object_bucket_documents_from_memory)
{
    struct drive *drives[NDRIVES];
    struct told t = { "" };
    struct objlayer *ol = open_layer(drives, &t);
    struct buf doc = BUF_INIT;
    unsigned reads = DRIVE_FAULTY_OP_META_READ | DRIVE_FAULTY_OP_SHARD_READ;

    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_EQ(objlayer_bucket_config_get(ol, NULL, "b", "cors", &doc), -ERR_NOT_FOUND);
    fail_all(drives, reads);
    ASSERT_EQ(objlayer_bucket_config_get(ol, NULL, "b", "cors", &doc), -ERR_NOT_FOUND);
    fail_all(drives, 0);
    ASSERT_OK(objlayer_bucket_config_put(ol, NULL, "b", "cors", SLICE_LIT("<one/>")));
    ASSERT_OK(objlayer_bucket_config_get(ol, NULL, "b", "cors", &doc));
    ASSERT_STREQ(doc.ptr, "<one/>");
    fail_all(drives, reads);
    buf_clear(&doc);
    ASSERT_OK(objlayer_bucket_config_get(ol, NULL, "b", "cors", &doc));
    ASSERT_STREQ(doc.ptr, "<one/>");
    /* told of a change elsewhere: read again (and the drives fail now) */
    objlayer_bucket_changed(ol, "b");
    buf_clear(&doc);
    ASSERT(objlayer_bucket_config_get(ol, NULL, "b", "cors", &doc) < 0);
    fail_all(drives, 0);
    ASSERT_OK(objlayer_bucket_config_get(ol, NULL, "b", "cors", &doc));
    ASSERT_STREQ(doc.ptr, "<one/>");
    buf_release(&doc);
    objlayer_close(ol);
}
