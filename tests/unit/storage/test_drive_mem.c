/* tests/unit/storage/test_drive_mem.c: the in-memory drive against the shared drive semantics. */
#include "util/base.h"

#include <pthread.h>

#include "drive_common.h"
#include "harness.h"
#include "storage/drive.h"

#define MEM_TEST(name)                                                                             \
    TEST(storage_mem_##name)                                                                       \
    {                                                                                              \
        struct drive *d = drive_mem_new("mem:a");                                                  \
                                                                                                   \
        common_##name(d);                                                                          \
        drive_close(d);                                                                            \
    }

MEM_TEST(buckets)
MEM_TEST(format)
MEM_TEST(shards_and_commit)
MEM_TEST(abort_and_tmp_remove)
MEM_TEST(inline)
MEM_TEST(meta_delete)
MEM_TEST(meta_delete_many)
MEM_TEST(replace)
MEM_TEST(listing)
MEM_TEST(shard_link)
MEM_TEST(reduced_listed)
MEM_TEST(journal)

TEST(storage_mem_info_offline_reset)
{
    struct drive *d = drive_mem_new("mem:b");
    struct drive_info info;
    int64_t ns;

    ASSERT_STREQ(drive_endpoint(d), "mem:b");
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    ASSERT_OK(drive_info(d, &info));
    ASSERT(info.online);
    ASSERT(info.total_bytes > 0);
    ASSERT_OK(drive_check(d));
    drive_set_offline(d, -ERR_IO);
    drive_set_offline(d, -ERR_IO); /* logs once; still offline */
    ASSERT(!drive_is_online(d));
    ASSERT_EQ(drive_bucket_stat(d, "b", &ns), -ERR_OFFLINE);
    ASSERT_EQ(drive_check(d), -ERR_OFFLINE);
    ASSERT_OK(drive_reset(d));
    ASSERT(drive_is_online(d));
    ASSERT_EQ(drive_bucket_stat(d, "b", &ns), -ERR_NOT_FOUND);
    drive_close(d);
}

struct mem_thread {
    struct drive *d;
    int id;
};

static void *
mem_writer_main(void *arg)
{
    struct mem_thread *t = arg;
    char key[32];
    int i;

    for (i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "t%d/k%03d", t->id, i);
        common_put_inline(t->d, "b", key);
    }
    return NULL;
}

static int
count_cb(void *arg, const struct drive_list_ent *ent)
{
    (*(unsigned *)arg)++;
    return 0;
}

TEST(storage_mem_concurrent)
{
    struct drive *d = drive_mem_new("mem:c");
    struct mem_thread t[4];
    pthread_t th[4];
    unsigned n = 0;
    int i;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    for (i = 0; i < 4; i++) {
        t[i] = (struct mem_thread){ d, i };
        ASSERT_EQ(pthread_create(&th[i], NULL, mem_writer_main, &t[i]), 0);
    }
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ASSERT_OK(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, count_cb, &n));
    ASSERT_EQ(n, 400);
    drive_close(d);
}
