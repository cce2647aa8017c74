/*
 * s3/multipart.c: CreateMultipartUpload, UploadPart, UploadPartCopy (with
 * copy.c), CompleteMultipartUpload, AbortMultipartUpload, ListParts and
 * ListMultipartUploads, over object/multipart.c.
 *
 * UploadPart streams exactly like PutObject (s3__upload_begin/_stream in
 * object.c: body.c decodes aws-chunked bodies and checks signatures and
 * checksums; nothing is committed unless the whole body checked out); a part
 * is at most 5 GiB, like a PUT. A part's checksum (x-amz-checksum-*,
 * header or trailer) is kept with the part; CompleteMultipartUpload turns the
 * parts' checksums into the object's (composite "<checksum of the checksums>-N",
 * or a full-object CRC for the CRC algorithms when asked), as S3 does.
 */
#include "util/base.h"

#include "s3/body.h"
#include "s3/internal.h"
#include "s3/xml.h"
#include "util/checksum.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

#define S3_MAX_COMPLETE_BODY (16u << 20) /* 10,000 parts with checksums fit */

static const char *
upload_id_param(const struct s3_call *call)
{
    struct slice v;

    if (!http_req_param(call->req, "uploadId", &v))
        return "";
    return arena_slicedup(call->req->arena, v);
}

/* Internal header of an upload's record: the checksum algorithm its parts use. */
#define MP_ALGO_HEADER "x-basalt-checksum-algorithm"
/* Internal header of a completed object: the upload it was completed from (a retried completion).
 */
#define MP_UPLOAD_ID_HEADER "x-basalt-upload-id"
#define CHECKSUM_TYPE_HEADER "x-amz-checksum-type"

/* "ChecksumCRC32" and friends: the XML element of an algorithm. */
static const char *
checksum_elem(struct arena *a, enum checksum_algo algo)
{
    return arena_printf(a, "Checksum%s", checksum_algo_name(algo));
}

static void
add_owner(struct buf *x, const struct s3 *s, const char *tag)
{
    xml_open(x, tag);
    xml_elem_str(x, "ID", S3_OWNER_ID);
    xml_elem_str(x, "DisplayName", s->root_user);
    xml_close(x, tag);
}

/* ---- CreateMultipartUpload ---- */

/*
 * x-amz-checksum-algorithm and x-amz-checksum-type of the upload: kept in the
 * upload's record as internal headers, for its parts and its completion.
 */
static int
checksum_choice(struct s3_call *call, struct buf *headers)
{
    struct slice algo, type;
    enum checksum_algo a;
    bool full;

    if (!http_req_header(call->req, "x-amz-checksum-algorithm", &algo))
        return http_req_header(call->req, "x-amz-checksum-type", &type) ? -ERR_INVALID_REQUEST : 0;
    if (checksum_algo_parse(slice_trim(algo), &a) < 0)
        return -ERR_INVALID_CHECKSUM;
    full = a == CHECKSUM_CRC64NVME; /* S3: CRC64NVME is full-object only */
    if (http_req_header(call->req, "x-amz-checksum-type", &type)) {
        type = slice_trim(type);
        if (slice_eq_cstr(type, "FULL_OBJECT"))
            full = true;
        else if (slice_eq_cstr(type, "COMPOSITE"))
            full = false;
        else
            return -ERR_INVALID_REQUEST;
    }
    if (full && !checksum_is_crc(a))
        return -ERR_INVALID_REQUEST; /* full-object checksums exist for the CRCs only */
    if (!full && a == CHECKSUM_CRC64NVME)
        return -ERR_INVALID_REQUEST;
    hdrs_add(headers, MP_ALGO_HEADER, slice_cstr(checksum_algo_name(a)));
    hdrs_add(headers, CHECKSUM_TYPE_HEADER, slice_cstr(full ? "FULL_OBJECT" : "COMPOSITE"));
    http_resp_header(call->req, "x-amz-checksum-algorithm", checksum_algo_name(a));
    http_resp_header(call->req, "x-amz-checksum-type", full ? "FULL_OBJECT" : "COMPOSITE");
    return 0;
}

void
s3__create_multipart(struct s3_call *call)
{
    struct obj_put_opts opts = { .size = 0 };
    struct buf headers = BUF_INIT, x = BUF_INIT, msg = BUF_INIT;
    char id[OBJ_VID_LEN + 1];
    int rc;

    if (s3__check_key(call) < 0)
        return;
    rc = s3__object_headers(call, &headers, &opts, &msg);
    if (rc == 0)
        rc = checksum_choice(call, &headers);
    if (rc == 0) {
        opts.headers = buf_slice(&headers);
        rc = objlayer_mp_create(call->s3->ol, &call->ctx, call->bucket, call->key, &opts, id);
    }
    if (rc < 0) {
        s3__send_error(call, rc == -ERR_NOT_FOUND ? -ERR_BUCKET_NOT_FOUND : rc,
                       msg.len ? msg.ptr : NULL);
        goto out;
    }
    xml_declaration(&x);
    xml_open_ns(&x, "InitiateMultipartUploadResult");
    xml_elem_str(&x, "Bucket", call->bucket);
    xml_elem(&x, "Key", slice_make(call->key, call->key_len));
    xml_elem_str(&x, "UploadId", id);
    xml_close(&x, "InitiateMultipartUploadResult");
    s3__send_xml(call, &x);
out:
    buf_release(&headers);
    buf_release(&x);
    buf_release(&msg);
}

/* ---- UploadPart ---- */

/* partNumber: 1 .. 10,000, or -ERR_INVALID_ARGUMENT. */
static int
part_number(const struct s3_call *call, unsigned *out)
{
    struct slice v;
    uint64_t n;

    if (!http_req_param(call->req, "partNumber", &v) || parse_u64(v, &n) < 0 || n < 1 ||
        n > OBJ_MP_MAX_PARTS)
        return -ERR_INVALID_ARGUMENT;
    *out = (unsigned)n;
    return 0;
}

static const char *const part_number_msg =
    "Part number must be an integer between 1 and 10000, inclusive";

/* The checksum algorithm the upload was created with, or CHECKSUM_NONE. */
static enum checksum_algo
upload_algo(const struct obj_info *up)
{
    const char *name = obj_info_header(up, MP_ALGO_HEADER);
    enum checksum_algo a = CHECKSUM_NONE;

    if (name)
        checksum_algo_parse(slice_cstr(name), &a);
    return a;
}

/*
 * A part's checksum, when it has one, must be of the upload's algorithm (S3);
 * `*actual` names the one it has instead.
 */
static bool
part_checksum_ok(const struct http_req *req, enum checksum_algo algo, const char **actual)
{
    enum checksum_algo a;
    struct slice v;
    size_t i;

    for (i = 0; i < req->nheaders; i++) {
        struct slice n = req->headers[i].name;

        if (s3_checksum_value_header(n)) {
            a = CHECKSUM_NONE;
            if (checksum_algo_parse(n, &a) < 0 || a != algo) {
                *actual = a != CHECKSUM_NONE ? checksum_algo_lower(a) : "unknown";
                return false;
            }
        }
    }
    a = CHECKSUM_NONE;
    if (http_req_header(req, "x-amz-sdk-checksum-algorithm", &v) &&
        (checksum_algo_parse(slice_trim(v), &a) < 0 || a != algo)) {
        *actual = a != CHECKSUM_NONE ? checksum_algo_lower(a) : "unknown";
        return false;
    }
    return true;
}

void
s3__upload_part(struct s3_call *call)
{
    struct http_req *req = call->req;
    struct obj_put_opts opts = { .size = -1 };
    struct s3_upload *u = NULL;
    struct obj_put *put = NULL;
    struct obj_info up;
    uint8_t md5[16];
    const char *id = upload_id_param(call);
    enum checksum_algo algo = CHECKSUM_NONE;
    const char *type, *actual = "null";
    bool full = false;
    unsigned number;
    int rc;

    if (s3__check_key(call) < 0)
        return;
    if (part_number(call, &number) < 0) {
        s3__send_error(call, -ERR_INVALID_ARGUMENT, part_number_msg);
        return;
    }
    if (call->op == S3_OP_UPLOAD_PART_COPY) {
        s3__upload_part_copy(call, id, number);
        return;
    }
    obj_info_init(&up);
    rc = objlayer_mp_stat(call->s3->ol, &call->ctx, call->bucket, call->key, id, &up);
    if (rc == 0) {
        algo = upload_algo(&up);
        type = obj_info_header(&up, CHECKSUM_TYPE_HEADER);
        full = type && !strcmp(type, "FULL_OBJECT");
    }
    obj_info_release(&up);
    if (rc == 0 && algo != CHECKSUM_NONE && !part_checksum_ok(req, algo, &actual))
        rc = -ERR_INVALID_REQUEST; /* the upload's algorithm, or none: as S3 */
    if (rc == 0)
        rc = s3__upload_begin(call, &opts, md5, &u);
    /*
     * A part that names no checksum: of a FULL_OBJECT upload, its CRC is
     * computed here (the object's is combined from the parts'); of a
     * COMPOSITE one, it is refused, as S3 does (the object's checksum needs
     * the client's checksum of every part).
     */
    if (rc == 0 && algo != CHECKSUM_NONE && s3_body_algo(s3__upload_body(u)) == CHECKSUM_NONE) {
        if (full)
            s3_body_compute(s3__upload_body(u), algo);
        else
            rc = -ERR_INVALID_REQUEST;
    }
    if (rc == 0)
        rc = objlayer_mp_part_begin(call->s3->ol, &call->ctx, call->bucket, call->key, id, number,
                                    &opts, &put);
    if (rc == 0) {
        s3__upload_stream(u, put, true);
        return;
    }
    s3__send_error(call, rc,
                   rc == -ERR_INVALID_REQUEST
                       ? arena_printf(req->arena,
                                      "Checksum Type mismatch occurred, expected "
                                      "checksum Type: %s, actual checksum Type: %s",
                                      checksum_algo_lower(algo), actual)
                   : rc == -ERR_INVALID_CHECKSUM ? s3_checksum_value_msg(req)
                                                 : NULL);
}

/* ---- CompleteMultipartUpload ---- */

struct complete_parse {
    struct obj_mp_part *parts;
    char (*sums)[72]; /* per part: the client's checksum of the upload's algorithm, or "" */
    size_t n, cap;
    unsigned cur_number;
    bool has_number;
    char cur_etag[36];
    char cur_sum[72];
    const char *algo_elem; /* "ChecksumCRC32", or NULL */
    int rc;
};

static int
complete_elem(void *arg, unsigned depth, const char *name, struct slice text)
{
    struct complete_parse *c = arg;
    uint64_t n;

    if (depth == 3 && !strcmp(name, "PartNumber")) {
        if (parse_u64(text, &n) < 0 || n < 1 || n > OBJ_MP_MAX_PARTS)
            return c->rc = -ERR_INVALID_PART;
        c->cur_number = (unsigned)n;
        c->has_number = true;
    } else if (depth == 3 && !strcmp(name, "ETag")) {
        snprintf(c->cur_etag, sizeof(c->cur_etag), "%.*s", (int)MIN(text.len, 35), text.ptr);
    } else if (depth == 3 && c->algo_elem && !strcmp(name, c->algo_elem)) {
        snprintf(c->cur_sum, sizeof(c->cur_sum), "%.*s", (int)MIN(text.len, 71), text.ptr);
    } else if (depth == 2 && !strcmp(name, "Part")) {
        if (!c->has_number)
            return -ERR_MALFORMED_XML;
        if (c->n == OBJ_MP_MAX_PARTS)
            return -ERR_INVALID_ARGUMENT;
        if (c->n == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 16;
            c->parts = xrealloc(c->parts, c->cap * sizeof(*c->parts));
            c->sums = xrealloc(c->sums, c->cap * sizeof(*c->sums));
        }
        c->parts[c->n].number = c->cur_number;
        memcpy(c->parts[c->n].etag, c->cur_etag, sizeof(c->cur_etag));
        memcpy(c->sums[c->n], c->cur_sum, sizeof(c->cur_sum));
        c->n++;
        c->has_number = false;
        c->cur_etag[0] = c->cur_sum[0] = '\0';
    }
    return 0;
}

/* What the completion hook needs: the upload's checksum choice and the client's part sums. */
struct complete_edit {
    const char *upload_id;
    enum checksum_algo algo;
    bool full;
    const struct complete_parse *c;
    struct slice want; /* the object's checksum the client sent (x-amz-checksum-<algo>), or NULL */
    char value[CHECKSUM_B64_SIZE + 8]; /* the object's checksum, for the answer */
};

/*
 * The object's checksum from its parts' (S3): COMPOSITE is the checksum of
 * the parts' raw checksums followed by "-<parts>"; FULL_OBJECT (CRCs only)
 * is the CRC of the whole object, combined from the parts' CRCs and sizes.
 * A part without a checksum of the upload's algorithm, or whose checksum
 * differs from the one the client lists, is an InvalidPart.
 */
static int
complete_edit(void *arg, struct obj_info *m)
{
    struct complete_edit *e = arg;
    const char *lower = checksum_algo_lower(e->algo);
    uint8_t raw[CHECKSUM_MAX_SIZE];
    char b64[CHECKSUM_B64_SIZE];
    struct checksum cs;
    uint64_t crc = 0;
    size_t i, n = obj_info_nparts(m), ll;

    obj_info_set_header(m, MP_ALGO_HEADER, NULL);
    obj_info_set_header(m, MP_UPLOAD_ID_HEADER, e->upload_id);
    if (e->algo == CHECKSUM_NONE)
        return 0;
    ll = strlen(lower);
    checksum_init(&cs, e->algo);
    for (i = 0; i < n; i++) {
        const struct obj_info_part *p = obj_info_part(m, i);
        const char *sum = p->checksum + ll + 1;

        if (strncmp(p->checksum, lower, ll) != 0 || p->checksum[ll] != ':' ||
            checksum_b64_decode(e->algo, slice_cstr(sum), raw) < 0 ||
            (e->c->sums[i][0] && strcmp(e->c->sums[i], sum) != 0)) {
            checksum_release(&cs);
            return -ERR_INVALID_PART;
        }
        if (e->full) {
            uint64_t v = checksum_crc_from_raw(e->algo, raw);

            crc = i == 0 ? v : checksum_crc_combine(e->algo, crc, v, p->size);
        } else {
            checksum_update(&cs, raw, checksum_size(e->algo));
        }
    }
    if (e->full) {
        checksum_crc_to_raw(e->algo, crc, raw);
        checksum_b64_encode(e->algo, raw, b64);
        snprintf(e->value, sizeof(e->value), "%s", b64);
    } else {
        checksum_final_b64(&cs, b64);
        snprintf(e->value, sizeof(e->value), "%s-%zu", b64, n);
    }
    checksum_release(&cs);
    /* the whole object's checksum, when the client sent it: with or without "-N" if composite */
    if (e->want.ptr && !slice_eq_cstr(e->want, e->value) &&
        (e->full || !slice_eq(e->want, slice_make(e->value, strlen(b64)))))
        return -ERR_CHECKSUM_MISMATCH;
    obj_info_set_header(m, checksum_header_name(e->algo), e->value);
    return 0;
}

/*
 * The checksum headers of a CompleteMultipartUpload: x-amz-checksum-type, if
 * sent, must be the upload's (S3: BadDigest); an x-amz-checksum-<algo> is the
 * whole object's checksum, checked by complete_edit(), and must be of the
 * upload's algorithm.
 */
static int
complete_checksum_headers(const struct http_req *req, struct complete_edit *e)
{
    enum checksum_algo a;
    struct slice v;
    size_t i;

    if (http_req_header(req, CHECKSUM_TYPE_HEADER, &v) &&
        (e->algo == CHECKSUM_NONE ||
         !slice_eq_cstr(slice_trim(v), e->full ? "FULL_OBJECT" : "COMPOSITE")))
        return -ERR_CHECKSUM_MISMATCH;
    for (i = 0; i < req->nheaders; i++) {
        struct slice n = req->headers[i].name;

        if (!s3_checksum_value_header(n) || checksum_algo_parse(n, &a) < 0)
            continue;
        if (a != e->algo)
            return -ERR_INVALID_REQUEST; /* not the algorithm the upload was created with */
        e->want = slice_trim(req->headers[i].value);
    }
    return 0;
}

static void
complete_result(struct s3_call *call, const char *etag, enum checksum_algo algo, const char *value,
                bool full)
{
    struct http_req *req = call->req;
    struct buf x = BUF_INIT;

    xml_declaration(&x);
    xml_open_ns(&x, "CompleteMultipartUploadResult");
    xml_elem_str(&x, "Location", arena_printf(req->arena, "/%s/%s", call->bucket, call->key));
    xml_elem_str(&x, "Bucket", call->bucket);
    xml_elem(&x, "Key", slice_make(call->key, call->key_len));
    xml_elem_str(&x, "ETag", arena_printf(req->arena, "\"%s\"", etag));
    if (algo != CHECKSUM_NONE) {
        xml_elem_str(&x, checksum_elem(req->arena, algo), value);
        xml_elem_str(&x, "ChecksumType", full ? "FULL_OBJECT" : "COMPOSITE");
    }
    xml_close(&x, "CompleteMultipartUploadResult");
    s3__send_xml(call, &x);
    buf_release(&x);
}

/* Whether the client's list names exactly the parts (numbers and ETags) of `info`. */
static bool
same_parts(const struct complete_parse *c, const struct obj_info *info)
{
    size_t i, len;

    if (c->n != obj_info_nparts(info))
        return false;
    for (i = 0; i < c->n; i++) {
        const struct obj_info_part *p = obj_info_part(info, i);
        const char *etag = c->parts[i].etag;

        len = strlen(etag);
        if (len >= 2 && etag[0] == '"' && etag[len - 1] == '"') {
            etag++;
            len -= 2;
        }
        if (c->parts[i].number != p->number || strlen(p->etag) != len ||
            memcmp(p->etag, etag, len) != 0)
            return false;
    }
    return true;
}

/*
 * A completion retried after it succeeded (S3 answers it again: clients
 * retry a completion whose answer they lost): the upload is gone, but the
 * object still is the one it made, with the same parts; answered as the
 * first time. 0 if answered, else NoSuchUpload to answer.
 */
static int
completed_again(struct s3_call *call, const char *id, const struct complete_parse *c)
{
    struct obj_info info;
    const char *name, *value, *done, *sum = NULL, *type;
    enum checksum_algo algo = CHECKSUM_NONE;
    size_t pos = 0;
    int rc;

    obj_info_init(&info);
    rc = objlayer_head(call->s3->ol, &call->ctx, call->bucket, call->key, &info);
    done = rc == 0 ? obj_info_header(&info, MP_UPLOAD_ID_HEADER) : NULL;
    if (!done || strcmp(done, id) != 0 || !same_parts(c, &info)) {
        obj_info_release(&info);
        return -ERR_NO_SUCH_UPLOAD;
    }
    while (obj_info_header_next(&info, &pos, &name, &value)) {
        if (!strncmp(name, "x-amz-checksum-", 15) && strcmp(name, CHECKSUM_TYPE_HEADER) != 0 &&
            checksum_algo_parse(slice_cstr(name), &algo) == 0) {
            sum = value;
            break;
        }
    }
    type = obj_info_header(&info, CHECKSUM_TYPE_HEADER);
    complete_result(call, info.etag, sum ? algo : CHECKSUM_NONE, sum,
                    type && !strcmp(type, "FULL_OBJECT"));
    obj_info_release(&info);
    return 0;
}

static void
complete_done(struct s3_call *call, int rc, struct slice body)
{
    struct http_req *req = call->req;
    struct complete_parse c = { 0 };
    const char *id = upload_id_param(call), *type;
    struct complete_edit e = { .upload_id = id, .c = &c };
    struct obj_complete_opts co = { .edit = complete_edit, .edit_arg = &e };
    struct obj_info info, up;
    bool gone = false;

    obj_info_init(&info);
    obj_info_init(&up);
    if (rc == 0)
        rc = objlayer_mp_stat(call->s3->ol, &call->ctx, call->bucket, call->key, id, &up);
    if (rc == -ERR_NO_SUCH_UPLOAD) { /* maybe completed already: its list is read to tell */
        gone = true;
        rc = 0;
    }
    if (rc == 0 && (e.algo = upload_algo(&up)) != CHECKSUM_NONE) {
        c.algo_elem = checksum_elem(req->arena, e.algo);
        type = obj_info_header(&up, CHECKSUM_TYPE_HEADER);
        e.full = type && !strcmp(type, "FULL_OBJECT");
    }
    if (rc == 0 && !gone)
        rc = complete_checksum_headers(req, &e);
    if (rc == 0) {
        rc = xml_read(body, "CompleteMultipartUpload", complete_elem, &c);
        if (rc == 0 && c.n == 0)
            rc = -ERR_MALFORMED_XML; /* S3: "You must specify at least one part" */
    }
    if (gone) {
        rc = rc == 0 ? completed_again(call, id, &c) : -ERR_NO_SUCH_UPLOAD;
        if (rc == 0)
            goto out;
    }
    if (rc == 0)
        rc = s3__write_conditions(call, &co.cond);
    if (rc == 0)
        rc = objlayer_mp_complete(call->s3->ol, &call->ctx, call->bucket, call->key, id, c.parts,
                                  c.n, &co, &info);
    if (rc < 0) {
        s3__send_error(call, rc == -ERR_INVAL ? -ERR_MALFORMED_XML : rc, NULL);
        goto out;
    }
    complete_result(call, info.etag, e.algo, e.value, e.full);
out:
    free(c.parts);
    free(c.sums);
    obj_info_release(&info);
    obj_info_release(&up);
}

void
s3__complete_multipart(struct s3_call *call)
{
    if (s3__check_key(call) < 0)
        return;
    s3__expect_small_body_max(call, S3_MAX_COMPLETE_BODY, complete_done);
}

/* ---- AbortMultipartUpload ---- */

void
s3__abort_multipart(struct s3_call *call)
{
    int rc;

    if (s3__check_key(call) < 0)
        return;
    rc =
        objlayer_mp_abort(call->s3->ol, &call->ctx, call->bucket, call->key, upload_id_param(call));
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    http_resp_empty(call->req, 204);
}

/* ---- ListParts ---- */

struct parts_page {
    struct buf *x;
    unsigned max, n;
    unsigned last;
    bool truncated;
};

static int
part_item(void *arg, const struct obj_info_part *part, int64_t mtime_ns)
{
    struct parts_page *pp = arg;
    struct buf date = BUF_INIT;

    if (pp->n == pp->max) {
        pp->truncated = true;
        return 1;
    }
    xml_open(pp->x, "Part");
    xml_elem_u64(pp->x, "PartNumber", part->number);
    clock_fmt_iso8601(&date, mtime_ns);
    xml_elem_str(pp->x, "LastModified", date.ptr);
    buf_clear(&date);
    buf_addf(&date, "\"%s\"", part->etag);
    xml_elem_str(pp->x, "ETag", date.ptr);
    xml_elem_u64(pp->x, "Size", part->size);
    if (part->checksum[0])
        s3__add_part_checksum(pp->x, part->checksum);
    xml_close(pp->x, "Part");
    buf_release(&date);
    pp->n++;
    pp->last = part->number;
    return 0;
}

/* An optional unsigned query parameter; -ERR_INVALID_ARGUMENT if malformed. */
static int
param_u64(const struct s3_call *call, const char *name, uint64_t dflt, uint64_t *out)
{
    struct slice v;

    *out = dflt;
    if (!http_req_param(call->req, name, &v))
        return 0;
    return parse_u64(v, out) < 0 ? -ERR_INVALID_ARGUMENT : 0;
}

void
s3__list_parts(struct s3_call *call)
{
    struct buf x = BUF_INIT, parts = BUF_INIT, date = BUF_INIT;
    struct parts_page pp = { .x = &parts };
    const char *id = upload_id_param(call);
    struct obj_info up;
    uint64_t max, marker;
    int rc;

    if (s3__check_key(call) < 0)
        return;
    obj_info_init(&up);
    rc = param_u64(call, "max-parts", 1000, &max);
    if (rc == 0)
        rc = param_u64(call, "part-number-marker", 0, &marker);
    if (rc < 0) {
        s3__send_error(call, rc, "max-parts and part-number-marker must be integers");
        goto out;
    }
    pp.max = (unsigned)MIN(max, 1000);
    rc = objlayer_mp_stat(call->s3->ol, &call->ctx, call->bucket, call->key, id, &up);
    if (rc == 0)
        rc = objlayer_mp_list_parts(call->s3->ol, &call->ctx, call->bucket, call->key, id,
                                    (unsigned)MIN(marker, OBJ_MP_MAX_PARTS), pp.max + 1,
                                    upload_algo(&up) != CHECKSUM_NONE, part_item, &pp);
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        goto out;
    }
    xml_declaration(&x);
    xml_open_ns(&x, "ListPartsResult");
    xml_elem_str(&x, "Bucket", call->bucket);
    xml_elem(&x, "Key", slice_make(call->key, call->key_len));
    xml_elem_str(&x, "UploadId", id);
    add_owner(&x, call->s3, "Initiator");
    add_owner(&x, call->s3, "Owner");
    xml_elem_str(&x, "StorageClass", s3__storage_class(&up));
    xml_elem_u64(&x, "PartNumberMarker", marker);
    if (pp.truncated)
        xml_elem_u64(&x, "NextPartNumberMarker", pp.last);
    xml_elem_u64(&x, "MaxParts", pp.max);
    xml_elem_bool(&x, "IsTruncated", pp.truncated);
    if (upload_algo(&up) != CHECKSUM_NONE) {
        xml_elem_str(&x, "ChecksumAlgorithm", checksum_algo_name(upload_algo(&up)));
        xml_elem_str(&x, "ChecksumType", obj_info_header(&up, CHECKSUM_TYPE_HEADER));
    }
    buf_addslice(&x, buf_slice(&parts));
    xml_close(&x, "ListPartsResult");
    s3__send_xml(call, &x);
out:
    obj_info_release(&up);
    buf_release(&x);
    buf_release(&parts);
    buf_release(&date);
}

/* ---- ListMultipartUploads ---- */

struct uploads_page {
    struct s3_call *call;
    struct buf *x;
    struct slice prefix, delimiter;
    bool url;
    unsigned max, n;
    bool truncated;
    struct buf last_key, last_id, last_prefix;
};

static void
add_text(struct uploads_page *up, const char *tag, struct slice s)
{
    struct buf enc = BUF_INIT;

    if (up->url) {
        uri_encode(&enc, s, true);
        s = buf_slice(&enc);
    }
    xml_elem(up->x, tag, s);
    buf_release(&enc);
}

/* The position of `needle` in `s`, or -1. */
static ssize_t
find_str(struct slice s, struct slice needle)
{
    size_t i;

    for (i = 0; needle.len && i + needle.len <= s.len; i++)
        if (!memcmp(s.ptr + i, needle.ptr, needle.len))
            return (ssize_t)i;
    return -1;
}

static int
upload_item(void *arg, struct slice key, const char *upload_id, int64_t initiated_ns, bool reduced)
{
    struct uploads_page *up = arg;
    struct buf date = BUF_INIT;
    ssize_t d;

    if (up->delimiter.len) {
        struct slice rest = slice_make(key.ptr + up->prefix.len, key.len - up->prefix.len);

        d = find_str(rest, up->delimiter);
        if (d >= 0) {
            struct slice cp = slice_make(key.ptr, up->prefix.len + (size_t)d + up->delimiter.len);

            if (slice_eq(cp, buf_slice(&up->last_prefix)))
                return 0;
            if (up->n == up->max) {
                up->truncated = true;
                return 1;
            }
            buf_clear(&up->last_prefix);
            buf_addslice(&up->last_prefix, cp);
            xml_open(up->x, "CommonPrefixes");
            add_text(up, "Prefix", cp);
            xml_close(up->x, "CommonPrefixes");
            up->n++;
            buf_clear(&up->last_key);
            buf_addslice(&up->last_key, cp);
            buf_clear(&up->last_id);
            return 0;
        }
    }
    if (up->n == up->max) {
        up->truncated = true;
        return 1;
    }
    xml_open(up->x, "Upload");
    add_text(up, "Key", key);
    xml_elem_str(up->x, "UploadId", upload_id);
    add_owner(up->x, up->call->s3, "Initiator");
    add_owner(up->x, up->call->s3, "Owner");
    xml_elem_str(up->x, "StorageClass", reduced ? "REDUCED_REDUNDANCY" : "STANDARD");
    clock_fmt_iso8601(&date, initiated_ns);
    xml_elem_str(up->x, "Initiated", date.ptr);
    xml_close(up->x, "Upload");
    buf_release(&date);
    up->n++;
    buf_clear(&up->last_key);
    buf_addslice(&up->last_key, key);
    buf_clear(&up->last_id);
    buf_adds(&up->last_id, upload_id);
    return 0;
}

void
s3__list_uploads(struct s3_call *call)
{
    struct http_req *req = call->req;
    struct buf x = BUF_INIT, items = BUF_INIT;
    struct uploads_page up = { .call = call, .x = &items };
    struct slice key_marker = SLICE_NULL, id_marker = SLICE_NULL, v;
    uint64_t max;
    int rc;

    buf_init(&up.last_key, 0);
    buf_init(&up.last_id, 0);
    buf_init(&up.last_prefix, 0);
    http_req_param(req, "prefix", &up.prefix);
    http_req_param(req, "delimiter", &up.delimiter);
    http_req_param(req, "key-marker", &key_marker);
    http_req_param(req, "upload-id-marker", &id_marker);
    if (http_req_param(req, "encoding-type", &v)) {
        if (!slice_eq_cstr(v, "url")) {
            s3__send_error(call, -ERR_INVALID_ARGUMENT,
                           "Invalid Encoding Method specified in Request");
            goto out;
        }
        up.url = true;
    }
    rc = param_u64(call, "max-uploads", 1000, &max);
    if (rc < 0) {
        s3__send_error(call, rc, "max-uploads must be an integer");
        goto out;
    }
    up.max = (unsigned)MIN(max, 1000);
    if (up.max == 0) {
        up.truncated = false;
        rc = objlayer_bucket_stat(call->s3->ol, &call->ctx, call->bucket, NULL);
    } else {
        rc = objlayer_mp_list_uploads(
            call->s3->ol, &call->ctx, call->bucket, up.prefix,
            key_marker.len ? key_marker : SLICE_NULL,
            key_marker.len && id_marker.len ? arena_slicedup(req->arena, id_marker) : "",
            upload_item, &up);
    }
    if (rc < 0) {
        s3__send_error(call, rc == -ERR_NOT_FOUND ? -ERR_BUCKET_NOT_FOUND : rc, NULL);
        goto out;
    }
    xml_declaration(&x);
    xml_open_ns(&x, "ListMultipartUploadsResult");
    xml_elem_str(&x, "Bucket", call->bucket);
    up.x = &x;
    add_text(&up, "KeyMarker", key_marker);
    xml_elem(&x, "UploadIdMarker", id_marker);
    if (up.truncated) {
        add_text(&up, "NextKeyMarker", buf_slice(&up.last_key));
        xml_elem(&x, "NextUploadIdMarker", buf_slice(&up.last_id));
    }
    if (up.delimiter.len)
        add_text(&up, "Delimiter", up.delimiter);
    add_text(&up, "Prefix", up.prefix);
    xml_elem_u64(&x, "MaxUploads", up.max);
    if (up.url)
        xml_elem_str(&x, "EncodingType", "url");
    xml_elem_bool(&x, "IsTruncated", up.truncated);
    buf_addslice(&x, buf_slice(&items));
    xml_close(&x, "ListMultipartUploadsResult");
    s3__send_xml(call, &x);
out:
    buf_release(&x);
    buf_release(&items);
    buf_release(&up.last_key);
    buf_release(&up.last_id);
    buf_release(&up.last_prefix);
}

/* ---- GetObject / HeadObject with partNumber ---- */

/*
 * With x-amz-checksum-mode: ENABLED, a part's GET/HEAD carries the part's
 * checksum (as it was uploaded) and the object's checksum type, as S3 does:
 * the object's own checksum does not describe the part's bytes.
 */
static void
add_part_checksum(struct http_req *req, const struct obj_info *info,
                  const struct obj_info_part *part)
{
    const char *colon = strchr(part->checksum, ':'), *type;
    struct slice v;

    type = obj_info_header(info, CHECKSUM_TYPE_HEADER); /* none: the object has no checksum */
    if (!colon || !type || !http_req_header(req, "x-amz-checksum-mode", &v) ||
        !slice_case_eq_cstr(slice_trim(v), "ENABLED"))
        return;
    http_resp_header(req,
                     arena_printf(req->arena, "x-amz-checksum-%.*s", (int)(colon - part->checksum),
                                  part->checksum),
                     colon + 1);
    http_resp_header(req, CHECKSUM_TYPE_HEADER, type);
}

int
s3__part_number_range(struct s3_call *call, const struct obj_info *info, uint64_t *off,
                      uint64_t *len, unsigned *status)
{
    struct http_req *req = call->req;
    size_t nparts = obj_info_nparts(info), i;
    unsigned number;
    struct slice v;

    if (!http_req_has_param(req, "partNumber"))
        return 0;
    if (part_number(call, &number) < 0) {
        s3__send_error(call, -ERR_INVALID_ARGUMENT, part_number_msg);
        return -ERR_INVALID_ARGUMENT;
    }
    if (http_req_header(req, "range", &v)) {
        s3__send_error(call, -ERR_INVALID_REQUEST,
                       "Cannot specify both Range header and partNumber query parameter");
        return -ERR_INVALID_REQUEST;
    }
    if (number > MAX(nparts, 1)) { /* S3 now: 400 InvalidPart (once 416 InvalidPartNumber) */
        s3__send_error(call, -ERR_INVALID_PART, "The requested partnumber is not satisfiable");
        return -ERR_INVALID_PART;
    }
    if (nparts == 0) { /* a plain object is its one part */
        *off = 0;
        *len = info->size;
        *status = 200;
        return 1;
    }
    *off = 0;
    for (i = 0; i + 1 < number; i++)
        *off += obj_info_part(info, i)->size;
    *len = obj_info_part(info, number - 1)->size;
    *status = 206;
    http_resp_header(req, "x-amz-mp-parts-count", arena_printf(req->arena, "%zu", nparts));
    add_part_checksum(req, info, obj_info_part(info, number - 1));
    if (*len)
        http_resp_header(req, "Content-Range",
                         arena_printf(req->arena, "bytes %llu-%llu/%llu", (unsigned long long)*off,
                                      (unsigned long long)(*off + *len - 1),
                                      (unsigned long long)info->size));
    return 1;
}
