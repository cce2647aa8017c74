/*
 * object/scanner.c: the background scanner (DESIGN.md "Background work"):
 * a thread that walks every object of every bucket, slowly, and heals what
 * it finds below full redundancy; its counts say whether the deployment is
 * whole ("done": see objlayer_status()).
 *
 * DESIGN
 *  - A cycle lists every bucket (system buckets too: multipart parts and
 *    bucket configurations are objects like any other) and every key any
 *    drive holds (object__list with a threshold of 1), and looks at the
 *    keys of this node's share: keys whose placement hash modulo the number
 *    of shares (the cluster's nodes) is this node's. Every node runs a
 *    scanner, so the work spreads over the nodes without two of them
 *    healing the same object.
 *  - An object is below full redundancy when a drive of its set does not
 *    hold the version the set serves (missing, stale), or no version is
 *    readable though drives hold copies (dangling). With every drive of the
 *    set online it is healed at once (heal.c, which also verifies every
 *    shard); with a drive away it is counted and parked for when the drive
 *    is back (healq.c). Only metadata is read for a whole object: shard data
 *    is read when a heal runs.
 *  - It yields to requests: a pause after each object (OBJ_SCAN_PAUSE_NS),
 *    ten times longer while requests are running (ol->inflight).
 *  - It resumes after a restart: its place (bucket, key) is written to the
 *    node's journal every OBJ_SCAN_SAVE_EVERY objects ("scanner"), and a
 *    cycle starts there.
 *  - It counts, per user bucket, the objects of this node's share it found
 *    readable, their bytes and sizes (struct obj_usage), and publishes the
 *    counts at the end of a cycle that started at the beginning (a cycle
 *    resumed after a restart saw only part of the keys): the bucket usage
 *    series of docs/metrics.md. The counts are the scanner thread's own.
 *  - Between cycles it sleeps `scan_interval_ns` (objlayer_config), or
 *    until a full heal ends (object__scan_soon()), so that the state after a
 *    heal is confirmed by a scan.
 */
#include "util/base.h"

#include <time.h>

#include "obs/log.h"
#include "object/internal.h"
#include "util/clock.h"

#define OBJ_SCAN_PAUSE_NS (1 * 1000000LL) /* between objects, idle */
#define OBJ_SCAN_BUSY_FACTOR 10           /* ... while requests run */
#define OBJ_SCAN_SAVE_EVERY 100           /* objects between two saves of the place */

struct scan_walk {
    struct objlayer *ol;
    const char *bucket;
    uint64_t since_save;
    int rc;
    struct obj_usage *usage; /* the bucket's; NULL for a system bucket */
};

static bool
stopping(struct objlayer *ol)
{
    bool s;

    pthread_mutex_lock(&ol->heal_mu);
    s = ol->stopping;
    pthread_mutex_unlock(&ol->heal_mu);
    return s;
}

/* Sleeps `ns` or until the layer stops or a scan is asked for; true if it should stop. */
static bool
pause_ns(struct objlayer *ol, int64_t ns, bool wake_on_ask)
{
    struct timespec ts;
    bool stop;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ns / 1000000000LL;
    ts.tv_nsec += ns % 1000000000LL;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ol->heal_mu);
    if (!ol->stopping && !(wake_on_ask && ol->scan_asked))
        pthread_cond_timedwait(&ol->scan_cv, &ol->heal_mu, &ts);
    stop = ol->stopping;
    if (wake_on_ask)
        ol->scan_asked = false;
    pthread_mutex_unlock(&ol->heal_mu);
    return stop;
}

void
object__scan_soon(struct objlayer *ol)
{
    pthread_mutex_lock(&ol->heal_mu);
    ol->scan_asked = true;
    pthread_cond_broadcast(&ol->scan_cv);
    pthread_mutex_unlock(&ol->heal_mu);
}

bool
object__node_up(const struct objlayer *ol, unsigned node)
{
    return node == ol->scan_share || !ol->node_online || ol->node_online(ol->node_online_arg, node);
}

/*
 * Whether this node's scanner looks at bucket/key: its share of the
 * placement hash, and the share of every node that does not answer whose
 * next answering node (in index order, wrapping) is this one.
 */
static bool
is_mine(const struct objlayer *ol, const char *bucket, const char *key)
{
    unsigned s, n = ol->scan_shares;

    if (n <= 1)
        return true;
    s = (unsigned)(object__hash(bucket, key) % n);
    while (s != ol->scan_share && !object__node_up(ol, s))
        s = (s + 1) % n;
    return s == ol->scan_share;
}

static void
save_place(struct objlayer *ol, const char *bucket, struct slice key, bool done)
{
    struct buf item = BUF_INIT;
    struct slice put;

    if (!ol->journal)
        return;
    buf_adds(&item, bucket);
    buf_addch(&item, '\0');
    buf_addslice(&item, key);
    put = buf_slice(&item);
    /* the old place goes with the new one's arrival: one item at most */
    drive_journal_update(
        ol->journal, "scanner", done ? NULL : &put, done ? 0 : 1,
        ol->scan_place.len ? &(struct slice){ ol->scan_place.ptr, ol->scan_place.len } : NULL,
        ol->scan_place.len ? 1 : 0);
    buf_clear(&ol->scan_place);
    if (!done)
        buf_addslice(&ol->scan_place, put);
    buf_release(&item);
}

static void
count_usage(struct obj_usage *u, uint64_t size)
{
    if (!u)
        return;
    u->objects++;
    u->versions++;
    u->bytes += size;
    u->sizes[object__usage_size_range(size)]++;
}

/* Looks at one object: heals it, or counts it below full redundancy; counts its usage in `u`. */
static void
scan_object(struct objlayer *ol, const char *bucket, const char *key, struct obj_usage *u)
{
    struct obj_get *g = object__get_new(ol, bucket, key);
    struct heal_report r = { 0 };
    unsigned j, held = 0, offline = 0;
    int rc = object__get_open_meta(g);

    for (j = 0; j < g->set->n; j++) {
        held += rc == 0 && g->agree[j];
        offline += !drive_is_online(g->set->drives[j]);
    }
    if (rc == 0) {
        atomic_fetch_add(&ol->scan.bytes_scanned, g->m->size);
        count_usage(u, g->m->size);
    }
    if ((rc == 0 && held == g->set->n) || (rc < 0 && rc != -ERR_KEY_NOT_FOUND)) {
        object__get_free(g); /* whole; or unreadable now (quorum): the next cycle looks again */
        return;
    }
    object__get_free(g);
    if (offline) {
        atomic_fetch_add(&ol->scan_below, 1);
        object__heal_enqueue(ol, bucket, key); /* parked until the drive is back */
        return;
    }
    if (object__heal_object(ol, bucket, key, &r) < 0) {
        atomic_fetch_add(&ol->scan_below, 1);
        atomic_fetch_add(&ol->scan.failed, 1);
    } else if (r.objects_healed) {
        atomic_fetch_add(&ol->scan.healed, 1);
    }
}

static int
scan_key_cb(void *arg, const struct obj_list_ent *e)
{
    struct scan_walk *w = arg;
    struct objlayer *ol = w->ol;
    char *key = slice_dup(e->key);
    int64_t pause = OBJ_SCAN_PAUSE_NS;

    if (is_mine(ol, w->bucket, key)) {
        scan_object(ol, w->bucket, key, w->usage);
        atomic_fetch_add(&ol->scan.scanned, 1);
        if (atomic_load(&ol->inflight) > 0)
            pause *= OBJ_SCAN_BUSY_FACTOR;
    }
    if (++w->since_save >= OBJ_SCAN_SAVE_EVERY) {
        w->since_save = 0;
        save_place(ol, w->bucket, e->key, false);
    }
    free(key);
    if (pause_ns(ol, pause, false)) {
        w->rc = -ERR_OFFLINE;
        return 1; /* stopping */
    }
    return 0;
}

static int
place_cb(void *arg, struct slice item)
{
    buf_addslice(arg, item);
    return 1;
}

/* The place a previous run stopped at ("bucket\0key"), or empty. */
static void
load_place(struct objlayer *ol)
{
    buf_clear(&ol->scan_place);
    if (ol->journal)
        drive_journal_list(ol->journal, "scanner", SLICE_NULL, 1, place_cb, &ol->scan_place);
}

/* One cycle over every bucket, from the saved place. 0, or < 0 when stopped or failed. */
static int
scan_cycle(struct objlayer *ol)
{
    struct obj_bucket *b = NULL;
    struct obj_usage *usage = NULL;
    size_t n = 0, i;
    struct slice from_bucket = SLICE_NULL, from_key = SLICE_NULL;
    int rc;

    load_place(ol);
    if (ol->scan_place.len) {
        ssize_t z = slice_find(buf_slice(&ol->scan_place), '\0');

        if (z > 0) {
            from_bucket = slice_make(ol->scan_place.ptr, (size_t)z);
            from_key = slice_make(ol->scan_place.ptr + z + 1, ol->scan_place.len - (size_t)z - 1);
        }
    }
    rc = object__bucket_read_list(ol, &b, &n);
    usage = rc == 0 ? xcalloc(n + 1, sizeof(*usage)) : NULL;
    for (i = 0; i < n && rc == 0; i++) {
        struct scan_walk w = { ol, b[i].name, 0, 0, b[i].name[0] == '.' ? NULL : &usage[i] };
        int c = from_bucket.len ? slice_cmp(slice_cstr(b[i].name), from_bucket) : 1;

        memcpy(usage[i].bucket, b[i].name, sizeof(usage[i].bucket));
        usage[i].gone = b[i].name[0] == '.'; /* system buckets: not in the usage */
        if (c < 0)
            continue; /* done before the restart */
        rc = object__list(ol, b[i].name, SLICE_NULL, c == 0 ? from_key : SLICE_NULL, 0, 1,
                          scan_key_cb, &w);
        if (rc >= 0) {
            rc = w.rc;
        } else if (rc == -ERR_NOT_FOUND) {
            rc = 0; /* deleted meanwhile */
            usage[i].gone = true;
        }
    }
    if (rc == 0 && !from_bucket.len) /* a whole cycle: every key seen */
        object__metrics_usage(ol, usage, n);
    free(usage);
    free(b);
    return rc < 0 ? rc : 0;
}

static void
cycle_start(struct objlayer *ol)
{
    atomic_store(&ol->scan.scanned, 0);
    atomic_store(&ol->scan.healed, 0);
    atomic_store(&ol->scan.failed, 0);
    atomic_store(&ol->scan.bytes_scanned, 0);
    atomic_store(&ol->scan_below, 0);
    atomic_store(&ol->scan.started_ns, clock_now_ns());
}

static void
cycle_end(struct objlayer *ol)
{
    int64_t now = clock_now_ns();

    atomic_store(&ol->scan_last_total, atomic_load(&ol->scan.scanned));
    atomic_store(&ol->scan_last_below, atomic_load(&ol->scan_below));
    atomic_store(&ol->scan_last_duration_ns, now - atomic_load(&ol->scan.started_ns));
    atomic_store(&ol->scan_last_end_ns, now);
    atomic_store(&ol->scan.started_ns, 0);
    atomic_fetch_add(&ol->scan_cycles, 1);
    save_place(ol, "", SLICE_NULL, true); /* a finished cycle starts over */
    if (atomic_load(&ol->scan_last_below))
        log_warn(&(struct log_ctx){ .event = "scan_below_redundancy" },
                 "scanner cycle done: %llu of %llu objects below full redundancy",
                 (unsigned long long)atomic_load(&ol->scan_last_below),
                 (unsigned long long)atomic_load(&ol->scan_last_total));
}

void *
object__scanner_main(void *arg)
{
    struct objlayer *ol = arg;

    pthread_setname_np(pthread_self(), "scanner");
    /* A first pass soon after start: a restart may follow a crash that left work behind. */
    if (pause_ns(ol, OBJ_SCAN_FIRST_NS, true))
        return NULL;
    while (!stopping(ol)) {
        int rc;

        cycle_start(ol);
        rc = scan_cycle(ol);
        if (rc == 0)
            cycle_end(ol);
        else
            atomic_store(&ol->scan.started_ns, 0);
        if (pause_ns(ol, rc == 0 ? ol->scan_interval_ns : OBJ_SCAN_FIRST_NS, true))
            break;
    }
    return NULL;
}
