/*
 * object/objlayer.c: opening and closing the object layer: drives opened
 * (or taken from the caller), format.json agreed on (format.c), erasure sets
 * built in command-line order with one I/O queue per drive, the hashing
 * workers, the heal and monitor threads; and the layer-wide state the
 * server reports (layout, memory per stream, quorum health, drives).
 */
#include "util/base.h"

#include "object/objlayer.h"

#include <unistd.h>

#include "cluster/layout.h"
#include "obs/log.h"
#include "object/internal.h"
#include "util/enc.h"
#include "util/md5.h"

static unsigned
choose_set_size(size_t ndrives)
{
    unsigned s;

    for (s = 16; s >= 2; s--)
        if (ndrives % s == 0)
            return s;
    return 0;
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

/* The sets of every pool (their sizes agreed in format.c), each drive with its I/O queue. */
static void
build_sets(struct objlayer *ol)
{
    unsigned p, s, j, total = 0;

    for (p = 0; p < ol->npools; p++) {
        ol->pools[p].first_set = total;
        total += ol->pools[p].nsets;
    }
    ol->nsets = total;
    ol->sets = xcalloc(total, sizeof(*ol->sets));
    for (p = 0; p < ol->npools; p++) {
        const struct obj_pool *pool = &ol->pools[p];

        for (s = pool->first_set; s < pool->first_set + pool->nsets; s++) {
            struct eset *set = &ol->sets[s];

            set->idx = s;
            set->pool = p;
            set->ol = ol;
            set->n = pool->set_size;
            set->m = pool->parity;
            set->k = pool->set_size - pool->parity;
            for (j = 0; j < set->n; j++) {
                char name[16];

                set->drives[j] =
                    ol->drives[pool->first_drive + (size_t)(s - pool->first_set) * set->n + j];
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
}

void
object__drive_pos(const struct objlayer *ol, size_t i, struct eset **set, unsigned *slot)
{
    unsigned p = 0;
    size_t off;

    while (p + 1 < ol->npools && i >= ol->pools[p + 1].first_drive)
        p++;
    off = i - ol->pools[p].first_drive;
    *set = &ol->sets[ol->pools[p].first_set + off / ol->pools[p].set_size];
    *slot = (unsigned)(off % ol->pools[p].set_size);
}

/* One pool's set size and parity, checked (pool `p` from 0; messages count from 1). */
static int
check_pool(const struct objlayer_pool *in, size_t p, size_t npools, struct obj_pool *out,
           struct buf *errmsg)
{
    char which[32] = "";

    if (npools > 1)
        snprintf(which, sizeof(which), "pool %zu: ", p + 1);
    if (in->ndrives < 2) {
        buf_addf(errmsg, "%sat least 2 drives are needed for erasure coding (%zu given)", which,
                 in->ndrives);
        return -ERR_INVAL;
    }
    out->ndrives = in->ndrives;
    out->set_size = in->set_size ? in->set_size : choose_set_size(in->ndrives);
    if (out->set_size < 2 || out->set_size > OBJ_MAX_SET || in->ndrives % out->set_size) {
        buf_addf(errmsg,
                 "%s%zu drives cannot be split into erasure sets of 2 to 16 drives of equal size",
                 which, in->ndrives);
        return -ERR_INVAL;
    }
    out->parity = in->parity ? in->parity : layout_default_parity(out->set_size);
    if (out->parity > out->set_size / 2) {
        buf_addf(errmsg, "%sparity %u is more than half the set size %u", which, out->parity,
                 out->set_size);
        return -ERR_INVAL;
    }
    return 0;
}

/* The pools of `cfg` into ol->pools (sizes as asked; format.c may find them formatted otherwise).
 */
static int
check_config(const struct objlayer_config *cfg, struct objlayer *ol, struct buf *errmsg)
{
    struct objlayer_pool one = { cfg->ndrives, cfg->set_size, cfg->parity };
    const struct objlayer_pool *in = cfg->pools ? cfg->pools : &one;
    size_t n = cfg->pools ? cfg->npools : 1, p, first = 0;
    int rc = 0;

    if (n == 0 || n > OBJ_MAX_POOLS) {
        buf_addf(errmsg, "%zu pools: 1 to %d are supported", n, OBJ_MAX_POOLS);
        return -ERR_INVAL;
    }
    ol->npools = (unsigned)n;
    ol->pools = xcalloc(n, sizeof(*ol->pools));
    for (p = 0; p < n && rc == 0; p++) {
        rc = check_pool(&in[p], p, n, &ol->pools[p], errmsg);
        ol->pools[p].first_drive = first;
        first += in[p].ndrives;
    }
    if (rc == 0 && first != cfg->ndrives) {
        buf_addf(errmsg, "the pools hold %zu drives, %zu were given", first, cfg->ndrives);
        rc = -ERR_INVAL;
    }
    return rc;
}

static void
init_locks(struct objlayer *ol)
{
    pthread_mutex_init(&ol->codec_mu, NULL);
    pthread_mutex_init(&ol->heal_mu, NULL);
    pthread_mutex_init(&ol->drive_mu, NULL);
    pthread_cond_init(&ol->heal_cv, NULL);
    pthread_mutex_init(&ol->flight_mu, NULL);
    pthread_cond_init(&ol->flight_cv, NULL);
    pthread_cond_init(&ol->watch_cv, NULL);
    pthread_cond_init(&ol->scan_cv, NULL);
    list_init(&ol->heal_queue);
    list_init(&ol->heal_waiting);
    buf_init(&ol->jput, 0);
    buf_init(&ol->jdel, 0);
}

int
objlayer_open(const struct objlayer_config *cfg, struct objlayer **out, struct buf *errmsg)
{
    struct objlayer *ol;
    int rc;

    if (erasure_selftest() < 0) {
        buf_addf(errmsg, "the erasure codec failed its self-check: refusing to run");
        return -ERR_CORRUPT;
    }
    ol = xcalloc(1, sizeof(*ol));
    ol->blocks = bufpool_new(OBJ_BLOCK_POOL_MIN, OBJ_BLOCK_POOL_BYTES);
    rc = check_config(cfg, ol, errmsg);
    if (rc < 0) {
        free(ol->pools);
        free(ol);
        return rc;
    }
    ol->sync = cfg->sync;
    ol->notify = cfg->notify;
    ol->notify_arg = cfg->notify_arg;
    ol->scan_share = cfg->scan_share;
    ol->scan_shares = cfg->scan_shares;
    ol->node_online = cfg->node_online;
    ol->node_online_arg = cfg->node_online_arg;
    ol->scan_interval_ns = cfg->scan_interval_ns > 0 ? cfg->scan_interval_ns : OBJ_SCAN_INTERVAL_NS;
    buf_init(&ol->scan_place, 0);
    ol->format_fresh = cfg->format_fresh || !cfg->formatter;
    ol->formatter = cfg->formatter;
    ol->wait = cfg->wait;
    ol->wait_arg = cfg->wait_arg;
    ol->locks = cfg->locks;
    if (!ol->locks) {
        ol->locks = lock_service_local_new();
        ol->own_locks = true;
    }
    init_locks(ol);
    object__buckets_init(ol);
    rc = open_drives(ol, cfg, errmsg);
    if (rc == 0)
        rc = object__agree_format(ol, errmsg);
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
    /* Spawn site of a whole heal's workers (heal.c heal_key_cb): objects healed at once. */
    ol->healq = workq_new("heal-w", OBJ_HEAL_PARALLEL);
    ol->drive_timeout_ns = cfg->drive_timeout_ns > 0 ? cfg->drive_timeout_ns : OBJ_DRIVE_TIMEOUT_NS;
    ol->bypassed = xcalloc(ol->ndrives, sizeof(*ol->bypassed));
    ol->stale_upload_ns = cfg->stale_upload_ns > 0 ? cfg->stale_upload_ns : OBJ_STALE_UPLOAD_NS;
    object__mp_init(ol);
    if (ol->pool_added)
        object__heal_buckets(ol); /* the new pool's drives get the deployment's buckets */
    if (ol->npools > 1)
        object__pools_refresh(ol); /* where new objects go: by free space */
    object__heal_load(ol);
    if (ol->drives_formatted)
        object__heal_enqueue(ol, NULL, NULL);
    /*
     * Spawn sites of the heal thread (object__heal_main: the heal queue fed
     * by reads and writes that met a failing drive), the drive monitor
     * (object__monitor_main: drive_check() every 2 s, formats back a drive
     * found empty and queues a full heal) and the scanner
     * (object__scanner_main: walks every object of this node's share,
     * heals and counts what is below full redundancy).
     */
    if (pthread_create(&ol->heal_thread, NULL, object__heal_main, ol) ||
        pthread_create(&ol->monitor_thread, NULL, object__monitor_main, ol) ||
        pthread_create(&ol->scanner_thread, NULL, object__scanner_main, ol) ||
        pthread_create(&ol->watch_thread, NULL, object__watch_main, ol))
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
    atomic_store(&ol->closing, true);
    pthread_mutex_lock(&ol->heal_mu);
    ol->stopping = true;
    pthread_cond_broadcast(&ol->heal_cv);
    pthread_cond_broadcast(&ol->scan_cv);
    pthread_cond_broadcast(&ol->watch_cv);
    pthread_mutex_unlock(&ol->heal_mu);
    if (ol->threads_started) {
        pthread_join(ol->watch_thread, NULL);
        pthread_join(ol->heal_thread, NULL);
        pthread_join(ol->monitor_thread, NULL);
        pthread_join(ol->scanner_thread, NULL);
    }
    if (ol->journal)
        object__heal_flush(ol); /* what the last tick did not write yet */
    buf_release(&ol->jput);
    buf_release(&ol->jdel);
    buf_release(&ol->scan_place);
    if (ol->healq) /* before the I/O queues: its heals use them */
        workq_free(ol->healq);
    for (s = 0; ol->sets && s < ol->nsets; s++)
        for (j = 0; j < ol->sets[s].n; j++)
            workq_free(ol->sets[s].queues[j]);
    if (ol->hashq)
        workq_free(ol->hashq);
    for (i = 0; i < ol->ndrives; i++)
        if (ol->drives[i])
            drive_close(ol->drives[i]);
    while (!list_is_empty(&ol->heal_queue))
        object__heal_item_free(container_of(list_pop(&ol->heal_queue), struct heal_item, link));
    while (!list_is_empty(&ol->heal_waiting))
        object__heal_item_free(container_of(list_pop(&ol->heal_waiting), struct heal_item, link));
    free(ol->park_tab);
    free(ol->flights);
    for (k = 0; k <= ERASURE_MAX_SHARDS; k++)
        for (m = 0; m <= ERASURE_MAX_SHARDS; m++)
            erasure_free(ol->codecs[k][m]);
    object__buckets_release(ol);
    if (ol->own_locks)
        lock_service_free(ol->locks);
    bufpool_free(ol->blocks);
    free(ol->sets);
    free(ol->pools);
    free(ol->drives);
    free(ol->reattach_said);
    free(ol->bypassed);
    object__metrics_free(ol);
    free(ol);
}

void
objlayer_describe(struct objlayer *ol, struct buf *out)
{
    unsigned p;

    for (p = 0; p < ol->npools; p++) {
        const struct obj_pool *pool = &ol->pools[p];

        if (ol->npools > 1)
            buf_addf(out, "%spool %u: ", p ? "; " : "", p + 1);
        buf_addf(out, "%u set%s of %u drives, EC %u+%u", pool->nsets, pool->nsets == 1 ? "" : "s",
                 pool->set_size, pool->set_size - pool->parity, pool->parity);
    }
}

/* The widest set of any pool (the most shard buffers a request may need). */
static unsigned
widest_set(const struct objlayer *ol)
{
    unsigned p, n = 0;

    for (p = 0; p < ol->npools; p++)
        n = MAX(n, ol->pools[p].set_size);
    return n;
}

size_t
objlayer_stream_mem(struct objlayer *ol)
{
    unsigned n = widest_set(ol), k = n - n / 2;

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
objlayer_has_quorum(struct objlayer *ol, bool for_writes, bool without_this_node)
{
    unsigned s, j;

    for (s = 0; s < ol->nsets; s++) {
        const struct eset *set = &ol->sets[s];
        unsigned online = 0, need = set->k;

        for (j = 0; j < set->n; j++)
            online += drive_is_online(set->drives[j]) &&
                      (!without_this_node || drive_is_remote(set->drives[j]));
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
    unsigned n = widest_set(ol), k = n - n / 2;

    return ERASURE_BLOCK_SIZE + n * (erasure_shard_len(k, ERASURE_BLOCK_SIZE) + ERASURE_HASH_LEN);
}

size_t
objlayer_drives(struct objlayer *ol, struct objlayer_drive_state *out, size_t max)
{
    size_t i;

    for (i = 0; i < ol->ndrives && i < max; i++) {
        struct drive_info info = { 0 };
        bool hung = drive_is_hung(ol->drives[i]);
        struct eset *set;
        unsigned slot;

        object__drive_pos(ol, i, &set, &slot);
        drive_info(ol->drives[i], &info); /* no sizes if hung: it does not ask */
        out[i] = (struct objlayer_drive_state){
            .endpoint = drive_endpoint(ol->drives[i]),
            .online = drive_is_online(ol->drives[i]),
            .hung = hung,
            .local = !drive_is_remote(ol->drives[i]),
            .set = set->idx,
            .pool = set->pool,
            .total_bytes = info.total_bytes,
            .free_bytes = info.free_bytes,
        };
    }
    return ol->ndrives;
}

void
objlayer_status(struct objlayer *ol, struct objlayer_status *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    out->heal_running = atomic_load(&ol->heal_jobs) > 0;
    out->heal_scanned = atomic_load(&ol->heal_job.scanned);
    out->heal_healed = atomic_load(&ol->heal_job.healed);
    out->heal_failed = atomic_load(&ol->heal_job.failed);
    out->heal_bytes_scanned = atomic_load(&ol->heal_job.bytes_scanned);
    out->heal_bytes_healed = atomic_load(&ol->heal_job.bytes_healed);
    out->heal_started_ns = atomic_load(&ol->heal_job.started_ns);
    out->heal_finished_ns = atomic_load(&ol->heal_job.finished_ns);
    /* every node's scanner walks its share: a whole heal walks them all */
    out->heal_total_estimate =
        atomic_load(&ol->scan_last_total) * (ol->scan_shares > 1 ? ol->scan_shares : 1);
    pthread_mutex_lock(&ol->heal_mu);
    out->queued = ol->heal_len;
    out->parked = ol->nwaiting;
    pthread_mutex_unlock(&ol->heal_mu);
    for (i = 0; i < ol->ndrives; i++)
        out->drives_offline += !drive_is_online(ol->drives[i]);
    out->scan_started_ns = atomic_load(&ol->scan.started_ns);
    out->scan_running = out->scan_started_ns != 0;
    out->scan_cycles = atomic_load(&ol->scan_cycles);
    out->scan_scanned = atomic_load(&ol->scan.scanned);
    out->scan_below = atomic_load(&ol->scan_below);
    out->scan_bytes = atomic_load(&ol->scan.bytes_scanned);
    out->last_scan_total = atomic_load(&ol->scan_last_total);
    out->last_scan_below = atomic_load(&ol->scan_last_below);
    out->last_scan_end_ns = atomic_load(&ol->scan_last_end_ns);
    out->last_scan_duration_ns = atomic_load(&ol->scan_last_duration_ns);
    out->done = !out->heal_running && out->queued == 0 && out->parked == 0 &&
                out->drives_offline == 0 && out->scan_cycles > 0 && out->last_scan_below == 0 &&
                out->last_scan_end_ns >= out->heal_finished_ns;
}
