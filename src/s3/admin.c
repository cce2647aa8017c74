/*
 * s3/admin.c: Basalt's admin API under /basalt/admin/v1/, signed with SigV4
 * like any S3 request (root credentials only, for now):
 *
 *   POST /basalt/admin/v1/heal?bucket=B&prefix=P   heal on demand, JSON report
 *   GET  /basalt/admin/v1/info                     layout and drives, JSON
 *
 * Errors use the S3 XML error document, like every other endpoint.
 */
#include "util/base.h"

#include <jansson.h>

#include "s3/internal.h"
#include "util/err.h"

static void
send_json(struct s3_call *call, json_t *doc)
{
    struct buf body = BUF_INIT;
    char *text = json_dumps(doc, JSON_COMPACT);

    BUG_ON(!text);
    buf_adds(&body, text);
    buf_addch(&body, '\n');
    free(text);
    json_decref(doc);
    http_resp_header(call->req, "Content-Type", "application/json");
    http_resp_buf(call->req, 200, &body);
    buf_release(&body);
}

void
s3__admin_heal(struct s3_call *call)
{
    struct heal_report r = { 0 };
    struct slice bucket = SLICE_NULL, prefix = SLICE_NULL;
    const char *b = NULL;
    int rc;

    if (http_req_param(call->req, "bucket", &bucket) && bucket.len)
        b = arena_slicedup(call->req->arena, bucket);
    http_req_param(call->req, "prefix", &prefix);
    if (!b && prefix.len) {
        s3__send_error(call, -ERR_INVALID_ARGUMENT, "A prefix needs a bucket.");
        return;
    }
    rc = objlayer_heal(call->s3->ol, &call->ctx, b, prefix, &r);
    if (rc < 0) {
        s3__send_error(call, rc == -ERR_NOT_FOUND ? -ERR_BUCKET_NOT_FOUND : rc, NULL);
        return;
    }
    send_json(
        call,
        json_pack("{sI sI sI sI sI sI sI sI sI sI}", "buckets_scanned",
                  (json_int_t)r.buckets_scanned, "buckets_healed", (json_int_t)r.buckets_healed,
                  "objects_scanned", (json_int_t)r.objects_scanned, "objects_healed",
                  (json_int_t)r.objects_healed, "objects_failed", (json_int_t)r.objects_failed,
                  "objects_dangling_removed", (json_int_t)r.objects_dangling_removed,
                  "shards_missing", (json_int_t)r.shards_missing, "shards_corrupt",
                  (json_int_t)r.shards_corrupt, "shards_fixed", (json_int_t)r.shards_fixed,
                  "drives_formatted", (json_int_t)r.drives_formatted));
}

void
s3__admin_info(struct s3_call *call)
{
    struct objlayer_drive_state *st;
    struct buf layout = BUF_INIT;
    json_t *doc, *drives;
    size_t n, i;

    n = objlayer_drives(call->s3->ol, NULL, 0);
    st = arena_zalloc(call->req->arena, (n + 1) * sizeof(*st));
    n = MIN(n, objlayer_drives(call->s3->ol, st, n));
    objlayer_describe(call->s3->ol, &layout);
    drives = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(drives, json_pack("{ss sb sI sI sI}", "endpoint",
                                                st[i].endpoint ? st[i].endpoint : "", "online",
                                                (int)st[i].online, "set", (json_int_t)st[i].set,
                                                "total_bytes", (json_int_t)st[i].total_bytes,
                                                "free_bytes", (json_int_t)st[i].free_bytes));
    doc =
        json_pack("{ss so ss}", "layout", layout.ptr, "drives", drives, "region", call->s3->region);
    buf_release(&layout);
    send_json(call, doc);
}
