/*
 * object/objinfo.h: the object layer's view of one object version (DESIGN.md
 * "The seams / Objects"): what s3/ and the other upper layers see of a
 * version, never the drive's record (struct obj_meta, storage's), so that a
 * new field changes one record codec and one view, not three layers.
 */
#ifndef BASALT_OBJECT_OBJINFO_H
#define BASALT_OBJECT_OBJINFO_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

#define OBJ_VID_LEN 32 /* hex characters of a version id (also multipart upload ids) */

/* One part of an object completed from a multipart upload. */
struct obj_info_part {
    uint32_t number;   /* the client's part number, 1 .. 10,000 */
    uint64_t size;     /* bytes of object data */
    char etag[36];     /* hex MD5 of the part, no quotes */
    char checksum[72]; /* "<algo>:<base64>" of the part (x-amz-checksum-*), or empty */
};

struct obj_info {
    char vid[OBJ_VID_LEN + 1]; /* version id */
    uint64_t size;             /* bytes */
    int64_t mtime_ns;          /* modification time */
    char etag[72];             /* hex MD5, no quotes; "<hex>-N" for a multipart object */
    /*
     * Stored headers (util/hdrs.h pairs, names lowercase): content-type,
     * content-encoding, content-disposition, content-language,
     * cache-control, expires, x-amz-meta-*, x-amz-tagging, checksums.
     */
    struct buf headers;
    bool reduced;     /* written with reduced redundancy (storage class) */
    uint8_t k, m;     /* erasure layout: data and parity shards */
    struct buf parts; /* array of struct obj_info_part, in object order; empty: one PUT */
};

void obj_info_init(struct obj_info *i);
void obj_info_release(struct obj_info *i);
/* Deep copy; `dst` must be initialized (its old content is released). */
void obj_info_copy(struct obj_info *dst, const struct obj_info *src);

/* The value of stored header `name` (borrowed from `i`), or NULL. */
const char *obj_info_header(const struct obj_info *i, const char *name);
/* Iterates stored headers: start with `*pos = 0`; false at the end. Borrowed. */
bool obj_info_header_next(const struct obj_info *i, size_t *pos, const char **name,
                          const char **value);
/* Replaces (value non-NULL) or removes header `name`. */
void obj_info_set_header(struct obj_info *i, const char *name, const char *value);

/* Parts of a multipart object (0 for an object of one PUT), and part `n` (0-based). */
size_t obj_info_nparts(const struct obj_info *i);
const struct obj_info_part *obj_info_part(const struct obj_info *i, size_t n);

#endif
