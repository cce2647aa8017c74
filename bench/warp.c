/*
 * bench/warp.c: warp-style load profiles (issue 17; warp itself is not
 * installable here) against a running server, each printing per operation
 * obj/s, MiB/s and latency percentiles (p50/p90/p99).
 *
 *     make RELEASE=1 -j2 build-release/bench/warp
 *     build-release/bench/warp PROFILE [options]       (bench/warp.sh starts a server)
 *
 * Profiles:
 *   mixed   preloads --objects objects of --size bytes, then --clients
 *           clients for --duration seconds: 45% GET, 30% HEAD, 15% PUT,
 *           10% DELETE over that set (a PUT re-creates a deleted key, else
 *           overwrites one; GET and HEAD pick keys present)
 *   stat    preloads --objects objects, then HEAD of random keys
 *   get     the same with GET (what stat compares with: the same keys)
 *   put     PUTs of --size bytes to new keys for --duration, no preload
 *           (into a full bucket: --bucket of an earlier run)
 *   delete  preloads --objects objects, then DeleteObjects of --batch keys
 *           per request until all are gone (or --duration)
 *   list    creates --objects objects of --size bytes (the create rate),
 *           then each client walks the whole bucket with ListObjectsV2
 *           (objects listed per second)
 *
 * Options: --endpoint URL (default http://127.0.0.1:9000), --bucket NAME
 * (made if missing; default warp-PROFILE), --clients N (20), --duration S
 * (20), --size BYTES (4096; K/M suffixes), --objects N (mixed 2000, stat
 * 10000, delete 10000, list 100000), --batch N (100), --preloaded (mixed,
 * stat, get: the bucket already holds the --objects keys of an earlier run,
 * the list profile's included; no preload). Credentials from
 * BENCH_AK / BENCH_SK (default benchadmin / bench-secret-key-1). Requests
 * are signed by the basalt client (client/client.h), PUT bodies sent as
 * UNSIGNED-PAYLOAD (no client-side hash of 10 MiB bodies); no retries, so
 * every 503 counts as an error.
 */
#include "util/base.h"

#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "client/s3ops.h"
#include "util/buf.h"
#include "util/enc.h"
#include "util/err.h"
#include "util/md5.h"

enum op { OP_GET, OP_HEAD, OP_PUT, OP_DELETE, OP_DELMULTI, OP_LIST, OP_NOPS };
static const char *const op_names[OP_NOPS] = { "GET",    "HEAD",          "PUT",
                                               "DELETE", "DeleteObjects", "ListObjectsV2" };

struct opts {
    const char *profile, *endpoint, *bucket, *ak, *sk;
    unsigned clients, duration, batch;
    bool preloaded;
    uint64_t size, objects;
};

/* Per client, per operation: latencies (us), objects, bytes, errors. */
struct stats {
    uint32_t *lat;
    size_t n, cap;
    uint64_t objs, bytes, errors, missing;
};

struct worker {
    pthread_t t;
    unsigned id;
    struct client *c;
    uint64_t rnd;
    struct stats st[OP_NOPS];
};

/* Slots of the key set (mixed): absent, present, busy (a PUT or DELETE on it). */
enum { SLOT_ABSENT, SLOT_PRESENT, SLOT_BUSY };

static struct opts O;
static struct worker *W;
static _Atomic unsigned char *slots;
static _Atomic uint64_t next_key; /* preload, list create, delete: the next key to take */
static int data_fd = -1;          /* the object bytes, a memfd (read with pread) */
static double t_end;

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(struct worker *w)
{
    w->rnd ^= w->rnd << 13;
    w->rnd ^= w->rnd >> 7;
    w->rnd ^= w->rnd << 17;
    return w->rnd;
}

static void
record(struct worker *w, enum op op, double t0, uint64_t objs, uint64_t bytes, bool ok)
{
    struct stats *s = &w->st[op];
    double us = (now() - t0) * 1e6;

    if (!ok) {
        s->errors++;
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->lat = xrealloc(s->lat, s->cap * sizeof(*s->lat));
    }
    s->lat[s->n++] = (uint32_t)MIN(us, 4e9);
    s->objs += objs;
    s->bytes += bytes;
}

static void
key_name(char *out, size_t n, uint64_t i)
{
    snprintf(out, n, "obj/%08llu", (unsigned long long)i);
}

static bool
discard(void *arg, const void *p, size_t n)
{
    *(uint64_t *)arg += n;
    return true;
}

/* One request; its HTTP status, or -1 for a transport error. */
static long
call(struct worker *w, const char *method, const char *key, const char *query, bool body,
     struct slice mem, struct buf *resp, uint64_t *got)
{
    struct buf md5h = BUF_INIT;
    const char *hdr;
    long status;
    struct client_call c = { .method = method,
                             .bucket = O.bucket,
                             .key = key,
                             .query = query,
                             .response = resp,
                             .body = { .fd = -1 } };
    int rc;

    if (body) {
        c.body = (struct client_body){ .fd = data_fd, .off = 0, .len = O.size };
    } else if (mem.ptr) {
        /* DeleteObjects: S3 wants the body's Content-MD5 */
        struct md5 m;
        uint8_t sum[MD5_SIZE];

        c.body.mem = mem;
        md5_init(&m);
        md5_update(&m, mem.ptr, mem.len);
        md5_final(&m, sum);
        buf_adds(&md5h, "Content-MD5: ");
        base64_encode(&md5h, sum, sizeof(sum));
        hdr = md5h.ptr;
        c.headers = &hdr;
        c.nheaders = 1;
    }
    if (got) {
        c.sink = discard;
        c.sink_arg = got;
    }
    rc = client_call(w->c, &c, NULL);
    status = rc < 0 ? -1 : c.status;
    buf_release(&md5h);
    return status;
}

static bool
put_key(struct worker *w, const char *key)
{
    struct buf r = BUF_INIT;
    double t0 = now();
    long st = call(w, "PUT", key, NULL, true, SLICE_NULL, &r, NULL);

    buf_release(&r);
    record(w, OP_PUT, t0, 1, O.size, st == 200);
    return st == 200;
}

/* ---- mixed and stat ---- */

static long
pick_slot(struct worker *w, unsigned want, unsigned set_to)
{
    unsigned tries;

    for (tries = 0; tries < 16; tries++) {
        uint64_t i = rnd(w) % O.objects;
        unsigned char cur = (unsigned char)want;

        if (set_to == want ? atomic_load(&slots[i]) == want
                           : atomic_compare_exchange_strong(&slots[i], &cur, (unsigned char)set_to))
            return (long)i;
    }
    return -1;
}

static void
do_get_head(struct worker *w, enum op op)
{
    long i = pick_slot(w, SLOT_PRESENT, SLOT_PRESENT);
    char key[64];
    struct buf r = BUF_INIT;
    uint64_t got = 0;
    double t0;
    long st;

    if (i < 0)
        return;
    key_name(key, sizeof(key), (uint64_t)i);
    t0 = now();
    st = call(w, op == OP_GET ? "GET" : "HEAD", key, NULL, false, SLICE_NULL, &r,
              op == OP_GET ? &got : NULL);
    buf_release(&r);
    if (st == 404) { /* deleted between the pick and the request */
        w->st[op].missing++;
        return;
    }
    record(w, op, t0, 1, got, st == 200);
}

static void
do_put(struct worker *w)
{
    long i = pick_slot(w, SLOT_ABSENT, SLOT_BUSY);
    char key[64];

    if (i < 0)
        i = pick_slot(w, SLOT_PRESENT, SLOT_BUSY); /* none deleted: an overwrite */
    if (i < 0)
        return;
    key_name(key, sizeof(key), (uint64_t)i);
    atomic_store(&slots[i], put_key(w, key) ? SLOT_PRESENT : SLOT_ABSENT);
}

static void
do_delete(struct worker *w)
{
    long i = pick_slot(w, SLOT_PRESENT, SLOT_BUSY);
    struct buf r = BUF_INIT;
    char key[64];
    double t0;
    long st;

    if (i < 0)
        return;
    key_name(key, sizeof(key), (uint64_t)i);
    t0 = now();
    st = call(w, "DELETE", key, NULL, false, SLICE_NULL, &r, NULL);
    buf_release(&r);
    record(w, OP_DELETE, t0, 1, 0, st == 204 || st == 200);
    atomic_store(&slots[i], st == 204 || st == 200 ? SLOT_ABSENT : SLOT_PRESENT);
}

static void *
mixed_main(void *arg)
{
    struct worker *w = arg;

    while (now() < t_end) {
        unsigned r = (unsigned)(rnd(w) % 100);

        if (r < 45)
            do_get_head(w, OP_GET);
        else if (r < 75)
            do_get_head(w, OP_HEAD);
        else if (r < 90)
            do_put(w);
        else
            do_delete(w);
    }
    return NULL;
}

static void *
stat_main(void *arg)
{
    struct worker *w = arg;

    while (now() < t_end)
        do_get_head(w, OP_HEAD);
    return NULL;
}

/* PUTs of new keys put/<client>/<n> (the bucket's objects stay as they are). */
static void *
put_main(void *arg)
{
    struct worker *w = arg;
    uint64_t n;

    for (n = 0; now() < t_end; n++) {
        char key[64];

        snprintf(key, sizeof(key), "put/%03u/%08llu", w->id, (unsigned long long)n);
        put_key(w, key);
    }
    return NULL;
}

static void *
get_main(void *arg)
{
    struct worker *w = arg;

    while (now() < t_end)
        do_get_head(w, OP_GET);
    return NULL;
}

/* Creates keys next_key... up to O.objects (preload, and list's create phase). */
static void *
create_main(void *arg)
{
    struct worker *w = arg;
    uint64_t i;

    while ((i = atomic_fetch_add(&next_key, 1)) < O.objects) {
        char key[64];

        key_name(key, sizeof(key), i);
        if (put_key(w, key) && slots)
            atomic_store(&slots[i], SLOT_PRESENT);
    }
    return NULL;
}

/* ---- delete ---- */

static void *
delete_main(void *arg)
{
    struct worker *w = arg;
    struct buf xml = BUF_INIT, r = BUF_INIT;

    while (now() < t_end) {
        uint64_t first = atomic_fetch_add(&next_key, O.batch), i;
        unsigned n = 0;
        double t0;
        long st;

        if (first >= O.objects)
            break;
        buf_clear(&xml);
        buf_adds(&xml, "<Delete><Quiet>true</Quiet>");
        for (i = first; i < first + O.batch && i < O.objects; i++, n++) {
            char key[64];

            key_name(key, sizeof(key), i);
            buf_addf(&xml, "<Object><Key>%s</Key></Object>", key);
        }
        buf_adds(&xml, "</Delete>");
        buf_clear(&r);
        t0 = now();
        st = call(w, "POST", NULL, "delete=", false, slice_make(xml.ptr, xml.len), &r, NULL);
        /* Quiet: any <Error> in the answer is a key not deleted */
        record(w, OP_DELMULTI, t0, n, 0, st == 200 && !strstr(r.ptr ? r.ptr : "", "<Error>"));
    }
    buf_release(&xml);
    buf_release(&r);
    return NULL;
}

/* ---- list ---- */

static int
count_entry(void *arg, const struct s3ops_entry *e)
{
    (*(uint64_t *)arg)++;
    return 0;
}

static void *
list_main(void *arg)
{
    struct worker *w = arg;
    uint64_t n = 0;
    double t0 = now();
    int rc = s3ops_list(w->c, O.bucket, NULL, true, count_entry, &n, NULL);

    record(w, OP_LIST, t0, n, 0, rc == 0 && n >= O.objects); /* more: a put run's keys */
    return NULL;
}

/* ---- driver ---- */

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static double
pct(const uint32_t *v, size_t n, double p)
{
    size_t i = (size_t)ceil(p / 100.0 * (double)n);

    return n ? v[i ? i - 1 : 0] / 1000.0 : 0;
}

/* Runs fn on every client; returns the wall time taken. */
static double
run(void *(*fn)(void *))
{
    double t0 = now();
    unsigned i;

    for (i = 0; i < O.clients; i++)
        BUG_ON(pthread_create(&W[i].t, NULL, fn, &W[i]) != 0);
    for (i = 0; i < O.clients; i++)
        pthread_join(W[i].t, NULL);
    return now() - t0;
}

/* Prints the operations in `mask` gathered over every client, and clears them. */
static void
report(const char *phase, unsigned mask, double secs)
{
    uint64_t total = 0;
    unsigned op, i;

    printf("%s: %u clients, %.1f s, object size %llu\n", phase, O.clients, secs,
           (unsigned long long)O.size);
    printf("  %-14s %9s %11s %9s %8s %8s %8s %7s\n", "operation", "requests", "obj/s", "MiB/s",
           "p50 ms", "p90 ms", "p99 ms", "errors");
    for (op = 0; op < OP_NOPS; op++) {
        struct stats all = { 0 };

        if (!(mask & (1u << op)))
            continue;
        for (i = 0; i < O.clients; i++) {
            struct stats *s = &W[i].st[op];

            all.lat = xrealloc(all.lat, (all.n + s->n + 1) * sizeof(*all.lat));
            if (s->n)
                memcpy(all.lat + all.n, s->lat, s->n * sizeof(*s->lat));
            all.n += s->n;
            all.objs += s->objs;
            all.bytes += s->bytes;
            all.errors += s->errors;
            all.missing += s->missing;
            free(s->lat);
            *s = (struct stats){ 0 };
        }
        qsort(all.lat, all.n, sizeof(*all.lat), cmp_u32);
        printf("  %-14s %9zu %11.0f %9.1f %8.2f %8.2f %8.2f %7llu", op_names[op], all.n,
               (double)all.objs / secs, (double)all.bytes / secs / 1048576.0,
               pct(all.lat, all.n, 50), pct(all.lat, all.n, 90), pct(all.lat, all.n, 99),
               (unsigned long long)all.errors);
        if (all.missing)
            printf("  (%llu raced a delete: 404)", (unsigned long long)all.missing);
        printf("\n");
        total += all.n;
        free(all.lat);
    }
    if (__builtin_popcount(mask) > 1)
        printf("  %-14s %9llu %11.0f\n", "all", (unsigned long long)total, (double)total / secs);
    fflush(stdout);
}

static uint64_t
parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if (*end == 'K' || *end == 'k')
        v *= 1024;
    else if (*end == 'M' || *end == 'm')
        v *= 1048576;
    else if (*end == 'G' || *end == 'g')
        v *= 1073741824.0;
    return (uint64_t)v;
}

static void
make_data(void)
{
    uint8_t *p = xmalloc(O.size ? O.size : 1);
    uint64_t x = 0x9e3779b97f4a7c15ull, i;

    for (i = 0; i < O.size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
    data_fd = memfd_create("warp", 0);
    BUG_ON(data_fd < 0 || write(data_fd, p, O.size) != (ssize_t)O.size);
    free(p);
}

static void
preload(void)
{
    double secs;
    uint64_t i;

    if (O.preloaded) { /* a bucket filled by an earlier run with the same --objects */
        for (i = 0; slots && i < O.objects; i++)
            atomic_store(&slots[i], SLOT_PRESENT);
        return;
    }
    atomic_store(&next_key, 0);
    secs = run(create_main);
    report(strcmp(O.profile, "list") == 0 ? "create" : "preload (PUT)", 1u << OP_PUT, secs);
}

int
main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "endpoint", 1, NULL, 'e' }, { "bucket", 1, NULL, 'b' },    { "clients", 1, NULL, 'c' },
        { "duration", 1, NULL, 'd' }, { "size", 1, NULL, 's' },      { "objects", 1, NULL, 'n' },
        { "batch", 1, NULL, 'B' },    { "preloaded", 0, NULL, 'P' }, { NULL, 0, NULL, 0 },
    };
    struct buf err = BUF_INIT, bucket = BUF_INIT;
    unsigned i;
    int ch;

    O = (struct opts){ .endpoint = "http://127.0.0.1:9000",
                       .clients = 20,
                       .duration = 20,
                       .batch = 100,
                       .size = 4096 };
    O.ak = getenv("BENCH_AK") ? getenv("BENCH_AK") : "benchadmin";
    O.sk = getenv("BENCH_SK") ? getenv("BENCH_SK") : "bench-secret-key-1";
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'e':
            O.endpoint = optarg;
            break;
        case 'b':
            O.bucket = optarg;
            break;
        case 'c':
            O.clients = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'd':
            O.duration = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 's':
            O.size = parse_size(optarg);
            break;
        case 'n':
            O.objects = parse_size(optarg);
            break;
        case 'B':
            O.batch = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'P':
            O.preloaded = true;
            break;
        default:
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr,
                "usage: warp mixed|stat|get|put|delete|list [options] (see bench/warp.c)\n");
        return 2;
    }
    O.profile = argv[optind];
    if (!O.objects)
        O.objects = !strcmp(O.profile, "mixed")  ? 2000
                    : !strcmp(O.profile, "list") ? 100000
                                                 : 10000;
    if (!O.bucket) {
        buf_addf(&bucket, "warp-%s", O.profile);
        O.bucket = bucket.ptr;
    }
    if (!O.clients || !O.batch)
        return 2;
    W = xcalloc(O.clients, sizeof(*W));
    for (i = 0; i < O.clients; i++) {
        W[i].id = i;
        W[i].rnd = 0x2545f4914f6cdd1dull * (i + 1);
        if (client_new(O.endpoint, O.ak, O.sk, "us-east-1", &W[i].c, &err) < 0) {
            fprintf(stderr, "warp: %s\n", err.ptr);
            return 1;
        }
        client_set_retry(W[i].c, 0, 0, 0);
    }
    {
        int rc = s3ops_make_bucket(W[0].c, O.bucket, NULL, &err);

        if (rc < 0 && rc != -ERR_BUCKET_EXISTS) {
            fprintf(stderr, "warp: make bucket %s: %s\n", O.bucket, err.ptr);
            return 1;
        }
    }
    make_data();
    printf("warp %s: %s bucket %s, %llu objects\n", O.profile, O.endpoint, O.bucket,
           (unsigned long long)O.objects);
    if (!strcmp(O.profile, "mixed") || !strcmp(O.profile, "stat") || !strcmp(O.profile, "get")) {
        slots = xcalloc(O.objects, sizeof(*slots));
        preload();
        t_end = now() + O.duration;
        if (!strcmp(O.profile, "mixed"))
            report("mixed", (1u << OP_GET) | (1u << OP_HEAD) | (1u << OP_PUT) | (1u << OP_DELETE),
                   run(mixed_main));
        else if (!strcmp(O.profile, "stat"))
            report("stat", 1u << OP_HEAD, run(stat_main));
        else
            report("get", 1u << OP_GET, run(get_main));
    } else if (!strcmp(O.profile, "put")) {
        t_end = now() + O.duration;
        report("put", 1u << OP_PUT, run(put_main));
    } else if (!strcmp(O.profile, "delete")) {
        preload();
        atomic_store(&next_key, 0);
        t_end = now() + O.duration;
        report("delete", 1u << OP_DELMULTI, run(delete_main));
    } else if (!strcmp(O.profile, "list")) {
        preload();
        report("list", 1u << OP_LIST, run(list_main));
    } else {
        fprintf(stderr, "warp: unknown profile %s\n", O.profile);
        return 2;
    }
    for (i = 0; i < O.clients; i++)
        client_free(W[i].c);
    free(W);
    free((void *)slots);
    buf_release(&bucket);
    buf_release(&err);
    close(data_fd);
    return 0;
}
