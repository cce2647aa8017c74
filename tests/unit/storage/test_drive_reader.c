/*
 * tests/unit/storage/test_drive_reader.c: shard readers. On a local drive a
 * reader holds its file, so a commit that replaces the version while a GET
 * streams it does not cut the stream; on any drive a reader reads what
 * drive_shard_read would.
 */
#include "util/base.h"

#include "harness.h"
#include "storage/drive.h"

static void
commit_version(struct drive *d, const char *key, const char *payload, char vid[33])
{
    struct shard_writer *w;
    struct obj_meta m;

    objmeta_init(&m);
    objmeta_new_vid(m.vid);
    ASSERT_OK(drive_shard_create(d, m.vid, 1, &w));
    ASSERT_OK(drive_shard_append(w, payload, strlen(payload)));
    ASSERT_OK(drive_shard_finish(w));
    m.size = strlen(payload);
    m.mtime_ns = 1;
    snprintf(m.etag, sizeof(m.etag), "%032d", 0);
    m.k = 1;
    m.m = 1;
    m.block_size = 1 << 20;
    m.dist[0] = 0;
    m.dist[1] = 1;
    ASSERT_OK(drive_meta_commit(d, "b", key, &m));
    memcpy(vid, m.vid, 33);
    objmeta_release(&m);
}

static void
reader_survives_replace(struct drive *d, bool must_survive)
{
    struct shard_reader *r;
    char v1[33], v2[33], buf[64];
    ssize_t n;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    commit_version(d, "k", "first version bytes", v1);
    ASSERT_EQ(drive_shard_open(d, "0123456789abcdef0123456789abcdef", 1, &r), -ERR_NOT_FOUND);
    ASSERT_OK(drive_shard_open(d, v1, 1, &r));
    n = drive_shard_pread(r, 6, buf, sizeof(buf));
    ASSERT_EQ(n, 13);
    ASSERT_MEMEQ(buf, "version bytes", 13);
    commit_version(d, "k", "second", v2);
    n = drive_shard_pread(r, 0, buf, sizeof(buf));
    if (must_survive) {
        ASSERT_EQ(n, 19);
        ASSERT_MEMEQ(buf, "first version bytes", 19);
    } else {
        ASSERT(n < 0);
    }
    drive_shard_close(r);
    /* The old version's folder is gone once the reader is closed. */
    ASSERT(drive_shard_read(d, v1, 1, 0, buf, sizeof(buf)) == -ERR_NOT_FOUND);
}

TEST(storage_reader_local_survives_replace)
{
    struct drive_local_opts opts = { .sync = true };
    struct buf err = BUF_INIT;
    struct drive *d = NULL;

    ASSERT_OK(drive_local_open(harness_tmpdir(), &opts, &d, &err));
    buf_release(&err);
    reader_survives_replace(d, true);
    drive_close(d);
}

TEST(storage_reader_mem_fallback)
{
    struct drive *d = drive_mem_new("mem:r");

    reader_survives_replace(d, false);
    drive_close(d);
}

/* Healing commits a version again over a corrupt copy: the data folder is swapped in one step. */
TEST(storage_recommit_same_version_swaps_folder)
{
    struct drive_local_opts opts = { .sync = true };
    struct buf err = BUF_INIT;
    struct drive *d = NULL;
    struct shard_writer *w;
    struct shard_reader *r;
    struct obj_meta m;
    char vid[33], buf[64];

    ASSERT_OK(drive_local_open(harness_tmpdir(), &opts, &d, &err));
    buf_release(&err);
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    commit_version(d, "k", "rotten bytes", vid);
    ASSERT_OK(drive_shard_open(d, vid, 1, &r));
    objmeta_init(&m);
    ASSERT_OK(drive_meta_read(d, "b", "k", &m));
    ASSERT_OK(drive_shard_create(d, vid, 1, &w));
    ASSERT_OK(drive_shard_append(w, "healed bytes", 12));
    ASSERT_OK(drive_shard_finish(w));
    ASSERT_OK(drive_meta_commit(d, "b", "k", &m));
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, buf, sizeof(buf)), 12);
    ASSERT_MEMEQ(buf, "healed bytes", 12);
    /* A reader opened before the swap still reads the file it opened. */
    ASSERT_EQ(drive_shard_pread(r, 0, buf, sizeof(buf)), 12);
    ASSERT_MEMEQ(buf, "rotten bytes", 12);
    drive_shard_close(r);
    ASSERT(drive_is_online(d));
    objmeta_release(&m);
    drive_close(d);
}
