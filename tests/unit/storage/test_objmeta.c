/* tests/unit/storage/test_objmeta.c: struct obj_meta, its headers and its binary record. */
#include "util/base.h"

#include "harness.h"
#include "storage/objmeta.h"
#include "util/buf.h"

static void
sample(struct obj_meta *m, bool with_inline)
{
    objmeta_init(m);
    objmeta_new_vid(m->vid);
    m->size = 0x0102030405060708ull;
    m->mtime_ns = -12345; /* signed times survive */
    snprintf(m->etag, sizeof(m->etag), "%s", "9e107d9d372bb6826bd81d3542a419d6-12");
    objmeta_add_header(m, "content-type", SLICE_LIT("image/png"));
    objmeta_add_header(m, "x-amz-meta-empty", SLICE_LIT(""));
    objmeta_add_header(m, "x-amz-meta-odd", SLICE_LIT("caf\xc3\xa9 \xff"));
    m->k = 4;
    m->m = 2;
    m->block_size = 1 << 20;
    m->shard_idx = 5;
    memcpy(m->dist, (const uint8_t[]){ 3, 4, 5, 0, 1, 2 }, 6);
    m->reduced = !with_inline; /* both values of the flag are round-tripped */
    if (with_inline) {
        size_t i;

        m->is_inline = true;
        for (i = 0; i < 300; i++)
            buf_addch(&m->inline_data, (char)(i * 7));
    }
}

static void
assert_same(const struct obj_meta *a, const struct obj_meta *b)
{
    ASSERT_STREQ(a->vid, b->vid);
    ASSERT(a->size == b->size);
    ASSERT_EQ(a->mtime_ns, b->mtime_ns);
    ASSERT_STREQ(a->etag, b->etag);
    ASSERT_EQ(a->headers.len, b->headers.len);
    ASSERT_MEMEQ(a->headers.ptr, b->headers.ptr, a->headers.len);
    ASSERT_EQ(a->k, b->k);
    ASSERT_EQ(a->m, b->m);
    ASSERT_EQ(a->block_size, b->block_size);
    ASSERT_EQ(a->shard_idx, b->shard_idx);
    ASSERT_MEMEQ(a->dist, b->dist, sizeof(a->dist));
    ASSERT_EQ(a->is_inline, b->is_inline);
    ASSERT_EQ(a->reduced, b->reduced);
    ASSERT_EQ(a->inline_data.len, b->inline_data.len);
    ASSERT_MEMEQ(a->inline_data.ptr, b->inline_data.ptr, a->inline_data.len);
    ASSERT_EQ(a->parts.len, b->parts.len);
    ASSERT_MEMEQ(a->parts.ptr, b->parts.ptr, a->parts.len);
}

TEST(storage_objmeta_roundtrip)
{
    struct obj_meta m, got, cp;
    struct buf rec = BUF_INIT;
    int with_inline;

    for (with_inline = 0; with_inline < 2; with_inline++) {
        sample(&m, with_inline);
        objmeta_init(&got);
        objmeta_init(&cp);
        ASSERT_OK(objmeta_validate(&m));
        buf_clear(&rec);
        objmeta_encode(&m, &rec);
        ASSERT_OK(objmeta_decode(buf_slice(&rec), &got));
        assert_same(&m, &got);
        objmeta_copy(&cp, &got);
        assert_same(&m, &cp);
        objmeta_release(&m);
        objmeta_release(&got);
        objmeta_release(&cp);
    }
    buf_release(&rec);
}

TEST(storage_objmeta_headers)
{
    struct obj_meta m;
    const char *name, *value;
    size_t pos = 0;
    int n = 0;

    sample(&m, false);
    ASSERT_STREQ(objmeta_header(&m, "content-type"), "image/png");
    ASSERT_STREQ(objmeta_header(&m, "x-amz-meta-empty"), "");
    ASSERT(objmeta_header(&m, "content") == NULL);
    ASSERT(objmeta_header(&m, "image/png") == NULL); /* values are not names */
    while (objmeta_header_next(&m, &pos, &name, &value))
        n++;
    ASSERT_EQ(n, 3);
    objmeta_release(&m);
    ASSERT(objmeta_header(&m, "content-type") == NULL);
}

TEST(storage_objmeta_new_vid)
{
    char a[OBJMETA_VID_LEN + 1], b[OBJMETA_VID_LEN + 1];

    objmeta_new_vid(a);
    objmeta_new_vid(b);
    ASSERT(objmeta_vid_is_valid(a));
    ASSERT(strcmp(a, b) != 0);
    ASSERT(!objmeta_vid_is_valid("0123456789ABCDEF0123456789abcdef"));
    ASSERT(!objmeta_vid_is_valid("0123456789abcdef0123456789abcde"));
    ASSERT(!objmeta_vid_is_valid("0123456789abcdef0123456789abcdef0"));
    ASSERT(!objmeta_vid_is_valid("../../../../../../../../../../etc"));
}

TEST(storage_objmeta_every_corruption_rejected)
{
    struct obj_meta m, got;
    struct buf rec = BUF_INIT;
    size_t i;
    unsigned x;

    sample(&m, true);
    objmeta_init(&got);
    objmeta_encode(&m, &rec);
    for (i = 0; i < rec.len; i++) {
        for (x = 1; x < 256; x++) {
            rec.ptr[i] ^= (char)x;
            ASSERT_EQ(objmeta_decode(buf_slice(&rec), &got), -ERR_CORRUPT);
            ASSERT_EQ(got.headers.len, 0); /* left empty on error */
            rec.ptr[i] ^= (char)x;
        }
    }
    for (i = 0; i < rec.len; i++) {
        char *copy = xmemdup(rec.ptr, i); /* exact size: ASan catches any over-read */

        ASSERT_EQ(objmeta_decode(slice_make(copy, i), &got), -ERR_CORRUPT);
        free(copy);
    }
    ASSERT_OK(objmeta_decode(buf_slice(&rec), &got));
    buf_add(&rec, "", 1);
    ASSERT_EQ(objmeta_decode(buf_slice(&rec), &got), -ERR_CORRUPT); /* trailing byte */
    buf_release(&rec);
    objmeta_release(&m);
    objmeta_release(&got);
}

/* A record with a valid checksum but fields out of range still does not decode. */
TEST(storage_objmeta_range_checks)
{
    struct obj_meta m, got;
    struct buf rec = BUF_INIT;
    int c;

    objmeta_init(&got);
    for (c = 0; c < 8; c++) {
        sample(&m, false);
        switch (c) {
        case 0:
            m.k = 0;
            break;
        case 1:
            m.k = 10;
            m.m = 7;
            break;
        case 2:
            m.shard_idx = 6;
            break;
        case 3:
            m.dist[2] = 6;
            break;
        case 4:
            m.vid[3] = 'G';
            break;
        case 5:
            m.vid[31] = '\0';
            break;
        case 6:
            buf_add(&m.inline_data, "x", 1);
            break; /* inline bytes on a non-inline record */
        case 7:
            buf_add(&m.headers, "dangling", 8);
            break;
        }
        ASSERT_EQ(objmeta_validate(&m), -ERR_INVAL);
        buf_clear(&rec);
        objmeta_encode(&m, &rec);
        ASSERT_EQ(objmeta_decode(buf_slice(&rec), &got), -ERR_CORRUPT);
        objmeta_release(&m);
    }
    sample(&m, false);
    memset(m.etag, 'e', sizeof(m.etag) - 1); /* 71 characters: the longest etag */
    ASSERT_OK(objmeta_validate(&m));
    buf_clear(&rec);
    objmeta_encode(&m, &rec);
    ASSERT_OK(objmeta_decode(buf_slice(&rec), &got));
    ASSERT_EQ(strlen(got.etag), sizeof(m.etag) - 1);
    ASSERT_EQ(objmeta_decode(SLICE_NULL, &got), -ERR_CORRUPT);
    objmeta_release(&m);
    objmeta_release(&got);
    buf_release(&rec);
}

/* A sample multipart record: three parts adding up to the size. */
static void
sample_parts(struct obj_meta *m)
{
    static const uint64_t sizes[] = { 5u << 20, 5u << 20, 123 };
    static const uint32_t numbers[] = { 1, 7, 10000 };
    size_t i;

    sample(m, false);
    m->size = 0;
    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        struct obj_part p;

        memset(&p, 0, sizeof(p));
        p.number = numbers[i];
        p.size = sizes[i];
        snprintf(p.etag, sizeof(p.etag), "%032zx", i + 1);
        if (i == 1)
            snprintf(p.checksum, sizeof(p.checksum), "crc32:AAAAAA==");
        objmeta_add_part(m, &p);
        m->size += sizes[i];
    }
}

TEST(storage_objmeta_parts_roundtrip)
{
    struct obj_meta m, got, cp;
    struct buf rec = BUF_INIT, plain = BUF_INIT;
    size_t i;

    sample_parts(&m);
    objmeta_init(&got);
    objmeta_init(&cp);
    ASSERT_OK(objmeta_validate(&m));
    objmeta_encode(&m, &rec);
    ASSERT_EQ(rec.ptr[1], 2); /* version 2: with parts */
    ASSERT_OK(objmeta_decode(buf_slice(&rec), &got));
    assert_same(&m, &got);
    ASSERT_EQ(objmeta_nparts(&got), 3);
    objmeta_copy(&cp, &got);
    for (i = 0; i < 3; i++) {
        ASSERT_EQ(objmeta_part(&cp, i)->number, objmeta_part(&m, i)->number);
        ASSERT(objmeta_part(&cp, i)->size == objmeta_part(&m, i)->size);
        ASSERT_STREQ(objmeta_part(&cp, i)->etag, objmeta_part(&m, i)->etag);
        ASSERT_STREQ(objmeta_part(&cp, i)->checksum, objmeta_part(&m, i)->checksum);
    }
    /* every flipped byte and every truncation of a record with parts is caught */
    for (i = 0; i < rec.len; i++) {
        rec.ptr[i] ^= 0x20;
        ASSERT_EQ(objmeta_decode(buf_slice(&rec), &got), -ERR_CORRUPT);
        rec.ptr[i] ^= 0x20;
        ASSERT_EQ(objmeta_decode(slice_make(rec.ptr, i), &got), -ERR_CORRUPT);
    }
    /* without parts the record stays version 1 */
    objmeta_release(&cp);
    sample(&cp, false);
    objmeta_encode(&cp, &plain);
    ASSERT_EQ(plain.ptr[1], 1);
    buf_release(&rec);
    buf_release(&plain);
    objmeta_release(&m);
    objmeta_release(&got);
    objmeta_release(&cp);
}

TEST(storage_objmeta_parts_range_checks)
{
    struct obj_meta m, got;
    struct buf rec = BUF_INIT;
    struct obj_part *p;
    int c;

    objmeta_init(&got);
    for (c = 0; c < 6; c++) {
        sample_parts(&m);
        p = (struct obj_part *)(void *)m.parts.ptr;
        switch (c) {
        case 0:
            m.size++;
            break; /* sizes do not add up */
        case 1:
            p[1].number = 1;
            break; /* not ascending */
        case 2:
            p[2].number = 10001;
            break; /* beyond 10,000 */
        case 3:
            p[0].number = 0;
            break; /* part 0 */
        case 4:
            m.is_inline = true;
            break; /* parts are never inline */
        case 5:
            buf_add(&m.parts, "x", 1);
            break; /* a partial entry */
        }
        ASSERT_EQ(objmeta_validate(&m), -ERR_INVAL);
        if (c != 5) {
            buf_clear(&rec);
            objmeta_encode(&m, &rec);
            ASSERT_EQ(objmeta_decode(buf_slice(&rec), &got), -ERR_CORRUPT);
        }
        objmeta_release(&m);
    }
    buf_release(&rec);
    objmeta_release(&got);
}

TEST(storage_objmeta_remove_header)
{
    struct obj_meta m;
    size_t pos = 0;
    const char *n, *v;
    int count = 0;

    objmeta_init(&m);
    objmeta_add_header(&m, "a", SLICE_LIT("1"));
    objmeta_add_header(&m, "x-amz-tagging", SLICE_LIT("k=v"));
    objmeta_add_header(&m, "b", SLICE_LIT(""));
    objmeta_add_header(&m, "x-amz-tagging", SLICE_LIT("again"));
    objmeta_remove_header(&m, "x-amz-tagging");
    objmeta_remove_header(&m, "absent");
    ASSERT(objmeta_header(&m, "x-amz-tagging") == NULL);
    ASSERT_STREQ(objmeta_header(&m, "a"), "1");
    ASSERT_STREQ(objmeta_header(&m, "b"), "");
    while (objmeta_header_next(&m, &pos, &n, &v))
        count++;
    ASSERT_EQ(count, 2);
    ASSERT_OK(objmeta_validate(&(struct obj_meta){
        .vid = "0123456789abcdef0123456789abcdef", .k = 1, .headers = m.headers }));
    objmeta_remove_header(&m, "a");
    objmeta_remove_header(&m, "b");
    ASSERT_EQ(m.headers.len, 0);
    objmeta_release(&m);
}
