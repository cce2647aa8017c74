/*
 * tests/unit/object/test_delete_many.c: objlayer_delete_many() (DeleteObjects)
 * over in-memory drives: each key answers what objlayer_delete_if() would,
 * absent keys, conditions that hold or not, delete quorum with drives
 * offline, keys spread over several sets, keys given twice, and batches
 * running against each other without waiting on each other's locks.
 */
#include "util/base.h"

#include <pthread.h>

#include "harness.h"
#include "object_test.h"
#include "object/objlayer.h"
#include "storage/drive.h"
#include "util/clock.h"

static void
make_keys(char (*names)[32], const char **keys, size_t n, const char *prefix)
{
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "%s%03zu", prefix, i);
        keys[i] = names[i];
    }
}

static void
put_keys(struct objlayer *ol, const char **keys, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        ASSERT_OK(object_test_put(ol, keys[i], keys[i], strlen(keys[i]), SLICE_NULL));
}

static int
head(struct objlayer *ol, const char *key)
{
    struct obj_info info;
    int rc;

    obj_info_init(&info);
    rc = objlayer_head(ol, NULL, "b", key, &info);
    obj_info_release(&info);
    return rc;
}

/* Records of `key` on the drives: how many hold one. */
static unsigned
holders(struct drive **drives, unsigned n, const char *key)
{
    struct obj_meta m;
    unsigned j, c = 0;

    for (j = 0; j < n; j++) {
        objmeta_init(&m);
        c += drive_meta_read(drives[j], "b", key, &m) == 0;
        objmeta_release(&m);
    }
    return c;
}

TEST(object_delete_many_deletes_each_key)
{
    enum { N = 200 };
    struct objlayer *ol;
    struct drive *drives[4];
    char names[N][32];
    const char *keys[N + 1];
    int rcs[N + 1];
    size_t i;

    object_test_open_mem(&ol, drives, 4);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    make_keys(names, keys, N, "k");
    put_keys(ol, keys, N);
    ASSERT_OK(object_test_put(ol, "other", "x", 1, SLICE_NULL));
    keys[N] = "absent";
    for (i = 0; i <= N; i++)
        rcs[i] = 1;
    ASSERT_OK(objlayer_delete_many(ol, NULL, "b", keys, NULL, N + 1, rcs));
    for (i = 0; i < N; i++) {
        ASSERT_EQ(rcs[i], 0);
        ASSERT_EQ(head(ol, keys[i]), -ERR_KEY_NOT_FOUND);
        ASSERT_EQ(holders(drives, 4, keys[i]), 0);
    }
    ASSERT_EQ(rcs[N], -ERR_KEY_NOT_FOUND);
    ASSERT_OK(head(ol, "other"));
    /* an empty batch, and a missing bucket (every key) */
    ASSERT_OK(objlayer_delete_many(ol, NULL, "b", keys, NULL, 0, rcs));
    ASSERT_EQ(objlayer_delete_many(ol, NULL, "nope", keys, NULL, 2, rcs), -ERR_BUCKET_NOT_FOUND);
    ASSERT_EQ(rcs[0], -ERR_BUCKET_NOT_FOUND);
    ASSERT_EQ(rcs[1], -ERR_BUCKET_NOT_FOUND);
    objlayer_close(ol);
}

TEST(object_delete_many_conditions)
{
    struct obj_cond other = { .if_match = SLICE_LIT("\"0123\"") },
                    any = { .if_match = SLICE_LIT("*") };
    struct obj_cond mine = { 0 };
    const char *keys[] = { "match", "mismatch", "gone", "plain", "absent" };
    const struct obj_cond *conds[] = { &mine, &other, &any, NULL, NULL };
    struct objlayer *ol;
    struct drive *drives[4];
    char md5[33];
    int rcs[5];

    object_test_open_mem(&ol, drives, 4);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, "match", "abc", 3, SLICE_NULL));
    ASSERT_OK(object_test_put(ol, "mismatch", "abc", 3, SLICE_NULL));
    ASSERT_OK(object_test_put(ol, "plain", "abc", 3, SLICE_NULL));
    object_test_md5_hex("abc", 3, md5);
    mine.if_match = slice_cstr(md5);
    ASSERT_OK(objlayer_delete_many(ol, NULL, "b", keys, conds, 5, rcs));
    ASSERT_EQ(rcs[0], 0);
    ASSERT_EQ(rcs[1], -ERR_PRECONDITION_FAILED);
    ASSERT_EQ(rcs[2], -ERR_KEY_NOT_FOUND); /* If-Match on no current version */
    ASSERT_EQ(rcs[3], 0);
    ASSERT_EQ(rcs[4], -ERR_KEY_NOT_FOUND);
    ASSERT_EQ(head(ol, "match"), -ERR_KEY_NOT_FOUND);
    ASSERT_OK(head(ol, "mismatch")); /* not deleted */
    ASSERT_EQ(holders(drives, 4, "mismatch"), 4);
    ASSERT_EQ(head(ol, "plain"), -ERR_KEY_NOT_FOUND);
    objlayer_close(ol);
}

/* Delete quorum per key (3 of 4): one drive offline meets it, two do not. */
TEST(object_delete_many_quorum)
{
    enum { N = 20 };
    struct objlayer *ol;
    struct drive *drives[4];
    char names[N][32];
    const char *keys[N + 1];
    int rcs[N + 1];
    size_t i;

    object_test_open_mem(&ol, drives, 4);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    make_keys(names, keys, N, "q");
    put_keys(ol, keys, N);
    keys[N] = "absent";
    drive_set_offline(drives[3], -ERR_IO);
    ASSERT_OK(objlayer_delete_many(ol, NULL, "b", keys, NULL, N / 2, rcs));
    for (i = 0; i < N / 2; i++) {
        ASSERT_EQ(rcs[i], 0);
        ASSERT_EQ(holders(drives, 3, keys[i]), 0);
        ASSERT_EQ(head(ol, keys[i]), -ERR_KEY_NOT_FOUND);
    }
    drive_set_offline(drives[2], -ERR_IO);
    ASSERT_OK(objlayer_delete_many(ol, NULL, "b", keys + N / 2, NULL, N / 2 + 1, rcs));
    for (i = 0; i <= N / 2; i++)
        ASSERT_EQ(rcs[i], -ERR_QUORUM); /* an absent key too: two answers cannot tell */
    objlayer_close(ol);
}

/* Keys of several sets (8 drives in two sets of 4): each set deletes its own. */
TEST(object_delete_many_several_sets)
{
    enum { N = 64 };
    struct objlayer_config cfg = { .ndrives = 8, .sync = true, .set_size = 4 };
    struct drive *drives[8];
    struct objlayer *ol;
    struct buf err = BUF_INIT, d = BUF_INIT;
    char names[N][32];
    const char *keys[N];
    unsigned in_first = 0, in_second = 0, j;
    int rcs[N];
    size_t i;

    for (j = 0; j < 8; j++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", j);
        drives[j] = drive_mem_new(name);
    }
    cfg.prebuilt = drives;
    if (objlayer_open(&cfg, &ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
    objlayer_describe(ol, &d);
    ASSERT_STREQ(d.ptr, "2 sets of 4 drives, EC 2+2");
    buf_release(&d);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    make_keys(names, keys, N, "s");
    put_keys(ol, keys, N);
    for (i = 0; i < N; i++) {
        in_first += holders(drives, 4, keys[i]) > 0;
        in_second += holders(drives + 4, 4, keys[i]) > 0;
    }
    ASSERT(in_first > 0 && in_second > 0 && in_first + in_second == N);
    ASSERT_OK(objlayer_delete_many(ol, NULL, "b", keys, NULL, N, rcs));
    for (i = 0; i < N; i++) {
        ASSERT_EQ(rcs[i], 0);
        ASSERT_EQ(holders(drives, 8, keys[i]), 0);
    }
    objlayer_close(ol);
}

/* A key given twice acts as two deletes in request order. */
TEST(object_delete_many_duplicate_keys)
{
    struct obj_cond other = { .if_match = SLICE_LIT("\"0123\"") },
                    any = { .if_match = SLICE_LIT("*") };
    const char *keys[] = { "b1", "a", "b1", "a", "x", "b1", "x", "c", "c" };
    const struct obj_cond *conds[] = { &other, NULL, &any, NULL, NULL, NULL, NULL, NULL, &any };
    int want[] = { -ERR_PRECONDITION_FAILED,
                   0,
                   0,
                   -ERR_KEY_NOT_FOUND,
                   -ERR_KEY_NOT_FOUND,
                   -ERR_KEY_NOT_FOUND,
                   -ERR_KEY_NOT_FOUND,
                   0,
                   -ERR_KEY_NOT_FOUND };
    struct objlayer *ol;
    struct drive *drives[4];
    int rcs[9];
    size_t i;

    object_test_open_mem(&ol, drives, 4);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, "a", "a", 1, SLICE_NULL));
    ASSERT_OK(object_test_put(ol, "b1", "b", 1, SLICE_NULL));
    ASSERT_OK(object_test_put(ol, "c", "c", 1, SLICE_NULL));
    ASSERT_OK(objlayer_delete_many(ol, NULL, "b", keys, conds, 9, rcs));
    for (i = 0; i < 9; i++)
        if (rcs[i] != want[i])
            harness_fail(__FILE__, __LINE__, "key %zu (%s): %s, want %s", i, keys[i],
                         err_name(rcs[i]), err_name(want[i]));
    ASSERT_EQ(head(ol, "a"), -ERR_KEY_NOT_FOUND);
    ASSERT_EQ(head(ol, "b1"), -ERR_KEY_NOT_FOUND);
    ASSERT_EQ(head(ol, "c"), -ERR_KEY_NOT_FOUND);
    objlayer_close(ol);
}

/*
 * Batches of the same keys in opposite orders, and single deletes and PUTs
 * of them, at once: the locks are taken in key order, so none waits on
 * another in a cycle (that would end in -ERR_BUSY at the lock deadline).
 */
enum { RACE_KEYS = 40, RACE_ROUNDS = 15 };

struct racer {
    struct objlayer *ol;
    const char **keys;
    bool reverse;
    int bad; /* an answer other than deleted / not found */
};

static void *
racer_main(void *arg)
{
    struct racer *r = arg;
    const char *mine[RACE_KEYS];
    int rcs[RACE_KEYS];
    unsigned round, i;

    for (i = 0; i < RACE_KEYS; i++)
        mine[i] = r->keys[r->reverse ? RACE_KEYS - 1 - i : i];
    for (round = 0; round < RACE_ROUNDS; round++) {
        if (objlayer_delete_many(r->ol, NULL, "b", mine, NULL, RACE_KEYS, rcs) < 0)
            r->bad = -ERR_IO;
        for (i = 0; i < RACE_KEYS; i++)
            if (rcs[i] != 0 && rcs[i] != -ERR_KEY_NOT_FOUND)
                r->bad = rcs[i];
        for (i = 0; i < RACE_KEYS; i += 7) {
            int rc = object_test_put(r->ol, mine[i], "v", 1, SLICE_NULL);

            if (rc < 0)
                r->bad = rc;
            rc = objlayer_delete(r->ol, NULL, "b", mine[(i + 3) % RACE_KEYS]);
            if (rc < 0 && rc != -ERR_KEY_NOT_FOUND)
                r->bad = rc;
        }
    }
    return NULL;
}

TEST(object_delete_many_batches_do_not_deadlock)
{
    struct objlayer *ol;
    struct drive *drives[4];
    char names[RACE_KEYS][32];
    const char *keys[RACE_KEYS];
    struct racer r[3];
    pthread_t t[3];
    int64_t t0 = clock_mono_ns();
    unsigned i;

    object_test_open_mem(&ol, drives, 4);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    make_keys(names, keys, RACE_KEYS, "r");
    put_keys(ol, keys, RACE_KEYS);
    for (i = 0; i < 3; i++) {
        r[i] = (struct racer){ .ol = ol, .keys = keys, .reverse = i == 1 };
        ASSERT_EQ(pthread_create(&t[i], NULL, racer_main, &r[i]), 0);
    }
    for (i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        if (r[i].bad)
            harness_fail(__FILE__, __LINE__, "racer %u: %s", i, err_name(r[i].bad));
    }
    ASSERT(clock_mono_ns() - t0 < 8 * 1000000000LL); /* below the 10 s lock deadline */
    objlayer_close(ol);
}
