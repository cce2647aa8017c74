/*
 * s3/tagging.c: object tagging (Put/Get/DeleteObjectTagging, x-amz-tagging
 * on PutObject, x-amz-tagging-count on GET and HEAD) and bucket tagging
 * (Put/Get/DeleteBucketTagging).
 *
 * A tag set is kept in its query form, "k1=v1&k2=v2" with keys and values
 * URI-encoded (the form of the x-amz-tagging header): for an object as the
 * stored header "x-amz-tagging" of its record (rewritten in place by
 * objlayer_update_headers: data, ETag and Last-Modified stay), for a bucket as
 * the bucket document "tagging" (object/bucketconfig.c).
 *
 * Limits as S3: at most 10 tags per object and 50 per bucket; keys of 1 to
 * 128 and values of 0 to 256 Unicode characters, valid UTF-8; keys unique
 * and not starting with "aws:" (reserved for AWS). Breaking one answers
 * 400 InvalidTag.
 *
 * Also the small-body reader of the configuration PUTs (s3__expect_small_body), which checks
 * the integrity headers the SDKs send with them: Content-MD5 and x-amz-checksum-<algo>.
 */
#include "util/base.h"

#include <openssl/evp.h>

#include "s3/body.h"
#include "s3/internal.h"
#include "s3/xml.h"
#include "util/checksum.h"
#include "util/enc.h"
#include "util/err.h"

#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256
#define TAGGING_HEADER "x-amz-tagging"

/* ---- tag sets ---- */

static size_t
utf8_chars(struct slice s)
{
    size_t i, n = 0;

    for (i = 0; i < s.len; i++)
        n += ((uint8_t)s.ptr[i] & 0xc0) != 0x80;
    return n;
}

static int
tag_fail(struct buf *msg, const char *text)
{
    if (msg && msg->len == 0)
        buf_adds(msg, text);
    return -ERR_INVALID_TAG;
}

static int
check_tags(const struct s3_tagset *t, unsigned max, struct buf *msg)
{
    size_t i, j;

    if (t->n > max)
        return tag_fail(msg, max == S3_OBJECT_TAGS_MAX
                                 ? "Object tags cannot be greater than 10"
                                 : "Bucket tag count cannot be greater than 50");
    for (i = 0; i < t->n; i++) {
        struct slice k = t->tags[i].key, v = t->tags[i].value;

        if (!s3_is_valid_utf8(k) || k.len == 0 || utf8_chars(k) > TAG_KEY_MAX)
            return tag_fail(msg, "The TagKey you have provided is invalid");
        if (!s3_is_valid_utf8(v) || utf8_chars(v) > TAG_VALUE_MAX)
            return tag_fail(msg, "The TagValue you have provided is invalid");
        if (memchr(k.ptr, '\0', k.len) || (v.len && memchr(v.ptr, '\0', v.len)))
            return tag_fail(msg, "The TagKey you have provided is invalid");
        if (slice_starts_with(k, SLICE_LIT("aws:")))
            return tag_fail(msg, "Your TagKey cannot be prefixed with aws:");
        for (j = 0; j < i; j++)
            if (slice_eq(t->tags[j].key, k))
                return tag_fail(msg, "Cannot provide multiple Tags with the same key");
    }
    return 0;
}

static void
tagset_add(struct arena *a, struct s3_tagset *t, size_t *cap, struct slice k, struct slice v)
{
    struct s3_tag *tags;

    if (t->n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        tags = arena_alloc(a, *cap * sizeof(*tags));
        if (t->n)
            memcpy(tags, t->tags, t->n * sizeof(*tags));
        t->tags = tags;
    }
    t->tags[t->n].key = slice_make(arena_slicedup(a, k), k.len);
    t->tags[t->n].value = slice_make(arena_slicedup(a, v), v.len);
    t->n++;
}

/* Decodes one form-encoded component ('+' is a space, as in HTML forms and Java's encoder). */
static int
form_decode(struct buf *out, struct slice s)
{
    struct buf plus = BUF_INIT;
    size_t i;
    int rc;

    buf_addslice(&plus, s);
    for (i = 0; i < plus.len; i++)
        if (plus.ptr[i] == '+')
            plus.ptr[i] = ' ';
    rc = uri_decode(out, buf_slice(&plus));
    buf_release(&plus);
    return rc;
}

int
s3_tagging_parse_query(struct arena *a, struct slice q, unsigned max, struct s3_tagset *out,
                       struct buf *msg)
{
    struct s3_tagset t = { NULL, 0 };
    struct slice rest = q, pair, k;
    struct buf kb = BUF_INIT, vb = BUF_INIT;
    size_t cap = 0;
    int rc = 0;

    while (rc == 0 && rest.ptr && rest.len) {
        rest = slice_split(rest, '&', &pair);
        if (pair.len == 0)
            continue;
        {
            struct slice v = slice_split(pair, '=', &k);

            buf_clear(&kb);
            buf_clear(&vb);
            if (form_decode(&kb, k) < 0 || (v.ptr && form_decode(&vb, v) < 0))
                rc = tag_fail(msg, "The header 'x-amz-tagging' shall be encoded as UTF-8 then "
                                   "URLEncoded URL query parameters without tag name duplicates.");
            else
                tagset_add(a, &t, &cap, buf_slice(&kb), buf_slice(&vb));
        }
    }
    buf_release(&kb);
    buf_release(&vb);
    if (rc == 0)
        rc = check_tags(&t, max, msg);
    if (rc == 0)
        *out = t;
    return rc;
}

struct xml_ctx {
    struct arena *a;
    struct s3_tagset t;
    size_t cap;
    struct buf key, value;
    bool has_key, has_value, has_tagset;
};

static int
on_tag_elem(void *arg, unsigned depth, const char *name, struct slice text)
{
    struct xml_ctx *c = arg;

    if (depth == 4 && !strcmp(name, "Key") && !c->has_key) {
        buf_addslice(&c->key, text);
        c->has_key = true;
    } else if (depth == 4 && !strcmp(name, "Value") && !c->has_value) {
        buf_addslice(&c->value, text);
        c->has_value = true;
    } else if (depth == 3 && !strcmp(name, "Tag") && c->has_key) {
        tagset_add(c->a, &c->t, &c->cap, buf_slice(&c->key), buf_slice(&c->value));
        buf_clear(&c->key);
        buf_clear(&c->value);
        c->has_key = c->has_value = false;
    } else if (depth == 2 && !strcmp(name, "TagSet") && !c->has_tagset) {
        c->has_tagset = true;
    } else if (depth != 1) {
        return -ERR_MALFORMED_XML;
    }
    return depth == 1 && !c->has_tagset ? -ERR_MALFORMED_XML : 0;
}

int
s3_tagging_parse_xml(struct arena *a, struct slice body, unsigned max, struct s3_tagset *out,
                     struct buf *msg)
{
    struct xml_ctx c = { .a = a, .key = BUF_INIT, .value = BUF_INIT };
    int rc = xml_read(body, "Tagging", on_tag_elem, &c);

    buf_release(&c.key);
    buf_release(&c.value);
    if (rc == 0)
        rc = check_tags(&c.t, max, msg);
    if (rc == 0)
        *out = c.t;
    return rc;
}

void
s3_tagging_encode(const struct s3_tagset *t, struct buf *out)
{
    size_t i;

    for (i = 0; i < t->n; i++) {
        if (i)
            buf_addch(out, '&');
        uri_encode(out, t->tags[i].key, false);
        buf_addch(out, '=');
        uri_encode(out, t->tags[i].value, false);
    }
}

static int
tag_cmp(const void *a, const void *b)
{
    const struct s3_tag *x = *(const struct s3_tag *const *)a;
    const struct s3_tag *y = *(const struct s3_tag *const *)b;

    return slice_cmp(x->key, y->key);
}

void
s3_tagging_xml(const struct s3_tagset *t, struct buf *out)
{
    const struct s3_tag **sorted = xcalloc(t->n ? t->n : 1, sizeof(*sorted));
    size_t i;

    /* S3 answers a tag set sorted by key, whatever order it was given in */
    for (i = 0; i < t->n; i++)
        sorted[i] = &t->tags[i];
    qsort(sorted, t->n, sizeof(*sorted), tag_cmp);
    xml_declaration(out);
    xml_open_ns(out, "Tagging");
    xml_open(out, "TagSet");
    for (i = 0; i < t->n; i++) {
        xml_open(out, "Tag");
        xml_elem(out, "Key", sorted[i]->key);
        xml_elem(out, "Value", sorted[i]->value);
        xml_close(out, "Tag");
    }
    xml_close(out, "TagSet");
    xml_close(out, "Tagging");
    free(sorted);
}

/* ---- helpers for PutObject, GetObject and HeadObject (object.c) ---- */

int
s3__tagging_from_request(struct s3_call *call, struct buf *headers, struct buf *msg)
{
    struct s3_tagset t;
    struct buf enc = BUF_INIT;
    struct slice v;
    int rc;

    if (!http_req_header(call->req, "x-amz-tagging", &v))
        return 0;
    rc = s3_tagging_parse_query(call->req->arena, slice_trim(v), S3_OBJECT_TAGS_MAX, &t, msg);
    if (rc < 0 || t.n == 0)
        return rc;
    s3_tagging_encode(&t, &enc);
    hdrs_add(headers, TAGGING_HEADER, buf_slice(&enc));
    buf_release(&enc);
    return 0;
}

bool
s3__is_internal_header(const char *name)
{
    return !strcmp(name, TAGGING_HEADER) || !strncmp(name, "x-basalt-", 9);
}

void
s3__tagging_count_header(struct http_req *req, const struct obj_info *info)
{
    const char *v = obj_info_header(info, TAGGING_HEADER);
    size_t n = 1;

    if (!v || !*v)
        return;
    for (; *v; v++)
        n += *v == '&';
    http_resp_header(req, "x-amz-tagging-count", arena_printf(req->arena, "%zu", n));
}

/* ---- small request bodies (configuration documents) ---- */

struct body_state {
    struct buf body;
    uint64_t received;
    uint64_t max;  /* bytes of body accepted */
    bool checksum; /* an x-amz-checksum-<algo> header is the body's, to verify */
    s3_body_done_fn *done;
};

static void
body_cleanup(void *arg)
{
    struct body_state *st = arg;

    buf_release(&st->body);
}

static int
body_piece(struct http_req *req, const void *data, size_t n)
{
    struct s3_call *call = req->ctx;
    struct body_state *st = call->state;

    st->received += n;
    if (st->received > st->max)
        return -ERR_MALFORMED_XML;
    s3__payload_update(call, data, n);
    buf_add(&st->body, data, n);
    return 0;
}

/* Content-MD5, when sent, must match: -ERR_INVALID_DIGEST, -ERR_BAD_DIGEST. */
static int
check_md5(struct http_req *req, struct slice body)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    struct buf want = BUF_INIT;
    struct slice v;
    int rc = 0;

    if (!http_req_header(req, "content-md5", &v))
        return 0;
    if (base64_decode(&want, slice_trim(v)) < 0 || want.len != 16) {
        rc = -ERR_INVALID_DIGEST;
    } else {
        EVP_Digest(body.ptr, body.len, md, &len, EVP_md5(), NULL);
        if (len != 16 || memcmp(md, want.ptr, 16) != 0)
            rc = -ERR_BAD_DIGEST;
    }
    buf_release(&want);
    return rc;
}

int
s3__body_checksum_check(const struct http_req *req, struct slice body)
{
    char got[CHECKSUM_B64_SIZE];
    enum checksum_algo algo;
    size_t i;

    for (i = 0; i < req->nheaders; i++) {
        struct slice n = req->headers[i].name;

        if (!s3_checksum_value_header(n) || checksum_algo_parse(n, &algo) < 0)
            continue;
        checksum_b64(algo, body.ptr, body.len, got);
        return slice_eq_cstr(slice_trim(req->headers[i].value), got) ? 1 : -ERR_CHECKSUM_MISMATCH;
    }
    return 0;
}

static void
body_end(struct http_req *req)
{
    struct s3_call *call = req->ctx;
    struct body_state *st = call->state;
    int rc = st->received > st->max ? -ERR_MALFORMED_XML : s3__payload_check(call);

    if (rc == 0)
        rc = check_md5(req, buf_slice(&st->body));
    if (rc == 0 && st->checksum)
        rc = MIN(s3__body_checksum_check(req, buf_slice(&st->body)), 0);
    st->done(call, rc, buf_slice(&st->body));
}

static void expect_body(struct s3_call *call, size_t max, bool checksum, s3_body_done_fn *done);

void
s3__expect_small_body(struct s3_call *call, s3_body_done_fn *done)
{
    expect_body(call, S3_MAX_XML_BODY, true, done);
}

void
s3__expect_small_body_max(struct s3_call *call, size_t max, s3_body_done_fn *done)
{
    expect_body(call, max, false, done);
}

static void
expect_body(struct s3_call *call, size_t max, bool checksum, s3_body_done_fn *done)
{
    struct http_req *req = call->req;
    struct body_state *st;
    int rc = s3__payload_begin(call);

    if (rc == 0 && req->content_length > (int64_t)max)
        rc = -ERR_MALFORMED_XML;
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    st = arena_zalloc(req->arena, sizeof(*st));
    buf_init(&st->body, 0);
    st->max = max;
    st->checksum = checksum;
    st->done = done;
    arena_defer(req->arena, body_cleanup, st);
    call->state = st;
    http_req_expect_body(req, body_piece, body_end);
}

/* ---- object tagging ---- */

/* Replaces (a tag set, encoded) or removes (NULL) the object's tags. */
static int
set_tagging(struct s3_call *call, const char *encoded)
{
    struct obj_header_edit e = { TAGGING_HEADER, encoded };

    return objlayer_update_headers(call->s3->ol, &call->ctx, call->bucket, call->key, &e, 1);
}

static int
object_err(int rc)
{
    return rc == -ERR_NOT_FOUND ? -ERR_KEY_NOT_FOUND : rc;
}

static void
get_object_tagging(struct s3_call *call)
{
    struct s3_tagset t = { NULL, 0 };
    struct buf x = BUF_INIT;
    struct obj_info info;
    const char *v;
    int rc;

    obj_info_init(&info);
    rc = objlayer_head(call->s3->ol, &call->ctx, call->bucket, call->key, &info);
    v = rc == 0 ? obj_info_header(&info, TAGGING_HEADER) : NULL;
    if (v) /* stored by us: parses; checked again for the limits anyway */
        rc = s3_tagging_parse_query(call->req->arena, slice_cstr(v), UINT_MAX, &t, NULL);
    if (rc < 0) {
        s3__send_error(call, object_err(rc), NULL);
    } else {
        s3_tagging_xml(&t, &x);
        s3__send_xml(call, &x);
    }
    buf_release(&x);
    obj_info_release(&info);
}

static void
put_object_tagging_done(struct s3_call *call, int rc, struct slice body)
{
    struct s3_tagset t;
    struct buf msg = BUF_INIT, enc = BUF_INIT;

    if (rc == 0)
        rc = s3_tagging_parse_xml(call->req->arena, body, S3_OBJECT_TAGS_MAX, &t, &msg);
    if (rc == 0) {
        s3_tagging_encode(&t, &enc);
        rc = set_tagging(call, t.n ? enc.ptr : NULL);
    }
    if (rc < 0)
        s3__send_error(call, object_err(rc), msg.len ? msg.ptr : NULL);
    else
        http_resp_empty(call->req, 200);
    buf_release(&msg);
    buf_release(&enc);
}

void
s3__object_tagging(struct s3_call *call)
{
    int rc = s3_key_check(slice_make(call->key, call->key_len));

    if (rc == 0 && s3_bucket_name_check(slice_cstr(call->bucket)) < 0)
        rc = -ERR_BUCKET_NOT_FOUND;
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    switch (call->op) {
    case S3_OP_GET_OBJECT_TAGGING:
        get_object_tagging(call);
        return;
    case S3_OP_PUT_OBJECT_TAGGING:
        s3__expect_small_body(call, put_object_tagging_done);
        return;
    default:
        rc = set_tagging(call, NULL);
        if (rc < 0)
            s3__send_error(call, object_err(rc), NULL);
        else
            http_resp_empty(call->req, 204);
    }
}

/* ---- bucket tagging ---- */

static void
get_bucket_tagging(struct s3_call *call)
{
    struct s3_tagset t = { NULL, 0 };
    struct buf doc = BUF_INIT, x = BUF_INIT;
    int rc = objlayer_bucket_config_get(call->s3->ol, &call->ctx, call->bucket, "tagging", &doc);

    if (rc == -ERR_NOT_FOUND)
        rc = -ERR_NO_SUCH_TAG_SET;
    if (rc == 0)
        rc = s3_tagging_parse_query(call->req->arena, buf_slice(&doc), UINT_MAX, &t, NULL);
    if (rc == 0 && t.n == 0)
        rc = -ERR_NO_SUCH_TAG_SET;
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
    } else {
        s3_tagging_xml(&t, &x);
        s3__send_xml(call, &x);
    }
    buf_release(&doc);
    buf_release(&x);
}

static void
put_bucket_tagging_done(struct s3_call *call, int rc, struct slice body)
{
    struct s3_tagset t;
    struct buf msg = BUF_INIT, enc = BUF_INIT;

    if (rc == 0)
        rc = s3_tagging_parse_xml(call->req->arena, body, S3_BUCKET_TAGS_MAX, &t, &msg);
    if (rc == 0) {
        s3_tagging_encode(&t, &enc);
        if (t.n)
            rc = objlayer_bucket_config_put(call->s3->ol, &call->ctx, call->bucket, "tagging",
                                            buf_slice(&enc));
        else /* an empty set is no set (GetBucketTagging answers NoSuchTagSet) */
            rc = objlayer_bucket_config_delete(call->s3->ol, &call->ctx, call->bucket, "tagging");
    }
    if (rc < 0)
        s3__send_error(call, rc, msg.len ? msg.ptr : NULL);
    else
        http_resp_empty(call->req, 204);
    buf_release(&msg);
    buf_release(&enc);
}

void
s3__bucket_tagging(struct s3_call *call)
{
    int rc;

    if (s3_bucket_name_check(slice_cstr(call->bucket)) < 0) {
        s3__send_error(call, -ERR_BUCKET_NOT_FOUND, NULL);
        return;
    }
    switch (call->op) {
    case S3_OP_GET_BUCKET_TAGGING:
        get_bucket_tagging(call);
        return;
    case S3_OP_PUT_BUCKET_TAGGING:
        s3__expect_small_body(call, put_bucket_tagging_done);
        return;
    default:
        rc = objlayer_bucket_config_delete(call->s3->ol, &call->ctx, call->bucket, "tagging");
        if (rc < 0)
            s3__send_error(call, rc, NULL);
        else
            http_resp_empty(call->req, 204);
    }
}
