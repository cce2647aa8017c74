/*
 * object/healq.c: part of the layer's floor (internal.h): the heal queue,
 * and the commits in flight (end of file).
 * Reads and writes that met a missing, stale or corrupt copy queue the
 * object here; the heal worker (heal.c) takes items in order. The queue
 * holds at most OBJ_HEAL_QUEUE_MAX items: past that, new items are dropped
 * (and found again by the next full heal), said at most once a minute.
 *
 * Parked items (healed while a drive of their set was offline: that drive
 * may still miss what they are about) wait until a drive comes back. They
 * are mirrored in the journal of this node's first drive (drive.h
 * drive_journal_update: "heal", one item "<bucket>\0<key>" each, "" as the
 * key for a whole heal), written by the monitor every tick, so a node that
 * restarts before the drives came back still heals them: object__heal_load()
 * parks them again at open. A crash loses at most the last tick's changes;
 * the scanner finds what that leaves below full redundancy.
 */
#include "util/base.h"

#include <time.h>

#include "obs/log.h"
#include "obs/metrics.h"
#include "object/internal.h"
#include "util/clock.h"

bool
object__key_misses_a_drive(struct objlayer *ol, const char *bucket, const char *key)
{
    unsigned p, j, npools = object__roams(ol, bucket) ? ol->npools : 1;

    for (p = 0; p < npools; p++) {
        const struct eset *set = object__pool_set(ol, p, bucket, key);

        for (j = 0; j < set->n; j++)
            if (!drive_is_online(set->drives[j]))
                return true;
    }
    return false;
}

void
object__heal_enqueue(struct objlayer *ol, const char *bucket, const char *key)
{
    struct heal_item *it;

    /*
     * A write that missed a drive which is offline now (a node down): there
     * is nothing to heal until it is back, and healing would only read every
     * drive for nothing. Parked at once.
     */
    if (key && object__key_misses_a_drive(ol, bucket, key)) {
        it = xcalloc(1, sizeof(*it));
        it->bucket = xstrdup(bucket);
        it->key = xstrdup(key);
        object__heal_park(ol, it);
        return;
    }
    pthread_mutex_lock(&ol->heal_mu);
    if (ol->heal_len >= OBJ_HEAL_QUEUE_MAX || ol->stopping) {
        bool full = !ol->stopping;

        pthread_mutex_unlock(&ol->heal_mu);
        /* Dropped work is found again by `basalt admin heal`; say so, at most once a minute. */
        if (full && clock_mono_ns() - __atomic_load_n(&ol->heal_full_logged_ns, __ATOMIC_RELAXED) >
                        60 * 1000000000LL) {
            __atomic_store_n(&ol->heal_full_logged_ns, clock_mono_ns(), __ATOMIC_RELAXED);
            log_warn(&(struct log_ctx){ .bucket = bucket, .key = key, .event = "heal_queue_full" },
                     "heal queue full (%d items): dropped; run basalt admin heal",
                     OBJ_HEAL_QUEUE_MAX);
        }
        return;
    }
    it = xcalloc(1, sizeof(*it));
    it->bucket = bucket ? xstrdup(bucket) : NULL;
    it->key = key ? xstrdup(key) : NULL;
    list_add_tail(&ol->heal_queue, &it->link);
    ol->heal_len++;
    pthread_cond_broadcast(&ol->heal_cv);
    pthread_mutex_unlock(&ol->heal_mu);
}

struct heal_item *
object__heal_dequeue(struct objlayer *ol)
{
    struct heal_item *it = NULL;

    pthread_mutex_lock(&ol->heal_mu);
    while (!ol->stopping) {
        struct list_node *n = list_pop(&ol->heal_queue);

        if (n) {
            ol->heal_len--;
            it = container_of(n, struct heal_item, link);
            break;
        }
        pthread_cond_wait(&ol->heal_cv, &ol->heal_mu);
    }
    pthread_mutex_unlock(&ol->heal_mu);
    return it;
}

void
object__heal_item_free(struct heal_item *it)
{
    if (!it)
        return;
    free(it->bucket);
    free(it->key);
    free(it);
}

/* Appends `it` in the journal's item form, length-prefixed, to `b`. */
static void
journal_add(struct buf *b, const struct heal_item *it)
{
    uint32_t n =
        (uint32_t)(strlen(it->bucket ? it->bucket : "") + 1 + strlen(it->key ? it->key : ""));

    buf_add(b, &n, sizeof(n));
    buf_adds(b, it->bucket ? it->bucket : "");
    buf_addch(b, '\0');
    buf_adds(b, it->key ? it->key : "");
}

#define PARK_TAB 65536 /* chains of the parked items' table (a power of two) */

/*
 * Whether an item for the same bucket/key is parked already (heal_mu held);
 * if not, `it` is entered in the table. A whole-heal item (NULL key) is
 * always parked.
 */
static bool
park_seen(struct objlayer *ol, struct heal_item *it)
{
    struct heal_item **chain, *o;

    if (!it->key)
        return false;
    if (!ol->park_tab)
        ol->park_tab = xcalloc(PARK_TAB, sizeof(*ol->park_tab));
    chain = &ol->park_tab[object__hash(it->bucket, it->key) & (PARK_TAB - 1)];
    for (o = *chain; o; o = o->park_next)
        if (strcmp(o->bucket, it->bucket) == 0 && strcmp(o->key, it->key) == 0)
            return true;
    it->park_next = *chain;
    *chain = it;
    return false;
}

/* The parked item `it` leaves the table (heal_mu held). */
static void
park_forget(struct objlayer *ol, struct heal_item *it)
{
    struct heal_item **p;

    if (!it->key || !ol->park_tab)
        return;
    for (p = &ol->park_tab[object__hash(it->bucket, it->key) & (PARK_TAB - 1)]; *p;
         p = &(*p)->park_next)
        if (*p == it) {
            *p = it->park_next;
            it->park_next = NULL;
            return;
        }
}

/* At most once a minute (the heal queue's log line limiter). */
static bool
say_full(struct objlayer *ol)
{
    int64_t now = clock_mono_ns();

    if (now - __atomic_load_n(&ol->heal_full_logged_ns, __ATOMIC_RELAXED) <= 60 * 1000000000LL)
        return false;
    __atomic_store_n(&ol->heal_full_logged_ns, now, __ATOMIC_RELAXED);
    return true;
}

void
object__heal_park(struct objlayer *ol, struct heal_item *it)
{
    bool said = false;

    pthread_mutex_lock(&ol->heal_mu);
    if (!ol->stopping && ol->nwaiting < OBJ_HEAL_WAITING_MAX && park_seen(ol, it)) {
        pthread_mutex_unlock(&ol->heal_mu); /* parked already (the scanner's next cycle...) */
        object__heal_item_free(it);
        return;
    }
    if (ol->journal && !it->journaled) {
        journal_add(&ol->jput, it); /* kept even if dropped from memory below */
        it->journaled = true;
    }
    if (ol->nwaiting < OBJ_HEAL_WAITING_MAX && !ol->stopping) {
        list_add_tail(&ol->heal_waiting, &it->link);
        ol->nwaiting++;
        it = NULL;
    } else {
        park_forget(ol, it);
        said = say_full(ol);
    }
    pthread_mutex_unlock(&ol->heal_mu);
    if (said)
        log_warn(
            &(struct log_ctx){ .bucket = it->bucket, .key = it->key, .event = "heal_queue_full" },
            "too many objects wait for offline drives (%d): more are left to the scanner",
            OBJ_HEAL_WAITING_MAX);
    object__heal_item_free(it);
}

void
object__heal_wake(struct objlayer *ol)
{
    pthread_mutex_lock(&ol->heal_mu);
    if (ol->nwaiting) {
        log_info(&(struct log_ctx){ .event = "heal_resumed" },
                 "a drive is back: healing the %zu objects written while it was away",
                 ol->nwaiting);
        list_splice_tail(&ol->heal_queue, &ol->heal_waiting);
        ol->heal_len += ol->nwaiting;
        ol->nwaiting = 0;
        if (ol->park_tab) /* none parked now: the chains are forgotten with them */
            memset(ol->park_tab, 0, PARK_TAB * sizeof(*ol->park_tab));
        pthread_cond_broadcast(&ol->heal_cv);
    }
    pthread_mutex_unlock(&ol->heal_mu);
}

void
object__heal_done(struct objlayer *ol, struct heal_item *it)
{
    if (it->journaled) {
        pthread_mutex_lock(&ol->heal_mu);
        journal_add(&ol->jdel, it);
        pthread_mutex_unlock(&ol->heal_mu);
    }
    object__heal_item_free(it);
}

/* The items of a gathered change buffer as slices into it; `*n` their count (malloc'd). */
static struct slice *
journal_items(const struct buf *b, size_t *n)
{
    struct slice *v = NULL;
    size_t pos = 0, cnt = 0;
    uint32_t len;

    while (pos + sizeof(len) <= b->len) {
        memcpy(&len, b->ptr + pos, sizeof(len));
        pos += sizeof(len);
        v = xrealloc(v, (cnt + 1) * sizeof(*v));
        v[cnt++] = slice_make(b->ptr + pos, len);
        pos += len;
    }
    *n = cnt;
    return v;
}

void
object__heal_flush(struct objlayer *ol)
{
    struct buf put, del;
    struct slice *pv, *dv;
    size_t np, nd;
    int rc;

    pthread_mutex_lock(&ol->heal_mu);
    if (ol->jput.len == 0 && ol->jdel.len == 0) {
        pthread_mutex_unlock(&ol->heal_mu);
        return;
    }
    put = ol->jput;
    del = ol->jdel;
    buf_init(&ol->jput, 0);
    buf_init(&ol->jdel, 0);
    pthread_mutex_unlock(&ol->heal_mu);
    pv = journal_items(&put, &np);
    dv = journal_items(&del, &nd);
    rc = drive_journal_update(ol->journal, "heal", pv, np, dv, nd);
    if (rc < 0)
        log_warn(&(struct log_ctx){ .drive = drive_endpoint(ol->journal),
                                    .event = "heal_journal_failed" },
                 "cannot write the heal journal (%zu added, %zu removed): %s; the scanner finds "
                 "what it would have kept",
                 np, nd, err_name(rc));
    free(pv);
    free(dv);
    buf_release(&put);
    buf_release(&del);
}

static int
load_item(void *arg, struct slice item)
{
    struct objlayer *ol = arg;
    struct heal_item *it;
    ssize_t z = slice_find(item, '\0');

    if (z < 0)
        return 0; /* not ours */
    it = xcalloc(1, sizeof(*it));
    it->bucket = z ? xstrndup(item.ptr, (size_t)z) : NULL;
    it->key =
        (size_t)z + 1 < item.len ? xstrndup(item.ptr + z + 1, item.len - (size_t)z - 1) : NULL;
    it->journaled = true;
    object__heal_park(ol, it);
    return 0;
}

static int
probe_item(void *arg, struct slice item)
{
    return 1;
}

void
object__heal_load(struct objlayer *ol)
{
    size_t i;

    for (i = 0; i < ol->ndrives && !ol->journal; i++)
        if (!drive_is_remote(ol->drives[i]) && drive_is_online(ol->drives[i]) &&
            drive_journal_list(ol->drives[i], "heal", SLICE_NULL, 1, probe_item, NULL) == 0)
            ol->journal = ol->drives[i];
    if (ol->journal)
        drive_journal_list(ol->journal, "heal", SLICE_NULL, 0, load_item, ol);
    if (ol->nwaiting)
        log_info(&(struct log_ctx){ .event = "heal_journal_loaded" },
                 "%zu objects written while drives were away are still to heal", ol->nwaiting);
    object__heal_wake(ol); /* tried now: those whose drives are still away are parked again */
}

/* ---- commits in flight ---- */

/* One key with commits in flight: how many on each drive of its set. */
struct commit_flight {
    const struct eset *set;
    uint64_t hash; /* object__hash(bucket, key) */
    uint16_t n[OBJ_MAX_SET];
    unsigned total;
};

/* The key's entry, or NULL; under flight_mu. A 64-bit hash alone names it (see in_flight). */
static struct commit_flight *
flight_find(struct objlayer *ol, const struct eset *set, uint64_t hash)
{
    size_t i;

    for (i = 0; i < ol->nflights; i++)
        if (ol->flights[i].hash == hash && (!set || ol->flights[i].set == set))
            return &ol->flights[i];
    return NULL;
}

void
object__flight_begin(struct objlayer *ol, const struct eset *set, const char *bucket,
                     const char *key, const bool *mask)
{
    uint64_t hash = object__hash(bucket, key);
    struct commit_flight *f;
    unsigned j;

    pthread_mutex_lock(&ol->flight_mu);
    f = flight_find(ol, set, hash);
    if (!f) {
        if (ol->nflights == ol->flights_cap) {
            ol->flights_cap = ol->flights_cap ? 2 * ol->flights_cap : 64;
            ol->flights = xrealloc(ol->flights, ol->flights_cap * sizeof(*ol->flights));
        }
        f = &ol->flights[ol->nflights++];
        *f = (struct commit_flight){ .set = set, .hash = hash };
    }
    for (j = 0; j < set->n; j++) {
        if (!mask[j])
            continue;
        f->n[j]++;
        f->total++;
    }
    pthread_mutex_unlock(&ol->flight_mu);
}

void
object__flight_end(struct objlayer *ol, const struct eset *set, const char *bucket, const char *key,
                   unsigned j)
{
    uint64_t hash = object__hash(bucket, key);
    struct commit_flight *f;

    pthread_mutex_lock(&ol->flight_mu);
    f = flight_find(ol, set, hash);
    if (ALWAYS(f && f->n[j] > 0)) {
        f->n[j]--;
        if (--f->total == 0) {
            *f = ol->flights[--ol->nflights];
            pthread_cond_broadcast(&ol->flight_cv);
        }
    }
    pthread_mutex_unlock(&ol->flight_mu);
}

/*
 * Another key of the same hash (one chance in 2^64 per pair in flight)
 * would at worst make a read skip queueing a heal: the scanner finds it.
 */
bool
object__flight_in(struct objlayer *ol, const struct eset *set, const char *bucket, const char *key,
                  bool *mask)
{
    uint64_t hash = object__hash(bucket, key);
    const struct commit_flight *f;
    bool any = false;
    unsigned j;

    pthread_mutex_lock(&ol->flight_mu);
    f = flight_find(ol, set, hash);
    for (j = 0; j < set->n; j++) {
        mask[j] = f && f->n[j] > 0;
        any |= mask[j];
    }
    pthread_mutex_unlock(&ol->flight_mu);
    return any;
}

bool
object__flight_settle(struct objlayer *ol, const char *bucket, const char *key, int64_t deadline_ns)
{
    uint64_t hash = object__hash(bucket, key);
    bool settled;

    pthread_mutex_lock(&ol->flight_mu);
    while (flight_find(ol, NULL, hash) && clock_mono_ns() < deadline_ns) {
        int64_t left = deadline_ns - clock_mono_ns();
        struct timespec ts;

        /* flight_cv is a CLOCK_REALTIME condition: a relative wait, a tick at most */
        clock_gettime(CLOCK_REALTIME, &ts);
        left = MIN(MAX(left, 0), 100000000LL);
        ts.tv_sec += (ts.tv_nsec + left) / 1000000000LL;
        ts.tv_nsec = (ts.tv_nsec + left) % 1000000000LL;
        pthread_cond_timedwait(&ol->flight_cv, &ol->flight_mu, &ts);
    }
    settled = !flight_find(ol, NULL, hash);
    pthread_mutex_unlock(&ol->flight_mu);
    return settled;
}

void
object__heal_needless(struct objlayer *ol)
{
    struct metric *m = atomic_load(&ol->heal_needless_metric);

    atomic_fetch_add(&ol->heals_needless, 1);
    if (m)
        metric_add(m, 0, 1);
}
