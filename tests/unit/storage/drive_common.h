/*
 * tests/unit/storage/drive_common.h: the drive.h semantics every drive
 * implementation must share, as functions over a `struct drive *`, run
 * against the local drive (test_drive_local.c) and the in-memory drive
 * (test_drive_mem.c) so the two cannot drift apart. Included by test files
 * only; everything here is static.
 */
#ifndef BASALT_TESTS_UNIT_STORAGE_DRIVE_COMMON_H
#define BASALT_TESTS_UNIT_STORAGE_DRIVE_COMMON_H

#include "util/base.h"

#include "harness.h"
#include "storage/drive.h"
#include "util/buf.h"

/* Fills a valid non-inline 2+1 record for `vid`. */
static UNUSED void
common_meta(struct obj_meta *m, const char *vid, uint64_t size)
{
    objmeta_init(m);
    memcpy(m->vid, vid, OBJMETA_VID_LEN + 1);
    m->size = size;
    m->mtime_ns = 1700000000123456789LL;
    snprintf(m->etag, sizeof(m->etag), "%s", "d41d8cd98f00b204e9800998ecf8427e");
    m->k = 2;
    m->m = 1;
    m->block_size = 1 << 20;
    m->shard_idx = 1;
    m->dist[0] = 2;
    m->dist[1] = 0;
    m->dist[2] = 1;
    objmeta_add_header(m, "content-type", SLICE_LIT("text/plain"));
}

/* Writes shard part 1 of `vid` with `data` and finishes it (left in tmp). */
static UNUSED void
common_write_shard(struct drive *d, const char *vid, const char *data)
{
    struct shard_writer *w = NULL;

    ASSERT_OK(drive_shard_create(d, vid, 1, &w));
    ASSERT_OK(drive_shard_append(w, data, strlen(data)));
    ASSERT_OK(drive_shard_finish(w));
}

/* Writes and commits a non-inline version of `key` holding `data`; fills `vid`. */
static UNUSED void
common_put(struct drive *d, const char *bucket, const char *key, const char *data,
           char vid[OBJMETA_VID_LEN + 1])
{
    struct obj_meta m;

    objmeta_new_vid(vid);
    common_write_shard(d, vid, data);
    common_meta(&m, vid, strlen(data));
    ASSERT_OK(drive_meta_commit(d, bucket, key, &m));
    objmeta_release(&m);
}

/* Commits an inline version of `key`. */
static UNUSED void
common_put_inline(struct drive *d, const char *bucket, const char *key)
{
    struct obj_meta m;
    char vid[OBJMETA_VID_LEN + 1];

    objmeta_new_vid(vid);
    common_meta(&m, vid, 3);
    m.is_inline = true;
    buf_add(&m.inline_data, "abc", 3);
    ASSERT_OK(drive_meta_commit(d, bucket, key, &m));
    objmeta_release(&m);
}

static UNUSED void
common_buckets(struct drive *d)
{
    struct bucket_ent *ents = NULL;
    int64_t ns = 0;
    size_t n = 0;
    char vid[OBJMETA_VID_LEN + 1];

    ASSERT_EQ(drive_bucket_stat(d, "b1", &ns), -ERR_NOT_FOUND);
    ASSERT_OK(drive_bucket_make(d, "b2", 22));
    ASSERT_OK(drive_bucket_make(d, "b1", 11));
    ASSERT_EQ(drive_bucket_make(d, "b1", 12), -ERR_EXISTS);
    ASSERT_OK(drive_bucket_stat(d, "b1", &ns));
    ASSERT_EQ(ns, 11);
    ASSERT_OK(drive_bucket_list(d, &ents, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STREQ(ents[0].name, "b1");
    ASSERT_STREQ(ents[1].name, "b2");
    ASSERT_EQ(ents[1].created_ns, 22);
    free(ents);
    common_put(d, "b1", "k", "data", vid);
    ASSERT_EQ(drive_bucket_delete(d, "b1", false), -ERR_NOT_EMPTY);
    ASSERT_EQ(drive_bucket_delete(d, "nope", false), -ERR_NOT_FOUND);
    ASSERT_OK(drive_bucket_delete(d, "b2", false));
    ASSERT_OK(drive_bucket_delete(d, "b1", true));
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, &n, 1), -ERR_NOT_FOUND);
    ASSERT_OK(drive_bucket_list(d, &ents, &n));
    ASSERT_EQ(n, 0);
    free(ents);
    ASSERT_EQ(
        drive_bucket_make(d, "0123456789012345678901234567890123456789012345678901234567890123", 1),
        -ERR_INVAL);
}

static UNUSED void
common_format(struct drive *d)
{
    struct buf b = BUF_INIT;

    ASSERT_EQ(drive_format_read(d, &b), -ERR_NOT_FOUND);
    ASSERT_OK(drive_format_write(d, SLICE_LIT("{\"id\":1}")));
    ASSERT_OK(drive_format_write(d, SLICE_LIT("{\"id\":2}")));
    ASSERT_OK(drive_format_read(d, &b));
    ASSERT_STREQ(b.ptr, "{\"id\":2}");
    buf_release(&b);
}

static UNUSED void
common_shards_and_commit(struct drive *d)
{
    char vid1[OBJMETA_VID_LEN + 1], vid2[OBJMETA_VID_LEN + 1];
    struct obj_meta m, got;
    char rd[64];

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    objmeta_new_vid(vid1);
    common_write_shard(d, vid1, "hello world");
    ASSERT_EQ(drive_shard_read(d, vid1, 1, 0, rd, sizeof(rd)), -ERR_NOT_FOUND); /* tmp only */
    common_meta(&m, vid1, 11);
    ASSERT_EQ(drive_meta_commit(d, "nobucket", "k", &m), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_shard_read(d, vid1, 1, 0, rd, sizeof(rd)), -ERR_NOT_FOUND);
    ASSERT_OK(drive_meta_commit(d, "b", "k", &m)); /* the shards stayed in tmp */
    ASSERT_OK(drive_meta_commit(d, "b", "k", &m)); /* the same version again */
    ASSERT_EQ(drive_shard_read(d, vid1, 1, 0, rd, sizeof(rd)), 11);
    ASSERT_MEMEQ(rd, "hello world", 11);
    ASSERT_EQ(drive_shard_read(d, vid1, 1, 6, rd, 3), 3);
    ASSERT_MEMEQ(rd, "wor", 3);
    ASSERT_EQ(drive_shard_read(d, vid1, 1, 100, rd, 3), 0);
    ASSERT_EQ(drive_shard_read(d, vid1, 2, 0, rd, 3), -ERR_NOT_FOUND);
    objmeta_init(&got);
    ASSERT_OK(drive_meta_read(d, "b", "k", &got));
    ASSERT_STREQ(got.vid, vid1);
    ASSERT_EQ(got.size, 11);
    ASSERT_STREQ(objmeta_header(&got, "content-type"), "text/plain");
    ASSERT_EQ(drive_meta_read(d, "b", "other", &got), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_meta_read(d, "nobucket", "k", &got), -ERR_NOT_FOUND);
    /* a new version replaces the old one and its shards */
    common_put(d, "b", "k", "second", vid2);
    ASSERT_EQ(drive_shard_read(d, vid1, 1, 0, rd, sizeof(rd)), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_shard_read(d, vid2, 1, 0, rd, sizeof(rd)), 6);
    ASSERT_OK(drive_meta_read(d, "b", "k", &got));
    ASSERT_STREQ(got.vid, vid2);
    /* a commit without shards in tmp */
    objmeta_new_vid(m.vid);
    ASSERT_EQ(drive_meta_commit(d, "b", "k", &m), -ERR_NOT_FOUND);
    /* an invalid record is refused before anything moves */
    m.k = 0;
    ASSERT_EQ(drive_meta_commit(d, "b", "k", &m), -ERR_INVAL);
    objmeta_release(&got);
    objmeta_release(&m);
}

static UNUSED void
common_abort_and_tmp_remove(struct drive *d)
{
    char vid[OBJMETA_VID_LEN + 1];
    struct shard_writer *w = NULL;
    struct obj_meta m;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    objmeta_new_vid(vid);
    ASSERT_OK(drive_shard_create(d, vid, 1, &w));
    ASSERT_OK(drive_shard_append(w, "xx", 2));
    drive_shard_abort(w);
    common_write_shard(d, vid, "abc");
    ASSERT_OK(drive_tmp_remove(d, vid));
    ASSERT_OK(drive_tmp_remove(d, vid)); /* absent is fine */
    common_meta(&m, vid, 3);
    ASSERT_EQ(drive_meta_commit(d, "b", "k", &m), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_shard_create(d, "../../etc", 1, &w), -ERR_INVAL);
    objmeta_release(&m);
}

static UNUSED void
common_inline(struct drive *d)
{
    struct obj_meta got;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put_inline(d, "b", "small");
    objmeta_init(&got);
    ASSERT_OK(drive_meta_read(d, "b", "small", &got));
    ASSERT(got.is_inline);
    ASSERT_EQ(got.inline_data.len, 3);
    ASSERT_MEMEQ(got.inline_data.ptr, "abc", 3);
    objmeta_release(&got);
}

static UNUSED void
common_meta_delete(struct drive *d)
{
    char vid[OBJMETA_VID_LEN + 1], other[OBJMETA_VID_LEN + 1];
    struct obj_meta got;
    char rd[8];

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "data", vid);
    objmeta_new_vid(other);
    ASSERT_EQ(drive_meta_delete(d, "b", "k", other), -ERR_NOT_FOUND);
    objmeta_init(&got);
    ASSERT_OK(drive_meta_read(d, "b", "k", &got));
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, rd, sizeof(rd)), 4);
    ASSERT_OK(drive_meta_delete(d, "b", "k", vid));
    ASSERT_EQ(drive_meta_read(d, "b", "k", &got), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_shard_read(d, vid, 1, 0, rd, sizeof(rd)), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_meta_delete(d, "b", "k", NULL), -ERR_NOT_FOUND);
    common_put(d, "b", "k2", "data", vid);
    ASSERT_OK(drive_meta_delete(d, "b", "k2", NULL));
    ASSERT_EQ(drive_meta_delete(d, "nobucket", "k2", NULL), -ERR_NOT_FOUND);
    objmeta_release(&got);
}

/*
 * drive_meta_delete_many(): each key's result as its own drive_meta_delete()
 * would give it, a key given twice found gone the second time, the data of
 * the removed versions gone, other keys untouched.
 */
static UNUSED void
common_meta_delete_many(struct drive *d)
{
    const char *keys[] = { "k1", "absent", "k2", "k1", "inl" };
    char vid1[OBJMETA_VID_LEN + 1], vid2[OBJMETA_VID_LEN + 1], vid3[OBJMETA_VID_LEN + 1];
    int rcs[5], want[5] = { 0, -ERR_NOT_FOUND, 0, -ERR_NOT_FOUND, 0 };
    struct obj_meta got;
    char rd[8];
    size_t i;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k1", "one", vid1);
    common_put(d, "b", "k2", "two", vid2);
    common_put(d, "b", "stay", "three", vid3);
    common_put_inline(d, "b", "inl");
    for (i = 0; i < 5; i++)
        rcs[i] = 1;
    ASSERT_OK(drive_meta_delete_many(d, "b", keys, 5, rcs));
    for (i = 0; i < 5; i++)
        ASSERT_EQ(rcs[i], want[i]);
    objmeta_init(&got);
    ASSERT_EQ(drive_meta_read(d, "b", "k1", &got), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_meta_read(d, "b", "k2", &got), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_meta_read(d, "b", "inl", &got), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_shard_read(d, vid1, 1, 0, rd, sizeof(rd)), -ERR_NOT_FOUND);
    ASSERT_EQ(drive_shard_read(d, vid2, 1, 0, rd, sizeof(rd)), -ERR_NOT_FOUND);
    ASSERT_OK(drive_meta_read(d, "b", "stay", &got));
    ASSERT_EQ(drive_shard_read(d, vid3, 1, 0, rd, sizeof(rd)), 5);
    objmeta_release(&got);
    /* no keys: nothing to do; a missing bucket: each key not found */
    ASSERT_OK(drive_meta_delete_many(d, "b", keys, 0, rcs));
    ASSERT_OK(drive_meta_delete_many(d, "nobucket", keys, 2, rcs));
    ASSERT_EQ(rcs[0], -ERR_NOT_FOUND);
    ASSERT_EQ(rcs[1], -ERR_NOT_FOUND);
}

/*
 * drive_meta_replace(): answers the record it replaced, and refuses (nothing
 * changed) a version not newer than the one the key holds.
 */
static UNUSED void
common_replace(struct drive *d)
{
    char v1[OBJMETA_VID_LEN + 1], v2[OBJMETA_VID_LEN + 1], v3[OBJMETA_VID_LEN + 1];
    struct obj_meta m1, m2, m3, prev, got;
    bool had = true;
    char rd[16];

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    objmeta_init(&prev);
    objmeta_init(&got);
    objmeta_new_vid(v1);
    common_meta(&m1, v1, 3);
    m1.is_inline = true;
    m1.mtime_ns = 100;
    buf_add(&m1.inline_data, "abc", 3);
    ASSERT_EQ(drive_meta_replace(d, "nobucket", "k", &m1, &prev, &had), -ERR_NOT_FOUND);
    ASSERT(had); /* unchanged on error */
    ASSERT_OK(drive_meta_replace(d, "b", "k", &m1, &prev, &had));
    ASSERT(!had);
    /* a newer version with shard files: answers the inline one it replaced, data and all */
    objmeta_new_vid(v2);
    common_write_shard(d, v2, "second");
    common_meta(&m2, v2, 6);
    m2.mtime_ns = 200;
    ASSERT_OK(drive_meta_replace(d, "b", "k", &m2, &prev, &had));
    ASSERT(had);
    ASSERT_STREQ(prev.vid, v1);
    ASSERT_EQ(prev.mtime_ns, 100);
    ASSERT(prev.is_inline);
    ASSERT_EQ(prev.inline_data.len, 3);
    ASSERT_MEMEQ(prev.inline_data.ptr, "abc", 3);
    /* not newer (same time, then older): refused, the key and its files unchanged */
    objmeta_new_vid(v3);
    common_write_shard(d, v3, "third");
    common_meta(&m3, v3, 5);
    m3.mtime_ns = 200;
    had = false;
    ASSERT_EQ(drive_meta_replace(d, "b", "k", &m3, &prev, &had), -ERR_EXISTS);
    ASSERT(had);
    ASSERT_STREQ(prev.vid, v2);
    ASSERT_EQ(prev.mtime_ns, 200);
    m3.mtime_ns = 150;
    ASSERT_EQ(drive_meta_replace(d, "b", "k", &m3, &prev, &had), -ERR_EXISTS);
    ASSERT_OK(drive_meta_read(d, "b", "k", &got));
    ASSERT_STREQ(got.vid, v2);
    ASSERT_EQ(drive_shard_read(d, v2, 1, 0, rd, sizeof(rd)), 6);
    ASSERT_EQ(drive_shard_read(d, v3, 1, 0, rd, sizeof(rd)), -ERR_NOT_FOUND); /* still in tmp */
    /* dated later, the refused version commits from tmp, and answers the one it replaced */
    m3.mtime_ns = 201;
    ASSERT_OK(drive_meta_replace(d, "b", "k", &m3, &prev, &had));
    ASSERT(had);
    ASSERT_STREQ(prev.vid, v2);
    ASSERT_EQ(drive_shard_read(d, v3, 1, 0, rd, sizeof(rd)), 5);
    /* the same version again, with a later time: not refused, answers itself */
    m3.mtime_ns = 300;
    ASSERT_OK(drive_meta_replace(d, "b", "k", &m3, &prev, &had));
    ASSERT_STREQ(prev.vid, v3);
    ASSERT_EQ(prev.mtime_ns, 201);
    ASSERT_OK(drive_meta_read(d, "b", "k", &got));
    ASSERT_EQ(got.mtime_ns, 300);
    objmeta_release(&got);
    objmeta_release(&prev);
    objmeta_release(&m1);
    objmeta_release(&m2);
    objmeta_release(&m3);
}

/* Collects listed keys as "key|key|..." */
static UNUSED int
common_list_cb(void *arg, const struct drive_list_ent *ent)
{
    struct buf *b = arg;

    buf_add(b, ent->key, ent->key_len);
    buf_addch(b, '|');
    return 0;
}

static UNUSED void
common_expect_list(struct drive *d, struct slice prefix, struct slice after, unsigned limit,
                   const char *want)
{
    struct buf b = BUF_INIT;

    ASSERT_OK(drive_list(d, "b", prefix, after, limit, common_list_cb, &b));
    if (strcmp(b.ptr, want) != 0)
        harness_fail(__FILE__, __LINE__, "list: got \"%s\", want \"%s\"", b.ptr, want);
    buf_release(&b);
}

static UNUSED int
common_stop_cb(void *arg, const struct drive_list_ent *ent)
{
    int *n = arg;

    return ++*n == 2 ? 1 : 0;
}

static UNUSED void
common_listing(struct drive *d)
{
    static const char *const keys[] = { "a/b", "a",    "a/",  "\xff\xff", "a\xff", "a\xff\xff",
                                        "b c", "../x", "a b", "ab",       "a/c/d", "\xff" };
    size_t i;
    int n = 0;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    for (i = 0; i < ARRAY_SIZE(keys); i++)
        common_put_inline(d, "b", keys[i]);
    common_expect_list(d, SLICE_NULL, SLICE_NULL, 0,
                       "../x|a|a b|a/|a/b|a/c/d|ab|a\xff|a\xff\xff|b c|\xff|\xff\xff|");
    common_expect_list(d, SLICE_LIT("a"), SLICE_NULL, 0, "a|a b|a/|a/b|a/c/d|ab|a\xff|a\xff\xff|");
    common_expect_list(d, SLICE_LIT("a/"), SLICE_NULL, 0, "a/|a/b|a/c/d|");
    common_expect_list(d, SLICE_LIT("a/"), SLICE_LIT("a/"), 0, "a/b|a/c/d|");
    common_expect_list(d, SLICE_LIT("a"), SLICE_LIT("a/b"), 2, "a/c/d|ab|");
    common_expect_list(d, SLICE_LIT("a\xff"), SLICE_NULL, 0, "a\xff|a\xff\xff|");
    common_expect_list(d, SLICE_LIT("\xff"), SLICE_NULL, 0, "\xff|\xff\xff|");
    common_expect_list(d, SLICE_LIT("\xff\xff"), SLICE_NULL, 0, "\xff\xff|");
    common_expect_list(d, SLICE_LIT("a"), SLICE_LIT("0"), 1, "a|"); /* after < prefix */
    common_expect_list(d, SLICE_LIT("a/"), SLICE_LIT("b"), 0, "");  /* after past the prefix */
    common_expect_list(d, SLICE_LIT("zz"), SLICE_NULL, 0, "");
    common_expect_list(d, SLICE_NULL, SLICE_LIT("b c"), 0, "\xff|\xff\xff|");
    common_expect_list(d, SLICE_NULL, SLICE_NULL, 3, "../x|a|a b|");
    ASSERT_OK(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, common_stop_cb, &n));
    ASSERT_EQ(n, 2);
    ASSERT_EQ(drive_list(d, "nobucket", SLICE_NULL, SLICE_NULL, 0, common_stop_cb, &n),
              -ERR_NOT_FOUND);
}

/* Reads all of shard `part` of `vid` into a string (at most 255 bytes). */
static UNUSED void
common_expect_shard(struct drive *d, const char *vid, unsigned part, const char *want)
{
    char got[256];
    ssize_t n = drive_shard_read(d, vid, part, 0, got, sizeof(got) - 1);

    ASSERT(n >= 0);
    got[n] = '\0';
    ASSERT_STREQ(got, want);
}

/*
 * Completing a multipart upload: two part versions linked into a new
 * version, committed; then the part versions deleted: the new version's
 * files stay. A missing source answers NOT_FOUND; a retry is fine.
 */
static UNUSED void
common_shard_link(struct drive *d)
{
    char p1[OBJMETA_VID_LEN + 1], p2[OBJMETA_VID_LEN + 1], obj[OBJMETA_VID_LEN + 1];
    char missing[OBJMETA_VID_LEN + 1];
    struct drive_link links[2];
    struct obj_meta m;
    struct obj_part part;

    ASSERT_OK(drive_bucket_make(d, "sys", 1));
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "sys", "part1", "first ", p1);
    common_put(d, "sys", "part2", "second", p2);
    objmeta_new_vid(obj);
    objmeta_new_vid(missing);
    links[0] = (struct drive_link){ p1, 1, 1 };
    links[1] = (struct drive_link){ missing, 1, 2 };
    ASSERT_EQ(drive_shard_link(d, obj, links, 2), -ERR_NOT_FOUND);
    links[1] = (struct drive_link){ p2, 1, 2 };
    ASSERT_OK(drive_shard_link(d, obj, links, 2));
    ASSERT_OK(drive_shard_link(d, obj, links, 2)); /* again: a retried completion */
    ASSERT_EQ(drive_shard_link(d, "../../etc", links, 2), -ERR_INVAL);
    common_meta(&m, obj, 12);
    memset(&part, 0, sizeof(part));
    part.number = 3;
    part.size = 6;
    objmeta_add_part(&m, &part);
    part.number = 9;
    objmeta_add_part(&m, &part);
    ASSERT_OK(drive_meta_commit(d, "b", "k", &m));
    ASSERT_OK(drive_meta_delete(d, "sys", "part1", NULL));
    ASSERT_OK(drive_meta_delete(d, "sys", "part2", NULL));
    ASSERT_EQ(drive_shard_read(d, p1, 1, 0, &part, 1), -ERR_NOT_FOUND);
    common_expect_shard(d, obj, 1, "first ");
    common_expect_shard(d, obj, 2, "second");
    objmeta_release(&m);
    ASSERT_OK(drive_meta_read(d, "b", "k", &m));
    ASSERT_EQ(objmeta_nparts(&m), 2);
    ASSERT_EQ(objmeta_part(&m, 1)->number, 9);
    objmeta_release(&m);
}

static int
common_reduced_cb(void *arg, const struct drive_list_ent *e)
{
    struct buf *b = arg;

    buf_addf(b, "%.*s:%d|", (int)e->key_len, e->key, e->reduced);
    return 0;
}

/* The reduced-redundancy flag of a record comes back in listings. */
static UNUSED void
common_reduced_listed(struct drive *d)
{
    char vid[OBJMETA_VID_LEN + 1];
    struct buf b = BUF_INIT;
    struct obj_meta m;

    ASSERT_OK(drive_bucket_make(d, "b", 1));
    objmeta_new_vid(vid);
    common_write_shard(d, vid, "rr");
    common_meta(&m, vid, 2);
    m.reduced = true;
    ASSERT_OK(drive_meta_commit(d, "b", "a-rr", &m));
    objmeta_release(&m);
    common_put(d, "b", "b-std", "std", vid);
    ASSERT_OK(drive_list(d, "b", SLICE_NULL, SLICE_NULL, 0, common_reduced_cb, &b));
    ASSERT_STREQ(b.ptr, "a-rr:1|b-std:0|");
    ASSERT_OK(drive_meta_read(d, "b", "a-rr", &m));
    ASSERT(m.reduced);
    objmeta_release(&m);
    buf_release(&b);
}

static UNUSED int
common_journal_cb(void *arg, struct slice item)
{
    struct buf *b = arg;
    size_t i;

    for (i = 0; i < item.len; i++)
        buf_addch(b, item.ptr[i] ? item.ptr[i] : '/');
    buf_addch(b, '|');
    return 0;
}

/* The journal: named sets of binary items, updated in one step, listed in byte order. */
static UNUSED void
common_journal(struct drive *d)
{
    const struct slice a = SLICE_LIT("b\0k2"), b = SLICE_LIT("b\0k1"), c = SLICE_LIT("x");
    const struct slice put[] = { a, b, c }, del[] = { a, SLICE_LIT("absent") };
    struct buf got = BUF_INIT;

    ASSERT_OK(drive_journal_list(d, "heal", SLICE_NULL, 0, common_journal_cb, &got));
    ASSERT_EQ(got.len, 0);
    ASSERT_OK(drive_journal_update(d, "heal", put, 3, NULL, 0));
    ASSERT_OK(drive_journal_update(d, "other", &c, 1, NULL, 0));
    ASSERT_OK(drive_journal_update(d, "heal", &c, 1, NULL, 0)); /* again: still once */
    ASSERT_OK(drive_journal_list(d, "heal", SLICE_NULL, 0, common_journal_cb, &got));
    ASSERT_STREQ(got.ptr, "b/k1|b/k2|x|");
    buf_clear(&got);
    ASSERT_OK(drive_journal_list(d, "heal", b, 1, common_journal_cb, &got));
    ASSERT_STREQ(got.ptr, "b/k2|");
    ASSERT_OK(drive_journal_update(d, "heal", NULL, 0, del, 2));
    buf_clear(&got);
    ASSERT_OK(drive_journal_list(d, "heal", SLICE_NULL, 0, common_journal_cb, &got));
    ASSERT_STREQ(got.ptr, "b/k1|x|");
    buf_clear(&got);
    ASSERT_OK(drive_journal_list(d, "other", SLICE_NULL, 0, common_journal_cb, &got));
    ASSERT_STREQ(got.ptr, "x|");
    buf_release(&got);
}

#endif
