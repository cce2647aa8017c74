/*
 * tests/unit/object/test_update.c: objlayer_update_headers (headers of the
 * current version rewritten in place, data untouched, quorum and rollback)
 * and the bucket configuration documents of object/bucketconfig.c, over
 * in-memory drives (some wrapped in drive_faulty).
 */
#include "util/base.h"

#include "harness.h"
#include "object_test.h"
#include "object/objlayer.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define NDRIVES 4

struct fixture {
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
};

static void
fixture_open(struct fixture *f, bool faulty)
{
    struct objlayer_config cfg = { .ndrives = NDRIVES, .sync = true, .prebuilt = f->drives };
    struct buf err = BUF_INIT;
    unsigned i;

    for (i = 0; i < NDRIVES; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        f->drives[i] = drive_mem_new(name);
        if (faulty)
            f->drives[i] = drive_faulty_new(f->drives[i]);
    }
    if (objlayer_open(&cfg, &f->ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
}

#define HEADERS SLICE_LIT("content-type\0text/x\0x-amz-meta-a\0b\0")

/* Sets "x-amz-tagging: <value>" (an edit that keeps the other headers). */
static int
add_tag(struct objlayer *ol, const char *bucket, const char *key, const char *value)
{
    struct obj_header_edit e = { "x-amz-tagging", value };

    return objlayer_update_headers(ol, NULL, bucket, key, &e, 1);
}

static const char tags_ab[] = "a=1&b=2", tag_a[] = "a=1", tag_t[] = "t=1";

static void
fill(uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + i / 251);
}

TEST(object_update_meta_keeps_data_and_version)
{
    static const size_t sizes[] = { 10, 3 * 1024 * 1024 + 3 }; /* inline and shard files */
    struct fixture f;
    size_t i;

    fixture_open(&f, false);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        uint8_t *data = xmalloc(sizes[i]);
        struct obj_info before, after;

        fill(data, sizes[i]);
        obj_info_init(&before);
        obj_info_init(&after);
        ASSERT_OK(object_test_put(f.ol, "k", data, sizes[i], HEADERS));
        ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &before));
        ASSERT_OK(add_tag(f.ol, "b", "k", tags_ab));
        ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &after));
        ASSERT_STREQ(after.vid, before.vid);
        ASSERT_STREQ(after.etag, before.etag);
        ASSERT_EQ(after.size, before.size);
        ASSERT(after.mtime_ns - before.mtime_ns == 1); /* invisible: Last-Modified stays */
        ASSERT_STREQ(obj_info_header(&after, "x-amz-tagging"), "a=1&b=2");
        ASSERT_STREQ(obj_info_header(&after, "x-amz-meta-a"), "b");
        ASSERT_STREQ(obj_info_header(&after, "content-type"), "text/x");
        ASSERT_OK(object_test_check_read(f.ol, "k", data, sizes[i]));
        obj_info_release(&before);
        obj_info_release(&after);
        free(data);
    }
    objlayer_close(f.ol);
}

TEST(object_update_headers_errors_and_removal)
{
    struct fixture f;
    struct obj_info m;

    fixture_open(&f, false);
    obj_info_init(&m);
    ASSERT_EQ(add_tag(f.ol, "nope", "k", tag_a), -ERR_BUCKET_NOT_FOUND);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    ASSERT_EQ(add_tag(f.ol, "b", "k", tag_a), -ERR_KEY_NOT_FOUND);
    ASSERT_OK(object_test_put(f.ol, "k", (const uint8_t *)"abc", 3, HEADERS));
    /* set, then removed (value NULL): the other headers stay */
    ASSERT_OK(add_tag(f.ol, "b", "k", tag_a));
    ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &m));
    ASSERT_STREQ(obj_info_header(&m, "x-amz-tagging"), tag_a);
    ASSERT_OK(add_tag(f.ol, "b", "k", NULL));
    ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &m));
    ASSERT(obj_info_header(&m, "x-amz-tagging") == NULL);
    ASSERT_STREQ(obj_info_header(&m, "x-amz-meta-a"), "b");
    obj_info_release(&m);
    objlayer_close(f.ol);
}

TEST(object_update_meta_with_a_drive_offline_then_back)
{
    struct fixture f;
    struct obj_info m;
    struct heal_report r = { 0 };

    fixture_open(&f, true);
    obj_info_init(&m);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    ASSERT_OK(object_test_put(f.ol, "k", (const uint8_t *)"hello", 5, HEADERS));
    /* Drive 0 misses the edit: it keeps the older record of the same version. */
    drive_faulty_fail_after(f.drives[0], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    ASSERT_OK(add_tag(f.ol, "b", "k", tag_t));
    drive_faulty_fail_after(f.drives[0], 0, 0, 0);
    ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &m));
    ASSERT_STREQ(obj_info_header(&m, "x-amz-tagging"), "t=1");
    ASSERT_OK(objlayer_heal_object(f.ol, NULL, "b", "k", &r));
    /* Now the three others can go one by one: drive 0 was brought up to date. */
    drive_faulty_go_offline(f.drives[1]);
    drive_faulty_go_offline(f.drives[2]);
    ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &m));
    ASSERT_STREQ(obj_info_header(&m, "x-amz-tagging"), "t=1");
    ASSERT_OK(object_test_check_read(f.ol, "k", (const uint8_t *)"hello", 5));
    obj_info_release(&m);
    objlayer_close(f.ol);
}

TEST(object_update_meta_below_quorum_rolls_back)
{
    struct fixture f;
    struct obj_info m;

    fixture_open(&f, true);
    obj_info_init(&m);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    ASSERT_OK(object_test_put(f.ol, "k", (const uint8_t *)"hello", 5, HEADERS));
    /* EC 2+2: write quorum 3; two failed commits leave 2. */
    drive_faulty_fail_after(f.drives[0], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    drive_faulty_fail_after(f.drives[1], DRIVE_FAULTY_OP_META_COMMIT, 1, -ERR_IO);
    ASSERT_EQ(add_tag(f.ol, "b", "k", tag_t), -ERR_QUORUM);
    drive_faulty_fail_after(f.drives[0], 0, 0, 0);
    drive_faulty_fail_after(f.drives[1], 0, 0, 0);
    ASSERT_OK(objlayer_head(f.ol, NULL, "b", "k", &m));
    ASSERT(obj_info_header(&m, "x-amz-tagging") == NULL);
    ASSERT_OK(object_test_check_read(f.ol, "k", (const uint8_t *)"hello", 5));
    obj_info_release(&m);
    objlayer_close(f.ol);
}

TEST(object_bucket_config_documents)
{
    struct fixture f;
    struct buf doc = BUF_INIT;
    struct obj_bucket *l;
    size_t n;

    fixture_open(&f, false);
    ASSERT_EQ(objlayer_bucket_config_get(f.ol, NULL, "b", "cors", &doc), -ERR_BUCKET_NOT_FOUND);
    ASSERT_EQ(objlayer_bucket_config_put(f.ol, NULL, "b", "cors", SLICE_LIT("x")),
              -ERR_BUCKET_NOT_FOUND);
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    ASSERT_EQ(objlayer_bucket_config_get(f.ol, NULL, "b", "cors", &doc), -ERR_NOT_FOUND);
    ASSERT_OK(objlayer_bucket_config_delete(f.ol, NULL, "b", "cors")); /* none: fine */
    ASSERT_OK(objlayer_bucket_config_put(f.ol, NULL, "b", "cors", SLICE_LIT("<CORS/>")));
    ASSERT_OK(objlayer_bucket_config_put(f.ol, NULL, "b", "tagging", SLICE_LIT("a=1")));
    ASSERT_OK(objlayer_bucket_config_get(f.ol, NULL, "b", "cors", &doc));
    ASSERT_STREQ(doc.ptr, "<CORS/>");
    buf_clear(&doc);
    ASSERT_OK(objlayer_bucket_config_put(f.ol, NULL, "b", "cors", SLICE_LIT("<CORS2/>")));
    ASSERT_OK(objlayer_bucket_config_get(f.ol, NULL, "b", "cors", &doc));
    ASSERT_STREQ(doc.ptr, "<CORS2/>");
    buf_clear(&doc);
    /* The reserved bucket is not listed; the client bucket is still empty. */
    ASSERT_OK(objlayer_bucket_list(f.ol, NULL, &l, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(l[0].name, "b");
    free(l);
    ASSERT_OK(objlayer_bucket_config_delete(f.ol, NULL, "b", "cors"));
    ASSERT_EQ(objlayer_bucket_config_get(f.ol, NULL, "b", "cors", &doc), -ERR_NOT_FOUND);
    /* Deleting the bucket drops its documents: a new bucket of that name has none. */
    ASSERT_OK(objlayer_bucket_delete(f.ol, NULL, "b"));
    ASSERT_OK(objlayer_bucket_make(f.ol, NULL, "b"));
    ASSERT_EQ(objlayer_bucket_config_get(f.ol, NULL, "b", "tagging", &doc), -ERR_NOT_FOUND);
    buf_release(&doc);
    objlayer_close(f.ol);
}
