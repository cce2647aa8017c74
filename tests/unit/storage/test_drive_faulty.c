/* tests/unit/storage/test_drive_faulty.c: the fault-injecting drive, and the ops table check. */
#include "util/base.h"

#include <sys/wait.h>
#include <unistd.h>

#include "drive_common.h"
#include "harness.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"
#include "storage/internal.h"

static struct drive *
faulty_mem(void)
{
    struct drive *d = drive_faulty_new(drive_mem_new("mem:f"));

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    return d;
}

TEST(storage_faulty_passthrough)
{
    struct drive *d = drive_faulty_new(drive_mem_new("mem:p"));

    ASSERT_STREQ(drive_endpoint(d), "mem:p");
    common_shards_and_commit(d);
    ASSERT_OK(drive_bucket_delete(d, "b", true));
    common_listing(d);
    drive_close(d);
}

TEST(storage_faulty_fail_after)
{
    struct drive *d = faulty_mem();
    struct obj_meta m;

    common_put_inline(d, "b", "k");
    objmeta_init(&m);
    drive_faulty_fail_after(d, DRIVE_FAULTY_OP_META_READ | DRIVE_FAULTY_OP_LIST, 3, -ERR_IO);
    ASSERT_OK(drive_meta_read(d, "b", "k", &m));
    ASSERT_OK(drive_meta_read(d, "b", "k", &m));
    ASSERT_EQ(drive_meta_read(d, "b", "k", &m), -ERR_IO);
    ASSERT_EQ(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, common_list_cb, NULL), -ERR_IO);
    common_put_inline(d, "b", "k2"); /* other ops unaffected */
    ASSERT(drive_is_online(d));
    drive_faulty_fail_after(d, 0, 0, 0);
    ASSERT_OK(drive_meta_read(d, "b", "k", &m));
    objmeta_release(&m);
    drive_close(d);
}

TEST(storage_faulty_flip_and_short_read)
{
    struct drive *d = faulty_mem();
    char vid[OBJMETA_VID_LEN + 1], rd[16];

    common_put(d, "b", "k", "0123456789", vid);
    drive_faulty_flip_bits_on_read(d, true);
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, rd, sizeof(rd)), 10);
    ASSERT(memcmp(rd, "0123456789", 10) != 0);
    ASSERT_EQ(rd[5], '5' ^ 1);
    ASSERT_MEMEQ(rd, "01234", 5);
    drive_faulty_flip_bits_on_read(d, false);
    drive_faulty_short_io(d, true);
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, rd, sizeof(rd)), 5);
    ASSERT_MEMEQ(rd, "01234", 5);
    drive_close(d);
}

TEST(storage_faulty_short_write_is_sticky)
{
    struct drive *d = faulty_mem();
    struct shard_writer *w = NULL;
    char vid[OBJMETA_VID_LEN + 1];

    objmeta_new_vid(vid);
    drive_faulty_short_io(d, true);
    ASSERT_OK(drive_shard_create(d, vid, 1, &w));
    ASSERT_EQ(drive_shard_append(w, "abcd", 4), -ERR_IO);
    drive_faulty_short_io(d, false);
    ASSERT_EQ(drive_shard_append(w, "abcd", 4), -ERR_IO); /* failed writer stays failed */
    ASSERT(drive_shard_finish(w) < 0);
    drive_close(d);
}

TEST(storage_faulty_enospc)
{
    struct drive *d = faulty_mem();
    struct shard_writer *w = NULL;
    char vid[OBJMETA_VID_LEN + 1];
    struct obj_meta m;

    objmeta_new_vid(vid);
    drive_faulty_enospc(d, true);
    ASSERT_OK(drive_shard_create(d, vid, 1, &w));
    ASSERT_EQ(drive_shard_append(w, "abcd", 4), -ERR_NO_SPACE);
    drive_shard_abort(w);
    common_meta(&m, vid, 0);
    m.is_inline = true;
    ASSERT_EQ(drive_meta_commit(d, "b", "k", &m), -ERR_NO_SPACE);
    ASSERT(drive_is_online(d));
    drive_faulty_enospc(d, false);
    ASSERT_OK(drive_meta_commit(d, "b", "k", &m));
    objmeta_release(&m);
    drive_close(d);
}

TEST(storage_faulty_fail_fsync_goes_offline)
{
    struct drive *d = faulty_mem();
    struct shard_writer *w = NULL;
    char vid[OBJMETA_VID_LEN + 1];
    int64_t ns;

    objmeta_new_vid(vid);
    drive_faulty_fail_fsync(d, true);
    ASSERT_OK(drive_shard_create(d, vid, 1, &w));
    ASSERT_OK(drive_shard_append(w, "abcd", 4));
    ASSERT_EQ(drive_shard_finish(w), -ERR_IO);
    ASSERT(!drive_is_online(d));
    ASSERT_EQ(drive_bucket_stat(d, "b", &ns), -ERR_OFFLINE);
    ASSERT_EQ(drive_shard_create(d, vid, 1, &w), -ERR_OFFLINE);
    ASSERT_EQ(drive_check(d), -ERR_OFFLINE);
    ASSERT_OK(drive_reset(d));
    ASSERT(drive_is_online(d));
    ASSERT_OK(drive_check(d));
    common_write_shard(d, vid, "again"); /* reset cleared the fault */
    drive_close(d);
}

TEST(storage_faulty_go_offline)
{
    struct drive *d = faulty_mem();
    struct bucket_ent *ents;
    struct obj_meta m;
    struct buf b = BUF_INIT;
    size_t n;
    char rd[4];

    drive_faulty_go_offline(d);
    objmeta_init(&m);
    ASSERT_EQ(drive_format_read(d, &b), -ERR_OFFLINE);
    ASSERT_EQ(drive_format_write(d, SLICE_LIT("{}")), -ERR_OFFLINE);
    ASSERT_EQ(drive_bucket_make(d, "c", 1), -ERR_OFFLINE);
    ASSERT_EQ(drive_bucket_delete(d, "b", true), -ERR_OFFLINE);
    ASSERT_EQ(drive_bucket_list(d, &ents, &n), -ERR_OFFLINE);
    ASSERT_EQ(drive_meta_read(d, "b", "k", &m), -ERR_OFFLINE);
    ASSERT_EQ(drive_meta_delete(d, "b", "k", NULL), -ERR_OFFLINE);
    ASSERT_EQ(drive_shard_read(d, "0123456789abcdef0123456789abcdef", 1, 0, rd, 4), -ERR_OFFLINE);
    ASSERT_EQ(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, common_list_cb, NULL), -ERR_OFFLINE);
    ASSERT_EQ(drive_check(d), -ERR_OFFLINE);
    buf_release(&b);
    drive_close(d);
}

TEST(storage_faulty_over_local)
{
    struct drive_local_opts opts = { .sync = false };
    struct drive *inner = NULL, *d;
    struct buf err = BUF_INIT;
    char vid[OBJMETA_VID_LEN + 1], rd[8];

    ASSERT_OK(drive_local_open(harness_tmpdir(), &opts, &inner, &err));
    d = drive_faulty_new(inner);
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "abc", vid);
    drive_faulty_fail_after(d, DRIVE_FAULTY_OP_SHARD_READ, 1, -ERR_CORRUPT);
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, rd, sizeof(rd)), -ERR_CORRUPT);
    ASSERT_EQ(drive_shard_read(inner, vid, 1, 0, rd, sizeof(rd)), 3);
    buf_release(&err);
    drive_close(d);
}

TEST(storage_drive_register_check_bugs_on_missing_op)
{
    static const struct drive_ops incomplete = { .name = "incomplete" };
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(2); /* the BUG() message is expected */
        drive__register_check(&incomplete);
        _exit(0);
    }
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
}
