/*
 * server/metrics.c: the process's metrics (STYLE 2.8), named as the
 * Prometheus client libraries name them: resident memory, open file
 * descriptors, threads, CPU time, start time; plus Basalt's build version
 * and uptime. Read from /proc/self and getrusage() by a collector at scrape
 * time; nothing is counted on the request path.
 *
 * In a cluster, the RPC client's per-peer figures too: calls, errors and
 * connections copied from rpc_peer_stats() at scrape time, and the
 * histogram of call durations that rpc.c observes into itself.
 */
#include "util/base.h"

#include "server/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cluster/rpc.h"
#include "obs/metrics.h"
#include "util/clock.h"

struct server_metrics {
    int64_t start_ns, start_mono_ns;
    struct metric *rss, *vsz, *fds, *max_fds, *threads, *cpu, *start, *uptime, *build;
    /* server_metrics_register_peers() */
    struct rpc_peer **peers;
    size_t npeers;
    struct metric *rpc_duration, *rpc_calls, *rpc_errors, *rpc_connects, *rpc_online;
};

/* RPC call durations, ns: 250 us to 30 s (a lock or metadata call is a millisecond or so). */
static const uint64_t rpc_bounds[] = {
    250000,   500000,    1000000,   2500000,   5000000,    10000000,   25000000,
    50000000, 100000000, 250000000, 500000000, 1000000000, 5000000000, 30000000000,
};

/* Resident and virtual bytes from /proc/self/statm (pages). */
static void
read_statm(int64_t *rss, int64_t *vsz)
{
    unsigned long long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    long page = sysconf(_SC_PAGESIZE);

    if (f) {
        if (fscanf(f, "%llu %llu", &size, &res) != 2)
            size = res = 0;
        fclose(f);
    }
    *rss = (int64_t)res * page;
    *vsz = (int64_t)size * page;
}

static int64_t
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int64_t n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n > 0 ? n - 1 : 0; /* not the descriptor of the listing itself */
}

static int64_t
count_threads(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long long n = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %lld", &n) == 1)
            break;
    fclose(f);
    return n;
}

static void
collect_peers(struct server_metrics *sm)
{
    size_t i;

    for (i = 0; i < sm->npeers; i++) {
        struct rpc_peer_stats st;

        rpc_peer_stats(sm->peers[i], &st);
        metric_set(sm->rpc_calls, i, (int64_t)st.calls);
        metric_set(sm->rpc_errors, i, (int64_t)st.failures);
        metric_set(sm->rpc_connects, i, (int64_t)st.connects);
        metric_set(sm->rpc_online, i, rpc_peer_is_online(sm->peers[i]));
    }
}

static void
collect(void *arg)
{
    struct server_metrics *sm = arg;
    struct rusage ru;
    struct rlimit rl;
    int64_t rss, vsz;

    read_statm(&rss, &vsz);
    metric_set(sm->rss, 0, rss);
    metric_set(sm->vsz, 0, vsz);
    metric_set(sm->fds, 0, count_fds());
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        metric_set(sm->max_fds, 0, rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur);
    metric_set(sm->threads, 0, count_threads());
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        metric_set(sm->cpu, 0,
                   (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    metric_set(sm->uptime, 0, (clock_mono_ns() - sm->start_mono_ns) / 1000000);
    collect_peers(sm);
}

static struct metric *
gauge(struct metrics *m, const char *name, const char *help, uint64_t scale)
{
    return metrics_register(m, METRIC_GAUGE, name, help, NULL, 0, NULL, 0, scale);
}

struct server_metrics *
server_metrics_register(struct metrics *m)
{
    static const char *const version[] = { BASALT_VERSION };
    struct server_metrics *sm = xcalloc(1, sizeof(*sm));
    struct metric_dim dim = { "version", version, 1 };

    sm->start_ns = clock_now_ns();
    sm->start_mono_ns = clock_mono_ns();
    sm->build =
        metrics_register(m, METRIC_GAUGE, "basalt_build_info",
                         "Always 1; the version of this server in the label.", &dim, 1, NULL, 0, 1);
    metric_set(sm->build, 0, 1);
    sm->uptime = gauge(m, "basalt_uptime_seconds", "Seconds since this server started.", 1000);
    sm->start = gauge(m, "process_start_time_seconds",
                      "Start time of the process since the Unix epoch, in seconds.", 1000);
    metric_set(sm->start, 0, sm->start_ns / 1000000);
    sm->cpu =
        metrics_register(m, METRIC_COUNTER, "process_cpu_seconds_total",
                         "User and system CPU time spent, in seconds.", NULL, 0, NULL, 0, 1000000);
    sm->rss = gauge(m, "process_resident_memory_bytes", "Resident memory size in bytes.", 1);
    sm->vsz = gauge(m, "process_virtual_memory_bytes", "Virtual memory size in bytes.", 1);
    sm->fds = gauge(m, "process_open_fds", "Number of open file descriptors.", 1);
    sm->max_fds = gauge(m, "process_max_fds", "Maximum number of open file descriptors.", 1);
    sm->threads = gauge(m, "process_threads", "Number of OS threads of the process.", 1);
    metrics_add_collector(m, collect, sm);
    return sm;
}

void
server_metrics_register_peers(struct server_metrics *sm, struct metrics *m,
                              struct rpc_peer *const *peers, const char *const *names, size_t n)
{
    struct metric_dim peer = { "peer", names, n };
    size_t i;

    BUG_ON(sm->peers);
    if (!n)
        return;
    sm->peers = xcalloc(n, sizeof(*sm->peers));
    memcpy(sm->peers, peers, n * sizeof(*peers));
    sm->npeers = n;
    sm->rpc_duration = metrics_register(
        m, METRIC_HISTOGRAM, "basalt_rpc_call_duration_seconds",
        "Time of a cluster RPC call to the peer, to its answer or error (streams excluded).", &peer,
        1, rpc_bounds, ARRAY_SIZE(rpc_bounds), 1000000000);
    sm->rpc_calls =
        metrics_register(m, METRIC_COUNTER, "basalt_rpc_calls_total",
                         "Cluster RPC calls and streams to the peer (offline fail-fasts excluded).",
                         &peer, 1, NULL, 0, 1);
    sm->rpc_errors = metrics_register(m, METRIC_COUNTER, "basalt_rpc_errors_total",
                                      "Cluster RPC calls and streams to the peer that failed.",
                                      &peer, 1, NULL, 0, 1);
    sm->rpc_connects =
        metrics_register(m, METRIC_COUNTER, "basalt_rpc_connects_total",
                         "TCP connections opened to the peer.", &peer, 1, NULL, 0, 1);
    sm->rpc_online =
        metrics_register(m, METRIC_GAUGE, "basalt_rpc_peer_online",
                         "1 if this node's RPC client sees the peer online.", &peer, 1, NULL, 0, 1);
    for (i = 0; i < n; i++)
        rpc_peer_set_metrics(peers[i], sm->rpc_duration, i);
}

void
server_metrics_free(struct server_metrics *sm)
{
    if (!sm)
        return;
    free(sm->peers);
    free(sm);
}
