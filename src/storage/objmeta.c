/*
 * storage/objmeta.c: the metadata record of one object version on one drive
 * (struct obj_meta), its header pairs, version ids, and its binary encoding,
 * stored as the `rec` column of a drive's index (drive_local.c) and kept as
 * is by drive_mem.c.
 *
 * Record format, version 1, all integers little-endian:
 *
 *   u8  magic (0xb5)      u8  version (1)
 *   32  vid (lowercase hex, no NUL)
 *   u64 size              u64 mtime_ns (two's complement)
 *   u8  etag length       ... etag bytes (< sizeof(etag), no NUL)
 *   u32 headers length    ... "name\0value\0" pairs
 *   u8  k  u8 m  u32 block_size  u8 shard_idx
 *   k+m bytes of dist
 *   u8  flags (bit 0: inline, bit 1: reduced redundancy; other bits must be 0)
 *   u32 inline length     ... inline bytes (0 unless inline)
 *   (version 2 only) u32 parts, then per part:
 *       u32 number  u64 size  u8 etag length, etag  u8 checksum length, checksum
 *   u64 XXH3-64 of every byte above
 *
 * Version 2 differs from version 1 only by the parts list; a record without
 * parts is written as version 1, byte for byte as before.
 *
 * The decoder trusts nothing: every length is bounds-checked against the
 * record before use, and every field is checked as objmeta_validate() does,
 * so any byte string either decodes to a valid struct or to -ERR_CORRUPT
 * (fuzzed by fuzz/objmeta_decode.c).
 */
#include "util/base.h"

#include "storage/objmeta.h"

#include <sys/random.h>
#include <xxhash.h>

#include "util/enc.h"
#include "util/hdrs.h"
#include "util/err.h"

#define REC_MAGIC 0xb5
#define REC_VERSION 1
#define REC_VERSION_PARTS 2
#define REC_F_INLINE 0x01
#define REC_F_REDUCED 0x02
#define REC_SUM_LEN 8

void
objmeta_init(struct obj_meta *m)
{
    memset(m, 0, sizeof(*m));
    buf_init(&m->headers, 0);
    buf_init(&m->inline_data, 0);
    buf_init(&m->parts, 0);
}

void
objmeta_release(struct obj_meta *m)
{
    buf_release(&m->headers);
    buf_release(&m->inline_data);
    buf_release(&m->parts);
    objmeta_init(m);
}

void
objmeta_copy(struct obj_meta *dst, const struct obj_meta *src)
{
    if (dst == src)
        return;
    objmeta_release(dst);
    *dst = *src;
    buf_init(&dst->headers, 0);
    buf_init(&dst->inline_data, 0);
    buf_init(&dst->parts, 0);
    buf_add(&dst->headers, src->headers.ptr, src->headers.len);
    buf_add(&dst->inline_data, src->inline_data.ptr, src->inline_data.len);
    buf_add(&dst->parts, src->parts.ptr, src->parts.len);
}

size_t
objmeta_nparts(const struct obj_meta *m)
{
    return m->parts.len / sizeof(struct obj_part);
}

const struct obj_part *
objmeta_part(const struct obj_meta *m, size_t i)
{
    BUG_ON(i >= objmeta_nparts(m));
    return (const struct obj_part *)(const void *)m->parts.ptr + i;
}

void
objmeta_add_part(struct obj_meta *m, const struct obj_part *p)
{
    buf_add(&m->parts, p, sizeof(*p));
}

void
objmeta_add_header(struct obj_meta *m, const char *name, struct slice value)
{
    hdrs_add(&m->headers, name, value);
}

void
objmeta_remove_header(struct obj_meta *m, const char *name)
{
    hdrs_remove(&m->headers, name);
}

bool
objmeta_header_next(const struct obj_meta *m, size_t *pos, const char **name, const char **value)
{
    return hdrs_next(&m->headers, pos, name, value);
}

const char *
objmeta_header(const struct obj_meta *m, const char *name)
{
    return hdrs_get(&m->headers, name);
}

void
objmeta_new_vid(char vid[OBJMETA_VID_LEN + 1])
{
    unsigned char raw[OBJMETA_VID_LEN / 2];
    size_t got = 0;

    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("getrandom: %s", strerror(errno));
        got += (size_t)n;
    }
    hex_encode_to(vid, raw, sizeof(raw));
}

void
objmeta_new_sorted_vid(char vid[OBJMETA_VID_LEN + 1], int64_t ns)
{
    char rnd[OBJMETA_VID_LEN + 1];
    unsigned char t[8];
    unsigned i;

    objmeta_new_vid(rnd);
    for (i = 0; i < 8; i++)
        t[i] = (unsigned char)((uint64_t)ns >> (56 - 8 * i));
    hex_encode_to(vid, t, 8);
    memcpy(vid + 16, rnd + 16, OBJMETA_VID_LEN - 16 + 1); /* the random half and the NUL */
}

bool
objmeta_vid_is_valid(const char *vid)
{
    size_t i;

    for (i = 0; i < OBJMETA_VID_LEN; i++) {
        char c = vid[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return vid[OBJMETA_VID_LEN] == '\0';
}

/* Headers are whole "name\0value\0" pairs: an even number of NULs, the last byte a NUL. */
static bool
headers_are_valid(const char *p, size_t len)
{
    size_t i, nuls = 0;

    if (len == 0)
        return true;
    if (p[len - 1] != '\0')
        return false;
    for (i = 0; i < len; i++)
        nuls += p[i] == '\0';
    return nuls % 2 == 0;
}

static int
parts_validate(const struct obj_meta *m)
{
    size_t i, n = objmeta_nparts(m);
    uint64_t total = 0;
    uint32_t prev = 0;

    if (n == 0)
        return m->parts.len == 0 ? 0 : -ERR_INVAL;
    if (m->parts.len % sizeof(struct obj_part) || n > OBJMETA_MAX_PARTS || m->is_inline)
        return -ERR_INVAL;
    for (i = 0; i < n; i++) {
        const struct obj_part *p = objmeta_part(m, i);

        if (p->number <= prev || p->number > OBJMETA_MAX_PARTS || p->size > m->size - total)
            return -ERR_INVAL;
        if (!memchr(p->etag, '\0', sizeof(p->etag)) ||
            !memchr(p->checksum, '\0', sizeof(p->checksum)))
            return -ERR_INVAL;
        prev = p->number;
        total += p->size;
    }
    return total == m->size ? 0 : -ERR_INVAL;
}

int
objmeta_validate(const struct obj_meta *m)
{
    unsigned n = (unsigned)m->k + m->m, j;

    if (!objmeta_vid_is_valid(m->vid))
        return -ERR_INVAL;
    if (memchr(m->etag, '\0', sizeof(m->etag)) == NULL)
        return -ERR_INVAL;
    if (m->k < 1 || n > OBJMETA_MAX_SHARDS || m->shard_idx >= n)
        return -ERR_INVAL;
    for (j = 0; j < n; j++)
        if (m->dist[j] >= n)
            return -ERR_INVAL;
    if (!m->is_inline && m->inline_data.len > 0)
        return -ERR_INVAL;
    if (!headers_are_valid(m->headers.ptr, m->headers.len))
        return -ERR_INVAL;
    if (m->headers.len > UINT32_MAX || m->inline_data.len > UINT32_MAX)
        return -ERR_INVAL;
    return parts_validate(m);
}

static void
put_u8(struct buf *b, unsigned v)
{
    buf_addch(b, (char)(uint8_t)v);
}

static void
put_u32(struct buf *b, uint32_t v)
{
    unsigned char p[4];
    int i;

    for (i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    buf_add(b, p, sizeof(p));
}

static void
put_u64(struct buf *b, uint64_t v)
{
    unsigned char p[8];
    int i;

    for (i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    buf_add(b, p, sizeof(p));
}

void
objmeta_encode(const struct obj_meta *m, struct buf *out)
{
    size_t start = out->len;
    size_t etag_len = strnlen(m->etag, sizeof(m->etag) - 1);
    unsigned n = MIN((unsigned)m->k + m->m, OBJMETA_MAX_SHARDS);

    size_t i, nparts = objmeta_nparts(m);

    put_u8(out, REC_MAGIC);
    put_u8(out, nparts ? REC_VERSION_PARTS : REC_VERSION);
    buf_add(out, m->vid, OBJMETA_VID_LEN);
    put_u64(out, m->size);
    put_u64(out, (uint64_t)m->mtime_ns);
    put_u8(out, (unsigned)etag_len);
    buf_add(out, m->etag, etag_len);
    put_u32(out, (uint32_t)m->headers.len);
    buf_add(out, m->headers.ptr, m->headers.len);
    put_u8(out, m->k);
    put_u8(out, m->m);
    put_u32(out, m->block_size);
    put_u8(out, m->shard_idx);
    buf_add(out, m->dist, n);
    put_u8(out, (m->is_inline ? REC_F_INLINE : 0) | (m->reduced ? REC_F_REDUCED : 0));
    put_u32(out, (uint32_t)m->inline_data.len);
    buf_add(out, m->inline_data.ptr, m->inline_data.len);
    if (nparts) {
        put_u32(out, (uint32_t)nparts);
        for (i = 0; i < nparts; i++) {
            const struct obj_part *p = objmeta_part(m, i);
            size_t el = strnlen(p->etag, sizeof(p->etag) - 1);
            size_t cl = strnlen(p->checksum, sizeof(p->checksum) - 1);

            put_u32(out, p->number);
            put_u64(out, p->size);
            put_u8(out, (unsigned)el);
            buf_add(out, p->etag, el);
            put_u8(out, (unsigned)cl);
            buf_add(out, p->checksum, cl);
        }
    }
    put_u64(out, XXH3_64bits(out->ptr + start, out->len - start));
}

/* A bounds-checked reader: once `bad`, every get returns zeroes. */
struct cursor {
    const unsigned char *p;
    size_t len;
    size_t off;
    bool bad;
};

static const unsigned char *
get_bytes(struct cursor *c, size_t n)
{
    const unsigned char *p;

    if (c->bad || n > c->len - c->off) {
        c->bad = true;
        return NULL;
    }
    p = c->p + c->off;
    c->off += n;
    return p;
}

static uint64_t
get_le(struct cursor *c, unsigned width)
{
    const unsigned char *p = get_bytes(c, width);
    uint64_t v = 0;
    unsigned i;

    if (!p)
        return 0;
    for (i = 0; i < width; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Copies `n` bytes into `b` (appending) if they are in the record. */
static void
get_into_buf(struct cursor *c, size_t n, struct buf *b)
{
    const unsigned char *p = get_bytes(c, n);

    if (p)
        buf_add(b, p, n);
}

/* A length-prefixed string into `dst` (`cap` bytes with its NUL); false if bad. */
static bool
get_str(struct cursor *c, char *dst, size_t cap)
{
    size_t n = get_le(c, 1);
    const unsigned char *p;

    if (n >= cap)
        return false;
    p = get_bytes(c, n);
    if (!p || memchr(p, '\0', n))
        return false;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

static int
decode_parts(struct cursor *c, struct obj_meta *out)
{
    uint64_t i, n = get_le(c, 4);

    if (n == 0 || n > OBJMETA_MAX_PARTS)
        return -ERR_CORRUPT;
    for (i = 0; i < n && !c->bad; i++) {
        struct obj_part p;

        memset(&p, 0, sizeof(p));
        p.number = (uint32_t)get_le(c, 4);
        p.size = get_le(c, 8);
        if (!get_str(c, p.etag, sizeof(p.etag)) || !get_str(c, p.checksum, sizeof(p.checksum)))
            return -ERR_CORRUPT;
        objmeta_add_part(out, &p);
    }
    return 0;
}

static int
decode_fields(struct cursor *c, struct obj_meta *out)
{
    const unsigned char *p;
    size_t n;
    unsigned flags, version;

    if (get_le(c, 1) != REC_MAGIC)
        return -ERR_CORRUPT;
    version = (unsigned)get_le(c, 1);
    if (version != REC_VERSION && version != REC_VERSION_PARTS)
        return -ERR_CORRUPT;
    p = get_bytes(c, OBJMETA_VID_LEN);
    if (p)
        memcpy(out->vid, p, OBJMETA_VID_LEN);
    out->size = get_le(c, 8);
    out->mtime_ns = (int64_t)get_le(c, 8);
    n = get_le(c, 1);
    if (n >= sizeof(out->etag))
        return -ERR_CORRUPT;
    p = get_bytes(c, n);
    if (p && memchr(p, '\0', n) != NULL)
        return -ERR_CORRUPT;
    if (p)
        memcpy(out->etag, p, n);
    get_into_buf(c, get_le(c, 4), &out->headers);
    out->k = (uint8_t)get_le(c, 1);
    out->m = (uint8_t)get_le(c, 1);
    out->block_size = (uint32_t)get_le(c, 4);
    out->shard_idx = (uint8_t)get_le(c, 1);
    n = (size_t)out->k + out->m;
    if (n > OBJMETA_MAX_SHARDS)
        return -ERR_CORRUPT;
    p = get_bytes(c, n);
    if (p)
        memcpy(out->dist, p, n);
    flags = (unsigned)get_le(c, 1);
    if (flags & ~(REC_F_INLINE | REC_F_REDUCED))
        return -ERR_CORRUPT;
    out->is_inline = flags & REC_F_INLINE;
    out->reduced = flags & REC_F_REDUCED;
    get_into_buf(c, get_le(c, 4), &out->inline_data);
    if (version == REC_VERSION_PARTS && decode_parts(c, out) < 0)
        return -ERR_CORRUPT;
    if (c->bad || c->off != c->len)
        return -ERR_CORRUPT;
    return objmeta_validate(out) < 0 ? -ERR_CORRUPT : 0;
}

int
objmeta_decode(struct slice rec, struct obj_meta *out)
{
    struct cursor c = { (const unsigned char *)rec.ptr, 0, 0, false };
    struct cursor sum;
    int rc;

    objmeta_release(out);
    if (rec.len < 2 + REC_SUM_LEN)
        return -ERR_CORRUPT;
    c.len = rec.len - REC_SUM_LEN;
    sum = (struct cursor){ c.p + c.len, REC_SUM_LEN, 0, false };
    if (get_le(&sum, REC_SUM_LEN) != XXH3_64bits(rec.ptr, c.len))
        return -ERR_CORRUPT;
    rc = decode_fields(&c, out);
    if (rc < 0)
        objmeta_release(out);
    return rc;
}
