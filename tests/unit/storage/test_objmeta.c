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
    ASSERT_EQ(a->inline_data.len, b->inline_data.len);
    ASSERT_MEMEQ(a->inline_data.ptr, b->inline_data.ptr, a->inline_data.len);
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
        case 0: m.k = 0; break;
        case 1: m.k = 10; m.m = 7; break;
        case 2: m.shard_idx = 6; break;
        case 3: m.dist[2] = 6; break;
        case 4: m.vid[3] = 'G'; break;
        case 5: m.vid[31] = '\0'; break;
        case 6: buf_add(&m.inline_data, "x", 1); break; /* inline bytes on a non-inline record */
        case 7: buf_add(&m.headers, "dangling", 8); break;
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
