/*
 * tests/unit/util/test_reqctx.c: the request context's thread scope and
 * deadlines (util/reqctx.h).
 */
#include "util/base.h"

#include <pthread.h>

#include "harness.h"
#include "util/clock.h"
#include "util/reqctx.h"

static void *
other_thread(void *arg)
{
    *(const struct reqctx **)arg = reqctx_current();
    return NULL;
}

TEST(reqctx_scopes_nest_and_stay_on_their_thread)
{
    struct reqctx a = { .id = "A" }, b = { .id = "B" };
    const struct reqctx *pa, *pb, *seen = &a;
    pthread_t t;

    ASSERT(reqctx_current() == NULL);
    pa = reqctx_enter(&a);
    ASSERT(pa == NULL);
    ASSERT(reqctx_current() == &a);
    pb = reqctx_enter(&b);
    ASSERT(pb == &a);
    ASSERT(reqctx_current() == &b);
    ASSERT_EQ(pthread_create(&t, NULL, other_thread, &seen), 0);
    pthread_join(t, NULL);
    ASSERT(seen == NULL); /* another thread has its own */
    reqctx_leave(pb);
    ASSERT(reqctx_current() == &a);
    reqctx_leave(pa);
    ASSERT(reqctx_current() == NULL);
}

TEST(reqctx_deadline_is_the_earlier_of_the_two)
{
    int64_t now = clock_mono_ns();
    struct reqctx soon = { .deadline_ns = now + 1000000 }, late = { .deadline_ns = now + 60e9 };
    struct reqctx none = { 0 }, past = { .deadline_ns = now - 1 };

    ASSERT_EQ(reqctx_deadline(&soon, 10e9), soon.deadline_ns);
    ASSERT(reqctx_deadline(&late, 10e9) <= clock_mono_ns() + (int64_t)10e9);
    ASSERT(reqctx_deadline(&late, 10e9) >= now + (int64_t)10e9);
    ASSERT(reqctx_deadline(&none, 5e9) >= now + (int64_t)5e9);
    ASSERT(reqctx_deadline(NULL, 5e9) >= now + (int64_t)5e9);
    ASSERT(!reqctx_is_expired(&none));
    ASSERT(!reqctx_is_expired(NULL));
    ASSERT(!reqctx_is_expired(&late));
    ASSERT(reqctx_is_expired(&past));
}
