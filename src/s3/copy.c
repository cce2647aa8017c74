/*
 * s3/copy.c: CopyObject and UploadPartCopy.
 *
 * Both read the source named by x-amz-copy-source ("/bucket/key" or
 * "bucket/key", URL-encoded, an optional ?versionId=null) through a streaming
 * GET and write it through a streaming PUT (or part), a block at a time, on
 * the request's thread: memory is one GET's and one PUT's worth whatever the
 * size, and nothing of the destination is visible until its commit.
 *
 * The x-amz-copy-source-if-* headers are checked against the source as S3
 * does (any failure is 412 PreconditionFailed); If-Match / If-None-Match
 * apply to the destination (conditional writes, conditional.c). CopyObject
 * keeps the source's metadata (x-amz-metadata-directive COPY, the default) or
 * takes the request's (REPLACE); tags likewise with x-amz-tagging-directive.
 * Copying an object onto itself must change something (REPLACE), as in S3.
 */
#include "util/base.h"

#include "s3/internal.h"
#include "s3/xml.h"
#include "util/checksum.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

#define COPY_PIECE (1u << 20)

uint64_t s3_copy_max_size = S3_MAX_COPY_SIZE;

struct copy_src {
    char *bucket, *key; /* decoded, in the request's arena */
    struct obj_get *g;
    struct obj_info info;
    uint64_t off, len; /* the bytes to copy */
    uint64_t mem;      /* reserved from the memory budget */
};

static void
copy_src_close(struct s3_call *call, struct copy_src *src)
{
    if (src->g)
        obj_get_close(src->g);
    src->g = NULL;
    obj_info_release(&src->info);
    if (src->mem)
        s3__mem_release(call->s3, src->mem);
    src->mem = 0;
}

/* Splits x-amz-copy-source into bucket and key; -ERR_INVALID_ARGUMENT if malformed. */
static int
parse_source(struct s3_call *call, struct copy_src *src, const char **msg)
{
    struct http_req *req = call->req;
    struct slice v, path, query, b, k;
    struct buf dec = BUF_INIT;
    int rc = 0;

    *msg = "Copy Source must mention the source bucket and key: sourcebucket/sourcekey";
    if (!http_req_header(req, "x-amz-copy-source", &v))
        return -ERR_INVALID_ARGUMENT;
    v = slice_trim(v);
    query = slice_split(v, '?', &path);
    if (query.ptr) {
        /* Only the current version exists: versionId=null names it. */
        if (!slice_eq_cstr(query, "versionId=null")) {
            *msg = "Basalt keeps one version per key: only versionId=null can be copied";
            return -ERR_INVALID_ARGUMENT;
        }
    }
    if (uri_decode(&dec, path) < 0) {
        buf_release(&dec);
        return -ERR_INVALID_ARGUMENT;
    }
    path = buf_slice(&dec);
    if (path.len && path.ptr[0] == '/')
        path = slice_make(path.ptr + 1, path.len - 1);
    k = slice_split(path, '/', &b);
    if (!k.ptr || !k.len || !b.len)
        rc = -ERR_INVALID_ARGUMENT;
    if (rc == 0 && s3_bucket_name_check(b) < 0) {
        *msg = "The source bucket name is not valid";
        rc = -ERR_INVALID_BUCKET_NAME;
    }
    if (rc == 0 && (rc = s3_key_check(k)) < 0)
        *msg = NULL;
    if (rc == 0) {
        src->bucket = arena_slicedup(req->arena, b);
        src->key = arena_slicedup(req->arena, k);
        *msg = NULL;
    }
    buf_release(&dec);
    return rc;
}

/* x-amz-copy-source-if-*: any condition that fails is 412 for a copy. */
static int
source_conditions(struct s3_call *call, const struct obj_info *info)
{
    struct http_req *req = call->req;
    struct s3_conditions c = { SLICE_NULL, SLICE_NULL, SLICE_NULL, SLICE_NULL };
    int rc;

    http_req_header(req, "x-amz-copy-source-if-match", &c.if_match);
    http_req_header(req, "x-amz-copy-source-if-none-match", &c.if_none_match);
    http_req_header(req, "x-amz-copy-source-if-modified-since", &c.if_modified_since);
    http_req_header(req, "x-amz-copy-source-if-unmodified-since", &c.if_unmodified_since);
    rc = s3_conditions_eval(&c, info->etag, (time_t)(info->mtime_ns / 1000000000));
    return rc < 0 ? -ERR_PRECONDITION_FAILED : 0;
}

/* x-amz-copy-source-range "bytes=a-b" (UploadPartCopy): both ends required, within the source. */
static int
source_range(struct s3_call *call, struct copy_src *src)
{
    struct slice v, first, last;
    uint64_t a, b;

    src->off = 0;
    src->len = src->info.size;
    if (!http_req_header(call->req, "x-amz-copy-source-range", &v))
        return 0;
    v = slice_trim(v);
    if (!slice_starts_with(v, SLICE_LIT("bytes=")))
        return -ERR_INVALID_ARGUMENT;
    last = slice_split(slice_make(v.ptr + 6, v.len - 6), '-', &first);
    if (!last.ptr || parse_u64(first, &a) < 0 || parse_u64(last, &b) < 0 || b < a)
        return -ERR_INVALID_ARGUMENT;
    if (b >= src->info.size)
        return -ERR_INVALID_RANGE; /* answered as S3 does: InvalidArgument, with the size */
    src->off = a;
    src->len = b - a + 1;
    return 0;
}

/*
 * Opens the source for reading: 0, or an error answered here (`answered`) or
 * for the caller to answer.
 */
static int
copy_src_open(struct s3_call *call, struct copy_src *src, bool part)
{
    const char *msg = NULL;
    int rc;

    obj_info_init(&src->info);
    rc = parse_source(call, src, &msg);
    if (rc == 0 && !s3__is_allowed(call, "s3:GetObject", src->bucket, src->key)) {
        rc = -ERR_ACCESS_DENIED; /* the source must be readable by the caller too */
        msg = NULL;
    }
    if (rc < 0) {
        s3__send_error(call, rc, msg);
        return rc;
    }
    src->mem = objlayer_get_mem(call->s3->ol) + objlayer_stream_mem(call->s3->ol);
    if (!s3__mem_reserve(call->s3, src->mem)) {
        src->mem = 0;
        s3__send_error(call, -ERR_BUSY, NULL);
        return -ERR_BUSY;
    }
    rc = objlayer_get_open(call->s3->ol, &call->ctx, src->bucket, src->key, &src->g, &src->info);
    if (rc == -ERR_NOT_FOUND)
        rc = -ERR_KEY_NOT_FOUND;
    if (rc == 0)
        rc = source_conditions(call, &src->info);
    if (rc == 0 && part)
        rc = source_range(call, src);
    else if (rc == 0) {
        src->off = 0;
        src->len = src->info.size;
    }
    if (rc == 0 && src->len > s3_copy_max_size)
        rc = -ERR_COPY_SOURCE_TOO_LARGE;
    if (rc < 0) {
        if (rc == -ERR_INVALID_RANGE) /* S3: 400 InvalidArgument, not 416 */
            s3__send_error(call, -ERR_INVALID_ARGUMENT,
                           arena_printf(call->req->arena,
                                        "Range specified is not valid for source object of "
                                        "size: %llu",
                                        (unsigned long long)src->info.size));
        else
            s3__send_error(call, rc,
                           rc == -ERR_INVALID_ARGUMENT
                               ? "The x-amz-copy-source-range value must be of the "
                                 "form bytes=first-last"
                               : NULL);
        copy_src_close(call, src);
    }
    return rc;
}

/* Streams the source's bytes into `p`, and into `cs` when not NULL. */
static int
copy_stream(struct copy_src *src, struct obj_put *p, struct checksum *cs)
{
    uint8_t *buf = xmalloc(COPY_PIECE);
    uint64_t done = 0;
    int rc = 0;

    while (done < src->len && rc == 0) {
        size_t want = (size_t)MIN(COPY_PIECE, src->len - done);
        ssize_t n = obj_get_read(src->g, src->off + done, buf, want);

        if (n <= 0) {
            rc = n < 0 ? (int)n : -ERR_CORRUPT;
            break;
        }
        if (cs)
            checksum_update(cs, buf, (size_t)n);
        rc = obj_put_write(p, buf, (size_t)n);
        done += (size_t)n;
    }
    free(buf);
    return rc;
}

/* The copy result document (CopyObjectResult / CopyPartResult). */
static void
send_result(struct s3_call *call, const char *root, const struct obj_info *info,
            const char *sum_elem, const char *sum)
{
    struct buf x = BUF_INIT, date = BUF_INIT;

    xml_declaration(&x);
    xml_open_ns(&x, root);
    clock_fmt_iso8601(&date, info->mtime_ns);
    xml_elem_str(&x, "LastModified", date.ptr);
    xml_elem_str(&x, "ETag", arena_printf(call->req->arena, "\"%s\"", info->etag));
    if (sum_elem && sum)
        xml_elem_str(&x, sum_elem, sum);
    xml_close(&x, root);
    s3__send_xml(call, &x);
    buf_release(&x);
    buf_release(&date);
}

/* ---- CopyObject ---- */

/* COPY or REPLACE (the default COPY); -ERR_INVALID_ARGUMENT otherwise. */
static int
directive(struct s3_call *call, const char *header, bool *replace)
{
    struct slice v;

    *replace = false;
    if (!http_req_header(call->req, header, &v))
        return 0;
    v = slice_trim(v);
    if (slice_eq_cstr(v, "REPLACE"))
        *replace = true;
    else if (!slice_eq_cstr(v, "COPY"))
        return -ERR_INVALID_ARGUMENT;
    return 0;
}

/*
 * The headers of the copy: the source's (COPY) or the request's (REPLACE),
 * the storage class always the request's, tags by the tagging directive.
 * The source's checksums are not carried over (a multipart composite would
 * not describe the copy); x-amz-checksum-algorithm asks for a new one.
 * 0, or an error to answer (with `msg`).
 */
static int
copy_headers(struct s3_call *call, const struct obj_info *src, bool replace_meta, bool replace_tags,
             struct obj_put_opts *opts, struct buf *h, struct buf *msg)
{
    const char *name, *value;
    size_t pos = 0;
    int rc;

    if (replace_meta) {
        rc = s3__object_headers(call, h, opts, msg);
    } else {
        while (obj_info_header_next(src, &pos, &name, &value))
            if (strncmp(name, "x-amz-checksum-", 15) != 0 && strcmp(name, "x-amz-tagging") != 0 &&
                strcmp(name, "x-amz-storage-class") != 0 && strncmp(name, "x-basalt-", 9) != 0)
                hdrs_add(h, name, slice_cstr(value));
        rc = s3__storage_class_check(call, &opts->reduced_redundancy, h);
        if (rc == 0) /* the copy's ACL is the request's (or the default), never the source's */
            rc = s3__object_acl_header(call, h);
    }
    if (rc < 0)
        return rc;
    hdrs_remove(h, "x-amz-tagging");
    if (replace_tags)
        return s3__tagging_from_request(call, h, msg);
    if ((value = obj_info_header(src, "x-amz-tagging")))
        hdrs_add(h, "x-amz-tagging", slice_cstr(value));
    return 0;
}

void
s3__copy_object(struct s3_call *call)
{
    struct http_req *req = call->req;
    struct obj_put_opts opts = { .size = -1 };
    struct copy_src src = { 0 };
    struct buf headers = BUF_INIT, msg = BUF_INIT;
    bool replace_meta, replace_tags;
    enum checksum_algo algo = CHECKSUM_NONE;
    struct checksum cs;
    char sum[CHECKSUM_B64_SIZE] = "";
    struct obj_info info;
    struct obj_put *p = NULL;
    struct slice v;
    int rc;

    obj_info_init(&info);
    rc = s3_key_check(slice_make(call->key, call->key_len));
    if (rc == 0 && (directive(call, "x-amz-metadata-directive", &replace_meta) < 0 ||
                    directive(call, "x-amz-tagging-directive", &replace_tags) < 0))
        rc = -ERR_INVALID_ARGUMENT;
    if (rc == 0 && http_req_header(req, "x-amz-checksum-algorithm", &v) &&
        checksum_algo_parse(slice_trim(v), &algo) < 0)
        rc = -ERR_INVALID_CHECKSUM;
    if (rc == 0)
        rc = s3__write_conditions(call, &opts.cond);
    if (rc < 0) {
        s3__send_error(
            call, rc, rc == -ERR_INVALID_ARGUMENT ? "Unknown metadata or tagging directive" : NULL);
        goto out;
    }
    if (copy_src_open(call, &src, false) < 0)
        goto out;
    if (!strcmp(src.bucket, call->bucket) && !strcmp(src.key, call->key) && !replace_meta &&
        !replace_tags && algo == CHECKSUM_NONE &&
        !http_req_header(req, "x-amz-storage-class", &v)) {
        rc = -ERR_INVALID_REQUEST;
        buf_adds(&msg, "This copy request is illegal because it is trying to copy an object to "
                       "itself without changing the object's metadata, storage class, website "
                       "redirect location or encryption attributes.");
    }
    if (rc == 0)
        rc = copy_headers(call, &src.info, replace_meta, replace_tags, &opts, &headers, &msg);
    if (rc == 0) {
        opts.size = (int64_t)src.len;
        opts.headers = buf_slice(&headers);
        rc = objlayer_put_begin(call->s3->ol, &call->ctx, call->bucket, call->key, &opts, &p);
    }
    if (rc == 0) {
        if (algo != CHECKSUM_NONE)
            checksum_init(&cs, algo);
        rc = copy_stream(&src, p, algo != CHECKSUM_NONE ? &cs : NULL);
        if (algo != CHECKSUM_NONE) {
            checksum_final_b64(&cs, sum);
            checksum_release(&cs);
            if (rc == 0)
                obj_put_add_header(p, checksum_header_name(algo), slice_cstr(sum));
        }
        if (rc < 0)
            obj_put_abort(p);
        else
            rc = obj_put_finish(p, &info);
    }
    copy_src_close(call, &src);
    if (rc < 0) {
        s3__send_error(call, rc == -ERR_NOT_FOUND ? -ERR_BUCKET_NOT_FOUND : rc,
                       msg.len ? msg.ptr : NULL);
        goto out;
    }
    send_result(call, "CopyObjectResult", &info,
                algo != CHECKSUM_NONE
                    ? arena_printf(req->arena, "Checksum%s", checksum_algo_name(algo))
                    : NULL,
                sum);
out:
    obj_info_release(&info);
    buf_release(&headers);
    buf_release(&msg);
}

/* ---- UploadPartCopy ---- */

void
s3__upload_part_copy(struct s3_call *call, const char *upload_id, unsigned number)
{
    struct obj_put_opts opts = { .size = -1 };
    struct copy_src src = { 0 };
    struct obj_info info;
    struct obj_put *p;
    int rc;

    obj_info_init(&info);
    if (copy_src_open(call, &src, true) < 0)
        return;
    opts.size = (int64_t)src.len;
    rc = objlayer_mp_part_begin(call->s3->ol, &call->ctx, call->bucket, call->key, upload_id,
                                number, &opts, &p);
    if (rc == 0) {
        rc = copy_stream(&src, p, NULL);
        if (rc < 0)
            obj_put_abort(p);
        else
            rc = obj_put_finish(p, &info);
    }
    copy_src_close(call, &src);
    if (rc < 0)
        s3__send_error(call, rc, NULL);
    else
        send_result(call, "CopyPartResult", &info, NULL, NULL);
    obj_info_release(&info);
}
