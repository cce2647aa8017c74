/*
 * object/multipart.c: multipart uploads (DESIGN.md ".basalt/multipart/":
 * parts of uploads in progress).
 *
 * Uploads and parts are records of a system bucket, OBJ_MP_BUCKET, that no
 * S3 name can reach (S3 bucket names never start with '.'), placed in the
 * erasure set of the object to be (object__pool_set reads the owner from the
 * key), so that every part's shards sit on the drives that will hold the
 * object. With several pools, the upload goes to the pool the object's
 * write would (object__place), and is found there again by a lookup in
 * each pool (mp_stat); its parts and the completed object go to that pool:
 *
 *   u/<bucket>/<key>\x01<upload id>            the upload: an empty inline
 *                                              record with the layout (k, m,
 *                                              rotation), headers, initiation time
 *   p/<bucket>/<key>\x01<upload id>\x01<nnnnn>  part nnnnn: a version of its
 *                                              own, always with a shard file
 *
 * A part is written by the PUT pipeline (put.c) with the upload's layout, so
 * uploading it again simply replaces the record (and the drive drops the
 * older part's files). Completion reads each drive's part records, checks the
 * client's list, hard-links every chosen part file of each drive into the
 * new version's folder (drive_shard_link: no byte is copied) and commits that
 * version with the rules of a PUT (object__commit_staged: quorum, rollback);
 * then the upload and its parts are deleted. A drive that lacks a part, or
 * holds another version of it, stays out of the commit and is healed later.
 *
 * Keys are ordered by the bytes of the object key, then "\x01" and the
 * upload id, so uploads list in S3's order (key, then upload id) for every
 * key without control characters.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include <openssl/evp.h>

#include "obs/log.h"
#include "object/internal.h"
#include "util/clock.h"
#include "util/enc.h"

/* The position of the last `c` in `s`, or -1. */
static ssize_t
last_of(struct slice s, char c)
{
    size_t i = s.len;

    while (i-- > 0)
        if (s.ptr[i] == c)
            return (ssize_t)i;
    return -1;
}

static int
mp_bucket_job(struct eset *set, unsigned j, void *arg)
{
    int64_t created;
    int rc = drive_bucket_stat(set->drives[j], OBJ_MP_BUCKET, &created);

    return rc == -ERR_NOT_FOUND ? drive_bucket_make(set->drives[j], OBJ_MP_BUCKET, clock_now_ns())
                                : rc;
}

void
object__mp_init(struct objlayer *ol)
{
    int rcs[OBJ_MAX_SET];
    unsigned s;

    for (s = 0; s < ol->nsets; s++)
        object__run_meta(&ol->sets[s], NULL, mp_bucket_job, NULL, rcs);
}

/* "u/<bucket>/<key>\x01<id>" */
static char *
upload_key(const char *bucket, const char *key, const char *id)
{
    struct buf b = BUF_INIT;

    buf_addf(&b, "u/%s/%s%c%s", bucket, key, OBJ_MP_SEP, id);
    return buf_detach(&b, NULL);
}

/* "p/<bucket>/<key>\x01<id>\x01" and, with number > 0, the part number in 5 digits. */
static char *
part_key(const char *bucket, const char *key, const char *id, unsigned number)
{
    struct buf b = BUF_INIT;

    buf_addf(&b, "p/%s/%s%c%s%c", bucket, key, OBJ_MP_SEP, id, OBJ_MP_SEP);
    if (number)
        buf_addf(&b, "%05u", number);
    return buf_detach(&b, NULL);
}

static bool
valid_id(const char *id)
{
    return id && objmeta_vid_is_valid(id);
}

int
object__mp_create(struct objlayer *ol, const char *bucket, const char *key,
                  const struct obj_put_opts *opts, char upload_id[OBJMETA_VID_LEN + 1])
{
    struct obj_put_opts o = *opts;
    struct obj_put *p;
    struct eset *set;
    char *ukey;
    int rc = object__bucket_stat(ol, bucket, NULL);

    if (rc < 0)
        return rc;
    objmeta_new_sorted_vid(upload_id, clock_now_ns());
    ukey = upload_key(bucket, key, upload_id);
    o.size = 0;
    o.content_md5 = NULL;
    /* the object's set (in the pool its write would go to) holds the upload too */
    set = object__place(ol, bucket, key);
    rc = object__put_begin(ol, OBJ_MP_BUCKET, ukey, &o, NULL, set, &p);
    if (rc == -ERR_BUCKET_NOT_FOUND) { /* the system bucket is missing on too many drives */
        object__mp_init(ol);
        rc = object__put_begin(ol, OBJ_MP_BUCKET, ukey, &o, NULL, set, &p);
    }
    if (rc == 0)
        rc = obj_put_finish(p, NULL);
    free(ukey);
    return rc == -ERR_BUCKET_NOT_FOUND ? -ERR_QUORUM : rc;
}

/*
 * The upload's record (its layout and headers) and its set (NULL: not
 * wanted); object__mp_stat()'s errors.
 */
static int
mp_stat(struct objlayer *ol, const char *bucket, const char *key, const char *upload_id,
        struct obj_meta *out, struct eset **set)
{
    char *ukey;
    int rc;

    if (!valid_id(upload_id))
        return -ERR_NO_SUCH_UPLOAD;
    ukey = upload_key(bucket, key, upload_id);
    rc = object__head_meta_at(ol, OBJ_MP_BUCKET, ukey, out, set);
    free(ukey);
    if (rc == -ERR_KEY_NOT_FOUND || rc == -ERR_NOT_FOUND || rc == -ERR_BUCKET_NOT_FOUND)
        return -ERR_NO_SUCH_UPLOAD;
    return rc;
}

int
object__mp_stat(struct objlayer *ol, const char *bucket, const char *key, const char *upload_id,
                struct obj_info *out)
{
    struct obj_meta m;
    int rc;

    objmeta_init(&m);
    rc = mp_stat(ol, bucket, key, upload_id, &m, NULL);
    if (rc == 0)
        object__info_from_meta(out, &m);
    objmeta_release(&m);
    return rc;
}

/* 0 and its set if the upload exists, else mp_stat()'s error. */
static int
upload_exists(struct objlayer *ol, const char *bucket, const char *key, const char *upload_id,
              struct eset **set)
{
    struct obj_meta up;
    int rc;

    objmeta_init(&up);
    rc = mp_stat(ol, bucket, key, upload_id, &up, set);
    objmeta_release(&up);
    return rc;
}

int
object__mp_part_begin(struct objlayer *ol, const char *bucket, const char *key,
                      const char *upload_id, unsigned number, const struct obj_put_opts *opts,
                      struct obj_put **out)
{
    struct obj_meta up;
    struct eset *set;
    char *pkey;
    int rc;

    if (number < 1 || number > OBJMETA_MAX_PARTS)
        return -ERR_INVAL;
    objmeta_init(&up);
    rc = mp_stat(ol, bucket, key, upload_id, &up, &set);
    if (rc == 0) {
        pkey = part_key(bucket, key, upload_id, number);
        rc = object__put_begin(ol, OBJ_MP_BUCKET, pkey, opts, &up, set, out);
        free(pkey);
    }
    objmeta_release(&up);
    return rc;
}

/* ---- the part records of each drive ---- */

struct part_row {
    char vid[OBJMETA_VID_LEN + 1];
    uint64_t size;
    int64_t mtime_ns;
    char etag[36];
    bool present;
};

/* Drive j's part records of one upload, indexed by part number. */
struct part_scan {
    const char *prefix; /* part_key(..., 0) */
    size_t prefix_len;
    struct part_row *rows[OBJ_MAX_SET]; /* OBJMETA_MAX_PARTS + 1 entries each, or NULL */
    int rcs[OBJ_MAX_SET];
};

struct scan_one {
    struct part_scan *ps;
    unsigned j;
};

static int
scan_cb(void *arg, const struct drive_list_ent *e)
{
    struct scan_one *so = arg;
    struct part_row *row;
    uint64_t number;

    if (e->key_len != so->ps->prefix_len + 5 ||
        parse_u64(slice_make(e->key + so->ps->prefix_len, 5), &number) < 0 || number < 1 ||
        number > OBJMETA_MAX_PARTS)
        return 0; /* not a part key of ours */
    row = &so->ps->rows[so->j][number];
    snprintf(row->vid, sizeof(row->vid), "%s", e->vid);
    snprintf(row->etag, sizeof(row->etag), "%s", e->etag ? e->etag : "");
    row->size = e->size;
    row->mtime_ns = e->mtime_ns;
    row->present = true;
    return 0;
}

static int
scan_job(struct eset *set, unsigned j, void *arg)
{
    struct part_scan *ps = arg;
    struct scan_one so = { ps, j };

    ps->rows[j] = xcalloc(OBJMETA_MAX_PARTS + 1, sizeof(struct part_row));
    return drive_list(set->drives[j], OBJ_MP_BUCKET, slice_make(ps->prefix, ps->prefix_len),
                      SLICE_NULL, 0, scan_cb, &so);
}

static void
scan_release(struct part_scan *ps)
{
    unsigned j;

    for (j = 0; j < OBJ_MAX_SET; j++)
        free(ps->rows[j]);
}

/*
 * The version of part `number` that at least `k` drives hold (the most
 * common one); its index in a drive that holds it, or -1.
 */
static int
part_quorum(const struct eset *set, const struct part_scan *ps, unsigned number, unsigned k)
{
    unsigned i, j, best_n = 0;
    int best = -1;

    for (i = 0; i < set->n; i++) {
        const struct part_row *a = ps->rows[i] ? &ps->rows[i][number] : NULL;
        unsigned n = 0;

        if (ps->rcs[i] < 0 || !a || !a->present)
            continue;
        for (j = 0; j < set->n; j++) {
            const struct part_row *b = ps->rows[j] ? &ps->rows[j][number] : NULL;

            if (ps->rcs[j] == 0 && b && b->present && !strcmp(a->vid, b->vid))
                n++;
        }
        if (n > best_n) {
            best_n = n;
            best = (int)i;
        }
    }
    return best_n >= k ? best : -1;
}

/* ---- completion ---- */

struct complete {
    struct objlayer *ol;
    struct eset *set;
    const char *bucket, *key, *upload_id;
    const struct obj_mp_part *parts;
    size_t n;
    struct part_scan ps;
    const struct part_row **chosen; /* per requested part: the quorum row */
    struct obj_meta meta;           /* the new version (shard_idx set per drive by the commit) */
    bool staged[OBJ_MAX_SET];
};

/* Links drive j's copy of every chosen part into the new version, if it holds all of them. */
static int
link_job(struct eset *set, unsigned j, void *arg)
{
    struct complete *c = arg;
    struct drive_link *links;
    size_t i;
    int rc;

    if (c->ps.rcs[j] < 0 || !c->ps.rows[j])
        return -ERR_OFFLINE;
    links = xcalloc(c->n ? c->n : 1, sizeof(*links));
    for (i = 0; i < c->n; i++) {
        const struct part_row *r = &c->ps.rows[j][c->parts[i].number];

        if (!r->present || strcmp(r->vid, c->chosen[i]->vid) != 0) {
            free(links);
            return -ERR_NOT_FOUND; /* a missing or stale part: this drive is healed later */
        }
        links[i] = (struct drive_link){ r->vid, 1, (unsigned)i + 1 };
    }
    rc = drive_shard_link(set->drives[j], c->meta.vid, links, c->n);
    free(links);
    if (rc < 0)
        drive_tmp_remove(set->drives[j], c->meta.vid);
    return rc;
}

static void
strip_quotes(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);

    if (n >= 2 && in[0] == '"' && in[n - 1] == '"') {
        in++;
        n -= 2;
    }
    snprintf(out, cap, "%.*s", (int)MIN(n, cap - 1), in);
}

/* Checks the client's list against the quorum part versions; fills c->chosen, size, ETag. */
static int
check_parts(struct complete *c, const struct obj_meta *up)
{
    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    uint8_t digest[16], raw[16];
    unsigned len = 0;
    size_t i;
    int rc = 0;

    if (!md5 || !EVP_DigestInit_ex(md5, EVP_md5(), NULL))
        die("MD5 is not available from libcrypto");
    /* The order first, as S3: a list naming a part twice is InvalidPartOrder, whatever its ETags.
     */
    for (i = 1; i < c->n; i++)
        if (c->parts[i].number <= c->parts[i - 1].number) {
            EVP_MD_CTX_free(md5);
            return -ERR_INVALID_PART_ORDER;
        }
    for (i = 0; i < c->n && rc == 0; i++) {
        const struct obj_mp_part *p = &c->parts[i];
        char want[36];
        int at;

        if (p->number < 1 || p->number > OBJMETA_MAX_PARTS) {
            rc = -ERR_INVALID_PART;
            break;
        }
        at = part_quorum(c->set, &c->ps, p->number, up->k);
        strip_quotes(p->etag, want, sizeof(want));
        if (at < 0 || strcmp(c->ps.rows[at][p->number].etag, want) != 0) {
            rc = -ERR_INVALID_PART;
            break;
        }
        c->chosen[i] = &c->ps.rows[at][p->number];
        if (i + 1 < c->n && c->chosen[i]->size < OBJ_MP_MIN_PART)
            rc = -ERR_ENTITY_TOO_SMALL;
        if (hex_decode(slice_cstr(c->chosen[i]->etag), raw, sizeof(raw)) < 0)
            rc = -ERR_CORRUPT;
        EVP_DigestUpdate(md5, raw, sizeof(raw));
    }
    EVP_DigestFinal_ex(md5, digest, &len);
    EVP_MD_CTX_free(md5);
    if (rc < 0)
        return rc;
    hex_encode_to(c->meta.etag, digest, sizeof(digest));
    snprintf(c->meta.etag + 32, sizeof(c->meta.etag) - 32, "-%zu", c->n);
    for (i = 0; i < c->n; i++) {
        struct obj_part part;

        memset(&part, 0, sizeof(part));
        part.number = c->parts[i].number;
        part.size = c->chosen[i]->size;
        snprintf(part.etag, sizeof(part.etag), "%s", c->chosen[i]->etag);
        objmeta_add_part(&c->meta, &part);
        c->meta.size += part.size;
    }
    return c->meta.size > OBJ_MP_MAX_SIZE ? -ERR_TOO_LARGE : 0;
}

/* Deletes the upload record and every part record the scan found (after completion or abort). */
struct drop_arg {
    const char *ukey;
    struct part_scan *ps;
};

static int
drop_job(struct eset *set, unsigned j, void *arg)
{
    struct drop_arg *a = arg;
    struct buf k = BUF_INIT;
    unsigned number;

    drive_meta_delete(set->drives[j], OBJ_MP_BUCKET, a->ukey, NULL);
    if (a->ps->rcs[j] < 0 || !a->ps->rows[j])
        return 0;
    for (number = 1; number <= OBJMETA_MAX_PARTS; number++) {
        if (!a->ps->rows[j][number].present)
            continue;
        buf_clear(&k);
        buf_add(&k, a->ps->prefix, a->ps->prefix_len);
        buf_addf(&k, "%05u", number);
        drive_meta_delete(set->drives[j], OBJ_MP_BUCKET, k.ptr, NULL);
    }
    buf_release(&k);
    return 0;
}

static void
drop_upload(struct eset *set, const char *ukey, struct part_scan *ps)
{
    struct drop_arg a = { ukey, ps };
    int rcs[OBJ_MAX_SET];

    object__run(set, NULL, drop_job, &a, rcs);
}

static void
scan_parts(struct eset *set, struct part_scan *ps, const char *prefix)
{
    memset(ps, 0, sizeof(*ps));
    ps->prefix = prefix;
    ps->prefix_len = strlen(prefix);
    object__run(set, NULL, scan_job, ps, ps->rcs);
}

/* The stored x-amz-checksum-<algo> of `m` as "<algo>:<value>" into `out` (empty if none). */
static void
checksum_of(const struct obj_meta *m, char *out, size_t cap)
{
    const char *name, *value;
    size_t pos = 0;

    out[0] = '\0';
    while (objmeta_header_next(m, &pos, &name, &value)) {
        if (!strncmp(name, "x-amz-checksum-", 15) && strcmp(name, "x-amz-checksum-type") != 0) {
            snprintf(out, cap, "%s:%s", name + 15, value);
            return;
        }
    }
}

/* Whether drive j holds part i of the completion in its chosen version. */
static bool
holds_chosen(const struct complete *c, unsigned j, size_t i)
{
    const struct part_row *r = c->ps.rows[j] ? &c->ps.rows[j][c->parts[i].number] : NULL;

    return c->ps.rcs[j] == 0 && r && r->present && !strcmp(r->vid, c->chosen[i]->vid);
}

/*
 * The parts' stored x-amz-checksum-<algo> as "<algo>:<value>" (empty if
 * none). Each part's record is read from one drive that holds it, the parts
 * spread over the drives (a job per drive, all in parallel: 10,000 parts are
 * not 10,000 round trips to another node one after the other); a part whose
 * drive failed is asked of the others after.
 */
struct csum_run {
    struct complete *c;
    unsigned *from; /* per part: the drive to ask */
    bool *done;
};

static bool
read_checksum(struct complete *c, unsigned j, size_t i, char *out, size_t cap)
{
    char *pkey = part_key(c->bucket, c->key, c->upload_id, c->parts[i].number);
    struct obj_meta m;
    bool ok;

    objmeta_init(&m);
    ok = drive_meta_read(c->set->drives[j], OBJ_MP_BUCKET, pkey, &m) == 0 &&
         !strcmp(m.vid, c->chosen[i]->vid);
    if (ok)
        checksum_of(&m, out, cap);
    objmeta_release(&m);
    free(pkey);
    return ok;
}

static int
csum_job(struct eset *set, unsigned j, void *arg)
{
    struct csum_run *r = arg;
    struct obj_part *pp = (struct obj_part *)(void *)r->c->meta.parts.ptr;
    size_t i;

    for (i = 0; i < r->c->n; i++)
        if (r->from[i] == j)
            r->done[i] = read_checksum(r->c, j, i, pp[i].checksum, sizeof(pp[i].checksum));
    return 0;
}

static void
read_part_checksums(struct complete *c)
{
    struct obj_part *pp = (struct obj_part *)(void *)c->meta.parts.ptr;
    struct csum_run r = { c, xcalloc(c->n, sizeof(unsigned)), xcalloc(c->n, sizeof(bool)) };
    bool mask[OBJ_MAX_SET] = { false };
    int rcs[OBJ_MAX_SET];
    unsigned j, k;
    size_t i;

    for (i = 0; i < c->n; i++) {
        r.from[i] = UINT_MAX;
        for (k = 0; k < c->set->n && r.from[i] == UINT_MAX; k++) {
            j = (unsigned)((i + k) % c->set->n); /* spread: part i starts at drive i mod n */
            if (holds_chosen(c, j, i))
                r.from[i] = j;
        }
        if (r.from[i] != UINT_MAX)
            mask[r.from[i]] = true;
    }
    object__run_meta(c->set, mask, csum_job, &r, rcs);
    for (i = 0; i < c->n; i++)
        for (j = 0; j < c->set->n && !r.done[i]; j++)
            if (j != r.from[i] && holds_chosen(c, j, i))
                r.done[i] = read_checksum(c, j, i, pp[i].checksum, sizeof(pp[i].checksum));
    free(r.from);
    free(r.done);
}

/*
 * The caller's edit of the new version (its checksum from the parts'), on a
 * view with each part's checksum: only the headers it changes are kept.
 */
static int
run_edit(struct complete *c, const struct obj_complete_opts *opts)
{
    struct obj_info view;
    int rc;

    read_part_checksums(c);
    obj_info_init(&view);
    object__info_from_meta(&view, &c->meta);
    rc = opts->edit(opts->edit_arg, &view);
    if (rc == 0) {
        buf_clear(&c->meta.headers);
        buf_addslice(&c->meta.headers, buf_slice(&view.headers));
    }
    obj_info_release(&view);
    return rc;
}

int
object__mp_complete(struct objlayer *ol, const char *bucket, const char *key, const char *upload_id,
                    const struct obj_mp_part *parts, size_t n, const struct obj_complete_opts *opts,
                    struct obj_info *info)
{
    struct complete c;
    struct obj_meta up;
    char *ukey = NULL, *prefix = NULL;
    int rcs[OBJ_MAX_SET];
    unsigned j, linked = 0;
    int rc;

    if (n == 0 || n > OBJMETA_MAX_PARTS)
        return -ERR_INVAL;
    memset(&c, 0, sizeof(c));
    objmeta_init(&c.meta);
    objmeta_init(&up);
    rc = mp_stat(ol, bucket, key, upload_id, &up, &c.set); /* the object's set in its pool */
    if (rc < 0)
        goto out;
    c.ol = ol;
    c.bucket = bucket;
    c.key = key;
    c.upload_id = upload_id;
    c.parts = parts;
    c.n = n;
    c.chosen = xcalloc(n, sizeof(*c.chosen));
    if (up.k + up.m != c.set->n) {
        rc = -ERR_CORRUPT;
        goto out;
    }
    ukey = upload_key(bucket, key, upload_id);
    prefix = part_key(bucket, key, upload_id, 0);
    scan_parts(c.set, &c.ps, prefix);
    rc = check_parts(&c, &up);
    if (rc < 0)
        goto out;
    objmeta_new_vid(c.meta.vid);
    buf_add(&c.meta.headers, up.headers.ptr, up.headers.len);
    c.meta.k = up.k;
    c.meta.m = up.m;
    c.meta.reduced = up.reduced;
    c.meta.block_size = up.block_size;
    memcpy(c.meta.dist, up.dist, sizeof(c.meta.dist));
    if (opts && opts->edit) {
        rc = run_edit(&c, opts);
        if (rc < 0)
            goto out;
    }
    object__run(c.set, NULL, link_job, &c, rcs);
    for (j = 0; j < c.set->n; j++) {
        c.staged[j] = rcs[j] == 0;
        linked += c.staged[j];
    }
    rc = object__commit_staged(ol, bucket, key, &c.meta, c.staged, c.set, opts ? opts->cond : NULL);
    if (rc < 0) {
        if (rc != -ERR_PRECONDITION_FAILED &&
            rc != -ERR_KEY_NOT_FOUND) /* not a client's condition */
            log_warn(&(struct log_ctx){ .bucket = bucket, .key = key },
                     "multipart completion failed on %u linked drives: %s", linked, err_name(rc));
        goto out;
    }
    drop_upload(c.set, ukey, &c.ps);
    if (info)
        object__info_from_meta(info, &c.meta);
out:
    scan_release(&c.ps);
    free(c.chosen);
    free(ukey);
    free(prefix);
    objmeta_release(&c.meta);
    objmeta_release(&up);
    return rc;
}

int
object__mp_abort(struct objlayer *ol, const char *bucket, const char *key, const char *upload_id)
{
    struct eset *set;
    struct part_scan ps;
    char *ukey, *prefix;
    int rc;

    rc = upload_exists(ol, bucket, key, upload_id, &set);
    if (rc < 0)
        return rc;
    ukey = upload_key(bucket, key, upload_id);
    prefix = part_key(bucket, key, upload_id, 0);
    scan_parts(set, &ps, prefix);
    drop_upload(set, ukey, &ps);
    scan_release(&ps);
    free(ukey);
    free(prefix);
    return 0;
}

/* ---- listings ---- */

struct parts_list {
    struct objlayer *ol;
    const char *prefix; /* of the parts' keys */
    bool checksums;     /* read each part's record for its checksum */
    size_t prefix_len;
    unsigned after, limit, count;
    obj_part_fn *cb;
    void *arg;
    int rc;
};

static int
parts_cb(void *arg, const struct obj_list_ent *e)
{
    struct parts_list *pl = arg;
    struct obj_info_part part;
    uint64_t number;

    if (e->key.len != pl->prefix_len + 5 ||
        parse_u64(slice_make(e->key.ptr + pl->prefix_len, 5), &number) < 0 || number < 1 ||
        number > OBJMETA_MAX_PARTS || number <= pl->after)
        return 0;
    if (pl->limit && pl->count >= pl->limit)
        return 1;
    memset(&part, 0, sizeof(part));
    part.number = (uint32_t)number;
    part.size = e->size;
    snprintf(part.etag, sizeof(part.etag), "%s", e->etag ? e->etag : "");
    if (pl->checksums) {
        struct obj_meta m;
        struct buf pkey = BUF_INIT;

        objmeta_init(&m);
        buf_addf(&pkey, "%s%05u", pl->prefix, part.number);
        if (object__head_meta(pl->ol, OBJ_MP_BUCKET, pkey.ptr, &m) == 0 && m.size == part.size)
            checksum_of(&m, part.checksum, sizeof(part.checksum));
        objmeta_release(&m);
        buf_release(&pkey);
    }
    pl->count++;
    return pl->cb(pl->arg, &part, e->mtime_ns);
}

int
object__mp_list_parts(struct objlayer *ol, const char *bucket, const char *key,
                      const char *upload_id, unsigned after, unsigned limit, bool checksums,
                      obj_part_fn *cb, void *arg)
{
    struct parts_list pl = { 0 };
    struct buf after_key = BUF_INIT;
    char *prefix;
    int rc;

    rc = upload_exists(ol, bucket, key, upload_id, NULL);
    if (rc < 0)
        return rc;
    prefix = part_key(bucket, key, upload_id, 0);
    pl.ol = ol;
    pl.prefix = prefix;
    pl.checksums = checksums;
    pl.prefix_len = strlen(prefix);
    pl.after = after;
    pl.limit = limit;
    pl.cb = cb;
    pl.arg = arg;
    if (after) {
        buf_adds(&after_key, prefix);
        buf_addf(&after_key, "%05u", MIN(after, OBJMETA_MAX_PARTS));
    }
    rc = object__list(ol, OBJ_MP_BUCKET, slice_cstr(prefix), buf_slice(&after_key),
                      limit ? limit + 1 : 0, 0, parts_cb, &pl);
    buf_release(&after_key);
    free(prefix);
    return rc < 0 ? rc : 0;
}

struct uploads_list {
    size_t prefix_len; /* of "u/<bucket>/" */
    obj_upload_fn *cb;
    void *arg;
};

static int
uploads_cb(void *arg, const struct obj_list_ent *e)
{
    struct uploads_list *ul = arg;
    struct slice rest = slice_make(e->key.ptr + ul->prefix_len, e->key.len - ul->prefix_len);
    ssize_t sep = last_of(rest, OBJ_MP_SEP);
    char id[OBJMETA_VID_LEN + 1];

    if (sep < 0 || rest.len - (size_t)sep - 1 != OBJMETA_VID_LEN)
        return 0;
    memcpy(id, rest.ptr + sep + 1, OBJMETA_VID_LEN);
    id[OBJMETA_VID_LEN] = '\0';
    if (!valid_id(id))
        return 0;
    return ul->cb(ul->arg, slice_make(rest.ptr, (size_t)sep), id, e->mtime_ns, e->reduced);
}

int
object__mp_list_uploads(struct objlayer *ol, const char *bucket, struct slice prefix,
                        struct slice after_key, const char *after_id, obj_upload_fn *cb, void *arg)
{
    struct uploads_list ul = { 0 };
    struct buf p = BUF_INIT, after = BUF_INIT;
    int rc = object__bucket_stat(ol, bucket, NULL);

    if (rc < 0)
        return rc;
    buf_addf(&p, "u/%s/", bucket);
    ul.prefix_len = p.len;
    ul.cb = cb;
    ul.arg = arg;
    if (after_key.ptr) {
        buf_addslice(&after, buf_slice(&p));
        buf_addslice(&after, after_key);
        /* after every upload of the key, or after the one named */
        buf_addch(&after, after_id && after_id[0] ? OBJ_MP_SEP : (char)(OBJ_MP_SEP + 1));
        if (after_id && after_id[0])
            buf_adds(&after, after_id);
    }
    buf_addslice(&p, prefix);
    rc = object__list(ol, OBJ_MP_BUCKET, buf_slice(&p), after.ptr ? buf_slice(&after) : SLICE_NULL,
                      0, 0, uploads_cb, &ul);
    buf_release(&p);
    buf_release(&after);
    return rc < 0 ? rc : 0;
}

/* ---- removal of whole sets of uploads ---- */

struct pending {
    char *bucket, *key, id[OBJMETA_VID_LEN + 1];
};

struct collect {
    const char *bucket;
    int64_t before_ns; /* 0: all */
    struct pending *v;
    size_t n, cap;
};

static int
collect_cb(void *arg, struct slice key, const char *upload_id, int64_t initiated_ns, bool reduced)
{
    struct collect *c = arg;

    if (c->before_ns && initiated_ns >= c->before_ns)
        return 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
    }
    c->v[c->n].bucket = xstrdup(c->bucket);
    c->v[c->n].key = xmalloc(key.len + 1);
    memcpy(c->v[c->n].key, key.ptr, key.len);
    c->v[c->n].key[key.len] = '\0';
    memcpy(c->v[c->n].id, upload_id, sizeof(c->v[c->n].id));
    c->n++;
    return 0;
}

static int
abort_collected(struct objlayer *ol, struct collect *c)
{
    size_t i;
    int n = 0;

    for (i = 0; i < c->n; i++) {
        if (object__mp_abort(ol, c->v[i].bucket, c->v[i].key, c->v[i].id) == 0)
            n++;
        free(c->v[i].bucket);
        free(c->v[i].key);
    }
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
    return n;
}

int
object__mp_drop_bucket(struct objlayer *ol, const char *bucket)
{
    struct collect c = { .bucket = bucket };
    struct buf p = BUF_INIT;
    int rc;

    /* The bucket may be gone already: list the system bucket directly. */
    struct uploads_list ul = { 0 };

    buf_addf(&p, "u/%s/", bucket);
    ul.prefix_len = p.len;
    ul.cb = collect_cb;
    ul.arg = &c;
    rc = object__list(ol, OBJ_MP_BUCKET, buf_slice(&p), SLICE_NULL, 0, 1, uploads_cb, &ul);
    buf_release(&p);
    abort_collected(ol, &c);
    return rc < 0 ? rc : 0;
}

/* Part records whose upload is gone (an UploadPart that finished after its abort). */
struct orphans {
    struct objlayer *ol;
    int64_t before_ns;
    char last_ukey_checked[1200];
    bool last_exists;
    struct buf dead; /* NUL-separated keys to delete */
};

static int
orphan_cb(void *arg, const struct obj_list_ent *e)
{
    struct orphans *o = arg;
    struct slice k = e->key;
    ssize_t sep = last_of(k, OBJ_MP_SEP);
    struct buf ukey = BUF_INIT;
    struct obj_meta m;

    if (sep < 0 || e->mtime_ns >= o->before_ns)
        return 0;
    buf_add(&ukey, "u", 1);
    buf_add(&ukey, k.ptr + 1, (size_t)sep - 1); /* "u/<bucket>/<key>\x01<id>" */
    if (strcmp(ukey.ptr, o->last_ukey_checked) != 0) {
        objmeta_init(&m);
        o->last_exists =
            object__head_meta(o->ol, OBJ_MP_BUCKET, ukey.ptr, &m) != -ERR_KEY_NOT_FOUND;
        objmeta_release(&m);
        snprintf(o->last_ukey_checked, sizeof(o->last_ukey_checked), "%s", ukey.ptr);
    }
    if (!o->last_exists) {
        buf_addslice(&o->dead, k);
        buf_addch(&o->dead, '\0');
    }
    buf_release(&ukey);
    return 0;
}

static int
delete_record_job(struct eset *set, unsigned j, void *arg)
{
    return drive_meta_delete(set->drives[j], OBJ_MP_BUCKET, arg, NULL);
}

int
object__mp_cleanup(struct objlayer *ol, int64_t before_ns)
{
    struct obj_bucket *buckets = NULL;
    struct orphans o = { .ol = ol, .before_ns = before_ns };
    size_t nb = 0, i, pos;
    int removed = 0, rc;

    rc = object__bucket_list(ol, &buckets, &nb);
    if (rc < 0)
        return rc;
    for (i = 0; i < nb; i++) {
        struct collect c = { .bucket = buckets[i].name, .before_ns = before_ns };

        object__mp_list_uploads(ol, buckets[i].name, SLICE_NULL, SLICE_NULL, NULL, collect_cb, &c);
        removed += abort_collected(ol, &c);
    }
    free(buckets);
    buf_init(&o.dead, 0);
    object__list(ol, OBJ_MP_BUCKET, SLICE_LIT("p/"), SLICE_NULL, 0, 1, orphan_cb, &o);
    for (pos = 0; pos < o.dead.len; pos += strlen(o.dead.ptr + pos) + 1) {
        const char *key = o.dead.ptr + pos;
        int rcs[OBJ_MAX_SET];
        unsigned p;

        for (p = 0; p < ol->npools; p++) /* several pools: it is in one of them */
            object__run(object__pool_set(ol, p, OBJ_MP_BUCKET, key), NULL, delete_record_job,
                        (void *)key, rcs);
    }
    buf_release(&o.dead);
    if (removed)
        log_info(&(struct log_ctx){ .event = "multipart_stale_removed" },
                 "removed %d multipart uploads older than the stale age", removed);
    return removed;
}
