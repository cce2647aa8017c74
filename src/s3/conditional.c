/*
 * s3/conditional.c: conditional writes (If-None-Match: * to create only, If-Match: "<etag>" to
 * replace only that version) on PutObject, CompleteMultipartUpload and CopyObject, as S3 has
 * them since 2024, and conditional deletes (If-Match on DeleteObject, <ETag> in DeleteObjects,
 * since 2025). The condition travels to the object layer, which checks it under the key's lock at
 * the commit or the delete (objlayer_cond_fn), so two writers racing on the same key cannot both
 * win, and a delete cannot remove a version that replaced the one the condition names.
 */
#include "util/base.h"

#include "s3/internal.h"
#include "util/err.h"

struct write_cond {
    struct slice if_match;      /* SLICE_NULL when absent */
    bool if_none_match_star;
};

/* True if `etag` (hex, no quotes) is in the If-Match list ("*", quoted or bare ETags). */
static bool
etag_matches(struct slice list, const char *etag)
{
    struct slice rest = list, one;

    while (rest.ptr) {
        rest = slice_split(rest, ',', &one);
        one = slice_trim(one);
        if (one.len >= 2 && one.ptr[0] == '"' && one.ptr[one.len - 1] == '"')
            one = slice_make(one.ptr + 1, one.len - 2);
        if (slice_eq_cstr(one, "*") || slice_eq_cstr(one, etag))
            return true;
    }
    return false;
}

static int
write_cond_check(void *arg, const struct obj_meta *cur)
{
    const struct write_cond *c = arg;

    if (c->if_none_match_star && cur)
        return -ERR_PRECONDITION_FAILED;
    if (c->if_match.ptr) {
        if (!cur)
            return -ERR_KEY_NOT_FOUND;
        if (!etag_matches(c->if_match, cur->etag))
            return -ERR_PRECONDITION_FAILED;
    }
    return 0;
}

int
s3__write_conditions(struct s3_call *call, objlayer_cond_fn **fn, void **arg)
{
    struct http_req *req = call->req;
    struct write_cond *c;
    struct slice im = SLICE_NULL, inm = SLICE_NULL;
    bool has_im = http_req_header(req, "if-match", &im);
    bool has_inm = http_req_header(req, "if-none-match", &inm);

    *fn = NULL;
    *arg = NULL;
    if (!has_im && !has_inm)
        return 0;
    if (has_inm && !slice_eq_cstr(slice_trim(inm), "*"))
        return -ERR_NOT_IMPLEMENTED; /* S3 takes only "*" on writes */
    c = arena_zalloc(req->arena, sizeof(*c));
    c->if_match = has_im ? slice_trim(im) : SLICE_NULL;
    c->if_none_match_star = has_inm;
    *fn = write_cond_check;
    *arg = c;
    return 0;
}

void
s3__if_match(struct arena *a, struct slice etags, objlayer_cond_fn **fn, void **arg)
{
    struct write_cond *c = arena_zalloc(a, sizeof(*c));

    c->if_match = slice_trim(etags);
    *fn = write_cond_check;
    *arg = c;
}

int
s3__delete_conditions(struct s3_call *call, objlayer_cond_fn **fn, void **arg)
{
    struct http_req *req = call->req;
    struct slice v;

    *fn = NULL;
    *arg = NULL;
    /* S3 has these two for directory buckets only */
    if (http_req_header(req, "x-amz-if-match-last-modified-time", &v) ||
        http_req_header(req, "x-amz-if-match-size", &v))
        return -ERR_NOT_IMPLEMENTED;
    if (http_req_header(req, "if-match", &v))
        s3__if_match(req->arena, v, fn, arg);
    return 0;
}
