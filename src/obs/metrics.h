/*
 * obs/metrics.h: the metrics registry (DESIGN.md Observability, STYLE 2.7,
 * 2.8) and its exposition in the Prometheus text format 0.0.4.
 *
 * Each layer defines its own metrics in one file (s3/metrics.c,
 * object/metrics.c, server/metrics.c) and registers them here; obs/ only
 * keeps them and writes them out. The registry lives in the one struct
 * server and is passed down: there is no global.
 *
 * A family (one metric name) has its label names and every label value
 * fixed at registration, at most METRICS_MAX_DIMS label names, so that a
 * series is an index into an array: the API enum times the status class,
 * say. Counting on the request path is then one relaxed atomic add on a
 * slot found by arithmetic: no lock, no allocation, no lookup.
 *
 *   counter    monotonic uint64 per series
 *   gauge      int64 per series, set or added to
 *   histogram  fixed upper bounds (same unit as the observations), one
 *              uint64 per bucket per series, plus a sum and a count
 *
 * Values are integers in a base unit scaled by a power of ten (`scale`):
 * a duration kept in nanoseconds with scale 1e9 is written in seconds,
 * exactly. Gauges whose value is read at scrape time (process figures,
 * drive state) are refreshed by collectors (metrics_add_collector) that run
 * before each exposition.
 *
 * Threads: registration happens at start-up, before any thread uses the
 * registry (not thread-safe); counting and exposition are safe from any
 * thread afterwards. A scrape reads each slot once with a relaxed load:
 * a histogram's count, sum and buckets of one series may disagree by the
 * observations that land during the scrape.
 */
#ifndef BASALT_OBS_METRICS_H
#define BASALT_OBS_METRICS_H

#include "util/base.h"

#include <stdatomic.h>

#include "util/buf.h"

#define METRICS_MAX_DIMS 2
#define METRICS_MAX_BUCKETS 24

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* One label name and every value it may take, in series order. Copied at registration. */
struct metric_dim {
    const char *name;
    const char *const *values;
    size_t nvalues;
};

struct metrics;
struct metric; /* one family */

/* Runs before each exposition, to set gauges read at scrape time. */
typedef void metrics_collect_fn(void *arg);

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/*
 * Registers a family: `name` (a valid metric name, unique in the registry),
 * `help` (one line), `dims` label dimensions (0 to METRICS_MAX_DIMS, each
 * with at least one value); for a histogram, `bounds` are the `nbounds`
 * increasing upper bounds (+Inf is implicit), else NULL/0. `scale` (1, 10,
 * 100, ...) divides every stored value on output. Returns the family, owned
 * by the registry. Start-up only; BUG_ON a misuse (these are constants).
 */
struct metric *metrics_register(struct metrics *m, enum metric_type type, const char *name,
                                const char *help, const struct metric_dim *dims, size_t ndims,
                                const uint64_t *bounds, size_t nbounds, uint64_t scale);
/* Adds `fn(arg)` to the collectors, run in registration order before each exposition. */
void metrics_add_collector(struct metrics *m, metrics_collect_fn *fn, void *arg);

/*
 * A gauge family whose label values change at run time (buckets come and
 * go): `label` names the varying label, `fixed` (NULL, or one dimension
 * with at least one value) a second label whose values are fixed. Its rows
 * are replaced whole by metric_table_publish(), at most `max_rows` of them,
 * so what a scrape writes stays bounded. Counting functions BUG_ON such a
 * family. Start-up only, like metrics_register().
 */
struct metric *metrics_register_table(struct metrics *m, const char *name, const char *help,
                                      const char *label, const struct metric_dim *fixed,
                                      size_t max_rows);
/*
 * Replaces every row of table family `f`: row i has label value
 * `values[i]` and the values v[i * nfixed + j], j < nfixed (nfixed: the
 * number of fixed values, 1 without a fixed dimension). Copies all. Rows
 * past max_rows are dropped: returns how many were. Any thread; takes the
 * family's mutex, which only publishers and scrapes take (never a request).
 */
size_t metric_table_publish(struct metric *f, const char *const *values, size_t n,
                            const int64_t *v);

/* The series of label value indices (i0 of the first dimension, i1 of the second, 0 if none). */
size_t metric_series(const struct metric *f, size_t i0, size_t i1);
/* The number of series of the family (the product of its dimensions' value counts). */
size_t metric_nseries(const struct metric *f);

/* Counting: any thread, lock-free. `series` < the family's series count (BUG_ON in debug). */
void metric_add(struct metric *f, size_t series, uint64_t v);     /* counter or gauge */
void metric_sub(struct metric *f, size_t series, uint64_t v);     /* gauge */
void metric_set(struct metric *f, size_t series, int64_t v);      /* gauge */
void metric_observe(struct metric *f, size_t series, uint64_t v); /* histogram */
/* The current value of a counter or gauge series (tests, and figures read back). */
int64_t metric_get(const struct metric *f, size_t series);

/*
 * Runs the collectors, then appends every family in registration order,
 * in the Prometheus text format 0.0.4 (# HELP, # TYPE, one line per
 * series; histograms as _bucket{le=...}, _sum, _count).
 */
void metrics_expose(struct metrics *m, struct buf *out);

/* Content-Type of metrics_expose's output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_OPENMETRICS_CONTENT_TYPE                                                           \
    "application/openmetrics-text; version=1.0.0; charset=utf-8"

/*
 * The two exposition formats: Prometheus text 0.0.4, and OpenMetrics 1.0.0
 * (a counter's family is named without its `_total`, which its samples
 * keep; a counter whose name lacks `_total` is of type `unknown`; `# UNIT`
 * for families ending in `_seconds` or `_bytes`; `# EOF` at the end; no
 * other comment lines).
 */
enum metrics_format { METRICS_FORMAT_TEXT, METRICS_FORMAT_OPENMETRICS };

/*
 * The format an Accept header asks for: OpenMetrics when it names
 * application/openmetrics-text (with no version, or version 1.0.0) with a
 * q above that of text/plain, else text. NULL: text.
 */
enum metrics_format metrics_format_accepted(const char *accept);
const char *metrics_content_type(enum metrics_format fmt);
/* metrics_expose() in format `fmt` (with `# EOF` for OpenMetrics). */
void metrics_expose_format(struct metrics *m, struct buf *out, enum metrics_format fmt);
/*
 * The metadata lines of a family (# HELP, # TYPE, and # UNIT in OpenMetrics)
 * of type `type` ("counter", "gauge", "histogram", "untyped"); returns the
 * type written. Shared with metrics_set.c.
 */
void metrics__write_meta(struct buf *out, const char *name, const char *type, const char *help,
                         enum metrics_format fmt);

/* Appends a label value escaped for the text format (\\, \", \n). */
void metrics_escape_label(struct buf *out, const char *v);

#endif
