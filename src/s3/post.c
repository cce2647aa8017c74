/*
 * s3/post.c: PostObject, the browser upload (S3 "Browser-Based Uploads
 * Using POST", Signature Version 4).
 *
 * The body is multipart/form-data, parsed as it streams (post_form.c). The
 * fields before the `file` field are kept in the request's arena, at most
 * POST_MAX_FIELD_BYTES in all. When the `file` part begins, the form is
 * judged as a whole: the policy's signature (auth/post_policy.h, with the
 * same credentials as header authentication), then its conditions and
 * coverage of every field, the key (with ${filename} replaced by the file's
 * name), the stored headers and metadata; then objlayer_put_begin() is
 * called and the file's bytes stream into obj_put_write() exactly as a
 * PutObject body does, with content-length-range checked on every piece.
 * Fields after the file are read and ignored, as S3 does. The object is
 * committed only when the closing boundary has been read: a truncated form,
 * a failed condition or a size out of range leaves nothing behind (the
 * cleanup on the request's arena aborts the write).
 *
 * Signature Version 2 forms (AWSAccessKeyId, signature: what botocore's
 * generate_presigned_post makes by default) are verified too (auth/sigv2.h);
 * the policy and its conditions are the same.
 *
 * Not built: server-side encryption fields answer 501 NotImplemented (an
 * invalid combination of them S3's 400 first, as on PutObject: s3/sse.c);
 * `acl` is accepted and ignored, as PutObject ignores x-amz-acl.
 */
#include "util/base.h"

#include <time.h>

#include "auth/post_policy.h"
#include "s3/internal.h"
#include "s3/post_form.h"
#include "s3/xml.h"
#include "util/checksum.h"
#include "util/enc.h"
#include "util/err.h"

#define POST_MAX_FIELD_BYTES (64 * 1024) /* names and values of the fields before the file */
#define POST_MAX_FIELDS 256
/* The largest body worth reading: the largest object plus room for the fields. */
#define POST_MAX_BODY (S3_MAX_PUT_SIZE + (1u << 20))

enum post_phase {
    PH_FIELDS, /* between parts, before the file */
    PH_FIELD,  /* inside a field before the file */
    PH_FILE,   /* inside the file */
    PH_AFTER,  /* after the file: parts are ignored */
};

struct post_state {
    struct s3_call *call;
    struct post_form *form;
    enum post_phase phase;
    struct post_field *fields; /* in the arena */
    size_t nfields;
    size_t field_bytes;
    struct buf cur; /* value of the field being read */
    struct slice cur_name;
    struct post_policy *policy;
    char *key;
    size_t key_len;
    struct obj_put *put; /* NULL before the file, and once finished or aborted */
    uint64_t mem;
    uint64_t received; /* bytes of the file */
    bool has_file;
    bool has_range;
    uint64_t min, max;
    /* an x-amz-checksum-<algo> field: the file's checksum, checked at the end */
    bool has_sum;
    struct checksum sum;
    const char *sum_name; /* the header to store, lowercase */
    struct slice sum_want;
    /* the error to answer at the end of the body */
    int rc;
    const char *code; /* an S3 code other than the table's, or NULL */
    const char *msg;  /* in the arena, or NULL for the table's */
};

/* ---- helpers ---- */

/* Records the error to answer; returns `rc` (for the parser to stop). */
static int
fail(struct post_state *st, int rc, const char *code, const char *msg)
{
    if (st->rc == 0) {
        st->rc = rc;
        st->code = code;
        st->msg = msg ? arena_strdup(st->call->req->arena, msg) : NULL;
    }
    return rc;
}

static const struct post_field *
field_s(const struct post_state *st, struct slice name)
{
    size_t i;

    for (i = 0; i < st->nfields; i++)
        if (slice_case_eq(st->fields[i].name, name))
            return &st->fields[i];
    return NULL;
}

static const struct post_field *
field(const struct post_state *st, const char *name)
{
    return field_s(st, slice_cstr(name));
}

/* The field's value, or SLICE_NULL (ptr NULL) when absent. */
static struct slice
field_value(const struct post_state *st, const char *name)
{
    const struct post_field *f = field(st, name);

    return f ? f->value : SLICE_NULL;
}

static bool
has_prefix_ci(struct slice s, const char *prefix)
{
    size_t n = strlen(prefix);

    return s.len >= n && slice_case_eq_cstr(slice_make(s.ptr, n), prefix);
}

static void
post_cleanup(void *arg)
{
    struct post_state *st = arg;

    if (st->put)
        obj_put_abort(st->put);
    st->put = NULL;
    if (st->mem)
        s3__mem_release(st->call->s3, st->mem);
    st->mem = 0;
    post_form_free(st->form);
    st->form = NULL;
    post_policy_free(st->policy);
    st->policy = NULL;
    if (st->has_sum)
        checksum_release(&st->sum);
    buf_release(&st->cur);
}

/* ---- fields before the file ---- */

static int
field_begin(struct post_state *st, struct slice name)
{
    struct arena *a = st->call->req->arena;

    if (st->nfields == POST_MAX_FIELDS || st->field_bytes + name.len > POST_MAX_FIELD_BYTES)
        return fail(st, -ERR_MALFORMED_POST, NULL,
                    "The form fields before the file are larger than 64 KiB.");
    if (field_s(st, name))
        return fail(st, -ERR_INVALID_ARGUMENT, NULL, "A POST form field appears twice.");
    st->field_bytes += name.len;
    st->cur_name = slice_make(arena_slicedup(a, name), name.len);
    buf_clear(&st->cur);
    st->phase = PH_FIELD;
    return 0;
}

static int
field_data(struct post_state *st, struct slice data)
{
    if (st->field_bytes + data.len > POST_MAX_FIELD_BYTES)
        return fail(st, -ERR_MALFORMED_POST, NULL,
                    "The form fields before the file are larger than 64 KiB.");
    st->field_bytes += data.len;
    buf_addslice(&st->cur, data);
    return 0;
}

static void
field_end(struct post_state *st)
{
    struct arena *a = st->call->req->arena;
    struct post_field *f;

    if (st->nfields % 16 == 0) {
        f = arena_alloc(a, (st->nfields + 16) * sizeof(*f));
        if (st->nfields)
            memcpy(f, st->fields, st->nfields * sizeof(*f));
        st->fields = f;
    }
    f = &st->fields[st->nfields++];
    f->name = st->cur_name;
    f->value = slice_make(arena_slicedup(a, buf_slice(&st->cur)), st->cur.len);
    st->phase = PH_FIELDS;
}

/* ---- judging the form when the file begins ---- */

/* A Signature Version 2 form: AWSAccessKeyId and no x-amz-signature. */
static bool
is_v2(struct post_state *st)
{
    return field(st, "awsaccesskeyid") && !field(st, "x-amz-signature");
}

/* Signature Version 4 (or 2) fields present, or the error answered for the form. */
static int
check_auth_fields(struct post_state *st)
{
    static const char *const required[] = { "x-amz-algorithm", "x-amz-credential", "x-amz-date",
                                            "x-amz-signature" };
    static const char *const required_v2[] = { "awsaccesskeyid", "signature" };
    bool v2 = is_v2(st);
    const char *const *req = v2 ? required_v2 : required;
    size_t nreq = v2 ? ARRAY_SIZE(required_v2) : ARRAY_SIZE(required);
    char *msg;
    size_t i;

    if (!field(st, "policy") && !field(st, "x-amz-signature") && !field(st, "signature"))
        return fail(st, -ERR_ACCESS_DENIED, NULL, "Anonymous POST uploads are not allowed.");
    if (!field(st, "policy"))
        return fail(st, -ERR_INVALID_ARGUMENT, NULL,
                    "Bucket POST must contain a field named 'policy'.");
    for (i = 0; i < nreq; i++) {
        if (field(st, req[i]))
            continue;
        msg = arena_printf(st->call->req->arena,
                           "Bucket POST must contain a field named '%s'.  If it is specified, "
                           "please check the order of the fields.",
                           req[i]);
        return fail(st, -ERR_INVALID_ARGUMENT, NULL, msg);
    }
    return 0;
}

/* Verifies the signature, then parses the policy (only once it is known to be ours). */
static int
verify_policy(struct post_state *st)
{
    struct s3_call *call = st->call;
    struct post_sig sig = {
        .algorithm = field_value(st, "x-amz-algorithm"),
        .credential = field_value(st, "x-amz-credential"),
        .date = field_value(st, "x-amz-date"),
        .signature = field_value(st, "x-amz-signature"),
    };
    struct slice policy = field_value(st, "policy");
    struct buf msg = BUF_INIT;
    int rc;

    rc = check_auth_fields(st);
    if (rc < 0)
        return rc;
    call->session_token = field_value(st, "x-amz-security-token");
    if (is_v2(st))
        rc = post_policy_verify_v2(policy, field_value(st, "awsaccesskeyid"),
                                   field_value(st, "signature"), s3__lookup_secret, call,
                                   &call->auth, &msg);
    else
        rc = post_policy_verify(policy, &sig, call->s3->region, s3__lookup_secret, call,
                                &call->auth, &msg);
    if (rc < 0) {
        fail(st, rc, NULL, rc == -ERR_AUTH_MALFORMED && msg.len ? msg.ptr : NULL);
        goto out;
    }
    rc = post_policy_parse(policy, &st->policy, &msg);
    if (rc < 0)
        fail(st, rc, "InvalidPolicyDocument", msg.len ? msg.ptr : NULL);
out:
    buf_release(&msg);
    return rc;
}

/* The key with every ${filename} replaced by the file's name. */
static int
build_key(struct post_state *st, struct slice filename)
{
    struct post_field *f = (struct post_field *)field(st, "key");
    struct slice rest;
    struct buf key = BUF_INIT;
    int rc;

    if (!f)
        return fail(st, -ERR_INVALID_ARGUMENT, NULL,
                    "Bucket POST must contain a field named 'key'.  If it is specified, please "
                    "check the order of the fields.");
    rest = f->value;
    while (rest.len > 0) {
        if (slice_starts_with(rest, SLICE_LIT("${filename}"))) {
            buf_addslice(&key, filename);
            rest = slice_make(rest.ptr + 11, rest.len - 11);
        } else {
            buf_addch(&key, rest.ptr[0]);
            rest = slice_make(rest.ptr + 1, rest.len - 1);
        }
    }
    st->key_len = key.len;
    st->key = arena_slicedup(st->call->req->arena, buf_slice(&key));
    f->value = slice_make(st->key, st->key_len); /* the policy judges the final key */
    buf_release(&key);
    rc = s3_key_check(slice_make(st->key, st->key_len));
    return rc < 0 ? fail(st, rc, NULL, NULL) : 0;
}

/* The stored fields and x-amz-meta-* as the object's headers, as PutObject takes them. */
static int
collect_headers(struct post_state *st, struct buf *h)
{
    struct http_header *pairs =
        arena_alloc(st->call->req->arena, (st->nfields + 1) * sizeof(*pairs));
    size_t i;
    int rc;

    for (i = 0; i < st->nfields; i++) {
        pairs[i].name = st->fields[i].name;
        pairs[i].value = st->fields[i].value;
    }
    rc = s3__stored_headers(st->call->req->arena, pairs, st->nfields, h);
    return rc < 0 ? fail(st, rc, NULL, NULL) : 0;
}

/*
 * Server-side encryption fields: checked as PutObject's headers (sse.c), an
 * invalid combination is S3's 400; any other is 501, not built.
 */
static int
sse_fields(struct post_state *st)
{
    struct http_header *pairs =
        arena_alloc(st->call->req->arena, (st->nfields + 1) * sizeof(*pairs));
    const char *code, *msg;
    size_t i;
    int rc;

    for (i = 0; i < st->nfields; i++) {
        pairs[i].name = st->fields[i].name;
        pairs[i].value = st->fields[i].value;
    }
    rc = s3_sse_check(pairs, st->nfields, false, &code, &msg);
    if (rc < 0)
        return fail(st, rc, code, msg);
    for (i = 0; i < st->nfields; i++)
        if (has_prefix_ci(st->fields[i].name, "x-amz-server-side-encryption"))
            return fail(st, -ERR_NOT_IMPLEMENTED, NULL, "Server-side encryption is not supported.");
    return 0;
}

/*
 * The form's `acl` field is the upload's canned ACL, as x-amz-acl is a
 * PutObject's: it becomes that request header, and the object's ACL (and
 * owner) are recorded as for PutObject (acl.c). 0, or an error failed here.
 */
static int
acl_field(struct post_state *st, struct buf *h)
{
    struct http_req *req = st->call->req;
    struct slice v = field_value(st, "acl");
    int rc;

    if (v.ptr) {
        struct http_header *nh = arena_alloc(req->arena, (req->nheaders + 1) * sizeof(*nh));

        memcpy(nh, req->headers, req->nheaders * sizeof(*nh));
        nh[req->nheaders].name = SLICE_LIT("x-amz-acl");
        nh[req->nheaders].value = slice_make(arena_slicedup(req->arena, v), v.len);
        req->headers = nh;
        req->nheaders++;
    }
    rc = s3__object_acl_header(st->call, h);
    return rc < 0 ? fail(st, rc, NULL, NULL) : 0;
}

/*
 * The fields that change how the object is stored: tagging (a Tagging XML
 * document, stored in query form as PutObject's x-amz-tagging),
 * x-amz-storage-class. Server-side encryption is not built: 501, never a
 * silent success without it.
 */
static int
add_options(struct post_state *st, struct obj_put_opts *opts, struct buf *h)
{
    struct arena *a = st->call->req->arena;
    struct buf msg = BUF_INIT, enc = BUF_INIT;
    struct s3_tagset tags;
    struct slice v;
    int rc = 0;

    rc = sse_fields(st);
    if (rc < 0)
        return rc;
    v = field_value(st, "x-amz-storage-class");
    if (v.ptr && s3_storage_class_parse(slice_trim(v), &opts->reduced_redundancy) < 0)
        return fail(st, -ERR_INVALID_STORAGE_CLASS, NULL, NULL);
    if (opts->reduced_redundancy)
        hdrs_add(h, "x-amz-storage-class", SLICE_LIT("REDUCED_REDUNDANCY"));
    v = field_value(st, "tagging");
    if (v.ptr)
        rc = s3_tagging_parse_xml(a, v, S3_OBJECT_TAGS_MAX, &tags, &msg);
    if (rc < 0) {
        fail(st, rc, NULL, msg.len ? msg.ptr : NULL);
    } else if (v.ptr && tags.n > 0) {
        s3_tagging_encode(&tags, &enc);
        hdrs_add(h, "x-amz-tagging", buf_slice(&enc));
    }
    buf_release(&enc);
    buf_release(&msg);
    if (rc == 0)
        rc = acl_field(st, h);
    return rc;
}

/*
 * An x-amz-checksum-<algo> field (at most one): the file's checksum, computed
 * while it streams and compared at the end (BadDigest, nothing committed),
 * then stored with the object as for PutObject.
 */
static int
checksum_field(struct post_state *st)
{
    enum checksum_algo algo;
    size_t i;

    for (i = 0; i < st->nfields; i++) {
        if (checksum_algo_parse(st->fields[i].name, &algo) < 0 ||
            !has_prefix_ci(st->fields[i].name, "x-amz-checksum-"))
            continue;
        if (st->has_sum)
            return -ERR_INVALID_CHECKSUM;
        st->has_sum = true;
        checksum_init(&st->sum, algo);
        st->sum_name = checksum_header_name(algo);
        st->sum_want = slice_trim(st->fields[i].value);
    }
    return 0;
}

static int
begin_put(struct post_state *st)
{
    struct s3_call *call = st->call;
    struct obj_put_opts opts = { .size = -1 };
    struct buf headers = BUF_INIT;
    int rc;

    rc = collect_headers(st, &headers);
    if (rc == 0)
        rc = add_options(st, &opts, &headers);
    if (rc < 0)
        goto out;
    opts.headers = buf_slice(&headers);
    rc = checksum_field(st);
    if (rc == 0)
        rc = objlayer_put_begin(call->s3->ol, &call->ctx, call->bucket, st->key, &opts, &st->put);
    if (rc < 0)
        fail(st, rc, NULL, NULL);
out:
    buf_release(&headers);
    return rc;
}

static int
file_begin(struct post_state *st, const struct post_form_part *part)
{
    struct buf msg = BUF_INIT;
    int rc;

    st->has_file = true;
    st->phase = PH_FILE;
    rc = verify_policy(st);
    if (rc < 0)
        return rc;
    rc = build_key(st, part->filename.ptr ? part->filename : SLICE_LIT(""));
    if (rc < 0)
        return rc;
    rc = post_policy_check(st->policy, st->call->bucket, st->fields, st->nfields, time(NULL), &msg);
    if (rc < 0)
        fail(st, rc, NULL, msg.len ? msg.ptr : NULL);
    buf_release(&msg);
    if (rc < 0)
        return rc;
    if (!s3__is_allowed(st->call, "s3:PutObject", st->call->bucket, st->key))
        return fail(st, -ERR_ACCESS_DENIED, NULL, NULL);
    st->has_range = post_policy_length_range(st->policy, &st->min, &st->max);
    return begin_put(st);
}

static int
file_data(struct post_state *st, struct slice data)
{
    int rc;

    st->received += data.len;
    if (st->has_range && st->received > st->max)
        return fail(st, -ERR_TOO_LARGE, NULL,
                    "Your proposed upload exceeds the maximum allowed size");
    if (st->received > S3_MAX_PUT_SIZE)
        return fail(st, -ERR_TOO_LARGE, NULL, NULL);
    if (st->has_sum)
        checksum_update(&st->sum, data.ptr, data.len);
    rc = obj_put_write(st->put, data.ptr, data.len);
    return rc < 0 ? fail(st, rc, NULL, NULL) : 0;
}

static int
on_form(void *arg, enum post_form_event ev, const struct post_form_part *part, struct slice data)
{
    struct post_state *st = arg;

    switch (ev) {
    case POST_FORM_PART_BEGIN:
        if (st->phase == PH_AFTER)
            return 0;
        if (slice_case_eq_cstr(part->name, "file"))
            return file_begin(st, part);
        return field_begin(st, part->name);
    case POST_FORM_DATA:
        if (st->phase == PH_FIELD)
            return field_data(st, data);
        return st->phase == PH_FILE ? file_data(st, data) : 0;
    case POST_FORM_PART_END:
        if (st->phase == PH_FIELD)
            field_end(st);
        else if (st->phase == PH_FILE)
            st->phase = PH_AFTER;
        return 0;
    case POST_FORM_END:
        return 0;
    }
    return 0;
}

/* ---- the answer ---- */

/*
 * The object's URL, as S3 gives in Location, addressed as the client
 * addressed the bucket: the form was posted to the bucket's own URL
 * (http://host[/prefix]/bucket, or http://bucket.domain[/prefix] with
 * --domain), so the key goes after that path.
 */
static char *
object_url(struct post_state *st)
{
    struct http_req *req = st->call->req;
    struct slice host = SLICE_LIT("localhost"), proto, path = req->path;
    struct buf url = BUF_INIT;
    char *out;

    http_req_header(req, "host", &host);
    if (http_req_header(req, "x-forwarded-proto", &proto) && slice_eq_cstr(proto, "https"))
        buf_adds(&url, "https://");
    else
        buf_adds(&url, "http://");
    buf_addslice(&url, host);
    while (path.len && path.ptr[path.len - 1] == '/')
        path.len--;
    buf_addslice(&url, path); /* raw: already encoded as the client sent it */
    buf_addch(&url, '/');
    uri_encode(&url, slice_make(st->key, st->key_len), true);
    out = arena_strdup(req->arena, url.ptr);
    buf_release(&url);
    return out;
}

/* 303 to success_action_redirect (or redirect) with bucket, key and etag; false if none. */
static bool
send_redirect(struct post_state *st, const char *etag)
{
    struct slice to = field_value(st, "success_action_redirect");
    struct buf url = BUF_INIT;
    char *quoted;

    if (!to.ptr)
        to = field_value(st, "redirect");
    if (!to.ptr || !(has_prefix_ci(to, "http://") || has_prefix_ci(to, "https://")))
        return false; /* S3 ignores a redirect it cannot use */
    quoted = arena_printf(st->call->req->arena, "\"%s\"", etag);
    buf_addslice(&url, to);
    buf_addch(&url, slice_find(to, '?') >= 0 ? '&' : '?');
    buf_adds(&url, "bucket=");
    uri_encode(&url, slice_cstr(st->call->bucket), false);
    buf_adds(&url, "&key=");
    uri_encode(&url, slice_make(st->key, st->key_len), false);
    buf_adds(&url, "&etag=");
    uri_encode(&url, slice_cstr(quoted), false);
    http_resp_header(st->call->req, "Location", url.ptr);
    http_resp_empty(st->call->req, 303);
    buf_release(&url);
    return true;
}

static void
send_success(struct post_state *st, const char *etag)
{
    struct http_req *req = st->call->req;
    struct slice status = field_value(st, "success_action_status");
    char *location = object_url(st), *quoted = arena_printf(req->arena, "\"%s\"", etag);
    struct buf x = BUF_INIT;

    http_resp_header(req, "ETag", quoted);
    if (send_redirect(st, etag))
        return;
    http_resp_header(req, "Location", location);
    if (status.ptr && slice_eq_cstr(status, "200")) {
        http_resp_empty(req, 200);
    } else if (status.ptr && slice_eq_cstr(status, "201")) {
        xml_declaration(&x);
        xml_open(&x, "PostResponse");
        xml_elem_str(&x, "Location", location);
        xml_elem_str(&x, "Bucket", st->call->bucket);
        xml_elem(&x, "Key", slice_make(st->key, st->key_len));
        xml_elem_str(&x, "ETag", quoted);
        xml_close(&x, "PostResponse");
        http_resp_header(req, "Content-Type", "application/xml");
        http_resp_buf(req, 201, &x);
        buf_release(&x);
    } else {
        http_resp_empty(req, 204); /* S3's default, also for any other value */
    }
}

/* The first error the body ends with, or 0: the form is complete and within its policy. */
static int
end_error(struct post_state *st)
{
    int rc = st->rc;

    if (rc == 0 && st->form)
        rc = post_form_finish(st->form);
    if (rc == 0 && !st->has_file)
        return fail(st, -ERR_INVALID_ARGUMENT, NULL,
                    "POST requires exactly one file upload per request.");
    if (rc == 0 && st->has_range && st->received < st->min)
        return fail(st, -ERR_ENTITY_TOO_SMALL, NULL,
                    "Your proposed upload is smaller than the minimum allowed size");
    return rc < 0 ? fail(st, rc, NULL, NULL) : 0;
}

static int
post_body(struct http_req *req, const void *data, size_t n)
{
    struct s3_call *call = req->ctx;
    struct post_state *st = call->state;

    if (st->rc < 0)
        return st->rc;
    return post_form_feed(st->form, data, n);
}

static void
post_end(struct http_req *req)
{
    struct s3_call *call = req->ctx;
    struct post_state *st = call->state;
    struct obj_put *p = st->put;
    struct obj_info info;
    int rc = end_error(st);

    st->put = NULL;
    if (rc < 0) {
        if (p)
            obj_put_abort(p);
        s3__send_error_code(call, rc, st->code, st->msg);
        return;
    }
    if (st->has_sum) {
        char got[CHECKSUM_B64_SIZE];

        checksum_final_b64(&st->sum, got);
        if (!slice_eq_cstr(st->sum_want, got)) {
            obj_put_abort(p);
            s3__send_error(call, -ERR_CHECKSUM_MISMATCH, NULL);
            return;
        }
        obj_put_add_header(p, st->sum_name, st->sum_want);
    }
    obj_info_init(&info);
    rc = obj_put_finish(p, &info);
    if (rc < 0)
        s3__send_error(call, rc == -ERR_NOT_FOUND ? -ERR_BUCKET_NOT_FOUND : rc, NULL);
    else
        send_success(st, info.etag);
    obj_info_release(&info);
}

void
s3__post_object(struct s3_call *call)
{
    struct http_req *req = call->req;
    struct post_state *st = arena_zalloc(req->arena, sizeof(*st));
    struct slice ctype = SLICE_NULL, boundary;
    int rc;

    st->call = call;
    buf_init(&st->cur, 0);
    call->state = st;
    arena_defer(req->arena, post_cleanup, st);
    if (!http_req_header(req, "content-type", &ctype) || post_form_boundary(ctype, &boundary) < 0) {
        s3__send_error(call, -ERR_MALFORMED_POST, NULL);
        return;
    }
    if (req->content_length > (int64_t)POST_MAX_BODY) {
        s3__send_error(call, -ERR_TOO_LARGE, NULL);
        return;
    }
    st->mem = objlayer_stream_mem(call->s3->ol);
    if (!s3__mem_reserve(call->s3, st->mem)) {
        st->mem = 0;
        rc = -ERR_BUSY;
        s3__send_error(call, rc, NULL);
        return;
    }
    st->form = post_form_new(boundary, on_form, st);
    http_req_expect_body(req, post_body, post_end);
}
