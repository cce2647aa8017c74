/*
 * object/metrics.c: the object layer's metrics (STYLE 2.8): this node's
 * drives, online or not, and their capacity, free and used bytes (raw, and
 * usable: the data shards' share); heal and scanner progress.
 *
 * Read at scrape time by a collector, from what the layer already keeps:
 * drive_is_online() is a flag the monitor and the I/O paths maintain;
 * sizes come from drive_info(), a statvfs() for a local drive, skipped for
 * a drive known to hang (its sizes then read 0). Only this node's drives
 * are listed (the node endpoint): another node's would cost an RPC each,
 * and that node reports them itself.
 *
 * Bucket usage (objects, bytes, versions, size ranges per bucket) is what
 * the scanner counted in its last whole cycle (scanner.c), published into
 * table families (obs/metrics.h: label values that change as buckets come
 * and go), at most OBJ_USAGE_MAX_BUCKETS buckets.
 */
#include "util/base.h"

#include "cluster/lock.h"
#include "object/internal.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "storage/drive.h"

#define OBJ_USAGE_MAX_BUCKETS 10000 /* rows of a bucket usage family: a bounded scrape */

/* MinIO's object size ranges (the ones its v2 metrics export), in order. */
static const char *const size_ranges[OBJ_USAGE_RANGES] = {
    "LESS_THAN_1024_B",        "BETWEEN_1024B_AND_1_MB",   "BETWEEN_1_MB_AND_10_MB",
    "BETWEEN_10_MB_AND_64_MB", "BETWEEN_64_MB_AND_128_MB", "BETWEEN_128_MB_AND_512_MB",
    "GREATER_THAN_512_MB",
};
/* The lower bound of each range but the first. */
static const uint64_t size_floors[OBJ_USAGE_RANGES - 1] = {
    1024, 1 << 20, 10 << 20, 64 << 20, 128 << 20, 512 << 20,
};

struct object_metrics {
    struct objlayer *ol;
    size_t *idx; /* the layer's index of each local drive, in series order */
    size_t n;
    const char **names;
    struct metric *online, *total, *free, *used, *n_online, *n_offline;
    struct metric *raw_total, *raw_free, *usable_total, *usable_free;
    struct metric *heal_running, *heal_scanned, *heal_healed, *heal_failed, *heal_bytes;
    struct metric *heal_queued, *heal_parked, *heal_last;
    struct metric *scan_cycles, *scan_below, *scan_last_below, *scan_last_total, *scan_duration,
        *scan_last_end;
    struct metric *usage_objects, *usage_bytes, *usage_versions, *usage_sizes, *usage_buckets;
    struct metric *commit_records, *commit_ns, *fsync_ns, *lock_ns, *lock_outcomes;
    struct metric *blocks_kept, *blocks_reused, *blocks_allocated;
};

/* Records per group commit: 1 to 512. */
static const uint64_t batch_bounds[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512 };
/* Durations of commits, fsyncs and lock acquires, in ns: 50 us to 10 s. */
static const uint64_t io_bounds[] = {
    50000,    100000,   250000,    500000,    1000000,   2500000,    5000000,    10000000,
    25000000, 50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000, 10000000000,
};

static struct metric *gauge(struct metrics *m, const char *name, const char *help,
                            const struct metric_dim *dim);

unsigned
object__usage_size_range(uint64_t size)
{
    unsigned r = 0;

    while (r < ARRAY_SIZE(size_floors) && size >= size_floors[r])
        r++;
    return r;
}

void
object__metrics_usage(struct objlayer *ol, const struct obj_usage *u, size_t n)
{
    struct object_metrics *om = ol->metrics;
    const char **names;
    int64_t *objects, *bytes, *versions, *sizes;
    size_t i, k = 0, dropped;

    if (!om)
        return;
    names = xcalloc(n + 1, sizeof(*names));
    objects = xcalloc(n + 1, sizeof(*objects));
    bytes = xcalloc(n + 1, sizeof(*bytes));
    versions = xcalloc(n + 1, sizeof(*versions));
    sizes = xcalloc((n + 1) * OBJ_USAGE_RANGES, sizeof(*sizes));
    for (i = 0; i < n; i++) {
        unsigned r;

        if (u[i].gone)
            continue;
        names[k] = u[i].bucket;
        objects[k] = (int64_t)u[i].objects;
        bytes[k] = (int64_t)u[i].bytes;
        versions[k] = (int64_t)u[i].versions;
        for (r = 0; r < OBJ_USAGE_RANGES; r++)
            sizes[k * OBJ_USAGE_RANGES + r] = (int64_t)u[i].sizes[r];
        k++;
    }
    dropped = metric_table_publish(om->usage_objects, names, k, objects);
    metric_table_publish(om->usage_bytes, names, k, bytes);
    metric_table_publish(om->usage_versions, names, k, versions);
    metric_table_publish(om->usage_sizes, names, k, sizes);
    metric_set(om->usage_buckets, 0, (int64_t)k);
    if (dropped)
        log_warn(&(struct log_ctx){ .event = "bucket_usage_truncated" },
                 "bucket usage metrics: %zu of %zu buckets left out (at most %d)", dropped, k,
                 OBJ_USAGE_MAX_BUCKETS);
    free(names);
    free(objects);
    free(bytes);
    free(versions);
    free(sizes);
}

static void
register_usage(struct object_metrics *om, struct metrics *m)
{
    struct metric_dim range = { "range", size_ranges, OBJ_USAGE_RANGES };

    om->usage_objects = metrics_register_table(
        m, "basalt_bucket_usage_objects",
        "Objects of the bucket (this node's scanner share), as the last whole scanner cycle "
        "counted them.",
        "bucket", NULL, OBJ_USAGE_MAX_BUCKETS);
    om->usage_bytes = metrics_register_table(
        m, "basalt_bucket_usage_bytes",
        "Bytes of the bucket's objects (this node's scanner share), last whole scanner cycle.",
        "bucket", NULL, OBJ_USAGE_MAX_BUCKETS);
    om->usage_versions = metrics_register_table(
        m, "basalt_bucket_usage_versions",
        "Object versions of the bucket (this node's scanner share), last whole scanner cycle.",
        "bucket", NULL, OBJ_USAGE_MAX_BUCKETS);
    om->usage_sizes = metrics_register_table(
        m, "basalt_bucket_objects_size_distribution",
        "Objects of the bucket by size range (this node's scanner share), last whole scanner "
        "cycle.",
        "bucket", &range, OBJ_USAGE_MAX_BUCKETS);
    om->usage_buckets =
        gauge(m, "basalt_bucket_usage_buckets",
              "User buckets the last whole scanner cycle counted (0 before the first).", NULL);
}

/* Heal and scanner figures of objlayer_status() (this node's share of the work). */
static void
collect_status(struct object_metrics *om)
{
    struct objlayer_status st;
    int64_t last;

    objlayer_status(om->ol, &st);
    metric_set(om->heal_running, 0, st.heal_running);
    metric_set(om->heal_scanned, 0, (int64_t)st.heal_scanned);
    metric_set(om->heal_healed, 0, (int64_t)st.heal_healed);
    metric_set(om->heal_failed, 0, (int64_t)st.heal_failed);
    metric_set(om->heal_bytes, 0, (int64_t)st.heal_bytes_healed);
    metric_set(om->heal_queued, 0, (int64_t)st.queued);
    metric_set(om->heal_parked, 0, (int64_t)st.parked);
    last = MAX(st.heal_started_ns, st.heal_finished_ns);
    metric_set(om->heal_last, 0, last / 1000000);
    metric_set(om->scan_cycles, 0, (int64_t)st.scan_cycles);
    /* below full redundancy: the larger of the last whole cycle's and the running one's so far */
    metric_set(om->scan_below, 0, (int64_t)MAX(st.last_scan_below, st.scan_below));
    metric_set(om->scan_last_below, 0, (int64_t)st.last_scan_below);
    metric_set(om->scan_last_total, 0, (int64_t)st.last_scan_total);
    metric_set(om->scan_duration, 0, st.last_scan_duration_ns / 1000000);
    metric_set(om->scan_last_end, 0, st.last_scan_end_ns / 1000000);
}

static void
collect_blocks(struct object_metrics *om)
{
    struct bufpool_stats st;

    bufpool_get_stats(om->ol->blocks, &st);
    metric_set(om->blocks_kept, 0, (int64_t)st.held_bytes);
    metric_set(om->blocks_reused, 0, (int64_t)st.reused);
    metric_set(om->blocks_allocated, 0, (int64_t)st.allocated);
}

static void
collect(void *arg)
{
    struct object_metrics *om = arg;
    int64_t up = 0;
    uint64_t raw_total = 0, raw_free = 0, usable_total = 0, usable_free = 0;
    size_t i;

    for (i = 0; i < om->n; i++) {
        struct drive *d = om->ol->drives[om->idx[i]];
        struct drive_info info = { 0 };
        bool online = drive_is_online(d);

        if (drive_info(d, &info) < 0)
            info = (struct drive_info){ 0 };
        metric_set(om->online, i, online);
        metric_set(om->total, i, (int64_t)info.total_bytes);
        metric_set(om->free, i, (int64_t)info.free_bytes);
        metric_set(om->used, i,
                   (int64_t)(info.total_bytes - MIN(info.free_bytes, info.total_bytes)));
        up += online;
        if (online) { /* capacity online, as MinIO counts it; usable: the set's data share */
            struct eset *set;
            unsigned slot;

            object__drive_pos(om->ol, om->idx[i], &set, &slot);
            raw_total += info.total_bytes;
            raw_free += info.free_bytes;
            usable_total += info.total_bytes / (set->k + set->m) * set->k;
            usable_free += info.free_bytes / (set->k + set->m) * set->k;
        }
    }
    metric_set(om->n_online, 0, up);
    metric_set(om->n_offline, 0, (int64_t)om->n - up);
    metric_set(om->raw_total, 0, (int64_t)raw_total);
    metric_set(om->raw_free, 0, (int64_t)raw_free);
    metric_set(om->usable_total, 0, (int64_t)usable_total);
    metric_set(om->usable_free, 0, (int64_t)usable_free);
    collect_status(om);
    collect_blocks(om);
}

static struct metric *
gauge(struct metrics *m, const char *name, const char *help, const struct metric_dim *dim)
{
    return metrics_register(m, METRIC_GAUGE, name, help, dim, dim ? 1 : 0, NULL, 0, 1);
}

/* A counter copied from the layer's own (monotonic) counter at scrape time. */
static struct metric *
counter(struct metrics *m, const char *name, const char *help)
{
    return metrics_register(m, METRIC_COUNTER, name, help, NULL, 0, NULL, 0, 1);
}

static struct metric *
gauge_ms(struct metrics *m, const char *name, const char *help)
{
    return metrics_register(m, METRIC_GAUGE, name, help, NULL, 0, NULL, 0, 1000);
}

static void
register_blocks(struct object_metrics *om, struct metrics *m)
{
    om->blocks_kept = gauge(m, "basalt_read_buffers_kept_bytes",
                            "Bytes of shard buffers kept by reads' recycling pool.", NULL);
    om->blocks_reused = counter(m, "basalt_read_buffers_reused_total",
                                "Shard buffers reads took from the recycling pool.");
    om->blocks_allocated =
        counter(m, "basalt_read_buffers_allocated_total",
                "Shard buffers reads had to allocate (none fitting in the recycling pool).");
}

static void
register_status(struct object_metrics *om, struct metrics *m)
{
    om->heal_running = gauge(m, "basalt_heal_running", "1 while a heal runs on this node.", NULL);
    om->heal_scanned = gauge(m, "basalt_heal_objects_scanned",
                             "Objects the current or last heal of this node looked at.", NULL);
    om->heal_healed = gauge(m, "basalt_heal_objects_healed",
                            "Objects the current or last heal of this node repaired.", NULL);
    om->heal_failed =
        gauge(m, "basalt_heal_objects_failed",
              "Objects the current or last heal of this node could not repair.", NULL);
    om->heal_bytes =
        gauge(m, "basalt_heal_healed_bytes",
              "Bytes of objects the current or last heal of this node repaired.", NULL);
    om->heal_queued =
        gauge(m, "basalt_heal_queue_objects", "Objects queued for healing on this node.", NULL);
    om->heal_parked = gauge(m, "basalt_heal_parked_objects",
                            "Objects waiting for an offline drive to heal them.", NULL);
    om->heal_last = gauge_ms(m, "basalt_heal_last_activity_timestamp_seconds",
                             "When the last heal of this node started or finished, Unix time "
                             "(0: never).");
    om->scan_cycles =
        counter(m, "basalt_scanner_cycles_total", "Whole scanner cycles this node finished.");
    om->scan_below = gauge(m, "basalt_objects_below_full_redundancy",
                           "Objects of this node's scanner share found missing shards (the last "
                           "cycle's, or the running one's if more).",
                           NULL);
    om->scan_last_below = gauge(m, "basalt_scanner_last_cycle_objects_below_full_redundancy",
                                "Objects the last whole cycle found below full redundancy.", NULL);
    om->scan_last_total = gauge(m, "basalt_scanner_last_cycle_objects",
                                "Objects the last whole cycle of this node looked at.", NULL);
    om->scan_duration = gauge_ms(m, "basalt_scanner_last_cycle_duration_seconds",
                                 "How long the last whole scanner cycle took.");
    om->scan_last_end = gauge_ms(m, "basalt_scanner_last_cycle_end_timestamp_seconds",
                                 "When the last whole scanner cycle ended, Unix time (0: never).");
}

static struct metric *
histogram(struct metrics *m, const char *name, const char *help, const struct metric_dim *dims,
          size_t ndims, const uint64_t *bounds, size_t nbounds, uint64_t scale)
{
    return metrics_register(m, METRIC_HISTOGRAM, name, help, dims, ndims, bounds, nbounds, scale);
}

/*
 * Group commits and fsyncs of this node's drives (counted by storage/ into
 * these families: drive_set_metrics), and lock acquires of the layer's lock
 * service (lock_service_set_metrics).
 */
static void
register_io(struct object_metrics *om, struct metrics *m, const struct metric_dim *pd)
{
    static const char *const modes[] = { "read", "write" };
    static const char *const outcomes[] = { "granted", "timeout", "failed" };
    struct metric_dim lock_dims[] = { { "mode", modes, 2 }, { "outcome", outcomes, 3 } };
    size_t i;

    _Static_assert(ARRAY_SIZE(outcomes) == LOCK_OUTCOMES, "one name per lock outcome");
    if (pd) {
        om->commit_records = histogram(
            m, "basalt_drive_commit_batch_records",
            "Index records per group commit of the drive (one transaction, one WAL fsync).", pd, 1,
            batch_bounds, ARRAY_SIZE(batch_bounds), 1);
        om->commit_ns =
            histogram(m, "basalt_drive_commit_duration_seconds",
                      "Time of a group commit of the drive's index (WAL write and fsync).", pd, 1,
                      io_bounds, ARRAY_SIZE(io_bounds), 1000000000);
        om->fsync_ns = histogram(m, "basalt_drive_fsync_duration_seconds",
                                 "Time of an fsync() of a shard file, folder or format.json.", pd,
                                 1, io_bounds, ARRAY_SIZE(io_bounds), 1000000000);
        for (i = 0; i < om->n; i++)
            drive_set_metrics(
                om->ol->drives[om->idx[i]],
                &(struct drive_metrics){ om->commit_records, om->commit_ns, om->fsync_ns, i });
    }
    om->lock_ns = histogram(m, "basalt_lock_acquire_duration_seconds",
                            "Time to acquire a namespace lock (granted or not), by mode.",
                            lock_dims, 1, io_bounds, ARRAY_SIZE(io_bounds), 1000000000);
    om->lock_outcomes =
        metrics_register(m, METRIC_COUNTER, "basalt_lock_acquires_total",
                         "Namespace lock acquires, by mode and outcome.", lock_dims, 2, NULL, 0, 1);
    if (om->ol->locks)
        lock_service_set_metrics(om->ol->locks,
                                 &(struct lock_metrics){ om->lock_ns, om->lock_outcomes });
}

void
objlayer_metrics_register(struct objlayer *ol, struct metrics *m)
{
    struct object_metrics *om = xcalloc(1, sizeof(*om));
    struct metric_dim dim = { "drive", NULL, 0 }, *pd = NULL;
    size_t i;

    om->ol = ol;
    om->idx = xcalloc(ol->ndrives + 1, sizeof(*om->idx));
    om->names = xcalloc(ol->ndrives + 1, sizeof(*om->names));
    for (i = 0; i < ol->ndrives; i++) {
        if (drive_is_remote(ol->drives[i]))
            continue;
        om->idx[om->n] = i;
        om->names[om->n++] = drive_endpoint(ol->drives[i]);
    }
    dim.values = om->names;
    dim.nvalues = om->n;
    if (om->n)
        pd = &dim;
    om->online =
        pd ? gauge(m, "basalt_drive_online", "1 if this node's drive is online.", pd) : NULL;
    om->total =
        pd ? gauge(m, "basalt_drive_total_bytes", "Capacity of the drive's filesystem.", pd) : NULL;
    om->free =
        pd ? gauge(m, "basalt_drive_free_bytes", "Bytes free for Basalt on the drive.", pd) : NULL;
    om->used = pd ? gauge(m, "basalt_drive_used_bytes", "Capacity minus free bytes.", pd) : NULL;
    om->n_online = gauge(m, "basalt_node_drives_online", "This node's drives online.", NULL);
    om->n_offline = gauge(m, "basalt_node_drives_offline", "This node's drives offline.", NULL);
    om->raw_total = gauge(m, "basalt_node_capacity_raw_total_bytes",
                          "Capacity of this node's drives online.", NULL);
    om->raw_free = gauge(m, "basalt_node_capacity_raw_free_bytes",
                         "Free bytes of this node's drives online.", NULL);
    om->usable_total =
        gauge(m, "basalt_node_capacity_usable_total_bytes",
              "Capacity of this node's drives online for data (parity excluded).", NULL);
    om->usable_free =
        gauge(m, "basalt_node_capacity_usable_free_bytes",
              "Free bytes of this node's drives online for data (parity excluded).", NULL);
    register_status(om, m);
    register_blocks(om, m);
    register_usage(om, m);
    register_io(om, m, pd);
    ol->heal_needless_metric =
        counter(m, "basalt_heal_needless_total",
                "Queued heals of objects that needed none (found every copy good).");
    metrics_add_collector(m, collect, om);
    ol->metrics = om;
}

void
object__metrics_free(struct objlayer *ol)
{
    struct object_metrics *om = ol->metrics;

    if (!om)
        return;
    free(om->idx);
    free(om->names);
    free(om);
    ol->metrics = NULL;
}
