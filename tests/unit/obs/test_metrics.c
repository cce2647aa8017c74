/* tests/unit/obs/test_metrics.c: the metrics registry and its Prometheus text exposition. */
#include "util/base.h"

#include <pthread.h>

#include "harness.h"
#include "obs/metrics.h"

static const char *const apis[] = { "GetObject", "PutObject" };
static const char *const classes[] = { "2xx", "4xx" };

TEST(metrics_counter_two_dims)
{
    struct metrics *m = metrics_new();
    struct metric_dim dims[] = { { "api", apis, 2 }, { "status_class", classes, 2 } };
    struct metric *c =
        metrics_register(m, METRIC_COUNTER, "t_requests_total", "Requests.", dims, 2, NULL, 0, 1);
    struct buf out = BUF_INIT;

    ASSERT_EQ(metric_nseries(c), 4);
    metric_add(c, metric_series(c, 1, 0), 10);
    metric_add(c, metric_series(c, 0, 1), 1);
    ASSERT_EQ(metric_get(c, metric_series(c, 1, 0)), 10);
    metrics_expose(m, &out);
    ASSERT_STREQ(out.ptr, "# HELP t_requests_total Requests.\n"
                          "# TYPE t_requests_total counter\n"
                          "t_requests_total{api=\"GetObject\",status_class=\"2xx\"} 0\n"
                          "t_requests_total{api=\"GetObject\",status_class=\"4xx\"} 1\n"
                          "t_requests_total{api=\"PutObject\",status_class=\"2xx\"} 10\n"
                          "t_requests_total{api=\"PutObject\",status_class=\"4xx\"} 0\n");
    buf_release(&out);
    metrics_free(m);
}

TEST(metrics_gauge_scaled_and_negative)
{
    struct metrics *m = metrics_new();
    struct metric *g =
        metrics_register(m, METRIC_GAUGE, "t_seconds", "A\\b\nc", NULL, 0, NULL, 0, 1000);
    struct buf out = BUF_INIT;

    metric_set(g, 0, 1765112477123);
    metrics_expose(m, &out);
    ASSERT_STREQ(out.ptr, "# HELP t_seconds A\\\\b\\nc\n"
                          "# TYPE t_seconds gauge\n"
                          "t_seconds 1765112477.123\n");
    buf_clear(&out);
    metric_set(g, 0, -1500);
    metrics_expose(m, &out);
    ASSERT(strstr(out.ptr, "\nt_seconds -1.5\n"));
    buf_clear(&out);
    metric_set(g, 0, 0);
    metric_add(g, 0, 3);
    metric_sub(g, 0, 5);
    metrics_expose(m, &out);
    ASSERT(strstr(out.ptr, "\nt_seconds -0.002\n"));
    buf_release(&out);
    metrics_free(m);
}

TEST(metrics_histogram_buckets_sum_count)
{
    static const uint64_t bounds[] = { 5000000, 100000000, 1000000000 }; /* 5 ms, 100 ms, 1 s */
    struct metrics *m = metrics_new();
    struct metric_dim dim = { "api", apis, 2 };
    struct metric *h = metrics_register(m, METRIC_HISTOGRAM, "t_duration_seconds", "Duration.",
                                        &dim, 1, bounds, 3, 1000000000);
    struct buf out = BUF_INIT;

    metric_observe(h, 1, 1000000);    /* 1 ms */
    metric_observe(h, 1, 5000000);    /* 5 ms: le is inclusive */
    metric_observe(h, 1, 200000000);  /* 200 ms */
    metric_observe(h, 1, 3000000000); /* 3 s */
    metrics_expose(m, &out);
    ASSERT(strstr(out.ptr, "# TYPE t_duration_seconds histogram\n"));
    ASSERT(strstr(out.ptr, "t_duration_seconds_bucket{api=\"GetObject\",le=\"+Inf\"} 0\n"));
    ASSERT(strstr(out.ptr, "t_duration_seconds_bucket{api=\"PutObject\",le=\"0.005\"} 2\n"
                           "t_duration_seconds_bucket{api=\"PutObject\",le=\"0.1\"} 2\n"
                           "t_duration_seconds_bucket{api=\"PutObject\",le=\"1\"} 3\n"
                           "t_duration_seconds_bucket{api=\"PutObject\",le=\"+Inf\"} 4\n"
                           "t_duration_seconds_sum{api=\"PutObject\"} 3.206\n"
                           "t_duration_seconds_count{api=\"PutObject\"} 4\n"));
    buf_release(&out);
    metrics_free(m);
}

TEST(metrics_label_escaping)
{
    static const char *const odd[] = { "a\"b\\c\nd" };
    struct metrics *m = metrics_new();
    struct metric_dim dim = { "drive", odd, 1 };
    struct buf out = BUF_INIT;

    metrics_register(m, METRIC_GAUGE, "t_online", "Online.", &dim, 1, NULL, 0, 1);
    metrics_expose(m, &out);
    ASSERT(strstr(out.ptr, "t_online{drive=\"a\\\"b\\\\c\\nd\"} 0\n"));
    buf_release(&out);
    metrics_free(m);
}

static void
collect(void *arg)
{
    metric_set(arg, 0, 42);
}

TEST(metrics_collector_runs_before_exposition)
{
    struct metrics *m = metrics_new();
    struct metric *g = metrics_register(m, METRIC_GAUGE, "t_fds", "Fds.", NULL, 0, NULL, 0, 1);
    struct buf out = BUF_INIT;

    metrics_add_collector(m, collect, g);
    metrics_expose(m, &out);
    ASSERT(strstr(out.ptr, "\nt_fds 42\n"));
    buf_release(&out);
    metrics_free(m);
}

struct hammer {
    struct metric *c, *h;
};

static void *
hammer_run(void *arg)
{
    struct hammer *hm = arg;
    int i;

    for (i = 0; i < 100000; i++) {
        metric_add(hm->c, 1, 1);
        metric_observe(hm->h, 0, (uint64_t)i);
    }
    return NULL;
}

/* Relaxed atomics lose nothing: 4 threads x 100000 adds. */
TEST(metrics_concurrent_adds)
{
    static const uint64_t bounds[] = { 10, 1000 };
    struct metrics *m = metrics_new();
    struct metric_dim dim = { "api", apis, 2 };
    struct hammer hm;
    pthread_t t[4];
    struct buf out = BUF_INIT;
    int i;

    hm.c = metrics_register(m, METRIC_COUNTER, "t_total", "T.", &dim, 1, NULL, 0, 1);
    hm.h = metrics_register(m, METRIC_HISTOGRAM, "t_h", "H.", NULL, 0, bounds, 2, 1);
    for (i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, hammer_run, &hm), 0);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(metric_get(hm.c, 1), 400000);
    metrics_expose(m, &out);
    ASSERT(strstr(out.ptr, "t_h_bucket{le=\"10\"} 44\n"));
    ASSERT(strstr(out.ptr, "t_h_bucket{le=\"+Inf\"} 400000\n"));
    ASSERT(strstr(out.ptr, "t_h_count 400000\n"));
    ASSERT(strstr(out.ptr, "t_h_sum 19999800000\n"));
    buf_release(&out);
    metrics_free(m);
}
