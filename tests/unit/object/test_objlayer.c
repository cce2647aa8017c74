/*
 * tests/unit/object/test_objlayer.c: the object layer over in-memory drives:
 * round trips of every size class, quorum and loss rules, bitrot on read,
 * healing, listings, and bodies that are short or fail their Content-MD5.
 */
#include "util/base.h"

#include <pthread.h>

#include "harness.h"
#include "object_test.h"
#include "object/objlayer.h"
#include "cluster/lock.h"
#include "storage/drive.h"
#include "util/clock.h"

#define NDRIVES 4

struct fixture {
    struct objlayer *ol;
    struct drive *drives[16];
};

/* An object layer over `n` in-memory drives (4: EC 2+2; 6: 3+3; 16: 12+4). */
static void
fixture_open_n(struct fixture *f, unsigned n)
{
    object_test_open_mem(&f->ol, f->drives, n);
}

static void
fixture_open(struct fixture *f)
{
    fixture_open_n(f, NDRIVES);
}

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
    size_t i;
    uint32_t x = seed * 2654435761u + 1;

    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

/*
 * PUTs `n` bytes in pieces of `piece`, the length told up front or (with
 * `unknown`) not, as for a POST upload; returns the rc of finish.
 */
static int
put_as(struct objlayer *ol, const char *bucket, const char *key, const uint8_t *data, size_t n,
       size_t piece, bool unknown)
{
    struct obj_put_opts opts = { .size = unknown ? -1 : (int64_t)n,
                                 .headers = SLICE_LIT("content-type\0text/x\0") };
    struct obj_put *p;
    size_t off;
    int rc = objlayer_put_begin(ol, NULL, bucket, key, &opts, &p);

    if (rc < 0)
        return rc;
    for (off = 0; off < n; off += piece) {
        rc = obj_put_write(p, data + off, MIN(piece, n - off));
        if (rc < 0) {
            obj_put_abort(p);
            return rc;
        }
    }
    return obj_put_finish(p, NULL);
}

static int
put(struct objlayer *ol, const char *bucket, const char *key, const uint8_t *data, size_t n,
    size_t piece)
{
    return put_as(ol, bucket, key, data, n, piece, false);
}

/* GETs the whole object; returns a malloc'd copy and its size in *n, or NULL. */
static uint8_t *
get(struct objlayer *ol, const char *bucket, const char *key, size_t *n, int *rcp)
{
    struct obj_info info;
    struct obj_get *g;
    uint8_t *buf;
    ssize_t got;
    int rc;

    obj_info_init(&info);
    rc = objlayer_get_open(ol, NULL, bucket, key, &g, &info);
    *rcp = rc;
    if (rc < 0) {
        obj_info_release(&info);
        return NULL;
    }
    buf = xmalloc(info.size + 1);
    got = obj_get_read(g, 0, buf, info.size);
    obj_get_close(g);
    *rcp = got < 0 ? (int)got : 0;
    *n = got < 0 ? 0 : (size_t)got;
    if (got < 0 || (uint64_t)got != info.size) {
        free(buf);
        buf = NULL;
    }
    obj_info_release(&info);
    return buf;
}

static void
assert_object(struct objlayer *ol, const char *bucket, const char *key, const uint8_t *want,
              size_t n)
{
    size_t got_n = 0;
    int rc;
    uint8_t *got = get(ol, bucket, key, &got_n, &rc);

    if (!got)
        harness_fail(__FILE__, __LINE__, "get %s/%s: %s", bucket, key, err_name(rc));
    ASSERT_EQ(got_n, n);
    ASSERT(n == 0 || memcmp(got, want, n) == 0);
    free(got);
}

TEST(object_open_describes_layout)
{
    struct fixture f;
    struct buf d = BUF_INIT;

    fixture_open(&f);
    objlayer_describe(f.ol, &d);
    ASSERT_STREQ(d.ptr, "1 set of 4 drives, EC 2+2");
    buf_release(&d);
    objlayer_close(f.ol);
}

TEST(object_buckets)
{
    struct fixture f;
    struct obj_bucket *l;
    size_t n;

    fixture_open(&f);
    ASSERT_EQ(objlayer_bucket_stat(f.ol, NULL, "b1", NULL), -ERR_BUCKET_NOT_FOUND);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b2"));
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b1"));
    ASSERT_EQ(objlayer_bucket_make(f.ol, NULL, "b1"), -ERR_BUCKET_EXISTS);
    ASSERT_OK(objlayer_bucket_list(f.ol, NULL, &l, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(l[0].name, "b1");
    ASSERT_STREQ(l[1].name, "b2");
    free(l);
    ASSERT_OK(put(f.ol, "b1", "k", (const uint8_t *)"x", 1, 1));
    ASSERT_EQ(objlayer_bucket_delete(f.ol, NULL, "b1"), -ERR_NOT_EMPTY);
    ASSERT_OK(objlayer_delete(f.ol, NULL, "b1", "k"));
    ASSERT_EQ(objlayer_delete(f.ol, NULL, "b1", "k"), -ERR_KEY_NOT_FOUND);
    ASSERT_OK(objlayer_bucket_delete(f.ol, NULL, "b1"));
    ASSERT_EQ(objlayer_bucket_delete(f.ol, NULL, "b1"), -ERR_BUCKET_NOT_FOUND);
    ASSERT_EQ(put(f.ol, "nope", "k", (const uint8_t *)"x", 1, 1), -ERR_BUCKET_NOT_FOUND);
    objlayer_close(f.ol);
}

TEST(object_delete_if_checks_the_current_version)
{
    struct obj_cond other = { .if_match = SLICE_LIT("\"0123\", 4567") };
    struct obj_cond mine = { 0 }, any = { .if_match = SLICE_LIT("*") };
    struct fixture f;
    char md5[33], quoted[48];

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    ASSERT_OK(put(f.ol, "b", "k", (const uint8_t *)"abc", 3, 3));
    object_test_md5_hex((const uint8_t *)"abc", 3, md5);
    /* the condition fails: its error, and the object stays */
    ASSERT_EQ(objlayer_delete_if(f.ol, NULL, "b", "k", &other), -ERR_PRECONDITION_FAILED);
    assert_object(f.ol, "b", "k", (const uint8_t *)"abc", 3);
    /* it holds (the ETag, quoted, among others): deleted */
    snprintf(quoted, sizeof(quoted), "\"x\" , \"%s\"", md5);
    mine.if_match = slice_cstr(quoted);
    ASSERT_OK(objlayer_delete_if(f.ol, NULL, "b", "k", &mine));
    ASSERT_EQ(objlayer_delete(f.ol, NULL, "b", "k"), -ERR_KEY_NOT_FOUND);
    /* no current version: If-Match answers NoSuchKey, even "*" */
    ASSERT_EQ(objlayer_delete_if(f.ol, NULL, "b", "k", &any), -ERR_KEY_NOT_FOUND);
    /* a missing bucket is found before any condition */
    ASSERT_EQ(objlayer_delete_if(f.ol, NULL, "nope", "k", &any), -ERR_BUCKET_NOT_FOUND);
    objlayer_close(f.ol);
}

TEST(object_cond_check_rules)
{
    struct obj_cond none_match = { .if_none_match = true };
    struct obj_cond bare = { .if_match = SLICE_LIT("abc") };
    struct obj_cond list = { .if_match = SLICE_LIT(" \"x\",\"abc\" ") };

    ASSERT_OK(obj_cond_check(NULL, "abc"));
    ASSERT_OK(obj_cond_check(&none_match, NULL));
    ASSERT_EQ(obj_cond_check(&none_match, "abc"), -ERR_PRECONDITION_FAILED);
    ASSERT_OK(obj_cond_check(&bare, "abc"));
    ASSERT_EQ(obj_cond_check(&bare, "abd"), -ERR_PRECONDITION_FAILED);
    ASSERT_EQ(obj_cond_check(&bare, NULL), -ERR_KEY_NOT_FOUND);
    ASSERT_OK(obj_cond_check(&list, "abc"));
    ASSERT_EQ(obj_cond_check(&list, "ab"), -ERR_PRECONDITION_FAILED);
}

TEST(object_roundtrip_sizes)
{
    static const size_t sizes[] = {
        0, 1, 4096, 128 * 1024, 128 * 1024 + 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 17
    };
    struct fixture f;
    size_t i;

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        uint8_t *data = xmalloc(sizes[i] + 1);
        char key[32], md5[33];
        struct obj_info info;
        struct obj_meta rec;

        fill(data, sizes[i], (unsigned)i);
        snprintf(key, sizeof(key), "obj-%zu", sizes[i]);
        ASSERT_OK(put(f.ol, "b", key, data, sizes[i], 65536 + 3));
        assert_object(f.ol, "b", key, data, sizes[i]);
        obj_info_init(&info);
        ASSERT_OK(objlayer_head(f.ol, NULL, "b", key, &info));
        object_test_md5_hex(data, sizes[i], md5);
        ASSERT_STREQ(info.etag, md5);
        ASSERT_EQ(info.size, sizes[i]);
        ASSERT_STREQ(obj_info_header(&info, "content-type"), "text/x");
        obj_info_release(&info);
        objmeta_init(&rec);
        object_test_record(f.drives[0], "b", key, &rec);
        ASSERT_EQ(rec.is_inline, sizes[i] <= 128 * 1024);
        objmeta_release(&rec);
        free(data);
    }
    objlayer_close(f.ol);
}

/*
 * Each block's bytes go straight into its shards, laid out for the block's
 * length when the body's is known, else for a whole block and laid out
 * again for a short last one: every size round-trips with its MD5 as ETag,
 * on sets whose k does (2) and does not (3, 12) divide a block.
 */
TEST(object_roundtrip_unknown_length_and_wide_sets)
{
    static const size_t sizes[] = { 1,
                                    5,
                                    128 * 1024 + 1,
                                    1024 * 1024 - 1,
                                    1024 * 1024,
                                    1024 * 1024 + 1,
                                    3 * 1024 * 1024 + 17,
                                    5 * 1024 * 1024 };
    static const unsigned nds[] = { 4, 6, 16 };
    unsigned d, i, unknown;

    for (d = 0; d < ARRAY_SIZE(nds); d++) {
        struct fixture f;

        fixture_open_n(&f, nds[d]);
        ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
        for (i = 0; i < ARRAY_SIZE(sizes); i++) {
            for (unknown = 0; unknown < 2; unknown++) {
                uint8_t *data = xmalloc(sizes[i]);
                char key[48], md5[33];
                struct obj_info info;

                fill(data, sizes[i], 7 * i + unknown + d);
                snprintf(key, sizeof(key), "o-%zu-%u", sizes[i], unknown);
                ASSERT_OK(put_as(f.ol, "b", key, data, sizes[i], 65536 + 3 + 1000 * i, unknown));
                assert_object(f.ol, "b", key, data, sizes[i]);
                obj_info_init(&info);
                ASSERT_OK(objlayer_head(f.ol, NULL, "b", key, &info));
                object_test_md5_hex(data, sizes[i], md5);
                ASSERT_STREQ(info.etag, md5);
                ASSERT_EQ(info.size, sizes[i]);
                obj_info_release(&info);
                free(data);
            }
        }
        objlayer_close(f.ol);
    }
}

/*
 * The shards of a short last block are padded with zeros, not with what the
 * reused shard buffer held: 3 MiB + 17 bytes on EC 2+2 end with a block of
 * 17, whose shard 1 holds 8 bytes and one byte of padding, in the buffer
 * the first block's 0xab bytes went through.
 */
TEST(object_short_last_block_is_padded_with_zeros)
{
    struct fixture f;
    size_t n = 3 * 1024 * 1024 + 17;
    uint8_t *data = xmalloc(n), b = 1;
    struct obj_info info;
    struct obj_meta rec;
    unsigned j;

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    memset(data, 0xab, n);
    ASSERT_OK(put(f.ol, "b", "k", data, n, 65536));
    obj_info_init(&info);
    ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &info));
    ASSERT_EQ(info.k, 2);
    objmeta_init(&rec);
    object_test_record(f.drives[0], "b", "k", &rec);
    for (j = 0; j < NDRIVES && rec.dist[j] != 1; j++)
        ;
    objmeta_release(&rec);
    ASSERT(j < NDRIVES);
    /* block 3 of shard 1: after three blocks of (hash, 512 KiB), its hash and 8 data bytes */
    ASSERT_EQ(drive_shard_read(f.drives[j], info.vid, 1, 3 * (16 + 512 * 1024) + 16 + 8, &b, 1), 1);
    ASSERT_EQ(b, 0);
    ASSERT_EQ(drive_shard_read(f.drives[j], info.vid, 1, 3 * (16 + 512 * 1024) + 16 + 7, &b, 1), 1);
    ASSERT_EQ(b, 0xab);
    obj_info_release(&info);
    free(data);
    objlayer_close(f.ol);
}

/*
 * An upload aborted after several blocks, with blocks' appends and MD5s in
 * flight, leaves no object and no jobs behind: the same key then uploads
 * and reads back (ASan: no buffer leaks or use after free).
 */
TEST(object_abort_midstream_then_put_again)
{
    struct fixture f;
    size_t n = 6 * 1024 * 1024 + 5, off, got;
    uint8_t *data = xmalloc(n);
    struct obj_put_opts opts = { .size = (int64_t)n };
    struct obj_put *p;
    int rc;

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    fill(data, n, 42);
    ASSERT_OK(objlayer_put_begin(f.ol, NULL, "b", "k", &opts, &p));
    for (off = 0; off < 5 * 1024 * 1024 + 3; off += 100003)
        ASSERT_OK(obj_put_write(p, data + off, 100003));
    obj_put_abort(p);
    ASSERT(get(f.ol, "b", "k", &got, &rc) == NULL);
    ASSERT_EQ(rc, -ERR_KEY_NOT_FOUND);
    ASSERT_OK(put(f.ol, "b", "k", data, n, 77777));
    assert_object(f.ol, "b", "k", data, n);
    free(data);
    objlayer_close(f.ol);
}

/*
 * PUTs at once, each MD5 (ETag) computed by the hashing worker in batches
 * of several PUTs (object__md5_batch): every ETag is its own object's MD5.
 */
#define CONCURRENT_PUTS 10

struct concurrent_put {
    struct objlayer *ol;
    unsigned i;
    uint8_t *data;
    size_t n;
    int rc;
};

static void *
concurrent_put_main(void *arg)
{
    struct concurrent_put *c = arg;
    char key[16];

    snprintf(key, sizeof(key), "c%u", c->i);
    c->rc = put(c->ol, "b", key, c->data, c->n, 100000 + c->i);
    return NULL;
}

TEST(object_concurrent_puts_each_get_their_md5)
{
    struct fixture f;
    struct concurrent_put c[CONCURRENT_PUTS];
    pthread_t t[CONCURRENT_PUTS];
    unsigned i;

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    for (i = 0; i < CONCURRENT_PUTS; i++) {
        c[i] = (struct concurrent_put){ .ol = f.ol, .i = i, .n = 4 * 1024 * 1024 + 4097 * i };
        c[i].data = xmalloc(c[i].n);
        fill(c[i].data, c[i].n, 100 + i);
        ASSERT_EQ(pthread_create(&t[i], NULL, concurrent_put_main, &c[i]), 0);
    }
    for (i = 0; i < CONCURRENT_PUTS; i++) {
        char key[16], md5[33];
        struct obj_info info;

        ASSERT_EQ(pthread_join(t[i], NULL), 0);
        ASSERT_OK(c[i].rc);
        snprintf(key, sizeof(key), "c%u", i);
        obj_info_init(&info);
        ASSERT_OK(objlayer_head(f.ol, NULL, "b", key, &info));
        object_test_md5_hex(c[i].data, c[i].n, md5);
        ASSERT_STREQ(info.etag, md5);
        obj_info_release(&info);
        assert_object(f.ol, "b", key, c[i].data, c[i].n);
        free(c[i].data);
    }
    objlayer_close(f.ol);
}

TEST(object_random_offsets)
{
    struct fixture f;
    size_t n = 2 * 1024 * 1024 + 999, i;
    uint8_t *data = xmalloc(n), out[5000];
    struct obj_info info;
    struct obj_get *g;

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    fill(data, n, 7);
    ASSERT_OK(put(f.ol, "b", "big", data, n, n));
    obj_info_init(&info);
    ASSERT_OK(objlayer_get_open(f.ol, NULL, "b", "big", &g, &info));
    for (i = 0; i < 200; i++) {
        uint64_t off = (i * 7919 * 131) % n;
        ssize_t got = obj_get_read(g, off, out, sizeof(out));

        ASSERT_EQ(got, (ssize_t)MIN(sizeof(out), n - off));
        ASSERT(memcmp(out, data + off, (size_t)got) == 0);
    }
    ASSERT_EQ(obj_get_read(g, n, out, 10), 0);
    obj_get_close(g);
    obj_info_release(&info);
    free(data);
    objlayer_close(f.ol);
}

TEST(object_bad_digest_and_short_body_leave_nothing)
{
    struct fixture f;
    struct obj_put_opts opts = { .size = 10 };
    uint8_t wrong[16] = { 0 };
    struct obj_put *p;
    size_t n;
    int rc;

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    opts.content_md5 = wrong;
    ASSERT_OK(objlayer_put_begin(f.ol, NULL, "b", "k", &opts, &p));
    ASSERT_OK(obj_put_write(p, "0123456789", 10));
    ASSERT_EQ(obj_put_finish(p, NULL), -ERR_BAD_DIGEST);
    opts.content_md5 = NULL;
    ASSERT_OK(objlayer_put_begin(f.ol, NULL, "b", "k", &opts, &p));
    ASSERT_OK(obj_put_write(p, "01234", 5));
    ASSERT_EQ(obj_put_finish(p, NULL), -ERR_INCOMPLETE_BODY);
    ASSERT(get(f.ol, "b", "k", &n, &rc) == NULL);
    ASSERT_EQ(rc, -ERR_KEY_NOT_FOUND);
    objlayer_close(f.ol);
}

struct collect {
    char keys[64][64];
    unsigned n;
};

static int
collect_cb(void *arg, const struct obj_list_ent *e)
{
    struct collect *c = arg;

    snprintf(c->keys[c->n++], 64, "%.*s", (int)e->key.len, e->key.ptr);
    return 0;
}

TEST(object_list_merges_in_byte_order)
{
    static const char *const keys[] = { "a", "a/", "a/b", "a/b/c", "ab", "b", "\xc3\xa9", " sp" };
    struct fixture f;
    struct collect c = { .n = 0 };
    size_t i;

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    for (i = 0; i < ARRAY_SIZE(keys); i++)
        ASSERT_OK(put(f.ol, "b", keys[i], (const uint8_t *)"v", 1, 1));
    ASSERT_OK(objlayer_list(f.ol, NULL, "b", SLICE_NULL, SLICE_NULL, 0, collect_cb, &c));
    ASSERT_EQ(c.n, ARRAY_SIZE(keys));
    ASSERT_STREQ(c.keys[0], " sp");
    ASSERT_STREQ(c.keys[1], "a");
    ASSERT_STREQ(c.keys[2], "a/");
    ASSERT_STREQ(c.keys[7], "\xc3\xa9");
    c.n = 0;
    ASSERT_OK(objlayer_list(f.ol, NULL, "b", SLICE_LIT("a/"), SLICE_LIT("a/"), 1, collect_cb, &c));
    ASSERT_EQ(c.n, 1);
    ASSERT_STREQ(c.keys[0], "a/b");
    objlayer_close(f.ol);
}

TEST(object_reads_survive_two_wiped_drives_and_heal_restores)
{
    struct fixture f;
    size_t sizes[] = { 4096, 3 * 1024 * 1024 + 5 }, i;
    uint8_t *data[2];
    struct heal_report r = { 0 };

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    for (i = 0; i < 2; i++) {
        char key[16];

        data[i] = xmalloc(sizes[i]);
        fill(data[i], sizes[i], (unsigned)i + 40);
        snprintf(key, sizeof(key), "k%zu", i);
        ASSERT_OK(put(f.ol, "b", key, data[i], sizes[i], 100000));
    }
    /* Wipe drives 0 and 1: everything still reads back. */
    ASSERT_OK(drive_reset(f.drives[0]));
    ASSERT_OK(drive_reset(f.drives[1]));
    assert_object(f.ol, "b", "k0", data[0], sizes[0]);
    assert_object(f.ol, "b", "k1", data[1], sizes[1]);
    ASSERT_OK(objlayer_heal(f.ol, NULL, NULL, SLICE_NULL, &r));
    /* The reads above queued both objects for healing: the heal thread may
     * have been first, so count what both did through the final state. */
    ASSERT_EQ(r.objects_scanned, 2);
    ASSERT_EQ(r.objects_failed, 0);
    ASSERT_EQ(r.shards_fixed, 2 * r.objects_healed);
    /* Now the other two can go. */
    ASSERT_OK(drive_reset(f.drives[2]));
    ASSERT_OK(drive_reset(f.drives[3]));
    assert_object(f.ol, "b", "k0", data[0], sizes[0]);
    assert_object(f.ol, "b", "k1", data[1], sizes[1]);
    for (i = 0; i < 2; i++)
        free(data[i]);
    objlayer_close(f.ol);
}

TEST(object_three_wiped_drives_fail_cleanly)
{
    struct fixture f;
    size_t n;
    int rc;
    uint8_t data[5000];

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    fill(data, sizeof(data), 3);
    ASSERT_OK(put(f.ol, "b", "k", data, sizeof(data), 777));
    ASSERT_OK(drive_reset(f.drives[0]));
    ASSERT_OK(drive_reset(f.drives[1]));
    ASSERT_OK(drive_reset(f.drives[2]));
    ASSERT(get(f.ol, "b", "k", &n, &rc) == NULL);
    ASSERT(rc < 0);
    objlayer_close(f.ol);
}

/*
 * Version order does not trust the wall clock: a version written by a node
 * whose clock ran 10 minutes ahead (its records dated in the future) is
 * still replaced by the next write, which dates itself after it.
 */
TEST(object_new_version_sorts_after_a_future_dated_one)
{
    const int64_t ahead = 600 * 1000000000LL;
    struct obj_info info;
    struct obj_meta rec;
    struct fixture f;
    int64_t future = 0;
    unsigned j;

    fixture_open(&f);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    ASSERT_OK(put(f.ol, "b", "k", (const uint8_t *)"old", 3, 3));
    for (j = 0; j < NDRIVES; j++) { /* as written by a node whose clock is 10 minutes ahead */
        objmeta_init(&rec);
        object_test_record(f.drives[j], "b", "k", &rec);
        rec.mtime_ns += ahead;
        future = rec.mtime_ns;
        ASSERT_OK(drive_meta_commit(f.drives[j], "b", "k", &rec));
        objmeta_release(&rec);
    }
    ASSERT_OK(put(f.ol, "b", "k", (const uint8_t *)"newer", 5, 5));
    assert_object(f.ol, "b", "k", (const uint8_t *)"newer", 5);
    obj_info_init(&info);
    ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &info));
    ASSERT(info.mtime_ns > future);
    obj_info_release(&info);
    objlayer_close(f.ol);
}

/*
 * Name locks come from the lock service (cluster/lock.h): a commit waits for
 * a lock held elsewhere (another node's writer, here the test), gives up at
 * the request's deadline with -ERR_BUSY (503 SlowDown) and changes nothing;
 * once the lock is free the same write commits. A bucket has its own lock.
 */
TEST(object_commit_waits_for_the_name_lock)
{
    struct lock_service *ls = lock_service_local_new();
    struct drive *drives[NDRIVES];
    struct objlayer_config cfg = {
        .ndrives = NDRIVES, .sync = true, .prebuilt = drives, .locks = ls
    };
    struct obj_put_opts opts = { .size = 3 };
    struct reqctx ctx = { .id = "t" };
    struct objlayer *ol = NULL;
    struct lock_held *held;
    struct buf err = BUF_INIT;
    struct obj_put *p;
    int64_t t0;
    unsigned i;

    for (i = 0; i < NDRIVES; i++)
        drives[i] = drive_mem_new("mem:l");
    ASSERT_OK(objlayer_open(&cfg, &ol, &err));
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(lock_acquire(ls, "o/b/k", LOCK_WRITE, clock_mono_ns() + 1000000000LL, &held));
    ctx.deadline_ns = clock_mono_ns() + 200 * 1000000LL;
    ASSERT_OK(objlayer_put_begin(ol, &ctx, "b", "k", &opts, &p));
    ASSERT_OK(obj_put_write(p, "one", 3));
    t0 = clock_mono_ns();
    ASSERT_EQ(obj_put_finish(p, NULL), -ERR_BUSY);
    ASSERT(clock_mono_ns() - t0 >= 150 * 1000000LL);
    ASSERT_EQ(objlayer_head(ol, NULL, "b", "k", &(struct obj_info){ 0 }), -ERR_KEY_NOT_FOUND);
    ASSERT_EQ(objlayer_delete(ol, &ctx, "b", "k"), -ERR_BUSY);
    lock_release(held);
    ASSERT_OK(put(ol, "b", "k", (const uint8_t *)"two", 3, 3));
    assert_object(ol, "b", "k", (const uint8_t *)"two", 3);
    ASSERT_OK(lock_acquire(ls, "b/c", LOCK_WRITE, clock_mono_ns() + 1000000000LL, &held));
    ctx.deadline_ns = clock_mono_ns() + 100 * 1000000LL;
    ASSERT_EQ(objlayer_bucket_make(ol, &ctx, "c"), -ERR_BUSY);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "d")); /* another bucket: its own lock */
    lock_release(held);
    buf_release(&err);
    objlayer_close(ol);
    lock_service_free(ls);
}
