/*
 * tests/unit/object/test_object_review.c: review tests of the object layer:
 * set layouts, listings over many pages, per-version listing quorum, a
 * listing that loses drives, concurrent writers of one key, deletes and
 * dangling versions under healing, a drive failing mid-stream, inline
 * corruption, rollback, heal reports, and sizes around the inline limit and
 * block boundaries.
 *
 * Drives are drive_mem wrapped in drive_faulty; the fixture keeps the inner
 * mem drives to read and change records behind the layer's back (nothing is
 * queued for healing that way, so heal reports are exact).
 */
#include "util/base.h"

#include <pthread.h>
#include <unistd.h>

#include "erasure/erasure.h"
#include "harness.h"
#include "object_test.h"
#include "object/objlayer.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define RMAX 32
#define KiB 1024
#define MiB (1024 * 1024)

struct rfix {
    struct objlayer *ol;
    unsigned n;
    struct drive *drives[RMAX]; /* faulty, owned by the layer */
    struct drive *inner[RMAX];  /* the mem drives inside */
};

static void
rfix_open_cfg(struct rfix *f, unsigned n, unsigned set_size, unsigned parity)
{
    struct objlayer_config cfg = {
        .ndrives = n, .sync = true, .prebuilt = f->drives, .set_size = set_size, .parity = parity
    };
    struct buf err = BUF_INIT;
    unsigned i;

    memset(f, 0, sizeof(*f));
    f->n = n;
    for (i = 0; i < n; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        f->inner[i] = drive_mem_new(name);
        f->drives[i] = drive_faulty_new(f->inner[i]);
    }
    if (objlayer_open(&cfg, &f->ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
}

static void
rfix_open(struct rfix *f, unsigned n)
{
    rfix_open_cfg(f, n, 0, 0);
    ASSERT_OK(objlayer_bucket_make(f->ol, NULL, "b"));
}

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 7;
    size_t i;

    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

/* PUTs `n` bytes in pieces of `piece`; size -1 sends it as of unknown length. */
static int
put_sized(struct objlayer *ol, const char *key, const uint8_t *data, size_t n, size_t piece,
          int64_t size, struct obj_info *info)
{
    struct obj_put_opts opts = { .size = size };
    struct obj_put *p;
    size_t off;
    int rc = objlayer_put_begin(ol, NULL, "b", key, &opts, &p);

    if (rc < 0)
        return rc;
    for (off = 0; off < n; off += piece) {
        rc = obj_put_write(p, data + off, MIN(piece, n - off));
        if (rc < 0) {
            obj_put_abort(p);
            return rc;
        }
    }
    return obj_put_finish(p, info);
}

static int
put(struct objlayer *ol, const char *key, const uint8_t *data, size_t n)
{
    return put_sized(ol, key, data, n, 65536 + 5, (int64_t)n, NULL);
}

/* The version id drive i holds for `key`, or "" (absent or unreadable). */
static void
inner_vid(struct rfix *f, unsigned i, const char *key, char out[OBJMETA_VID_LEN + 1])
{
    struct obj_meta m;

    objmeta_init(&m);
    out[0] = '\0';
    if (drive_meta_read(f->inner[i], "b", key, &m) == 0)
        snprintf(out, OBJMETA_VID_LEN + 1, "%s", m.vid);
    objmeta_release(&m);
}

TEST(object_review_set_layouts)
{
    static const struct {
        unsigned n;
        const char *want;
    } cases[] = {
        { 2, "1 set of 2 drives, EC 1+1" },    { 3, "1 set of 3 drives, EC 2+1" },
        { 4, "1 set of 4 drives, EC 2+2" },    { 5, "1 set of 5 drives, EC 3+2" },
        { 6, "1 set of 6 drives, EC 3+3" },    { 8, "1 set of 8 drives, EC 4+4" },
        { 12, "1 set of 12 drives, EC 8+4" },  { 16, "1 set of 16 drives, EC 12+4" },
        { 20, "2 sets of 10 drives, EC 6+4" }, { 32, "2 sets of 16 drives, EC 12+4" },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct rfix f;
        struct buf d = BUF_INIT;

        rfix_open_cfg(&f, cases[i].n, 0, 0);
        objlayer_describe(f.ol, &d);
        ASSERT_STREQ(d.ptr, cases[i].want);
        buf_release(&d);
        objlayer_close(f.ol);
    }
}

/*
 * Bytes a streaming PUT may hold must cover its three stripes for objects of
 * raised parity (smallest k).
 */
TEST(object_review_stream_mem_covers_raised_parity)
{
    struct rfix f;
    size_t want = 3 * 16 * (erasure_shard_len(8, ERASURE_BLOCK_SIZE) + ERASURE_HASH_LEN);

    rfix_open_cfg(&f, 16, 0, 0);
    ASSERT(objlayer_stream_mem(f.ol) >= want);
    objlayer_close(f.ol);
}

struct keylist {
    char **keys;
    size_t n, cap;
};

static int
keylist_cb(void *arg, const struct obj_list_ent *e)
{
    struct keylist *l = arg;

    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->keys = xrealloc(l->keys, l->cap * sizeof(*l->keys));
    }
    l->keys[l->n] = xmalloc(e->key.len + 1);
    memcpy(l->keys[l->n], e->key.ptr, e->key.len);
    l->keys[l->n++][e->key.len] = '\0';
    return 0;
}

static void
keylist_clear(struct keylist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->keys[i]);
    free(l->keys);
    memset(l, 0, sizeof(*l));
}

/* Lists and checks: strictly increasing, all with `prefix`, all after `after`. */
static size_t
list_check(struct objlayer *ol, const char *prefix, const char *after, unsigned limit)
{
    struct keylist l = { 0 };
    struct slice ps = prefix ? slice_make(prefix, strlen(prefix)) : SLICE_NULL;
    struct slice as = after ? slice_make(after, strlen(after)) : SLICE_NULL;
    size_t i, n;

    ASSERT_OK(objlayer_list(ol, NULL, "b", ps, as, limit, keylist_cb, &l));
    for (i = 0; i < l.n; i++) {
        if (i > 0)
            ASSERT(strcmp(l.keys[i - 1], l.keys[i]) < 0);
        if (prefix)
            ASSERT(strncmp(l.keys[i], prefix, strlen(prefix)) == 0);
        if (after)
            ASSERT(strcmp(l.keys[i], after) > 0);
    }
    n = l.n;
    keylist_clear(&l);
    return n;
}

/* More keys than a page (512) per drive, on one set and on two sets. */
TEST(object_review_list_many_pages)
{
    static const unsigned cfgs[][2] = { { 4, 0 }, { 8, 4 } };
    size_t c;

    for (c = 0; c < ARRAY_SIZE(cfgs); c++) {
        struct rfix f;
        unsigned i;

        rfix_open_cfg(&f, cfgs[c][0], cfgs[c][1], 0);
        ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
        for (i = 0; i < 1300; i++) {
            char key[32];

            snprintf(key, sizeof(key), "k%05u", i);
            ASSERT_OK(put(f.ol, key, (const uint8_t *)key, i % 3));
        }
        for (i = 0; i < 600; i++) {
            char key[32];

            snprintf(key, sizeof(key), "p/%04u", i);
            ASSERT_OK(put(f.ol, key, (const uint8_t *)"x", 1));
        }
        ASSERT_EQ(list_check(f.ol, NULL, NULL, 0), 1900);
        ASSERT_EQ(list_check(f.ol, "k", NULL, 0), 1300);
        ASSERT_EQ(list_check(f.ol, "p/", NULL, 0), 600);
        ASSERT_EQ(list_check(f.ol, NULL, "k00511", 0), 1900 - 512);
        ASSERT_EQ(list_check(f.ol, NULL, "k00512", 0), 1900 - 513);
        ASSERT_EQ(list_check(f.ol, "k", "k00700", 600), 599);
        ASSERT_EQ(list_check(f.ol, "k", "k00700", 100), 100);
        ASSERT_EQ(list_check(f.ol, NULL, NULL, 513), 513);
        ASSERT_EQ(list_check(f.ol, "p/", "a", 0), 600);       /* after before the prefix */
        ASSERT_EQ(list_check(f.ol, "k", "p", 0), 0);          /* after past the prefix */
        ASSERT_EQ(list_check(f.ol, "p/05", "p/0550", 0), 49); /* p/0551 .. p/0599 */
        ASSERT_EQ(list_check(f.ol, "none", NULL, 0), 0);
        objlayer_close(f.ol);
    }
}

/* A key held by two drives in two different versions is on no read quorum: not listed. */
TEST(object_review_list_counts_copies_per_version)
{
    struct rfix f;
    struct obj_meta m;
    unsigned i;

    rfix_open(&f, 4);
    ASSERT_OK(put(f.ol, "x", (const uint8_t *)"xxxx", 4));
    ASSERT_OK(put(f.ol, "y", (const uint8_t *)"yyyy", 4));
    for (i = 2; i < 4; i++)
        ASSERT_OK(drive_meta_delete(f.inner[i], "b", "x", NULL));
    ASSERT_EQ(list_check(f.ol, NULL, NULL, 0), 2); /* x on 2 = k drives: listed */
    objmeta_init(&m);
    ASSERT_OK(drive_meta_read(f.inner[1], "b", "x", &m));
    objmeta_new_vid(m.vid);
    ASSERT_OK(drive_meta_commit(f.inner[1], "b", "x", &m));
    objmeta_release(&m);
    ASSERT_EQ(list_check(f.ol, NULL, NULL, 0), 1);
    ASSERT(object_test_check_read(f.ol, "x", (const uint8_t *)"xxxx", 4) < 0);
    objlayer_close(f.ol);
}

/* Drives that fail mid-listing must not shrink the answer (nor let a full bucket be deleted). */
TEST(object_review_list_fails_when_drives_fail_listing)
{
    struct rfix f;
    unsigned i;

    rfix_open(&f, 4);
    ASSERT_OK(put(f.ol, "x", (const uint8_t *)"xxxx", 4));
    for (i = 0; i < 3; i++)
        drive_faulty_fail_after(f.drives[i], DRIVE_FAULTY_OP_LIST, 1, -ERR_IO);
    ASSERT_EQ(objlayer_list(f.ol, NULL, "b", SLICE_NULL, SLICE_NULL, 0, keylist_cb, NULL),
              -ERR_QUORUM);
    ASSERT(objlayer_bucket_delete(f.ol, NULL, "b") < 0);
    for (i = 0; i < 3; i++)
        drive_faulty_clear(f.drives[i]);
    /* One failing drive of four leaves k = 2: still a full answer. */
    drive_faulty_fail_after(f.drives[0], DRIVE_FAULTY_OP_LIST, 1, -ERR_IO);
    ASSERT_EQ(list_check(f.ol, NULL, NULL, 0), 1);
    drive_faulty_clear(f.drives[0]);
    ASSERT_OK(object_test_check_read(f.ol, "x", (const uint8_t *)"xxxx", 4));
    objlayer_close(f.ol);
}

struct putter {
    struct objlayer *ol;
    const char *key;
    unsigned id;
    char etags[8][33];
};

static void *
putter_main(void *arg)
{
    struct putter *t = arg;
    unsigned i;

    for (i = 0; i < 4; i++) {
        size_t n = (i % 2) ? 1500 * KiB + t->id : 1000 + t->id;
        uint8_t *data = xmalloc(n);

        fill(data, n, t->id * 100 + i);
        object_test_md5_hex(data, n, t->etags[i]);
        if (put(t->ol, t->key, data, n) < 0)
            t->etags[i][0] = '\0';
        free(data);
    }
    return NULL;
}

/* Several writers of one key: one version wins, the same on every drive, readable. */
TEST(object_review_concurrent_puts_same_key)
{
    struct rfix f;
    struct putter t[6];
    pthread_t th[6];
    struct obj_info info;
    struct obj_get *g;
    uint8_t *buf;
    char md5[33], vid0[OBJMETA_VID_LEN + 1], vid[OBJMETA_VID_LEN + 1];
    unsigned i, j;
    bool known = false;

    rfix_open(&f, 4);
    for (i = 0; i < 6; i++) {
        t[i] = (struct putter){ .ol = f.ol, .key = "same", .id = i + 1 };
        ASSERT_EQ(pthread_create(&th[i], NULL, putter_main, &t[i]), 0);
    }
    for (i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    obj_info_init(&info);
    ASSERT_OK(objlayer_get_open(f.ol, NULL, "b", "same", &g, &info));
    buf = xmalloc(info.size + 1);
    ASSERT_EQ(obj_get_read(g, 0, buf, info.size + 1), (ssize_t)info.size);
    obj_get_close(g);
    object_test_md5_hex(buf, info.size, md5);
    ASSERT_STREQ(md5, info.etag);
    for (i = 0; i < 6; i++)
        for (j = 0; j < 4; j++)
            if (strcmp(t[i].etags[j], info.etag) == 0)
                known = true;
    ASSERT(known);
    inner_vid(&f, 0, "same", vid0);
    ASSERT_STREQ(vid0, info.vid);
    for (i = 1; i < 4; i++) {
        inner_vid(&f, i, "same", vid);
        ASSERT_STREQ(vid, vid0);
    }
    ASSERT_EQ(list_check(f.ol, NULL, NULL, 0), 1);
    free(buf);
    obj_info_release(&info);
    objlayer_close(f.ol);
}

/* A drive that missed a delete must not bring the object back through healing. */
TEST(object_review_delete_then_heal_does_not_resurrect)
{
    struct rfix f;
    struct heal_report r = { 0 };
    char vid[OBJMETA_VID_LEN + 1];
    uint8_t data[300000];

    rfix_open(&f, 4);
    fill(data, sizeof(data), 1);
    ASSERT_OK(put(f.ol, "k", data, sizeof(data)));
    drive_faulty_fail_after(f.drives[3], DRIVE_FAULTY_OP_META_DELETE, 1, -ERR_IO);
    ASSERT_OK(objlayer_delete(f.ol, NULL, "b", "k")); /* 3 of 4 = delete quorum */
    drive_faulty_clear(f.drives[3]);
    ASSERT_OK(objlayer_heal(f.ol, NULL, "b", SLICE_NULL, &r));
    ASSERT_EQ(r.objects_failed, 0);
    ASSERT_EQ(r.objects_healed, 0);
    inner_vid(&f, 3, "k", vid);
    ASSERT_STREQ(vid, "");
    ASSERT_EQ(object_test_check_read(f.ol, "k", data, sizeof(data)), -ERR_KEY_NOT_FOUND);
    ASSERT_EQ(list_check(f.ol, NULL, NULL, 0), 0);
    objlayer_close(f.ol);
}

/* A version on fewer than k drives can never be read: heal removes it, and says so. */
TEST(object_review_heal_removes_dangling)
{
    struct rfix f;
    struct heal_report r = { 0 };
    char vid[OBJMETA_VID_LEN + 1];
    uint8_t *big = xmalloc(2 * MiB);
    unsigned i;

    rfix_open(&f, 4);
    fill(big, 2 * MiB, 2);
    ASSERT_OK(put(f.ol, "small", big, 1000));
    ASSERT_OK(put(f.ol, "big", big, 2 * MiB));
    ASSERT_OK(put(f.ol, "keep", big, 10));
    for (i = 1; i < 4; i++) {
        ASSERT_OK(drive_meta_delete(f.inner[i], "b", "small", NULL));
        ASSERT_OK(drive_meta_delete(f.inner[i], "b", "big", NULL));
    }
    ASSERT_OK(objlayer_heal_object(f.ol, NULL, "b", "small", &r));
    ASSERT_EQ(r.objects_dangling_removed, 1);
    ASSERT_EQ(r.objects_scanned, 1);
    memset(&r, 0, sizeof(r));
    ASSERT_OK(objlayer_heal(f.ol, NULL, "b", SLICE_NULL, &r));
    ASSERT_EQ(r.objects_dangling_removed, 1);
    ASSERT_EQ(r.objects_scanned, 2); /* big (dangling), keep */
    ASSERT_EQ(r.objects_healed, 0);
    ASSERT_EQ(r.objects_failed, 0);
    inner_vid(&f, 0, "small", vid);
    ASSERT_STREQ(vid, "");
    inner_vid(&f, 0, "big", vid);
    ASSERT_STREQ(vid, "");
    ASSERT_OK(object_test_check_read(f.ol, "keep", big, 10));
    free(big);
    objlayer_close(f.ol);
}

/*
 * 8 drives with parity 2 (k = 6); two drives offline at the PUT raise parity
 * to 4 (k = 4). Later, with three drives not answering and three without the
 * object, the set's k says "absent", but the object's own k (4) can still be
 * reached: heal must not remove the two copies it sees.
 */
TEST(object_review_heal_keeps_raised_parity_copies)
{
    struct rfix f;
    struct heal_report r = { 0 };
    struct obj_info info;
    size_t n = 2 * MiB + 3;
    uint8_t *data = xmalloc(n);
    unsigned i;

    rfix_open_cfg(&f, 8, 8, 2);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    fill(data, n, 3);
    drive_faulty_go_offline(f.drives[6]);
    drive_faulty_go_offline(f.drives[7]);
    obj_info_init(&info);
    ASSERT_OK(put_sized(f.ol, "r", data, n, MiB, (int64_t)n, &info));
    ASSERT_EQ(info.k, 4);
    ASSERT_EQ(info.m, 4);
    obj_info_release(&info);
    /*
     * The PUT queued "r" for healing (two drives missed it): let the heal
     * thread do its no-op while 6 and 7 are still offline, or it would
     * rebuild them under the scenario below.
     */
    usleep(300 * 1000);
    ASSERT_OK(drive_reset(f.drives[6])); /* back, empty */
    ASSERT_OK(drive_reset(f.drives[7]));
    ASSERT_OK(drive_meta_delete(f.inner[5], "b", "r", NULL));
    for (i = 0; i < 3; i++)
        drive_faulty_fail_after(f.drives[i], DRIVE_FAULTY_OP_META_READ, 1, -ERR_IO);
    objlayer_heal_object(f.ol, NULL, "b", "r", &r);
    ASSERT_EQ(r.objects_dangling_removed, 0);
    for (i = 0; i < 3; i++)
        drive_faulty_clear(f.drives[i]);
    ASSERT_OK(object_test_check_read(f.ol, "r", data, n));
    free(data);
    objlayer_close(f.ol);
}

/* Drive 1 fails its second shard append: the PUT goes on with 3 of 4 and heal fills drive 1 in. */
TEST(object_review_put_survives_drive_failing_mid_stream)
{
    struct rfix f;
    struct heal_report r = { 0 };
    size_t n = 5 * MiB + 3;
    uint8_t *data = xmalloc(n);
    char vid0[OBJMETA_VID_LEN + 1], vid1[OBJMETA_VID_LEN + 1];

    rfix_open(&f, 4);
    fill(data, n, 4);
    drive_faulty_fail_after(f.drives[1], DRIVE_FAULTY_OP_SHARD_APPEND, 2, -ERR_IO);
    ASSERT_OK(put(f.ol, "k", data, n));
    drive_faulty_clear(f.drives[1]);
    ASSERT_OK(object_test_check_read(f.ol, "k", data, n));
    ASSERT_OK(objlayer_heal(f.ol, NULL, "b", SLICE_NULL, &r));
    ASSERT_EQ(r.objects_failed, 0);
    inner_vid(&f, 0, "k", vid0);
    inner_vid(&f, 1, "k", vid1);
    ASSERT_STREQ(vid1, vid0);
    /* Only drives 1 and 3 left good: drive 1's rebuilt shards must be right. */
    drive_faulty_flip_bits_on_read(f.drives[0], true);
    drive_faulty_flip_bits_on_read(f.drives[2], true);
    ASSERT_OK(object_test_check_read(f.ol, "k", data, n));
    free(data);
    objlayer_close(f.ol);
}

/* One inline copy with a flipped byte: heal reports it corrupt and rewrites it exactly. */
TEST(object_review_heal_fixes_corrupt_inline_copy)
{
    struct rfix f;
    struct heal_report r = { 0 };
    struct obj_meta m, again;
    struct buf saved = BUF_INIT;
    uint8_t data[5000];

    rfix_open(&f, 4);
    fill(data, sizeof(data), 5);
    ASSERT_OK(put(f.ol, "s", data, sizeof(data)));
    objmeta_init(&m);
    ASSERT_OK(drive_meta_read(f.inner[2], "b", "s", &m));
    ASSERT(m.is_inline && m.inline_data.len > 100);
    buf_add(&saved, m.inline_data.ptr, m.inline_data.len);
    m.inline_data.ptr[m.inline_data.len / 2] ^= 0x40;
    ASSERT_OK(drive_meta_commit(f.inner[2], "b", "s", &m));
    ASSERT_OK(objlayer_heal_object(f.ol, NULL, "b", "s", &r));
    ASSERT_EQ(r.objects_scanned, 1);
    ASSERT_EQ(r.objects_healed, 1);
    ASSERT_EQ(r.shards_corrupt, 1);
    ASSERT_EQ(r.shards_missing, 0);
    ASSERT_EQ(r.shards_fixed, 1);
    objmeta_init(&again);
    ASSERT_OK(drive_meta_read(f.inner[2], "b", "s", &again));
    ASSERT_EQ(again.inline_data.len, saved.len);
    ASSERT_MEMEQ(again.inline_data.ptr, saved.ptr, saved.len);
    ASSERT_STREQ(again.vid, m.vid);
    ASSERT_EQ(again.shard_idx, m.shard_idx);
    ASSERT_OK(object_test_check_read(f.ol, "s", data, sizeof(data)));
    objmeta_release(&again);
    objmeta_release(&m);
    buf_release(&saved);
    objlayer_close(f.ol);
}

/* Exact report over a bucket with one missing record and one rotting drive. */
TEST(object_review_heal_report_counts)
{
    struct rfix f;
    struct heal_report r = { 0 };
    uint8_t *data = xmalloc(2 * MiB);

    rfix_open(&f, 4);
    fill(data, 2 * MiB, 6);
    ASSERT_OK(put(f.ol, "a", data, 1000));    /* inline: reads do not go through shard_read */
    ASSERT_OK(put(f.ol, "b", data, 300000));  /* missing on drive 1, rotting on drive 3 */
    ASSERT_OK(put(f.ol, "c", data, 2 * MiB)); /* rotting on drive 3 */
    ASSERT_OK(drive_meta_delete(f.inner[1], "b", "b", NULL));
    drive_faulty_flip_bits_on_read(f.drives[3], true);
    ASSERT_OK(objlayer_heal(f.ol, NULL, "b", SLICE_NULL, &r));
    drive_faulty_flip_bits_on_read(f.drives[3], false);
    ASSERT_EQ(r.buckets_scanned, 1);
    ASSERT_EQ(r.objects_scanned, 3);
    ASSERT_EQ(r.objects_healed, 2);
    ASSERT_EQ(r.objects_failed, 0);
    ASSERT_EQ(r.shards_missing, 1);
    ASSERT_EQ(r.shards_corrupt, 2);
    ASSERT_EQ(r.shards_fixed, 3);
    ASSERT_EQ(r.objects_dangling_removed, 0);
    /* Drives 1 and 3 were rewritten: they alone must serve b and c. */
    drive_faulty_flip_bits_on_read(f.drives[0], true);
    drive_faulty_flip_bits_on_read(f.drives[2], true);
    ASSERT_OK(object_test_check_read(f.ol, "b", data, 300000));
    ASSERT_OK(object_test_check_read(f.ol, "c", data, 2 * MiB));
    free(data);
    objlayer_close(f.ol);
}

/*
 * A PUT of v2 that commits on drives 0 and 3 only (below write quorum 3) is
 * rolled back: drives 0 and 3 must hold v1 again, not lose it.
 */
TEST(object_review_rollback_restores_previous_inline_version)
{
    struct rfix f;
    struct obj_info info;
    uint8_t v1[2000], v2[2000];
    char vid[OBJMETA_VID_LEN + 1];
    unsigned i;

    rfix_open(&f, 4);
    fill(v1, sizeof(v1), 7);
    fill(v2, sizeof(v2), 8);
    obj_info_init(&info);
    ASSERT_OK(put_sized(f.ol, "k", v1, sizeof(v1), 700, sizeof(v1), &info));
    drive_faulty_fail_after(f.drives[1], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    drive_faulty_fail_after(f.drives[2], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    ASSERT_EQ(put(f.ol, "k", v2, sizeof(v2)), -ERR_QUORUM);
    drive_faulty_clear(f.drives[1]);
    drive_faulty_clear(f.drives[2]);
    for (i = 0; i < 4; i++) {
        inner_vid(&f, i, "k", vid);
        ASSERT_STREQ(vid, info.vid);
    }
    ASSERT_OK(object_test_check_read(f.ol, "k", v1, sizeof(v1)));
    obj_info_release(&info);
    objlayer_close(f.ol);
}

/* A heal must never reset (wipe) a drive that is offline after an error: it still holds data. */
TEST(object_review_heal_leaves_offline_drive_alone)
{
    struct rfix f;
    struct heal_report r = { 0 };
    char vid[OBJMETA_VID_LEN + 1];
    uint8_t data[300000];

    rfix_open(&f, 4);
    fill(data, sizeof(data), 9);
    ASSERT_OK(put(f.ol, "k", data, sizeof(data)));
    drive_faulty_go_offline(f.drives[3]);
    ASSERT_OK(objlayer_heal(f.ol, NULL, NULL, SLICE_NULL, &r));
    ASSERT_EQ(r.drives_formatted, 0);
    ASSERT(!drive_is_online(f.drives[3]));
    inner_vid(&f, 3, "k", vid);
    ASSERT(vid[0] != '\0');
    objlayer_close(f.ol);
}

/* Bucket quorum is per set: a second set that misses write quorum fails the make. */
TEST(object_review_bucket_make_quorum_per_set)
{
    struct rfix f;

    rfix_open_cfg(&f, 8, 4, 0);
    drive_faulty_fail_after(f.drives[4], DRIVE_FAULTY_OP_BUCKET, 1, -ERR_IO);
    drive_faulty_fail_after(f.drives[5], DRIVE_FAULTY_OP_BUCKET, 1, -ERR_IO);
    ASSERT_EQ(objlayer_bucket_make(f.ol, NULL, "nb"), -ERR_QUORUM);
    drive_faulty_clear(f.drives[4]);
    drive_faulty_clear(f.drives[5]);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "ok"));
    objlayer_close(f.ol);
}

TEST(object_review_delete_quorum)
{
    struct rfix f;

    rfix_open(&f, 4);
    ASSERT_OK(put(f.ol, "a", (const uint8_t *)"a", 1));
    ASSERT_OK(put(f.ol, "b", (const uint8_t *)"b", 1));
    drive_faulty_go_offline(f.drives[3]);
    ASSERT_OK(objlayer_delete(f.ol, NULL, "b", "a")); /* 3 of 4 */
    ASSERT_EQ(objlayer_delete(f.ol, NULL, "b", "a"), -ERR_KEY_NOT_FOUND);
    drive_faulty_go_offline(f.drives[2]);
    ASSERT_EQ(objlayer_delete(f.ol, NULL, "b", "b"), -ERR_QUORUM); /* 2 of 4 < 3 */
    objlayer_close(f.ol);
}

/* Sizes around the inline limit and the block size, with known and unknown lengths. */
TEST(object_review_sizes_around_limits)
{
    static const size_t sizes[] = {
        0,   1,       128 * KiB - 1, 128 * KiB, 128 * KiB + 1, MiB - 1,
        MiB, MiB + 1, 2 * MiB - 1,   2 * MiB,   2 * MiB + 1,
    };
    static const size_t pieces[] = { 4093, MiB + 7 };
    struct rfix f;
    uint8_t *data = xmalloc(2 * MiB + 2), out[300];
    size_t i, p;

    rfix_open(&f, 4);
    fill(data, 2 * MiB + 1, 10);
    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        for (p = 0; p < ARRAY_SIZE(pieces) * 2; p++) {
            size_t n = sizes[i];
            int64_t size = p >= ARRAY_SIZE(pieces) ? -1 : (int64_t)n;
            struct obj_info info;
            struct obj_meta rec;
            struct obj_get *g;
            char md5[33];
            uint64_t b;

            obj_info_init(&info);
            ASSERT_OK(put_sized(f.ol, "s", data, n, pieces[p % ARRAY_SIZE(pieces)], size, &info));
            object_test_md5_hex(data, n, md5);
            ASSERT_STREQ(info.etag, md5);
            obj_info_release(&info);
            objmeta_init(&rec);
            object_test_record(f.inner[0], "b", "s", &rec);
            ASSERT_EQ(rec.is_inline, n <= 128 * KiB);
            objmeta_release(&rec);
            ASSERT_OK(object_test_check_read(f.ol, "s", data, n));
            /* Reads that straddle each block boundary. */
            obj_info_init(&info);
            ASSERT_OK(objlayer_get_open(f.ol, NULL, "b", "s", &g, &info));
            for (b = MiB; b <= n + 100; b += MiB) {
                uint64_t off = b - 150;
                ssize_t got = obj_get_read(g, off, out, sizeof(out));

                ASSERT_EQ(got, (ssize_t)(off >= n ? 0 : MIN(sizeof(out), n - off)));
                ASSERT(got <= 0 || memcmp(out, data + off, (size_t)got) == 0);
            }
            ASSERT_EQ(obj_get_read(g, n, out, 1), 0);
            obj_get_close(g);
            obj_info_release(&info);
        }
    }
    free(data);
    objlayer_close(f.ol);
}

struct racer {
    struct rfix *f;
    unsigned role;
};

static void *
racer_main(void *arg)
{
    struct racer *r = arg;
    uint8_t *data = xmalloc(MiB + 100);
    unsigned i;

    for (i = 0; i < 20; i++) {
        struct heal_report rep = { 0 };

        switch (r->role) {
        case 0:
            fill(data, i % 2 ? MiB + 100 : 3000, i);
            put(r->f->ol, "hot", data, i % 2 ? MiB + 100 : 3000);
            break;
        case 1:
            objlayer_delete(r->f->ol, NULL, "b", "hot");
            break;
        default:
            objlayer_heal_object(r->f->ol, NULL, "b", "hot", &rep);
            break;
        }
    }
    free(data);
    return NULL;
}

/* PUT, DELETE and heal of one key at once: the end state is consistent on every drive. */
TEST(object_review_put_delete_heal_race)
{
    struct rfix f;
    struct racer rs[4];
    pthread_t th[4];
    struct heal_report rep = { 0 };
    struct obj_info info;
    char vid0[OBJMETA_VID_LEN + 1], vid[OBJMETA_VID_LEN + 1];
    unsigned i;
    int rc;

    rfix_open(&f, 4);
    for (i = 0; i < 4; i++) {
        rs[i] = (struct racer){ .f = &f, .role = i < 2 ? i : 2 };
        ASSERT_EQ(pthread_create(&th[i], NULL, racer_main, &rs[i]), 0);
    }
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    objlayer_heal_object(f.ol, NULL, "b", "hot", &rep);
    ASSERT_EQ(rep.objects_failed, 0);
    obj_info_init(&info);
    rc = objlayer_head(f.ol, NULL, "b", "hot", &info);
    inner_vid(&f, 0, "hot", vid0);
    if (rc == -ERR_KEY_NOT_FOUND) {
        ASSERT_STREQ(vid0, "");
    } else {
        struct obj_get *g;
        uint8_t *buf;
        char md5[33];

        ASSERT_OK(rc);
        ASSERT_STREQ(vid0, info.vid);
        obj_info_release(&info);
        obj_info_init(&info);
        ASSERT_OK(objlayer_get_open(f.ol, NULL, "b", "hot", &g, &info));
        buf = xmalloc(info.size + 1);
        ASSERT_EQ(obj_get_read(g, 0, buf, info.size), (ssize_t)info.size);
        obj_get_close(g);
        object_test_md5_hex(buf, info.size, md5);
        ASSERT_STREQ(md5, info.etag);
        free(buf);
    }
    for (i = 1; i < 4; i++) {
        inner_vid(&f, i, "hot", vid);
        ASSERT_STREQ(vid, vid0);
    }
    obj_info_release(&info);
    objlayer_close(f.ol);
}

/* With no drive formatted and one drive unreadable, no new deployment is written. */
TEST(object_review_open_refuses_fresh_format_with_unreadable_drive)
{
    struct drive *drives[4];
    struct objlayer_config cfg = { .ndrives = 4, .sync = true, .prebuilt = drives };
    struct objlayer *ol = NULL;
    struct buf err = BUF_INIT;
    unsigned i;

    for (i = 0; i < 4; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        drives[i] = drive_faulty_new(drive_mem_new(name));
    }
    drive_faulty_fail_after(drives[2], DRIVE_FAULTY_OP_FORMAT, 1, -ERR_IO);
    ASSERT(objlayer_open(&cfg, &ol, &err) < 0);
    ASSERT(err.len > 0); /* the drives were handed over: closed by the failed open */
    buf_release(&err);
}

/*
 * Local drives: one drive's folder is emptied (a replaced disk). Heal formats
 * it back into its place and rewrites its objects; a second heal finds
 * nothing to format (no double reset).
 */
TEST(object_review_replaced_local_drive_is_formatted_back_and_healed)
{
    char paths[4][256], cmd[700];
    const char *ptrs[4];
    struct objlayer_config cfg = { .drives = ptrs, .ndrives = 4, .sync = false };
    struct objlayer *ol;
    struct buf err = BUF_INIT;
    struct heal_report r = { 0 };
    size_t n = 3 * MiB + 1;
    uint8_t *data = xmalloc(n);
    struct obj_get *g;
    struct obj_info info;
    unsigned i;

    for (i = 0; i < 4; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/d%u", harness_tmpdir(), i);
        ptrs[i] = paths[i];
    }
    if (objlayer_open(&cfg, &ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    fill(data, n, 11);
    ASSERT_OK(put(ol, "big", data, n));
    ASSERT_OK(put(ol, "small", data, 100));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'/.basalt '%s'/.basalt", paths[2], paths[3]);
    ASSERT_EQ(system(cmd), 0);
    ASSERT_OK(objlayer_heal(ol, NULL, NULL, SLICE_NULL, &r));
    /* The drive monitor may have formatted some back first; together, both. */
    ASSERT(r.drives_formatted <= 2);
    memset(&r, 0, sizeof(r));
    ASSERT_OK(objlayer_heal(ol, NULL, NULL, SLICE_NULL, &r));
    ASSERT_EQ(r.drives_formatted, 0);
    ASSERT_EQ(r.objects_failed, 0);
    /* Drives 0 and 1 go: 2 and 3 alone must hold everything. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'/.basalt '%s'/.basalt", paths[0], paths[1]);
    ASSERT_EQ(system(cmd), 0);
    obj_info_init(&info);
    ASSERT_OK(objlayer_get_open(ol, NULL, "b", "big", &g, &info));
    {
        uint8_t *buf = xmalloc(n);

        ASSERT_EQ(obj_get_read(g, 0, buf, n), (ssize_t)n);
        ASSERT_MEMEQ(buf, data, n);
        free(buf);
    }
    obj_get_close(g);
    obj_info_release(&info);
    ASSERT_OK(object_test_check_read(ol, "small", data, 100));
    objlayer_close(ol);
    buf_release(&err);
    free(data);
}

/* A record with a block size of 0 (checksum-valid, but nonsense) fails the read, no crash. */
TEST(object_review_bad_block_size_is_corrupt)
{
    struct rfix f;
    struct obj_meta m;
    struct obj_info info;
    struct obj_get *g;
    unsigned i;

    rfix_open(&f, 4);
    ASSERT_OK(put(f.ol, "z", (const uint8_t *)"zzzz", 4));
    for (i = 0; i < 4; i++) {
        objmeta_init(&m);
        ASSERT_OK(drive_meta_read(f.inner[i], "b", "z", &m));
        m.block_size = 0;
        ASSERT_OK(drive_meta_commit(f.inner[i], "b", "z", &m));
        objmeta_release(&m);
    }
    obj_info_init(&info);
    ASSERT_EQ(objlayer_get_open(f.ol, NULL, "b", "z", &g, &info), -ERR_CORRUPT);
    obj_info_release(&info);
    objlayer_close(f.ol);
}

struct flapper {
    struct drive *d;
    bool stop; /* atomic */
};

static void *
flapper_main(void *arg)
{
    struct flapper *fl = arg;

    while (!__atomic_load_n(&fl->stop, __ATOMIC_ACQUIRE)) {
        drive_faulty_go_offline(fl->d);
        usleep(20);
        drive_reset(fl->d); /* back online, empty: the other three hold everything */
        usleep(20);
    }
    return NULL;
}

/*
 * A drive going offline while requests run (the drive monitor, an error on
 * another request): every request must end. object__run once counted the
 * online drives twice and could wait forever for a job it never submitted.
 */
TEST(object_review_drive_flapping_while_reading_never_hangs)
{
    struct rfix f;
    struct flapper fl;
    pthread_t th;
    uint8_t data[3000];
    unsigned i;

    rfix_open(&f, 4);
    fill(data, sizeof(data), 12);
    ASSERT_OK(put(f.ol, "k", data, sizeof(data)));
    fl = (struct flapper){ .d = f.drives[3] };
    ASSERT_EQ(pthread_create(&th, NULL, flapper_main, &fl), 0);
    for (i = 0; i < 3000; i++) {
        struct obj_info info;

        obj_info_init(&info);
        ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &info));
        obj_info_release(&info);
    }
    __atomic_store_n(&fl.stop, true, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    ASSERT_OK(object_test_check_read(f.ol, "k", data, sizeof(data)));
    objlayer_close(f.ol);
}

/*
 * v1 (shard files) is on drives 0, 1, 2 only; v2 commits on 0 and 1 only.
 * Those commits removed v1's shards there, so rolling v2 back would leave v1
 * on one drive and v2 nowhere: the layer keeps v2 (readable) and still answers
 * -ERR_QUORUM. Either way, some complete version must remain readable.
 */
TEST(object_review_failed_overwrite_never_loses_both_versions)
{
    struct rfix f;
    uint8_t v1[300000], v2[300000];
    struct heal_report r = { 0 };

    rfix_open(&f, 4);
    fill(v1, sizeof(v1), 13);
    fill(v2, sizeof(v2), 14);
    drive_faulty_fail_after(f.drives[3], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    ASSERT_OK(put(f.ol, "k", v1, sizeof(v1))); /* 3 of 4: acknowledged */
    drive_faulty_fail_after(f.drives[2], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    ASSERT_EQ(put(f.ol, "k", v2, sizeof(v2)), -ERR_QUORUM);
    drive_faulty_clear(f.drives[2]);
    drive_faulty_clear(f.drives[3]);
    ASSERT(object_test_check_read(f.ol, "k", v1, sizeof(v1)) == 0 ||
           object_test_check_read(f.ol, "k", v2, sizeof(v2)) == 0);
    ASSERT_OK(objlayer_heal(f.ol, NULL, "b", SLICE_NULL, &r));
    ASSERT(object_test_check_read(f.ol, "k", v1, sizeof(v1)) == 0 ||
           object_test_check_read(f.ol, "k", v2, sizeof(v2)) == 0);
    objlayer_close(f.ol);
}
