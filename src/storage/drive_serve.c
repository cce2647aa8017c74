/*
 * storage/drive_serve.c: this node's drives served to the other nodes (the
 * other end of drive_remote.c): one RPC route per drive operation under
 * /drive/, each naming the drive by its folder (`d=`), calling drive.h on
 * the connection thread, and answering in the layout of wire.h.
 *
 *   POST /drive/check, /info, /format/read, /format/write
 *   POST /drive/bucket/make, /delete, /stat, /list
 *   POST /drive/shard/write    (streamed body: create, append per piece,
 *                               finish only when the stream's tag checks out)
 *   POST /drive/shard/open     (streamed answer from `off`: the file is held
 *                               open for the whole answer)
 *   POST /drive/shard/read, /shard/size, /shard/link, /tmp/remove
 *   POST /drive/meta/commit, /meta/replace, /meta/read, /meta/delete, /list
 *   POST /drive/meta/delete-many   (keys in the body, one result each)
 *   POST /drive/meta/replace-many, /meta/read-many   (one key on several
 *                               drives: folders in the body, one result each)
 *
 * The RPC layer has authenticated the caller before any handler runs
 * (cluster/rpc_server.h). Every argument is still checked here as if it came
 * from anywhere: an unknown folder, a bad number, a malformed record are
 * -ERR_INVAL; vids are checked by drive.h. A format.json is never
 * overwritten from another node: only a drive without one may be formatted
 * that way (a fresh deployment, formatted by its first node).
 *
 * Handlers run under a request context made of the caller's request id, so
 * this node's log lines about the work name the request that asked for it.
 */
#include "util/base.h"

#include "storage/drive_serve.h"

#include "cluster/rpc_server.h"
#include "obs/log.h"
#include "storage/internal.h"
#include "storage/wire.h"
#include "util/err.h"
#include "util/reqctx.h"

#define SHARD_SIZE_HEADER "X-Basalt-Shard-Size"
#define LIST_PAGE_MAX 1000        /* rows per answer (drive_remote.c pages) */
#define LINKS_MAX 10000           /* the parts of one multipart object */
#define SHARD_READ_MAX (8u << 20) /* bytes of one /drive/shard/read answer */
#define DELETE_MANY_MAX 1000      /* keys of one /drive/meta/delete-many call */

struct drive_server {
    struct drive *const *drives; /* borrowed: this node's drives */
    size_t n;
};

/* ---- arguments ---- */

static struct drive *
find_drive(const struct drive_server *ds, const struct rpc_req *r)
{
    struct slice d;
    size_t i;

    if (!rpc_req_param(r, "d", &d))
        return NULL;
    for (i = 0; i < ds->n; i++)
        if (slice_eq_cstr(d, drive_endpoint(ds->drives[i])))
            return ds->drives[i];
    return NULL;
}

/* A parameter as a NUL-terminated copy in the request's arena, or NULL. */
static const char *
param(const struct rpc_req *r, const char *name)
{
    struct slice v;

    if (!rpc_req_param(r, name, &v) || memchr(v.ptr, '\0', v.len))
        return NULL;
    return arena_slicedup(r->arena, v);
}

static bool
param_u64(const struct rpc_req *r, const char *name, uint64_t max, uint64_t *out)
{
    struct slice v;

    return rpc_req_param(r, name, &v) && parse_u64(v, out) == 0 && *out <= max;
}

/* Answers `rc`: 200 with `body` (may be NULL) or the error. Releases `body`. */
static void
reply_rc(struct rpc_req *r, int rc, struct buf *body)
{
    if (rc < 0)
        rpc_reply_error(r, rc, NULL);
    else
        rpc_reply(r, 200, body);
    if (body)
        buf_release(body);
}

/*
 * The handler's common start: the drive named by `d`, and the caller's
 * request id scoped to this thread (for log lines). NULL (answered) if the
 * folder is not one of this node's drives.
 */
struct served {
    struct drive *d;
    struct reqctx ctx;
    const struct reqctx *prev;
};

static void
serve_enter(struct rpc_req *r, struct served *s)
{
    memset(&s->ctx, 0, sizeof(s->ctx));
    snprintf(s->ctx.id, sizeof(s->ctx.id), "%.*s", (int)MIN(r->caller_request_id.len, 16),
             r->caller_request_id.ptr);
    s->ctx.origin = arena_slicedup(r->arena, r->sender);
    s->prev = reqctx_enter(&s->ctx);
}

static bool
serve_begin(struct drive_server *ds, struct rpc_req *r, struct served *s)
{
    s->d = find_drive(ds, r);
    if (!s->d) {
        rpc_reply_error(r, -ERR_INVAL, "no such drive on this node");
        return false;
    }
    serve_enter(r, s);
    return true;
}

static void
serve_end(struct served *s)
{
    reqctx_leave(s->prev);
}

/* ---- check, info, format ---- */

static void
h_check(void *arg, struct rpc_req *r)
{
    struct served s;

    if (!serve_begin(arg, r, &s))
        return;
    reply_rc(r, drive_check(s.d), NULL);
    serve_end(&s);
}

static void
h_info(void *arg, struct rpc_req *r)
{
    struct drive_info info = { 0 };
    struct buf body = BUF_INIT;
    struct served s;
    int rc;

    if (!serve_begin(arg, r, &s))
        return;
    rc = drive_info(s.d, &info);
    if (rc == 0) {
        wire_put_u64(&body, info.total_bytes);
        wire_put_u64(&body, info.free_bytes);
        wire_put_u8(&body, info.mount_point);
        wire_put_u64(&body, info.fs_id);
        wire_put_u64(&body, info.parent_fs_id);
    }
    reply_rc(r, rc, &body);
    serve_end(&s);
}

static void
h_format_read(void *arg, struct rpc_req *r)
{
    struct buf body = BUF_INIT;
    struct served s;

    if (!serve_begin(arg, r, &s))
        return;
    reply_rc(r, drive_format_read(s.d, &body), &body);
    serve_end(&s);
}

static void
h_format_write(void *arg, struct rpc_req *r)
{
    struct buf cur = BUF_INIT;
    struct served s;
    int rc;

    if (!serve_begin(arg, r, &s))
        return;
    rc = drive_format_read(s.d, &cur);
    if (rc == 0)
        rc = -ERR_EXISTS; /* never overwritten from another node */
    else if (rc == -ERR_NOT_FOUND)
        rc = drive_format_write(s.d, r->body);
    buf_release(&cur);
    reply_rc(r, rc, NULL);
    serve_end(&s);
}

/* ---- buckets ---- */

static void
h_bucket_make(void *arg, struct rpc_req *r)
{
    const char *b = param(r, "b");
    uint64_t created;
    struct served s;

    if (!serve_begin(arg, r, &s))
        return;
    if (!b || !param_u64(r, "created", INT64_MAX, &created))
        reply_rc(r, -ERR_INVAL, NULL);
    else
        reply_rc(r, drive_bucket_make(s.d, b, (int64_t)created), NULL);
    serve_end(&s);
}

static void
h_bucket_delete(void *arg, struct rpc_req *r)
{
    const char *b = param(r, "b");
    uint64_t force;
    struct served s;

    if (!serve_begin(arg, r, &s))
        return;
    if (!b || !param_u64(r, "force", 1, &force))
        reply_rc(r, -ERR_INVAL, NULL);
    else
        reply_rc(r, drive_bucket_delete(s.d, b, force), NULL);
    serve_end(&s);
}

static void
h_bucket_stat(void *arg, struct rpc_req *r)
{
    const char *b = param(r, "b");
    struct buf body = BUF_INIT;
    int64_t created = 0;
    struct served s;
    int rc = -ERR_INVAL;

    if (!serve_begin(arg, r, &s))
        return;
    if (b)
        rc = drive_bucket_stat(s.d, b, &created);
    if (rc == 0)
        wire_put_u64(&body, (uint64_t)created);
    reply_rc(r, rc, &body);
    serve_end(&s);
}

static void
h_bucket_list(void *arg, struct rpc_req *r)
{
    struct bucket_ent *l = NULL;
    struct buf body = BUF_INIT;
    struct served s;
    size_t n = 0, i;
    int rc;

    if (!serve_begin(arg, r, &s))
        return;
    rc = drive_bucket_list(s.d, &l, &n);
    if (rc == 0) {
        wire_put_u32(&body, (uint32_t)n);
        for (i = 0; i < n; i++) {
            wire_put_bytes(&body, slice_cstr(l[i].name));
            wire_put_u64(&body, (uint64_t)l[i].created_ns);
        }
    }
    free(l);
    reply_rc(r, rc, &body);
    serve_end(&s);
}

/* ---- shard files ---- */

/* vid and part of a shard call; false (answered) if malformed. */
static bool
shard_args(struct rpc_req *r, const char **vid, unsigned *part)
{
    uint64_t p;

    *vid = param(r, "vid");
    if (!*vid || !param_u64(r, "part", OBJMETA_MAX_PARTS + 1, &p)) {
        rpc_reply_error(r, -ERR_INVAL, NULL);
        return false;
    }
    *part = (unsigned)p;
    return true;
}

struct write_state {
    struct served s;
    struct shard_writer *w;
};

static int
w_begin(void *arg, struct rpc_req *r)
{
    struct write_state *st = arena_zalloc(r->arena, sizeof(*st));
    const char *vid;
    unsigned part;
    int rc;

    if (!serve_begin(arg, r, &st->s))
        return -ERR_INVAL;
    if (!shard_args(r, &vid, &part)) {
        serve_end(&st->s);
        return -ERR_INVAL;
    }
    rc = drive_shard_create(st->s.d, vid, part, &st->w);
    serve_end(&st->s);
    if (rc < 0) {
        rpc_reply_error(r, rc, NULL);
        return rc;
    }
    r->ctx = st;
    return 0;
}

static int
w_data(struct rpc_req *r, const void *p, size_t n)
{
    struct write_state *st = r->ctx;
    const struct reqctx *prev = reqctx_enter(&st->s.ctx);
    int rc = drive_shard_append(st->w, p, n);

    reqctx_leave(prev);
    return rc;
}

/* The file is finished (fsynced) only for a stream whose tag checked out. */
static void
w_end(struct rpc_req *r, bool ok)
{
    struct write_state *st = r->ctx;
    const struct reqctx *prev = reqctx_enter(&st->s.ctx);

    if (ok)
        reply_rc(r, drive_shard_finish(st->w), NULL);
    else
        drive_shard_abort(st->w);
    st->w = NULL;
    reqctx_leave(prev);
}

static const struct rpc_stream_ops write_ops = { w_begin, w_data, w_end };

struct read_state {
    struct shard_reader *rd;
    uint64_t off; /* where the answer starts in the file */
};

static ssize_t
read_stream(void *arg, uint64_t off, void *dst, size_t n)
{
    struct read_state *st = arg;

    return drive_shard_pread(st->rd, st->off + off, dst, n);
}

static void
read_free(void *arg)
{
    struct read_state *st = arg;

    drive_shard_close(st->rd);
    free(st);
}

static void
h_shard_open(void *arg, struct rpc_req *r)
{
    struct read_state *st;
    const char *vid;
    unsigned part;
    uint64_t off, size = 0;
    char n[24];
    struct served s;
    int rc;

    if (!serve_begin(arg, r, &s))
        return;
    if (!shard_args(r, &vid, &part))
        goto out;
    if (!param_u64(r, "off", UINT64_MAX, &off)) {
        rpc_reply_error(r, -ERR_INVAL, NULL);
        goto out;
    }
    st = xcalloc(1, sizeof(*st));
    rc = drive_shard_open(s.d, vid, part, &st->rd);
    if (rc == 0)
        rc = drive_shard_size(st->rd, &size);
    if (rc < 0) {
        if (st->rd)
            drive_shard_close(st->rd);
        free(st);
        rpc_reply_error(r, rc, NULL);
        goto out;
    }
    st->off = MIN(off, size);
    snprintf(n, sizeof(n), "%llu", (unsigned long long)size);
    rpc_reply_header(r, SHARD_SIZE_HEADER, n);
    rpc_reply_stream(r, 200, size - st->off, read_stream, read_free, st);
out:
    serve_end(&s);
}

static void
h_shard_read(void *arg, struct rpc_req *r)
{
    struct buf body = BUF_INIT;
    const char *vid;
    unsigned part;
    uint64_t off, n;
    ssize_t got = -ERR_INVAL;
    struct served s;

    if (!serve_begin(arg, r, &s))
        return;
    if (!shard_args(r, &vid, &part))
        goto out;
    if (param_u64(r, "off", UINT64_MAX, &off) && param_u64(r, "n", SHARD_READ_MAX, &n)) {
        buf_grow(&body, (size_t)n + 1);
        got = drive_shard_read(s.d, vid, part, off, body.ptr, (size_t)n);
        if (got >= 0)
            buf_setlen(&body, (size_t)got);
    }
    reply_rc(r, got < 0 ? (int)got : 0, &body);
    serve_end(&s);
    return;
out:
    buf_release(&body);
    serve_end(&s);
}

static void
h_shard_size(void *arg, struct rpc_req *r)
{
    struct shard_reader *rd = NULL;
    struct buf body = BUF_INIT;
    const char *vid;
    unsigned part;
    uint64_t size = 0;
    struct served s;
    int rc;

    if (!serve_begin(arg, r, &s))
        return;
    if (!shard_args(r, &vid, &part))
        goto out;
    rc = drive_shard_open(s.d, vid, part, &rd);
    if (rc == 0) {
        rc = drive_shard_size(rd, &size);
        drive_shard_close(rd);
    }
    if (rc == 0)
        wire_put_u64(&body, size);
    reply_rc(r, rc, &body);
out:
    serve_end(&s);
}

static void
h_shard_link(void *arg, struct rpc_req *r)
{
    const char *vid = param(r, "vid");
    struct drive_link *links = NULL;
    struct wire_reader w;
    uint32_t n, i;
    struct served s;
    int rc = -ERR_INVAL;

    if (!serve_begin(arg, r, &s))
        return;
    wire_reader_init(&w, r->body);
    n = wire_get_u32(&w);
    if (vid && n <= LINKS_MAX) {
        links = arena_zalloc(r->arena, (n ? n : 1) * sizeof(*links));
        for (i = 0; i < n && wire_ok(&w, false); i++) {
            links[i].src_vid = arena_slicedup(r->arena, wire_get_bytes(&w));
            links[i].src_part = wire_get_u32(&w);
            links[i].dst_part = wire_get_u32(&w);
        }
        if (wire_ok(&w, true))
            rc = drive_shard_link(s.d, vid, links, n);
    }
    reply_rc(r, rc, NULL);
    serve_end(&s);
}

static void
h_tmp_remove(void *arg, struct rpc_req *r)
{
    const char *vid = param(r, "vid");
    struct served s;

    if (!serve_begin(arg, r, &s))
        return;
    reply_rc(r, vid ? drive_tmp_remove(s.d, vid) : -ERR_INVAL, NULL);
    serve_end(&s);
}

/* ---- records ---- */

static void
h_meta_commit(void *arg, struct rpc_req *r)
{
    const char *b = param(r, "b"), *k = param(r, "k");
    struct obj_meta m;
    struct served s;
    int rc = -ERR_INVAL;

    if (!serve_begin(arg, r, &s))
        return;
    objmeta_init(&m);
    if (b && k && objmeta_decode(r->body, &m) == 0)
        rc = drive_meta_commit(s.d, b, k, &m);
    objmeta_release(&m);
    reply_rc(r, rc, NULL);
    serve_end(&s);
}

/* drive_meta_replace(): the answer's layout is drive_remote.c's remote_meta_replace(). */
static void
h_meta_replace(void *arg, struct rpc_req *r)
{
    const char *b = param(r, "b"), *k = param(r, "k");
    struct buf body = BUF_INIT;
    struct obj_meta m, prev;
    bool had = false;
    struct served s;
    int rc = -ERR_INVAL;

    if (!serve_begin(arg, r, &s))
        return;
    objmeta_init(&m);
    objmeta_init(&prev);
    if (b && k && objmeta_decode(r->body, &m) == 0)
        rc = drive_meta_replace(s.d, b, k, &m, &prev, &had);
    if (rc == 0 || rc == -ERR_EXISTS) {
        wire_put_u8(&body, rc == -ERR_EXISTS);
        wire_put_u8(&body, had);
        if (had) {
            struct buf rec = BUF_INIT;

            objmeta_encode(&prev, &rec);
            wire_put_bytes(&body, buf_slice(&rec));
            buf_release(&rec);
        }
        rc = 0;
    }
    objmeta_release(&m);
    objmeta_release(&prev);
    reply_rc(r, rc, &body);
    serve_end(&s);
}

static void
h_meta_read(void *arg, struct rpc_req *r)
{
    const char *b = param(r, "b"), *k = param(r, "k");
    struct buf body = BUF_INIT;
    struct obj_meta m;
    struct served s;
    int rc = -ERR_INVAL;

    if (!serve_begin(arg, r, &s))
        return;
    objmeta_init(&m);
    if (b && k)
        rc = drive_meta_read(s.d, b, k, &m);
    if (rc == 0)
        objmeta_encode(&m, &body);
    objmeta_release(&m);
    reply_rc(r, rc, &body);
    serve_end(&s);
}

static void
h_meta_delete(void *arg, struct rpc_req *r)
{
    const char *b = param(r, "b"), *k = param(r, "k"), *vid = param(r, "vid");
    struct served s;

    if (!serve_begin(arg, r, &s))
        return;
    reply_rc(r, b && k ? drive_meta_delete(s.d, b, k, vid) : -ERR_INVAL, NULL);
    serve_end(&s);
}

struct list_out {
    struct buf rows;
    uint32_t n;
};

static int
list_cb(void *arg, const struct drive_list_ent *e)
{
    struct list_out *o = arg;

    wire_put_bytes(&o->rows, slice_make(e->key, e->key_len));
    wire_put_bytes(&o->rows, slice_cstr(e->vid ? e->vid : ""));
    wire_put_u64(&o->rows, e->size);
    wire_put_u64(&o->rows, (uint64_t)e->mtime_ns);
    wire_put_bytes(&o->rows, slice_cstr(e->etag ? e->etag : ""));
    wire_put_u8(&o->rows, e->reduced);
    o->n++;
    return 0;
}

static void
h_list(void *arg, struct rpc_req *r)
{
    const char *b = param(r, "b");
    struct list_out o = { BUF_INIT, 0 };
    struct buf body = BUF_INIT;
    struct slice prefix = SLICE_NULL, after = SLICE_NULL;
    uint64_t limit;
    struct served s;
    int rc = -ERR_INVAL;

    if (!serve_begin(arg, r, &s))
        return;
    rpc_req_param(r, "prefix", &prefix);
    rpc_req_param(r, "after", &after);
    if (b && param_u64(r, "limit", UINT32_MAX, &limit)) {
        if (limit == 0 || limit > LIST_PAGE_MAX)
            limit = LIST_PAGE_MAX; /* the caller pages */
        rc = drive_list(s.d, b, prefix, after, (unsigned)limit, list_cb, &o);
    }
    if (rc == 0) {
        wire_put_u32(&body, o.n);
        buf_addslice(&body, buf_slice(&o.rows));
    }
    buf_release(&o.rows);
    reply_rc(r, rc, &body);
    serve_end(&s);
}

/*
 * Many deletes in one call (drive_meta_delete_many): the body a u32 count
 * and each key as wire bytes; the answer the count and each key's result as
 * a u32 (0 or the error's positive code).
 */
static void
h_meta_delete_many(void *arg, struct rpc_req *r)
{
    const char *b = param(r, "b");
    struct buf body = BUF_INIT;
    const char **keys = NULL;
    struct wire_reader w;
    struct served s;
    struct slice k;
    uint32_t n, i;
    int rc = -ERR_INVAL, *rcs;

    if (!serve_begin(arg, r, &s))
        return;
    wire_reader_init(&w, r->body);
    n = wire_get_u32(&w);
    if (b && n <= DELETE_MANY_MAX) {
        keys = arena_zalloc(r->arena, (n ? n : 1) * sizeof(*keys));
        for (i = 0; i < n && wire_ok(&w, false); i++) {
            k = wire_get_bytes(&w);
            keys[i] = memchr(k.ptr, '\0', k.len) ? NULL : arena_slicedup(r->arena, k);
            if (!keys[i])
                w.failed = true;
        }
        if (wire_ok(&w, true)) {
            rcs = arena_zalloc(r->arena, (n ? n : 1) * sizeof(*rcs));
            rc = drive_meta_delete_many(s.d, b, keys, n, rcs);
            rc = rc == -ERR_OFFLINE ? rc : 0; /* else each key says it */
            wire_put_u32(&body, n);
            for (i = 0; i < n; i++) /* by name: "" for 0 (util/err.h err_from_name) */
                wire_put_bytes(&body, slice_cstr(rcs[i] < 0 ? err_name(rcs[i]) : ""));
        }
    }
    reply_rc(r, rc, &body);
    serve_end(&s);
}

/*
 * One key on several of this node's drives (drive_meta_replace_many,
 * drive_meta_read_many): the layout is drive_remote.c's remote_many(). A
 * folder that is not one of this node's drives answers -ERR_INVAL for that
 * drive; a malformed body, for the call.
 */
static void
meta_many(struct drive_server *ds, struct rpc_req *r, bool replace)
{
    const char *b = param(r, "b"), *k = param(r, "k");
    struct drive_meta_op *ops = NULL;
    struct obj_meta *ms = NULL, *outs = NULL;
    struct buf body = BUF_INIT, rec = BUF_INIT;
    struct drive_meta_op *run;
    struct wire_reader w;
    struct served s;
    uint32_t n, i, nrun = 0;
    int rc = -ERR_INVAL;

    serve_enter(r, &s);
    wire_reader_init(&w, r->body);
    n = wire_get_u32(&w);
    if (!b || !k || n == 0 || n > ds->n)
        goto out;
    ops = arena_zalloc(r->arena, n * sizeof(*ops));
    run = arena_zalloc(r->arena, n * sizeof(*run));
    ms = arena_zalloc(r->arena, n * sizeof(*ms));
    outs = arena_zalloc(r->arena, n * sizeof(*outs));
    for (i = 0; i < n; i++) {
        objmeta_init(&ms[i]);
        objmeta_init(&outs[i]);
    }
    for (i = 0; i < n && wire_ok(&w, false); i++) {
        struct slice f = wire_get_bytes(&w), m = replace ? wire_get_bytes(&w) : SLICE_NULL;
        size_t x;

        ops[i].rc = -ERR_INVAL;
        ops[i].out = &outs[i];
        if (!wire_ok(&w, false))
            break;
        for (x = 0; x < ds->n; x++)
            if (slice_eq_cstr(f, drive_endpoint(ds->drives[x])))
                ops[i].d = ds->drives[x];
        if (!ops[i].d || (replace && objmeta_decode(m, &ms[i]) < 0))
            continue;
        ops[i].m = &ms[i];
        ops[i].rc = 0;
    }
    if (!wire_ok(&w, true))
        goto out;
    for (i = 0; i < n; i++)
        if (ops[i].rc == 0)
            run[nrun++] = ops[i];
    if (replace)
        drive_meta_replace_many(b, k, run, nrun);
    else
        drive_meta_read_many(b, k, run, nrun);
    for (i = 0, nrun = 0; i < n; i++)
        if (ops[i].rc == 0)
            ops[i] = run[nrun++];
    wire_put_u32(&body, n);
    for (i = 0; i < n; i++) {
        bool refused = replace && ops[i].rc == -ERR_EXISTS;
        bool ok = ops[i].rc == 0 || refused;

        wire_put_bytes(&body, slice_cstr(ok ? "" : err_name(ops[i].rc))); /* codes by name */
        if (ok && replace) {
            wire_put_u8(&body, refused);
            wire_put_u8(&body, ops[i].had);
        }
        if (ok && (!replace || ops[i].had)) {
            buf_clear(&rec);
            objmeta_encode(&outs[i], &rec);
            wire_put_bytes(&body, buf_slice(&rec));
        }
    }
    rc = 0;
out:
    for (i = 0; ms && i < n; i++) {
        objmeta_release(&ms[i]);
        objmeta_release(&outs[i]);
    }
    buf_release(&rec);
    reply_rc(r, rc, &body);
    serve_end(&s);
}

static void
h_meta_replace_many(void *arg, struct rpc_req *r)
{
    meta_many(arg, r, true);
}

static void
h_meta_read_many(void *arg, struct rpc_req *r)
{
    meta_many(arg, r, false);
}

/* ---- registration ---- */

static const struct {
    const char *path;
    rpc_handler_fn *fn;
} routes[] = {
    { "/drive/check", h_check },
    { "/drive/info", h_info },
    { "/drive/format/read", h_format_read },
    { "/drive/format/write", h_format_write },
    { "/drive/bucket/make", h_bucket_make },
    { "/drive/bucket/delete", h_bucket_delete },
    { "/drive/bucket/stat", h_bucket_stat },
    { "/drive/bucket/list", h_bucket_list },
    { "/drive/shard/open", h_shard_open },
    { "/drive/shard/read", h_shard_read },
    { "/drive/shard/size", h_shard_size },
    { "/drive/shard/link", h_shard_link },
    { "/drive/tmp/remove", h_tmp_remove },
    { "/drive/meta/commit", h_meta_commit },
    { "/drive/meta/replace", h_meta_replace },
    { "/drive/meta/read", h_meta_read },
    { "/drive/meta/delete", h_meta_delete },
    { "/drive/list", h_list },
    { "/drive/meta/delete-many", h_meta_delete_many },
    { "/drive/meta/replace-many", h_meta_replace_many },
    { "/drive/meta/read-many", h_meta_read_many },
};

struct drive_server *
drive_serve_new(struct rpc_server *rpc, struct drive *const *drives, size_t n)
{
    struct drive_server *ds = xcalloc(1, sizeof(*ds));
    size_t i;

    ds->drives = drives;
    ds->n = n;
    for (i = 0; i < ARRAY_SIZE(routes); i++)
        BUG_ON(rpc_server_route(rpc, "POST", routes[i].path, routes[i].fn, ds) < 0);
    BUG_ON(rpc_server_route_stream(rpc, "POST", "/drive/shard/write", &write_ops, ds) < 0);
    return ds;
}

void
drive_serve_free(struct drive_server *ds)
{
    free(ds);
}
