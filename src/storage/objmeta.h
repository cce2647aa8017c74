/*
 * storage/objmeta.h: the metadata record of one object version on one drive
 * (DESIGN.md "Data on a drive"). Each drive of a set stores its own copy; the
 * copies differ only in `shard_idx` and `inline_data`.
 *
 * The encoded form (objmeta_encode) is a versioned, little-endian binary
 * record that ends with an XXH3-64 checksum of everything before it; a record
 * that fails its checksum decodes to -ERR_CORRUPT.
 */
#ifndef BASALT_STORAGE_OBJMETA_H
#define BASALT_STORAGE_OBJMETA_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

#define OBJMETA_MAX_SHARDS 16
#define OBJMETA_VID_LEN 32 /* hex characters of a version id (16 random bytes) */
#define OBJMETA_MAX_PARTS 10000

/*
 * One part of an object completed from a multipart upload. The object's data
 * is the parts one after the other; part i (0-based, in the order completed)
 * is erasure coded on its own, in shard file i + 1 of the version.
 */
struct obj_part {
    uint32_t number;   /* the client's part number, 1 .. 10,000 */
    uint64_t size;     /* bytes of object data */
    char etag[36];     /* hex MD5 of the part, no quotes */
    char checksum[72]; /* "<algo>:<base64>" of the part (x-amz-checksum-*), or empty */
};

struct obj_meta {
    char vid[OBJMETA_VID_LEN + 1]; /* version id; also the name of the data folder */
    uint64_t size;                 /* object size in bytes */
    int64_t mtime_ns;              /* modification time, wall clock */
    char etag[72];                 /* hex MD5, no quotes (multipart later: "<hex>-N") */
    /*
     * Stored HTTP headers as NUL-separated pairs "name\0value\0name\0value\0",
     * names lowercase: content-type, content-encoding, content-disposition,
     * content-language, cache-control, expires, x-amz-meta-*.
     */
    struct buf headers;
    /* erasure layout */
    uint8_t k;           /* data shards */
    uint8_t m;           /* parity shards */
    uint32_t block_size; /* bytes of object data per stripe block (1 MiB) */
    uint8_t shard_idx;   /* which shard (0 .. k+m-1) this drive holds */
    /* dist[j]: the shard index held by drive j of the set (j = position in the set) */
    uint8_t dist[OBJMETA_MAX_SHARDS];
    /*
     * Small objects: this drive's whole shard file (per block: 16-byte
     * XXH3-128 hash, then the shard bytes) kept in the index record instead
     * of a file under data/.
     */
    bool is_inline;
    struct buf inline_data;
    /*
     * Written with reduced redundancy (one parity shard fewer than the set's
     * default: S3's REDUCED_REDUNDANCY storage class). Kept in the drives'
     * listing index, so listings can show the class without reading records.
     */
    bool reduced;
    /*
     * Multipart objects: an array of struct obj_part (objmeta_nparts(),
     * objmeta_part()), empty for an object written by one PUT (one shard file,
     * part 1). The sizes add up to `size`; numbers ascend.
     */
    struct buf parts;
};

void objmeta_init(struct obj_meta *m);
void objmeta_release(struct obj_meta *m);
/* Deep copy; `dst` must be initialized (its old content is released). */
void objmeta_copy(struct obj_meta *dst, const struct obj_meta *src);

/*
 * Checks the fields that objmeta_decode() checks: vid is 32 lowercase hex
 * characters, etag shorter than its array, k >= 1, k + m <= 16,
 * shard_idx < k + m, dist[j] < k + m for j < k + m, inline_data empty unless
 * is_inline; parts: at most 10,000, not inline, numbers ascending in
 * 1 .. 10,000, NUL-terminated strings, sizes adding up to `size`. Returns 0 or -ERR_INVAL.
 * drive_meta_commit() calls it.
 */
int objmeta_validate(const struct obj_meta *m);
/* True if `vid` is exactly OBJMETA_VID_LEN lowercase hex characters then a NUL. */
bool objmeta_vid_is_valid(const char *vid);

/*
 * Appends the encoded record to `out`. Only dist[0 .. k+m-1] is stored (the
 * rest decodes as 0). A record that fails objmeta_validate() encodes but
 * does not decode.
 */
void objmeta_encode(const struct obj_meta *m, struct buf *out);
/*
 * Decodes a record. Returns 0, or -ERR_CORRUPT (bad checksum, truncated,
 * unknown version, out-of-range fields). `out` must be initialized; on error
 * it is left empty (as after objmeta_init).
 */
int objmeta_decode(struct slice rec, struct obj_meta *out);

/* Adds a header pair (name lowercased by the caller). */
void objmeta_add_header(struct obj_meta *m, const char *name, struct slice value);
/* Removes every pair named `name` (no-op when absent). */
void objmeta_remove_header(struct obj_meta *m, const char *name);
/* The value of header `name`, borrowed from `m`, or NULL if absent. */
const char *objmeta_header(const struct obj_meta *m, const char *name);
/*
 * Iterates header pairs: start with `*pos = 0`; returns false at the end.
 * `*name` and `*value` are borrowed from `m`.
 */
bool objmeta_header_next(const struct obj_meta *m, size_t *pos, const char **name,
                         const char **value);

/* Parts of a multipart object (0 for a plain one), and part `i` (0-based). */
size_t objmeta_nparts(const struct obj_meta *m);
const struct obj_part *objmeta_part(const struct obj_meta *m, size_t i);
void objmeta_add_part(struct obj_meta *m, const struct obj_part *p);

/* Writes a new random version id (32 lowercase hex chars + NUL) into `vid`. */
void objmeta_new_vid(char vid[OBJMETA_VID_LEN + 1]);
/*
 * The same, its first 16 characters the time `ns` (big-endian hex) and the
 * other 16 random: ids made later sort after (multipart upload ids, which S3
 * lists by initiation time).
 */
void objmeta_new_sorted_vid(char vid[OBJMETA_VID_LEN + 1], int64_t ns);

#endif
