/*
 * tests/unit/storage/test_drive_remote.c: the remote drive (drive_remote.c)
 * against the shared drive semantics (drive_common.h), through real RPC to
 * an in-process node serving an in-memory and a local drive
 * (drive_serve.c); and what a remote drive does when its node goes away.
 */
#include "util/base.h"

#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "drive_common.h"
#include "harness.h"
#include "remote_test.h"
#include "storage/drive.h"
#include "storage/internal.h"

static void
run_common(bool local, void (*fn)(struct drive *))
{
    struct drive_local_opts opts = { .sync = true };
    struct drive *inner = NULL, *d;
    struct remote_node *node;

    if (local)
        ASSERT_OK(drive_local_open(harness_tmpdir(), &opts, &inner, NULL));
    else
        inner = drive_mem_new("mem:served");
    node = remote_node_start(&inner, 1);
    d = remote_node_drive(node, 0);
    ASSERT(drive_is_remote(d));
    fn(d);
    drive_close(d);
    remote_node_stop(node);
}

#define REMOTE_TEST(name)                                                                          \
    TEST(storage_remote_##name)                                                                    \
    {                                                                                              \
        run_common(false, common_##name);                                                          \
        run_common(true, common_##name);                                                           \
    }

REMOTE_TEST(buckets)
/* format: not common_format (which overwrites one): see storage_remote_refuses_bad_arguments */
REMOTE_TEST(shards_and_commit)
REMOTE_TEST(abort_and_tmp_remove)
REMOTE_TEST(inline)
REMOTE_TEST(meta_delete)
REMOTE_TEST(meta_delete_many)
REMOTE_TEST(replace)
REMOTE_TEST(listing)
REMOTE_TEST(shard_link)
REMOTE_TEST(reduced_listed)

/* A listing longer than one page of the wire (1,000 rows) arrives whole, in order. */
TEST(storage_remote_long_listing)
{
    struct drive *inner = drive_mem_new("mem:l"), *d;
    struct remote_node *node = remote_node_start(&inner, 1);
    struct buf got = BUF_INIT, want = BUF_INIT;
    char key[32];
    unsigned i;

    ASSERT_OK(drive_bucket_make(inner, "b", 1));
    for (i = 0; i < 2500; i++) {
        snprintf(key, sizeof(key), "k%05u", i);
        common_put_inline(inner, "b", key);
        buf_addf(&want, "%s|", key);
    }
    d = remote_node_drive(node, 0);
    ASSERT_OK(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, common_list_cb, &got));
    ASSERT_STREQ(got.ptr, want.ptr);
    buf_clear(&got);
    ASSERT_OK(drive_list(d, "b", SLICE_NULL, SLICE_LIT("k00999"), 1500, common_list_cb, &got));
    ASSERT_EQ(got.len, 1500 * 7);
    ASSERT(!memcmp(got.ptr, "k01000|", 7));
    buf_release(&got);
    buf_release(&want);
    drive_close(d);
    remote_node_stop(node);
}

/*
 * Large shard files stream both ways; a read stream held open keeps the
 * version's bytes while it is replaced (as a local reader does); reads at
 * any offset, including going back, return the right bytes.
 */
TEST(storage_remote_shard_streams)
{
    struct drive *inner = drive_mem_new("mem:s"), *d;
    struct remote_node *node = remote_node_start(&inner, 1);
    size_t n = 9 * 1024 * 1024 + 7, off;
    uint8_t *data = xmalloc(n), *back = xmalloc(n);
    char vid[OBJMETA_VID_LEN + 1];
    struct shard_writer *w;
    struct shard_reader *r;
    uint64_t size;
    uint64_t seed = 5;

    for (off = 0; off < n; off++)
        data[off] = (uint8_t)harness_rand(&seed);
    d = remote_node_drive(node, 0);
    objmeta_new_vid(vid);
    ASSERT_OK(drive_shard_create(d, vid, 1, &w));
    for (off = 0; off < n; off += 1000003)
        ASSERT_OK(drive_shard_append(w, data + off, MIN(1000003, n - off)));
    ASSERT_OK(drive_shard_finish(w));
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    {
        struct obj_meta m;

        common_meta(&m, vid, n);
        ASSERT_OK(drive_meta_commit(d, "b", "k", &m));
        objmeta_release(&m);
    }
    ASSERT_OK(drive_shard_open(d, vid, 1, &r));
    ASSERT_OK(drive_shard_size(r, &size));
    ASSERT_EQ(size, n);
    ASSERT_EQ(drive_shard_pread(r, 0, back, n), (ssize_t)n);
    ASSERT(!memcmp(back, data, n));
    ASSERT_EQ(drive_shard_pread(r, 12345, back, 100), 100);
    ASSERT(!memcmp(back, data + 12345, 100));
    ASSERT_EQ(drive_shard_pread(r, n - 10, back, 100), 10);
    ASSERT_EQ(drive_shard_pread(r, n, back, 100), 0);
    ASSERT_EQ(drive_shard_read(d, vid, 1, 7, back, 1000), 1000);
    ASSERT(!memcmp(back, data + 7, 1000));
    drive_shard_close(r);
    ASSERT_EQ(drive_shard_open(d, "0123456789abcdef0123456789abcdef", 1, &r), -ERR_NOT_FOUND);
    free(data);
    free(back);
    drive_close(d);
    remote_node_stop(node);
}

/*
 * A shard written through a stream that is dropped before its end is never
 * finished on the other node: nothing is left to commit.
 */
TEST(storage_remote_aborted_write_leaves_nothing)
{
    struct drive *inner = drive_mem_new("mem:a"), *d;
    struct remote_node *node = remote_node_start(&inner, 1);
    char vid[OBJMETA_VID_LEN + 1];
    struct shard_writer *w;
    struct obj_meta m;

    d = remote_node_drive(node, 0);
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    objmeta_new_vid(vid);
    ASSERT_OK(drive_shard_create(d, vid, 1, &w));
    ASSERT_OK(drive_shard_append(w, "half", 4));
    drive_shard_abort(w);
    common_meta(&m, vid, 4);
    ASSERT_EQ(drive_meta_commit(d, "b", "k", &m), -ERR_NOT_FOUND); /* no shards in tmp */
    objmeta_release(&m);
    drive_close(d);
    remote_node_stop(node);
}

/* Bad arguments from a caller are refused, never acted on. */
TEST(storage_remote_refuses_bad_arguments)
{
    struct drive *inner = drive_mem_new("mem:x"), *d;
    struct remote_node *node = remote_node_start(&inner, 1);
    struct buf fmt = BUF_INIT;
    struct shard_writer *w;

    d = drive_remote_new(NULL, "x", "x"); /* never called: construction only */
    drive_close(d);
    d = remote_node_drive(node, 0);
    ASSERT_EQ(drive_shard_create(d, "../../etc", 1, &w), -ERR_INVAL);
    ASSERT_EQ(drive_format_read(d, &fmt), -ERR_NOT_FOUND);
    ASSERT_OK(drive_format_write(d, SLICE_LIT("{\"a\":1}")));
    /* a format.json is never overwritten from another node */
    ASSERT_EQ(drive_format_write(d, SLICE_LIT("{\"a\":2}")), -ERR_EXISTS);
    ASSERT_OK(drive_format_read(d, &fmt));
    ASSERT_STREQ(fmt.ptr, "{\"a\":1}");
    buf_release(&fmt);
    drive_close(d);
    remote_node_stop(node);
}

/*
 * The node goes away: the next call fails, the drive is offline and later
 * calls fail at once (no waiting on a dead node); drive_check() keeps
 * answering offline while the node is down.
 */
TEST(storage_remote_node_down)
{
    struct drive *inner = drive_mem_new("mem:d"), *d;
    struct remote_node *node = remote_node_start(&inner, 1);
    int64_t created;

    d = remote_node_drive(node, 0);
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    ASSERT_OK(drive_check(d));
    remote_node_pause(node);
    ASSERT_EQ(drive_bucket_stat(d, "b", &created), -ERR_OFFLINE);
    ASSERT(!drive_is_online(d));
    ASSERT_EQ(drive_bucket_stat(d, "b", &created), -ERR_OFFLINE);
    ASSERT_EQ(drive_check(d), -ERR_OFFLINE);
    drive_close(d);
    remote_node_stop(node);
}

/*
 * A shard reader whose node goes away between reads: the read that has to
 * open a new stream fails, and closing the reader afterwards is safe (it
 * once closed a stream it no longer had: a crash in heal under the chaos
 * test).
 */
TEST(storage_remote_reader_closed_after_failed_reopen)
{
    struct drive *inner = drive_mem_new("mem:r"), *d;
    struct remote_node *node = remote_node_start(&inner, 1);
    char vid[OBJMETA_VID_LEN + 1];
    struct shard_writer *w;
    struct shard_reader *r;
    struct obj_meta m;
    char back[8];

    d = remote_node_drive(node, 0);
    objmeta_new_vid(vid);
    ASSERT_OK(drive_shard_create(d, vid, 1, &w));
    ASSERT_OK(drive_shard_append(w, "0123456789", 10));
    ASSERT_OK(drive_shard_finish(w));
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_meta(&m, vid, 10);
    ASSERT_OK(drive_meta_commit(d, "b", "k", &m));
    objmeta_release(&m);
    ASSERT_OK(drive_shard_open(d, vid, 1, &r));
    ASSERT_EQ(drive_shard_pread(r, 0, back, 2), 2);
    remote_node_pause(node);
    ASSERT(drive_shard_pread(r, 5, back, 2) < 0); /* a new stream: the node is down */
    ASSERT(drive_shard_pread(r, 7, back, 2) < 0); /* offline: refused at once */
    drive_shard_close(r);
    drive_close(d);
    remote_node_stop(node);
}

/*
 * drive_meta_delete_many() over RPC: one call per 1,000 keys, each a single
 * index transaction on the serving node's local drive.
 */
TEST(storage_remote_meta_delete_many_batches)
{
    struct drive_local_opts opts = { .sync = true };
    struct drive *inner = NULL, *d;
    struct remote_node *node;
    enum { N = 2500 };
    static char names[N][16];
    static const char *keys[N];
    static int rcs[N];
    uint64_t before;
    size_t i;

    ASSERT_OK(drive_local_open(harness_tmpdir(), &opts, &inner, NULL));
    node = remote_node_start(&inner, 1);
    d = remote_node_drive(node, 0);
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    for (i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "k%zu", i);
        keys[i] = names[i];
        if (i % 2)
            common_put_inline(inner, "b", names[i]);
    }
    before = drive_local__ntxn(inner);
    ASSERT_OK(drive_meta_delete_many(d, "b", keys, N, rcs));
    ASSERT_EQ(drive_local__ntxn(inner) - before, 3);
    for (i = 0; i < N; i++)
        ASSERT_EQ(rcs[i], i % 2 ? 0 : -ERR_NOT_FOUND);
    ASSERT(drive_is_online(d));
    drive_close(d);
    remote_node_stop(node);
}

/*
 * drive_meta_replace_many() and drive_meta_read_many() over ds[0..4), one
 * key: ds[0] holds none, ds[1] a newer version (refused, answered), ds[2]
 * an older one (replaced, answered), ds[3] has no bucket.
 */
static void
many_semantics(struct drive **ds)
{
    char v[5][OBJMETA_VID_LEN + 1];
    struct obj_meta m[4], newer, older, out[4];
    struct drive_meta_op ops[4];
    size_t i;

    for (i = 0; i < 3; i++)
        ASSERT_OK(drive_bucket_make(ds[i], "b", 1));
    for (i = 0; i < 5; i++)
        objmeta_new_vid(v[i]);
    common_meta(&newer, v[0], 3);
    newer.is_inline = true;
    newer.mtime_ns = 500;
    buf_add(&newer.inline_data, "new", 3);
    ASSERT_OK(drive_meta_commit(ds[1], "b", "k", &newer));
    common_meta(&older, v[1], 3);
    older.is_inline = true;
    older.mtime_ns = 100;
    buf_add(&older.inline_data, "old", 3);
    ASSERT_OK(drive_meta_commit(ds[2], "b", "k", &older));
    for (i = 0; i < 4; i++) {
        common_meta(&m[i], v[4], 3);
        m[i].is_inline = true;
        m[i].mtime_ns = 300;
        m[i].shard_idx = (unsigned)i % 3;
        buf_add(&m[i].inline_data, "abc", 3);
        objmeta_init(&out[i]);
        ops[i] = (struct drive_meta_op){ .d = ds[i], .m = &m[i], .out = &out[i], .had = true };
    }
    drive_meta_replace_many("b", "k", ops, 4);
    ASSERT_OK(ops[0].rc);
    ASSERT(!ops[0].had);
    ASSERT_EQ(ops[1].rc, -ERR_EXISTS);
    ASSERT(ops[1].had);
    ASSERT_STREQ(out[1].vid, v[0]);
    ASSERT_EQ(out[1].mtime_ns, 500);
    ASSERT_MEMEQ(out[1].inline_data.ptr, "new", 3);
    ASSERT_OK(ops[2].rc);
    ASSERT(ops[2].had);
    ASSERT_STREQ(out[2].vid, v[1]);
    ASSERT_MEMEQ(out[2].inline_data.ptr, "old", 3);
    ASSERT_EQ(ops[3].rc, -ERR_NOT_FOUND);
    ASSERT(!ops[3].had);
    /* read back: each drive's own record */
    for (i = 0; i < 4; i++) {
        objmeta_release(&out[i]);
        objmeta_init(&out[i]);
        ops[i] = (struct drive_meta_op){ .d = ds[i], .out = &out[i] };
    }
    drive_meta_read_many("b", "k", ops, 4);
    ASSERT_OK(ops[0].rc);
    ASSERT_STREQ(out[0].vid, v[4]);
    ASSERT_EQ(out[0].shard_idx, 0);
    ASSERT_OK(ops[1].rc);
    ASSERT_STREQ(out[1].vid, v[0]);
    ASSERT_OK(ops[2].rc);
    ASSERT_STREQ(out[2].vid, v[4]);
    ASSERT_EQ(out[2].shard_idx, 2);
    ASSERT_MEMEQ(out[2].inline_data.ptr, "abc", 3);
    ASSERT_EQ(ops[3].rc, -ERR_NOT_FOUND);
    for (i = 0; i < 4; i++) {
        objmeta_release(&m[i]);
        objmeta_release(&out[i]);
    }
    objmeta_release(&newer);
    objmeta_release(&older);
}

/* Four drives of one node: one call for all (one host), or one per drive from an older node. */
static void
many_remote(bool old)
{
    struct drive *inner[4] = { drive_mem_new("mem:m0"), drive_mem_new("mem:m1"),
                               drive_mem_new("mem:m2"), drive_mem_new("mem:m3") };
    struct remote_node *node = remote_node_start(inner, 4);
    struct drive *ds[4];
    uint64_t before;
    size_t i;

    for (i = 0; i < 4; i++)
        ds[i] = remote_node_drive(node, i);
    ASSERT(drive_host(ds[0]) != NULL);
    ASSERT(drive_host(ds[0]) == drive_host(ds[3]));
    remote_node_hide_batches(node, old);
    before = remote_node_calls(node);
    many_semantics(ds);
    /*
     * 3 bucket makes, 2 commits, then the replace and the read: 1 call each;
     * an old node: 1 refused + 4 for the replace, then the read without
     * asking again: 4
     */
    ASSERT_EQ(remote_node_calls(node) - before, old ? 5 + 5 + 4 : 5 + 2);
    for (i = 0; i < 4; i++) {
        ASSERT(drive_is_online(ds[i]));
        drive_close(ds[i]);
    }
    remote_node_stop(node);
}

TEST(storage_remote_meta_many_one_call_per_node)
{
    many_remote(false);
}

TEST(storage_remote_meta_many_from_an_older_node)
{
    many_remote(true);
}

/* This node's drives: one host; committed in parallel, each in its own transaction. */
TEST(storage_local_meta_many)
{
    struct drive_local_opts opts = { .sync = true };
    struct drive *ds[4];
    uint64_t before[4];
    char path[512];
    size_t i;

    for (i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/d%zu", harness_tmpdir(), i);
        ASSERT_OK(drive_local_open(path, &opts, &ds[i], NULL));
    }
    ASSERT(drive_host(ds[0]) != NULL);
    ASSERT(drive_host(ds[0]) == drive_host(ds[1]));
    {
        struct drive *mem = drive_mem_new("mem:x");

        ASSERT(drive_host(mem) == NULL); /* shares no host: called alone */
        drive_close(mem);
    }
    for (i = 0; i < 4; i++)
        before[i] = drive_local__ntxn(ds[i]);
    many_semantics(ds);
    for (i = 0; i < 3; i++)
        ASSERT(drive_local__ntxn(ds[i]) > before[i]);
    for (i = 0; i < 4; i++)
        drive_close(ds[i]);
}

struct many_call {
    struct drive_meta_op *ops;
    size_t n;
};

static void *
many_thread(void *arg)
{
    struct many_call *c = arg;

    drive_meta_replace_many("b", "k", c->ops, c->n);
    return NULL;
}

/*
 * A local group whose first drive's commit is held up (its index locked by
 * another writer): the other drive's commit ends its busy stamp as soon as
 * it is done, so the hung watch never takes that drive for hung too (it
 * once stayed stamped until the slow drive returned).
 */
TEST(storage_local_meta_many_slow_drive_stamps_only_itself)
{
    struct drive_local_opts opts = { .sync = true };
    char vid[OBJMETA_VID_LEN + 1], path[512];
    struct drive_meta_op ops[2];
    struct obj_meta m[2], out[2], back;
    struct many_call call = { ops, 2 };
    struct drive *ds[2];
    sqlite3 *db;
    pthread_t t;
    size_t i;
    int tries;

    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/s%zu", harness_tmpdir(), i);
        ASSERT_OK(drive_local_open(path, &opts, &ds[i], NULL));
        ASSERT_OK(drive_bucket_make(ds[i], "b", 1));
    }
    snprintf(path, sizeof(path), "%s/s0/.basalt/index.db", harness_tmpdir());
    ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    objmeta_new_vid(vid);
    for (i = 0; i < 2; i++) {
        common_meta(&m[i], vid, 3);
        m[i].is_inline = true;
        m[i].shard_idx = (unsigned)i;
        buf_add(&m[i].inline_data, "abc", 3);
        objmeta_init(&out[i]);
        ops[i] = (struct drive_meta_op){ .d = ds[i], .m = &m[i], .out = &out[i] };
    }
    ASSERT_EQ(pthread_create(&t, NULL, many_thread, &call), 0);
    objmeta_init(&back);
    for (tries = 0; tries < 500 && drive_meta_read(ds[1], "b", "k", &back) != 0; tries++)
        usleep(2000);
    ASSERT_STREQ(back.vid, vid); /* drive 1 committed while drive 0 waits */
    objmeta_release(&back);
    for (tries = 0; tries < 100 && drive_stuck_ns(ds[1]) != 0; tries++)
        usleep(2000);
    ASSERT_EQ(drive_stuck_ns(ds[1]), 0);
    ASSERT(drive_stuck_ns(ds[0]) > 0); /* still waiting for its index */
    ASSERT_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    sqlite3_close(db);
    ASSERT_OK(ops[0].rc);
    ASSERT_OK(ops[1].rc);
    for (i = 0; i < 2; i++) {
        objmeta_release(&m[i]);
        objmeta_release(&out[i]);
        drive_close(ds[i]);
    }
}

/*
 * A drive of the node that went offline there answers -ERR_OFFLINE in the
 * batch (and goes offline here); the node's other drive commits.
 */
TEST(storage_remote_meta_many_one_drive_offline)
{
    struct drive *inner[2] = { drive_mem_new("mem:o0"), drive_mem_new("mem:o1") };
    struct remote_node *node = remote_node_start(inner, 2);
    struct drive *ds[2] = { remote_node_drive(node, 0), remote_node_drive(node, 1) };
    char vid[OBJMETA_VID_LEN + 1];
    struct obj_meta m, out[2];
    struct drive_meta_op ops[2];
    size_t i;

    for (i = 0; i < 2; i++)
        ASSERT_OK(drive_bucket_make(ds[i], "b", 1));
    drive_set_offline(inner[1], -ERR_IO);
    objmeta_new_vid(vid);
    common_meta(&m, vid, 3);
    m.is_inline = true;
    buf_add(&m.inline_data, "abc", 3);
    for (i = 0; i < 2; i++) {
        objmeta_init(&out[i]);
        ops[i] = (struct drive_meta_op){ .d = ds[i], .m = &m, .out = &out[i] };
    }
    drive_meta_replace_many("b", "k", ops, 2);
    ASSERT_OK(ops[0].rc);
    ASSERT_EQ(ops[1].rc, -ERR_OFFLINE);
    ASSERT(drive_is_online(ds[0]));
    ASSERT(!drive_is_online(ds[1]));
    ASSERT_OK(drive_meta_read(inner[0], "b", "k", &out[0]));
    ASSERT_STREQ(out[0].vid, vid);
    for (i = 0; i < 2; i++) {
        objmeta_release(&out[i]);
        drive_close(ds[i]);
    }
    objmeta_release(&m);
    remote_node_stop(node);
}
