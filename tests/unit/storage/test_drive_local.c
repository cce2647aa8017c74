/*
 * tests/unit/storage/test_drive_local.c: the local drive: the shared drive
 * semantics, its folder layout, group commit under concurrency, crash
 * recovery at open, and a drive folder removed under a running drive.
 */
#include "util/base.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drive_common.h"
#include "harness.h"
#include "storage/drive.h"
#include "storage/internal.h"

static struct drive *
open_local(bool sync)
{
    struct drive_local_opts opts = { .sync = sync };
    struct buf err = BUF_INIT;
    struct drive *d = NULL;

    ASSERT_OK(drive_local_open(harness_tmpdir(), &opts, &d, &err));
    ASSERT_EQ(err.len, 0);
    buf_release(&err);
    return d;
}

/* Path under the drive's .basalt folder. */
static const char *
bpath(const char *fmt, const char *arg)
{
    static char p[4096];
    char rel[256];

    snprintf(rel, sizeof(rel), fmt, arg);
    snprintf(p, sizeof(p), "%s/.basalt/%s", harness_tmpdir(), rel);
    return p;
}

static bool
exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* Whether trash/<vid> is gone within 5 s (the trash thread removes it in the background). */
static bool
trash_emptied(const char *vid)
{
    int i;

    for (i = 0; i < 500; i++) {
        if (!exists(bpath("trash/%s", vid)))
            return true;
        usleep(10 * 1000);
    }
    return false;
}

/* Waits up to 5 s for the trash thread's count of removed entries to reach `n`; fails past it. */
static void
wait_until_trash_removed(struct drive *d, uint64_t n)
{
    int i;

    for (i = 0; i < 500 && drive_local__trash_removed(d) < n; i++)
        usleep(10 * 1000);
    ASSERT_EQ(drive_local__trash_removed(d), n);
}

#define LOCAL_TEST(name)                                                                           \
    TEST(storage_local_##name)                                                                     \
    {                                                                                              \
        struct drive *d = open_local(true);                                                        \
                                                                                                   \
        common_##name(d);                                                                          \
        drive_close(d);                                                                            \
    }

LOCAL_TEST(buckets)
LOCAL_TEST(format)
LOCAL_TEST(shards_and_commit)
LOCAL_TEST(abort_and_tmp_remove)
LOCAL_TEST(inline)
LOCAL_TEST(meta_delete)
LOCAL_TEST(meta_delete_many)
LOCAL_TEST(replace)
LOCAL_TEST(listing)
LOCAL_TEST(shard_link)
LOCAL_TEST(reduced_listed)
LOCAL_TEST(journal)

TEST(storage_local_layout)
{
    struct drive *d = open_local(true);
    char vid1[OBJMETA_VID_LEN + 1], vid2[OBJMETA_VID_LEN + 1];
    struct drive_info info;

    ASSERT(exists(bpath("%s", "index.db")));
    ASSERT(exists(bpath("%s", "data")));
    ASSERT(exists(bpath("%s", "tmp")));
    ASSERT(exists(bpath("%s", "multipart")));
    ASSERT(exists(bpath("%s", "trash")));
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    objmeta_new_vid(vid1);
    common_write_shard(d, vid1, "abc");
    ASSERT(exists(bpath("tmp/%s/part.1", vid1)));
    ASSERT(!exists(bpath("data/%s", vid1)));
    drive_close(d);
    d = open_local(true); /* an uncommitted upload does not survive a restart */
    ASSERT(!exists(bpath("tmp/%s", vid1)));
    common_put(d, "b", "k", "abc", vid1);
    ASSERT(exists(bpath("data/%s/part.1", vid1)));
    ASSERT(!exists(bpath("tmp/%s", vid1)));
    common_put(d, "b", "k", "def", vid2);
    ASSERT(!exists(bpath("data/%s", vid1))); /* the replaced version's folder is removed */
    ASSERT(exists(bpath("data/%s/part.1", vid2)));
    ASSERT(trash_emptied(vid1)); /* in the background */
    ASSERT_OK(drive_format_write(d, SLICE_LIT("{}")));
    ASSERT(exists(bpath("%s", "format.json")));
    ASSERT(!exists(bpath("%s", "format.json.tmp")));
    ASSERT_OK(drive_info(d, &info));
    ASSERT(info.online && info.total_bytes > 0 && info.free_bytes <= info.total_bytes);
    drive_close(d);
}

TEST(storage_local_reopen_keeps_data)
{
    struct drive *d = open_local(true);
    char vid[OBJMETA_VID_LEN + 1], rd[8];
    struct buf b = BUF_INIT;
    struct obj_meta m;
    int64_t ns = 0;

    ASSERT_OK(drive_format_write(d, SLICE_LIT("{\"x\":1}")));
    ASSERT_OK(drive_bucket_make(d, "b", 7));
    common_put(d, "b", "k", "persist", vid);
    drive_close(d);
    d = open_local(true);
    ASSERT_OK(drive_format_read(d, &b));
    ASSERT_STREQ(b.ptr, "{\"x\":1}");
    ASSERT_OK(drive_bucket_stat(d, "b", &ns));
    ASSERT_EQ(ns, 7);
    objmeta_init(&m);
    ASSERT_OK(drive_meta_read(d, "b", "k", &m));
    ASSERT_STREQ(m.vid, vid);
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, rd, sizeof(rd)), 7);
    objmeta_release(&m);
    buf_release(&b);
    drive_close(d);
}

#define NTHREADS 8
#define NCOMMITS 200

struct writer_arg {
    struct drive *d;
    int id;
    int failures;
};

static void *
writer_main(void *p)
{
    struct writer_arg *a = p;
    struct obj_meta m;
    char key[64];
    int i;

    for (i = 0; i < NCOMMITS; i++) {
        common_meta(&m, "00000000000000000000000000000000", 1);
        objmeta_new_vid(m.vid);
        m.is_inline = true;
        buf_add(&m.inline_data, "z", 1);
        snprintf(key, sizeof(key), "t%d/%04d", a->id, i);
        if (drive_meta_commit(a->d, "b", key, &m) < 0)
            a->failures++;
        if (i % 10 == 0 && drive_meta_commit(a->d, "nobucket", key, &m) != -ERR_NOT_FOUND)
            a->failures++; /* a failing request in the batch fails only itself */
        objmeta_release(&m);
    }
    return NULL;
}

static int
count_cb(void *arg, const struct drive_list_ent *ent)
{
    (*(unsigned *)arg)++;
    return 0;
}

TEST(storage_local_group_commit)
{
    struct drive *d = open_local(true);
    struct writer_arg args[NTHREADS];
    pthread_t th[NTHREADS];
    unsigned n = 0;
    uint64_t before, ntxn;
    int i;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    before = drive_local__ntxn(d);
    for (i = 0; i < NTHREADS; i++) {
        args[i] = (struct writer_arg){ d, i, 0 };
        ASSERT_EQ(pthread_create(&th[i], NULL, writer_main, &args[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(args[i].failures, 0);
    }
    ntxn = drive_local__ntxn(d) - before;
    ASSERT_OK(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, count_cb, &n));
    ASSERT_EQ(n, NTHREADS * NCOMMITS);
    n = 0;
    ASSERT_OK(drive_list(d, "b", SLICE_LIT("t3/"), SLICE_NULL, 0, count_cb, &n));
    ASSERT_EQ(n, NCOMMITS);
    printf("    %d commits in %llu transactions\n", NTHREADS * NCOMMITS + NTHREADS * NCOMMITS / 10,
           (unsigned long long)ntxn);
    ASSERT(ntxn < NTHREADS * NCOMMITS); /* batching happened */
    drive_close(d);
    d = open_local(true);
    n = 0;
    ASSERT_OK(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, count_cb, &n));
    ASSERT_EQ(n, NTHREADS * NCOMMITS);
    drive_close(d);
}

static void
make_file(const char *path)
{
    FILE *f = fopen(path, "w");

    ASSERT(f != NULL);
    fputs("junk", f);
    fclose(f);
}

TEST(storage_local_replaced_data_goes_to_trash)
{
    struct drive *d = open_local(true);
    char vid1[OBJMETA_VID_LEN + 1], vid2[OBJMETA_VID_LEN + 1], left[OBJMETA_VID_LEN + 1];
    char rd[8];

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "old", vid1);
    wait_until_trash_removed(d, 0); /* the first sweep at open: nothing */
    common_put(d, "b", "k", "new", vid2);
    ASSERT(!exists(bpath("data/%s", vid1)));
    ASSERT(trash_emptied(vid1));
    wait_until_trash_removed(d, 1); /* removed by the trash thread, not by the writer */
    ASSERT_EQ(drive_shard_read(d, vid2, 1, 0, rd, sizeof(rd)), 3);
    ASSERT_MEMEQ(rd, "new", 3);
    drive_close(d);
    /* a crash after the move to trash/, before its removal: emptied after the next open */
    objmeta_new_vid(left);
    ASSERT_EQ(mkdir(bpath("trash/%s", left), 0755), 0);
    make_file(bpath("trash/%s/part.1", left));
    d = open_local(true);
    ASSERT(trash_emptied(left));
    wait_until_trash_removed(d, 1);
    ASSERT(exists(bpath("data/%s/part.1", vid2)));
    common_put(d, "b", "k2", "x", vid1); /* and the drive goes on */
    drive_close(d);
}

TEST(storage_local_crash_recovery)
{
    struct drive *d = open_local(true);
    char vid[OBJMETA_VID_LEN + 1], partial[OBJMETA_VID_LEN + 1], orphan[OBJMETA_VID_LEN + 1];
    char rd[8];

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "keep", vid);
    common_put_inline(d, "b", "small");
    drive_close(d);
    /* a crash during an upload, and one between the rename and the index commit */
    objmeta_new_vid(partial);
    objmeta_new_vid(orphan);
    ASSERT_EQ(mkdir(bpath("tmp/%s", partial), 0755), 0);
    make_file(bpath("tmp/%s/part.1", partial));
    ASSERT_EQ(mkdir(bpath("data/%s", orphan), 0755), 0);
    make_file(bpath("data/%s/part.1", orphan));
    make_file(bpath("data/%s/part.2", orphan));
    d = open_local(true);
    ASSERT(!exists(bpath("tmp/%s", partial)));
    ASSERT(!exists(bpath("data/%s", orphan)));
    ASSERT(exists(bpath("data/%s/part.1", vid)));
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, rd, sizeof(rd)), 4);
    ASSERT_MEMEQ(rd, "keep", 4);
    common_expect_list(d, SLICE_NULL, SLICE_NULL, 0, "k|small|");
    drive_close(d);
}

static void
rm_rf(const char *path)
{
    char cmd[4200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    ASSERT_EQ(system(cmd), 0);
}

TEST(storage_local_folder_removed)
{
    struct drive *d = open_local(true);
    char vid[OBJMETA_VID_LEN + 1], rd[8];
    struct bucket_ent *ents = NULL;
    struct buf b = BUF_INIT;
    struct obj_meta m;
    size_t n = 9;

    ASSERT_OK(drive_format_write(d, SLICE_LIT("{}")));
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "abc", vid);
    ASSERT_OK(drive_check(d));
    rm_rf(harness_tmpdir());
    ASSERT_EQ(drive_check(d), -ERR_OFFLINE);
    ASSERT(!drive_is_online(d));
    objmeta_init(&m);
    ASSERT_EQ(drive_meta_read(d, "b", "k", &m), -ERR_OFFLINE);
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, rd, sizeof(rd)), -ERR_OFFLINE);
    ASSERT_EQ(drive_bucket_make(d, "c", 1), -ERR_OFFLINE);
    /* an empty folder comes back in its place: ready to be reset */
    ASSERT_EQ(mkdir(harness_tmpdir(), 0755), 0);
    ASSERT_EQ(drive_check(d), -ERR_NOT_FOUND);
    ASSERT_OK(drive_reset(d));
    ASSERT(drive_is_online(d));
    ASSERT_OK(drive_check(d));
    ASSERT_EQ(drive_format_read(d, &b), -ERR_NOT_FOUND);
    ASSERT_OK(drive_bucket_list(d, &ents, &n));
    ASSERT_EQ(n, 0);
    free(ents);
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "new", vid);
    ASSERT_OK(drive_meta_read(d, "b", "k", &m));
    objmeta_release(&m);
    buf_release(&b);
    drive_close(d);
}

TEST(storage_local_ops_after_removal_do_not_crash)
{
    struct drive *d = open_local(true);
    char vid[OBJMETA_VID_LEN + 1], rd[8];
    struct shard_writer *w = NULL;
    struct bucket_ent *ents = NULL;
    struct obj_meta m;
    struct buf b = BUF_INIT;
    size_t n;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "abc", vid);
    rm_rf(harness_tmpdir());
    /* before anyone calls drive_check: every op answers, none crashes */
    objmeta_init(&m);
    (void)drive_meta_read(d, "b", "k", &m);
    ASSERT(drive_shard_read(d, vid, 1, 0, rd, sizeof(rd)) < 0);
    ASSERT(drive_shard_create(d, vid, 1, &w) < 0);
    ASSERT(drive_format_read(d, &b) < 0);
    ASSERT(drive_format_write(d, SLICE_LIT("{}")) < 0);
    (void)drive_bucket_list(d, &ents, &n);
    if (drive_is_online(d))
        free(ents);
    common_meta(&m, vid, 3);
    ASSERT(drive_meta_commit(d, "b", "k2", &m) < 0);
    ASSERT(drive_check(d) < 0);
    objmeta_release(&m);
    buf_release(&b);
    drive_close(d);
}

TEST(storage_local_sync_off)
{
    struct drive *d = open_local(false);

    common_shards_and_commit(d);
    drive_close(d);
}

TEST(storage_local_open_fails_cleanly)
{
    struct drive_local_opts opts = { .sync = true };
    struct buf err = BUF_INIT;
    struct drive *d = NULL;
    char path[4200];

    snprintf(path, sizeof(path), "%s/file", harness_tmpdir());
    make_file(path);
    ASSERT_EQ(drive_local_open(path, &opts, &d, &err), -ERR_IO);
    ASSERT(d == NULL);
    ASSERT(err.len > 0);
    buf_release(&err);
}

TEST(storage_local_reset_live_drive)
{
    struct drive *d = open_local(true);
    char vid[OBJMETA_VID_LEN + 1];
    struct bucket_ent *ents = NULL;
    struct buf b = BUF_INIT;
    size_t n = 9;

    ASSERT_OK(drive_format_write(d, SLICE_LIT("{}")));
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "abc", vid);
    ASSERT_OK(drive_reset(d));
    ASSERT(drive_is_online(d));
    ASSERT_OK(drive_check(d));
    ASSERT(!exists(bpath("data/%s", vid)));
    ASSERT(exists(bpath("%s", "tmp")));
    ASSERT_EQ(drive_format_read(d, &b), -ERR_NOT_FOUND);
    ASSERT_OK(drive_bucket_list(d, &ents, &n));
    ASSERT_EQ(n, 0);
    free(ents);
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "abc", vid);
    buf_release(&b);
    drive_close(d);
}

/* drive_check() notices an index that is not the one opened (folder swapped under the drive). */
TEST(storage_local_check_replaced_index)
{
    struct drive *d = open_local(true);
    char from[4200], to[4200];

    snprintf(from, sizeof(from), "%s", bpath("%s", "index.db"));
    snprintf(to, sizeof(to), "%s", bpath("%s", "index.db.moved"));
    ASSERT_EQ(rename(from, to), 0);
    make_file(from);
    ASSERT_EQ(drive_check(d), -ERR_OFFLINE);
    ASSERT(!drive_is_online(d));
    drive_close(d);
}

/* Runs `sql` on the closed drive's index.db. */
static void
index_exec(const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;

    ASSERT_EQ(sqlite3_open(bpath("%s", "index.db"), &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        harness_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
    sqlite3_free(msg);
    sqlite3_close(db);
}

/* One integer from `sql` on index.db (the drive may be open: WAL). */
static int64_t
index_int(const char *sql)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db;
    int64_t v = -1;

    ASSERT_EQ(sqlite3_open(bpath("%s", "index.db"), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/*
 * Turns the closed drive's index into the layout before `recs` (the record
 * in a `rec` column of `objects`), without the `reduced` column if asked (the
 * layout before storage classes).
 */
static void
index_make_old_layout(bool with_reduced)
{
    index_exec("BEGIN;"
               "CREATE TABLE old(bucket TEXT, key BLOB, vid TEXT, size INTEGER, mtime_ns INTEGER,"
               " etag TEXT, rec BLOB, reduced INTEGER NOT NULL DEFAULT 0,"
               " PRIMARY KEY(bucket, key)) WITHOUT ROWID;"
               "INSERT INTO old SELECT o.bucket, o.key, o.vid, o.size, o.mtime_ns, o.etag, r.rec,"
               " o.reduced FROM objects o JOIN recs r ON r.id = o.rec_id;"
               "DROP TABLE objects; DROP TABLE recs;"
               "ALTER TABLE old RENAME TO objects;"
               "CREATE INDEX objects_vid ON objects(vid);"
               "COMMIT");
    if (!with_reduced)
        index_exec("ALTER TABLE objects DROP COLUMN reduced");
    ASSERT_EQ(index_int("SELECT count(*) FROM pragma_table_info('objects') WHERE name = 'rec'"), 1);
}

/* Every object has its row of `recs` and no row of `recs` is left over. */
static void
expect_recs_match(int64_t objects)
{
    ASSERT_EQ(index_int("SELECT count(*) FROM objects"), objects);
    ASSERT_EQ(index_int("SELECT count(*) FROM recs"), objects);
    ASSERT_EQ(index_int("SELECT count(*) FROM objects o JOIN recs r ON r.id = o.rec_id"), objects);
}

/* An index made before the `reduced` column existed gets it at open, its rows as standard. */
TEST(storage_local_index_upgrade)
{
    struct drive *d = open_local(true);
    char vid[OBJMETA_VID_LEN + 1];
    struct buf b = BUF_INIT;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "old", "data", vid);
    drive_close(d);
    index_make_old_layout(false);
    d = open_local(true);
    ASSERT_OK(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, common_reduced_cb, &b));
    ASSERT_STREQ(b.ptr, "old:0|");
    common_put(d, "b", "new", "data", vid);
    buf_clear(&b);
    ASSERT_OK(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, common_reduced_cb, &b));
    ASSERT_STREQ(b.ptr, "new:0|old:0|");
    buf_release(&b);
    drive_close(d);
    ASSERT_EQ(index_int("SELECT count(*) FROM pragma_table_info('objects') WHERE name = 'rec'"), 0);
    expect_recs_match(2);
}

/*
 * An index of the layout before `recs` is converted at open: every record
 * reads back as it was written (each one its own, not a neighbour's), in
 * every bucket, and the converted index takes overwrites and deletes.
 */
TEST(storage_local_index_upgrade_moves_records)
{
    static const char *const keys[] = { "a", "b/1", "b/2", "c", "d" };
    char vids[2][5][OBJMETA_VID_LEN + 1], vid[OBJMETA_VID_LEN + 1];
    struct drive *d = open_local(true);
    struct obj_meta m;
    struct buf b = BUF_INIT;
    size_t i, j;

    ASSERT_OK(drive_bucket_make(d, "b1", 1));
    ASSERT_OK(drive_bucket_make(d, "b2", 1));
    for (i = 0; i < 5; i++) { /* written out of key order: the rows of `recs` are too */
        common_put(d, "b2", keys[4 - i], "x", vids[1][4 - i]);
        common_put(d, "b1", keys[i], "y", vids[0][i]);
    }
    drive_close(d);
    index_make_old_layout(true);
    d = open_local(true);
    for (j = 0; j < 2; j++) {
        for (i = 0; i < 5; i++) {
            ASSERT_OK(drive_meta_read(d, j ? "b2" : "b1", keys[i], &m));
            ASSERT_STREQ(m.vid, vids[j][i]);
            objmeta_release(&m);
        }
    }
    ASSERT_OK(drive_list(d, "b1", SLICE_NULL, SLICE_NULL, 0, common_list_cb, &b));
    ASSERT_STREQ(b.ptr, "a|b/1|b/2|c|d|");
    common_put(d, "b1", "c", "z", vid);
    ASSERT_OK(drive_meta_read(d, "b1", "c", &m));
    ASSERT_STREQ(m.vid, vid);
    objmeta_release(&m);
    ASSERT_OK(drive_meta_delete(d, "b2", "a", NULL));
    ASSERT_EQ(drive_meta_read(d, "b2", "a", &m), -ERR_NOT_FOUND);
    buf_release(&b);
    drive_close(d);
    expect_recs_match(9);
}

/*
 * The rows of `recs` follow the objects: an overwrite reuses the key's row,
 * a delete and a bucket removed with its objects remove theirs, and a
 * failed request in a batch leaves none behind.
 */
TEST(storage_local_recs_follow_objects)
{
    struct drive *d = open_local(true);
    char vid[OBJMETA_VID_LEN + 1], vid2[OBJMETA_VID_LEN + 1];
    struct obj_meta m;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    ASSERT_OK(drive_bucket_make(d, "gone", 1));
    common_put(d, "b", "k1", "one", vid);
    common_put(d, "b", "k1", "two", vid2);
    common_put_inline(d, "b", "k2");
    common_put_inline(d, "b", "k2");
    common_put(d, "gone", "k", "three", vid);
    expect_recs_match(3);
    ASSERT_OK(drive_meta_read(d, "b", "k1", &m)); /* the overwrite's record */
    ASSERT_STREQ(m.vid, vid2);
    ASSERT_EQ(m.size, 3);
    objmeta_release(&m);
    ASSERT_OK(drive_meta_delete(d, "b", "k1", NULL));
    expect_recs_match(2);
    ASSERT_OK(drive_bucket_delete(d, "gone", true));
    expect_recs_match(1);
    common_meta(&m, vid, 3); /* a commit into a bucket that does not exist fails */
    ASSERT_EQ(drive_meta_commit(d, "nobucket", "k", &m), -ERR_NOT_FOUND);
    objmeta_release(&m);
    expect_recs_match(1);
    drive_close(d);
}

/*
 * Only versions with a data folder are in the orphan scan's index
 * (objects_data): inline records stay out of it. An index of before
 * `has_data` (the full objects_vid index) gets the column at open, its rows
 * counted as having data, and the orphan scan still keeps what a record
 * names and removes what none does.
 */
TEST(storage_local_index_has_data)
{
    struct drive *d = open_local(true);
    char vid[OBJMETA_VID_LEN + 1], orphan[OBJMETA_VID_LEN + 1];

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "big", "data", vid);
    common_put_inline(d, "b", "small");
    drive_close(d);
    ASSERT_EQ(index_int("SELECT count(*) FROM objects WHERE has_data = 1"), 1);
    ASSERT_EQ(index_int("SELECT count(*) FROM objects WHERE has_data = 0"), 1);
    ASSERT_EQ(index_int("SELECT count(*) FROM sqlite_master WHERE name = 'objects_data'"), 1);
    ASSERT_EQ(index_int("SELECT count(*) FROM sqlite_master WHERE name = 'objects_vid'"), 0);
    /* back to the layout of before: no has_data, the full index */
    index_exec("DROP INDEX objects_data; ALTER TABLE objects DROP COLUMN has_data;"
               "CREATE INDEX objects_vid ON objects(vid)");
    objmeta_new_vid(orphan);
    ASSERT_EQ(mkdir(bpath("data/%s", orphan), 0755), 0);
    make_file(bpath("data/%s/part.1", orphan));
    d = open_local(true);
    ASSERT(!exists(bpath("data/%s", orphan)));
    ASSERT(exists(bpath("data/%s/part.1", vid)));
    common_expect_list(d, SLICE_NULL, SLICE_NULL, 0, "big|small|");
    common_put_inline(d, "b", "small"); /* rewritten: out of the index */
    drive_close(d);
    ASSERT_EQ(index_int("SELECT count(*) FROM objects WHERE has_data = 1"), 1);
    ASSERT_EQ(index_int("SELECT count(*) FROM sqlite_master WHERE name = 'objects_data'"), 1);
    ASSERT_EQ(index_int("SELECT count(*) FROM sqlite_master WHERE name = 'objects_vid'"), 0);
    d = open_local(true); /* opens again as it is: the scan keeps the data folder */
    ASSERT(exists(bpath("data/%s/part.1", vid)));
    drive_close(d);
}

/* The journal survives the drive being closed and opened again (it is what a restart keeps). */
TEST(storage_local_journal_survives_reopen)
{
    struct drive *d = open_local(true);
    const struct slice item = SLICE_LIT("bucket\0key");
    struct buf got = BUF_INIT;

    ASSERT_OK(drive_journal_update(d, "heal", &item, 1, NULL, 0));
    drive_close(d);
    d = open_local(true);
    ASSERT_OK(drive_journal_list(d, "heal", SLICE_NULL, 0, common_journal_cb, &got));
    ASSERT_STREQ(got.ptr, "bucket/key|");
    buf_release(&got);
    drive_close(d);
}

/*
 * The drive's folder removed under it (its disk gone): a commit is refused
 * and the drive goes offline, rather than being acknowledged into an index
 * file that no longer exists anywhere.
 */
TEST(storage_local_commit_refused_when_the_folder_is_gone)
{
    struct drive *d = open_local(true);
    char cmd[4200];

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put_inline(d, "b", "before");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/.basalt'", harness_tmpdir());
    ASSERT_EQ(system(cmd), 0);
    {
        struct obj_meta m;
        char vid[OBJMETA_VID_LEN + 1];

        objmeta_new_vid(vid);
        common_meta(&m, vid, 3);
        m.is_inline = true;
        buf_add(&m.inline_data, "abc", 3);
        ASSERT_EQ(drive_meta_commit(d, "b", "after", &m), -ERR_OFFLINE);
        objmeta_release(&m);
    }
    ASSERT(!drive_is_online(d));
    drive_close(d);
}

/*
 * A batch of deletes is one index transaction (one fsync), whatever its
 * size, and the data of the removed versions reaches trash/ and is emptied.
 */
TEST(storage_local_meta_delete_many_is_one_transaction)
{
    struct drive *d = open_local(true);
    enum { N = 300 };
    const char *keys[N];
    char names[N][16], vids[N][OBJMETA_VID_LEN + 1];
    struct obj_meta got;
    uint64_t before;
    int rcs[N];
    size_t i;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    for (i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "key-%03zu", i);
        keys[i] = names[i];
        if (i % 10 == 0)
            common_put(d, "b", names[i], "data", vids[i]); /* shard files */
        else
            common_put_inline(d, "b", names[i]);
    }
    before = drive_local__ntxn(d);
    ASSERT_OK(drive_meta_delete_many(d, "b", keys, N, rcs));
    ASSERT_EQ(drive_local__ntxn(d) - before, 1);
    objmeta_init(&got);
    for (i = 0; i < N; i++) {
        ASSERT_EQ(rcs[i], 0);
        ASSERT_EQ(drive_meta_read(d, "b", names[i], &got), -ERR_NOT_FOUND);
        if (i % 10 == 0) {
            ASSERT(!exists(bpath("data/%s", vids[i])));
            ASSERT(trash_emptied(vids[i]));
        }
    }
    objmeta_release(&got);
    /* the same keys again: one more transaction, each not found */
    ASSERT_OK(drive_meta_delete_many(d, "b", keys, N, rcs));
    ASSERT_EQ(drive_local__ntxn(d) - before, 2);
    for (i = 0; i < N; i++)
        ASSERT_EQ(rcs[i], -ERR_NOT_FOUND);
    /* an offline drive: the whole call and every key */
    drive_set_offline(d, -ERR_IO);
    ASSERT_EQ(drive_meta_delete_many(d, "b", keys, 2, rcs), -ERR_OFFLINE);
    ASSERT_EQ(rcs[0], -ERR_OFFLINE);
    ASSERT_EQ(rcs[1], -ERR_OFFLINE);
    drive_close(d);
}

/* Writers meanwhile (single deletes, commits) wait their turn: every result is right. */
struct many_writer {
    struct drive *d;
    unsigned id;
};

static void *
many_writer_main(void *arg)
{
    struct many_writer *w = arg;
    char key[32], vid[OBJMETA_VID_LEN + 1];
    unsigned i;

    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "w%u-%u", w->id, i);
        common_put(w->d, "b", key, "x", vid);
        ASSERT_OK(drive_meta_delete(w->d, "b", key, NULL));
    }
    return NULL;
}

TEST(storage_local_meta_delete_many_beside_writers)
{
    struct drive *d = open_local(true);
    struct many_writer w[2] = { { d, 0 }, { d, 1 } };
    pthread_t t[2];
    const char *keys[64];
    char names[64][16];
    int rcs[64];
    size_t i, round;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    for (i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, many_writer_main, &w[i]), 0);
    for (round = 0; round < 10; round++) {
        for (i = 0; i < 64; i++) {
            snprintf(names[i], sizeof(names[i]), "m%zu-%zu", round, i);
            keys[i] = names[i];
            if (i % 2 == 0)
                common_put_inline(d, "b", names[i]);
        }
        ASSERT_OK(drive_meta_delete_many(d, "b", keys, 64, rcs));
        for (i = 0; i < 64; i++)
            ASSERT_EQ(rcs[i], i % 2 == 0 ? 0 : -ERR_NOT_FOUND);
    }
    for (i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    drive_close(d);
}
