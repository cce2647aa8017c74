/*
 * s3/object.c: PutObject, GetObject, HeadObject, DeleteObject, and the
 * Range and conditional (If-Match, If-None-Match, If-Modified-Since,
 * If-Unmodified-Since) headers of GET and HEAD.
 *
 * PutObject streams: the headers are checked and objlayer_put_begin()
 * called on the first call (so a bad request is refused before its body is
 * read), each raw body piece goes through the body decoder (s3/body.c:
 * aws-chunked framing and chunk signatures, payload SHA-256, flexible
 * checksums), whose payload bytes go to obj_put_write(), and the end of the
 * body either commits (obj_put_finish) or aborts (a signature, digest or
 * checksum mismatch). A PUT that never reaches its end (client gone,
 * timeout) is aborted by the cleanup registered on the request's arena:
 * nothing becomes visible.
 *
 * Flexible checksums: the value (x-amz-checksum-<algo>, from a header or a
 * trailer, or computed when only x-amz-sdk-checksum-algorithm was sent) is
 * stored with the object as the header "x-amz-checksum-<algo>", answered on
 * the PUT, and on GET/HEAD only with x-amz-checksum-mode: ENABLED and not for
 * a range (it covers the whole object).
 *
 * GetObject streams the other way: the response body is read from
 * obj_get_read() by libmicrohttpd's connection thread, block by block.
 * Both reserve objlayer_stream_mem() (PUT) or objlayer_get_mem() (GET) from
 * the memory budget for their duration, or answer 503 SlowDown.
 */
#include "util/base.h"

#include "s3/body.h"
#include "s3/internal.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

/* Request headers stored with the object and returned by GET and HEAD. */
static const char *const stored_headers[] = {
    "content-type",     "content-encoding", "content-disposition",
    "content-language", "cache-control",    "expires",
};

/* Canonical spelling of stored header names in responses. */
static const char *const stored_header_names[] = {
    "Content-Type",     "Content-Encoding", "Content-Disposition",
    "Content-Language", "Cache-Control",    "Expires",
};

/* ---- Range ---- */

static bool
parse_pos(struct slice s, uint64_t *out)
{
    s = slice_trim(s);
    return s.len > 0 && parse_u64(s, out) == 0;
}

int
s3_range_parse(struct slice hdr, uint64_t size, uint64_t *off, uint64_t *len)
{
    struct slice spec, first, last;
    uint64_t a, b;

    hdr = slice_trim(hdr);
    if (!slice_starts_with(hdr, SLICE_LIT("bytes=")))
        return 0;
    spec = slice_trim(slice_make(hdr.ptr + 6, hdr.len - 6));
    if (slice_find(spec, ',') >= 0 || slice_find(spec, '-') < 0)
        return 0;
    last = slice_split(spec, '-', &first);
    if (slice_trim(first).len == 0) { /* -n: the last n bytes */
        if (!parse_pos(last, &b))
            return 0;
        if (b == 0 || size == 0)
            return -ERR_INVALID_RANGE;
        *len = MIN(b, size);
        *off = size - *len;
        return 1;
    }
    if (!parse_pos(first, &a))
        return 0;
    if (slice_trim(last).len == 0) { /* a-: from a to the end */
        b = UINT64_MAX;
    } else if (!parse_pos(last, &b) || b < a) {
        return 0;
    }
    if (a >= size)
        return -ERR_INVALID_RANGE;
    b = MIN(b, size - 1);
    *off = a;
    *len = b - a + 1;
    return 1;
}

/* ---- conditional requests ---- */

/* True if the ETag list `list` ("*", or quoted, weak or bare ETags, comma separated) has `etag`. */
static bool
etag_list_has(struct slice list, const char *etag)
{
    struct slice rest = list, one;

    if (slice_eq_cstr(slice_trim(list), "*"))
        return true;
    while (rest.ptr) {
        rest = slice_split(rest, ',', &one);
        one = slice_trim(one);
        if (slice_starts_with(one, SLICE_LIT("W/")))
            one = slice_make(one.ptr + 2, one.len - 2);
        if (one.len >= 2 && one.ptr[0] == '"' && one.ptr[one.len - 1] == '"')
            one = slice_make(one.ptr + 1, one.len - 2);
        if (slice_eq_cstr(one, etag))
            return true;
    }
    return false;
}

/* Parses an HTTP date into `*t`; false if absent or malformed (then the header is ignored). */
static bool
http_date(struct slice s, time_t *t)
{
    return s.ptr && clock_parse_http(slice_trim(s), t) == 0;
}

int
s3_conditions_eval(const struct s3_conditions *c, const char *etag, time_t mtime)
{
    time_t t;

    if (c->if_match.ptr) {
        if (!etag_list_has(c->if_match, etag))
            return -ERR_PRECONDITION_FAILED;
    } else if (http_date(c->if_unmodified_since, &t) && mtime > t) {
        return -ERR_PRECONDITION_FAILED;
    }
    if (c->if_none_match.ptr) {
        if (etag_list_has(c->if_none_match, etag))
            return -ERR_NOT_MODIFIED;
    } else if (http_date(c->if_modified_since, &t) && mtime <= t) {
        return -ERR_NOT_MODIFIED;
    }
    return 0;
}

/* 0, or an error already answered (412 document, or a bare 304 with the validators). */
static int
check_conditions(struct s3_call *call, const struct obj_info *info)
{
    struct http_req *req = call->req;
    struct s3_conditions c = { SLICE_NULL, SLICE_NULL, SLICE_NULL, SLICE_NULL };
    struct buf date = BUF_INIT;
    time_t mtime = (time_t)(info->mtime_ns / 1000000000);
    int rc;

    http_req_header(req, "if-match", &c.if_match);
    http_req_header(req, "if-none-match", &c.if_none_match);
    http_req_header(req, "if-modified-since", &c.if_modified_since);
    http_req_header(req, "if-unmodified-since", &c.if_unmodified_since);
    rc = s3_conditions_eval(&c, info->etag, mtime);
    if (rc == -ERR_NOT_MODIFIED) {
        http_resp_header(req, "ETag", arena_printf(req->arena, "\"%s\"", info->etag));
        clock_fmt_rfc1123(&date, mtime);
        http_resp_header(req, "Last-Modified", date.ptr);
        http_resp_empty(req, 304);
        buf_release(&date);
    } else if (rc < 0) {
        s3__send_error(call, rc, NULL);
    }
    return rc;
}

/* ---- shared ---- */

int
s3__check_key(struct s3_call *call)
{
    int rc = s3_key_check(slice_make(call->key, call->key_len));

    if (rc < 0)
        s3__send_error(call, rc, NULL);
    return rc;
}

/* Refines the object layer's generic errors for an object request. */
static int
object_err(int rc)
{
    return rc == -ERR_NOT_FOUND ? -ERR_KEY_NOT_FOUND : rc;
}

/* ---- PutObject ---- */

/*
 * The streaming body of an upload (PutObject, UploadPart): the decoder, the
 * write in progress and its memory reservation, released by the cleanup on
 * the request's arena whatever happens to the request.
 */
struct s3_upload {
    struct s3_call *call;
    struct obj_put *put; /* NULL once finished or aborted */
    struct s3_body *body;
    uint64_t mem;
    bool part; /* UploadPart: no x-amz-checksum-type in the answer */
    int rc;    /* sticky body error */
};

static void
upload_cleanup(void *arg)
{
    struct s3_upload *u = arg;

    if (u->put)
        obj_put_abort(u->put);
    u->put = NULL;
    if (u->mem)
        s3__mem_release(u->call->s3, u->mem);
}

/*
 * Content-Encoding without its "aws-chunked" tokens (S3 does not store them:
 * they describe the request, not the object), the rest exactly as sent
 * ("deflate, gzip" stays so); false if nothing is left.
 */
static bool
strip_aws_chunked(struct arena *a, struct slice v, struct slice *out)
{
    struct buf b = BUF_INIT;
    struct slice rest = v, one;
    bool chunked = false;

    while (rest.ptr) {
        rest = slice_split(rest, ',', &one);
        if (slice_case_eq_cstr(slice_trim(one), "aws-chunked")) {
            chunked = true;
            continue;
        }
        if (b.len)
            buf_addch(&b, ',');
        buf_addslice(&b, one);
    }
    if (chunked)
        v = slice_trim(slice_make(b.ptr, b.len));
    *out = slice_cstr(arena_slicedup(a, v)); /* before `b` goes: `v` may point into it */
    buf_release(&b);
    return slice_trim(*out).len > 0;
}

/* The pair named `name` (any case), or NULL. */
static const struct http_header *
pair_find(const struct http_header *pairs, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (slice_case_eq_cstr(pairs[i].name, name))
            return &pairs[i];
    return NULL;
}

int
s3__stored_headers(struct arena *a, const struct http_header *pairs, size_t n, struct buf *h)
{
    const struct http_header *p;
    struct slice v;
    size_t i, j, meta = 0;

    for (i = 0; i < ARRAY_SIZE(stored_headers); i++) {
        if ((p = pair_find(pairs, n, stored_headers[i])) != NULL) {
            v = p->value;
            if (!strcmp(stored_headers[i], "content-encoding") && !strip_aws_chunked(a, v, &v))
                continue;
            hdrs_add(h, stored_headers[i], v);
        } else if (i == 0) {
            hdrs_add(h, "content-type", SLICE_LIT("binary/octet-stream"));
        }
    }
    for (i = 0; i < n; i++) {
        struct slice name = pairs[i].name;
        char *lower;

        if (!(name.len > 11 && slice_case_eq(slice_make(name.ptr, 11), SLICE_LIT("x-amz-meta-"))))
            continue;
        meta += name.len - 11 + pairs[i].value.len;
        lower = arena_slicedup(a, name);
        for (j = 0; j < name.len; j++)
            lower[j] = (char)((lower[j] >= 'A' && lower[j] <= 'Z') ? lower[j] + 32 : lower[j]);
        hdrs_add(h, lower, pairs[i].value);
    }
    /* S3 counts names without the x-amz-meta- prefix, and values */
    return meta > S3_MAX_META_BYTES ? -ERR_METADATA_TOO_LARGE : 0;
}

/* Content-MD5: base64 of 16 bytes, or -ERR_INVALID_DIGEST. */
static int
parse_content_md5(struct slice v, uint8_t md5[16])
{
    struct buf d = BUF_INIT;
    int rc = base64_decode(&d, slice_trim(v));

    if (rc == 0 && d.len == 16)
        memcpy(md5, d.ptr, 16);
    else
        rc = -ERR_INVALID_DIGEST;
    buf_release(&d);
    return rc;
}

int
s3__object_headers(struct s3_call *call, struct buf *h, struct obj_put_opts *opts, struct buf *msg)
{
    int rc;

    rc = s3__stored_headers(call->req->arena, call->req->headers, call->req->nheaders, h);
    if (rc == 0)
        rc = s3__tagging_from_request(call, h, msg);
    if (rc == 0)
        rc = s3__storage_class_check(call, &opts->reduced_redundancy, h);
    if (rc == 0)
        rc = s3__object_acl_header(call, h);
    return rc;
}

int
s3__upload_begin(struct s3_call *call, struct obj_put_opts *opts, uint8_t md5[16],
                 struct s3_upload **out)
{
    struct http_req *req = call->req;
    struct s3_upload *u = arena_zalloc(req->arena, sizeof(*u));
    struct slice v;
    int rc;

    u->call = call;
    rc = s3_body_begin(call, &u->body);
    if (rc < 0)
        return rc;
    if (req->content_length < 0 && !http_req_header(req, "transfer-encoding", &v))
        return -ERR_MISSING_LENGTH;
    /* aws-chunked: Content-Length counts the framing; the decoder bounds the payload. */
    if (!s3_body_is_chunked(u->body) && req->content_length > (int64_t)S3_MAX_PUT_SIZE)
        return -ERR_TOO_LARGE;
    opts->size = s3_body_size(u->body);
    if (http_req_header(req, "content-md5", &v)) {
        rc = parse_content_md5(v, md5);
        if (rc < 0)
            return rc;
        opts->content_md5 = md5;
    }
    arena_defer(req->arena, upload_cleanup, u);
    u->mem = objlayer_stream_mem(call->s3->ol);
    if (!s3__mem_reserve(call->s3, u->mem)) {
        u->mem = 0;
        return -ERR_BUSY;
    }
    *out = u;
    return 0;
}

struct s3_body *
s3__upload_body(struct s3_upload *u)
{
    return u->body;
}

/* The decoder's sink: payload bytes into the object. */
static int
upload_sink(void *arg, const void *data, size_t n)
{
    struct s3_upload *u = arg;

    return obj_put_write(u->put, data, n);
}

static int
upload_body(struct http_req *req, const void *data, size_t n)
{
    struct s3_call *call = req->ctx;
    struct s3_upload *u = call->state;
    int rc = s3_body_feed(u->body, data, n, upload_sink, u);

    if (rc < 0)
        u->rc = rc;
    return rc;
}

/* The body's checksum to store, "x-amz-checksum-<algo>" in `*name`; false if none. */
static bool
upload_checksum(struct s3_upload *u, const char **name, const char **b64)
{
    const char *algo;

    if (!s3_body_checksum(u->body, &algo, b64))
        return false;
    *name = arena_printf(u->call->req->arena, "x-amz-checksum-%s", algo);
    return true;
}

static void
upload_end(struct http_req *req)
{
    struct s3_call *call = req->ctx;
    struct s3_upload *u = call->state;
    struct obj_info info;
    struct obj_put *p = u->put;
    const char *ck_name = NULL, *ck_b64 = NULL;
    int rc = u->rc;

    if (rc == 0)
        rc = s3_body_finish(u->body);
    u->put = NULL;
    if (rc < 0) {
        obj_put_abort(p);
        s3__send_error(call, rc, NULL);
        return;
    }
    if (upload_checksum(u, &ck_name, &ck_b64))
        obj_put_add_header(p, ck_name, slice_cstr(ck_b64));
    obj_info_init(&info);
    rc = obj_put_finish(p, &info);
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
    } else {
        http_resp_header(req, "ETag", arena_printf(req->arena, "\"%s\"", info.etag));
        if (ck_name) {
            http_resp_header(req, ck_name, ck_b64);
            if (!u->part)
                http_resp_header(req, "x-amz-checksum-type", "FULL_OBJECT");
        }
        http_resp_empty(req, 200);
    }
    obj_info_release(&info);
}

void
s3__upload_stream(struct s3_upload *u, struct obj_put *put, bool part)
{
    u->put = put;
    u->part = part;
    u->call->state = u;
    http_req_expect_body(u->call->req, upload_body, upload_end);
}

void
s3__put_object(struct s3_call *call)
{
    struct obj_put_opts opts = { .size = -1 };
    struct buf headers = BUF_INIT, msg = BUF_INIT;
    struct s3_upload *u = NULL;
    struct obj_put *put = NULL;
    uint8_t md5[16];
    int rc;

    if (s3__check_key(call) < 0)
        return;
    rc = s3__upload_begin(call, &opts, md5, &u);
    if (rc == 0)
        rc = s3__object_headers(call, &headers, &opts, &msg);
    if (rc == 0)
        rc = s3__write_conditions(call, &opts.cond);
    opts.headers = buf_slice(&headers);
    if (rc == 0)
        rc = objlayer_put_begin(call->s3->ol, &call->ctx, call->bucket, call->key, &opts, &put);
    if (rc == 0)
        s3__upload_stream(u, put, false);
    else if (rc == -ERR_INVALID_CHECKSUM && !msg.len)
        s3__send_error(call, rc, s3_checksum_value_msg(call->req));
    else
        s3__send_error(call, rc, msg.len ? msg.ptr : NULL);
    buf_release(&headers);
    buf_release(&msg);
}

/* ---- GetObject / HeadObject ---- */

struct get_stream {
    struct s3 *s3;
    struct obj_get *g;
    uint64_t off; /* of the range in the object */
    uint64_t mem;
};

static ssize_t
get_read(void *arg, uint64_t off, void *dst, size_t n)
{
    struct get_stream *gs = arg;

    return obj_get_read(gs->g, gs->off + off, dst, n);
}

static void
get_free(void *arg)
{
    struct get_stream *gs = arg;

    if (gs->g)
        obj_get_close(gs->g);
    if (gs->mem)
        s3__mem_release(gs->s3, gs->mem);
    free(gs);
}

/* response-content-type=... and friends override the stored headers (S3). */
static const char *
override(const struct http_req *req, const char *name)
{
    static const char *const params[][2] = {
        { "content-type", "response-content-type" },
        { "content-language", "response-content-language" },
        { "expires", "response-expires" },
        { "cache-control", "response-cache-control" },
        { "content-disposition", "response-content-disposition" },
        { "content-encoding", "response-content-encoding" },
    };
    struct slice v;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(params); i++)
        if (!strcmp(name, params[i][0]) && http_req_param(req, params[i][1], &v))
            return arena_slicedup(req->arena, v);
    return NULL;
}

/*
 * Stored x-amz-checksum-* headers go out only when the client asked
 * (x-amz-checksum-mode: ENABLED) for the whole object: a range has another
 * checksum, and clients verify what they get.
 */
static bool
wants_checksum(const struct http_req *req, unsigned status)
{
    struct slice v;

    return status != 206 && http_req_header(req, "x-amz-checksum-mode", &v) &&
           slice_case_eq_cstr(slice_trim(v), "ENABLED");
}

static bool
is_checksum_header(const char *name)
{
    return !strncmp(name, "x-amz-checksum-", 15);
}

/*
 * A user metadata value as S3 returns it: as stored when all US-ASCII, else
 * encoded per RFC 2047 ("=?UTF-8?B?...?=", words of at most 75 characters,
 * each whole UTF-8 characters, separated by spaces) to keep the header
 * mail-safe (S3's user guide, "User-defined object metadata"). Bytes that
 * are not UTF-8 were sent as ISO-8859-1, HTTP's historical charset, and are
 * labelled so.
 */
static const char *
meta_value_out(struct arena *a, const char *v)
{
    size_t len = strlen(v), i, n, word_bytes;
    struct buf b = BUF_INIT;
    const char *out, *charset;
    bool utf8;

    for (i = 0; i < len; i++)
        if ((unsigned char)v[i] >= 0x80)
            break;
    if (i == len)
        return v;
    utf8 = s3_is_valid_utf8(slice_make(v, len));
    charset = utf8 ? "=?UTF-8?B?" : "=?ISO-8859-1?B?";
    word_bytes = utf8 ? 45 : 42; /* base64 of 60 or 56 characters: words of 72 or 73 */
    for (i = 0; i < len; i += n) {
        n = MIN(word_bytes, len - i);
        while (utf8 && i + n < len && n > 1 && ((unsigned char)v[i + n] & 0xc0) == 0x80)
            n--; /* do not split a character */
        if (b.len)
            buf_addch(&b, ' ');
        buf_adds(&b, charset);
        base64_encode(&b, v + i, n);
        buf_adds(&b, "?=");
    }
    out = arena_strdup(a, b.ptr);
    buf_release(&b);
    return out;
}

static void
add_object_headers(struct http_req *req, const struct obj_info *info, unsigned status)
{
    struct buf date = BUF_INIT;
    const char *name, *value, *o;
    size_t pos = 0, i;
    bool checksums = wants_checksum(req, status), sent_checksum = false;

    http_resp_header(req, "ETag", arena_printf(req->arena, "\"%s\"", info->etag));
    clock_fmt_rfc1123(&date, (time_t)(info->mtime_ns / 1000000000));
    http_resp_header(req, "Last-Modified", date.ptr);
    buf_release(&date);
    http_resp_header(req, "Accept-Ranges", "bytes");
    while (obj_info_header_next(info, &pos, &name, &value)) {
        const char *out_name = name;

        if (is_checksum_header(name)) {
            if (checksums)
                http_resp_header(req, name, value);
            sent_checksum |= checksums && strcmp(name, "x-amz-checksum-type") != 0 &&
                             strcmp(name, "x-amz-checksum-algorithm") != 0;
            continue;
        }
        if (s3__is_internal_header(name))
            continue;
        for (i = 0; i < ARRAY_SIZE(stored_headers); i++)
            if (!strcmp(name, stored_headers[i]))
                out_name = stored_header_names[i];
        o = override(req, name);
        if (!o && !strncmp(name, "x-amz-meta-", 11))
            o = meta_value_out(req->arena, value);
        http_resp_header(req, out_name, o ? o : value);
    }
    for (i = 0; i < ARRAY_SIZE(stored_headers); i++)
        if (!obj_info_header(info, stored_headers[i]) && (o = override(req, stored_headers[i])))
            http_resp_header(req, stored_header_names[i], o);
    s3__tagging_count_header(req, info);
    if (sent_checksum && !obj_info_header(info, "x-amz-checksum-type"))
        http_resp_header(req, "x-amz-checksum-type", "FULL_OBJECT");
}

/* Decides 200/206/416 from the Range header; 0 or an error already answered. */
static int
apply_range(struct s3_call *call, const struct obj_info *info, uint64_t *off, uint64_t *len,
            unsigned *status)
{
    struct http_req *req = call->req;
    uint64_t size = info->size;
    struct slice v;
    int rc = s3__part_number_range(call, info, off, len, status);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    *off = 0;
    *len = size;
    *status = 200;
    if (http_req_header(req, "range", &v))
        rc = s3_range_parse(v, size, off, len);
    if (rc < 0) {
        http_resp_header(req, "Content-Range",
                         arena_printf(req->arena, "bytes */%llu", (unsigned long long)size));
        s3__send_error(call, rc, NULL);
        return rc;
    }
    if (rc == 1) {
        *status = 206;
        http_resp_header(req, "Content-Range",
                         arena_printf(req->arena, "bytes %llu-%llu/%llu", (unsigned long long)*off,
                                      (unsigned long long)(*off + *len - 1),
                                      (unsigned long long)size));
    }
    return 0;
}

/*
 * SSE-C headers on a GET or HEAD name the key of an encrypted object; no
 * object is encrypted yet, and S3 answers 400 for an object that is not
 * (router.c checked the headers). 0, or an error already answered.
 */
static int
sse_customer_refused(struct s3_call *call)
{
    if (!call->sse_customer)
        return 0;
    s3__send_error(call, -ERR_INVALID_REQUEST,
                   "The encryption parameters are not applicable to this object.");
    return -ERR_INVALID_REQUEST;
}

static void
head_object(struct s3_call *call)
{
    struct obj_info info;
    uint64_t off, len;
    unsigned status;
    int rc;

    obj_info_init(&info);
    rc = objlayer_head(call->s3->ol, &call->ctx, call->bucket, call->key, &info);
    if (rc < 0) {
        s3__send_error(call, object_err(rc), NULL);
        goto out;
    }
    if (sse_customer_refused(call) < 0 || check_conditions(call, &info) < 0 ||
        apply_range(call, &info, &off, &len, &status) < 0)
        goto out;
    add_object_headers(call->req, &info, status);
    http_resp_stream(call->req, status, len, NULL, NULL, NULL);
out:
    obj_info_release(&info);
}

void
s3__get_object(struct s3_call *call)
{
    struct get_stream *gs;
    struct obj_info info;
    uint64_t off, len;
    unsigned status;
    int rc;

    if (s3__check_key(call) < 0)
        return;
    if (call->req->is_head) {
        head_object(call);
        return;
    }
    gs = xcalloc(1, sizeof(*gs));
    gs->s3 = call->s3;
    obj_info_init(&info);
    gs->mem = objlayer_get_mem(call->s3->ol);
    if (!s3__mem_reserve(call->s3, gs->mem)) {
        gs->mem = 0;
        rc = -ERR_BUSY;
        goto out_error;
    }
    rc = objlayer_get_open(call->s3->ol, &call->ctx, call->bucket, call->key, &gs->g, &info);
    if (rc < 0)
        goto out_error;
    if (sse_customer_refused(call) < 0 || check_conditions(call, &info) < 0 ||
        apply_range(call, &info, &off, &len, &status) < 0)
        goto out_free;
    gs->off = off;
    add_object_headers(call->req, &info, status);
    http_resp_stream(call->req, status, len, get_read, get_free, gs);
    obj_info_release(&info);
    return;
out_error:
    s3__send_error(call, object_err(rc), NULL);
out_free:
    get_free(gs);
    obj_info_release(&info);
}

/* ---- DeleteObject ---- */

void
s3__delete_object(struct s3_call *call)
{
    const struct obj_cond *cond;
    int rc;

    if (s3__check_key(call) < 0)
        return;
    rc = s3__delete_conditions(call, &cond);
    if (rc == 0)
        rc = objlayer_delete_if(call->s3->ol, &call->ctx, call->bucket, call->key, cond);
    /* deleting what is not there succeeds, unless If-Match asked for it to be there */
    if (rc < 0 && (cond || (rc != -ERR_KEY_NOT_FOUND && rc != -ERR_NOT_FOUND))) {
        s3__send_error(call, rc, NULL);
        return;
    }
    http_resp_empty(call->req, 204);
}
