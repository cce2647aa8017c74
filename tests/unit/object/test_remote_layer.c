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
#include "storage/drive_faulty.h"
#include "storage/remote_test.h"
#include "util/clock.h"

#include <pthread.h>

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

/* As open_two, node b's drives behind fault injection (t->inner[1], [3] are the faulty ones). */
static void
open_two_faulty(struct two_nodes *t)
{
    struct objlayer_config cfg = { .ndrives = 4, .sync = true, .prebuilt = t->drives };
    struct drive *sa[2] = { drive_mem_new("mem:a1"), drive_mem_new("mem:a2") };
    struct drive *sb[2] = { drive_faulty_new(drive_mem_new("mem:b1")),
                            drive_faulty_new(drive_mem_new("mem:b2")) };
    struct buf err = BUF_INIT;

    t->a = remote_node_start(sa, 2);
    t->b = remote_node_start(sb, 2);
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

static uint64_t
calls_of(struct two_nodes *t)
{
    return remote_node_calls(t->a) + remote_node_calls(t->b);
}

/*
 * A plain PUT over remote drives commits without reading the drives'
 * records first, one call per node for both its drives (the commit answers
 * what it replaced), for a new key and for an overwrite alike; a
 * conditional PUT reads first (one call per node too). A GET asks as many
 * drives as a committed version must show on (2 of this 2+2 set), both of
 * one node: one call. A node of an older version, without the batched
 * routes, gets one call per drive after the one it refuses, and for a
 * while is not asked for the batched route again.
 */
TEST(object_remote_put_one_call_per_node)
{
    struct obj_cond cond = { .if_match = SLICE_LIT("*") };
    struct obj_put_opts opts = { .size = 5, .cond = &cond };
    struct obj_put *p;
    struct two_nodes t;
    uint64_t before;

    open_two(&t);
    ASSERT_OK(objlayer_bucket_make(t.ol, NULL, "b"));
    ASSERT_OK(put_data(t.ol, "warm", (const uint8_t *)"w", 1));
    before = calls_of(&t);
    ASSERT_OK(put_data(t.ol, "k", (const uint8_t *)"one", 3));
    ASSERT_EQ(calls_of(&t) - before, 2);
    before = calls_of(&t);
    ASSERT_OK(put_data(t.ol, "k", (const uint8_t *)"two", 3));
    ASSERT_EQ(calls_of(&t) - before, 2);
    before = calls_of(&t);
    ASSERT_OK(object_test_check_read(t.ol, "k", (const uint8_t *)"two", 3));
    ASSERT_EQ(calls_of(&t) - before, 1);
    before = calls_of(&t);
    ASSERT_OK(objlayer_put_begin(t.ol, NULL, "b", "k", &opts, &p));
    ASSERT_OK(obj_put_write(p, "three", 5));
    ASSERT_OK(obj_put_finish(p, NULL));
    ASSERT_EQ(calls_of(&t) - before, 4); /* the records read for the condition, then the commit */
    ASSERT_OK(object_test_check_read(t.ol, "k", (const uint8_t *)"three", 5));
    /* node b of an older version: 1 refused + 2 for its drives */
    remote_node_hide_batches(t.b, true);
    before = remote_node_calls(t.b);
    ASSERT_OK(put_data(t.ol, "k", (const uint8_t *)"four", 4));
    ASSERT_EQ(remote_node_calls(t.b) - before, 3);
    ASSERT_OK(object_test_check_read(t.ol, "k", (const uint8_t *)"four", 4));
    before = remote_node_calls(t.b);
    ASSERT_OK(put_data(t.ol, "k2", (const uint8_t *)"five", 4));
    ASSERT_EQ(remote_node_calls(t.b) - before, 2); /* not asked again for a while */
    ASSERT_OK(object_test_check_read(t.ol, "k2", (const uint8_t *)"five", 4));
    remote_node_hide_batches(t.b, false);
    ASSERT_OK(object_test_check_read(t.ol, "k", (const uint8_t *)"four", 4));
    close_two(&t);
}

/*
 * A version dated ahead of this node's clock (written by a node whose clock
 * ran ahead) on some drives: a PUT now, which reads no record first, is
 * still dated after it, on every drive alike (the drives refuse the older
 * time and answer theirs; the PUT commits again 1 ns later).
 */
TEST(object_remote_put_dated_after_a_version_from_a_clock_ahead)
{
    int64_t ahead = clock_now_ns() + 3600 * 1000000000LL;
    struct obj_meta rec, first;
    struct obj_info info;
    struct two_nodes t;
    unsigned j;

    open_two(&t);
    ASSERT_OK(objlayer_bucket_make(t.ol, NULL, "b"));
    ASSERT_OK(put_data(t.ol, "k", (const uint8_t *)"old", 3));
    objmeta_init(&rec);
    objmeta_init(&first);
    for (j = 0; j < 4; j += 2) { /* node a's two drives: dated an hour ahead */
        ASSERT_OK(drive_meta_read(t.inner[j], "b", "k", &rec));
        rec.mtime_ns = ahead;
        ASSERT_OK(drive_meta_commit(t.inner[j], "b", "k", &rec));
    }
    ASSERT_OK(put_data(t.ol, "k", (const uint8_t *)"new", 3));
    ASSERT_OK(object_test_check_read(t.ol, "k", (const uint8_t *)"new", 3));
    obj_info_init(&info);
    ASSERT_OK(objlayer_head(t.ol, NULL, "b", "k", &info));
    ASSERT(info.mtime_ns > ahead);
    obj_info_release(&info);
    object_test_record(t.inner[0], "b", "k", &first);
    for (j = 1; j < 4; j++) {
        object_test_record(t.inner[j], "b", "k", &rec);
        ASSERT_STREQ(rec.vid, first.vid);
        ASSERT_EQ(rec.mtime_ns, first.mtime_ns);
    }
    ASSERT_EQ(first.mtime_ns, ahead + 1);
    objmeta_release(&rec);
    objmeta_release(&first);
    close_two(&t);
}

/*
 * A commit below write quorum (node b's two drives refuse it: 2 of 4, quorum
 * 3) is rolled back to the previous version on every drive, from the
 * records the commits answered (inline) and the ones read after the
 * failure from the drives that refused (shard files: the drives that
 * committed dropped the old shards, the refusing ones kept them, k = 2).
 */
TEST(object_remote_rollback_restores_the_previous_version)
{
    static const size_t sizes[] = { 10, 200 * 1024 };
    uint8_t *old = xmalloc(200 * 1024), *new = xmalloc(200 * 1024);
    struct obj_meta before, rec;
    struct two_nodes t;
    unsigned i, j;

    open_two_faulty(&t);
    ASSERT_OK(objlayer_bucket_make(t.ol, NULL, "b"));
    objmeta_init(&before);
    objmeta_init(&rec);
    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        object_test_fill(old, sizes[i], 1 + i);
        object_test_fill(new, sizes[i], 7 + i);
        drive_faulty_clear(t.inner[1]);
        drive_faulty_clear(t.inner[3]);
        ASSERT_OK(put_data(t.ol, "k", old, sizes[i]));
        object_test_record(t.inner[0], "b", "k", &before);
        drive_faulty_fail_after(t.inner[1], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_NO_SPACE);
        drive_faulty_fail_after(t.inner[3], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_NO_SPACE);
        ASSERT_EQ(put_data(t.ol, "k", new, sizes[i]), -ERR_QUORUM);
        drive_faulty_clear(t.inner[1]);
        drive_faulty_clear(t.inner[3]);
        ASSERT_OK(object_test_check_read(t.ol, "k", old, sizes[i]));
        for (j = 0; j < 4; j++) {
            if (sizes[i] > OBJ_INLINE_MAX && (j == 0 || j == 2))
                continue; /* their old shards are gone: the record went with the new version */
            object_test_record(t.inner[j], "b", "k", &rec);
            ASSERT_STREQ(rec.vid, before.vid);
        }
    }
    objmeta_release(&before);
    objmeta_release(&rec);
    free(old);
    free(new);
    close_two(&t);
}

struct racer {
    struct objlayer *ol;
    const char *body;
    int rc;
};

static void *
create_racer(void *arg)
{
    struct racer *r = arg;
    struct obj_cond cond = { .if_none_match = true };
    struct obj_put_opts opts = { .size = (int64_t)strlen(r->body), .cond = &cond };
    struct obj_put *p;

    r->rc = objlayer_put_begin(r->ol, NULL, "b", "race", &opts, &p);
    if (r->rc == 0 && (r->rc = obj_put_write(p, r->body, strlen(r->body))) == 0)
        r->rc = obj_put_finish(p, NULL);
    else if (r->rc == 0)
        obj_put_abort(p);
    return NULL;
}

/*
 * Racing If-None-Match: * creates of one key, with plain overwrites of
 * another racing alongside: exactly one create wins, and what is read is
 * the winner's.
 */
TEST(object_remote_racing_conditional_creates_one_wins)
{
    static const char *bodies[] = { "first", "second", "third", "fourth" };
    struct racer r[4];
    pthread_t th[4];
    struct two_nodes t;
    unsigned i, won = 0, round;

    open_two(&t);
    ASSERT_OK(objlayer_bucket_make(t.ol, NULL, "b"));
    for (round = 0; round < 5; round++) {
        won = 0;
        objlayer_delete(t.ol, NULL, "b", "race");
        for (i = 0; i < 4; i++) {
            r[i] = (struct racer){ t.ol, bodies[i], 0 };
            ASSERT_EQ(pthread_create(&th[i], NULL, create_racer, &r[i]), 0);
        }
        for (i = 0; i < 4; i++)
            ASSERT_EQ(pthread_join(th[i], NULL), 0);
        for (i = 0; i < 4; i++) {
            if (r[i].rc == 0) {
                won++;
                ASSERT_OK(object_test_check_read(t.ol, "race", (const uint8_t *)bodies[i],
                                                 strlen(bodies[i])));
            } else {
                ASSERT_EQ(r[i].rc, -ERR_PRECONDITION_FAILED);
            }
        }
        ASSERT_EQ(won, 1);
    }
    close_two(&t);
}

/*
 * A drive that committed the first round and then failed the re-dated one
 * (a version from a clock ahead on drive 0): it holds this PUT's version at
 * the first time, its old shards gone. Below write quorum, it must count as
 * committed: rolling back would leave the old version unreadable (every
 * drive dropped its shards), so the new version is kept on every drive that
 * has it, not restored to records whose shards are gone on some and left
 * new on others.
 */
TEST(object_remote_failed_redated_round_counts_as_committed)
{
    int64_t ahead = clock_now_ns() + 3600 * 1000000000LL;
    size_t n = 200 * 1024;
    uint8_t *old = xmalloc(n), *new = xmalloc(n);
    struct obj_meta rec, fresh;
    struct two_nodes t;
    unsigned j;

    open_two_faulty(&t);
    ASSERT_OK(objlayer_bucket_make(t.ol, NULL, "b"));
    object_test_fill(old, n, 3);
    object_test_fill(new, n, 4);
    ASSERT_OK(put_data(t.ol, "k", old, n));
    objmeta_init(&rec);
    objmeta_init(&fresh);
    ASSERT_OK(drive_meta_read(t.inner[0], "b", "k", &rec));
    rec.mtime_ns = ahead;
    ASSERT_OK(drive_meta_commit(t.inner[0], "b", "k", &rec));
    /* drives 1 and 3 commit the first round, then fail the re-dated one */
    drive_faulty_fail_after(t.inner[1], DRIVE_FAULTY_OP_META_COMMIT, 2, -ERR_NO_SPACE);
    drive_faulty_fail_after(t.inner[3], DRIVE_FAULTY_OP_META_COMMIT, 2, -ERR_NO_SPACE);
    ASSERT_EQ(put_data(t.ol, "k", new, n), -ERR_QUORUM);
    drive_faulty_clear(t.inner[1]);
    drive_faulty_clear(t.inner[3]);
    ASSERT_OK(object_test_check_read(t.ol, "k", new, n));
    object_test_record(t.inner[0], "b", "k", &fresh);
    ASSERT_EQ(fresh.mtime_ns, ahead + 1);
    for (j = 1; j < 4; j++) { /* the new version on every drive (1 and 3 at the first time) */
        object_test_record(t.inner[j], "b", "k", &rec);
        ASSERT_STREQ(rec.vid, fresh.vid);
    }
    objmeta_release(&rec);
    objmeta_release(&fresh);
    free(old);
    free(new);
    close_two(&t);
}
