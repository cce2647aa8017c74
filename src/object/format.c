/*
 * object/format.c: format.json, a drive's identity and the deployment's
 * layout, and the agreement on it when the layer opens:
 *
 *   format.json = {"version":1, "deployment_id":"<uuid>", "this":"<uuid>",
 *                  "pool":P, "set_size":N, "parity":M,
 *                  "sets":[["<uuid>", ...], ...]}
 *
 * Each pool is formatted on its own, all with the deployment's id: `sets`
 * are the pool's, `sets[s][j]` the id of drive j of its set s, and the drive
 * at position s*N+j of the pool must carry that id ("pool" is absent from
 * the formats of deployments made before pools: pool 0). A fresh deployment
 * (no drive formatted) is formatted whole; a fresh pool added to a
 * deployment is formatted with the deployment's id, by the node that formats
 * (every drive of the pool must answer); a drive found empty while others of
 * its pool are formatted (replaced) is formatted back into its slot and
 * healed. A drive of another deployment or pool, or in the wrong slot, stops
 * start-up with a message that says which.
 */
#include "util/base.h"

#include <jansson.h>
#include <sys/random.h>

#include "obs/log.h"
#include "object/internal.h"
#include "util/enc.h"

static void
new_uuid(char out[37])
{
    uint8_t r[16];
    char hex[33];

    if (getrandom(r, sizeof(r), 0) != sizeof(r))
        die("getrandom failed");
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    hex_encode_to(hex, r, sizeof(r));
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---- format.json ---- */

struct format {
    char deployment_id[37];
    char this_id[37];
    unsigned pool;
    unsigned set_size, parity, nsets;
    char (*ids)[37]; /* nsets * set_size */
};

static void
format_release(struct format *f)
{
    free(f->ids);
    memset(f, 0, sizeof(*f));
}

static int
format_parse(struct slice text, struct format *f, struct buf *errmsg)
{
    json_error_t jerr;
    json_t *root = json_loadb(text.ptr, text.len, 0, &jerr), *sets;
    const char *dep = NULL, *me = NULL;
    json_int_t pool = 0;
    size_t s, j;
    int rc = -ERR_CORRUPT;

    memset(f, 0, sizeof(*f));
    if (!root ||
        json_unpack(root, "{s:s, s:s, s:i, s:i, s:o, s?I}", "deployment_id", &dep, "this", &me,
                    "set_size", &f->set_size, "parity", &f->parity, "sets", &sets, "pool",
                    &pool) < 0 ||
        pool < 0 || pool >= OBJ_MAX_POOLS || !json_is_array(sets) || strlen(dep) != 36 ||
        strlen(me) != 36 || f->set_size < 2 || f->set_size > OBJ_MAX_SET ||
        f->parity > f->set_size / 2 || json_array_size(sets) == 0) {
        buf_addf(errmsg, "format.json is not valid");
        goto out;
    }
    snprintf(f->deployment_id, sizeof(f->deployment_id), "%s", dep);
    snprintf(f->this_id, sizeof(f->this_id), "%s", me);
    f->pool = (unsigned)pool;
    f->nsets = (unsigned)json_array_size(sets);
    f->ids = xcalloc((size_t)f->nsets * f->set_size, sizeof(*f->ids));
    for (s = 0; s < f->nsets; s++) {
        json_t *set = json_array_get(sets, s);

        if (!json_is_array(set) || json_array_size(set) != f->set_size) {
            buf_addf(errmsg, "format.json: set %zu has the wrong size", s);
            format_release(f);
            goto out;
        }
        for (j = 0; j < f->set_size; j++) {
            const char *id = json_string_value(json_array_get(set, j));

            if (!id || strlen(id) != 36) {
                buf_addf(errmsg, "format.json: bad drive id in set %zu", s);
                format_release(f);
                goto out;
            }
            snprintf(f->ids[s * f->set_size + j], 37, "%s", id);
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static void
format_render(const struct format *f, const char *this_id, struct buf *out)
{
    json_t *root = json_object(), *sets = json_array();
    unsigned s, j;
    char *text;

    for (s = 0; s < f->nsets; s++) {
        json_t *set = json_array();

        for (j = 0; j < f->set_size; j++)
            json_array_append_new(set, json_string(f->ids[s * f->set_size + j]));
        json_array_append_new(sets, set);
    }
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "format", json_string("basalt-erasure"));
    json_object_set_new(root, "deployment_id", json_string(f->deployment_id));
    json_object_set_new(root, "this", json_string(this_id));
    json_object_set_new(root, "pool", json_integer(f->pool));
    json_object_set_new(root, "set_size", json_integer(f->set_size));
    json_object_set_new(root, "parity", json_integer(f->parity));
    json_object_set_new(root, "sets", sets);
    text = json_dumps(root, JSON_INDENT(2));
    buf_adds(out, text);
    buf_addch(out, '\n');
    free(text);
    json_decref(root);
}

static int
format_write_one(struct drive *d, const struct format *f, size_t pos)
{
    struct buf text = BUF_INIT;
    int rc;

    format_render(f, f->ids[pos], &text);
    rc = drive_format_write(d, buf_slice(&text));
    buf_release(&text);
    return rc;
}

/* Reads every drive's format; formats fresh or replaced drives; checks slots. */
#define AGREE_WAIT 1 /* agree_pool(): not yet; `errmsg` says what it waits for */

/* The pool of layer drive `i`. */
static unsigned
pool_of(const struct objlayer *ol, size_t i)
{
    unsigned p = 0;

    while (p + 1 < ol->npools && i >= ol->pools[p + 1].first_drive)
        p++;
    return p;
}

/*
 * Writes the format of a fresh pool to its drive `l` (layer drive `i`).
 * Another node may have formatted it back from what this node wrote to the
 * others a moment ago (a fresh cluster read half-way): the same format there
 * is fine.
 */
static int
format_fresh_one(struct objlayer *ol, const struct format *ref, size_t i, size_t l)
{
    struct buf text = BUF_INIT, why = BUF_INIT;
    struct format got = { 0 };
    int rc = format_write_one(ol->drives[i], ref, l);

    if (rc == -ERR_EXISTS && drive_format_read(ol->drives[i], &text) == 0 &&
        format_parse(buf_slice(&text), &got, &why) == 0 &&
        !strcmp(got.deployment_id, ref->deployment_id) && !strcmp(got.this_id, ref->ids[l]))
        rc = 0;
    format_release(&got);
    buf_release(&text);
    buf_release(&why);
    return rc;
}

/*
 * The formats of the pool's drives: fmts[l] and have[l] = 1 for a drive with
 * one, 0 for a drive without (fresh or replaced), -2 for one that looks not
 * mounted, -1 for one that does not answer. *nfmt counts the formatted ones,
 * *ref_l is the first of them. An unreadable format.json is an error.
 */
static int
read_pool_formats(struct objlayer *ol, const struct obj_pool *pool, struct format *fmts, int *have,
                  size_t *nfmt, size_t *ref_l, struct buf *errmsg)
{
    size_t l;
    int rc = 0;

    for (l = 0; l < pool->ndrives && rc == 0; l++) {
        struct drive *d = ol->drives[pool->first_drive + l];
        struct buf text = BUF_INIT, why = BUF_INIT;

        rc = drive_format_read(d, &text);
        /* a drive not opened (its disk did not mount) holds no format, and is never formatted */
        if (rc == -ERR_OFFLINE && drive_check(d) == -ERR_NOT_MOUNTED)
            rc = -ERR_NOT_MOUNTED;
        if (rc == 0 && format_parse(buf_slice(&text), &fmts[l], &why) == 0) {
            have[l] = 1;
            if (!(*nfmt)++)
                *ref_l = l;
        } else if (rc == 0) {
            buf_addf(errmsg, "drive %s: %s", drive_endpoint(d), why.ptr);
            rc = -ERR_CORRUPT;
        } else if (rc == -ERR_NOT_FOUND) {
            rc = 0;
        } else if (rc == -ERR_NOT_MOUNTED) {
            have[l] = -2;
            rc = 0;
        } else {
            /* another node's drive: its node is down or starting (the wait says so, once a
             * second would flood the log) */
            if (!drive_is_remote(d))
                log_warn(&(struct log_ctx){ .drive = drive_endpoint(d) },
                         "cannot read format.json: %s", err_name(rc));
            have[l] = -1; /* offline: left alone */
            rc = 0;
        }
        buf_release(&text);
        buf_release(&why);
    }
    return rc;
}

/* A pool with no formatted drive: whether this node may format it now (0), or why not. */
static int
fresh_pool_ready(struct objlayer *ol, const struct obj_pool *pool, const int *have, const char *in,
                 struct buf *errmsg)
{
    size_t l;

    for (l = 0; l < pool->ndrives; l++) {
        const char *ep = drive_endpoint(ol->drives[pool->first_drive + l]);

        /* The unreadable drive may be the only formatted one: a new format would orphan it. */
        if (have[l] == -1) {
            buf_addf(errmsg,
                     "%sdrive %s cannot be read and no other drive is formatted: not formatting "
                     "until every drive answers",
                     in, ep);
            return ol->wait ? AGREE_WAIT : -ERR_OFFLINE;
        }
        /* Checked before any format.json is written: a refused start leaves nothing formatted. */
        if (have[l] == -2) { /* no format.json and looks not mounted (drive_local_open) */
            buf_addf(errmsg,
                     "%sdrive %s is not a mount point but lies on the file system other drives' "
                     "disks are mounted onto: a disk that did not mount? Not formatting it; "
                     "mount its disk first",
                     in, ep);
            return -ERR_INVAL;
        }
    }
    if (!ol->format_fresh) {
        /* Exactly one node formats a fresh cluster or pool (the first): the others adopt it. */
        buf_addf(errmsg, "%sno drive is formatted yet: waiting for %s to format it", in,
                 ol->formatter ? ol->formatter : "the first node");
        return ol->wait ? AGREE_WAIT : -ERR_OFFLINE;
    }
    return 0;
}

/* Drive `l` of the pool against the pool's reference format: checks it, or formats it. */
static int
agree_drive(struct objlayer *ol, const struct obj_pool *pool, const struct format *ref,
            const struct format *f, int have, size_t nfmt, size_t l, struct buf *errmsg)
{
    size_t i = pool->first_drive + l;
    const char *ep = drive_endpoint(ol->drives[i]);
    int rc = 0;

    if (have == 1 && strcmp(f->deployment_id, ref->deployment_id) != 0) {
        buf_addf(errmsg, "drive %s belongs to another deployment (%s, not %s)", ep,
                 f->deployment_id, ref->deployment_id);
        rc = -ERR_INVAL;
    } else if (have == 1 && f->pool != ref->pool) {
        buf_addf(errmsg,
                 "drive %s belongs to pool %u of this deployment, but was given in pool %u "
                 "(keep the order of the pools on the command line)",
                 ep, f->pool + 1, ref->pool + 1);
        rc = -ERR_INVAL;
    } else if (have == 1 && strcmp(f->this_id, ref->ids[l]) != 0) {
        buf_addf(errmsg,
                 "drive %s is in the wrong position: it is drive %s, expected %s (keep the "
                 "order of the drives on the command line)",
                 ep, f->this_id, ref->ids[l]);
        rc = -ERR_INVAL;
    } else if (have == 0 && nfmt > 0 && drive_is_remote(ol->drives[i])) {
        /* Another node's empty drive: that node formats it back, never this one. */
    } else if (have == 0 && nfmt > 0 && !ol->format_fresh && !ol->format_settled && ol->wait) {
        /*
         * This node's empty drive while others are formatted: replaced, or the
         * first node formatting a fresh cluster right now? Look again in a moment.
         */
        ol->format_settled = true;
        buf_addf(errmsg,
                 "drive %s has no format.json yet while others have: looking again "
                 "before formatting it back",
                 ep);
        rc = AGREE_WAIT;
    } else if (have == 0) {
        rc = nfmt ? format_write_one(ol->drives[i], ref, l) : format_fresh_one(ol, ref, i, l);
        if (rc < 0) {
            buf_addf(errmsg, "drive %s: cannot write format.json: %s", ep, err_msg(rc));
        } else if (nfmt > 0) {
            ol->drives_formatted++;
            log_warn(&(struct log_ctx){ .drive = ep, .event = "drive_formatted" },
                     "drive was empty: formatted back into its place, healing queued");
        }
    }
    return rc;
}

/*
 * Agrees on pool `p`'s format: `dep` is the deployment's id ("" when no
 * drive of any pool is formatted: a new one is made). Fills the pool's
 * geometry from its format.
 */
static int
agree_pool(struct objlayer *ol, unsigned p, char dep[37], struct buf *errmsg)
{
    struct obj_pool *pool = &ol->pools[p];
    struct format *fmts = xcalloc(pool->ndrives, sizeof(*fmts));
    struct format ref = { 0 };
    int *have = xcalloc(pool->ndrives, sizeof(*have));
    size_t l, nfmt = 0, ref_l = 0;
    char in[32] = "";
    int rc;

    if (ol->npools > 1)
        snprintf(in, sizeof(in), "pool %u: ", p + 1);
    rc = read_pool_formats(ol, pool, fmts, have, &nfmt, &ref_l, errmsg);
    if (rc == 0 && nfmt == 0)
        rc = fresh_pool_ready(ol, pool, have, in, errmsg);
    if (rc != 0)
        goto out;
    if (nfmt == 0) {
        ol->pool_added |= dep[0] != '\0'; /* a new pool of a deployment: buckets to make */
        ref.pool = p;
        ref.set_size = pool->set_size;
        ref.parity = pool->parity;
        ref.nsets = (unsigned)(pool->ndrives / pool->set_size);
        if (!dep[0])
            new_uuid(dep);
        snprintf(ref.deployment_id, sizeof(ref.deployment_id), "%s", dep);
        ref.ids = xcalloc(pool->ndrives, sizeof(*ref.ids));
        for (l = 0; l < pool->ndrives; l++)
            new_uuid(ref.ids[l]);
    } else {
        ref = fmts[ref_l];
        fmts[ref_l].ids = NULL;
        ref.pool = p; /* a drive formatted for another pool is refused by agree_drive() */
        if ((size_t)ref.nsets * ref.set_size != pool->ndrives) {
            buf_addf(errmsg,
                     "%sthe drives were formatted as %u sets of %u drives, but %zu drives were "
                     "given",
                     in, ref.nsets, ref.set_size, pool->ndrives);
            rc = -ERR_INVAL;
            goto out;
        }
        if (!dep[0])
            snprintf(dep, 37, "%s", ref.deployment_id);
    }
    for (l = 0; l < pool->ndrives && rc == 0; l++)
        rc = agree_drive(ol, pool, &ref, &fmts[l], have[l], nfmt, l, errmsg);
    if (rc == 0) {
        pool->set_size = ref.set_size;
        pool->parity = ref.parity;
        pool->nsets = ref.nsets;
    }
out:
    for (l = 0; l < pool->ndrives; l++)
        format_release(&fmts[l]);
    format_release(&ref);
    free(fmts);
    free(have);
    return rc;
}

/* The deployment id any drive's format.json holds ("" if none is formatted). */
static void
find_deployment(struct objlayer *ol, char dep[37])
{
    size_t i;

    dep[0] = '\0';
    for (i = 0; i < ol->ndrives && !dep[0]; i++) {
        struct buf text = BUF_INIT, why = BUF_INIT;
        struct format f = { 0 };

        if (drive_format_read(ol->drives[i], &text) == 0 &&
            format_parse(buf_slice(&text), &f, &why) == 0)
            snprintf(dep, 37, "%s", f.deployment_id);
        format_release(&f);
        buf_release(&text);
        buf_release(&why);
    }
}

static int
agree_once(struct objlayer *ol, struct buf *errmsg)
{
    char dep[37];
    unsigned p;
    int rc = 0;

    find_deployment(ol, dep);
    for (p = 0; p < ol->npools && rc == 0; p++)
        rc = agree_pool(ol, p, dep, errmsg);
    if (rc == 0)
        snprintf(ol->deployment_id, sizeof(ol->deployment_id), "%s", dep);
    return rc;
}

/* The format another drive of `pos`'s pool than `pos` holds; false if none answers. */
static bool
format_reference(struct objlayer *ol, size_t pos, struct format *ref)
{
    const struct obj_pool *pool = &ol->pools[pool_of(ol, pos)];
    size_t i;

    for (i = pool->first_drive; i < pool->first_drive + pool->ndrives; i++) {
        struct buf text = BUF_INIT, why = BUF_INIT;
        bool ok = i != pos && drive_format_read(ol->drives[i], &text) == 0 &&
                  format_parse(buf_slice(&text), ref, &why) == 0 &&
                  (size_t)ref->nsets * ref->set_size == pool->ndrives;

        if (!ok)
            format_release(ref);
        buf_release(&text);
        buf_release(&why);
        if (ok)
            return true;
    }
    return false;
}

int
object__format_is_drive(void *arg, struct slice text)
{
    struct format_check *c = arg;
    struct format got = { 0 }, ref = { 0 };
    size_t l = c->pos - c->ol->pools[pool_of(c->ol, c->pos)].first_drive;
    int rc = -ERR_INVAL;

    if (format_parse(text, &got, &c->why) < 0)
        return -ERR_CORRUPT;
    if (strcmp(got.deployment_id, c->ol->deployment_id) != 0) {
        buf_addf(&c->why, "it belongs to another deployment (%s, not %s)", got.deployment_id,
                 c->ol->deployment_id);
    } else if (!format_reference(c->ol, c->pos, &ref)) {
        buf_adds(&c->why, "no other drive answers with this deployment's format");
        rc = -ERR_QUORUM;
    } else if (got.pool != ref.pool) {
        buf_addf(&c->why, "it is a drive of pool %u, this position is in pool %u", got.pool + 1,
                 ref.pool + 1);
    } else if (strcmp(got.this_id, ref.ids[l]) != 0) {
        buf_addf(&c->why, "it is drive %s of this deployment, this position holds %s", got.this_id,
                 ref.ids[l]);
    } else {
        rc = 0;
    }
    format_release(&got);
    format_release(&ref);
    return rc;
}

int
object__format_back(struct objlayer *ol, size_t pos)
{
    struct format ref = { 0 };
    int rc = -ERR_QUORUM;

    if (!format_reference(ol, pos, &ref))
        return rc;
    rc = format_write_one(ol->drives[pos], &ref, pos - ol->pools[pool_of(ol, pos)].first_drive);
    format_release(&ref);
    if (rc == 0)
        __atomic_add_fetch(&ol->drives_formatted, 1, __ATOMIC_RELAXED);
    return rc;
}

/* Asks again, before the next try, the drives that did not answer (another node up since?). */
static void
recheck_offline(struct objlayer *ol)
{
    size_t i;

    for (i = 0; i < ol->ndrives; i++)
        if (!drive_is_online(ol->drives[i]))
            drive_check(ol->drives[i]);
}

int
object__agree_format(struct objlayer *ol, struct buf *errmsg)
{
    struct buf why = BUF_INIT;
    int rc;

    for (;;) {
        buf_clear(&why);
        rc = agree_once(ol, &why);
        if (rc != AGREE_WAIT)
            break;
        if (ol->wait(ol->wait_arg, why.ptr) < 0) {
            rc = -ERR_OFFLINE;
            break;
        }
        recheck_offline(ol);
    }
    if (rc < 0)
        buf_addslice(errmsg, buf_slice(&why));
    buf_release(&why);
    return rc;
}
