/*
 * s3/attributes.c: GetObjectAttributes, and the storage class of objects
 * (x-amz-storage-class on writes, on GET/HEAD and in listings).
 *
 * Storage classes: STANDARD (the set's default parity) and
 * REDUCED_REDUNDANCY (one parity shard, obj_put_opts.reduced_redundancy).
 * A REDUCED_REDUNDANCY object keeps "x-amz-storage-class" among its stored
 * headers, so GET and HEAD return it as S3 does (the header only when the
 * class is not STANDARD); any other class a client asks for is refused with
 * 400 InvalidStorageClass.
 *
 * GetObjectAttributes answers from the object's record (HEAD): ETag (no
 * quotes), ObjectSize, StorageClass, Checksum from stored x-amz-checksum-*
 * headers, and ObjectParts for multipart objects (from the record's parts
 * list, paged by x-amz-max-parts and x-amz-part-number-marker).
 */
#include "util/base.h"

#include "s3/internal.h"
#include "s3/xml.h"
#include "util/clock.h"
#include "util/err.h"

#define STORAGE_CLASS_HEADER "x-amz-storage-class"

enum attr {
    ATTR_ETAG = 1u << 0,
    ATTR_CHECKSUM = 1u << 1,
    ATTR_OBJECT_PARTS = 1u << 2,
    ATTR_STORAGE_CLASS = 1u << 3,
    ATTR_OBJECT_SIZE = 1u << 4,
};

static const struct {
    const char *name;
    unsigned bit;
} attr_names[] = {
    { "ETag", ATTR_ETAG },
    { "Checksum", ATTR_CHECKSUM },
    { "ObjectParts", ATTR_OBJECT_PARTS },
    { "StorageClass", ATTR_STORAGE_CLASS },
    { "ObjectSize", ATTR_OBJECT_SIZE },
};

/* Stored checksum headers and their element in the Checksum block. */
static const char *const checksum_elems[][2] = {
    { "x-amz-checksum-crc32", "ChecksumCRC32" },
    { "x-amz-checksum-crc32c", "ChecksumCRC32C" },
    { "x-amz-checksum-crc64nvme", "ChecksumCRC64NVME" },
    { "x-amz-checksum-sha1", "ChecksumSHA1" },
    { "x-amz-checksum-sha256", "ChecksumSHA256" },
};

/* ---- storage class ---- */

int
s3_storage_class_parse(struct slice v, bool *reduced)
{
    v = slice_trim(v);
    if (slice_eq_cstr(v, "STANDARD")) {
        *reduced = false;
        return 0;
    }
    if (slice_eq_cstr(v, "REDUCED_REDUNDANCY")) {
        *reduced = true;
        return 0;
    }
    return -ERR_INVALID_ARGUMENT;
}

int
s3__storage_class_check(struct s3_call *call, bool *reduced, struct buf *headers)
{
    struct slice v;
    bool rr = false;

    if (http_req_header(call->req, STORAGE_CLASS_HEADER, &v) && s3_storage_class_parse(v, &rr) < 0)
        return -ERR_INVALID_STORAGE_CLASS;
    *reduced = rr;
    if (rr && headers) {
        hdrs_add(headers, STORAGE_CLASS_HEADER, SLICE_LIT("REDUCED_REDUNDANCY"));
    }
    return 0;
}

const char *
s3__storage_class(const struct obj_info *info)
{
    return info->reduced ? "REDUCED_REDUNDANCY" : "STANDARD";
}

/* ---- GetObjectAttributes ---- */

/* x-amz-object-attributes: a comma-separated list (the header may also repeat). */
static int
parse_attributes(const struct http_req *req, unsigned *out)
{
    unsigned bits = 0;
    size_t h, i;

    for (h = 0; h < req->nheaders; h++) {
        struct slice rest = req->headers[h].value, one;

        if (!slice_case_eq_cstr(req->headers[h].name, "x-amz-object-attributes"))
            continue;
        while (rest.ptr) {
            rest = slice_split(rest, ',', &one);
            one = slice_trim(one);
            for (i = 0; i < ARRAY_SIZE(attr_names); i++)
                if (slice_eq_cstr(one, attr_names[i].name))
                    break;
            if (i == ARRAY_SIZE(attr_names))
                return -ERR_INVALID_ARGUMENT;
            bits |= attr_names[i].bit;
        }
    }
    if (!bits)
        return -ERR_INVALID_ARGUMENT;
    *out = bits;
    return 0;
}

/* A numeric header, absent -> `def`. -ERR_INVALID_ARGUMENT if not a number in range. */
static int
header_u64(const struct http_req *req, const char *name, uint64_t def, uint64_t max, uint64_t *out)
{
    struct slice v;

    *out = def;
    if (!http_req_header(req, name, &v))
        return 0;
    if (parse_u64(slice_trim(v), out) < 0 || *out > max)
        return -ERR_INVALID_ARGUMENT;
    return 0;
}

static void
add_checksum(struct buf *x, const struct obj_info *info)
{
    const char *v, *type = obj_info_header(info, "x-amz-checksum-type");
    bool any = false;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(checksum_elems); i++) {
        v = obj_info_header(info, checksum_elems[i][0]);
        if (!v)
            continue;
        if (!any)
            xml_open(x, "Checksum");
        any = true;
        xml_elem_str(x, checksum_elems[i][1], v);
    }
    if (!any)
        return;
    if (!type) /* a multipart checksum ("<b64>-N") is composite unless stored otherwise */
        type = strchr(info->etag, '-') ? "COMPOSITE" : "FULL_OBJECT";
    xml_elem_str(x, "ChecksumType", type);
    xml_close(x, "Checksum");
}

/* A part's checksum, "<algo>:<base64>", as its Checksum<ALGO> element. */
void
s3__add_part_checksum(struct buf *x, const char *cs)
{
    const char *colon = strchr(cs, ':');
    char tag[32] = "Checksum";
    size_t i, n = 8;

    if (!colon || colon == cs || (size_t)(colon - cs) > sizeof(tag) - 9)
        return;
    for (i = 0; cs + i < colon; i++)
        tag[n++] = (char)(cs[i] >= 'a' && cs[i] <= 'z' ? cs[i] - 32 : cs[i]);
    tag[n] = '\0';
    xml_elem_str(x, tag, colon + 1);
}

/*
 * The parts of a multipart object (none for an object of one PUT): those
 * numbered after `marker`, at most `max_parts`, as S3 pages them.
 */
static void
add_parts(struct buf *x, const struct obj_info *info, uint64_t max_parts, uint64_t marker)
{
    size_t n = obj_info_nparts(info), i, listed = 0;
    uint64_t next = marker;
    bool truncated = false;

    if (n == 0)
        return;
    xml_open(x, "ObjectParts");
    xml_elem_u64(x, "PartsCount", n); /* TotalPartsCount in the SDKs */
    xml_elem_u64(x, "PartNumberMarker", marker);
    for (i = 0; i < n; i++) {
        const struct obj_info_part *p = obj_info_part(info, i);

        if (p->number <= marker)
            continue;
        if (listed == max_parts) {
            truncated = true;
            break;
        }
        xml_open(x, "Part");
        xml_elem_u64(x, "PartNumber", p->number);
        xml_elem_u64(x, "Size", p->size);
        if (p->checksum[0])
            s3__add_part_checksum(x, p->checksum);
        xml_close(x, "Part");
        next = p->number;
        listed++;
    }
    xml_elem_u64(x, "NextPartNumberMarker", next);
    xml_elem_u64(x, "MaxParts", max_parts);
    xml_elem_bool(x, "IsTruncated", truncated);
    xml_close(x, "ObjectParts");
}

void
s3_object_attributes_xml(struct buf *x, const struct obj_info *info, unsigned attrs,
                         uint64_t max_parts, uint64_t part_marker)
{
    xml_declaration(x);
    xml_open_ns(x, "GetObjectAttributesResponse");
    if (attrs & ATTR_ETAG)
        xml_elem_str(x, "ETag", info->etag);
    if (attrs & ATTR_CHECKSUM)
        add_checksum(x, info);
    if (attrs & ATTR_OBJECT_PARTS)
        add_parts(x, info, max_parts, part_marker);
    if (attrs & ATTR_STORAGE_CLASS)
        xml_elem_str(x, "StorageClass", s3__storage_class(info));
    if (attrs & ATTR_OBJECT_SIZE)
        xml_elem_u64(x, "ObjectSize", info->size);
    xml_close(x, "GetObjectAttributesResponse");
}

void
s3__get_object_attributes(struct s3_call *call)
{
    struct http_req *req = call->req;
    struct buf x = BUF_INIT, date = BUF_INIT;
    struct obj_info info;
    uint64_t max_parts, marker;
    unsigned attrs = 0;
    int rc;

    obj_info_init(&info);
    rc = s3_key_check(slice_make(call->key, call->key_len));
    if (rc == 0 && parse_attributes(req, &attrs) < 0) {
        s3__send_error(call, -ERR_INVALID_ARGUMENT, "Invalid attribute name specified.");
        goto out;
    }
    if (rc == 0)
        rc = header_u64(req, "x-amz-max-parts", 1000, 1000, &max_parts);
    if (rc == 0)
        rc = header_u64(req, "x-amz-part-number-marker", 0, 10000, &marker);
    if (rc == 0)
        rc = objlayer_head(call->s3->ol, &call->ctx, call->bucket, call->key, &info);
    if (rc < 0) {
        s3__send_error(call, rc == -ERR_NOT_FOUND ? -ERR_KEY_NOT_FOUND : rc, NULL);
        goto out;
    }
    clock_fmt_rfc1123(&date, (time_t)(info.mtime_ns / 1000000000));
    http_resp_header(req, "Last-Modified", date.ptr);
    s3_object_attributes_xml(&x, &info, attrs, max_parts, marker);
    s3__send_xml(call, &x);
out:
    buf_release(&x);
    buf_release(&date);
    obj_info_release(&info);
}
