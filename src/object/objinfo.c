/*
 * object/objinfo.c: the object layer's view of a version (objinfo.h), and
 * its conversion from the drive's record (object__info_from_meta, internal.h).
 */
#include "util/base.h"

#include "object/objinfo.h"

#include "object/internal.h"
#include "util/hdrs.h"

_Static_assert(OBJ_VID_LEN == OBJMETA_VID_LEN, "one length of version ids");
_Static_assert(sizeof(((struct obj_info_part *)0)->etag) == sizeof(((struct obj_part *)0)->etag),
               "part ETags copy whole");
_Static_assert(sizeof(((struct obj_info_part *)0)->checksum) ==
                   sizeof(((struct obj_part *)0)->checksum),
               "part checksums copy whole");
_Static_assert(sizeof(((struct obj_info *)0)->etag) == sizeof(((struct obj_meta *)0)->etag),
               "ETags copy whole");

void
obj_info_init(struct obj_info *i)
{
    memset(i, 0, sizeof(*i));
    buf_init(&i->headers, 0);
    buf_init(&i->parts, 0);
}

void
obj_info_release(struct obj_info *i)
{
    buf_release(&i->headers);
    buf_release(&i->parts);
    obj_info_init(i);
}

void
obj_info_copy(struct obj_info *dst, const struct obj_info *src)
{
    obj_info_release(dst);
    memcpy(dst, src, sizeof(*dst));
    buf_init(&dst->headers, 0);
    buf_init(&dst->parts, 0);
    buf_addslice(&dst->headers, buf_slice(&src->headers));
    buf_addslice(&dst->parts, buf_slice(&src->parts));
}

const char *
obj_info_header(const struct obj_info *i, const char *name)
{
    return hdrs_get(&i->headers, name);
}

bool
obj_info_header_next(const struct obj_info *i, size_t *pos, const char **name, const char **value)
{
    return hdrs_next(&i->headers, pos, name, value);
}

void
obj_info_set_header(struct obj_info *i, const char *name, const char *value)
{
    hdrs_set(&i->headers, name, value);
}

size_t
obj_info_nparts(const struct obj_info *i)
{
    return i->parts.len / sizeof(struct obj_info_part);
}

const struct obj_info_part *
obj_info_part(const struct obj_info *i, size_t n)
{
    BUG_ON(n >= obj_info_nparts(i));
    return (const struct obj_info_part *)i->parts.ptr + n;
}

void
object__info_from_meta(struct obj_info *dst, const struct obj_meta *m)
{
    size_t n, j;

    obj_info_release(dst);
    memcpy(dst->vid, m->vid, sizeof(dst->vid));
    dst->size = m->size;
    dst->mtime_ns = m->mtime_ns;
    memcpy(dst->etag, m->etag, sizeof(dst->etag));
    dst->reduced = m->reduced;
    dst->k = m->k;
    dst->m = m->m;
    buf_addslice(&dst->headers, buf_slice(&m->headers));
    n = objmeta_nparts(m);
    for (j = 0; j < n; j++) {
        const struct obj_part *p = objmeta_part(m, j);
        struct obj_info_part ip = { .number = p->number, .size = p->size };

        memcpy(ip.etag, p->etag, sizeof(ip.etag));
        memcpy(ip.checksum, p->checksum, sizeof(ip.checksum));
        buf_add(&dst->parts, &ip, sizeof(ip));
    }
}
