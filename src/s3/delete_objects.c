/*
 * s3/delete_objects.c: DeleteObjects (POST /bucket?delete).
 *
 * The body, a <Delete> document of at most 1,000 keys, must carry an
 * integrity header as S3 requires: Content-MD5 or an x-amz-checksum-<algo>
 * header, checked against the body before anything is deleted. Each key is
 * checked and authorized on its own; then every key that passes is deleted
 * in one call of the object layer (objlayer_delete_many: the name locks
 * taken in key order, one index transaction per drive for the whole batch),
 * each with delete quorum. A key that does not exist counts as deleted
 * (S3); a key that cannot be deleted gets its own <Error> entry while the
 * others go on; the answer lists the keys in the request's order. Quiet mode reports only the
 * errors. An <ETag> in an <Object> makes its delete conditional, as If-Match on DeleteObject: a key
 * whose current version has another ETag (PreconditionFailed) or that does not exist (NoSuchKey) is
 * an <Error> and is not deleted.
 */
#include "util/base.h"

#include "s3/internal.h"
#include "s3/xml.h"
#include "util/err.h"

#define S3_MAX_DELETE_KEYS 1000
/* 1,000 keys of 1,024 bytes, each character possibly escaped as a 6-byte entity */
#define S3_MAX_DELETE_BODY (8u << 20)

struct del_key {
    char *key; /* in the request's arena */
    size_t len;
    struct slice etag; /* SLICE_NULL, or the <ETag> the current version must have */
};

struct del_parse {
    struct arena *a;
    struct del_key *keys;
    size_t n;
    bool quiet;
    bool has_key; /* the current <Object> has a <Key> */
    struct slice cur, cur_etag;
};

static int
del_elem(void *arg, unsigned depth, const char *name, struct slice text)
{
    struct del_parse *d = arg;

    if (depth == 2 && !strcmp(name, "Quiet")) {
        if (slice_eq_cstr(text, "true"))
            d->quiet = true;
        else if (!slice_eq_cstr(text, "false"))
            return -ERR_MALFORMED_XML;
    } else if (depth == 3 && !strcmp(name, "Key")) {
        d->cur = slice_make(arena_slicedup(d->a, text), text.len);
        d->has_key = true;
    } else if (depth == 3 && !strcmp(name, "VersionId")) {
        if (!slice_eq_cstr(text, "null"))
            return -ERR_NOT_IMPLEMENTED; /* one version per key: only "null" exists */
    } else if (depth == 3 && !strcmp(name, "ETag")) {
        d->cur_etag = slice_make(arena_slicedup(d->a, text), text.len);
    } else if (depth == 3 && (!strcmp(name, "LastModifiedTime") || !strcmp(name, "Size"))) {
        return -ERR_NOT_IMPLEMENTED; /* S3 has these conditions for directory buckets only */
    } else if (depth == 2 && !strcmp(name, "Object")) {
        if (!d->has_key)
            return -ERR_MALFORMED_XML;
        if (d->n == S3_MAX_DELETE_KEYS)
            return -ERR_MALFORMED_XML; /* S3 answers MalformedXML past 1,000 keys */
        d->keys[d->n].key = (char *)d->cur.ptr;
        d->keys[d->n].len = d->cur.len;
        d->keys[d->n].etag = d->cur_etag;
        d->n++;
        d->has_key = false;
        d->cur_etag = SLICE_NULL;
    }
    return 0;
}

/*
 * The integrity header S3 requires on DeleteObjects: Content-MD5 (checked by
 * the small-body reader) or x-amz-checksum-<algo> (checked here).
 */
static int
check_integrity(const struct http_req *req, struct slice body)
{
    struct slice v;
    int rc = s3__body_checksum_check(req, body);

    if (rc < 0)
        return rc;
    return rc > 0 || http_req_header(req, "content-md5", &v) ? 0 : -ERR_INVALID_REQUEST;
}

static void
add_error(struct buf *x, struct slice key, int err)
{
    const struct s3_error *e = s3_error_lookup(err);

    xml_open(x, "Error");
    xml_elem(x, "Key", key);
    xml_elem_str(x, "Code", e->code);
    xml_elem_str(x, "Message", e->message);
    xml_close(x, "Error");
}

/*
 * Each key's rc into rcs[]: its own check or authorization error, else what
 * the object layer answers for it. The keys that pass go to the object layer
 * in one call (objlayer_delete_many: one index transaction per drive).
 */
static void
delete_keys(struct s3_call *call, const struct del_parse *d, int *rcs)
{
    struct arena *a = call->req->arena;
    size_t cap = d->n ? d->n : 1, i, m = 0;
    const char **keys = arena_alloc(a, cap * sizeof(*keys));
    const struct obj_cond **conds = arena_alloc(a, cap * sizeof(*conds));
    int *got = arena_alloc(a, cap * sizeof(*got));
    size_t *pos = arena_alloc(a, cap * sizeof(*pos));

    for (i = 0; i < d->n; i++) {
        rcs[i] = s3_key_check(slice_make(d->keys[i].key, d->keys[i].len));
        if (rcs[i] == 0 && !s3__is_allowed(call, "s3:DeleteObject", call->bucket, d->keys[i].key))
            rcs[i] = -ERR_ACCESS_DENIED;
        if (rcs[i] < 0)
            continue;
        keys[m] = d->keys[i].key;
        conds[m] = d->keys[i].etag.ptr ? s3__if_match(a, d->keys[i].etag) : NULL;
        pos[m++] = i;
    }
    objlayer_delete_many(call->s3->ol, &call->ctx, call->bucket, keys, conds, m, got);
    for (i = 0; i < m; i++) {
        rcs[pos[i]] = got[i];
        if (!conds[i] && (got[i] == -ERR_KEY_NOT_FOUND || got[i] == -ERR_NOT_FOUND))
            rcs[pos[i]] = 0; /* deleting what is not there succeeds, as in S3 */
    }
}

static void
delete_done(struct s3_call *call, int rc, struct slice body)
{
    struct http_req *req = call->req;
    struct del_parse d = { .a = req->arena };
    struct buf x = BUF_INIT;
    int *rcs;
    size_t i;

    if (rc == 0)
        rc = check_integrity(req, body);
    if (rc == 0) {
        d.keys = arena_alloc(req->arena, S3_MAX_DELETE_KEYS * sizeof(*d.keys));
        rc = xml_read(body, "Delete", del_elem, &d);
    }
    if (rc == 0)
        rc = objlayer_bucket_stat(call->s3->ol, &call->ctx, call->bucket, NULL);
    if (rc < 0) {
        s3__send_error(call, rc == -ERR_NOT_FOUND ? -ERR_BUCKET_NOT_FOUND : rc,
                       rc == -ERR_INVALID_REQUEST
                           ? "Missing required header for this request: Content-MD5"
                           : NULL);
        return;
    }
    rcs = arena_alloc(req->arena, (d.n ? d.n : 1) * sizeof(*rcs));
    delete_keys(call, &d, rcs);
    xml_declaration(&x);
    xml_open_ns(&x, "DeleteResult");
    for (i = 0; i < d.n; i++) { /* in the request's order */
        struct slice key = slice_make(d.keys[i].key, d.keys[i].len);

        if (rcs[i] < 0) {
            add_error(&x, key, rcs[i]);
        } else if (!d.quiet) {
            xml_open(&x, "Deleted");
            xml_elem(&x, "Key", key);
            xml_close(&x, "Deleted");
        }
    }
    xml_close(&x, "DeleteResult");
    s3__send_xml(call, &x);
    buf_release(&x);
}

void
s3__delete_objects(struct s3_call *call)
{
    s3__expect_small_body_max(call, S3_MAX_DELETE_BODY, delete_done);
}
