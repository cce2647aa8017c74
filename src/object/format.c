/*
 * object/format.c: format.json, a drive's identity and the deployment's
 * layout, and the agreement on it when the layer opens:
 *
 *   format.json = {"version":1, "deployment_id":"<uuid>", "this":"<uuid>",
 *                  "set_size":N, "parity":M, "sets":[["<uuid>", ...], ...]}
 *
 * `sets[s][j]` is the id of drive j of set s; the drive at command-line
 * position s*N+j must carry that id. A fresh deployment (no drive formatted)
 * is formatted whole; a drive found empty while others are formatted
 * (replaced) is formatted back into its slot and healed. A drive of another
 * deployment, or in the wrong slot, stops start-up with a message that says
 * which.
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
    size_t s, j;
    int rc = -ERR_CORRUPT;

    memset(f, 0, sizeof(*f));
    if (!root ||
        json_unpack(root, "{s:s, s:s, s:i, s:i, s:o}", "deployment_id", &dep, "this", &me,
                    "set_size", &f->set_size, "parity", &f->parity, "sets", &sets) < 0 ||
        !json_is_array(sets) || strlen(dep) != 36 || strlen(me) != 36 || f->set_size < 2 ||
        f->set_size > OBJ_MAX_SET || f->parity > f->set_size / 2 || json_array_size(sets) == 0) {
        buf_addf(errmsg, "format.json is not valid");
        goto out;
    }
    snprintf(f->deployment_id, sizeof(f->deployment_id), "%s", dep);
    snprintf(f->this_id, sizeof(f->this_id), "%s", me);
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
#define AGREE_WAIT 1 /* agree_once(): not yet; `errmsg` says what it waits for */

/*
 * Writes the format of a fresh deployment to drive `i`. Another node may
 * have formatted it back from what this node wrote to the others a moment
 * ago (a fresh cluster read half-way): the same format there is fine.
 */
static int
format_fresh_one(struct objlayer *ol, const struct format *ref, size_t i)
{
    struct buf text = BUF_INIT, why = BUF_INIT;
    struct format got = { 0 };
    int rc = format_write_one(ol->drives[i], ref, i);

    if (rc == -ERR_EXISTS && drive_format_read(ol->drives[i], &text) == 0 &&
        format_parse(buf_slice(&text), &got, &why) == 0 &&
        !strcmp(got.deployment_id, ref->deployment_id) && !strcmp(got.this_id, ref->ids[i]))
        rc = 0;
    format_release(&got);
    buf_release(&text);
    buf_release(&why);
    return rc;
}

static int
agree_once(struct objlayer *ol, unsigned set_size, unsigned parity, struct buf *errmsg)
{
    struct format *fmts = xcalloc(ol->ndrives, sizeof(*fmts));
    struct format ref = { 0 };
    int *have = xcalloc(ol->ndrives, sizeof(*have));
    size_t i, nfmt = 0, ref_i = 0;
    int rc = 0;

    for (i = 0; i < ol->ndrives; i++) {
        struct buf text = BUF_INIT, why = BUF_INIT;

        rc = drive_format_read(ol->drives[i], &text);
        /* a drive not opened (its disk did not mount) holds no format, and is never formatted */
        if (rc == -ERR_OFFLINE && drive_check(ol->drives[i]) == -ERR_NOT_MOUNTED)
            rc = -ERR_NOT_MOUNTED;
        if (rc == 0 && format_parse(buf_slice(&text), &fmts[i], &why) == 0) {
            have[i] = 1;
            if (!nfmt++)
                ref_i = i;
        } else if (rc == 0) {
            buf_addf(errmsg, "drive %s: %s", drive_endpoint(ol->drives[i]), why.ptr);
            rc = -ERR_CORRUPT;
        } else if (rc == -ERR_NOT_FOUND) {
            rc = 0;
        } else if (rc == -ERR_NOT_MOUNTED) {
            have[i] = -2;
            rc = 0;
        } else {
            log_warn(&(struct log_ctx){ .drive = drive_endpoint(ol->drives[i]) },
                     "cannot read format.json: %s", err_name(rc));
            have[i] = -1; /* offline: left alone */
            rc = 0;
        }
        buf_release(&text);
        buf_release(&why);
        if (rc < 0)
            goto out;
    }
    for (i = 0; i < ol->ndrives && nfmt == 0; i++) {
        /* The unreadable drive may be the only formatted one: a new deployment would orphan it. */
        if (have[i] == -1) {
            buf_addf(errmsg,
                     "drive %s cannot be read and no other drive is formatted: not formatting "
                     "a new deployment until every drive answers",
                     drive_endpoint(ol->drives[i]));
            rc = ol->wait ? AGREE_WAIT : -ERR_OFFLINE;
            goto out;
        }
        /* Checked before any format.json is written: a refused start leaves nothing formatted. */
        if (have[i] == -2) { /* no format.json and looks not mounted (drive_local_open) */
            buf_addf(errmsg,
                     "drive %s is not a mount point but lies on the file system other drives' "
                     "disks are mounted onto: a disk that did not mount? Not formatting a new "
                     "deployment onto it; mount its disk first",
                     drive_endpoint(ol->drives[i]));
            rc = -ERR_INVAL;
            goto out;
        }
    }
    if (nfmt == 0 && !ol->format_fresh) {
        /* Exactly one node formats a fresh cluster (the first): the others adopt its format. */
        buf_addf(errmsg, "no drive is formatted yet: waiting for %s to format the deployment",
                 ol->formatter ? ol->formatter : "the first node");
        rc = ol->wait ? AGREE_WAIT : -ERR_OFFLINE;
        goto out;
    }
    if (nfmt == 0) {
        ref.set_size = set_size;
        ref.parity = parity;
        ref.nsets = (unsigned)(ol->ndrives / set_size);
        new_uuid(ref.deployment_id);
        ref.ids = xcalloc(ol->ndrives, sizeof(*ref.ids));
        for (i = 0; i < ol->ndrives; i++)
            new_uuid(ref.ids[i]);
    } else {
        ref = fmts[ref_i];
        fmts[ref_i].ids = NULL;
        if ((size_t)ref.nsets * ref.set_size != ol->ndrives) {
            buf_addf(errmsg,
                     "the drives were formatted as %u sets of %u drives, but %zu drives were "
                     "given",
                     ref.nsets, ref.set_size, ol->ndrives);
            rc = -ERR_INVAL;
            goto out;
        }
    }
    for (i = 0; i < ol->ndrives && rc == 0; i++) {
        const char *ep = drive_endpoint(ol->drives[i]);

        if (have[i] == 1 && strcmp(fmts[i].deployment_id, ref.deployment_id) != 0) {
            buf_addf(errmsg, "drive %s belongs to another deployment (%s, not %s)", ep,
                     fmts[i].deployment_id, ref.deployment_id);
            rc = -ERR_INVAL;
        } else if (have[i] == 1 && strcmp(fmts[i].this_id, ref.ids[i]) != 0) {
            buf_addf(errmsg,
                     "drive %s is in the wrong position: it is drive %s, expected %s (keep the "
                     "order of the drives on the command line)",
                     ep, fmts[i].this_id, ref.ids[i]);
            rc = -ERR_INVAL;
        } else if (have[i] == 0 && nfmt > 0 && drive_is_remote(ol->drives[i])) {
            /* Another node's empty drive: that node formats it back, never this one. */
        } else if (have[i] == 0 && nfmt > 0 && !ol->format_fresh && !ol->format_settled &&
                   ol->wait) {
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
        } else if (have[i] == 0) {
            rc = nfmt ? format_write_one(ol->drives[i], &ref, i) : format_fresh_one(ol, &ref, i);
            if (rc < 0) {
                buf_addf(errmsg, "drive %s: cannot write format.json: %s", ep, err_msg(rc));
            } else if (nfmt > 0) {
                ol->drives_formatted++;
                log_warn(&(struct log_ctx){ .drive = ep, .event = "drive_formatted" },
                         "drive was empty: formatted back into its place, healing queued");
            }
        }
    }
    if (rc == 0) {
        snprintf(ol->deployment_id, sizeof(ol->deployment_id), "%s", ref.deployment_id);
        ol->nsets = ref.nsets;
    }
out:
    for (i = 0; i < ol->ndrives; i++)
        format_release(&fmts[i]);
    if (rc == 0 && ol->nsets) {
        ol->sets = xcalloc(ol->nsets, sizeof(*ol->sets));
        for (i = 0; i < ol->nsets; i++) {
            ol->sets[i].n = ref.set_size;
            ol->sets[i].m = ref.parity;
            ol->sets[i].k = ref.set_size - ref.parity;
        }
    }
    format_release(&ref);
    free(fmts);
    free(have);
    return rc;
}

/* The format another drive than `pos` holds (the deployment's); false if none answers. */
static bool
format_reference(struct objlayer *ol, size_t pos, struct format *ref)
{
    size_t i;

    for (i = 0; i < ol->ndrives; i++) {
        struct buf text = BUF_INIT, why = BUF_INIT;
        bool ok = i != pos && drive_format_read(ol->drives[i], &text) == 0 &&
                  format_parse(buf_slice(&text), ref, &why) == 0;

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
    int rc = -ERR_INVAL;

    if (format_parse(text, &got, &c->why) < 0)
        return -ERR_CORRUPT;
    if (strcmp(got.deployment_id, c->ol->deployment_id) != 0) {
        buf_addf(&c->why, "it belongs to another deployment (%s, not %s)", got.deployment_id,
                 c->ol->deployment_id);
    } else if (!format_reference(c->ol, c->pos, &ref)) {
        buf_adds(&c->why, "no other drive answers with this deployment's format");
        rc = -ERR_QUORUM;
    } else if (strcmp(got.this_id, ref.ids[c->pos]) != 0) {
        buf_addf(&c->why, "it is drive %s of this deployment, this position holds %s", got.this_id,
                 ref.ids[c->pos]);
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
    rc = format_write_one(ol->drives[pos], &ref, pos);
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
object__agree_format(struct objlayer *ol, unsigned set_size, unsigned parity, struct buf *errmsg)
{
    struct buf why = BUF_INIT;
    int rc;

    for (;;) {
        buf_clear(&why);
        rc = agree_once(ol, set_size, parity, &why);
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
