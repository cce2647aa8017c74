/*
 * object/monitor.c: the drive monitor thread: every 2 s it checks the node's
 * own drives (a replaced drive is formatted back, a remounted disk taken
 * back: heal.c object__heal_drive), and on their own schedules aborts stale
 * multipart uploads, rereads the bucket list (the snapshot's safety net,
 * bucketmeta.c) and gives freed memory back to the system.
 *
 * The hung-drive watch is a thread of its own, since the monitor itself
 * calls the drives and would hang with one: it never calls a drive, only
 * reads the start times of the calls in flight (storage/drive.h
 * drive_watch()). A drive of this node with a call older than the drive
 * timeout goes offline and its I/O queue is bypassed (util/workq.h), so the
 * jobs queued behind the stuck workers, and every new request, go on
 * without it; the requests whose calls are the stuck ones wait for them (a
 * call cannot be taken back from the kernel). When every call has returned
 * the drive is back, and what it missed is healed. Drives of other nodes
 * are not watched here: their calls have RPC deadlines (drive_remote.c).
 */
#include "util/base.h"

#include <malloc.h>
#include <time.h>

#include "object/internal.h"
#include "util/clock.h"
#include "util/workq.h"

/*
 * Stale multipart uploads: checked every hour, or every half of the stale
 * age when that is shorter (tests set a few seconds); never more often than
 * the monitor's tick.
 */
static void
mp_cleanup_tick(struct objlayer *ol)
{
    int64_t now = clock_now_ns(), every = MIN(ol->stale_upload_ns / 2, 3600 * 1000000000LL);
    unsigned i;

    /* a deployment-wide chore: done by the first node that answers, not by all of them */
    for (i = 0; i < ol->scan_share; i++)
        if (object__node_up(ol, i))
            return;

    if (now < ol->next_mp_cleanup_ns)
        return;
    ol->next_mp_cleanup_ns = now + every;
    object__mp_cleanup(ol, now - ol->stale_upload_ns);
}

/* The bucket snapshot's safety net: the list read again every OBJ_BUCKET_REFRESH_NS. */
static void
bucket_refresh_tick(struct objlayer *ol)
{
    int64_t now = clock_mono_ns();

    if (now < ol->next_bucket_refresh_ns)
        return;
    ol->next_bucket_refresh_ns = now + OBJ_BUCKET_REFRESH_NS;
    object__bucket_refresh(ol);
}

/*
 * Asks another node's drives that went offline whether they are back (that
 * node restarted, or the network healed); true if one is.
 */
static bool
recheck_remote(struct objlayer *ol)
{
    bool back = false;
    size_t i;

    for (i = 0; i < ol->ndrives; i++)
        if (drive_is_remote(ol->drives[i]) && !drive_is_online(ol->drives[i]) &&
            drive_check(ol->drives[i]) == 0)
            back = true;
    return back;
}

static void
watch_tick(struct objlayer *ol)
{
    bool back = false;
    size_t i;

    for (i = 0; i < ol->ndrives; i++) {
        struct drive *d = ol->drives[i];
        struct eset *set;
        unsigned slot;
        bool want;
        int st;

        if (drive_is_remote(d))
            continue;
        object__drive_pos(ol, i, &set, &slot);
        st = drive_watch(d, ol->drive_timeout_ns);
        want = drive_is_hung(d) || drive_stuck_ns(d) >= ol->drive_timeout_ns;
        if (want != ol->bypassed[i]) /* on while calls are stuck, whatever the drive's state */
            workq_bypass(set->queues[slot], want);
        ol->bypassed[i] = want;
        back |= st == DRIVE_BACK;
    }
    if (back) {
        object__heal_enqueue(ol, NULL, NULL); /* what it missed while away */
        object__heal_wake(ol);
    }
}

void *
object__watch_main(void *arg)
{
    struct objlayer *ol = arg;
    int64_t every = MAX(MIN(ol->drive_timeout_ns / 4, 1000000000LL), 10000000LL);

    pthread_setname_np(pthread_self(), "drive-watch");
    pthread_mutex_lock(&ol->heal_mu);
    while (!ol->stopping) {
        struct timespec ts;
        int64_t at;

        clock_gettime(CLOCK_REALTIME, &ts);
        at = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + every;
        ts.tv_sec = (time_t)(at / 1000000000LL);
        ts.tv_nsec = (long)(at % 1000000000LL);
        pthread_cond_timedwait(&ol->watch_cv, &ol->heal_mu, &ts);
        if (ol->stopping)
            break;
        pthread_mutex_unlock(&ol->heal_mu);
        watch_tick(ol);
        pthread_mutex_lock(&ol->heal_mu);
    }
    pthread_mutex_unlock(&ol->heal_mu);
    return NULL;
}

void *
object__monitor_main(void *arg)
{
    struct objlayer *ol = arg;

    pthread_setname_np(pthread_self(), "drive-monitor");
    pthread_mutex_lock(&ol->heal_mu);
    while (!ol->stopping) {
        struct timespec ts;
        size_t i;
        bool changed = false;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 2;
        pthread_cond_timedwait(&ol->heal_cv, &ol->heal_mu, &ts);
        if (ol->stopping)
            break;
        pthread_mutex_unlock(&ol->heal_mu);
        for (i = 0; i < ol->ndrives; i++)
            if (!drive_is_hung(ol->drives[i]) && /* its checks would hang the monitor too */
                object__heal_drive(ol, i) > 0)   /* formatted back, or its disk taken back */
                changed = true;
        if (changed)
            object__heal_enqueue(ol, NULL, NULL);
        if (recheck_remote(ol) || changed) {
            object__heal_wake(ol);    /* what was healed while a drive was away, again */
            object__heal_buckets(ol); /* buckets made or deleted meanwhile */
            /*
             * and a scan soon: the last cycle may have counted objects below
             * full redundancy only because the drive was away, and heal status
             * is not done until a cycle finds none (else it would wait for
             * --scan-every)
             */
            object__scan_soon(ol);
        }
        if (ol->journal)
            object__heal_flush(ol);
        mp_cleanup_tick(ol);
        bucket_refresh_tick(ol);
        if (ol->npools > 1)
            object__pools_refresh(ol);
        /*
         * Give memory freed by finished requests back to the system: glibc
         * keeps it in per-thread arenas otherwise (idle RSS after 16 x 1 GiB
         * uploads: 75 MiB without, see docs/benchmarks.md).
         */
        malloc_trim(0);
        pthread_mutex_lock(&ol->heal_mu);
    }
    pthread_mutex_unlock(&ol->heal_mu);
    return NULL;
}
