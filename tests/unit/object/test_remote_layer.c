/*
 * tests/unit/object/test_remote_layer.c: the object layer over remote
 * drives (storage/drive_remote.c) to in-process nodes serving in-memory
 * drives over real RPC: what a cluster node does, without processes. Two
 * nodes of two drives each, one set of 4 (EC 2+2).
 */
#include "util/base.h"

#include "harness.h"
#include "object/internal.h"
#include "object/objlayer.h"
#include "object_test.h"
#include "storage/drive.h"
#include "storage/remote_test.h"

struct two_nodes {
    struct remote_node *a, *b;
    struct drive *drives[4];
    struct drive *inner[4]; /* the served drive behind drives[i] (the nodes' own) */
    struct objlayer *ol;
};

static void
open_two(struct two_nodes *t)
{
    struct objlayer_config cfg = { .ndrives = 4, .sync = true, .prebuilt = t->drives };
    struct drive *sa[2] = { drive_mem_new("mem:a1"), drive_mem_new("mem:a2") };
    struct drive *sb[2] = { drive_mem_new("mem:b1"), drive_mem_new("mem:b2") };
    struct buf err = BUF_INIT;

    t->a = remote_node_start(sa, 2);
    t->b = remote_node_start(sb, 2);
    /* interleaved by node, as the layout orders a cluster's drives */
    t->drives[0] = remote_node_drive(t->a, 0);
    t->drives[1] = remote_node_drive(t->b, 0);
    t->drives[2] = remote_node_drive(t->a, 1);
    t->drives[3] = remote_node_drive(t->b, 1);
    t->inner[0] = sa[0];
    t->inner[1] = sb[0];
    t->inner[2] = sa[1];
    t->inner[3] = sb[1];
    if (objlayer_open(&cfg, &t->ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
}

static void
close_two(struct two_nodes *t)
{
    objlayer_close(t->ol); /* closes the remote drives first */
    remote_node_stop(t->a);
    remote_node_stop(t->b);
}

static int
put_data(struct objlayer *ol, const char *key, const uint8_t *data, size_t n)
{
    return object_test_put(ol, key, data, n, SLICE_NULL);
}

static int
count_cb(void *arg, const struct obj_list_ent *e)
{
    (*(unsigned *)arg)++;
    return 0;
}

TEST(object_over_remote_drives)
{
    static const size_t sizes[] = { 0, 10, 200 * 1024, 3 * 1024 * 1024 + 5 };
    struct two_nodes t;
    uint8_t *data = xmalloc(3 * 1024 * 1024 + 5);
    struct obj_mp_part parts[2];
    struct obj_put_opts opts = { .size = -1 };
    char id[OBJ_VID_LEN + 1], key[32];
    unsigned listed = 0, i;

    open_two(&t);
    object_test_fill(data, 3 * 1024 * 1024 + 5, 9);
    ASSERT_OK(objlayer_bucket_make(t.ol, NULL, "b"));
    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        snprintf(key, sizeof(key), "k%zu", sizes[i]);
        ASSERT_OK(put_data(t.ol, key, data, sizes[i]));
        ASSERT_OK(object_test_check_read(t.ol, key, data, sizes[i]));
    }
    ASSERT_OK(objlayer_list(t.ol, NULL, "b", SLICE_NULL, SLICE_NULL, 0, count_cb, &listed));
    ASSERT_EQ(listed, ARRAY_SIZE(sizes));
    /* a multipart upload: parts streamed to the remote drives, completion links them there */
    ASSERT_OK(objlayer_mp_create(t.ol, NULL, "b", "mp", &opts, id));
    for (i = 0; i < 2; i++) {
        struct obj_put_opts po = { .size = i ? 1000 : 5 * 1024 * 1024 };
        struct obj_info info;
        struct obj_put *p;
        uint8_t *part = xmalloc((size_t)po.size);

        object_test_fill(part, (size_t)po.size, 20 + i);
        parts[i].number = i + 1;
        obj_info_init(&info);
        ASSERT_OK(objlayer_mp_part_begin(t.ol, NULL, "b", "mp", id, i + 1, &po, &p));
        ASSERT_OK(obj_put_write(p, part, (size_t)po.size));
        ASSERT_OK(obj_put_finish(p, &info));
        snprintf(parts[i].etag, sizeof(parts[i].etag), "%.32s", info.etag);
        obj_info_release(&info);
        free(part);
    }
    ASSERT_OK(objlayer_mp_complete(t.ol, NULL, "b", "mp", id, parts, 2, NULL, NULL));
    ASSERT_OK(objlayer_delete(t.ol, NULL, "b", "k10"));
    ASSERT_EQ(objlayer_head(t.ol, NULL, "b", "k10", &(struct obj_info){ 0 }), -ERR_KEY_NOT_FOUND);
    free(data);
    close_two(&t);
}

/*
 * One node stops answering: its two drives go offline; reads are served by
 * the other node's two (k = 2), writes need three drives and fail with
 * -ERR_QUORUM, and nothing of a failed write is readable.
 */
TEST(object_over_remote_drives_one_node_down)
{
    struct two_nodes t;
    uint8_t data[5000];
    struct obj_info info;

    open_two(&t);
    object_test_fill(data, sizeof(data), 3);
    ASSERT_OK(objlayer_bucket_make(t.ol, NULL, "b"));
    ASSERT_OK(put_data(t.ol, "k", data, sizeof(data)));
    remote_node_pause(t.a);
    ASSERT_OK(object_test_check_read(t.ol, "k", data, sizeof(data)));
    ASSERT_EQ(put_data(t.ol, "new", data, sizeof(data)), -ERR_QUORUM);
    obj_info_init(&info);
    ASSERT(objlayer_head(t.ol, NULL, "b", "new", &info) < 0);
    obj_info_release(&info);
    close_two(&t);
}

/*
 * A GET asks only half the drives first (object__read_metas_fast): a drive
 * that missed the last overwrite, or kept a copy a delete removed from the
 * others, must never make it serve the older version.
 */
TEST(object_fast_reads_never_serve_a_stale_or_deleted_version)
{
    struct two_nodes t;
    char key[32], v1[32], v2[32];
    unsigned i;

    open_two(&t);
    ASSERT_OK(objlayer_bucket_make(t.ol, NULL, "b"));
    for (i = 0; i < 36; i++) { /* keys whose fast reads start at every drive */
        struct drive *stale;
        struct obj_meta old;

        snprintf(key, sizeof(key), "k%u", i);
        /* every third key: the drive a fast read asks first (all are remote here) */
        stale = t.inner[i % 3 == 2 ? object__hash("b", key) % 4 : i % 4];
        snprintf(v1, sizeof(v1), "one-%u", i);
        snprintf(v2, sizeof(v2), "two-%u", i);
        ASSERT_OK(put_data(t.ol, key, (const uint8_t *)v1, strlen(v1)));
        objmeta_init(&old);
        ASSERT_OK(drive_meta_read(stale, "b", key, &old));
        if (i % 3 == 2) {
            /* one drive missed the write: the others' copies are found all the same */
            ASSERT_OK(drive_meta_delete(stale, "b", key, NULL));
            ASSERT_OK(object_test_check_read(t.ol, key, (const uint8_t *)v1, strlen(v1)));
        } else if (i % 3 == 0) {
            /* overwritten, but one drive still holds the first version */
            ASSERT_OK(put_data(t.ol, key, (const uint8_t *)v2, strlen(v2)));
            ASSERT_OK(drive_meta_commit(stale, "b", key, &old));
            ASSERT_OK(object_test_check_read(t.ol, key, (const uint8_t *)v2, strlen(v2)));
        } else {
            /* deleted, but one drive still holds it */
            ASSERT_OK(objlayer_delete(t.ol, NULL, "b", key));
            ASSERT_OK(drive_meta_commit(stale, "b", key, &old));
            ASSERT_EQ(object_test_check_read(t.ol, key, (const uint8_t *)v1, strlen(v1)),
                      -ERR_KEY_NOT_FOUND);
        }
        objmeta_release(&old);
    }
    /*
     * A version that lost copies (a drive that missed it, another wiped and
     * formatted back, not healed yet) on exactly the drives a fast read asks
     * first: still on k drives, so still readable; "not found" from the drives
     * asked first proves nothing then.
     */
    {
        unsigned start;

        ASSERT_OK(put_data(t.ol, "thin", (const uint8_t *)"still here", 10));
        start = (unsigned)(object__hash("b", "thin") % 4);
        ASSERT_OK(drive_meta_delete(t.inner[start], "b", "thin", NULL));
        ASSERT_OK(drive_meta_delete(t.inner[(start + 1) % 4], "b", "thin", NULL));
        ASSERT_OK(object_test_check_read(t.ol, "thin", (const uint8_t *)"still here", 10));
    }
    ASSERT_EQ(object_test_check_read(t.ol, "never", (const uint8_t *)"x", 1), -ERR_KEY_NOT_FOUND);
    close_two(&t);
}
