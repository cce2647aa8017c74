/*
 * cluster/layout.c: the deployment layout (see layout.h for the rules).
 * layout_from_args() expands and parses the arguments into pools, numbers
 * the nodes, puts each pool in layout order and chooses its set geometry;
 * layout_decode() rebuilds a layout from its JSON form with the same checks.
 * The digest, the diff and the spread warnings read the built layout; local
 * detection (getaddrinfo, getifaddrs) is the only part that touches the
 * system. Fuzzed by fuzz/layout_decode.c and fuzz/endpoint_expand.c.
 */
#include "util/base.h"

#include "cluster/layout.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <netdb.h>

#include "util/checksum.h"
#include "util/enc.h"
#include "util/err.h"

#define MAX_LISTED_NODES 8 /* nodes named in the no-local-node message */

struct layout_pool {
    struct endpoint *drives; /* layout order */
    size_t ndrives;
    unsigned set_size;
    unsigned parity;
};

struct layout_node {
    char *name; /* "HOST:PORT", or "local" in folder mode */
    char *host; /* canonical host; NULL in folder mode */
    uint16_t port;
};

struct layout {
    struct layout_pool *pools;
    size_t npools;
    struct layout_node *nodes;
    size_t nnodes;
    bool is_cluster;
    int local_node; /* -1 until layout_mark_local() */
};

/* Appends a sentence to `errmsg` (when non-NULL); returns -ERR_INVAL. */
static int failf(struct buf *errmsg, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int
failf(struct buf *errmsg, const char *fmt, ...)
{
    va_list ap;

    if (errmsg) {
        va_start(ap, fmt);
        buf_vaddf(errmsg, fmt, ap);
        va_end(ap);
    }
    return -ERR_INVAL;
}

static struct layout *
layout_alloc(size_t npools)
{
    struct layout *l = xcalloc(1, sizeof(*l));

    l->pools = xcalloc(npools ? npools : 1, sizeof(*l->pools));
    l->npools = npools;
    l->local_node = -1;
    return l;
}

void
layout_free(struct layout *l)
{
    size_t p, i;

    if (!l)
        return;
    for (p = 0; p < l->npools; p++) {
        for (i = 0; i < l->pools[p].ndrives; i++)
            endpoint_release(&l->pools[p].drives[i]);
        free(l->pools[p].drives);
    }
    for (i = 0; i < l->nnodes; i++) {
        free(l->nodes[i].name);
        free(l->nodes[i].host);
    }
    free(l->pools);
    free(l->nodes);
    free(l);
}

/* ---- accessors ---- */

bool
layout_is_cluster(const struct layout *l)
{
    return l->is_cluster;
}

size_t
layout_pool_count(const struct layout *l)
{
    return l->npools;
}

const struct endpoint *
layout_pool_drives(const struct layout *l, size_t pool, size_t *n)
{
    BUG_ON(pool >= l->npools);
    *n = l->pools[pool].ndrives;
    return l->pools[pool].drives;
}

unsigned
layout_set_size(const struct layout *l, size_t pool)
{
    BUG_ON(pool >= l->npools);
    return l->pools[pool].set_size;
}

unsigned
layout_parity(const struct layout *l, size_t pool)
{
    BUG_ON(pool >= l->npools);
    return l->pools[pool].parity;
}

size_t
layout_node_count(const struct layout *l)
{
    return l->nnodes;
}

const char *
layout_node_name(const struct layout *l, size_t node)
{
    BUG_ON(node >= l->nnodes);
    return l->nodes[node].name;
}

int
layout_local_node(const struct layout *l)
{
    return l->local_node;
}

/* ---- checks over all drives ---- */

/* A drive of the layout, by pool and index, for sorting. */
struct drive_ref {
    const char *key;
    size_t pool;
    size_t idx;
    size_t seq; /* position over the whole command line */
};

static int
ref_cmp(const void *a, const void *b)
{
    const struct drive_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t
drive_total(const struct layout *l)
{
    size_t p, n = 0;

    for (p = 0; p < l->npools; p++)
        n += l->pools[p].ndrives;
    return n;
}

/*
 * References to every drive keyed by `node_keys[seq]` (when non-NULL) or by
 * the endpoint text, sorted by key then command-line order.
 */
static struct drive_ref *
sorted_refs(const struct layout *l, char *const *node_keys)
{
    size_t p, i, seq = 0, n = drive_total(l);
    struct drive_ref *refs = xcalloc(n ? n : 1, sizeof(*refs));

    for (p = 0; p < l->npools; p++) {
        for (i = 0; i < l->pools[p].ndrives; i++, seq++) {
            refs[seq] = (struct drive_ref){ node_keys ? node_keys[seq] : l->pools[p].drives[i].text,
                                            p, i, seq };
        }
    }
    qsort(refs, n, sizeof(*refs), ref_cmp);
    return refs;
}

/* -ERR_INVAL naming the first drive given twice (same endpoint text). */
static int
check_duplicates(const struct layout *l, struct buf *errmsg)
{
    struct drive_ref *refs = sorted_refs(l, NULL);
    size_t i, n = drive_total(l);
    int rc = 0;

    for (i = 1; i < n && rc == 0; i++) {
        const struct endpoint *a, *b;

        if (strcmp(refs[i - 1].key, refs[i].key) != 0)
            continue;
        a = &l->pools[refs[i - 1].pool].drives[refs[i - 1].idx];
        b = &l->pools[refs[i].pool].drives[refs[i].idx];
        rc = failf(errmsg, "drive '%s' is given twice: as '%s' and as '%s'", a->text, a->arg,
                   b->arg);
    }
    free(refs);
    return rc;
}

/* All URLs or all folders; all http or all https. */
static int
check_modes(struct layout *l, struct buf *errmsg)
{
    const struct endpoint *first = NULL, *e;
    size_t p, i;

    for (p = 0; p < l->npools; p++) {
        for (i = 0; i < l->pools[p].ndrives; i++) {
            e = &l->pools[p].drives[i];
            if (!first)
                first = e;
            if (e->is_url != first->is_url)
                return failf(errmsg,
                             "URLs and folder paths cannot be mixed: '%s' and '%s' (a cluster "
                             "gives every drive as http://HOST:PORT/PATH)",
                             first->arg, e->arg);
            if (e->tls != first->tls)
                return failf(errmsg, "http:// and https:// cannot be mixed: '%s' and '%s'",
                             first->arg, e->arg);
        }
    }
    l->is_cluster = first && first->is_url;
    return 0;
}

/* Every drive's node key ("HOST:PORT", or "local" in folder mode), in command-line order. */
static char **
node_keys(const struct layout *l, size_t n)
{
    char **keys = xcalloc(n ? n : 1, sizeof(*keys));
    size_t p, i, seq = 0;

    for (p = 0; p < l->npools; p++) {
        for (i = 0; i < l->pools[p].ndrives; i++, seq++) {
            struct buf b = BUF_INIT;

            if (l->is_cluster)
                endpoint_node_name(&l->pools[p].drives[i], &b);
            else
                buf_adds(&b, "local");
            keys[seq] = buf_detach(&b, NULL);
        }
    }
    return keys;
}

/* For every drive (by command-line order), the first drive with the same key. */
static size_t *
first_with_key(const struct layout *l, char *const *keys, size_t n)
{
    struct drive_ref *refs = sorted_refs(l, keys);
    size_t *first = xcalloc(n ? n : 1, sizeof(*first));
    size_t i;

    /* Sorted by key, then order: a group of equal keys starts at its first appearance. */
    for (i = 0; i < n; i++)
        first[refs[i].seq] = (i == 0 || strcmp(refs[i - 1].key, refs[i].key) != 0)
                                 ? refs[i].seq
                                 : first[refs[i - 1].seq];
    free(refs);
    return first;
}

/* Numbers the distinct HOST:PORT in order of first appearance and sets each endpoint's node. */
static void
assign_nodes(struct layout *l)
{
    size_t p, i, seq, n = drive_total(l);
    char **keys = node_keys(l, n);
    size_t *first = first_with_key(l, keys, n);
    unsigned *node_of = xcalloc(n ? n : 1, sizeof(*node_of));

    l->nodes = xcalloc(n ? n : 1, sizeof(*l->nodes));
    for (seq = 0; seq < n; seq++) {
        if (first[seq] == seq) {
            node_of[seq] = (unsigned)l->nnodes;
            l->nodes[l->nnodes++].name = keys[seq];
            keys[seq] = NULL;
        } else {
            node_of[seq] = node_of[first[seq]];
        }
    }
    for (p = 0, seq = 0; p < l->npools; p++) {
        for (i = 0; i < l->pools[p].ndrives; i++, seq++) {
            struct endpoint *e = &l->pools[p].drives[i];

            e->node = node_of[seq];
            if (l->is_cluster && !l->nodes[e->node].host) {
                l->nodes[e->node].host = xstrdup(e->host);
                l->nodes[e->node].port = e->port;
            }
        }
    }
    for (seq = 0; seq < n; seq++)
        free(keys[seq]);
    free(keys);
    free(first);
    free(node_of);
}

/* The checks and numbering shared by layout_from_args() and layout_decode(). */
static int
finish_drives(struct layout *l, struct buf *errmsg)
{
    int rc;

    if (drive_total(l) == 0)
        return failf(errmsg, "no drive given");
    rc = check_modes(l, errmsg);
    if (rc == 0)
        rc = check_duplicates(l, errmsg);
    if (rc == 0)
        assign_nodes(l);
    return rc;
}

/* ---- geometry ---- */

unsigned
layout_default_parity(unsigned set_size)
{
    if (set_size <= 3)
        return 1;
    if (set_size <= 5)
        return 2;
    if (set_size <= 7)
        return 3;
    return 4;
}

/* Distinct nodes among the drives of `pool`. */
static size_t
pool_node_count(const struct layout *l, const struct layout_pool *pool)
{
    bool *seen = xcalloc(l->nnodes, sizeof(*seen));
    size_t i, n = 0;

    for (i = 0; i < pool->ndrives; i++) {
        if (!seen[pool->drives[i].node]) {
            seen[pool->drives[i].node] = true;
            n++;
        }
    }
    free(seen);
    return n;
}

/* The set size for `ndrives` over `nnodes` nodes (layout.h), 0 if none divides. */
static unsigned
choose_set_size(size_t ndrives, size_t nnodes)
{
    unsigned s;

    for (s = LAYOUT_MAX_SET; s >= LAYOUT_MIN_SET; s--)
        if (ndrives % s == 0 && (s % nnodes == 0 || nnodes % s == 0))
            return s;
    for (s = LAYOUT_MAX_SET; s >= LAYOUT_MIN_SET; s--)
        if (ndrives % s == 0)
            return s;
    return 0;
}

/* Checks the geometry of pool `p` (0-based); a set size of 0 means none could be chosen. */
static int
check_geometry(const struct layout_pool *pool, size_t p, struct buf *errmsg)
{
    if (pool->set_size == 0)
        return failf(errmsg,
                     "pool %zu has %zu drives: they cannot be split into erasure sets of 2 to "
                     "16 drives of equal size",
                     p + 1, pool->ndrives);
    if (pool->set_size < LAYOUT_MIN_SET || pool->set_size > LAYOUT_MAX_SET ||
        pool->ndrives % pool->set_size != 0)
        return failf(errmsg,
                     "pool %zu has %zu drives: they cannot be split into erasure sets of %u "
                     "drives (sets have 2 to 16 drives and must divide the pool)",
                     p + 1, pool->ndrives, pool->set_size);
    if (pool->parity < 1 || pool->parity > pool->set_size / 2)
        return failf(errmsg, "pool %zu: parity %u must be from 1 to half the set size %u", p + 1,
                     pool->parity, pool->set_size);
    return 0;
}

static int
choose_geometry(struct layout *l, const struct layout_opts *opts, struct buf *errmsg)
{
    size_t p;
    int rc;

    for (p = 0; p < l->npools; p++) {
        struct layout_pool *pool = &l->pools[p];

        pool->set_size = opts->set_size ? opts->set_size
                                        : choose_set_size(pool->ndrives, pool_node_count(l, pool));
        pool->parity = opts->parity ? opts->parity : layout_default_parity(pool->set_size);
        rc = check_geometry(pool, p, errmsg);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- drive order ---- */

struct order_key {
    size_t rank;  /* the drive's number among its node's drives in the pool */
    size_t order; /* its node's number in the pool, by first appearance */
    size_t idx;   /* command-line index in the pool */
};

static int
order_cmp(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;

    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Puts `pool` (in command-line order) into layout order: round robin over its nodes. */
static void
interleave(const struct layout *l, struct layout_pool *pool)
{
    size_t *count = xcalloc(l->nnodes, sizeof(*count));
    size_t *order = xcalloc(l->nnodes, sizeof(*order));
    struct order_key *keys = xcalloc(pool->ndrives ? pool->ndrives : 1, sizeof(*keys));
    struct endpoint *sorted = xcalloc(pool->ndrives ? pool->ndrives : 1, sizeof(*sorted));
    size_t i, norder = 0;

    for (i = 0; i < pool->ndrives; i++) {
        unsigned node = pool->drives[i].node;

        if (count[node] == 0)
            order[node] = norder++;
        keys[i] = (struct order_key){ count[node]++, order[node], i };
    }
    qsort(keys, pool->ndrives, sizeof(*keys), order_cmp);
    for (i = 0; i < pool->ndrives; i++)
        sorted[i] = pool->drives[keys[i].idx];
    free(pool->drives);
    pool->drives = sorted;
    free(count);
    free(order);
    free(keys);
}

/* ---- from the command line ---- */

/*
 * The words of a URL argument: an argument may list a pool's endpoints
 * separated by white space (spaces are not part of a URL). A folder argument
 * is one word (a folder name may hold a space). Returns the count; `*words`
 * malloc'd NUL-separated copies, freed by the caller.
 */
static size_t
split_words(const char *arg, bool urls, char **words)
{
    size_t n = 0, len = strlen(arg), i;
    char *w = xmalloc(len + 1);
    bool in = false;

    if (!urls) {
        memcpy(w, arg, len + 1);
        *words = w;
        return 1;
    }
    for (i = 0; i <= len; i++) {
        bool space = arg[i] == ' ' || arg[i] == '\t' || arg[i] == '\n' || arg[i] == '\0';

        w[i] = space ? '\0' : arg[i];
        if (!space && !in)
            n++;
        in = !space;
    }
    *words = w;
    return n;
}

/* The next word of split_words()'s output after `w` (the first: *pos == 0). */
static const char *
next_word(const char *w, size_t len, size_t *pos)
{
    while (*pos < len && w[*pos] == '\0')
        (*pos)++;
    if (*pos >= len)
        return NULL;
    w += *pos;
    *pos += strlen(w);
    return w;
}

static bool
has_space(const char *arg)
{
    return strpbrk(arg, " \t\n") != NULL;
}

/* Expands and parses one word of argument `arg` into `pool`. */
static int
read_word(struct layout_pool *pool, const char *word, const char *arg,
          const struct layout_opts *opts, size_t *total, struct buf *errmsg)
{
    struct endpoint_list list = ENDPOINT_LIST_INIT;
    size_t i;
    int rc = endpoint_expand(word, &list, errmsg);

    if (rc == 0 && *total + list.n > LAYOUT_MAX_DRIVES)
        rc = failf(errmsg, "more than %d drives in all (at '%s')", LAYOUT_MAX_DRIVES, arg);
    if (rc == 0 && list.n)
        pool->drives = xrealloc(pool->drives, (pool->ndrives + list.n) * sizeof(*pool->drives));
    for (i = 0; i < list.n && rc == 0; i++) {
        rc =
            endpoint_parse(list.items[i], opts->default_port, &pool->drives[pool->ndrives], errmsg);
        if (rc < 0 && errmsg && strcmp(list.items[i], arg) != 0)
            buf_addf(errmsg, " (from the argument '%s')", arg);
        if (rc == 0) {
            pool->ndrives++;
            (*total)++;
        }
    }
    endpoint_list_release(&list);
    return rc;
}

/* Expands and parses the arguments of one pool into `pool`, in command-line order. */
static int
read_pool(struct layout_pool *pool, int argc, char *const *argv, const struct layout_opts *opts,
          size_t *total, struct buf *errmsg)
{
    bool urls = argc > 0 && endpoint_looks_like_url(argv[0]);
    int a, rc = 0;

    for (a = 0; a < argc && rc == 0; a++) {
        char *words;
        const char *word;
        size_t pos = 0, len = strlen(argv[a]);

        split_words(argv[a], urls, &words);
        while (rc == 0 && (word = next_word(words, len, &pos)) != NULL)
            rc = read_word(pool, word, argv[a], opts, total, errmsg);
        free(words);
    }
    return rc;
}

/*
 * URLs: every argument with an ellipsis or a list of endpoints separated by
 * spaces (one pool each), or none (one pool); else -ERR_INVAL. Folders: one
 * pool.
 */
static int
count_pools(int argc, char *const *argv, size_t *npools, struct buf *errmsg)
{
    int i, with = -1, without = -1;

    if (argc <= 0)
        return failf(errmsg, "no drive given");
    for (i = 0; i < argc; i++) {
        bool urls = endpoint_looks_like_url(argv[0]);
        char *words;
        const char *word;
        size_t pos = 0, len = strlen(argv[i]);
        int rc = 0;

        /* A malformed ellipsis is reported as such, not as a mix of kinds of arguments. */
        split_words(argv[i], urls, &words);
        while (rc == 0 && (word = next_word(words, len, &pos)) != NULL) {
            struct endpoint_list scratch = ENDPOINT_LIST_INIT;

            rc = endpoint_expand(word, &scratch, errmsg);
            endpoint_list_release(&scratch);
        }
        free(words);
        if (rc < 0)
            return -ERR_INVAL;
        if (endpoint_has_ellipsis(argv[i]) || (urls && has_space(argv[i])))
            with = with < 0 ? i : with;
        else
            without = without < 0 ? i : without;
    }
    /* Folder mode (one node) is one pool, as single-node deployments were formatted. */
    if (!endpoint_looks_like_url(argv[0])) {
        *npools = 1;
        return 0;
    }
    if (with >= 0 && without >= 0)
        return failf(errmsg,
                     "arguments that are pools (with ellipses, or endpoints separated by spaces) "
                     "and plain endpoints (all together one pool) cannot be mixed: '%s' and '%s'",
                     argv[with], argv[without]);
    *npools = with >= 0 ? (size_t)argc : 1;
    if (*npools > LAYOUT_MAX_POOLS)
        return failf(errmsg, "more than %d pools", LAYOUT_MAX_POOLS);
    return 0;
}

int
layout_from_args(int argc, char *const *argv, const struct layout_opts *opts, struct layout **out,
                 struct buf *errmsg)
{
    static const struct layout_opts none = { 0 };
    struct layout *l = NULL;
    size_t npools = 0, p, total = 0;
    int rc;

    opts = opts ? opts : &none;
    rc = count_pools(argc, argv, &npools, errmsg);
    if (rc < 0)
        return rc;
    l = layout_alloc(npools);
    for (p = 0; p < npools && rc == 0; p++) {
        if (npools == 1)
            rc = read_pool(&l->pools[p], argc, argv, opts, &total, errmsg);
        else
            rc = read_pool(&l->pools[p], 1, argv + p, opts, &total, errmsg);
    }
    if (rc == 0)
        rc = finish_drives(l, errmsg);
    for (p = 0; p < npools && rc == 0; p++)
        interleave(l, &l->pools[p]);
    if (rc == 0)
        rc = choose_geometry(l, opts, errmsg);
    if (rc < 0) {
        layout_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

/* ---- spread warnings ---- */

/* Warnings of pool `p`; `count`, `worst` and `bad` are nnodes-long scratch arrays. */
static size_t
pool_spread_warnings(const struct layout *l, size_t p, size_t *count, size_t *worst, size_t *bad,
                     struct buf *out)
{
    const struct layout_pool *pool = &l->pools[p];
    size_t s, i, lines = 0, nsets = pool->ndrives / pool->set_size;

    memset(worst, 0, l->nnodes * sizeof(*worst));
    memset(bad, 0, l->nnodes * sizeof(*bad));
    for (s = 0; s < nsets; s++) {
        const struct endpoint *set = pool->drives + s * pool->set_size;

        for (i = 0; i < pool->set_size; i++)
            count[set[i].node] = 0;
        for (i = 0; i < pool->set_size; i++)
            count[set[i].node]++;
        for (i = 0; i < pool->set_size; i++) {
            unsigned node = set[i].node;

            if (count[node] > pool->parity) {
                worst[node] = MAX(worst[node], count[node]);
                bad[node]++;
            }
            count[node] = 0; /* each node once per set */
        }
    }
    for (i = 0; i < l->nnodes; i++) {
        if (!bad[i])
            continue;
        buf_addf(out,
                 "pool %zu: node %s holds up to %zu drives of %zu of its %zu erasure sets, more "
                 "than the parity %u: while that node is down, those sets cannot be read\n",
                 p + 1, l->nodes[i].name, worst[i], bad[i], nsets, pool->parity);
        lines++;
    }
    return lines;
}

size_t
layout_spread_warnings(const struct layout *l, struct buf *out)
{
    size_t *count = xcalloc(l->nnodes, sizeof(size_t));
    size_t *worst = xcalloc(l->nnodes, sizeof(size_t));
    size_t *bad = xcalloc(l->nnodes, sizeof(size_t));
    size_t p, lines = 0;

    for (p = 0; p < l->npools && l->nnodes > 1; p++)
        lines += pool_spread_warnings(l, p, count, worst, bad, out);
    free(count);
    free(worst);
    free(bad);
    return lines;
}

/* ---- digest and diff ---- */

void
layout_canonical_text(const struct layout *l, struct buf *out)
{
    size_t p, i;

    buf_adds(out, "basalt-layout 1\n");
    for (p = 0; p < l->npools; p++) {
        const struct layout_pool *pool = &l->pools[p];

        buf_addf(out, "pool %zu drives %zu set_size %u parity %u\n", p + 1, pool->ndrives,
                 pool->set_size, pool->parity);
        for (i = 0; i < pool->ndrives; i++) {
            buf_adds(out, pool->drives[i].text);
            buf_addch(out, '\n');
        }
    }
}

void
layout_digest(const struct layout *l, char out[LAYOUT_DIGEST_HEX])
{
    struct buf text = BUF_INIT;
    struct checksum c;
    uint8_t raw[CHECKSUM_MAX_SIZE];

    layout_canonical_text(l, &text);
    checksum_init(&c, CHECKSUM_SHA256);
    checksum_update(&c, text.ptr, text.len);
    hex_encode_to(out, raw, checksum_final(&c, raw));
    buf_release(&text);
}

bool
layout_diff(const struct layout *a, const struct layout *b, struct buf *why)
{
    size_t p, i;

    if (a->npools != b->npools)
        return failf(why, "different pool count: %zu vs %zu", a->npools, b->npools) < 0;
    for (p = 0; p < a->npools; p++) {
        const struct layout_pool *x = &a->pools[p], *y = &b->pools[p];

        if (x->ndrives != y->ndrives)
            return failf(why, "different drive count in pool %zu: %zu vs %zu", p + 1, x->ndrives,
                         y->ndrives) < 0;
        for (i = 0; i < x->ndrives; i++)
            if (strcmp(x->drives[i].text, y->drives[i].text) != 0)
                return failf(why, "endpoint at position %zu of pool %zu differs: '%s' vs '%s'",
                             i + 1, p + 1, x->drives[i].text, y->drives[i].text) < 0;
        if (x->set_size != y->set_size)
            return failf(why, "different set size in pool %zu: %u vs %u", p + 1, x->set_size,
                         y->set_size) < 0;
        if (x->parity != y->parity)
            return failf(why, "different parity in pool %zu: %u vs %u", p + 1, x->parity,
                         y->parity) < 0;
    }
    return false;
}

/* ---- JSON form ---- */

int
layout_encode(const struct layout *l, struct buf *out)
{
    json_t *root, *pools;
    size_t p, i;
    char *text;

    if (!l->is_cluster)
        return -ERR_INVAL;
    root = json_object();
    pools = json_array();
    json_object_set_new(root, "version", json_integer(1));
    for (p = 0; p < l->npools; p++) {
        json_t *pool = json_object(), *drives = json_array();

        json_object_set_new(pool, "set_size", json_integer(l->pools[p].set_size));
        json_object_set_new(pool, "parity", json_integer(l->pools[p].parity));
        /* Endpoint texts are ASCII without control characters: json_string() cannot fail. */
        for (i = 0; i < l->pools[p].ndrives; i++)
            json_array_append_new(drives, json_string(l->pools[p].drives[i].text));
        json_object_set_new(pool, "drives", drives);
        json_array_append_new(pools, pool);
    }
    json_object_set_new(root, "pools", pools);
    text = json_dumps(root, JSON_COMPACT);
    BUG_ON(!text);
    buf_adds(out, text);
    free(text);
    json_decref(root);
    return 0;
}

/* Parses the drive strings of pool `p` into `pool`. */
static int
decode_drives(json_t *drives, size_t p, struct layout_pool *pool, struct buf *errmsg)
{
    struct buf why = BUF_INIT;
    json_t *d;
    size_t i;
    int rc = 0;

    pool->drives = xcalloc(json_array_size(drives), sizeof(*pool->drives));
    json_array_foreach(drives, i, d)
    {
        if (!json_is_string(d)) {
            rc = failf(errmsg, "layout: drive %zu of pool %zu is not a string", i + 1, p + 1);
            break;
        }
        rc = endpoint_parse(json_string_value(d), 0, &pool->drives[i], &why);
        if (rc == 0 && !pool->drives[i].is_url) {
            endpoint_release(&pool->drives[i]);
            rc = failf(&why, "endpoint '%s' is not a URL", json_string_value(d));
        }
        if (rc < 0) {
            failf(errmsg, "layout: pool %zu: %s", p + 1, why.ptr);
            break;
        }
        pool->ndrives++;
    }
    buf_release(&why);
    return rc;
}

static int
decode_pool(json_t *jp, size_t p, struct layout_pool *pool, size_t *total, struct buf *errmsg)
{
    json_int_t set_size, parity;
    json_error_t jerr;
    json_t *drives;
    size_t n;

    if (json_unpack_ex(jp, &jerr, JSON_STRICT, "{s:I, s:I, s:o}", "set_size", &set_size, "parity",
                       &parity, "drives", &drives) < 0)
        return failf(errmsg, "layout: pool %zu: %s", p + 1, jerr.text);
    n = json_array_size(drives);
    if (!json_is_array(drives) || n == 0)
        return failf(errmsg, "layout: pool %zu: 'drives' is not a non-empty array", p + 1);
    if (n > LAYOUT_MAX_DRIVES - *total)
        return failf(errmsg, "layout: more than %d drives", LAYOUT_MAX_DRIVES);
    *total += n;
    if (set_size < 0 || set_size > LAYOUT_MAX_SET || parity < 0 || parity > LAYOUT_MAX_SET)
        return failf(errmsg, "layout: pool %zu: set size %lld or parity %lld out of range", p + 1,
                     (long long)set_size, (long long)parity);
    pool->set_size = (unsigned)set_size;
    pool->parity = (unsigned)parity;
    return decode_drives(drives, p, pool, errmsg);
}

/* Builds the layout of the parsed document `root`. */
static int
decode_root(json_t *root, struct layout **out, struct buf *errmsg)
{
    struct layout *l = NULL;
    json_int_t version;
    json_error_t jerr;
    json_t *pools;
    size_t p, total = 0;
    int rc = 0;

    if (json_unpack_ex(root, &jerr, JSON_STRICT, "{s:I, s:o}", "version", &version, "pools",
                       &pools) < 0)
        return failf(errmsg, "layout: %s", jerr.text);
    if (version != 1)
        return failf(errmsg, "layout: unknown version %lld (this node knows 1)",
                     (long long)version);
    if (!json_is_array(pools) || json_array_size(pools) == 0 ||
        json_array_size(pools) > LAYOUT_MAX_POOLS)
        return failf(errmsg, "layout: 'pools' must be an array of 1 to %d pools", LAYOUT_MAX_POOLS);
    l = layout_alloc(json_array_size(pools));
    for (p = 0; p < l->npools && rc == 0; p++)
        rc = decode_pool(json_array_get(pools, p), p, &l->pools[p], &total, errmsg);
    if (rc == 0)
        rc = finish_drives(l, errmsg);
    for (p = 0; p < l->npools && rc == 0; p++)
        rc = check_geometry(&l->pools[p], p, errmsg);
    if (rc < 0) {
        layout_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

int
layout_decode(const char *p, size_t n, struct layout **out, struct buf *errmsg)
{
    json_error_t jerr;
    json_t *root;
    int rc;

    if (n > LAYOUT_MAX_ENCODED) {
        if (errmsg)
            buf_addf(errmsg, "layout: %zu bytes, more than the %d allowed", n, LAYOUT_MAX_ENCODED);
        return -ERR_TOO_LARGE;
    }
    root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return failf(errmsg, "layout: not valid JSON: %s (at byte %d)", jerr.text, jerr.position);
    rc = decode_root(root, out, errmsg);
    json_decref(root);
    return rc;
}

/* ---- local detection ---- */

struct ipaddr {
    int af;
    unsigned char bytes[16];
};

struct ipaddr_list {
    struct ipaddr *v;
    size_t n;
    size_t alloc;
};

static void
ipaddr_push(struct ipaddr_list *l, const struct sockaddr *sa)
{
    struct ipaddr a = { 0 };

    if (sa->sa_family == AF_INET)
        memcpy(a.bytes, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    else if (sa->sa_family == AF_INET6)
        memcpy(a.bytes, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    else
        return;
    a.af = sa->sa_family;
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? 2 * l->alloc : 8;
        l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
    }
    l->v[l->n++] = a;
}

static bool
ipaddr_in(const struct ipaddr *a, const struct ipaddr_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (l->v[i].af == a->af && memcmp(l->v[i].bytes, a->bytes, sizeof(a->bytes)) == 0)
            return true;
    return false;
}

/* 127.0.0.0/8 or ::1. */
static bool
ipaddr_is_loopback(const struct ipaddr *a)
{
    static const unsigned char v6_loopback[16] = { [15] = 1 };

    if (a->af == AF_INET)
        return a->bytes[0] == 127;
    return memcmp(a->bytes, v6_loopback, 16) == 0;
}

/* Appends the addresses `host` resolves to (an IP literal without DNS); none if it fails. */
static void
resolve(const char *host, struct ipaddr_list *out)
{
    struct addrinfo hints = { 0 }, *res = NULL, *ai;
    unsigned char tmp[16];

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1)
        hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return;
    for (ai = res; ai; ai = ai->ai_next)
        ipaddr_push(out, ai->ai_addr);
    freeaddrinfo(res);
}

static int
interface_addrs(struct ipaddr_list *out, struct buf *errmsg)
{
    struct ifaddrs *ifa, *i;

    if (getifaddrs(&ifa) < 0) {
        if (errmsg)
            buf_addf(errmsg, "cannot list this machine's network interfaces: %s", strerror(errno));
        return -ERR_IO;
    }
    for (i = ifa; i; i = i->ifa_next)
        if (i->ifa_addr)
            ipaddr_push(out, i->ifa_addr);
    freeifaddrs(ifa);
    return 0;
}

enum match_how {
    MATCH_TEXT,       /* the node's host is the listen host */
    MATCH_RESOLVED,   /* it resolves to an address of the listen host */
    MATCH_INTERFACES, /* it resolves to an address of this machine */
};

struct listener {
    const char *host; /* canonical; "" for any address */
    uint16_t port;
    struct ipaddr_list addrs; /* the listen host's, or this machine's interfaces' */
};

static bool
node_matches(const struct layout_node *node, const struct listener *ls, enum match_how how)
{
    struct ipaddr_list addrs = { 0 };
    bool match = false;
    size_t i;

    if (node->port != ls->port)
        return false;
    if (how == MATCH_TEXT)
        return strcmp(node->host, ls->host) == 0;
    resolve(node->host, &addrs);
    for (i = 0; i < addrs.n && !match; i++)
        match = ipaddr_in(&addrs.v[i], &ls->addrs) ||
                (how == MATCH_INTERFACES && ipaddr_is_loopback(&addrs.v[i]));
    free(addrs.v);
    return match;
}

/* Writes the indexes of the matching nodes into `found`; returns their count. */
static size_t
match_nodes(const struct layout *l, const struct listener *ls, enum match_how how, size_t *found)
{
    size_t i, n = 0;

    for (i = 0; i < l->nnodes; i++)
        if (node_matches(&l->nodes[i], ls, how))
            found[n++] = i;
    return n;
}

static void
set_local(struct layout *l, size_t node)
{
    size_t p, i;

    for (p = 0; p < l->npools; p++)
        for (i = 0; i < l->pools[p].ndrives; i++)
            l->pools[p].drives[i].is_local = l->pools[p].drives[i].node == node;
    l->local_node = (int)node;
}

static int
no_local_node(const struct layout *l, const char *address, struct buf *errmsg)
{
    size_t i;

    if (!errmsg)
        return -ERR_INVAL;
    buf_addf(errmsg, "this node (--address %s) is none of the endpoints: the nodes are ", address);
    for (i = 0; i < l->nnodes && i < MAX_LISTED_NODES; i++)
        buf_addf(errmsg, "%s%s", i ? ", " : "", l->nodes[i].name);
    if (l->nnodes > MAX_LISTED_NODES)
        buf_addf(errmsg, ", ... (%zu in all)", l->nnodes);
    buf_adds(errmsg, "; a node listens on the host and port of its own endpoints");
    return -ERR_INVAL;
}

int
layout_mark_local(struct layout *l, const char *listen_address, struct buf *errmsg)
{
    struct listener ls = { 0 };
    struct buf host = BUF_INIT;
    size_t *found = NULL, n = 0;
    int rc;

    if (!l->is_cluster) {
        set_local(l, 0);
        return 0;
    }
    rc = endpoint_split_address(listen_address, &host, &ls.port, errmsg);
    if (rc < 0)
        goto out;
    ls.host = host.ptr;
    found = xcalloc(l->nnodes, sizeof(*found));
    if (!host.len || strcmp(host.ptr, "0.0.0.0") == 0 || strcmp(host.ptr, "::") == 0) {
        rc = interface_addrs(&ls.addrs, errmsg);
        if (rc < 0)
            goto out;
        n = match_nodes(l, &ls, MATCH_INTERFACES, found);
    } else {
        n = match_nodes(l, &ls, MATCH_TEXT, found);
        if (n == 0) {
            resolve(ls.host, &ls.addrs);
            n = match_nodes(l, &ls, MATCH_RESOLVED, found);
        }
    }
    if (n == 0)
        rc = no_local_node(l, listen_address, errmsg);
    else if (n > 1)
        rc = failf(errmsg,
                   "this node (--address %s) would be several nodes: %s and %s (give --address "
                   "the host of this node's own endpoints)",
                   listen_address, l->nodes[found[0]].name, l->nodes[found[1]].name);
    else
        set_local(l, found[0]);
out:
    free(found);
    free(ls.addrs.v);
    buf_release(&host);
    return rc;
}
