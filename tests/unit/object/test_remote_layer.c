/*
 * tests/unit/object/test_remote_layer.c: the object layer over remote
 * drives (storage/drive_remote.c) to in-process nodes serving in-memory
 * drives over real RPC: what a cluster node does, without processes. Two
 * nodes of two drives each, one set of 4 (EC 2+2).
 */
#include "util/base.h"

#include "harness.h"
#include "object/objlayer.h"
#include "object_test.h"
#include "storage/drive.h"
#include "storage/remote_test.h"

struct two_nodes {
    struct remote_node *a, *b;
    struct drive *drives[4];
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
