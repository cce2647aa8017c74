/*
 * s3/error.c: the S3 error table (errors.def) and the XML error document:
 *
 *   <Error><Code>NoSuchKey</Code><Message>...</Message><Key>k</Key>
 *   <BucketName>b</BucketName><Resource>/b/k</Resource>
 *   <RequestId>...</RequestId><HostId>...</HostId></Error>
 *
 * HEAD responses carry the status and headers only.
 */
#include "util/base.h"

#include "s3/internal.h"
#include "s3/xml.h"
#include "obs/log.h"
#include "util/err.h"

/* Indexed by enum err: errors.def lists every symbol (checked by a unit test). */
static const struct s3_error s3_errors[ERR__COUNT] = {
#define S3ERR(sym, status, code, msg) [ERR_##sym] = { status, code, msg },
#include "s3/errors.def"
#undef S3ERR
};

/*
 * Build check (STYLE 2.4): one enumerator per S3ERR line, so a symbol
 * mapped twice fails to compile, an unknown symbol fails in the table above,
 * and a missing one fails the count below.
 */
enum s3err_check {
#define S3ERR(sym, status, code, msg) S3ERR_CHECK_##sym,
#include "s3/errors.def"
#undef S3ERR
    S3ERR_CHECK__COUNT
};
_Static_assert((int)S3ERR_CHECK__COUNT == (int)ERR__COUNT,
               "s3/errors.def must map every symbol of util/errors.def");

static const struct s3_error s3_error_unknown = { 500, "InternalError",
                                                  "We encountered an internal error, please try "
                                                  "again." };

const struct s3_error *
s3_error_lookup(int err)
{
    if (err < 0)
        err = -err;
    if (err >= ERR__COUNT || !s3_errors[err].code)
        return &s3_error_unknown;
    return &s3_errors[err];
}

void
s3_error_xml(struct buf *out, const struct s3_error *e, const char *code, const char *msg,
             const char *resource, const char *bucket, const char *key, const char *request_id)
{
    xml_declaration(out);
    xml_open(out, "Error");
    xml_elem_str(out, "Code", code ? code : e->code);
    xml_elem_str(out, "Message", msg ? msg : e->message);
    /* names that are not UTF-8 (from a header, a form) are left out: the XML must stay UTF-8 */
    if (key && s3_is_valid_utf8(slice_cstr(key)))
        xml_elem_str(out, "Key", key);
    if (bucket && s3_is_valid_utf8(slice_cstr(bucket)))
        xml_elem_str(out, "BucketName", bucket);
    xml_elem_str(out, "Resource", resource);
    xml_elem_str(out, "RequestId", request_id);
    xml_elem_str(out, "HostId", request_id);
    xml_close(out, "Error");
}

void
s3__send_error_code(struct s3_call *call, int err, const char *code, const char *msg)
{
    const struct s3_error *e = s3_error_lookup(err);
    struct http_req *req = call->req;
    struct buf body = BUF_INIT;
    char *resource = arena_slicedup(req->arena, req->path);

    if (!http_resp_is_set(req)) { /* the answer (a later one is ignored), for the metrics */
        call->err = err < 0 ? err : -err;
        call->err_code = code;
    }

    /* Server-side failures are worth a line; 501 and 503 SlowDown (busy) are expected. */
    if (e->status >= 500 && err != -ERR_NOT_IMPLEMENTED && err != -ERR_BUSY)
        log_warn(
            &(struct log_ctx){ .request_id = req->id, .bucket = call->bucket, .key = call->key },
            "%s %s: %s", s3_op_name(call->op), err_name(err), msg ? msg : e->message);
    /* the IAM and STS query APIs answer in their own ErrorResponse document */
    if (call->op == S3_OP_AWS_QUERY) {
        s3__aws_query_error(call, err, code, msg);
        return;
    }
    if (req->is_head) {
        http_resp_empty(req, e->status);
        return;
    }
    s3_error_xml(&body, e, code, msg, resource, call->bucket, call->key, req->id);
    http_resp_header(req, "Content-Type", "application/xml");
    http_resp_buf(req, e->status, &body);
    buf_release(&body);
}

void
s3__send_error(struct s3_call *call, int err, const char *msg)
{
    s3__send_error_code(call, err, NULL, msg);
}

void
s3__send_xml(struct s3_call *call, struct buf *body)
{
    http_resp_header(call->req, "Content-Type", "application/xml");
    http_resp_buf(call->req, 200, body);
}
