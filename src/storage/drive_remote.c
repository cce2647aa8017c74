/*
 * storage/drive_remote.c: a drive of another node (DESIGN.md "A cluster"),
 * behind the ops table of internal.h: every operation of drive.h is a call
 * over node-to-node RPC (cluster/rpc.h) to the routes that node serves for
 * its drives (drive_serve.c), naming the drive by its folder there.
 *
 *   small calls      POST /drive/<op>?d=<folder>&...   (wire.h bodies)
 *   a shard write    one streamed upload per shard file (create .. append
 *                    .. finish), not one call per block
 *   a shard read     one streamed download per shard file, from an offset;
 *                    read on as long as reads follow each other, started
 *                    again at another offset when they do not
 *
 * Deadlines: each small call ends within DRIVE_REMOTE_CALL_NS (or the
 * request's deadline, if sooner: util/reqctx.h), each step of a stream
 * within DRIVE_REMOTE_STEP_NS. A call that cannot reach the node (down,
 * hung, cut off: the RPC layer then fails later calls at once) takes the
 * drive offline; drive_check() asks the node again (the drive monitor calls
 * it every few seconds) and brings the drive back once the node answers
 * that its drive is fine. The node's own verdict on its drive (its drive
 * went offline, a key not found) comes back as that error.
 *
 * Not here: reset and reopen (a node formats back and takes back only its
 * own drives, DESIGN.md "Drives").
 */
#include "util/base.h"

#include "storage/drive.h"

#include <limits.h>
#include <stdatomic.h>

#include "cluster/rpc.h"
#include "obs/log.h"
#include "storage/internal.h"
#include "storage/wire.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/reqctx.h"

#define DRIVE_REMOTE_CALL_NS (5 * 1000000000LL)  /* a small call */
#define DRIVE_REMOTE_STEP_NS (15 * 1000000000LL) /* each step of a stream */
#define SHARD_SIZE_HEADER "X-Basalt-Shard-Size"
/* Rows per listing call (drive_serve.c answers at most this many). */
#define DRIVE_REMOTE_LIST_PAGE 1000
/* Keys per /drive/meta/delete-many call (drive_serve.c takes at most this many). */
#define DRIVE_REMOTE_DELETE_BATCH 1000

/* After a node answered that it has no batched routes: single calls for this long. */
#define DRIVE_REMOTE_NO_BATCH_NS (60 * 1000000000LL)

struct drive_remote {
    struct drive base;
    struct rpc_peer *peer; /* borrowed: the client owns it */
    char *folder;          /* the drive's folder on its node */
    /* CLOCK_MONOTONIC: until then, its node is taken for one without the batched routes */
    _Atomic int64_t no_batch_until_ns;
};

struct remote_writer {
    struct shard_writer base;
    struct rpc_upload *up;
};

struct remote_reader {
    struct shard_reader base;
    struct rpc_download *dl; /* the stream in progress, or NULL */
    uint64_t pos;            /* offset of the stream's next byte */
    uint64_t size;           /* of the shard file */
};

static const struct drive_ops remote_ops;

static struct drive_remote *
to_remote(struct drive *d)
{
    BUG_ON(d->ops != &remote_ops);
    return container_of(d, struct drive_remote, base);
}

struct drive *
drive_remote_new(struct rpc_peer *peer, const char *endpoint, const char *folder)
{
    struct drive_remote *rd = xcalloc(1, sizeof(*rd));

    drive__init(&rd->base, &remote_ops, endpoint);
    rd->peer = peer;
    rd->folder = xstrdup(folder);
    return &rd->base;
}

static void
remote_close(struct drive *d)
{
    struct drive_remote *rd = to_remote(d);

    drive__release(d);
    free(rd->folder);
    free(rd);
}

/* A query that starts with the drive's folder. */
static void
query_init(struct drive_remote *rd, struct buf *q)
{
    buf_init(q, 0);
    rpc_query_add(q, "d", slice_cstr(rd->folder));
}

static void
query_u64(struct buf *q, const char *name, uint64_t v)
{
    char n[24];

    snprintf(n, sizeof(n), "%llu", (unsigned long long)v);
    rpc_query_add(q, name, slice_cstr(n));
}

static struct rpc_call
call_of(const char *path, const struct buf *q, struct slice body, int64_t max_ns)
{
    const struct reqctx *ctx = reqctx_current();

    return (struct rpc_call){
        .method = "POST",
        .path = path,
        .query = q->ptr,
        .body = body,
        .deadline_ns = reqctx_deadline(ctx, max_ns),
        .step_timeout_ns = DRIVE_REMOTE_STEP_NS,
        .request_id = ctx && ctx->id[0] ? ctx->id : NULL,
    };
}

/*
 * The drive's answer to a call: 0, its node's error, or -ERR_OFFLINE when
 * the node could not be reached or refused us (the drive then goes offline
 * until drive_check() finds it again).
 */
static int
answer(struct drive_remote *rd, int rc, const struct rpc_resp *resp)
{
    /* too large, or a route an older node does not have: refused, not unreachable */
    if (rc < 0 && rc != -ERR_TOO_LARGE && rc != -ERR_NOT_IMPLEMENTED) {
        drive_set_offline(&rd->base, rc);
        return -ERR_OFFLINE;
    }
    if (rc < 0)
        return rc;
    if (resp->err)
        rc = resp->err < 0 ? resp->err : -resp->err;
    else if (resp->status != 200)
        rc = -ERR_IO;
    if (rc == -ERR_OFFLINE)
        drive_set_offline(&rd->base, rc);
    return rc;
}

/* A small call; on success the answer's body is appended to `out` (if non-NULL). */
static int
call(struct drive_remote *rd, const char *path, struct buf *q, struct slice body, struct buf *out)
{
    struct rpc_call c = call_of(path, q, body, DRIVE_REMOTE_CALL_NS);
    struct rpc_resp resp = RPC_RESP_INIT;
    int rc = answer(rd, rpc_call(rd->peer, &c, &resp), &resp);

    if (rc == 0 && out)
        buf_addslice(out, buf_slice(&resp.body));
    rpc_resp_release(&resp);
    buf_release(q);
    return rc;
}

/* ---- check, info, format ---- */

static int
remote_check(struct drive *d)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q;
    int rc;

    query_init(rd, &q);
    rc = call(rd, "/drive/check", &q, SLICE_NULL, NULL);
    if (rc == 0) {
        drive__set_online(d);
        return 0;
    }
    drive_set_offline(d, rc);
    return -ERR_OFFLINE; /* empty or unmounted there: the business of the node that owns it */
}

static int
remote_reset(struct drive *d)
{
    return -ERR_NOT_IMPLEMENTED; /* only the node that owns a drive resets it */
}

static int
remote_info(struct drive *d, struct drive_info *out)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q, body = BUF_INIT;
    struct wire_reader r;
    int rc;

    query_init(rd, &q);
    rc = call(rd, "/drive/info", &q, SLICE_NULL, &body);
    if (rc == 0) {
        wire_reader_init(&r, buf_slice(&body));
        out->total_bytes = wire_get_u64(&r);
        out->free_bytes = wire_get_u64(&r);
        out->mount_point = wire_get_u8(&r);
        out->fs_id = wire_get_u64(&r);
        out->parent_fs_id = wire_get_u64(&r);
        if (!wire_ok(&r, true))
            rc = -ERR_IO;
    }
    buf_release(&body);
    return rc;
}

static int
remote_format_read(struct drive *d, struct buf *out)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q;

    query_init(rd, &q);
    return call(rd, "/drive/format/read", &q, SLICE_NULL, out);
}

static int
remote_format_write(struct drive *d, struct slice json)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q;

    query_init(rd, &q);
    return call(rd, "/drive/format/write", &q, json, NULL);
}

/* ---- buckets ---- */

static int
remote_bucket_make(struct drive *d, const char *bucket, int64_t created_ns)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q;

    query_init(rd, &q);
    rpc_query_add(&q, "b", slice_cstr(bucket));
    query_u64(&q, "created", (uint64_t)created_ns);
    return call(rd, "/drive/bucket/make", &q, SLICE_NULL, NULL);
}

static int
remote_bucket_delete(struct drive *d, const char *bucket, bool force)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q;

    query_init(rd, &q);
    rpc_query_add(&q, "b", slice_cstr(bucket));
    query_u64(&q, "force", force);
    return call(rd, "/drive/bucket/delete", &q, SLICE_NULL, NULL);
}

static int
remote_bucket_stat(struct drive *d, const char *bucket, int64_t *created_ns)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q, body = BUF_INIT;
    struct wire_reader r;
    int64_t created;
    int rc;

    query_init(rd, &q);
    rpc_query_add(&q, "b", slice_cstr(bucket));
    rc = call(rd, "/drive/bucket/stat", &q, SLICE_NULL, &body);
    if (rc == 0) {
        wire_reader_init(&r, buf_slice(&body));
        created = (int64_t)wire_get_u64(&r);
        if (!wire_ok(&r, true))
            rc = -ERR_IO;
        else if (created_ns)
            *created_ns = created;
    }
    buf_release(&body);
    return rc;
}

static int
remote_bucket_list(struct drive *d, struct bucket_ent **out, size_t *n)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q, body = BUF_INIT;
    struct bucket_ent *l = NULL;
    struct wire_reader r;
    uint32_t count, i;
    int rc;

    query_init(rd, &q);
    rc = call(rd, "/drive/bucket/list", &q, SLICE_NULL, &body);
    if (rc < 0)
        goto out;
    wire_reader_init(&r, buf_slice(&body));
    count = wire_get_u32(&r);
    if (count > body.len / 12) { /* each entry takes at least 12 bytes */
        rc = -ERR_IO;
        goto out;
    }
    l = xcalloc(count ? count : 1, sizeof(*l));
    for (i = 0; i < count && wire_ok(&r, false); i++) {
        struct slice name = wire_get_bytes(&r);

        l[i].created_ns = (int64_t)wire_get_u64(&r);
        if (name.len >= sizeof(l[i].name))
            r.failed = true;
        else
            memcpy(l[i].name, name.ptr, name.len);
    }
    if (!wire_ok(&r, true)) {
        free(l);
        rc = -ERR_IO;
        goto out;
    }
    *out = l;
    *n = count;
out:
    buf_release(&body);
    return rc;
}

/* ---- shard files ---- */

static int
remote_shard_create(struct drive *d, const char *vid, unsigned part, struct shard_writer **out)
{
    struct drive_remote *rd = to_remote(d);
    struct remote_writer *w;
    struct rpc_upload *up;
    struct rpc_call c;
    struct buf q;
    int rc;

    query_init(rd, &q);
    rpc_query_add(&q, "vid", slice_cstr(vid));
    query_u64(&q, "part", part);
    c = call_of("/drive/shard/write", &q, SLICE_NULL, DRIVE_REMOTE_CALL_NS);
    rc = rpc_upload_begin(rd->peer, &c, &up);
    buf_release(&q);
    if (rc < 0)
        return answer(rd, rc, NULL);
    w = xcalloc(1, sizeof(*w));
    w->base.drive = d;
    w->up = up;
    *out = &w->base;
    return 0;
}

static int
remote_shard_append(struct shard_writer *sw, const void *p, size_t n)
{
    struct remote_writer *w = container_of(sw, struct remote_writer, base);
    int rc = rpc_upload_write(w->up, p, n);

    return rc < 0 ? answer(to_remote(sw->drive), rc, NULL) : 0;
}

static int
remote_shard_finish(struct shard_writer *sw)
{
    struct remote_writer *w = container_of(sw, struct remote_writer, base);
    struct drive_remote *rd = to_remote(sw->drive);
    struct rpc_resp resp = RPC_RESP_INIT;
    int rc = answer(rd, rpc_upload_finish(w->up, &resp), &resp);

    rpc_resp_release(&resp);
    free(w);
    return rc;
}

static void
remote_shard_abort(struct shard_writer *sw)
{
    struct remote_writer *w = container_of(sw, struct remote_writer, base);

    rpc_upload_abort(w->up);
    free(w);
}

static ssize_t
remote_shard_read(struct drive *d, const char *vid, unsigned part, uint64_t off, void *p, size_t n)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q, body = BUF_INIT;
    int rc;

    if (n > RPC_MAX_RESP_BODY)
        n = RPC_MAX_RESP_BODY; /* a short read: the caller asks again for the rest */
    query_init(rd, &q);
    rpc_query_add(&q, "vid", slice_cstr(vid));
    query_u64(&q, "part", part);
    query_u64(&q, "off", off);
    query_u64(&q, "n", n);
    rc = call(rd, "/drive/shard/read", &q, SLICE_NULL, &body);
    if (rc == 0 && body.len > n)
        rc = -ERR_IO;
    if (rc == 0)
        memcpy(p, body.ptr, body.len);
    n = body.len;
    buf_release(&body);
    return rc < 0 ? rc : (ssize_t)n;
}

/* Starts the download of shard file `r` at `off`: the stream holds the file on its node. */
static int
reader_start(struct remote_reader *r, uint64_t off)
{
    struct drive_remote *rd = to_remote(r->base.drive);
    struct rpc_resp head = RPC_RESP_INIT;
    struct slice v;
    struct rpc_call c;
    struct buf q;
    uint64_t size;
    int rc;

    query_init(rd, &q);
    rpc_query_add(&q, "vid", slice_cstr(r->base.vid));
    query_u64(&q, "part", r->base.part);
    query_u64(&q, "off", off);
    c = call_of("/drive/shard/open", &q, SLICE_NULL, DRIVE_REMOTE_CALL_NS);
    rc = rpc_download_begin(rd->peer, &c, &r->dl, &head);
    buf_release(&q);
    if (rc < 0) {
        r->dl = NULL;
        return answer(rd, rc, NULL);
    }
    rc = answer(rd, 0, &head);
    if (rc == 0 && (!rpc_resp_header(&head, SHARD_SIZE_HEADER, &v) || parse_u64(v, &size) < 0))
        rc = -ERR_IO;
    rpc_resp_release(&head);
    if (rc < 0) {
        rpc_download_close(r->dl);
        r->dl = NULL;
        return rc;
    }
    r->size = size;
    r->pos = off;
    return 0;
}

static int
remote_shard_open(struct drive *d, const char *vid, unsigned part, struct shard_reader **out)
{
    struct remote_reader *r = xcalloc(1, sizeof(*r));
    int rc;

    r->base.drive = d;
    snprintf(r->base.vid, sizeof(r->base.vid), "%s", vid);
    r->base.part = part;
    rc = reader_start(r, 0);
    if (rc < 0) {
        free(r);
        return rc;
    }
    *out = &r->base;
    return 0;
}

/*
 * Closes the stream; read to its end first when every byte of the file was
 * read already (only the end of the answer is left): a stream closed before
 * its end takes its connection with it, one read to the end goes back to the
 * peer's pool.
 */
static void
stream_close(struct remote_reader *r)
{
    char rest[16];

    if (!r->dl)
        return;
    if (r->pos >= r->size)
        while (rpc_download_read(r->dl, rest, sizeof(rest)) > 0)
            ;
    rpc_download_close(r->dl);
    r->dl = NULL;
}

static ssize_t
remote_shard_pread(struct shard_reader *sr, uint64_t off, void *p, size_t n)
{
    struct remote_reader *r = container_of(sr, struct remote_reader, base);
    size_t done = 0;
    ssize_t got;
    int rc;

    if (!r->dl || r->pos != off) {
        stream_close(r);
        if (off >= r->size)
            return 0;
        rc = reader_start(r, off);
        if (rc < 0)
            return rc;
    }
    while (done < n) {
        got = rpc_download_read(r->dl, (char *)p + done, n - done);
        if (got < 0) {
            rpc_download_close(r->dl);
            r->dl = NULL;
            return answer(to_remote(sr->drive), (int)got, NULL);
        }
        if (got == 0)
            break;
        done += (size_t)got;
        r->pos += (uint64_t)got;
    }
    return (ssize_t)done;
}

static void
remote_shard_close(struct shard_reader *sr)
{
    struct remote_reader *r = container_of(sr, struct remote_reader, base);

    stream_close(r);
    free(r);
}

static int
remote_reader_size(struct shard_reader *sr, uint64_t *size)
{
    *size = container_of(sr, struct remote_reader, base)->size;
    return 0;
}

static int
remote_shard_size(struct drive *d, const char *vid, unsigned part, uint64_t *size)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q, body = BUF_INIT;
    struct wire_reader r;
    int rc;

    query_init(rd, &q);
    rpc_query_add(&q, "vid", slice_cstr(vid));
    query_u64(&q, "part", part);
    rc = call(rd, "/drive/shard/size", &q, SLICE_NULL, &body);
    if (rc == 0) {
        wire_reader_init(&r, buf_slice(&body));
        *size = wire_get_u64(&r);
        if (!wire_ok(&r, true))
            rc = -ERR_IO;
    }
    buf_release(&body);
    return rc;
}

static int
remote_shard_link(struct drive *d, const char *dst_vid, const struct drive_link *links, size_t n)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q, body = BUF_INIT;
    size_t i;
    int rc;

    query_init(rd, &q);
    rpc_query_add(&q, "vid", slice_cstr(dst_vid));
    wire_put_u32(&body, (uint32_t)n);
    for (i = 0; i < n; i++) {
        wire_put_bytes(&body, slice_cstr(links[i].src_vid));
        wire_put_u32(&body, links[i].src_part);
        wire_put_u32(&body, links[i].dst_part);
    }
    rc = call(rd, "/drive/shard/link", &q, buf_slice(&body), NULL);
    buf_release(&body);
    return rc;
}

static int
remote_tmp_remove(struct drive *d, const char *vid)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q;

    query_init(rd, &q);
    rpc_query_add(&q, "vid", slice_cstr(vid));
    return call(rd, "/drive/tmp/remove", &q, SLICE_NULL, NULL);
}

/* ---- records ---- */

static void
query_key(struct drive_remote *rd, struct buf *q, const char *bucket, const char *key)
{
    query_init(rd, q);
    rpc_query_add(q, "b", slice_cstr(bucket));
    rpc_query_add(q, "k", slice_cstr(key));
}

static int
remote_meta_commit(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q, rec = BUF_INIT;
    int rc;

    query_key(rd, &q, bucket, key);
    objmeta_encode(m, &rec);
    rc = call(rd, "/drive/meta/commit", &q, buf_slice(&rec), NULL);
    buf_release(&rec);
    return rc;
}

/*
 * POST /drive/meta/replace: the record as for a commit; the answer (200) is
 * u8 refused (a newer version is there: -ERR_EXISTS), u8 had_prev, and the
 * previous record's bytes if had_prev. A node of an older version has no
 * such route: -ERR_NOT_IMPLEMENTED, and drive.c reads, then commits.
 */
static int
remote_meta_replace(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m,
                    struct obj_meta *prev, bool *had_prev)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q, rec = BUF_INIT, ans = BUF_INIT;
    struct wire_reader r;
    struct slice pr = SLICE_NULL;
    bool refused, had;
    int rc;

    query_key(rd, &q, bucket, key);
    objmeta_encode(m, &rec);
    rc = call(rd, "/drive/meta/replace", &q, buf_slice(&rec), &ans);
    if (rc < 0)
        goto out;
    wire_reader_init(&r, buf_slice(&ans));
    refused = wire_get_u8(&r) != 0;
    had = wire_get_u8(&r) != 0;
    if (had)
        pr = wire_get_bytes(&r);
    if (!wire_ok(&r, true)) {
        rc = -ERR_IO;
        goto out;
    }
    /* a record that failed its checksum on the way counts as none, as on the drive */
    *had_prev = had && objmeta_decode(pr, prev) == 0;
    rc = refused ? -ERR_EXISTS : 0;
out:
    buf_release(&ans);
    buf_release(&rec);
    return rc;
}

static const void *
remote_host(const struct drive *d)
{
    return container_of(d, struct drive_remote, base)->peer;
}

/*
 * A batched call (drive.c's many()): every drive of `ops` is of one node.
 * The query names the key, the body holds a u32 count, then per drive its
 * folder and (replace) its record as wire bytes; the answer the count, then
 * per drive its error as wire bytes (err_name(), "" for none: by name, as
 * the numbers move when errors.def grows) and, on success, (replace)
 * u8 refused, u8 had_prev and the previous record's bytes if had_prev, or
 * (read) the record's bytes. A node of an older version has no such route:
 * -ERR_NOT_IMPLEMENTED, nothing written, and for DRIVE_REMOTE_NO_BATCH_NS
 * its drives answer that at once (no refused call per request; an upgraded
 * node is asked again after that). A call that fails as a whole fails
 * every drive as the single call would (answer()).
 */
static int
remote_many(const char *route, const char *bucket, const char *key, struct drive_meta_op *ops,
            size_t n, bool replace)
{
    struct drive_remote *rd = to_remote(ops[0].d);
    struct buf q, body = BUF_INIT, rec = BUF_INIT;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct wire_reader r;
    struct rpc_call c;
    size_t i;
    int rc;

    if (atomic_load_explicit(&rd->no_batch_until_ns, memory_order_relaxed) > clock_mono_ns())
        return -ERR_NOT_IMPLEMENTED; /* asked lately: an older node, not asked again yet */
    query_key(rd, &q, bucket, key);
    wire_put_u32(&body, (uint32_t)n);
    for (i = 0; i < n; i++) {
        wire_put_bytes(&body, slice_cstr(to_remote(ops[i].d)->folder));
        if (replace) {
            buf_clear(&rec);
            objmeta_encode(ops[i].m, &rec);
            wire_put_bytes(&body, buf_slice(&rec));
        }
    }
    c = call_of(route, &q, buf_slice(&body), DRIVE_REMOTE_CALL_NS);
    rc = rpc_call(rd->peer, &c, &resp);
    if (rc == -ERR_NOT_IMPLEMENTED) {
        for (i = 0; i < n; i++)
            atomic_store(&to_remote(ops[i].d)->no_batch_until_ns,
                         clock_mono_ns() + DRIVE_REMOTE_NO_BATCH_NS);
        goto out;
    }
    rc = answer(rd, rc, &resp);
    if (rc == 0) {
        wire_reader_init(&r, buf_slice(&resp.body));
        if (wire_get_u32(&r) != n)
            r.failed = true;
        for (i = 0; i < n && wire_ok(&r, false); i++) {
            struct slice en = wire_get_bytes(&r);
            int e = err_from_name(en.ptr, en.len, -ERR_IO); /* a peer's code: only a known one */
            struct slice rb = SLICE_NULL;
            bool refused = false, had = false;

            ops[i].rc = e;
            ops[i].had = false;
            if (e == 0 && replace) {
                refused = wire_get_u8(&r) != 0;
                had = wire_get_u8(&r) != 0;
            }
            if (e == 0 && (!replace || had))
                rb = wire_get_bytes(&r);
            if (!wire_ok(&r, false))
                break;
            if (ops[i].rc == -ERR_OFFLINE)
                drive_set_offline(ops[i].d, ops[i].rc);
            if (e != 0)
                continue;
            if (!replace) {
                if (objmeta_decode(rb, ops[i].out) < 0)
                    ops[i].rc = -ERR_CORRUPT; /* the record failed its checksum on the way */
                continue;
            }
            /* a record that failed its checksum on the way counts as none, as on the drive */
            ops[i].had = had && objmeta_decode(rb, ops[i].out) == 0;
            ops[i].rc = refused ? -ERR_EXISTS : 0;
        }
        if (!wire_ok(&r, true))
            rc = -ERR_IO;
    }
    if (rc < 0) /* the call as a whole: every drive's answer */
        for (i = 0; i < n; i++) {
            ops[i].rc = rc == -ERR_OFFLINE ? answer(to_remote(ops[i].d), -ERR_IO, NULL) : rc;
            ops[i].had = false;
        }
    rc = 0;
out:
    rpc_resp_release(&resp);
    buf_release(&rec);
    buf_release(&body);
    buf_release(&q);
    return rc;
}

static int
remote_meta_replace_many(const char *bucket, const char *key, struct drive_meta_op *ops, size_t n)
{
    return remote_many("/drive/meta/replace-many", bucket, key, ops, n, true);
}

static int
remote_meta_read_many(const char *bucket, const char *key, struct drive_meta_op *ops, size_t n)
{
    return remote_many("/drive/meta/read-many", bucket, key, ops, n, false);
}

static int
remote_meta_read(struct drive *d, const char *bucket, const char *key, struct obj_meta *out)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q, rec = BUF_INIT;
    int rc;

    query_key(rd, &q, bucket, key);
    rc = call(rd, "/drive/meta/read", &q, SLICE_NULL, &rec);
    if (rc == 0 && objmeta_decode(buf_slice(&rec), out) < 0)
        rc = -ERR_CORRUPT; /* the record failed its checksum on the way */
    buf_release(&rec);
    return rc;
}

static int
remote_meta_delete(struct drive *d, const char *bucket, const char *key, const char *vid)
{
    struct drive_remote *rd = to_remote(d);
    struct buf q;

    query_key(rd, &q, bucket, key);
    if (vid)
        rpc_query_add(&q, "vid", slice_cstr(vid));
    return call(rd, "/drive/meta/delete", &q, SLICE_NULL, NULL);
}

/*
 * At most DRIVE_REMOTE_DELETE_BATCH keys in one call (the node deletes them
 * in one index transaction), answered with a u32 count and each key's error
 * by name ("" for none); a node of an older version, without the route,
 * gets one call per key.
 */
static int
delete_batch(struct drive_remote *rd, const char *bucket, const char *const *keys, size_t n,
             int *rcs)
{
    struct buf q, body = BUF_INIT;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_call c;
    struct wire_reader r;
    size_t i;
    int rc;

    query_init(rd, &q);
    rpc_query_add(&q, "b", slice_cstr(bucket));
    wire_put_u32(&body, (uint32_t)n);
    for (i = 0; i < n; i++)
        wire_put_bytes(&body, slice_cstr(keys[i]));
    c = call_of("/drive/meta/delete-many", &q, buf_slice(&body), DRIVE_REMOTE_CALL_NS);
    rc = rpc_call(rd->peer, &c, &resp);
    if (rc == -ERR_NOT_IMPLEMENTED) {
        for (i = 0; i < n; i++)
            rcs[i] = remote_meta_delete(&rd->base, bucket, keys[i], NULL);
        rc = 0;
        goto out;
    }
    rc = answer(rd, rc, &resp);
    if (rc == 0) {
        wire_reader_init(&r, buf_slice(&resp.body));
        if (wire_get_u32(&r) != n)
            r.failed = true;
        for (i = 0; i < n && wire_ok(&r, false); i++) {
            struct slice e = wire_get_bytes(&r);

            rcs[i] = err_from_name(e.ptr, e.len, -ERR_IO); /* a peer's code: only a known one */
        }
        if (!wire_ok(&r, true))
            rc = -ERR_IO;
    }
out:
    rpc_resp_release(&resp);
    buf_release(&body);
    buf_release(&q);
    return rc;
}

static int
remote_meta_delete_many(struct drive *d, const char *bucket, const char *const *keys, size_t n,
                        int *rcs)
{
    size_t i, m;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i += m) {
        m = MIN(n - i, DRIVE_REMOTE_DELETE_BATCH);
        rc = delete_batch(to_remote(d), bucket, keys + i, m, rcs + i);
    }
    return rc;
}

/* Decodes one listing row (drive_serve.c's layout) into `e`; false if malformed. */
static bool
list_row(struct wire_reader *r, struct drive_list_ent *e, char vid[OBJMETA_VID_LEN + 1],
         char etag[80])
{
    struct slice key = wire_get_bytes(r), v = wire_get_bytes(r), t;

    e->size = wire_get_u64(r);
    e->mtime_ns = (int64_t)wire_get_u64(r);
    t = wire_get_bytes(r);
    e->reduced = wire_get_u8(r);
    if (!wire_ok(r, false) || v.len > OBJMETA_VID_LEN || t.len >= 80)
        return false;
    memcpy(vid, v.ptr, v.len);
    vid[v.len] = '\0';
    memcpy(etag, t.ptr, t.len);
    etag[t.len] = '\0';
    e->key = key.ptr;
    e->key_len = key.len;
    e->vid = vid;
    e->etag = etag;
    return true;
}

/*
 * One page of at most `limit` rows after `after` (updated to the page's last
 * key): the number of rows delivered to `cb`, or -ERR_*; `*stopped` when `cb`
 * asked to stop.
 */
static int
list_page(struct drive_remote *rd, const char *bucket, struct slice prefix, struct buf *after,
          unsigned limit, drive_list_fn *cb, void *arg, bool *stopped)
{
    struct buf q, body = BUF_INIT;
    char vid[OBJMETA_VID_LEN + 1], etag[80];
    struct drive_list_ent e;
    struct wire_reader r;
    uint32_t count, i;
    int rc;

    query_init(rd, &q);
    rpc_query_add(&q, "b", slice_cstr(bucket));
    rpc_query_add(&q, "prefix", prefix);
    rpc_query_add(&q, "after", buf_slice(after));
    query_u64(&q, "limit", limit);
    rc = call(rd, "/drive/list", &q, SLICE_NULL, &body);
    if (rc < 0)
        goto out;
    wire_reader_init(&r, buf_slice(&body));
    count = wire_get_u32(&r);
    if (count > limit)
        r.failed = true;
    for (i = 0; i < count && rc == 0 && wire_ok(&r, false); i++) {
        if (!list_row(&r, &e, vid, etag))
            break;
        buf_clear(after);
        buf_add(after, e.key, e.key_len);
        rc = cb(arg, &e);
    }
    *stopped = rc == 1;
    if (rc == 0 && !wire_ok(&r, true))
        rc = -ERR_IO;
    if (rc >= 0)
        rc = (int)i;
out:
    buf_release(&body);
    return rc;
}

/* In pages of at most DRIVE_REMOTE_LIST_PAGE rows (an answer must stay small). */
static int
remote_list(struct drive *d, const char *bucket, struct slice prefix, struct slice after,
            unsigned limit, drive_list_fn *cb, void *arg)
{
    struct drive_remote *rd = to_remote(d);
    struct buf last = BUF_INIT;
    unsigned left = limit ? limit : UINT_MAX, page;
    bool stopped = false;
    int rc = 0;

    buf_addslice(&last, after);
    while (left && !stopped) {
        page = MIN(left, DRIVE_REMOTE_LIST_PAGE);
        rc = list_page(rd, bucket, prefix, &last, page, cb, arg, &stopped);
        if (rc < 0 || (unsigned)rc < page)
            break;
        left -= (unsigned)rc;
    }
    buf_release(&last);
    return rc < 0 ? rc : 0;
}

static const struct drive_ops remote_ops = {
    .name = "remote",
    .is_remote = true,
    .close = remote_close,
    .check = remote_check,
    .reset = remote_reset,
    .info = remote_info,
    .format_read = remote_format_read,
    .format_write = remote_format_write,
    .bucket_make = remote_bucket_make,
    .bucket_delete = remote_bucket_delete,
    .bucket_stat = remote_bucket_stat,
    .bucket_list = remote_bucket_list,
    .shard_create = remote_shard_create,
    .shard_append = remote_shard_append,
    .shard_finish = remote_shard_finish,
    .shard_abort = remote_shard_abort,
    .shard_read = remote_shard_read,
    .shard_open = remote_shard_open,
    .shard_pread = remote_shard_pread,
    .shard_close = remote_shard_close,
    .shard_reader_size = remote_reader_size,
    .shard_size = remote_shard_size,
    .shard_link = remote_shard_link,
    .tmp_remove = remote_tmp_remove,
    .meta_commit = remote_meta_commit,
    .meta_replace = remote_meta_replace,
    .meta_read = remote_meta_read,
    .host = remote_host,
    .meta_replace_many = remote_meta_replace_many,
    .meta_read_many = remote_meta_read_many,
    .meta_delete = remote_meta_delete,
    .list = remote_list,
    .meta_delete_many = remote_meta_delete_many,
};
