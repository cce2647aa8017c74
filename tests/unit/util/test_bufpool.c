/*
 * tests/unit/util/test_bufpool.c: the recycling pool of large buffers:
 * a returned buffer is handed out again for a fitting size only (len to
 * 2 * len), the bound on kept bytes holds, and buffers stay whole under
 * threads taking and returning them at once.
 */
#include "util/base.h"

#include <pthread.h>

#include "harness.h"
#include "util/bufpool.h"

TEST(bufpool_reuses_fitting_buffers)
{
    struct bufpool *p = bufpool_new(0, 1 << 20);
    struct bufpool_stats st;
    size_t cap, cap2;
    void *a = bufpool_get(p, 1000, &cap), *b;

    ASSERT_EQ(cap, 1000);
    memset(a, 0xab, cap);
    bufpool_put(p, a, cap);
    b = bufpool_get(p, 600, &cap2); /* 1000 <= 2 * 600: the same buffer */
    ASSERT(b == a);
    ASSERT_EQ(cap2, 1000);
    bufpool_put(p, b, cap2);
    b = bufpool_get(p, 400, &cap2); /* 1000 > 2 * 400: too big, a new one */
    ASSERT(b != a);
    ASSERT_EQ(cap2, 400);
    bufpool_put(p, b, cap2);
    b = bufpool_get(p, 1001, &cap2); /* too small: a new one */
    ASSERT(b != a);
    ASSERT_EQ(cap2, 1001);
    free(b);
    bufpool_get_stats(p, &st);
    ASSERT_EQ(st.reused, 1);
    ASSERT_EQ(st.allocated, 3);
    ASSERT_EQ(st.held, 2);
    ASSERT_EQ(st.held_bytes, 1400);
    bufpool_put(p, NULL, 0); /* ignored */
    bufpool_free(p);
}

TEST(bufpool_keeps_at_most_its_bound)
{
    struct bufpool *p = bufpool_new(0, 3000);
    struct bufpool_stats st;
    void *bufs[4];
    size_t caps[4];
    unsigned i;

    for (i = 0; i < 4; i++)
        bufs[i] = bufpool_get(p, 1000, &caps[i]);
    for (i = 0; i < 4; i++)
        bufpool_put(p, bufs[i], caps[i]); /* the fourth is freed */
    bufpool_get_stats(p, &st);
    ASSERT_EQ(st.held, 3);
    ASSERT_EQ(st.held_bytes, 3000);
    bufpool_free(p);

    p = bufpool_new(0, 0); /* keeps nothing */
    bufs[0] = bufpool_get(p, 10, &caps[0]);
    bufpool_put(p, bufs[0], caps[0]);
    bufpool_get_stats(p, &st);
    ASSERT_EQ(st.held, 0);
    bufpool_free(p);

    p = bufpool_new(4096, 1 << 20); /* keeps nothing below 4096 bytes */
    bufs[0] = bufpool_get(p, 4095, &caps[0]);
    bufs[1] = bufpool_get(p, 4096, &caps[1]);
    bufpool_put(p, bufs[0], caps[0]);
    bufpool_put(p, bufs[1], caps[1]);
    bufpool_get_stats(p, &st);
    ASSERT_EQ(st.held, 1);
    ASSERT_EQ(st.held_bytes, 4096);
    ASSERT_EQ(st.allocated, 1); /* the small one is not counted */
    bufpool_free(p);
}

struct churn {
    struct bufpool *p;
    unsigned seed;
    int bad;
};

/* Takes buffers, fills them with its own byte, checks nobody else wrote them, returns them. */
static void *
churn_run(void *arg)
{
    struct churn *c = arg;
    unsigned i, j;

    for (i = 0; i < 2000; i++) {
        size_t len = 4096 + (size_t)((c->seed * 7919u + i * 104729u) % 8192), cap;
        unsigned char *b = bufpool_get(c->p, len, &cap);

        memset(b, (int)c->seed, cap);
        for (j = 0; j < cap; j += 512)
            if (b[j] != (unsigned char)c->seed)
                c->bad++;
        bufpool_put(c->p, b, cap);
    }
    return NULL;
}

TEST(bufpool_threads)
{
    struct bufpool *p = bufpool_new(0, 64 * 8192);
    struct churn c[4];
    pthread_t t[4];
    struct bufpool_stats st;
    unsigned i;

    for (i = 0; i < 4; i++) {
        c[i] = (struct churn){ .p = p, .seed = i + 1 };
        pthread_create(&t[i], NULL, churn_run, &c[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(c[i].bad, 0);
    }
    bufpool_get_stats(p, &st);
    ASSERT_EQ(st.reused + st.allocated, 8000);
    ASSERT(st.reused > 0);
    ASSERT(st.held_bytes <= 64 * 8192);
    bufpool_free(p);
}
