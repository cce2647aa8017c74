/*
 * tests/unit/storage/test_drive_remote.c: the remote drive (drive_remote.c)
 * against the shared drive semantics (drive_common.h), through real RPC to
 * an in-process node serving an in-memory and a local drive
 * (drive_serve.c); and what a remote drive does when its node goes away.
 */
#include "util/base.h"

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
