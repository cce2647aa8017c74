/*
 * obs/audit.c: audit records to stdout, a file and Loki (obs/audit.h).
 *
 * Threads: request threads format a record and push it onto a bounded
 * queue under `mu` (held for a pointer store: never while writing or
 * sending). The audit thread takes everything queued, writes it to stdout
 * (one stdio lock and one flush per batch, so lines stay whole beside the
 * log lines; a request thread writing and flushing its own line cost 8% of
 * 4 KiB GET throughput, docs/benchmarks.md), appends it to the file, and
 * adds it to the pending webhook batch, which it pushes when it holds AUDIT_BATCH_MAX
 * lines or its oldest line waited AUDIT_BATCH_NS. A push that fails is
 * retried with backoff; meanwhile the batch stays pending and new lines
 * wait in the queue, so a receiver that is down for a while loses nothing
 * until the queue is full, and then the newest lines are dropped and
 * counted.
 */
#include "util/base.h"

#include "obs/audit.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "obs/log.h"
#include "obs/metrics.h"
#include "util/clock.h"
#include "util/err.h"

#define BACKOFF_MIN_NS (500 * 1000000LL)
#define BACKOFF_MAX_NS (30 * 1000000000LL)
#define CLOSE_FLUSH_NS (5 * 1000000000LL)
#define DROP_WARN_NS (60 * 1000000000LL)
#define AUDIT_WAKE_LINES 256           /* queued lines that wake the audit thread */
#define AUDIT_WAIT_NS (100 * 1000000L) /* else it looks every 100 ms */

struct line {
    int64_t time_ns; /* CLOCK_MONOTONIC when queued: the batch's age */
    int64_t wall_ns; /* the wall clock then: Loki's timestamp */
    size_t len;
    char text[]; /* the JSON line, NUL-terminated, no newline */
};

struct audit {
    bool to_stdout;
    char *node;
    char *file_path;
    int fd;             /* the file; -1: none (or it could not be reopened) */
    atomic_bool reopen; /* audit_reopen() asked */
    char *push_url;     /* NULL: no webhook */
    size_t queue_max;

    pthread_mutex_t mu; /* the queue, stop */
    pthread_cond_t cv;
    struct line **queue;
    size_t qhead, qlen;
    bool stop;
    pthread_t thread;
    bool started;

    /* the audit thread's own */
    struct line **batch;
    size_t nbatch;
    int64_t next_try_ns, backoff_ns;
    CURL *curl;

    atomic_size_t held; /* lines in the queue and the batch: at most queue_max */
    atomic_uint_fast64_t submitted, dropped, written, pushed, push_failures;
    atomic_int_fast64_t last_drop_warn_ns;
    struct metric *m_records, *m_queued;
};

/* ---- the record ---- */

static void
str_field(struct buf *b, const char *name, const char *v)
{
    if (!v || !*v)
        return;
    buf_addf(b, ",\"%s\":", name);
    log_json_str(b, v);
}

void
audit_format(const struct audit_record *r, const char *node, struct buf *out)
{
    buf_adds(out, "{\"time\":\"");
    clock_fmt_iso8601(out, r->time_ns);
    buf_adds(out, "\",\"level\":\"info\",\"event\":\"audit\"");
    str_field(out, "node", node);
    str_field(out, "request_id", r->request_id);
    str_field(out, "api", r->api);
    str_field(out, "class", r->class);
    str_field(out, "bucket", r->bucket);
    str_field(out, "object", r->object);
    buf_addf(out, ",\"status\":%u", r->status);
    str_field(out, "error_code", r->error_code);
    buf_addf(out, ",\"bytes_in\":%llu,\"bytes_out\":%llu,\"duration_ms\":%.3f",
             (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out,
             (double)r->duration_ns / 1e6);
    if (r->ttfb_ns > 0)
        buf_addf(out, ",\"ttfb_ms\":%.3f", (double)r->ttfb_ns / 1e6);
    str_field(out, "remote", r->remote);
    str_field(out, "forwarded_for", r->forwarded);
    str_field(out, "user_agent", r->user_agent);
    str_field(out, "access_key", r->access_key);
    buf_addch(out, '}');
}

/* ---- targets ---- */

static int
open_file(const char *path, int *fd, struct buf *errmsg)
{
    int f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

    if (f < 0) {
        if (errmsg)
            buf_addf(errmsg, "audit file %s: %s", path, strerror(errno));
        return -ERR_IO;
    }
    *fd = f;
    return 0;
}

/* Writes `lines` to stdout, each with its newline, under one stdio lock and one flush. */
static void
stdout_write(struct line **lines, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    flockfile(stdout);
    for (i = 0; i < n; i++) {
        fwrite_unlocked(lines[i]->text, 1, lines[i]->len, stdout);
        putc_unlocked('\n', stdout);
    }
    fflush_unlocked(stdout);
    funlockfile(stdout);
}

/* Appends `lines` to the file, each with its newline; a failure (a full disk) drops them, said. */
static void
file_write(struct audit *a, struct line **lines, size_t n)
{
    struct buf b = BUF_INIT;
    size_t i, off = 0;

    if (atomic_exchange(&a->reopen, false)) {
        int fd = -1;

        if (open_file(a->file_path, &fd, NULL) == 0) {
            if (a->fd >= 0)
                close(a->fd);
            a->fd = fd;
        } else {
            log_errno(&(struct log_ctx){ .event = "audit_file_error" }, errno,
                      "audit: cannot reopen %s; still writing to the file open before",
                      a->file_path);
        }
    }
    if (a->fd < 0 || n == 0)
        return;
    for (i = 0; i < n; i++) {
        buf_add(&b, lines[i]->text, lines[i]->len);
        buf_addch(&b, '\n');
    }
    while (off < b.len) {
        ssize_t w = write(a->fd, b.ptr + off, b.len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            log_errno(&(struct log_ctx){ .event = "audit_file_error" }, errno,
                      "audit: writing %s failed: %zu line(s) lost", a->file_path, n);
            atomic_fetch_add(&a->dropped, n);
            buf_release(&b);
            return;
        }
        off += (size_t)w;
    }
    atomic_fetch_add(&a->written, n);
    buf_release(&b);
}

/* gzip (RFC 1952) of `in` into `out`; 0 or -ERR_INTERNAL. */
static int
gzip_buf(struct slice in, struct buf *out)
{
    z_stream z = { 0 };
    int rc;
    size_t room;

    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ERR_INTERNAL;
    room = deflateBound(&z, in.len) + 32;
    buf_grow(out, room);
    z.next_in = (Bytef *)(uintptr_t)in.ptr;
    z.avail_in = (uInt)in.len;
    z.next_out = (Bytef *)out->ptr + out->len;
    z.avail_out = (uInt)room;
    rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END)
        buf_setlen(out, out->len + z.total_out);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -ERR_INTERNAL;
}

/* Loki's push body: one stream (job, node), the batch's lines as [ns, line] values. */
static void
push_body(struct audit *a, struct buf *json)
{
    size_t i;

    buf_adds(json, "{\"streams\":[{\"stream\":{\"job\":\"basalt-audit\",\"node\":");
    log_json_str(json, a->node ? a->node : "");
    buf_adds(json, "},\"values\":[");
    for (i = 0; i < a->nbatch; i++) {
        buf_addf(json, "%s[\"%lld\",", i ? "," : "", (long long)a->batch[i]->wall_ns);
        log_json_str(json, a->batch[i]->text);
        buf_addch(json, ']');
    }
    buf_adds(json, "]}]}");
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* One push of the batch: true when Loki took it (2xx), or refused it for good (4xx but 429). */
static bool
push_once(struct audit *a)
{
    struct buf json = BUF_INIT, gz = BUF_INIT;
    struct curl_slist *h = NULL;
    long status = 0;
    CURLcode cc;
    bool done;

    if (!a->curl)
        a->curl = curl_easy_init();
    push_body(a, &json);
    if (gzip_buf(buf_slice(&json), &gz) < 0) {
        buf_release(&json);
        return true; /* cannot happen; dropping beats retrying forever */
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Content-Encoding: gzip");
    curl_easy_reset(a->curl);
    curl_easy_setopt(a->curl, CURLOPT_URL, a->push_url);
    curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, gz.ptr);
    curl_easy_setopt(a->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)gz.len);
    curl_easy_setopt(a->curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(a->curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, discard);
    cc = curl_easy_perform(a->curl);
    if (cc == CURLE_OK)
        curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
    done = cc == CURLE_OK &&
           ((status >= 200 && status < 300) || (status >= 400 && status < 500 && status != 429));
    if (done && status >= 400) {
        log_warn(&(struct log_ctx){ .event = "audit_webhook_refused" },
                 "audit: the webhook refused %zu line(s) with HTTP %ld: dropped", a->nbatch,
                 status);
        atomic_fetch_add(&a->dropped, a->nbatch);
    } else if (done) {
        atomic_fetch_add(&a->pushed, a->nbatch);
    } else {
        atomic_fetch_add(&a->push_failures, 1);
        if (a->backoff_ns == BACKOFF_MIN_NS) /* the first failure of a run: said once */
            log_warn(&(struct log_ctx){ .event = "audit_webhook_down" },
                     "audit: pushing to the webhook failed (%s, HTTP %ld); retrying",
                     cc == CURLE_OK ? "answered" : curl_easy_strerror(cc), status);
    }
    curl_slist_free_all(h);
    buf_release(&json);
    buf_release(&gz);
    return done;
}

static void
batch_clear(struct audit *a)
{
    size_t i;

    for (i = 0; i < a->nbatch; i++)
        free(a->batch[i]);
    atomic_fetch_sub(&a->held, a->nbatch);
    a->nbatch = 0;
}

/* Pushes the batch if due (full, old enough, or `force`) and not backing off. */
static void
push_due(struct audit *a, bool force)
{
    int64_t now = clock_mono_ns();

    if (!a->nbatch || now < a->next_try_ns)
        return;
    if (!force && a->nbatch < AUDIT_BATCH_MAX &&
        now - a->batch[0]->time_ns < AUDIT_BATCH_NS) /* time_ns is monotonic in the queue */
        return;
    if (push_once(a)) {
        batch_clear(a);
        a->backoff_ns = BACKOFF_MIN_NS;
        a->next_try_ns = 0;
    } else {
        a->next_try_ns = now + a->backoff_ns;
        a->backoff_ns = a->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : a->backoff_ns * 2;
    }
}

/* ---- the queue and the thread ---- */

static void *
audit_main(void *arg)
{
    struct audit *a = arg;
    struct line **take = xcalloc(a->queue_max, sizeof(*take));

    /* Spawn site of the audit thread: stdout, the file and the webhook. */
    pthread_setname_np(pthread_self(), "audit");
    pthread_mutex_lock(&a->mu);
    for (;;) {
        size_t n = 0, room;
        bool stop;

        if (!a->qlen && !a->stop) {
            struct timespec ts;

            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += AUDIT_WAIT_NS;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&a->cv, &a->mu, &ts);
        }
        /* the webhook's batch takes what fits; the rest waits in the queue */
        room = a->push_url ? AUDIT_BATCH_MAX - a->nbatch : a->queue_max;
        while (a->qlen && n < room) {
            take[n++] = a->queue[a->qhead];
            a->qhead = (a->qhead + 1) % a->queue_max;
            a->qlen--;
        }
        stop = a->stop;
        pthread_mutex_unlock(&a->mu);
        if (a->to_stdout)
            stdout_write(take, n);
        if (a->file_path)
            file_write(a, take, n);
        if (a->push_url) {
            memcpy(a->batch + a->nbatch, take, n * sizeof(*take));
            a->nbatch += n;
            push_due(a, stop);
        } else {
            atomic_fetch_sub(&a->held, n);
            while (n)
                free(take[--n]);
        }
        if (stop) {
            int64_t until = clock_mono_ns() + CLOSE_FLUSH_NS;

            while (a->push_url && a->nbatch && clock_mono_ns() < until) {
                a->next_try_ns = 0;
                push_due(a, true);
                pthread_mutex_lock(&a->mu);
                while (a->qlen && a->nbatch < AUDIT_BATCH_MAX) {
                    a->batch[a->nbatch++] = a->queue[a->qhead];
                    a->qhead = (a->qhead + 1) % a->queue_max;
                    a->qlen--;
                }
                pthread_mutex_unlock(&a->mu);
                if (a->nbatch)
                    usleep(100000);
            }
            pthread_mutex_lock(&a->mu);
            if (!a->qlen)
                break;
            continue; /* more to write to stdout or the file */
        }
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    free(take);
    return NULL;
}

static void
count_drop(struct audit *a)
{
    int64_t now = clock_mono_ns(), last = atomic_load(&a->last_drop_warn_ns);

    atomic_fetch_add(&a->dropped, 1);
    if (now - last >= DROP_WARN_NS &&
        atomic_compare_exchange_strong(&a->last_drop_warn_ns, &last, now))
        log_warn(&(struct log_ctx){ .event = "audit_dropped" },
                 "audit: the queue of %zu lines is full (stdout, the file or the webhook is too "
                 "slow or down): records are dropped and counted in basalt_audit_records_total",
                 a->queue_max);
}

void
audit_submit(struct audit *a, const struct audit_record *r)
{
    struct buf b = BUF_INIT;
    struct line *l;

    if (!a)
        return;
    atomic_fetch_add(&a->submitted, 1);
    audit_format(r, a->node, &b);
    l = xmalloc(sizeof(*l) + b.len + 1);
    l->time_ns = clock_mono_ns();
    l->wall_ns = clock_now_ns();
    l->len = b.len;
    memcpy(l->text, b.ptr, b.len + 1);
    pthread_mutex_lock(&a->mu);
    /* the bound holds the webhook's pending batch too: what a dead receiver keeps waiting */
    if (atomic_load(&a->held) < a->queue_max && !a->stop) {
        a->queue[(a->qhead + a->qlen) % a->queue_max] = l;
        a->qlen++;
        atomic_fetch_add(&a->held, 1);
        l = NULL;
        /* Woken per batch, not per line: a wake-up per request cost more than the write. */
        if (a->qlen == MIN(AUDIT_WAKE_LINES, MAX(a->queue_max / 2, 1)))
            pthread_cond_signal(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    if (l) {
        free(l);
        count_drop(a);
    }
    buf_release(&b);
}

/* "http://loki:3100" -> "http://loki:3100/loki/api/v1/push"; a URL with a path is kept. */
static char *
push_url(const char *url)
{
    const char *p = strstr(url, "://");
    struct buf b = BUF_INIT;

    if (!p || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return NULL;
    buf_adds(&b, url);
    if (!strchr(p + 3, '/')) {
        buf_adds(&b, "/loki/api/v1/push");
    } else if (b.ptr[b.len - 1] == '/' && !strchr(p + 3, '/')[1]) {
        buf_adds(&b, "loki/api/v1/push");
    }
    return buf_detach(&b, NULL);
}

int
audit_new(const struct audit_config *cfg, struct audit **out, struct buf *errmsg)
{
    struct audit *a;
    int rc = 0;

    *out = NULL;
    if (!cfg->to_stdout && !cfg->file && !cfg->webhook)
        return 0;
    a = xcalloc(1, sizeof(*a));
    a->fd = -1;
    a->to_stdout = cfg->to_stdout;
    a->node = cfg->node ? xstrdup(cfg->node) : NULL;
    a->queue_max = cfg->queue_max ? cfg->queue_max : AUDIT_QUEUE_DEFAULT;
    a->backoff_ns = BACKOFF_MIN_NS;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (cfg->file) {
        a->file_path = xstrdup(cfg->file);
        rc = open_file(cfg->file, &a->fd, errmsg);
    }
    if (rc == 0 && cfg->webhook) {
        a->push_url = push_url(cfg->webhook);
        if (!a->push_url) {
            buf_addf(errmsg, "audit webhook %s: not an http:// or https:// URL", cfg->webhook);
            rc = -ERR_INVAL;
        }
    }
    if (rc == 0) {
        a->queue = xcalloc(a->queue_max, sizeof(*a->queue));
        a->batch = xcalloc(AUDIT_BATCH_MAX, sizeof(*a->batch));
        if (pthread_create(&a->thread, NULL, audit_main, a) != 0) {
            buf_adds(errmsg, "audit: cannot start its thread");
            rc = -ERR_INTERNAL;
        } else {
            a->started = true;
        }
    }
    if (rc < 0) {
        audit_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void
audit_free(struct audit *a)
{
    if (!a)
        return;
    if (a->started) {
        pthread_mutex_lock(&a->mu);
        a->stop = true;
        pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
    }
    while (a->qlen) { /* left when the thread never ran, or the webhook stayed down */
        free(a->queue[a->qhead]);
        a->qhead = (a->qhead + 1) % a->queue_max;
        a->qlen--;
    }
    if (a->batch)
        batch_clear(a);
    if (a->curl)
        curl_easy_cleanup(a->curl);
    if (a->fd >= 0)
        close(a->fd);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a->queue);
    free(a->batch);
    free(a->push_url);
    free(a->file_path);
    free(a->node);
    free(a);
}

void
audit_reopen(struct audit *a)
{
    if (a && a->file_path)
        atomic_store(&a->reopen, true);
}

void
audit_stats(struct audit *a, struct audit_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!a)
        return;
    out->submitted = atomic_load(&a->submitted);
    out->dropped = atomic_load(&a->dropped);
    out->written = atomic_load(&a->written);
    out->pushed = atomic_load(&a->pushed);
    out->push_failures = atomic_load(&a->push_failures);
    out->queued = atomic_load(&a->held);
}

static void
collect(void *arg)
{
    struct audit *a = arg;
    struct audit_stats st;

    audit_stats(a, &st);
    metric_set(a->m_records, 0, (int64_t)st.submitted);
    metric_set(a->m_records, 1, (int64_t)st.dropped);
    metric_set(a->m_records, 2, (int64_t)st.written);
    metric_set(a->m_records, 3, (int64_t)st.pushed);
    metric_set(a->m_queued, 0, (int64_t)st.queued);
}

void
audit_metrics_register(struct audit *a, struct metrics *m)
{
    static const char *const outcomes[] = { "submitted", "dropped", "written", "pushed" };
    struct metric_dim d = { "outcome", outcomes, ARRAY_SIZE(outcomes) };

    if (!a || !m)
        return;
    a->m_records = metrics_register(m, METRIC_COUNTER, "basalt_audit_records_total",
                                    "Audit records by outcome: submitted, dropped (queue full, a "
                                    "write or push refused), written to the file, pushed to the "
                                    "webhook",
                                    &d, 1, NULL, 0, 1);
    a->m_queued =
        metrics_register(m, METRIC_GAUGE, "basalt_audit_queued_records",
                         "Audit records waiting for the file or the webhook", NULL, 0, NULL, 0, 1);
    metrics_add_collector(m, collect, a);
}
