/*
 * object/objlayer.c: opening the object layer. Drives are opened, grouped into
 * erasure sets in command-line order, and their format.json files agreed on:
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

#include "object/objlayer.h"

#include <jansson.h>
#include <sys/random.h>
#include <unistd.h>

#include "obs/log.h"
#include "object/internal.h"
#include "util/enc.h"
#include "util/md5.h"

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

unsigned
object__write_quorum(unsigned k, unsigned m)
{
    return k == m ? k + 1 : k;
}

unsigned
object__delete_quorum(unsigned n)
{
    return n / 2 + 1;
}

static unsigned
default_parity(unsigned set_size)
{
    if (set_size <= 3)
        return 1;
    if (set_size <= 5)
        return 2;
    if (set_size <= 7)
        return 3;
    return 4;
}

static unsigned
choose_set_size(size_t ndrives)
{
    unsigned s;

    for (s = 16; s >= 2; s--)
        if (ndrives % s == 0)
            return s;
    return 0;
}

/* FNV-1a 64 of "bucket/key/": stable across versions and machines (it decides placement). */
static uint64_t
hash_pair(struct slice bucket, struct slice key)
{
    uint64_t h = 14695981039346656037ULL;
    const struct slice parts[2] = { bucket, key };
    size_t i, k;

    for (i = 0; i < 2; i++) {
        for (k = 0; k < parts[i].len; k++)
            h = (h ^ (unsigned char)parts[i].ptr[k]) * 1099511628211ULL;
        h = (h ^ '/') * 1099511628211ULL;
    }
    return h;
}

uint64_t
object__hash(const char *bucket, const char *key)
{
    return hash_pair(slice_cstr(bucket), slice_cstr(key));
}

struct eset *
object__pick_set(struct objlayer *ol, const char *bucket, const char *key)
{
    struct slice ob, ok;

    /* A multipart upload and its parts live in the set of the object to be. */
    if (object__mp_owner(bucket, key, &ob, &ok))
        return &ol->sets[hash_pair(ob, ok) % ol->nsets];
    return &ol->sets[object__hash(bucket, key) % ol->nsets];
}

pthread_mutex_t *
object__name_lock(struct objlayer *ol, const char *bucket, const char *key)
{
    return &ol->name_locks[(object__hash(bucket, key) >> 17) % OBJ_NAME_LOCKS];
}

struct erasure *
object__codec(struct objlayer *ol, unsigned k, unsigned m)
{
    struct erasure *e;

    if (k == 0 || k + m > ERASURE_MAX_SHARDS)
        return NULL;
    pthread_mutex_lock(&ol->codec_mu);
    e = ol->codecs[k][m];
    if (!e)
        e = ol->codecs[k][m] = erasure_new(k, m);
    pthread_mutex_unlock(&ol->codec_mu);
    return e;
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
static int
agree_format(struct objlayer *ol, unsigned set_size, unsigned parity, struct buf *errmsg)
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
            rc = -ERR_OFFLINE;
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
        } else if (have[i] == 0) {
            rc = format_write_one(ol->drives[i], &ref, i);
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

static int
open_drives(struct objlayer *ol, const struct objlayer_config *cfg, struct buf *errmsg)
{
    /* every drive knows its siblings, to tell a disk that did not mount (drive_local_open) */
    struct drive_local_opts opts = { .sync = cfg->sync,
                                     .siblings = cfg->drives,
                                     .nsiblings = cfg->ndrives };
    struct buf why = BUF_INIT;
    size_t i;
    int rc;

    ol->ndrives = cfg->ndrives;
    ol->drives = xcalloc(cfg->ndrives, sizeof(*ol->drives));
    ol->reattach_said = xcalloc(cfg->ndrives, sizeof(*ol->reattach_said));
    for (i = 0; i < cfg->ndrives; i++) {
        if (cfg->prebuilt) {
            ol->drives[i] = cfg->prebuilt[i];
            continue;
        }
        rc = drive_local_open(cfg->drives[i], &opts, &ol->drives[i], &why);
        if (rc < 0) {
            /* One dead drive must not keep the server down: it stays offline
             * and the set serves from the others (format agreement below
             * decides whether enough drives remain). */
            log_error(&(struct log_ctx){ .drive = cfg->drives[i], .event = "drive_open_failed" },
                      "cannot open the drive, it stays offline until restart: %s", why.ptr);
            ol->drives[i] = drive_offline_new(cfg->drives[i]);
        }
        buf_clear(&why);
    }
    buf_release(&why);
    (void)errmsg;
    return 0;
}

static void
build_sets(struct objlayer *ol)
{
    unsigned s, j;

    for (s = 0; s < ol->nsets; s++) {
        struct eset *set = &ol->sets[s];

        set->idx = s;
        set->ol = ol;
        for (j = 0; j < set->n; j++) {
            char name[16];

            set->drives[j] = ol->drives[s * set->n + j];
            /*
             * Spawn site of the per-drive I/O workers (OBJ_IO_THREADS each):
             * they run the shard appends, reads, fsyncs and commits of
             * object__run() jobs for this drive only, so a slow drive delays
             * only its own queue.
             */
            snprintf(name, sizeof(name), "io-%u.%u", s % 1000, j % 100);
            set->queues[j] = workq_new(name, OBJ_IO_THREADS);
        }
    }
}

static int
check_config(const struct objlayer_config *cfg, unsigned *set_size, unsigned *parity,
             struct buf *errmsg)
{
    if (cfg->ndrives < 2) {
        buf_addf(errmsg, "at least 2 drives are needed for erasure coding (%zu given)",
                 cfg->ndrives);
        return -ERR_INVAL;
    }
    *set_size = cfg->set_size ? cfg->set_size : choose_set_size(cfg->ndrives);
    if (*set_size < 2 || *set_size > OBJ_MAX_SET || cfg->ndrives % *set_size) {
        buf_addf(errmsg,
                 "%zu drives cannot be split into erasure sets of 2 to 16 drives of equal size",
                 cfg->ndrives);
        return -ERR_INVAL;
    }
    *parity = cfg->parity ? cfg->parity : default_parity(*set_size);
    if (*parity > *set_size / 2) {
        buf_addf(errmsg, "parity %u is more than half the set size %u", *parity, *set_size);
        return -ERR_INVAL;
    }
    return 0;
}

static void
init_locks(struct objlayer *ol)
{
    size_t i;

    pthread_mutex_init(&ol->codec_mu, NULL);
    pthread_mutex_init(&ol->heal_mu, NULL);
    pthread_mutex_init(&ol->drive_mu, NULL);
    pthread_mutex_init(&ol->heal_obj_mu, NULL);
    pthread_cond_init(&ol->heal_cv, NULL);
    list_init(&ol->heal_queue);
    for (i = 0; i < OBJ_NAME_LOCKS; i++)
        pthread_mutex_init(&ol->name_locks[i], NULL);
}

int
objlayer_open(const struct objlayer_config *cfg, struct objlayer **out, struct buf *errmsg)
{
    struct objlayer *ol;
    unsigned set_size, parity;
    int rc;

    rc = check_config(cfg, &set_size, &parity, errmsg);
    if (rc < 0)
        return rc;
    if (erasure_selftest() < 0) {
        buf_addf(errmsg, "the erasure codec failed its self-check: refusing to run");
        return -ERR_CORRUPT;
    }
    ol = xcalloc(1, sizeof(*ol));
    ol->sync = cfg->sync;
    ol->notify = cfg->notify;
    ol->notify_arg = cfg->notify_arg;
    init_locks(ol);
    object__buckets_init(ol);
    rc = open_drives(ol, cfg, errmsg);
    if (rc == 0)
        rc = agree_format(ol, set_size, parity, errmsg);
    if (rc < 0) {
        objlayer_close(ol);
        return rc;
    }
    build_sets(ol);
    {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

        if (md5_simd_available()) /* one worker per 4 cores, each 8 PUTs at once (util/md5.h) */
            ol->hashq = workq_new_batch("hash", (unsigned)MAX(1, MIN(ncpu / 4, 8)), MD5_LANES,
                                        object__md5_batch);
        else /* one PUT at a time per worker: one worker per core */
            ol->hashq =
                workq_new_batch("hash", (unsigned)MAX(2, MIN(ncpu, 16)), 1, object__md5_batch);
    }
    ol->stale_upload_ns = cfg->stale_upload_ns > 0 ? cfg->stale_upload_ns : OBJ_STALE_UPLOAD_NS;
    object__mp_init(ol);
    if (ol->drives_formatted)
        object__heal_enqueue(ol, NULL, NULL);
    /*
     * Spawn sites of the heal thread (object__heal_main: the heal queue fed
     * by reads and writes that met a failing drive) and the drive monitor
     * (object__monitor_main: drive_check() every 2 s, formats back a drive
     * found empty and queues a full heal).
     */
    if (pthread_create(&ol->heal_thread, NULL, object__heal_main, ol) ||
        pthread_create(&ol->monitor_thread, NULL, object__monitor_main, ol))
        die("cannot start the heal threads");
    ol->threads_started = true;
    *out = ol;
    return 0;
}

void
objlayer_close(struct objlayer *ol)
{
    size_t i;
    unsigned s, j, k, m;

    if (!ol)
        return;
    pthread_mutex_lock(&ol->heal_mu);
    ol->stopping = true;
    pthread_cond_broadcast(&ol->heal_cv);
    pthread_mutex_unlock(&ol->heal_mu);
    if (ol->threads_started) {
        pthread_join(ol->heal_thread, NULL);
        pthread_join(ol->monitor_thread, NULL);
    }
    for (s = 0; ol->sets && s < ol->nsets; s++)
        for (j = 0; j < ol->sets[s].n; j++)
            workq_free(ol->sets[s].queues[j]);
    if (ol->hashq)
        workq_free(ol->hashq);
    for (i = 0; i < ol->ndrives; i++)
        if (ol->drives[i])
            drive_close(ol->drives[i]);
    while (!list_is_empty(&ol->heal_queue)) {
        struct heal_item *it = container_of(list_pop(&ol->heal_queue), struct heal_item, link);

        free(it->bucket);
        free(it->key);
        free(it);
    }
    for (k = 0; k <= ERASURE_MAX_SHARDS; k++)
        for (m = 0; m <= ERASURE_MAX_SHARDS; m++)
            erasure_free(ol->codecs[k][m]);
    object__buckets_release(ol);
    free(ol->sets);
    free(ol->drives);
    free(ol->reattach_said);
    free(ol);
}

void
objlayer_describe(struct objlayer *ol, struct buf *out)
{
    buf_addf(out, "%u set%s of %u drives, EC %u+%u", ol->nsets, ol->nsets == 1 ? "" : "s",
             ol->sets[0].n, ol->sets[0].k, ol->sets[0].m);
}

size_t
objlayer_stream_mem(struct objlayer *ol)
{
    unsigned n = ol->sets[0].n, k = n - n / 2;

    /*
     * A PUT's stripes (it receives a block into one while the drives write
     * another and the MD5 of a third may still run; put.c) of one shard
     * buffer with its hash per drive, for the smallest k an object can have
     * (parity raised to half the set while drives were offline), whose
     * shards are the largest.
     */
    return OBJ_PUT_STRIPES * n * (erasure_shard_len(k, ERASURE_BLOCK_SIZE) + ERASURE_HASH_LEN);
}

bool
objlayer_has_quorum(struct objlayer *ol, bool for_writes)
{
    unsigned s, j;

    for (s = 0; s < ol->nsets; s++) {
        const struct eset *set = &ol->sets[s];
        unsigned online = 0, need = set->k;

        for (j = 0; j < set->n; j++)
            online += drive_is_online(set->drives[j]);
        if (for_writes)
            /* New objects raise parity for offline drives, up to half the set. */
            need = object__write_quorum(set->n - set->n / 2, set->n / 2);
        if (online < need)
            return false;
    }
    return true;
}

size_t
objlayer_get_mem(struct objlayer *ol)
{
    unsigned n = ol->sets[0].n, k = n - n / 2;

    return ERASURE_BLOCK_SIZE + n * (erasure_shard_len(k, ERASURE_BLOCK_SIZE) + ERASURE_HASH_LEN);
}

size_t
objlayer_drives(struct objlayer *ol, struct objlayer_drive_state *out, size_t max)
{
    size_t i;

    for (i = 0; i < ol->ndrives && i < max; i++) {
        struct drive_info info = { 0 };

        drive_info(ol->drives[i], &info);
        out[i] = (struct objlayer_drive_state){
            .endpoint = drive_endpoint(ol->drives[i]),
            .online = drive_is_online(ol->drives[i]),
            .set = (unsigned)(i / ol->sets[0].n),
            .total_bytes = info.total_bytes,
            .free_bytes = info.free_bytes,
        };
    }
    return ol->ndrives;
}
