/*
 * tests/unit/object/test_multipart.c: multipart uploads in the object layer
 * over in-memory drives: parts in any order and replaced, completion (bytes,
 * ETag, parts list), the client's mistakes, abort, listings, healing of a
 * completed object, a drive offline during the upload, stale cleanup.
 */
#include "util/base.h"

#include <openssl/evp.h>

#include "harness.h"
#include "object_test.h"
#include "object/internal.h"
#include "object/objlayer.h"
#include "storage/drive.h"
#include "util/clock.h"
#include "util/enc.h"

#define NDRIVES 4
#define MiB (1u << 20)

static int
put_part(struct objlayer *ol, const char *key, const char *id, unsigned number, const uint8_t *p,
         size_t n, char etag[36])
{
    struct obj_put_opts opts = { .size = (int64_t)n };
    struct obj_info info;
    struct obj_put *put;
    int rc = objlayer_mp_part_begin(ol, NULL, "b", key, id, number, &opts, &put);

    if (rc < 0)
        return rc;
    rc = obj_put_write(put, p, n);
    if (rc < 0) {
        obj_put_abort(put);
        return rc;
    }
    obj_info_init(&info);
    rc = obj_put_finish(put, &info);
    if (rc == 0 && etag)
        snprintf(etag, 36, "%.35s", info.etag);
    obj_info_release(&info);
    return rc;
}

/* The S3 ETag of a multipart object: hex MD5 of the parts' binary MD5s, "-N". */
static void
mp_etag(const char *const *etags, size_t n, char out[72])
{
    uint8_t raw[16 * 8], md[16];
    unsigned len;
    size_t i;

    for (i = 0; i < n; i++)
        ASSERT_OK(hex_decode(slice_cstr(etags[i]), raw + 16 * i, 16));
    EVP_Digest(raw, 16 * n, md, &len, EVP_md5(), NULL);
    hex_encode_to(out, md, sizeof(md));
    snprintf(out + 32, 40, "-%zu", n);
}

static int
count_part_cb(void *arg, const struct obj_info_part *part, int64_t mtime_ns)
{
    struct buf *b = arg;

    buf_addf(b, "%u:%llu|", part->number, (unsigned long long)part->size);
    return 0;
}

TEST(object_mp_roundtrip)
{
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
    char id[OBJMETA_VID_LEN + 1], etags[3][36], want[72];
    const char *e[3] = { etags[0], etags[1], etags[2] };
    size_t sizes[3] = { 5 * MiB, 5 * MiB + 7, 123 }, total = 0, i;
    struct obj_put_opts opts = { .headers = SLICE_LIT("content-type\0image/png\0") };
    struct obj_mp_part parts[3];
    struct obj_info info, st;
    struct buf listed = BUF_INIT;
    uint8_t *data, *wrong;

    object_test_open_mem(&ol, drives, NDRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    for (i = 0; i < 3; i++)
        total += sizes[i];
    data = xmalloc(total);
    object_test_fill(data, total, 7);
    wrong = xmalloc(sizes[1]);
    object_test_fill(wrong, sizes[1], 8);
    ASSERT_OK(objlayer_mp_create(ol, NULL, "b", "dir/obj", &opts, id));
    ASSERT(objmeta_vid_is_valid(id));
    /* out of order, and part 2 first uploaded with other bytes, then replaced */
    ASSERT_OK(put_part(ol, "dir/obj", id, 3, data + sizes[0] + sizes[1], sizes[2], etags[2]));
    ASSERT_OK(put_part(ol, "dir/obj", id, 2, wrong, sizes[1], NULL));
    ASSERT_OK(put_part(ol, "dir/obj", id, 1, data, sizes[0], etags[0]));
    ASSERT_OK(put_part(ol, "dir/obj", id, 2, data + sizes[0], sizes[1], etags[1]));
    ASSERT_OK(
        objlayer_mp_list_parts(ol, NULL, "b", "dir/obj", id, 0, 0, false, count_part_cb, &listed));
    ASSERT_STREQ(listed.ptr, "1:5242880|2:5242887|3:123|");
    buf_clear(&listed);
    ASSERT_OK(
        objlayer_mp_list_parts(ol, NULL, "b", "dir/obj", id, 1, 1, true, count_part_cb, &listed));
    ASSERT_STREQ(listed.ptr, "2:5242887|");
    /* nothing is visible before completion */
    obj_info_init(&info);
    ASSERT_EQ(objlayer_head(ol, NULL, "b", "dir/obj", &info), -ERR_KEY_NOT_FOUND);
    for (i = 0; i < 3; i++) {
        parts[i].number = (unsigned)i + 1;
        snprintf(parts[i].etag, sizeof(parts[i].etag), "\"%.32s\"", etags[i]);
    }
    ASSERT_OK(objlayer_mp_complete(ol, NULL, "b", "dir/obj", id, parts, 3, NULL, &info));
    mp_etag(e, 3, want);
    ASSERT_STREQ(info.etag, want);
    ASSERT(info.size == total);
    obj_info_release(&info);
    ASSERT_OK(object_test_check_read(ol, "dir/obj", data, total));
    ASSERT_OK(objlayer_head(ol, NULL, "b", "dir/obj", &info));
    ASSERT_EQ(obj_info_nparts(&info), 3);
    ASSERT_EQ(obj_info_part(&info, 1)->number, 2);
    ASSERT(obj_info_part(&info, 1)->size == sizes[1]);
    ASSERT_STREQ(obj_info_header(&info, "content-type"), "image/png");
    ASSERT_STREQ(info.etag, want);
    obj_info_release(&info);
    /* the upload is gone */
    obj_info_init(&st);
    ASSERT_EQ(objlayer_mp_stat(ol, NULL, "b", "dir/obj", id, &st), -ERR_NO_SUCH_UPLOAD);
    ASSERT_EQ(objlayer_mp_complete(ol, NULL, "b", "dir/obj", id, parts, 3, NULL, NULL),
              -ERR_NO_SUCH_UPLOAD);
    obj_info_release(&st);
    buf_release(&listed);
    free(data);
    free(wrong);
    objlayer_close(ol);
}

/* Reads `n` bytes at `off` of b/key and compares. */
static void
assert_range(struct objlayer *ol, const char *key, const uint8_t *want, uint64_t off, size_t n)
{
    struct obj_info info;
    struct obj_get *g;
    uint8_t *buf = xmalloc(n);

    obj_info_init(&info);
    ASSERT_OK(objlayer_get_open(ol, NULL, "b", key, &g, &info));
    ASSERT_EQ(obj_get_read(g, off, buf, n), (ssize_t)n);
    ASSERT(memcmp(buf, want + off, n) == 0);
    obj_get_close(g);
    obj_info_release(&info);
    free(buf);
}

static void
make_object(struct objlayer *ol, const char *key, const uint8_t *data, const size_t *sizes,
            size_t n)
{
    struct obj_put_opts opts = { .size = 0 };
    struct obj_mp_part parts[8];
    char id[OBJMETA_VID_LEN + 1];
    size_t i, off = 0;

    ASSERT(n <= 8);
    ASSERT_OK(objlayer_mp_create(ol, NULL, "b", key, &opts, id));
    for (i = 0; i < n; i++) {
        parts[i].number = (unsigned)(10 * i + 5);
        ASSERT_OK(put_part(ol, key, id, parts[i].number, data + off, sizes[i], parts[i].etag));
        off += sizes[i];
    }
    ASSERT_OK(objlayer_mp_complete(ol, NULL, "b", key, id, parts, n, NULL, NULL));
}

TEST(object_mp_ranges_across_parts_and_heal)
{
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
    size_t sizes[3] = { 5 * MiB + 3, 5 * MiB, 1 }, total = 10 * MiB + 4;
    struct heal_report r = { 0 };
    uint8_t *data = xmalloc(total);

    object_test_open_mem(&ol, drives, NDRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    object_test_fill(data, total, 11);
    make_object(ol, "k", data, sizes, 3);
    assert_range(ol, "k", data, 5 * MiB - 10, 40); /* across parts 1 and 2 */
    assert_range(ol, "k", data, total - 2, 2);     /* the 1-byte last part */
    assert_range(ol, "k", data, 3 * MiB, 7 * MiB); /* long, across every block edge */
    ASSERT_OK(drive_reset(drives[1]));
    ASSERT_OK(drive_reset(drives[2]));
    ASSERT_OK(object_test_check_read(ol, "k", data, total));
    ASSERT_OK(objlayer_heal(ol, NULL, "b", SLICE_NULL, &r));
    ASSERT_EQ(r.objects_failed, 0);
    ASSERT_OK(drive_reset(drives[0]));
    ASSERT_OK(drive_reset(drives[3]));
    ASSERT_OK(object_test_check_read(ol, "k", data, total));
    free(data);
    objlayer_close(ol);
}

TEST(object_mp_client_mistakes)
{
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
    struct obj_put_opts opts = { .size = 0 };
    char id[OBJMETA_VID_LEN + 1], small[36], big[36], last[36];
    struct obj_mp_part parts[3];
    struct obj_put *p;
    uint8_t *data = xmalloc(5 * MiB + 10);

    object_test_open_mem(&ol, drives, NDRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    object_test_fill(data, 5 * MiB + 10, 3);
    ASSERT_EQ(objlayer_mp_create(ol, NULL, "nob", "k", &opts, id), -ERR_BUCKET_NOT_FOUND);
    ASSERT_OK(objlayer_mp_create(ol, NULL, "b", "k", &opts, id));
    ASSERT_EQ(objlayer_mp_part_begin(ol, NULL, "b", "k", id, 0, &opts, &p), -ERR_INVAL);
    ASSERT_EQ(objlayer_mp_part_begin(ol, NULL, "b", "k", id, 10001, &opts, &p), -ERR_INVAL);
    ASSERT_EQ(objlayer_mp_part_begin(ol, NULL, "b", "k", "0123", 1, &opts, &p),
              -ERR_NO_SUCH_UPLOAD);
    ASSERT_EQ(objlayer_mp_part_begin(ol, NULL, "b", "other", id, 1, &opts, &p),
              -ERR_NO_SUCH_UPLOAD);
    ASSERT_OK(put_part(ol, "k", id, 1, data, 10, small));
    ASSERT_OK(put_part(ol, "k", id, 2, data, 5 * MiB, big));
    ASSERT_OK(put_part(ol, "k", id, 3, data, 0, last)); /* an empty last part */
    parts[0] = (struct obj_mp_part){ 2, "" };
    snprintf(parts[0].etag, sizeof(parts[0].etag), "%s", big);
    parts[1] = (struct obj_mp_part){ 1, "" };
    snprintf(parts[1].etag, sizeof(parts[1].etag), "%s", small);
    ASSERT_EQ(objlayer_mp_complete(ol, NULL, "b", "k", id, parts, 2, NULL, NULL),
              -ERR_INVALID_PART_ORDER);
    parts[0].number = 1;
    parts[1].number = 2;
    snprintf(parts[0].etag, sizeof(parts[0].etag), "%s", big); /* the wrong ETag for part 1 */
    ASSERT_EQ(objlayer_mp_complete(ol, NULL, "b", "k", id, parts, 2, NULL, NULL),
              -ERR_INVALID_PART);
    snprintf(parts[0].etag, sizeof(parts[0].etag), "%s", small);
    snprintf(parts[1].etag, sizeof(parts[1].etag), "%s", big);
    ASSERT_EQ(objlayer_mp_complete(ol, NULL, "b", "k", id, parts, 2, NULL, NULL),
              -ERR_ENTITY_TOO_SMALL);
    parts[0] = (struct obj_mp_part){ 4, "" };
    snprintf(parts[0].etag, sizeof(parts[0].etag), "%s", small); /* never uploaded */
    ASSERT_EQ(objlayer_mp_complete(ol, NULL, "b", "k", id, parts, 1, NULL, NULL),
              -ERR_INVALID_PART);
    ASSERT_EQ(objlayer_mp_complete(ol, NULL, "b", "k", id, parts, 0, NULL, NULL), -ERR_INVAL);
    /* after all those, a valid completion of parts 2 and 3 (an empty last part) */
    parts[0] = (struct obj_mp_part){ 2, "" };
    snprintf(parts[0].etag, sizeof(parts[0].etag), "%s", big);
    parts[1] = (struct obj_mp_part){ 3, "" };
    snprintf(parts[1].etag, sizeof(parts[1].etag), "%s", last);
    ASSERT_OK(objlayer_mp_complete(ol, NULL, "b", "k", id, parts, 2, NULL, NULL));
    ASSERT_OK(object_test_check_read(ol, "k", data, 5 * MiB));
    free(data);
    objlayer_close(ol);
}

struct upload_names {
    struct buf out;
};

static int
upload_cb(void *arg, struct slice key, const char *upload_id, int64_t initiated_ns, bool reduced)
{
    struct upload_names *u = arg;

    buf_addslice(&u->out, key);
    buf_addch(&u->out, '|');
    return 0;
}

TEST(object_mp_abort_list_and_cleanup)
{
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
    struct obj_put_opts opts = { .size = 0 };
    char a1[OBJMETA_VID_LEN + 1], a2[OBJMETA_VID_LEN + 1], b1[OBJMETA_VID_LEN + 1];
    char c1[OBJMETA_VID_LEN + 1];
    struct upload_names u;
    struct obj_info st;
    uint8_t data[100];

    object_test_open_mem(&ol, drives, NDRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "other"));
    object_test_fill(data, sizeof(data), 1);
    ASSERT_OK(objlayer_mp_create(ol, NULL, "b", "a/x", &opts, a1));
    ASSERT_OK(objlayer_mp_create(ol, NULL, "b", "a/x", &opts, a2));
    ASSERT_OK(objlayer_mp_create(ol, NULL, "b", "a", &opts, b1));
    ASSERT_OK(objlayer_mp_create(ol, NULL, "other", "a", &opts, c1));
    ASSERT_OK(put_part(ol, "a/x", a1, 1, data, sizeof(data), NULL));
    buf_init(&u.out, 0);
    ASSERT_OK(objlayer_mp_list_uploads(ol, NULL, "b", SLICE_NULL, SLICE_NULL, NULL, upload_cb, &u));
    ASSERT_STREQ(u.out.ptr, "a|a/x|a/x|"); /* by key, then upload id; other buckets apart */
    buf_clear(&u.out);
    ASSERT_OK(
        objlayer_mp_list_uploads(ol, NULL, "b", SLICE_LIT("a/"), SLICE_NULL, NULL, upload_cb, &u));
    ASSERT_STREQ(u.out.ptr, "a/x|a/x|");
    buf_clear(&u.out);
    ASSERT_OK(
        objlayer_mp_list_uploads(ol, NULL, "b", SLICE_NULL, SLICE_LIT("a"), "", upload_cb, &u));
    ASSERT_STREQ(u.out.ptr, "a/x|a/x|"); /* key-marker alone skips every upload of "a" */
    buf_clear(&u.out);
    ASSERT_OK(objlayer_mp_list_uploads(ol, NULL, "b", SLICE_NULL, SLICE_LIT("a/x"),
                                       strcmp(a1, a2) < 0 ? a1 : a2, upload_cb, &u));
    ASSERT_STREQ(u.out.ptr, "a/x|");
    /* abort: the upload and its part go */
    ASSERT_OK(objlayer_mp_abort(ol, NULL, "b", "a/x", a1));
    ASSERT_EQ(objlayer_mp_abort(ol, NULL, "b", "a/x", a1), -ERR_NO_SUCH_UPLOAD);
    obj_info_init(&st);
    ASSERT_EQ(objlayer_mp_stat(ol, NULL, "b", "a/x", a1, &st), -ERR_NO_SUCH_UPLOAD);
    /* the age when the server is given none (--stale-uploads-after): 24 hours */
    ASSERT_EQ(ol->stale_upload_ns, OBJ_STALE_UPLOAD_NS);
    ASSERT_EQ(OBJ_STALE_UPLOAD_NS, 86400LL * 1000000000LL);
    /* cleanup by age: nothing is older than an hour ago; everything older than now + 1 s */
    ASSERT_EQ(objlayer_mp_cleanup(ol, NULL, clock_now_ns() - 3600 * 1000000000LL), 0);
    ASSERT_OK(objlayer_mp_stat(ol, NULL, "b", "a/x", a2, &st));
    ASSERT_EQ(objlayer_mp_cleanup(ol, NULL, clock_now_ns() + 1000000000LL), 3);
    ASSERT_EQ(objlayer_mp_stat(ol, NULL, "b", "a/x", a2, &st), -ERR_NO_SUCH_UPLOAD);
    ASSERT_EQ(objlayer_mp_stat(ol, NULL, "other", "a", c1, &st), -ERR_NO_SUCH_UPLOAD);
    /* dropping a bucket's uploads */
    ASSERT_OK(objlayer_mp_create(ol, NULL, "other", "z", &opts, c1));
    ASSERT_OK(objlayer_mp_drop_bucket(ol, NULL, "other"));
    ASSERT_EQ(objlayer_mp_stat(ol, NULL, "other", "z", c1, &st), -ERR_NO_SUCH_UPLOAD);
    obj_info_release(&st);
    buf_release(&u.out);
    objlayer_close(ol);
}

/* A drive offline while the parts are written: completion commits on the other three. */
TEST(object_mp_drive_offline_during_upload)
{
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
    struct obj_put_opts opts = { .size = 0 };
    struct obj_mp_part parts[2];
    char id[OBJMETA_VID_LEN + 1];
    size_t total = 5 * MiB + 99;
    uint8_t *data = xmalloc(total);
    struct heal_report r = { 0 };

    object_test_open_mem(&ol, drives, NDRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    object_test_fill(data, total, 5);
    ASSERT_OK(objlayer_mp_create(ol, NULL, "b", "k", &opts, id));
    ASSERT_OK(put_part(ol, "k", id, 1, data, 5 * MiB, parts[0].etag));
    parts[0].number = 1;
    drive_set_offline(drives[2], -ERR_IO);
    ASSERT_OK(put_part(ol, "k", id, 2, data + 5 * MiB, 99, parts[1].etag));
    parts[1].number = 2;
    ASSERT_OK(objlayer_mp_complete(ol, NULL, "b", "k", id, parts, 2, NULL, NULL));
    ASSERT_OK(object_test_check_read(ol, "k", data, total));
    ASSERT_OK(drive_reset(drives[2])); /* back, empty */
    ASSERT_OK(objlayer_heal(ol, NULL, "b", SLICE_NULL, &r));
    ASSERT_EQ(r.objects_failed, 0);
    ASSERT_OK(drive_reset(drives[0]));
    ASSERT_OK(drive_reset(drives[1]));
    ASSERT_OK(object_test_check_read(ol, "k", data, total));
    free(data);
    objlayer_close(ol);
}

struct edit_seen {
    char sums[2][72];
    int calls;
    int refuse;
};

static int
edit_cb(void *arg, struct obj_info *m)
{
    struct edit_seen *e = arg;
    size_t i;

    e->calls++;
    for (i = 0; i < obj_info_nparts(m) && i < 2; i++)
        snprintf(e->sums[i], sizeof(e->sums[i]), "%s", obj_info_part(m, i)->checksum);
    if (e->refuse)
        return e->refuse;
    obj_info_set_header(m, "x-amz-checksum-crc32", "whole-2");
    return 0;
}

/* The completion hook sees each part's checksum and may add headers or refuse. */
TEST(object_mp_complete_edit_hook)
{
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
    struct obj_put_opts opts = { .size = -1 };
    struct obj_mp_part parts[2];
    char id[OBJMETA_VID_LEN + 1];
    struct edit_seen seen = { .refuse = -ERR_BAD_DIGEST };
    struct obj_complete_opts eo = { .edit = edit_cb, .edit_arg = &seen };
    struct obj_info info, st;
    uint8_t *data = xmalloc(5 * MiB + 1);
    unsigned i;

    object_test_open_mem(&ol, drives, NDRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    object_test_fill(data, 5 * MiB + 1, 9);
    ASSERT_OK(objlayer_mp_create(ol, NULL, "b", "k", &opts, id));
    for (i = 0; i < 2; i++) {
        struct obj_put *p;

        ASSERT_OK(objlayer_mp_part_begin(ol, NULL, "b", "k", id, i + 1, &opts, &p));
        ASSERT_OK(obj_put_write(p, data + i * 5 * MiB, i ? 1 : 5 * MiB));
        if (i == 0) /* a checksum known only at the end of the body (a trailer) */
            obj_put_add_header(p, "x-amz-checksum-crc32", SLICE_LIT("AAAAAA=="));
        obj_info_init(&info);
        ASSERT_OK(obj_put_finish(p, &info));
        parts[i].number = i + 1;
        snprintf(parts[i].etag, sizeof(parts[i].etag), "%.35s", info.etag);
        obj_info_release(&info);
    }
    ASSERT_EQ(objlayer_mp_complete(ol, NULL, "b", "k", id, parts, 2, &eo, NULL), -ERR_BAD_DIGEST);
    ASSERT_STREQ(seen.sums[0], "crc32:AAAAAA==");
    ASSERT_STREQ(seen.sums[1], "");
    obj_info_init(&st);
    ASSERT_OK(objlayer_mp_stat(ol, NULL, "b", "k", id, &st)); /* refused: the upload stays */
    obj_info_release(&st);
    seen.refuse = 0;
    obj_info_init(&info);
    ASSERT_OK(objlayer_mp_complete(ol, NULL, "b", "k", id, parts, 2, &eo, &info));
    ASSERT_EQ(seen.calls, 2);
    obj_info_release(&info);
    ASSERT_OK(objlayer_head(ol, NULL, "b", "k", &info));
    ASSERT_STREQ(obj_info_header(&info, "x-amz-checksum-crc32"), "whole-2");
    ASSERT_STREQ(obj_info_part(&info, 0)->checksum, "crc32:AAAAAA==");
    obj_info_release(&info);
    ASSERT_OK(object_test_check_read(ol, "k", data, 5 * MiB + 1));
    free(data);
    objlayer_close(ol);
}

TEST(object_conditional_writes_checked_at_commit)
{
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
    struct obj_cond absent_only = { .if_none_match = true };
    struct obj_put_opts opts = { .size = 3, .cond = &absent_only };
    struct obj_complete_opts co = { .cond = &absent_only };
    struct obj_mp_part part = { 1, "" };
    char id[OBJMETA_VID_LEN + 1];
    struct obj_put *p;

    object_test_open_mem(&ol, drives, NDRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(objlayer_put_begin(ol, NULL, "b", "k", &opts, &p));
    ASSERT_OK(obj_put_write(p, "one", 3));
    ASSERT_OK(obj_put_finish(p, NULL));
    ASSERT_OK(objlayer_put_begin(ol, NULL, "b", "k", &opts, &p));
    ASSERT_OK(obj_put_write(p, "two", 3));
    ASSERT_EQ(obj_put_finish(p, NULL), -ERR_PRECONDITION_FAILED);
    ASSERT_OK(object_test_check_read(ol, "k", (const uint8_t *)"one", 3));
    /* the same on a completion */
    opts.cond = NULL;
    opts.size = -1;
    ASSERT_OK(objlayer_mp_create(ol, NULL, "b", "k", &opts, id));
    ASSERT_OK(put_part(ol, "k", id, 1, (const uint8_t *)"three", 5, part.etag));
    ASSERT_EQ(objlayer_mp_complete(ol, NULL, "b", "k", id, &part, 1, &co, NULL),
              -ERR_PRECONDITION_FAILED);
    ASSERT_OK(object_test_check_read(ol, "k", (const uint8_t *)"one", 3));
    ASSERT_OK(objlayer_delete(ol, NULL, "b", "k"));
    ASSERT_OK(objlayer_mp_complete(ol, NULL, "b", "k", id, &part, 1, &co, NULL));
    ASSERT_OK(object_test_check_read(ol, "k", (const uint8_t *)"three", 5));
    objlayer_close(ol);
}

/*
 * Two erasure sets: uploads and parts must land in the set of the object
 * to be, also for keys containing the byte the system keys use as separator.
 */
TEST(object_mp_two_sets_and_odd_keys)
{
    struct drive *drives[8];
    struct objlayer_config cfg = { .ndrives = 8, .sync = true, .set_size = 4, .prebuilt = drives };
    struct obj_put_opts opts = { .size = -1 };
    static const char *const keys[] = { "plain", "a\001b", "\001", "x\001y\001z", "dir/\001/k" };
    struct buf err = BUF_INIT;
    struct objlayer *ol;
    size_t i;

    for (i = 0; i < 8; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%zu", i);
        drives[i] = drive_mem_new(name);
    }
    if (objlayer_open(&cfg, &ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    for (i = 0; i < ARRAY_SIZE(keys); i++) {
        char id[OBJMETA_VID_LEN + 1];
        struct obj_mp_part part = { 1, "" };
        uint8_t data[300];

        object_test_fill(data, sizeof(data), (unsigned)i);
        ASSERT_OK(objlayer_mp_create(ol, NULL, "b", keys[i], &opts, id));
        ASSERT_OK(put_part(ol, keys[i], id, 1, data, sizeof(data), part.etag));
        ASSERT_OK(objlayer_mp_complete(ol, NULL, "b", keys[i], id, &part, 1, NULL, NULL));
        ASSERT_OK(object_test_check_read(ol, keys[i], data, sizeof(data)));
    }
    objlayer_close(ol);
}

static int
class_cb(void *arg, const struct obj_list_ent *e)
{
    struct buf *b = arg;

    buf_addf(b, "%.*s:%d|", (int)e->key.len, e->key.ptr, e->reduced);
    return 0;
}

/* REDUCED_REDUNDANCY: one parity shard (3+1 on 4 drives), kept in records and listings. */
TEST(object_reduced_redundancy)
{
    struct objlayer *ol;
    struct drive *drives[NDRIVES];
    struct obj_put_opts rr = { .size = 200000, .reduced_redundancy = true };
    struct obj_put_opts std = { .size = 200000 };
    struct obj_info info;
    struct buf listed = BUF_INIT;
    struct obj_put *p;
    uint8_t *data = xmalloc(200000);

    object_test_open_mem(&ol, drives, NDRIVES);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    object_test_fill(data, 200000, 4);
    ASSERT_OK(objlayer_put_begin(ol, NULL, "b", "rr", &rr, &p));
    ASSERT_OK(obj_put_write(p, data, 200000));
    ASSERT_OK(obj_put_finish(p, NULL));
    ASSERT_OK(objlayer_put_begin(ol, NULL, "b", "std", &std, &p));
    ASSERT_OK(obj_put_write(p, data, 200000));
    ASSERT_OK(obj_put_finish(p, NULL));
    obj_info_init(&info);
    ASSERT_OK(objlayer_head(ol, NULL, "b", "rr", &info));
    ASSERT_EQ(info.k, 3);
    ASSERT_EQ(info.m, 1);
    ASSERT(info.reduced);
    obj_info_release(&info);
    ASSERT_OK(objlayer_head(ol, NULL, "b", "std", &info));
    ASSERT_EQ(info.m, 2);
    ASSERT(!info.reduced);
    obj_info_release(&info);
    ASSERT_OK(objlayer_list(ol, NULL, "b", SLICE_NULL, SLICE_NULL, 0, class_cb, &listed));
    ASSERT_STREQ(listed.ptr, "rr:1|std:0|");
    /* one drive lost: the reduced object still reads (k = 3 of 4) */
    ASSERT_OK(drive_reset(drives[2]));
    ASSERT_OK(object_test_check_read(ol, "rr", data, 200000));
    buf_release(&listed);
    free(data);
    objlayer_close(ol);
}
