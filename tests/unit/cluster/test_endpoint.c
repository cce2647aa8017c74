/* tests/unit/cluster/test_endpoint.c: ellipsis expansion of endpoint arguments. */
#include "util/base.h"

#include "cluster/endpoint.h"
#include "harness.h"
#include "util/buf.h"

/* Expands `arg` and checks the result against the NULL-terminated `want`. */
static void
expect(const char *arg, const char *const *want)
{
    struct endpoint_list l = ENDPOINT_LIST_INIT;
    struct buf msg = BUF_INIT;
    size_t i;

    ASSERT_OK(endpoint_expand(arg, &l, &msg));
    ASSERT_EQ(msg.len, 0);
    for (i = 0; want[i]; i++) {
        ASSERT(i < l.n);
        ASSERT_STREQ(l.items[i], want[i]);
    }
    ASSERT_EQ(l.n, i);
    endpoint_list_release(&l);
    buf_release(&msg);
}

/* Expects -ERR_INVAL with a message containing `words`; the list stays untouched. */
static void
expect_error(const char *arg, const char *words)
{
    struct endpoint_list l = ENDPOINT_LIST_INIT;
    struct buf msg = BUF_INIT;

    ASSERT_EQ(endpoint_expand(arg, &l, &msg), -ERR_INVAL);
    ASSERT_EQ(l.n, 0);
    if (!strstr(msg.ptr, words))
        harness_fail(__FILE__, __LINE__, "'%s': message '%s' lacks '%s'", arg, msg.ptr, words);
    buf_release(&msg);
}

TEST(endpoint_single_range)
{
    static const char *const want[] = { "/srv/d1", "/srv/d2", "/srv/d3", "/srv/d4", NULL };
    static const char *const plain[] = { "/srv/data", NULL };
    static const char *const one[] = { "/d7x", NULL };

    expect("/srv/d{1...4}", want);
    expect("/srv/data", plain);
    expect("/d{7...7}x", one);
    ASSERT(endpoint_has_ellipsis("/srv/d{1...4}"));
    ASSERT(!endpoint_has_ellipsis("/srv/d{1..4}"));
    ASSERT(!endpoint_has_ellipsis("/srv/d{1...4"));
}

TEST(endpoint_cartesian_leftmost_fastest)
{
    static const char *const want[] = {
        "http://node1:9000/data1", "http://node2:9000/data1", "http://node3:9000/data1",
        "http://node4:9000/data1", "http://node1:9000/data2", "http://node2:9000/data2",
        "http://node3:9000/data2", "http://node4:9000/data2", NULL,
    };
    static const char *const three[] = { "a1b1c1", "a2b1c1", "a1b2c1", "a2b2c1", "a1b1c2",
                                         "a2b1c2", "a1b2c2", "a2b2c2", NULL };

    expect("http://node{1...4}:9000/data{1...2}", want);
    expect("a{1...2}b{1...2}c{1...2}", three);
}

TEST(endpoint_zero_padding)
{
    struct endpoint_list l = ENDPOINT_LIST_INIT;
    static const char *const wide[] = { "d098", "d099", "d100", NULL };
    static const char *const nopad[] = { "d9", "d10", NULL };

    ASSERT_OK(endpoint_expand("/mnt/d{01...16}", &l, NULL));
    ASSERT_EQ(l.n, 16);
    ASSERT_STREQ(l.items[0], "/mnt/d01");
    ASSERT_STREQ(l.items[8], "/mnt/d09");
    ASSERT_STREQ(l.items[15], "/mnt/d16");
    endpoint_list_release(&l);
    expect("d{098...100}", wide);
    expect("d{9...10}", nopad);
}

TEST(endpoint_literal_braces)
{
    static const char *const two_dots[] = { "/srv/d{1..4}", NULL };
    static const char *const mixed[] = { "/{a,b}/d1", "/{a,b}/d2", NULL };

    expect("/srv/d{1..4}", two_dots);
    expect("/{a,b}/d{1...2}", mixed);
}

TEST(endpoint_errors)
{
    expect_error("/srv/d{4...1}", "ascending");
    expect_error("/srv/d{1...4", "'{' without '}'");
    expect_error("/srv/d1...4}", "'}' without '{'");
    expect_error("/srv/d{1{...}4}", "nested");
    expect_error("/srv/d{a...d}", "decimal");
    expect_error("/srv/d{...4}", "decimal");
    expect_error("/srv/d{1...}", "decimal");
    expect_error("/srv/d{-1...4}", "decimal");
    expect_error("/srv/d{0x1...0x4}", "decimal");
    expect_error("/srv/d{1....4}", "decimal");
    expect_error("/srv/d{1...9999999999}", "decimal");
    expect_error("/srv/d{1...1025}", "1024");
    expect_error("http://n{1...64}/d{1...17}", "1024");
    expect_error("", "empty");
}

TEST(endpoint_limit_boundary)
{
    struct endpoint_list l = ENDPOINT_LIST_INIT;

    ASSERT_OK(endpoint_expand("http://n{1...64}/d{1...16}", &l, NULL)); /* exactly 1024 */
    ASSERT_EQ(l.n, 1024);
    ASSERT_STREQ(l.items[1023], "http://n64/d16");
    endpoint_list_release(&l);
}

TEST(endpoint_expand_all_and_duplicates)
{
    static char a1[] = "http://a/d{1...2}", a2[] = "http://b/d{1...2}";
    static char d1[] = "/d{1...3}", d2[] = "/d{3...4}", b1[] = "/d1", b2[] = "/d{2...1}";
    char *args[] = { a1, a2 }, *dups[] = { d1, d2 }, *bad[] = { b1, b2 };
    struct endpoint_list l = ENDPOINT_LIST_INIT;
    struct buf msg = BUF_INIT;

    ASSERT_OK(endpoint_expand_all(2, args, &l, &msg));
    ASSERT_EQ(l.n, 4);
    ASSERT_STREQ(l.items[0], "http://a/d1");
    ASSERT_STREQ(l.items[3], "http://b/d2");
    ASSERT_EQ(endpoint_expand_all(2, dups, &l, &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "'/d3' is given more than once"));
    ASSERT_EQ(l.n, 4);
    ASSERT_EQ(endpoint_expand_all(2, bad, &l, NULL), -ERR_INVAL);
    ASSERT_EQ(l.n, 4);
    endpoint_list_release(&l);
    buf_release(&msg);
}
