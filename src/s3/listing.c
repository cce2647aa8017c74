/*
 * s3/listing.c: ListObjects (V1) and ListObjectsV2.
 *
 * The page logic (s3_list_page) is separate from HTTP and from the object
 * layer: it reads keys in byte order from a source function and rolls keys
 * that contain the delimiter (after the prefix) into CommonPrefixes. After
 * emitting a common prefix P it restarts the scan after P + "\xff": keys
 * are valid UTF-8, which never contains the byte 0xff, so every key that
 * starts with P sorts before P + "\xff" and every later key after it. A
 * listing therefore costs O(page), not O(objects under P).
 *
 * IsTruncated, NextMarker and NextContinuationToken follow S3: a page is
 * truncated when one more key or prefix exists after its last item; V1
 * gives NextMarker only when a delimiter was given; the V2 continuation
 * token is the base64 of the last item (opaque to clients).
 */
#include "util/base.h"

#include "s3/internal.h"
#include "s3/xml.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

struct page_ctx {
    struct arena *a;
    const struct s3_list_params *p;
    struct s3_list_page *out;
    struct buf last_prefix; /* the last common prefix emitted */
    struct buf resume;      /* where the next scan starts (exclusive) */
    unsigned seen;
    bool restart; /* stopped to skip past a common prefix */
    bool done;
};

static void
emit(struct page_ctx *c, struct slice key, const struct obj_list_ent *ent, bool is_prefix)
{
    struct s3_list_item *it = &c->out->items[c->out->nitems++];

    it->key = arena_slicedup(c->a, key);
    it->key_len = key.len;
    it->is_prefix = is_prefix;
    if (is_prefix) {
        c->out->nprefixes++;
        return;
    }
    it->size = ent->size;
    it->mtime_ns = ent->mtime_ns;
    it->etag = arena_strdup(c->a, ent->etag ? ent->etag : "");
    it->reduced = ent->reduced;
    c->out->nkeys++;
}

static bool
page_full(struct page_ctx *c)
{
    if (c->out->nitems < c->p->max_keys)
        return false;
    c->out->truncated = true;
    c->done = true;
    return true;
}

/* Handles a key that rolls into common prefix `cp`; returns the callback's answer. */
static int
on_prefix(struct page_ctx *c, struct slice cp)
{
    if (slice_eq(cp, buf_slice(&c->last_prefix)))
        return 0;
    if (slice_cmp(cp, c->p->after) > 0) {
        if (page_full(c))
            return 1;
        emit(c, cp, NULL, true);
        buf_clear(&c->last_prefix);
        buf_addslice(&c->last_prefix, cp);
    }
    /* Emitted now or already listed before the marker: skip past it. */
    buf_clear(&c->resume);
    buf_addslice(&c->resume, cp);
    buf_addch(&c->resume, '\xff');
    c->restart = true;
    return 1;
}

static int
on_key(void *arg, const struct obj_list_ent *ent)
{
    struct page_ctx *c = arg;
    struct slice key = ent->key, rest;
    ssize_t i;

    c->seen++;
    buf_clear(&c->resume);
    buf_addslice(&c->resume, key);
    if (c->p->delimiter.len && key.len >= c->p->prefix.len) {
        rest = slice_make(key.ptr + c->p->prefix.len, key.len - c->p->prefix.len);
        for (i = 0; i + c->p->delimiter.len <= rest.len; i++) {
            if (memcmp(rest.ptr + i, c->p->delimiter.ptr, c->p->delimiter.len) == 0)
                return on_prefix(
                    c, slice_make(key.ptr, c->p->prefix.len + (size_t)i + c->p->delimiter.len));
        }
    }
    if (page_full(c))
        return 1;
    emit(c, key, ent, false);
    return 0;
}

int
s3_list_page(struct arena *a, s3_list_src_fn *src, void *src_arg, const struct s3_list_params *p,
             struct s3_list_page *out)
{
    struct page_ctx c = { .a = a, .p = p, .out = out };
    unsigned batch = p->max_keys + 1;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->items = arena_alloc(a, (p->max_keys + 1) * sizeof(*out->items));
    if (p->max_keys == 0)
        return 0;
    buf_init(&c.last_prefix, 0);
    buf_init(&c.resume, 0);
    buf_addslice(&c.resume, p->after);
    while (!c.done) {
        struct slice after = slice_make(arena_slicedup(a, buf_slice(&c.resume)), c.resume.len);

        c.seen = 0;
        c.restart = false;
        rc = src(src_arg, p->prefix, after, batch, on_key, &c);
        if (rc < 0 || c.done)
            break;
        if (!c.restart && c.seen < batch)
            break; /* the source is exhausted */
    }
    if (rc >= 0 && out->truncated && out->nitems) {
        struct s3_list_item *last = &out->items[out->nitems - 1];

        out->next = slice_make(last->key, last->key_len);
    }
    buf_release(&c.last_prefix);
    buf_release(&c.resume);
    return rc < 0 ? rc : 0;
}

/* ---- the HTTP operation ---- */

struct ol_src {
    struct objlayer *ol;
    const struct reqctx *ctx;
    const char *bucket;
};

static int
ol_list(void *arg, struct slice prefix, struct slice after, unsigned limit, obj_list_fn *cb,
        void *cb_arg)
{
    struct ol_src *s = arg;

    return objlayer_list(s->ol, s->ctx, s->bucket, prefix, after, limit, cb, cb_arg);
}

struct list_req {
    bool v2, url, fetch_owner;
    struct slice prefix, delimiter, marker, start_after, token;
    bool has_delimiter, has_token, has_start_after;
    unsigned max_keys;
};

static int
parse_max_keys(const struct http_req *req, unsigned *out)
{
    struct slice v;
    uint64_t n;

    *out = S3_MAX_KEYS;
    if (!http_req_param(req, "max-keys", &v))
        return 0;
    if (parse_u64(v, &n) < 0)
        return -ERR_INVALID_ARGUMENT;
    *out = (unsigned)MIN(n, (uint64_t)S3_MAX_KEYS);
    return 0;
}

static int
parse_list_req(struct s3_call *call, struct list_req *lr, struct s3_list_params *p)
{
    const struct http_req *req = call->req;
    struct slice v;
    struct buf tok = BUF_INIT;
    int rc;

    lr->v2 = call->op == S3_OP_LIST_OBJECTS_V2;
    if (http_req_param(req, "encoding-type", &v)) {
        if (!slice_case_eq_cstr(v, "url"))
            return -ERR_INVALID_ARGUMENT;
        lr->url = true;
    }
    lr->fetch_owner = http_req_param(req, "fetch-owner", &v) && slice_eq_cstr(v, "true");
    http_req_param(req, "prefix", &lr->prefix);
    /* S3 takes an empty delimiter as none, and does not echo it */
    lr->has_delimiter = http_req_param(req, "delimiter", &lr->delimiter) && lr->delimiter.len;
    http_req_param(req, "marker", &lr->marker);
    lr->has_start_after = http_req_param(req, "start-after", &lr->start_after);
    lr->has_token = http_req_param(req, "continuation-token", &lr->token);
    rc = parse_max_keys(req, &lr->max_keys);
    if (rc < 0)
        return rc;
    p->prefix = lr->prefix;
    p->delimiter = lr->delimiter;
    p->max_keys = lr->max_keys;
    p->after = lr->v2 ? lr->start_after : lr->marker;
    /* an empty continuation-token is no token (it is still echoed, empty) */
    if (lr->v2 && lr->has_token && lr->token.len) {
        if (base64_decode(&tok, lr->token) < 0) {
            buf_release(&tok);
            return -ERR_INVALID_ARGUMENT;
        }
        p->after = slice_make(arena_slicedup(req->arena, buf_slice(&tok)), tok.len);
        buf_release(&tok);
    }
    return 0;
}

/* Whether `s` can stand in an XML 1.0 document: valid UTF-8, no control character but tab, LF, CR.
 */
static bool
is_xml_safe(struct slice s)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];

        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return false;
    }
    return s3_is_valid_utf8(s);
}

/* A key, prefix or marker, URL-encoded when encoding-type=url. */
static void
elem_key(struct buf *x, const char *tag, struct slice s, bool url)
{
    struct buf enc = BUF_INIT;

    if (!url) {
        xml_elem(x, tag, s);
        return;
    }
    uri_encode(&enc, s, true);
    xml_elem(x, tag, buf_slice(&enc));
    buf_release(&enc);
}

static void
write_item(struct buf *x, const struct s3_call *call, const struct list_req *lr,
           const struct s3_list_item *it)
{
    struct buf t = BUF_INIT;

    xml_open(x, "Contents");
    elem_key(x, "Key", slice_make(it->key, it->key_len), lr->url);
    clock_fmt_iso8601(&t, it->mtime_ns);
    xml_elem_str(x, "LastModified", t.ptr);
    buf_clear(&t);
    buf_addf(&t, "\"%s\"", it->etag);
    xml_elem_str(x, "ETag", t.ptr);
    xml_elem_u64(x, "Size", it->size);
    if (!lr->v2 || lr->fetch_owner) {
        xml_open(x, "Owner");
        xml_elem_str(x, "ID", S3_OWNER_ID);
        xml_elem_str(x, "DisplayName", call->s3->root_user);
        xml_close(x, "Owner");
    }
    xml_elem_str(x, "StorageClass", it->reduced ? "REDUCED_REDUNDANCY" : "STANDARD");
    xml_close(x, "Contents");
    buf_release(&t);
}

static void
write_head(struct buf *x, const struct s3_call *call, const struct list_req *lr,
           const struct s3_list_page *pg)
{
    struct buf tok = BUF_INIT;

    xml_elem_str(x, "Name", call->bucket);
    /*
     * V1's Prefix is echoed as sent even under encoding-type=url: SDKs
     * (botocore's decode_list_object) decode Delimiter, Marker, NextMarker and
     * the keys of a V1 listing but not its Prefix, so an encoded one would
     * reach the caller changed. Only a prefix that XML 1.0 cannot carry is
     * still encoded: the client asked for a listing its parser can read. V2's
     * Prefix is encoded and decoded.
     */
    elem_key(x, "Prefix", lr->prefix, lr->url && (lr->v2 || !is_xml_safe(lr->prefix)));
    if (!lr->v2)
        elem_key(x, "Marker", lr->marker, lr->url);
    if (lr->v2 && lr->has_start_after)
        elem_key(x, "StartAfter", lr->start_after, lr->url);
    if (lr->v2 && lr->has_token)
        xml_elem(x, "ContinuationToken", lr->token);
    if (lr->v2)
        xml_elem_u64(x, "KeyCount", pg->nitems);
    xml_elem_u64(x, "MaxKeys", lr->max_keys);
    if (lr->has_delimiter)
        elem_key(x, "Delimiter", lr->delimiter, lr->url);
    if (lr->url)
        xml_elem_str(x, "EncodingType", "url");
    xml_elem_bool(x, "IsTruncated", pg->truncated);
    if (!lr->v2 && pg->truncated && lr->has_delimiter && lr->delimiter.len)
        elem_key(x, "NextMarker", pg->next, lr->url);
    if (lr->v2 && pg->truncated) {
        base64_encode(&tok, pg->next.ptr, pg->next.len);
        xml_elem(x, "NextContinuationToken", buf_slice(&tok));
    }
    buf_release(&tok);
}

static void
write_page(struct buf *x, const struct s3_call *call, const struct list_req *lr,
           const struct s3_list_page *pg)
{
    const char *root = "ListBucketResult";
    size_t i;

    xml_declaration(x);
    xml_open_ns(x, root);
    write_head(x, call, lr, pg);
    for (i = 0; i < pg->nitems; i++)
        if (!pg->items[i].is_prefix)
            write_item(x, call, lr, &pg->items[i]);
    for (i = 0; i < pg->nitems; i++) {
        if (!pg->items[i].is_prefix)
            continue;
        xml_open(x, "CommonPrefixes");
        elem_key(x, "Prefix", slice_make(pg->items[i].key, pg->items[i].key_len), lr->url);
        xml_close(x, "CommonPrefixes");
    }
    xml_close(x, root);
}

void
s3__list_objects(struct s3_call *call)
{
    struct ol_src src = { call->s3->ol, &call->ctx, call->bucket };
    struct list_req lr = { 0 };
    struct s3_list_params p = { 0 };
    struct s3_list_page pg;
    struct buf x = BUF_INIT;
    int rc;

    rc = parse_list_req(call, &lr, &p);
    if (rc == 0 && s3_bucket_name_check(slice_cstr(call->bucket)) < 0)
        rc = -ERR_BUCKET_NOT_FOUND;
    if (rc == 0)
        rc = s3_list_page(call->req->arena, ol_list, &src, &p, &pg);
    if (rc < 0) {
        s3__send_error(call, rc == -ERR_NOT_FOUND ? -ERR_BUCKET_NOT_FOUND : rc, NULL);
        return;
    }
    write_page(&x, call, &lr, &pg);
    s3__send_xml(call, &x);
    buf_release(&x);
}
