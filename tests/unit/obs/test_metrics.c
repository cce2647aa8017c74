/* tests/unit/obs/test_metrics.c: the metrics registry and its Prometheus text exposition. */
#include "util/base.h"

#include <pthread.h>

#include "harness.h"
#include "obs/metrics.h"
#include "obs/metrics_set.h"

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

TEST(metrics_openmetrics_exposition)
{
    static const uint64_t bounds[] = { 5, 10 };
    struct metrics *m = metrics_new();
    struct metric *c =
        metrics_register(m, METRIC_COUNTER, "t_sent_bytes_total", "Bytes.", NULL, 0, NULL, 0, 1);
    struct metric *u =
        metrics_register(m, METRIC_COUNTER, "t_odd", "No _total.", NULL, 0, NULL, 0, 1);
    struct metric *h =
        metrics_register(m, METRIC_HISTOGRAM, "t_duration_seconds", "D.", NULL, 0, bounds, 2, 10);
    struct buf out = BUF_INIT;

    metric_add(c, 0, 7);
    metric_add(u, 0, 1);
    metric_observe(h, 0, 7);
    metrics_expose_format(m, &out, METRICS_FORMAT_OPENMETRICS);
    ASSERT_STREQ(out.ptr, "# HELP t_sent_bytes Bytes.\n"
                          "# TYPE t_sent_bytes counter\n"
                          "# UNIT t_sent_bytes bytes\n"
                          "t_sent_bytes_total 7\n"
                          "# HELP t_odd No _total.\n"
                          "# TYPE t_odd unknown\n"
                          "t_odd 1\n"
                          "# HELP t_duration_seconds D.\n"
                          "# TYPE t_duration_seconds histogram\n"
                          "# UNIT t_duration_seconds seconds\n"
                          "t_duration_seconds_bucket{le=\"0.5\"} 0\n"
                          "t_duration_seconds_bucket{le=\"1\"} 1\n"
                          "t_duration_seconds_bucket{le=\"+Inf\"} 1\n"
                          "t_duration_seconds_sum 0.7\n"
                          "t_duration_seconds_count 1\n"
                          "# EOF\n");
    buf_release(&out);
    metrics_free(m);
}

TEST(metrics_format_from_accept)
{
    ASSERT_EQ(metrics_format_accepted(NULL), METRICS_FORMAT_TEXT);
    ASSERT_EQ(metrics_format_accepted("*/*"), METRICS_FORMAT_TEXT);
    ASSERT_EQ(metrics_format_accepted("text/plain; version=0.0.4"), METRICS_FORMAT_TEXT);
    ASSERT_EQ(metrics_format_accepted("application/openmetrics-text"), METRICS_FORMAT_OPENMETRICS);
    /* what Prometheus 2.42 sends */
    ASSERT_EQ(metrics_format_accepted(
                  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
              METRICS_FORMAT_OPENMETRICS);
    ASSERT_EQ(metrics_format_accepted("application/openmetrics-text; version=0.0.1"),
              METRICS_FORMAT_TEXT);
    ASSERT_EQ(metrics_format_accepted("text/plain;q=0.9, application/openmetrics-text;q=0.5"),
              METRICS_FORMAT_TEXT);
    ASSERT_EQ(metrics_format_accepted("application/openmetrics-text;q=0"), METRICS_FORMAT_TEXT);
    ASSERT_STREQ(metrics_content_type(METRICS_FORMAT_OPENMETRICS),
                 "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static const char node_a[] = "# HELP r_total Requests.\n"
                             "# TYPE r_total counter\n"
                             "r_total{api=\"Get\",status_class=\"2xx\"} 3\n"
                             "r_total{api=\"Get\",status_class=\"5xx\"} 1\n"
                             "r_total{api=\"Put\",status_class=\"4xx\"} 2\n"
                             "# HELP d_seconds D.\n"
                             "# TYPE d_seconds histogram\n"
                             "d_seconds_bucket{api=\"Get\",le=\"0.1\"} 1\n"
                             "d_seconds_bucket{api=\"Get\",le=\"+Inf\"} 4\n"
                             "d_seconds_sum{api=\"Get\"} 0.25\n"
                             "d_seconds_count{api=\"Get\"} 4\n"
                             "# HELP up_g Up.\n"
                             "# TYPE up_g gauge\n"
                             "up_g 1\n";

TEST(metrics_set_merges_nodes_with_a_server_label)
{
    struct metrics_set *s = metrics_set_new();
    struct buf out = BUF_INIT;

    ASSERT_EQ(metrics_set_add_text(s, slice_cstr(node_a), "server", "a:1"), 0);
    ASSERT_EQ(metrics_set_add_text(s,
                                   slice_cstr("# TYPE up_g gauge\nup_g{server=\"x\"} 0\n"
                                              "this is { not a sample\n"),
                                   "server", "b\"2"),
              1);
    metrics_set_comment(s, "node c:3 did not answer");
    ASSERT(metrics_set_sum(s, "r_total", NULL, NULL) == 6);
    ASSERT(metrics_set_sum(s, "r_total", "api", "Get") == 4);
    ASSERT(metrics_set_sum(s, "up_g", NULL, NULL) == 1);
    ASSERT(metrics_set_sum(s, "d_seconds", NULL, NULL) == 0); /* only samples without suffix */
    ASSERT(metrics_set_has(s, "up_g") && !metrics_set_has(s, "nope"));
    metrics_set_write(s, &out, METRICS_FORMAT_TEXT);
    ASSERT_STREQ(out.ptr, "# node c:3 did not answer\n"
                          "# HELP r_total Requests.\n"
                          "# TYPE r_total counter\n"
                          "r_total{server=\"a:1\",api=\"Get\",status_class=\"2xx\"} 3\n"
                          "r_total{server=\"a:1\",api=\"Get\",status_class=\"5xx\"} 1\n"
                          "r_total{server=\"a:1\",api=\"Put\",status_class=\"4xx\"} 2\n"
                          "# HELP d_seconds D.\n"
                          "# TYPE d_seconds histogram\n"
                          "d_seconds_bucket{server=\"a:1\",api=\"Get\",le=\"0.1\"} 1\n"
                          "d_seconds_bucket{server=\"a:1\",api=\"Get\",le=\"+Inf\"} 4\n"
                          "d_seconds_sum{server=\"a:1\",api=\"Get\"} 0.25\n"
                          "d_seconds_count{server=\"a:1\",api=\"Get\"} 4\n"
                          "# HELP up_g Up.\n"
                          "# TYPE up_g gauge\n"
                          "up_g{server=\"a:1\"} 1\n"
                          "up_g{server=\"b\\\"2\"} 0\n");
    buf_clear(&out);
    metrics_set_write(s, &out, METRICS_FORMAT_OPENMETRICS);
    ASSERT(!strstr(out.ptr, "did not answer")); /* OpenMetrics has no comments */
    ASSERT(strstr(out.ptr, "# TYPE r counter\nr_total{server=\"a:1\""));
    ASSERT(strstr(out.ptr, "\n# EOF\n"));
    buf_release(&out);
    metrics_set_free(s);
}

TEST(metrics_set_translates_by_rules)
{
    static const struct metrics_rule rules[] = {
        { "m_requests_total", "r_total", NULL, "All.", "server,api", NULL, NULL },
        { "m_5xx_total", "r_total", NULL, NULL, "server,api", "status_class=5xx", NULL },
        { "m_err_total", "r_total", NULL, NULL, "server", "status_class=4xx|5xx", NULL },
        { "m_ttfb_distribution", "d_seconds", "counter", NULL, NULL, NULL, "_bucket" },
        { "m_up", "up_g", NULL, NULL, NULL, NULL, NULL },
        { "m_absent", "absent", NULL, NULL, NULL, NULL, NULL },
    };
    struct metrics_set *s = metrics_set_new(), *t = metrics_set_new();
    struct buf out = BUF_INIT;

    metrics_set_add_text(s, slice_cstr(node_a), "server", "a:1");
    metrics_set_add(s, "gauge", "up_g", NULL, "server", "b:2", 2.5);
    metrics_set_translate(s, rules, ARRAY_SIZE(rules), t);
    metrics_set_write(t, &out, METRICS_FORMAT_TEXT);
    ASSERT_STREQ(out.ptr, "# HELP m_requests_total All.\n"
                          "# TYPE m_requests_total counter\n"
                          "m_requests_total{server=\"a:1\",api=\"Get\"} 4\n"
                          "m_requests_total{server=\"a:1\",api=\"Put\"} 2\n"
                          "# HELP m_5xx_total Requests.\n"
                          "# TYPE m_5xx_total counter\n"
                          "m_5xx_total{server=\"a:1\",api=\"Get\"} 1\n"
                          "# HELP m_err_total Requests.\n"
                          "# TYPE m_err_total counter\n"
                          "m_err_total{server=\"a:1\"} 3\n"
                          "# HELP m_ttfb_distribution D.\n"
                          "# TYPE m_ttfb_distribution counter\n"
                          "m_ttfb_distribution{server=\"a:1\",api=\"Get\",le=\"0.1\"} 1\n"
                          "m_ttfb_distribution{server=\"a:1\",api=\"Get\",le=\"+Inf\"} 4\n"
                          "# HELP m_up Up.\n"
                          "# TYPE m_up gauge\n"
                          "m_up{server=\"a:1\"} 1\n"
                          "m_up{server=\"b:2\"} 2.5\n");
    buf_release(&out);
    metrics_set_free(s);
    metrics_set_free(t);
}

TEST(metrics_table_rows_replaced_whole_and_bounded)
{
    static const char *const ranges[] = { "SMALL", "LARGE" };
    struct metric_dim range = { "range", ranges, 2 };
    struct metrics *m = metrics_new();
    struct metric *plain = metrics_register_table(m, "t_bytes", "B.", "bucket", NULL, 2);
    struct metric *dist = metrics_register_table(m, "t_dist", "D.", "bucket", &range, 2);
    const char *const names[] = { "a", "b\"q", "c" };
    const int64_t one[] = { 10, 20, 30 }, two[] = { 1, 2, 3, 4, 5, 6 };
    struct buf out = BUF_INIT;

    metrics_expose(m, &out); /* nothing published yet: the families, no samples */
    ASSERT_STREQ(out.ptr, "# HELP t_bytes B.\n# TYPE t_bytes gauge\n"
                          "# HELP t_dist D.\n# TYPE t_dist gauge\n");
    ASSERT_EQ(metric_table_publish(plain, names, 3, one), 1); /* bounded: one dropped */
    ASSERT_EQ(metric_table_publish(dist, names, 2, two), 0);
    buf_clear(&out);
    metrics_expose(m, &out);
    ASSERT_STREQ(out.ptr, "# HELP t_bytes B.\n# TYPE t_bytes gauge\n"
                          "t_bytes{bucket=\"a\"} 10\n"
                          "t_bytes{bucket=\"b\\\"q\"} 20\n"
                          "# HELP t_dist D.\n# TYPE t_dist gauge\n"
                          "t_dist{bucket=\"a\",range=\"SMALL\"} 1\n"
                          "t_dist{bucket=\"a\",range=\"LARGE\"} 2\n"
                          "t_dist{bucket=\"b\\\"q\",range=\"SMALL\"} 3\n"
                          "t_dist{bucket=\"b\\\"q\",range=\"LARGE\"} 4\n");
    ASSERT_EQ(metric_table_publish(plain, names + 2, 1, one + 2),
              0); /* a bucket gone: its row too */
    ASSERT_EQ(metric_table_publish(dist, NULL, 0, NULL), 0);
    buf_clear(&out);
    metrics_expose(m, &out);
    ASSERT_STREQ(out.ptr, "# HELP t_bytes B.\n# TYPE t_bytes gauge\n"
                          "t_bytes{bucket=\"c\"} 30\n"
                          "# HELP t_dist D.\n# TYPE t_dist gauge\n");
    buf_release(&out);
    metrics_free(m);
}
