/*
 * tests/unit/object/test_put_pipeline.c: the streaming PUT's pipeline under
 * load (object/put.c): many PUTs at once on sets of 4, 6 and 16 drives, of
 * every size class, with the body's length told or not, in pieces of random
 * sizes, some aborted part way: every finished PUT reads back and its ETag
 * is its MD5 (the hashing workers batch blocks of several PUTs, a PUT's
 * blocks chained in order behind each other), and no abort leaves a job
 * running; then appends
 * failing on two of four drives after 1 to 6 blocks, followed by an abort,
 * a finish, or a body of unknown length. Run under TSan and ASan too.
 */
#include "util/base.h"

#include <pthread.h>

#include "harness.h"
#include "object_test.h"
#include "object/objlayer.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define PMAX 16

struct pfix {
    struct objlayer *ol;
    unsigned n;
    struct drive *drives[PMAX];
};

static void
pfix_open(struct pfix *f, unsigned n)
{
    memset(f, 0, sizeof(*f));
    f->n = n;
    object_test_open_faulty(&f->ol, f->drives, n);
    ASSERT_OK(objlayer_bucket_make(f->ol, NULL, "b"));
}

struct worker {
    struct objlayer *ol;
    unsigned id, iters;
    int fails;
};

static uint32_t
rnd(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    uint32_t s = w->id * 7919 + 1;
    unsigned it;

    for (it = 0; it < w->iters; it++) {
        static const size_t sizes[] = { 0,
                                        1,
                                        4097,
                                        128 * 1024,
                                        128 * 1024 + 1,
                                        1024 * 1024 - 1,
                                        1024 * 1024,
                                        1024 * 1024 + 1,
                                        2 * 1024 * 1024 + 3,
                                        3 * 1024 * 1024,
                                        4 * 1024 * 1024 + 77 };
        size_t n = sizes[rnd(&s) % ARRAY_SIZE(sizes)], off, piece = 1 + rnd(&s) % 300000;
        bool unknown = rnd(&s) & 1, abort_it = rnd(&s) % 4 == 0;
        size_t abort_at = n ? rnd(&s) % (n + 1) : 0;
        struct obj_put_opts opts = { .size = unknown ? -1 : (int64_t)n };
        uint8_t *data = xmalloc(n + 1);
        struct obj_put *p;
        char key[32];
        int rc;

        object_test_fill(data, n, w->id * 1000 + it);
        snprintf(key, sizeof(key), "w%u-%u", w->id, it);
        rc = objlayer_put_begin(w->ol, NULL, "b", key, &opts, &p);
        if (rc < 0) {
            w->fails++;
            free(data);
            continue;
        }
        for (off = 0; off < n; off += piece) {
            if (abort_it && off >= abort_at)
                break;
            rc = obj_put_write(p, data + off, MIN(piece, n - off));
            if (rc < 0)
                break;
        }
        if (abort_it || rc < 0) {
            if (rc < 0)
                w->fails++; /* no write may fail here */
            obj_put_abort(p);
        } else {
            struct obj_info info;
            char md5[33];

            obj_info_init(&info);
            rc = obj_put_finish(p, &info);
            if (rc == 0) {
                object_test_md5_hex(data, n, md5);
                if (strcmp(info.etag, md5) != 0)
                    harness_fail(__FILE__, __LINE__, "etag mismatch %s n=%zu unknown=%d", key, n,
                                 unknown);
                if (object_test_check_read(w->ol, key, data, n) != 0)
                    harness_fail(__FILE__, __LINE__, "read back differs %s n=%zu", key, n);
            } else {
                w->fails++;
            }
            obj_info_release(&info);
        }
        free(data);
    }
    return NULL;
}

static void
stress(unsigned ndrives, unsigned nthreads, unsigned iters)
{
    struct pfix f;
    struct worker w[32];
    pthread_t t[32];
    unsigned i;

    pfix_open(&f, ndrives);
    for (i = 0; i < nthreads; i++) {
        w[i] = (struct worker){ .ol = f.ol, .id = i, .iters = iters };
        ASSERT_EQ(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (i = 0; i < nthreads; i++) {
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
        ASSERT_EQ(w[i].fails, 0);
    }
    objlayer_close(f.ol);
}

TEST(object_put_pipeline_many_at_once_4_drives)
{
    stress(4, 12, 12);
}

TEST(object_put_pipeline_many_at_once_6_drives)
{
    stress(6, 8, 8);
}

TEST(object_put_pipeline_many_at_once_16_drives)
{
    stress(16, 6, 6);
}

/* Appends fail on two of four drives mid-stream: quorum lost at some block, then abort/finish. */
TEST(object_put_pipeline_quorum_lost_midway)
{
    unsigned after;

    for (after = 1; after <= 6; after++) {
        unsigned mode;

        for (mode = 0; mode < 3; mode++) {
            struct pfix f;
            size_t n = 6 * 1024 * 1024 + 11, off;
            uint8_t *data = xmalloc(n);
            struct obj_put_opts opts = { .size = mode == 2 ? -1 : (int64_t)n };
            struct obj_put *p;
            int rc = 0;

            pfix_open(&f, 4);
            object_test_fill(data, n, after);
            drive_faulty_fail_after(f.drives[0], DRIVE_FAULTY_OP_SHARD_APPEND, after, -ERR_IO);
            drive_faulty_fail_after(f.drives[2], DRIVE_FAULTY_OP_SHARD_APPEND, after, -ERR_IO);
            ASSERT_OK(objlayer_put_begin(f.ol, NULL, "b", "k", &opts, &p));
            for (off = 0; off < n; off += 65536 + 7) {
                rc = obj_put_write(p, data + off, MIN(65536 + 7, n - off));
                if (rc < 0)
                    break;
            }
            if (mode == 0 && rc < 0)
                obj_put_abort(p);
            else
                rc = obj_put_finish(p, NULL);
            ASSERT(rc < 0);
            drive_faulty_clear(f.drives[0]);
            drive_faulty_clear(f.drives[2]);
            free(data);
            objlayer_close(f.ol);
        }
    }
}
