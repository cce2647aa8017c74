/* tests/unit/http/test_http.c: the request arena and query parsing of http/. */
#include "util/base.h"

#include "harness.h"
#include "http/http.h"
#include "util/arena.h"

static void
count_cleanup(void *arg)
{
    int *order = arg;

    *order = order[1]++;
}

TEST(http_arena_alloc_and_defer)
{
    struct arena *a = arena_new(64);
    int first[2] = { -1, 0 }, second[2] = { -1, 0 }, cancelled[2] = { -1, 0 };
    void *h;
    char *big, *s;
    size_t i;

    for (i = 0; i < 1000; i++) {
        uint64_t *p = arena_alloc(a, sizeof(*p) * (i % 7 + 1));

        ASSERT_EQ((uintptr_t)p % 16, 0);
        *p = i;
    }
    big = arena_alloc(a, 1 << 20);
    memset(big, 'x', 1 << 20);
    s = arena_printf(a, "%s-%d", "id", 42);
    ASSERT_STREQ(s, "id-42");
    ASSERT_STREQ(arena_slicedup(a, SLICE_LIT("ab")), "ab");
    ASSERT(arena_bytes(a) > (1 << 20));
    /* cleanups run last-registered first; a cancelled one does not run */
    arena_defer(a, count_cleanup, first);
    h = arena_defer(a, count_cleanup, cancelled);
    arena_defer(a, count_cleanup, second);
    arena_cancel(a, h);
    second[1] = 0;
    first[1] = 1;
    arena_free(a);
    ASSERT_EQ(second[0], 0);
    ASSERT_EQ(first[0], 1);
    ASSERT_EQ(cancelled[0], -1);
}

TEST(http_parse_query_pairs)
{
    struct arena *a = arena_new(0);
    struct http_header *p;
    size_t n;

    ASSERT(
        http_parse_query(a, SLICE_LIT("list-type=2&prefix=a%2Fb&&delimiter=%2F&acl&x="), &p, &n));
    ASSERT_EQ(n, 5);
    ASSERT(slice_eq_cstr(p[0].name, "list-type") && slice_eq_cstr(p[0].value, "2"));
    ASSERT(slice_eq_cstr(p[1].value, "a/b"));
    ASSERT(slice_eq_cstr(p[2].name, "delimiter") && slice_eq_cstr(p[2].value, "/"));
    ASSERT(slice_eq_cstr(p[3].name, "acl") && p[3].value.len == 0);
    ASSERT(slice_eq_cstr(p[4].name, "x") && p[4].value.len == 0);
    ASSERT(!http_parse_query(a, SLICE_LIT("a=%G1"), &p, &n));
    ASSERT(http_parse_query(a, SLICE_LIT(""), &p, &n));
    ASSERT_EQ(n, 0);
    ASSERT(http_parse_query(a, SLICE_LIT("k=a+b"), &p, &n));
    ASSERT(slice_eq_cstr(p[0].value, "a+b")); /* '+' stays '+' (SigV4 clients encode spaces) */
    arena_free(a);
}
