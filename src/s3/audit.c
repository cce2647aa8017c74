/*
 * s3/audit.c: an audit record per request (obs/audit.h) when the request
 * completes, and the client's address as the audit and aws:SourceIp see it.
 *
 * The client's address is the one http/ found (http_req.client): the
 * peer's, unless the peer is a trusted proxy (--trusted-proxies).
 *
 * Health checks are not audited unless asked (--audit-health): probes every
 * few seconds would drown the requests.
 */
#include "util/base.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

#include "obs/audit.h"
#include "s3/internal.h"
#include "util/clock.h"
#include "util/err.h"

const char *
s3__client_addr(struct s3_call *call, const char **forwarded)
{
    if (forwarded)
        *forwarded = call->req->forwarded;
    return call->req->client;
}

/* ---- records ---- */

const char *
s3_op_class(enum s3_op op)
{
    switch (op) {
    case S3_OP_GET_OBJECT:
    case S3_OP_HEAD_OBJECT:
    case S3_OP_HEAD_BUCKET:
    case S3_OP_GET_BUCKET_LOCATION:
    case S3_OP_GET_OBJECT_TAGGING:
    case S3_OP_GET_BUCKET_TAGGING:
    case S3_OP_GET_BUCKET_CORS:
    case S3_OP_CORS_PREFLIGHT:
    case S3_OP_GET_OBJECT_ATTRIBUTES:
    case S3_OP_GET_BUCKET_POLICY:
    case S3_OP_GET_BUCKET_POLICY_STATUS:
        return "read";
    case S3_OP_LIST_BUCKETS:
    case S3_OP_LIST_OBJECTS:
    case S3_OP_LIST_OBJECTS_V2:
    case S3_OP_LIST_PARTS:
    case S3_OP_LIST_MULTIPART_UPLOADS:
        return "list";
    case S3_OP_DELETE_OBJECT:
    case S3_OP_DELETE_OBJECTS:
    case S3_OP_DELETE_BUCKET:
    case S3_OP_ABORT_MULTIPART_UPLOAD:
    case S3_OP_DELETE_OBJECT_TAGGING:
    case S3_OP_DELETE_BUCKET_TAGGING:
    case S3_OP_DELETE_BUCKET_CORS:
    case S3_OP_DELETE_BUCKET_POLICY:
        return "delete";
    case S3_OP_PUT_OBJECT:
    case S3_OP_COPY_OBJECT:
    case S3_OP_POST_OBJECT:
    case S3_OP_CREATE_BUCKET:
    case S3_OP_CREATE_MULTIPART_UPLOAD:
    case S3_OP_UPLOAD_PART:
    case S3_OP_UPLOAD_PART_COPY:
    case S3_OP_COMPLETE_MULTIPART_UPLOAD:
    case S3_OP_PUT_OBJECT_TAGGING:
    case S3_OP_PUT_BUCKET_TAGGING:
    case S3_OP_PUT_BUCKET_CORS:
    case S3_OP_PUT_BUCKET_POLICY:
        return "write";
    case S3_OP_HEALTH:
        return "health";
    default:
        return "admin"; /* admin, metrics, IAM and STS, and refused requests */
    }
}

void
s3__audit_done(struct s3_call *call, const struct http_done *d)
{
    struct s3 *s = call->s3;
    struct http_req *req = call->req;
    struct audit_record r = { 0 };
    struct slice ua;
    const char *fwd;

    if (!s->audit || (call->op == S3_OP_HEALTH && !s->audit_health))
        return;
    r.time_ns = clock_now_ns() - (clock_mono_ns() - req->start_ns);
    r.request_id = req->id;
    r.api = s3_op_name(call->op);
    r.class = s3_op_class(call->op);
    r.bucket = call->bucket;
    r.object = call->key;
    r.status = d->status;
    if (d->status >= 300 && call->err)
        r.error_code = call->err_code ? call->err_code : s3_error_lookup(call->err)->code;
    r.bytes_in = d->bytes_in;
    r.bytes_out = d->bytes_out;
    r.duration_ns = d->duration_ns;
    r.ttfb_ns = d->ttfb_ns;
    r.remote = s3__client_addr(call, &fwd);
    r.forwarded = fwd;
    if (http_req_header(req, "user-agent", &ua))
        r.user_agent = arena_slicedup(req->arena, slice_trim(ua));
    r.access_key = call->id && call->id->type != IAM_ANONYMOUS && call->id->access_key[0]
                       ? call->id->access_key
                       : NULL;
    audit_submit(s->audit, &r);
}
