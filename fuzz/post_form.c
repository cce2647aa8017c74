/*
 * fuzz/post_form.c: the browser POST upload parsers: the streaming
 * multipart/form-data parser (s3/post_form.h) and the POST policy
 * (auth/post_policy.h).
 *
 * Input: byte 0 picks the mode and the piece size.
 *   even: form. Byte 1 is the boundary length (1 + b % 70), then the
 *         boundary, then the body. The body is parsed whole and again in
 *         pieces of 1 + (byte 0 >> 1) bytes: both must give the same events
 *         (data concatenated per part) and the same result, and no DATA
 *         event may be empty.
 *   odd:  policy. The rest is a policy JSON document (base64-encoded here),
 *         parsed and checked against a small fixed form; a failure must be
 *         one of the documented errors.
 */
#include "util/base.h"

#include "auth/post_policy.h"
#include "s3/post_form.h"
#include "util/buf.h"
#include "util/enc.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
record(void *arg, enum post_form_event ev, const struct post_form_part *part, struct slice d)
{
    struct buf *out = arg;

    switch (ev) {
    case POST_FORM_PART_BEGIN:
        buf_addch(out, '[');
        buf_addslice(out, part->name);
        buf_addch(out, '|');
        buf_addslice(out, part->filename);
        buf_addch(out, part->filename.ptr ? '+' : '-');
        buf_addslice(out, part->content_type);
        buf_addch(out, ']');
        break;
    case POST_FORM_DATA:
        BUG_ON(d.len == 0);
        buf_addslice(out, d);
        break;
    case POST_FORM_PART_END:
        buf_addch(out, '/');
        break;
    case POST_FORM_END:
        buf_addch(out, '$');
        break;
    }
    return 0;
}

static int
parse(struct slice boundary, const uint8_t *body, size_t n, size_t piece, struct buf *out)
{
    struct post_form *f = post_form_new(boundary, record, out);
    size_t pos = 0, k;
    int rc = 0;

    while (pos < n && rc == 0) {
        k = MIN(piece, n - pos);
        rc = post_form_feed(f, body + pos, k);
        pos += k;
    }
    rc = post_form_finish(f);
    BUG_ON(rc != 0 && rc != -ERR_MALFORMED_POST);
    BUG_ON((rc == 0) != post_form_is_done(f));
    post_form_free(f);
    return rc;
}

static void
fuzz_form(const uint8_t *data, size_t size)
{
    struct buf whole = BUF_INIT, pieces = BUF_INIT;
    size_t blen;
    struct slice boundary;
    int rc1, rc2;

    if (size < 2)
        return;
    blen = 1 + data[1] % POST_FORM_MAX_BOUNDARY;
    if (size < 2 + blen)
        return;
    boundary = slice_make(data + 2, blen);
    if (memchr(boundary.ptr, '\r', blen)) /* post_form_boundary refuses these */
        return;
    rc1 = parse(boundary, data + 2 + blen, size - 2 - blen, SIZE_MAX, &whole);
    rc2 = parse(boundary, data + 2 + blen, size - 2 - blen, 1 + (data[0] >> 1), &pieces);
    BUG_ON(rc1 != rc2);
    BUG_ON(whole.len != pieces.len || memcmp(whole.ptr, pieces.ptr, whole.len) != 0);
    buf_release(&whole);
    buf_release(&pieces);
}

static void
fuzz_policy(const uint8_t *data, size_t size)
{
    static const struct post_field form[] = {
        { SLICE_LIT("key"), SLICE_LIT("user/a.txt") },
        { SLICE_LIT("Content-Type"), SLICE_LIT("text/plain, image/png") },
        { SLICE_LIT("x-amz-meta-a"), SLICE_LIT("1") },
        { SLICE_LIT("bucket"), SLICE_LIT("b") },
        { SLICE_LIT("policy"), SLICE_LIT("") },
    };
    struct post_policy *p = NULL;
    struct buf b64 = BUF_INIT, msg = BUF_INIT;
    uint64_t min, max;
    int rc;

    base64_encode(&b64, data + 1, size - 1);
    rc = post_policy_parse(buf_slice(&b64), &p, &msg);
    BUG_ON(rc != 0 && rc != -ERR_MALFORMED_POST);
    if (rc == 0) {
        if (post_policy_length_range(p, &min, &max))
            BUG_ON(min > max);
        rc = post_policy_check(p, "b", form, ARRAY_SIZE(form), 1700000000, &msg);
        BUG_ON(rc != 0 && rc != -ERR_INVALID_POLICY);
        post_policy_free(p);
    }
    buf_release(&b64);
    buf_release(&msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_policy(data, size);
    else
        fuzz_form(data, size);
    return 0;
}
