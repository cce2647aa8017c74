/*
 * object/quorum.c: parallel per-drive jobs, and the one place that turns
 * per-drive results into a single answer under the quorum rules of DESIGN.md:
 *
 *   write quorum   k drives (k + 1 when k == m)
 *   read quorum    k drives holding the same version
 *   delete quorum  half the set plus one
 */
#include "util/base.h"

#include "object/internal.h"

#include "util/workq.h"

static void
job_run(struct work *w)
{
    struct set_job *job = container_of(w, struct set_job, w);
    const struct reqctx *prev = reqctx_enter(job->ctx);

    *job->rc = job->fn(job->set, job->j, job->arg);
    reqctx_leave(prev);
}

static void
job_done(struct work *w)
{
    struct set_job *job = container_of(w, struct set_job, w);

    latch_count_down(job->latch);
}

void
object__start(struct eset *set, const bool *mask, set_job_fn *fn, void *arg, int *rcs,
              struct set_batch *b)
{
    bool run[OBJ_MAX_SET];
    unsigned j;

    /*
     * Online is read once per drive: a drive may go offline at any time (an
     * error elsewhere, the drive monitor), and a second look that saw it
     * offline would submit fewer jobs than the latch waits for.
     */
    b->n = 0;
    for (j = 0; j < set->n; j++) {
        rcs[j] = -ERR_OFFLINE;
        run[j] = (!mask || mask[j]) && drive_is_online(set->drives[j]);
        b->n += run[j];
    }
    if (b->n == 0)
        return;
    latch_init(&b->latch, b->n);
    for (j = 0; j < set->n; j++) {
        if (!run[j])
            continue;
        b->jobs[j] = (struct set_job){
            .w = { .fn = job_run, .done = job_done },
            .ctx = reqctx_current(),
            .set = set,
            .j = j,
            .fn = fn,
            .arg = arg,
            .rc = &rcs[j],
            .latch = &b->latch,
        };
        workq_submit(set->queues[j], &b->jobs[j].w);
    }
}

void
object__wait(struct set_batch *b)
{
    if (b->n == 0)
        return;
    latch_wait(&b->latch);
    latch_release(&b->latch);
    b->n = 0;
}

void
object__run(struct eset *set, const bool *mask, set_job_fn *fn, void *arg, int *rcs)
{
    struct set_batch b;

    object__start(set, mask, fn, arg, rcs, &b);
    object__wait(&b);
}

bool
object__set_has_remote(const struct eset *set)
{
    unsigned j;

    for (j = 0; j < set->n; j++)
        if (drive_is_remote(set->drives[j]))
            return true;
    return false;
}

void
object__run_here(struct eset *set, const bool *mask, set_job_fn *fn, void *arg, int *rcs)
{
    unsigned j;

    for (j = 0; j < set->n; j++) {
        rcs[j] = -ERR_OFFLINE;
        if ((!mask || mask[j]) && drive_is_online(set->drives[j]))
            rcs[j] = fn(set, j, arg);
    }
}

void
object__run_meta(struct eset *set, const bool *mask, set_job_fn *fn, void *arg, int *rcs)
{
    if (object__set_has_remote(set))
        object__run(set, mask, fn, arg, rcs);
    else
        object__run_here(set, mask, fn, arg, rcs);
}

struct host_job {
    struct work w;
    const struct reqctx *ctx;
    struct eset *set;
    unsigned js[OBJ_MAX_SET], n;
    set_hosts_fn *fn;
    void *arg;
    int *rcs;
    struct latch *latch;
};

static void
host_job_run(struct work *w)
{
    struct host_job *job = container_of(w, struct host_job, w);
    const struct reqctx *prev = reqctx_enter(job->ctx);

    job->fn(job->set, job->js, job->n, job->arg, job->rcs);
    reqctx_leave(prev);
}

static void
host_job_done(struct work *w)
{
    latch_count_down(container_of(w, struct host_job, w)->latch);
}

void
object__run_hosts(struct eset *set, const bool *mask, set_hosts_fn *fn, void *arg, int *rcs)
{
    struct host_job jobs[OBJ_MAX_SET];
    const void *hosts[OBJ_MAX_SET];
    bool run[OBJ_MAX_SET], grouped[OBJ_MAX_SET] = { false };
    unsigned i, j, njobs = 0, nremote = 0, submitted = 0;
    struct latch latch;

    /* online read once per drive, as object__start() does */
    for (j = 0; j < set->n; j++) {
        rcs[j] = -ERR_OFFLINE;
        run[j] = (!mask || mask[j]) && drive_is_online(set->drives[j]);
        hosts[j] = run[j] ? drive_host(set->drives[j]) : NULL;
    }
    for (j = 0; j < set->n; j++) {
        struct host_job *job;

        if (!run[j] || grouped[j])
            continue;
        job = &jobs[njobs++];
        job->n = 0;
        for (i = j; i < set->n; i++) {
            if (i == j || (run[i] && !grouped[i] && hosts[j] && hosts[i] == hosts[j])) {
                grouped[i] = true;
                job->js[job->n++] = i;
            }
        }
        nremote += drive_is_remote(set->drives[j]);
    }
    /*
     * The calling thread would only wait: it runs this node's groups, then
     * the last other node's (two thread hand-offs fewer: a GET that asks one
     * other node makes none); the other nodes' go to their I/O queues first.
     */
    if (nremote > 1)
        latch_init(&latch, nremote - 1);
    for (i = 0; i < njobs; i++) {
        struct host_job *job = &jobs[i];

        job->ctx = reqctx_current();
        job->set = set;
        job->fn = fn;
        job->arg = arg;
        job->rcs = rcs;
        job->latch = &latch;
        if (drive_is_remote(set->drives[job->js[0]]) && submitted + 1 < nremote) {
            job->w = (struct work){ .fn = host_job_run, .done = host_job_done };
            workq_submit(set->queues[job->js[0]], &job->w);
            submitted++;
        }
    }
    for (i = 0; i < njobs; i++)
        if (!drive_is_remote(set->drives[jobs[i].js[0]]))
            fn(set, jobs[i].js, jobs[i].n, arg, rcs);
    for (i = njobs; i-- > 0;) {
        if (drive_is_remote(set->drives[jobs[i].js[0]])) {
            fn(set, jobs[i].js, jobs[i].n, arg, rcs); /* the last one: not submitted */
            break;
        }
    }
    if (nremote > 1) {
        latch_wait(&latch);
        latch_release(&latch);
    }
}

int
object__reduce(const int *rcs, unsigned n, unsigned quorum, unsigned notfound_quorum)
{
    unsigned ok = 0, notfound = 0, j;

    for (j = 0; j < n; j++) {
        if (rcs[j] >= 0)
            ok++;
        else if (rcs[j] == -ERR_NOT_FOUND)
            notfound++;
    }
    if (ok >= quorum)
        return 0;
    if (notfound_quorum && notfound >= notfound_quorum)
        return -ERR_NOT_FOUND;
    return -ERR_QUORUM;
}

bool
object__same_version(const struct obj_meta *a, const struct obj_meta *b)
{
    return strcmp(a->vid, b->vid) == 0 && a->mtime_ns == b->mtime_ns && a->size == b->size &&
           a->k == b->k && a->m == b->m;
}

struct meta_read_arg {
    const char *bucket, *key;
    struct obj_meta *metas;
};

static int
meta_read_job(struct eset *set, unsigned j, void *arg)
{
    struct meta_read_arg *a = arg;

    return drive_meta_read(set->drives[j], a->bucket, a->key, &a->metas[j]);
}

/* One host's drives in one call (drive_meta_read_many). */
static void
meta_read_hosts(struct eset *set, const unsigned *js, unsigned n, void *arg, int *rcs)
{
    struct meta_read_arg *a = arg;
    struct drive_meta_op ops[OBJ_MAX_SET];
    unsigned i;

    for (i = 0; i < n; i++)
        ops[i] = (struct drive_meta_op){ .d = set->drives[js[i]], .out = &a->metas[js[i]] };
    drive_meta_read_many(a->bucket, a->key, ops, n);
    for (i = 0; i < n; i++)
        rcs[js[i]] = ops[i].rc;
}

/*
 * The records of the drives of `mask`: with drives of other nodes, one call
 * per node (object__run_hosts); else one lookup after the other here.
 */
static void
run_meta_read(struct eset *set, const bool *mask, struct meta_read_arg *a, int *rcs)
{
    if (object__set_has_remote(set))
        object__run_hosts(set, mask, meta_read_hosts, a, rcs);
    else
        object__run_meta(set, mask, meta_read_job, a, rcs);
}

/* Of the versions found, the newest held by at least its k drives; -1 if none. */
static int
pick_version(const struct eset *set, const struct obj_meta *metas, const int *rcs, bool *agree)
{
    int best = -1;
    unsigned i, j, count;

    for (i = 0; i < set->n; i++) {
        if (rcs[i] < 0)
            continue;
        count = 0;
        for (j = 0; j < set->n; j++)
            if (rcs[j] >= 0 && object__same_version(&metas[i], &metas[j]))
                count++;
        if (count < metas[i].k)
            continue;
        if (best < 0 || metas[i].mtime_ns > metas[best].mtime_ns ||
            (metas[i].mtime_ns == metas[best].mtime_ns &&
             strcmp(metas[i].vid, metas[best].vid) > 0))
            best = (int)i;
    }
    for (j = 0; j < set->n; j++)
        agree[j] = best >= 0 && rcs[j] >= 0 && object__same_version(&metas[best], &metas[j]);
    return best;
}

/*
 * The version to serve of what every drive answered (object__read_metas()'s
 * result). When none is readable: -ERR_QUORUM if one still could be, with
 * the drives that did not answer (offline, an error, an unreadable record)
 * holding more copies of it, or holding a committed version none of the
 * others has (a commit reaches at least the smallest write quorum); else the
 * key is absent (-ERR_KEY_NOT_FOUND): what copies there are can never be
 * read (a delete or a write cut off half-way over a copy not healed yet),
 * and the heal removes them (heal_dangling).
 */
static int
read_result(struct eset *set, const char *bucket, struct obj_meta *metas, const int *rcs,
            bool *agree)
{
    unsigned i, j, unknown = 0;
    unsigned wq_min = object__write_quorum(set->n - set->n / 2, set->n / 2);
    int best = pick_version(set, metas, rcs, agree);

    if (best >= 0)
        return best;
    for (j = 0; j < set->n; j++)
        unknown += rcs[j] < 0 && rcs[j] != -ERR_NOT_FOUND;
    if (unknown >= wq_min) /* a version none of the others holds may be there */
        return -ERR_QUORUM;
    for (i = 0; i < set->n; i++) {
        unsigned copies = 0;

        if (rcs[i] < 0)
            continue;
        for (j = 0; j < set->n; j++)
            copies += rcs[j] >= 0 && object__same_version(&metas[i], &metas[j]);
        if (copies + unknown >= metas[i].k)
            return -ERR_QUORUM;
    }
    return object__bucket_check(set->ol, bucket) < 0 ? -ERR_BUCKET_NOT_FOUND : -ERR_KEY_NOT_FOUND;
}

int
object__read_metas(struct eset *set, const char *bucket, const char *key, struct obj_meta *metas,
                   int *rcs, bool *agree)
{
    struct meta_read_arg a = { bucket, key, metas };

    run_meta_read(set, NULL, &a, rcs);
    return read_result(set, bucket, metas, rcs, agree);
}

/*
 * How many drives' records must agree for a read to skip the others: a
 * committed version is on at least its write quorum of drives, the smallest
 * of which any layout of the set can have is that of parity raised to half
 * the set; so any n - wq_min + 1 drives hold at least one copy of it, and a
 * committed delete leaves at most n - delete quorum copies of what it
 * removed.
 */
static unsigned
fast_reads(unsigned n)
{
    unsigned k = n - n / 2, wq = object__write_quorum(k, n / 2);

    return MAX(n - wq + 1, n - object__delete_quorum(n) + 1);
}

/*
 * The drives a fast read asks first: the local ones (no round trip), then
 * other nodes' from a place the key's hash picks (spreading the load), each
 * node's drives together (one call per node: object__run_hosts). A
 * set of local drives only: those that hold the first shards of the
 * layout a PUT gives the key (put.c plan_layout: drive j holds shard
 * (j + hash) % n), the data shards, so that a small object is served from
 * the records read, without decoding; each lookup of a local index is
 * cheap, but after every group commit a reader's page cache starts cold
 * (SQLite resets it when the WAL changed), so half the lookups is half the
 * page reads of a GET or HEAD.
 */
static unsigned
fast_mask(const struct eset *set, const char *bucket, const char *key, unsigned want, bool *mask)
{
    unsigned j, got = 0, start = (unsigned)(object__hash(bucket, key) % set->n);

    if (!object__set_has_remote(set)) {
        for (j = 0; j < set->n; j++)
            mask[j] = false;
        for (j = 0; j < set->n && got < want; j++) {
            unsigned d = (set->n - start + j) % set->n;

            if (drive_is_online(set->drives[d])) {
                mask[d] = true;
                got++;
            }
        }
        return got;
    }
    for (j = 0; j < set->n; j++) {
        mask[j] = !drive_is_remote(set->drives[j]) && drive_is_online(set->drives[j]);
        got += mask[j];
    }
    for (j = 0; j < set->n && got < want; j++) {
        unsigned d = (start + j) % set->n, i;
        const void *host = drive_host(set->drives[d]);

        if (mask[d] || !drive_is_online(set->drives[d]))
            continue;
        mask[d] = true;
        got++;
        /* then the other drives of its node: one call reads them together */
        for (i = 0; i < set->n && got < want && host; i++) {
            if (!mask[i] && drive_host(set->drives[i]) == host && drive_is_online(set->drives[i])) {
                mask[i] = true;
                got++;
            }
        }
    }
    return got;
}

int
object__read_metas_fast(struct eset *set, const char *bucket, const char *key,
                        struct obj_meta *metas, int *rcs, bool *agree)
{
    struct meta_read_arg a = { bucket, key, metas };
    bool mask[OBJ_MAX_SET];
    unsigned j, want = fast_reads(set->n), asked, agreed = 0;
    int best;

    if (want >= set->n || (asked = fast_mask(set, bucket, key, want, mask)) < want)
        return object__read_metas(set, bucket, key, metas, rcs, agree);
    run_meta_read(set, mask, &a, rcs);
    best = pick_version(set, metas, rcs, agree);
    for (j = 0; j < set->n; j++)
        agreed += mask[j] && rcs[j] >= 0 && agree[j];
    /*
     * Every drive asked holds the same version, k copies of it, and it is
     * inline: no newer version can exist (it would be on one of them), and
     * losing copies (a wiped drive) makes no older one look newer. "Not
     * found" from the drives asked is no such proof: a version that lost
     * copies to a drive formatted back may be on k of the others, so a miss
     * asks them all.
     */
    if (best >= 0 && agreed == asked && agreed >= metas[best].k && metas[best].is_inline) {
        for (j = 0; j < set->n; j++)
            if (!mask[j])
                rcs[j] = -ERR_OFFLINE; /* not asked: nothing to heal there as far as we know */
        return best;
    }
    /* else the other drives too, and the full rules */
    {
        int rest[OBJ_MAX_SET];

        for (j = 0; j < set->n; j++)
            mask[j] = !mask[j];
        run_meta_read(set, mask, &a, rest);
        for (j = 0; j < set->n; j++)
            if (mask[j])
                rcs[j] = rest[j];
    }
    return read_result(set, bucket, metas, rcs, agree);
}

/* True if `etag` (hex, no quotes) is in the If-Match list ("*", quoted or bare ETags). */
static bool
etag_matches(struct slice list, const char *etag)
{
    struct slice rest = list, one;

    while (rest.ptr) {
        rest = slice_split(rest, ',', &one);
        one = slice_trim(one);
        if (one.len >= 2 && one.ptr[0] == '"' && one.ptr[one.len - 1] == '"')
            one = slice_make(one.ptr + 1, one.len - 2);
        if (slice_eq_cstr(one, "*") || slice_eq_cstr(one, etag))
            return true;
    }
    return false;
}

int
obj_cond_check(const struct obj_cond *c, const char *etag)
{
    if (!c)
        return 0;
    if (c->if_none_match && etag)
        return -ERR_PRECONDITION_FAILED;
    if (c->if_match.ptr) {
        if (!etag)
            return -ERR_KEY_NOT_FOUND;
        if (!etag_matches(c->if_match, etag))
            return -ERR_PRECONDITION_FAILED;
    }
    return 0;
}

int
object__check_cond(struct eset *set, const char *bucket, const char *key,
                   const struct obj_cond *cond)
{
    struct obj_meta metas[OBJ_MAX_SET];
    int rcs[OBJ_MAX_SET], best, rc;
    bool agree[OBJ_MAX_SET];
    unsigned j;

    for (j = 0; j < OBJ_MAX_SET; j++)
        objmeta_init(&metas[j]);
    best = object__read_metas(set, bucket, key, metas, rcs, agree);
    if (best >= 0)
        rc = obj_cond_check(cond, metas[best].etag);
    else if (best == -ERR_KEY_NOT_FOUND || best == -ERR_NOT_FOUND)
        rc = obj_cond_check(cond, NULL);
    else
        rc = best;
    for (j = 0; j < OBJ_MAX_SET; j++)
        objmeta_release(&metas[j]);
    return rc;
}

unsigned
object__write_quorum(unsigned k, unsigned m)
{
    return k == m ? k + 1 : k;
}

unsigned
object__delete_quorum(unsigned n)
{
    return n / 2 + 1;
}

unsigned
object__count_rc(const int *rcs, unsigned n, int want)
{
    unsigned j, c = 0;

    for (j = 0; j < n; j++)
        if (want == 0 ? rcs[j] >= 0 : rcs[j] == want)
            c++;
    return c;
}
