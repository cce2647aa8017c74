/*
 * storage/wire.c: the byte layout of drive calls between nodes (wire.h).
 */
#include "util/base.h"

#include "storage/wire.h"

static void
put_le(struct buf *b, uint64_t v, unsigned n)
{
    uint8_t x[8];
    unsigned i;

    for (i = 0; i < n; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    buf_add(b, x, n);
}

void
wire_put_u8(struct buf *b, uint8_t v)
{
    put_le(b, v, 1);
}

void
wire_put_u32(struct buf *b, uint32_t v)
{
    put_le(b, v, 4);
}

void
wire_put_u64(struct buf *b, uint64_t v)
{
    put_le(b, v, 8);
}

void
wire_put_bytes(struct buf *b, struct slice s)
{
    BUG_ON(s.len > UINT32_MAX);
    wire_put_u32(b, (uint32_t)s.len);
    if (s.len)
        buf_add(b, s.ptr, s.len);
}

void
wire_reader_init(struct wire_reader *r, struct slice s)
{
    r->p = (const uint8_t *)s.ptr;
    r->left = s.len;
    r->failed = false;
}

static uint64_t
get_le(struct wire_reader *r, unsigned n)
{
    uint64_t v = 0;
    unsigned i;

    if (r->failed || r->left < n) {
        r->failed = true;
        return 0;
    }
    for (i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    r->left -= n;
    return v;
}

uint8_t
wire_get_u8(struct wire_reader *r)
{
    return (uint8_t)get_le(r, 1);
}

uint32_t
wire_get_u32(struct wire_reader *r)
{
    return (uint32_t)get_le(r, 4);
}

uint64_t
wire_get_u64(struct wire_reader *r)
{
    return get_le(r, 8);
}

struct slice
wire_get_bytes(struct wire_reader *r)
{
    uint32_t n = wire_get_u32(r);
    struct slice s;

    if (r->failed || n > r->left) {
        r->failed = true;
        return SLICE_NULL;
    }
    s = slice_make(r->p, n);
    r->p += n;
    r->left -= n;
    return s;
}

bool
wire_ok(const struct wire_reader *r, bool at_end)
{
    return !r->failed && (!at_end || r->left == 0);
}
