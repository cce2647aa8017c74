/*
 * s3/conditional.c: conditional writes (If-None-Match: * to create only, If-Match: "<etag>" to
 * replace only that version) on PutObject, CompleteMultipartUpload and CopyObject, as S3 has
 * them since 2024, and conditional deletes (If-Match on DeleteObject, <ETag> in DeleteObjects,
 * since 2025). The condition travels to the object layer as data (struct obj_cond), which checks
 * it under the key's lock at the commit or the delete, so two writers racing on the same key
 * cannot both win, and a delete cannot remove a version that replaced the one the condition names.
 */
#include "util/base.h"

#include "s3/internal.h"
#include "util/err.h"

int
s3__write_conditions(struct s3_call *call, const struct obj_cond **out)
{
    struct http_req *req = call->req;
    struct obj_cond *c;
    struct slice im = SLICE_NULL, inm = SLICE_NULL;
    bool has_im = http_req_header(req, "if-match", &im);
    bool has_inm = http_req_header(req, "if-none-match", &inm);

    *out = NULL;
    if (!has_im && !has_inm)
        return 0;
    if (has_inm && !slice_eq_cstr(slice_trim(inm), "*"))
        return -ERR_NOT_IMPLEMENTED; /* S3 takes only "*" on writes */
    c = arena_zalloc(req->arena, sizeof(*c));
    c->if_match = has_im ? slice_trim(im) : SLICE_NULL;
    c->if_none_match = has_inm;
    *out = c;
    return 0;
}

const struct obj_cond *
s3__if_match(struct arena *a, struct slice etags)
{
    struct obj_cond *c = arena_zalloc(a, sizeof(*c));

    c->if_match = slice_trim(etags);
    return c;
}

int
s3__delete_conditions(struct s3_call *call, const struct obj_cond **out)
{
    struct http_req *req = call->req;
    struct slice v;

    *out = NULL;
    /* S3 has these two for directory buckets only */
    if (http_req_header(req, "x-amz-if-match-last-modified-time", &v) ||
        http_req_header(req, "x-amz-if-match-size", &v))
        return -ERR_NOT_IMPLEMENTED;
    if (http_req_header(req, "if-match", &v))
        *out = s3__if_match(req->arena, v);
    return 0;
}
