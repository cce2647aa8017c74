/*
 * object/metrics.c: the object layer's metrics (STYLE 2.8): this node's
 * drives, online or not, and their capacity, free and used bytes.
 *
 * Read at scrape time by a collector, from what the layer already keeps:
 * drive_is_online() is a flag the monitor and the I/O paths maintain;
 * sizes come from drive_info(), a statvfs() for a local drive, skipped for
 * a drive known to hang (its sizes then read 0). Only this node's drives
 * are listed (the node endpoint): another node's would cost an RPC each,
 * and that node reports them itself.
 */
#include "util/base.h"

#include "object/internal.h"
#include "obs/metrics.h"
#include "storage/drive.h"

struct object_metrics {
    struct objlayer *ol;
    size_t *idx; /* the layer's index of each local drive, in series order */
    size_t n;
    const char **names;
    struct metric *online, *total, *free, *used, *n_online, *n_offline;
};

static void
collect(void *arg)
{
    struct object_metrics *om = arg;
    int64_t up = 0;
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
    }
    metric_set(om->n_online, 0, up);
    metric_set(om->n_offline, 0, (int64_t)om->n - up);
}

static struct metric *
gauge(struct metrics *m, const char *name, const char *help, const struct metric_dim *dim)
{
    return metrics_register(m, METRIC_GAUGE, name, help, dim, dim ? 1 : 0, NULL, 0, 1);
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
