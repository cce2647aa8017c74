/*
 * obs/metrics.c: the registry of metrics.h and its text exposition.
 *
 * A family owns one array of slots, allocated at registration: counters and
 * gauges have one 64-bit slot per series; a histogram has, per series,
 * nbounds + 1 bucket slots (not cumulative: the exposition adds them up),
 * then its sum and its count. Slots are written with relaxed atomics only.
 * Families form a list in registration order, read-only after start-up.
 */
#include "util/base.h"

#include "obs/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <strings.h>

struct metric {
    struct metric *next;
    enum metric_type type;
    char *name;
    char *help;
    size_t ndims;
    char *dim_names[METRICS_MAX_DIMS];
    char **dim_values[METRICS_MAX_DIMS];
    size_t dim_n[METRICS_MAX_DIMS];
    size_t nseries;
    size_t stride; /* series per value of the first dimension */
    uint64_t bounds[METRICS_MAX_BUCKETS];
    size_t nbounds;
    uint64_t scale;
    size_t slots_per_series; /* 1, or nbounds + 1 + 2 for a histogram */
    _Atomic uint64_t *slots;
    /* a table family (metrics_register_table): rows replaced whole, under table_mu */
    struct metric_table *table;
};

struct metric_table {
    pthread_mutex_t mu;
    char *label;
    size_t max_rows;
    size_t nfixed; /* values of the fixed dimension, or 1 without one */
    char **rows;   /* protected by mu */
    int64_t *vals; /* nrows * nfixed, protected by mu */
    size_t nrows;  /* protected by mu */
};

struct collector {
    metrics_collect_fn *fn;
    void *arg;
};

struct metrics {
    struct metric *first, **tail;
    struct collector *collectors;
    size_t ncollectors;
};

struct metrics *
metrics_new(void)
{
    struct metrics *m = xcalloc(1, sizeof(*m));

    m->tail = &m->first;
    return m;
}

static void
table_clear(struct metric_table *t)
{
    size_t i;

    for (i = 0; i < t->nrows; i++)
        free(t->rows[i]);
    free(t->rows);
    free(t->vals);
    t->rows = NULL;
    t->vals = NULL;
    t->nrows = 0;
}

static void
family_free(struct metric *f)
{
    size_t d, i;

    if (f->table) {
        table_clear(f->table);
        pthread_mutex_destroy(&f->table->mu);
        free(f->table->label);
        free(f->table);
    }

    for (d = 0; d < f->ndims; d++) {
        for (i = 0; i < f->dim_n[d]; i++)
            free(f->dim_values[d][i]);
        free(f->dim_values[d]);
        free(f->dim_names[d]);
    }
    free(f->name);
    free(f->help);
    free((void *)f->slots);
    free(f);
}

void
metrics_free(struct metrics *m)
{
    struct metric *f, *next;

    if (!m)
        return;
    for (f = m->first; f; f = next) {
        next = f->next;
        family_free(f);
    }
    free(m->collectors);
    free(m);
}

static bool
is_valid_name(const char *s)
{
    size_t i;

    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == ':'))
            return false;
    return true;
}

static void
copy_dims(struct metric *f, const struct metric_dim *dims, size_t ndims)
{
    size_t d, i;

    f->ndims = ndims;
    f->nseries = 1;
    for (d = 0; d < ndims; d++) {
        BUG_ON(!is_valid_name(dims[d].name) || strchr(dims[d].name, ':') || dims[d].nvalues == 0 ||
               !strcmp(dims[d].name, "le"));
        f->dim_names[d] = xstrdup(dims[d].name);
        f->dim_n[d] = dims[d].nvalues;
        f->dim_values[d] = xcalloc(dims[d].nvalues, sizeof(char *));
        for (i = 0; i < dims[d].nvalues; i++)
            f->dim_values[d][i] = xstrdup(dims[d].values[i]);
        f->nseries *= dims[d].nvalues;
    }
    f->stride = ndims >= 2 ? f->dim_n[1] : 1;
}

struct metric *
metrics_register(struct metrics *m, enum metric_type type, const char *name, const char *help,
                 const struct metric_dim *dims, size_t ndims, const uint64_t *bounds,
                 size_t nbounds, uint64_t scale)
{
    struct metric *f = xcalloc(1, sizeof(*f)), *g;
    size_t i, nslots;

    BUG_ON(!is_valid_name(name) || ndims > METRICS_MAX_DIMS || scale == 0);
    BUG_ON(type == METRIC_HISTOGRAM ? nbounds == 0 || nbounds > METRICS_MAX_BUCKETS : nbounds);
    for (g = m->first; g; g = g->next)
        BUG_ON(!strcmp(g->name, name));
    for (i = 1; i < nbounds; i++)
        BUG_ON(bounds[i] <= bounds[i - 1]);
    for (i = scale; i > 1; i /= 10)
        BUG_ON(i % 10); /* a power of ten: values are printed exactly */
    f->type = type;
    f->name = xstrdup(name);
    f->help = xstrdup(help ? help : "");
    f->scale = scale;
    copy_dims(f, dims, ndims);
    if (nbounds)
        memcpy(f->bounds, bounds, nbounds * sizeof(*bounds));
    f->nbounds = nbounds;
    f->slots_per_series = type == METRIC_HISTOGRAM ? nbounds + 3 : 1;
    nslots = f->nseries * f->slots_per_series;
    f->slots = xcalloc(nslots, sizeof(*f->slots));
    for (i = 0; i < nslots; i++)
        atomic_init(&f->slots[i], 0);
    *m->tail = f;
    m->tail = &f->next;
    return f;
}

struct metric *
metrics_register_table(struct metrics *m, const char *name, const char *help, const char *label,
                       const struct metric_dim *fixed, size_t max_rows)
{
    struct metric *f =
        metrics_register(m, METRIC_GAUGE, name, help, fixed, fixed ? 1 : 0, NULL, 0, 1);
    struct metric_table *t = xcalloc(1, sizeof(*t));

    BUG_ON(!is_valid_name(label) || strchr(label, ':') || !strcmp(label, "le") || max_rows == 0 ||
           (fixed && !strcmp(fixed->name, label)));
    pthread_mutex_init(&t->mu, NULL);
    t->label = xstrdup(label);
    t->max_rows = max_rows;
    t->nfixed = f->nseries;
    f->table = t;
    return f;
}

size_t
metric_table_publish(struct metric *f, const char *const *values, size_t n, const int64_t *v)
{
    struct metric_table *t = f->table;
    size_t keep, i;
    char **rows;
    int64_t *vals;

    BUG_ON(!t);
    keep = MIN(n, t->max_rows);
    rows = xcalloc(keep + 1, sizeof(*rows));
    vals = xcalloc(keep * t->nfixed + 1, sizeof(*vals));
    for (i = 0; i < keep; i++)
        rows[i] = xstrdup(values[i]);
    if (keep)
        memcpy(vals, v, keep * t->nfixed * sizeof(*vals));
    pthread_mutex_lock(&t->mu);
    table_clear(t);
    t->rows = rows;
    t->vals = vals;
    t->nrows = keep;
    pthread_mutex_unlock(&t->mu);
    return n - keep;
}

void
metrics_add_collector(struct metrics *m, metrics_collect_fn *fn, void *arg)
{
    m->collectors = xrealloc(m->collectors, (m->ncollectors + 1) * sizeof(*m->collectors));
    m->collectors[m->ncollectors++] = (struct collector){ fn, arg };
}

size_t
metric_series(const struct metric *f, size_t i0, size_t i1)
{
    return i0 * f->stride + i1;
}

size_t
metric_nseries(const struct metric *f)
{
    return f->nseries;
}

static _Atomic uint64_t *
slot(const struct metric *f, size_t series)
{
    BUG_ON(series >= f->nseries || f->table);
    return &f->slots[series * f->slots_per_series];
}

void
metric_add(struct metric *f, size_t series, uint64_t v)
{
    atomic_fetch_add_explicit(slot(f, series), v, memory_order_relaxed);
}

void
metric_sub(struct metric *f, size_t series, uint64_t v)
{
    atomic_fetch_sub_explicit(slot(f, series), v, memory_order_relaxed);
}

void
metric_set(struct metric *f, size_t series, int64_t v)
{
    atomic_store_explicit(slot(f, series), (uint64_t)v, memory_order_relaxed);
}

int64_t
metric_get(const struct metric *f, size_t series)
{
    return (int64_t)atomic_load_explicit(slot(f, series), memory_order_relaxed);
}

void
metric_observe(struct metric *f, size_t series, uint64_t v)
{
    _Atomic uint64_t *s = slot(f, series);
    size_t b = 0;

    while (b < f->nbounds && v > f->bounds[b])
        b++;
    atomic_fetch_add_explicit(&s[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s[f->nbounds + 1], v, memory_order_relaxed);
    atomic_fetch_add_explicit(&s[f->nbounds + 2], 1, memory_order_relaxed);
}

/* ---- exposition ---- */

void
metrics_escape_label(struct buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            buf_adds(out, "\\\\");
        else if (*v == '"')
            buf_adds(out, "\\\"");
        else if (*v == '\n')
            buf_adds(out, "\\n");
        else
            buf_addch(out, *v);
    }
}

/* HELP text: backslash and newline escaped. */
static void
escape_help(struct buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            buf_adds(out, "\\\\");
        else if (*v == '\n')
            buf_adds(out, "\\n");
        else
            buf_addch(out, *v);
    }
}

/* `v / scale` in decimal, exactly, without trailing zeros ("0.005", "12", "-1.5"). */
static void
add_scaled(struct buf *out, int64_t v, uint64_t scale, bool is_signed)
{
    uint64_t u = is_signed && v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char frac[24];
    int digits = 0, len;
    uint64_t s;

    if (is_signed && v < 0)
        buf_addch(out, '-');
    buf_addf(out, "%" PRIu64, u / scale);
    if (scale == 1 || u % scale == 0)
        return;
    for (s = scale; s > 1; s /= 10)
        digits++;
    len = snprintf(frac, sizeof(frac), "%0*" PRIu64, digits, u % scale);
    while (len > 0 && frac[len - 1] == '0')
        frac[--len] = '\0';
    buf_addf(out, ".%s", frac);
}

/* `{a="x",b="y"` without the closing brace; nothing if there are no labels and no `open`. */
static void
add_labels(struct buf *out, const struct metric *f, size_t series, const char *extra_name,
           const char *extra_value)
{
    size_t idx[METRICS_MAX_DIMS] = { 0 }, d;
    bool any = false;

    if (f->ndims == 2) {
        idx[0] = series / f->stride;
        idx[1] = series % f->stride;
    } else if (f->ndims == 1) {
        idx[0] = series;
    }
    for (d = 0; d < f->ndims; d++) {
        buf_addf(out, "%s%s=\"", any ? "," : "{", f->dim_names[d]);
        metrics_escape_label(out, f->dim_values[d][idx[d]]);
        buf_addch(out, '"');
        any = true;
    }
    if (extra_name) {
        buf_addf(out, "%s%s=\"%s\"", any ? "," : "{", extra_name, extra_value);
        any = true;
    }
    if (any)
        buf_addch(out, '}');
}

static void
expose_histogram(struct buf *out, const struct metric *f, size_t series)
{
    const _Atomic uint64_t *s = &f->slots[series * f->slots_per_series];
    uint64_t cum = 0, count;
    struct buf le = BUF_INIT;
    size_t b;

    for (b = 0; b <= f->nbounds; b++) {
        cum += atomic_load_explicit(&s[b], memory_order_relaxed);
        buf_clear(&le);
        if (b < f->nbounds)
            add_scaled(&le, (int64_t)f->bounds[b], f->scale, false);
        else
            buf_adds(&le, "+Inf");
        buf_addf(out, "%s_bucket", f->name);
        add_labels(out, f, series, "le", le.ptr);
        buf_addf(out, " %" PRIu64 "\n", cum);
    }
    /* _count is the +Inf bucket, so that the two agree even during a scrape */
    count = cum;
    buf_addf(out, "%s_sum", f->name);
    add_labels(out, f, series, NULL, NULL);
    buf_addch(out, ' ');
    add_scaled(out, (int64_t)atomic_load_explicit(&s[f->nbounds + 1], memory_order_relaxed),
               f->scale, false);
    buf_addf(out, "\n%s_count", f->name);
    add_labels(out, f, series, NULL, NULL);
    buf_addf(out, " %" PRIu64 "\n", count);
    buf_release(&le);
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && !strcmp(s + n - k, suffix);
}

void
metrics__write_meta(struct buf *out, const char *name, const char *type, const char *help,
                    enum metrics_format fmt)
{
    size_t len = strlen(name);

    if (fmt == METRICS_FORMAT_OPENMETRICS) {
        if (!strcmp(type, "counter")) {
            if (ends_with(name, "_total"))
                len -= strlen("_total");
            else
                type = "unknown"; /* an OpenMetrics counter's samples end in _total */
        } else if (!strcmp(type, "untyped")) {
            type = "unknown";
        }
    }
    buf_addf(out, "# HELP %.*s ", (int)len, name);
    escape_help(out, help);
    buf_addf(out, "\n# TYPE %.*s %s\n", (int)len, name, type);
    if (fmt != METRICS_FORMAT_OPENMETRICS)
        return;
    if (len > 8 && !strncmp(name + len - 8, "_seconds", 8))
        buf_addf(out, "# UNIT %.*s seconds\n", (int)len, name);
    else if (len > 6 && !strncmp(name + len - 6, "_bytes", 6))
        buf_addf(out, "# UNIT %.*s bytes\n", (int)len, name);
}

/* A table family's rows: `name{label="row",fixed="v"} value`, under its mutex. */
static void
expose_table(struct buf *out, const struct metric *f)
{
    struct metric_table *t = f->table;
    size_t i, j;

    pthread_mutex_lock(&t->mu);
    for (i = 0; i < t->nrows; i++) {
        for (j = 0; j < t->nfixed; j++) {
            buf_addf(out, "%s{%s=\"", f->name, t->label);
            metrics_escape_label(out, t->rows[i]);
            buf_addch(out, '"');
            if (f->ndims) {
                buf_addf(out, ",%s=\"", f->dim_names[0]);
                metrics_escape_label(out, f->dim_values[0][j]);
                buf_addch(out, '"');
            }
            buf_adds(out, "} ");
            add_scaled(out, t->vals[i * t->nfixed + j], 1, true);
            buf_addch(out, '\n');
        }
    }
    pthread_mutex_unlock(&t->mu);
}

static void
expose_family(struct buf *out, const struct metric *f, enum metrics_format fmt)
{
    static const char *const types[] = { "counter", "gauge", "histogram" };
    size_t i;

    metrics__write_meta(out, f->name, types[f->type], f->help, fmt);
    if (f->table) {
        expose_table(out, f);
        return;
    }
    for (i = 0; i < f->nseries; i++) {
        if (f->type == METRIC_HISTOGRAM) {
            expose_histogram(out, f, i);
            continue;
        }
        buf_adds(out, f->name);
        add_labels(out, f, i, NULL, NULL);
        buf_addch(out, ' ');
        add_scaled(out, (int64_t)atomic_load_explicit(&f->slots[i], memory_order_relaxed), f->scale,
                   f->type == METRIC_GAUGE);
        buf_addch(out, '\n');
    }
}

void
metrics_expose_format(struct metrics *m, struct buf *out, enum metrics_format fmt)
{
    const struct metric *f;
    size_t i;

    for (i = 0; i < m->ncollectors; i++)
        m->collectors[i].fn(m->collectors[i].arg);
    for (f = m->first; f; f = f->next)
        expose_family(out, f, fmt);
    if (fmt == METRICS_FORMAT_OPENMETRICS)
        buf_adds(out, "# EOF\n");
}

void
metrics_expose(struct metrics *m, struct buf *out)
{
    metrics_expose_format(m, out, METRICS_FORMAT_TEXT);
}

const char *
metrics_content_type(enum metrics_format fmt)
{
    return fmt == METRICS_FORMAT_OPENMETRICS ? METRICS_OPENMETRICS_CONTENT_TYPE
                                             : METRICS_CONTENT_TYPE;
}

/* The q of one media range's parameters ("; version=1.0.0;q=0.5"), 1 if none; -1 a bad version. */
static double
range_q(const char *params, size_t len, bool check_version)
{
    double q = 1;
    size_t i = 0;

    while (i < len) {
        size_t start, end;

        while (i < len && (params[i] == ';' || params[i] == ' ' || params[i] == '\t'))
            i++;
        start = i;
        while (i < len && params[i] != ';')
            i++;
        end = i;
        while (end > start && (params[end - 1] == ' ' || params[end - 1] == '\t'))
            end--;
        if (end - start > 2 && (params[start] == 'q' || params[start] == 'Q') &&
            params[start + 1] == '=') {
            char num[16];
            size_t n = MIN(end - start - 2, sizeof(num) - 1);

            memcpy(num, params + start + 2, n);
            num[n] = '\0';
            q = strtod(num, NULL);
        } else if (check_version && end - start > 8 && !strncmp(params + start, "version=", 8)) {
            if (!(end - start == 13 && !strncmp(params + start + 8, "1.0.0", 5)))
                return -1; /* 0.0.1, say: an older draft we do not write */
        }
    }
    return q;
}

enum metrics_format
metrics_format_accepted(const char *accept)
{
    static const char om[] = "application/openmetrics-text", text[] = "text/plain";
    double q_om = -1, q_text = -1;
    const char *p = accept;

    while (p && *p) {
        const char *end = strchr(p, ','), *semi;
        size_t len = end ? (size_t)(end - p) : strlen(p), tlen;

        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        semi = memchr(p, ';', len);
        tlen = semi ? (size_t)(semi - p) : len;
        while (tlen && (p[tlen - 1] == ' ' || p[tlen - 1] == '\t'))
            tlen--;
        if (tlen == strlen(om) && !strncasecmp(p, om, tlen))
            q_om = MAX(q_om, range_q(p + tlen, len - tlen, true));
        else if (tlen == strlen(text) && !strncasecmp(p, text, tlen))
            q_text = MAX(q_text, range_q(p + tlen, len - tlen, false));
        p = end ? end + 1 : NULL;
    }
    return q_om > 0 && q_om >= q_text ? METRICS_FORMAT_OPENMETRICS : METRICS_FORMAT_TEXT;
}
