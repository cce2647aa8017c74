/*
 * tests/unit/cluster/test_layout.c: the cluster layout: pools with and
 * without ellipses, drive order (round robin over nodes), set sizes and
 * parity, spread warnings, digest, diff, the JSON form and its parser, and
 * local-node detection.
 */
#include "util/base.h"

#include "cluster/layout.h"
#include "harness.h"

#include <arpa/inet.h>
#include <ifaddrs.h>

#include "util/buf.h"

#define MAX_ARGS 64

/* Splits `line` at spaces into arguments and builds its layout with `opts`. */
static int
build(const char *line, const struct layout_opts *opts, struct layout **out, struct buf *msg)
{
    char *copy = xstrdup(line), *argv[MAX_ARGS], *save = NULL, *tok;
    int argc = 0, rc;

    for (tok = strtok_r(copy, " ", &save); tok && argc < MAX_ARGS; tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    rc = layout_from_args(argc, argv, opts, out, msg);
    free(copy);
    return rc;
}

static struct layout *
build_ok(const char *line, const struct layout_opts *opts)
{
    struct layout *l = NULL;
    struct buf msg = BUF_INIT;

    if (build(line, opts, &l, &msg) < 0)
        harness_fail(__FILE__, __LINE__, "'%s': %s", line, msg.ptr);
    buf_release(&msg);
    return l;
}

/* Expects -ERR_INVAL with a message holding every one of the NULL-terminated `words`. */
static void
expect_build_error(const char *line, const struct layout_opts *opts, const char *const *words)
{
    struct layout *l = NULL;
    struct buf msg = BUF_INIT;
    size_t i;

    ASSERT_EQ(build(line, opts, &l, &msg), -ERR_INVAL);
    ASSERT(l == NULL);
    for (i = 0; words[i]; i++)
        if (!strstr(msg.ptr, words[i]))
            harness_fail(__FILE__, __LINE__, "'%s': message '%s' lacks '%s'", line, msg.ptr,
                         words[i]);
    buf_release(&msg);
}

/* An explicit list of `nodes` nodes 127.0.0.N:9000 with `per` drives each, grouped by node. */
static void
explicit_list(unsigned nodes, unsigned per, struct buf *out)
{
    unsigned n, d;

    for (n = 1; n <= nodes; n++)
        for (d = 1; d <= per; d++)
            buf_addf(out, "%shttp://127.0.0.%u:9000/tmp/c/n%u/d%u", out->len ? " " : "", n, n, d);
}

static void
expect_texts(const struct layout *l, size_t pool, const char *const *want)
{
    const struct endpoint *e;
    size_t n, i;

    e = layout_pool_drives(l, pool, &n);
    for (i = 0; want[i]; i++) {
        ASSERT(i < n);
        ASSERT_STREQ(e[i].text, want[i]);
    }
    ASSERT_EQ(n, i);
}

TEST(layout_pools_with_ellipses)
{
    struct layout *l =
        build_ok("http://n{1...4}:9000/srv/d{1...2} http://n{5...8}:9000/srv/d{1...4}", NULL);
    static const char *const pool0[] = {
        "http://n1:9000/srv/d1", "http://n2:9000/srv/d1", "http://n3:9000/srv/d1",
        "http://n4:9000/srv/d1", "http://n1:9000/srv/d2", "http://n2:9000/srv/d2",
        "http://n3:9000/srv/d2", "http://n4:9000/srv/d2", NULL,
    };
    const struct endpoint *e;
    size_t n;

    ASSERT(layout_is_cluster(l));
    ASSERT_EQ(layout_pool_count(l), 2);
    expect_texts(l, 0, pool0);
    ASSERT_EQ(layout_set_size(l, 0), 8);
    ASSERT_EQ(layout_parity(l, 0), 4);
    e = layout_pool_drives(l, 1, &n);
    ASSERT_EQ(n, 16);
    ASSERT_STREQ(e[0].text, "http://n5:9000/srv/d1");
    ASSERT_STREQ(e[4].text, "http://n5:9000/srv/d2");
    ASSERT_EQ(e[4].node, 4);
    ASSERT_EQ(layout_set_size(l, 1), 16);
    ASSERT_EQ(layout_node_count(l), 8);
    ASSERT_STREQ(layout_node_name(l, 0), "n1:9000");
    ASSERT_STREQ(layout_node_name(l, 7), "n8:9000");
    ASSERT_EQ(layout_local_node(l), -1);
    layout_free(l);
}

/* An argument listing endpoints separated by spaces is a pool (explicit lists of several pools). */
TEST(layout_pools_as_lists_in_one_argument)
{
    static char a0[] = "http://127.0.0.1:9000/c/n1/d1 http://127.0.0.1:9000/c/n1/d2 "
                       "http://127.0.0.2:9000/c/n2/d1 http://127.0.0.2:9000/c/n2/d2",
                a1[] = "  http://127.0.0.1:9000/c/n1/d{3...4}\thttp://127.0.0.2:9000/c/n2/d3 "
                       "http://127.0.0.2:9000/c/n2/d4 ",
                plain[] = "http://127.0.0.3:9000/c/n3/d1", disk[] = "/srv/my disk";
    char *argv[2] = { a0, a1 }, *mixed[2] = { a0, plain }, *folders[1] = { disk };
    struct layout *l = NULL;
    struct buf msg = BUF_INIT;
    const struct endpoint *e;
    size_t n;

    ASSERT_OK(layout_from_args(2, argv, NULL, &l, &msg));
    ASSERT_EQ(layout_pool_count(l), 2);
    e = layout_pool_drives(l, 0, &n);
    ASSERT_EQ(n, 4);
    ASSERT_STREQ(e[0].text, "http://127.0.0.1:9000/c/n1/d1");
    ASSERT_STREQ(e[1].text, "http://127.0.0.2:9000/c/n2/d1"); /* round robin over the nodes */
    e = layout_pool_drives(l, 1, &n);
    ASSERT_EQ(n, 4);
    ASSERT_STREQ(e[0].text, "http://127.0.0.1:9000/c/n1/d3");
    ASSERT_STREQ(e[3].text, "http://127.0.0.2:9000/c/n2/d4");
    ASSERT_EQ(layout_node_count(l), 2);
    layout_free(l);
    l = NULL;
    ASSERT_EQ(layout_from_args(2, mixed, NULL, &l, &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "cannot be mixed") != NULL);
    ASSERT(l == NULL);
    buf_clear(&msg);
    /* a folder name keeps its space: one drive, so too few for a set */
    ASSERT_EQ(layout_from_args(1, folders, NULL, &l, &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "1 drives") != NULL);
    buf_release(&msg);
}

/* Folder mode is one pool whatever the ellipses: a single-node deployment's one set of 8. */
TEST(layout_folders_are_one_pool)
{
    struct layout *l = build_ok("/srv/d{1...4} /srv/e{1...4}", NULL);
    const struct endpoint *e;
    size_t n;

    ASSERT(!layout_is_cluster(l));
    ASSERT_EQ(layout_pool_count(l), 1);
    e = layout_pool_drives(l, 0, &n);
    ASSERT_EQ(n, 8);
    ASSERT_STREQ(e[4].path, "/srv/e1");
    ASSERT_EQ(layout_set_size(l, 0), 8);
    layout_free(l);
    l = build_ok("/srv/d{1...4} /srv/x /srv/y", NULL); /* with and without ellipses */
    ASSERT_EQ(layout_pool_count(l), 1);
    ASSERT_EQ(layout_set_size(l, 0), 6);
    layout_free(l);
}

/* For an ellipsis argument the round-robin rule gives the expansion order itself. */
TEST(layout_ellipsis_order_is_expansion_order)
{
    static const char *const args[] = { "http://n{1...4}:9000/srv/d{1...3}",
                                        "http://10.0.0.{1...2}:{9001...9002}/d{1...2}/x{1...2}",
                                        "http://h1:9000/d{1...4}" };
    size_t a, i, n;

    for (a = 0; a < ARRAY_SIZE(args); a++) {
        struct endpoint_list list = ENDPOINT_LIST_INIT;
        struct layout *l = build_ok(args[a], NULL);
        const struct endpoint *e = layout_pool_drives(l, 0, &n);

        ASSERT_OK(endpoint_expand(args[a], &list, NULL));
        ASSERT_EQ(n, list.n);
        for (i = 0; i < n; i++)
            ASSERT_STREQ(e[i].text, list.items[i]);
        endpoint_list_release(&list);
        layout_free(l);
    }
}

TEST(layout_explicit_list_interleaved_by_node)
{
    struct buf args = BUF_INIT;
    struct layout *l;
    static const char *const want[] = {
        "http://127.0.0.1:9000/tmp/c/n1/d1",
        "http://127.0.0.2:9000/tmp/c/n2/d1",
        "http://127.0.0.3:9000/tmp/c/n3/d1",
        "http://127.0.0.4:9000/tmp/c/n4/d1",
        "http://127.0.0.1:9000/tmp/c/n1/d2",
        "http://127.0.0.2:9000/tmp/c/n2/d2",
        "http://127.0.0.3:9000/tmp/c/n3/d2",
        "http://127.0.0.4:9000/tmp/c/n4/d2",
        NULL,
    };
    /* Uneven: n1 has three drives, n2 one; nodes in order of first appearance. */
    static const char *const uneven[] = { "http://b:9000/x", "http://a:9000/a", "http://b:9000/y",
                                          "http://a:9000/b", "http://a:9000/c", NULL };

    explicit_list(4, 2, &args);
    l = build_ok(args.ptr, NULL);
    ASSERT_EQ(layout_pool_count(l), 1);
    expect_texts(l, 0, want);
    ASSERT_EQ(layout_set_size(l, 0), 8);
    ASSERT_EQ(layout_node_count(l), 4);
    ASSERT_STREQ(layout_node_name(l, 3), "127.0.0.4:9000");
    layout_free(l);

    l = build_ok("http://b:9000/x http://a:9000/a http://a:9000/b http://b:9000/y "
                 "http://a:9000/c",
                 NULL);
    expect_texts(l, 0, uneven);
    ASSERT_STREQ(layout_node_name(l, 0), "b:9000");
    layout_free(l);
    buf_release(&args);
}

TEST(layout_folder_mode)
{
    struct layout *l = build_ok("/srv/d{1...4}", NULL);
    static const char *const given[] = { "/b", "/a", "/d", "/c", NULL };
    const struct endpoint *e;
    size_t n;

    ASSERT(!layout_is_cluster(l));
    ASSERT_EQ(layout_pool_count(l), 1);
    ASSERT_EQ(layout_node_count(l), 1);
    ASSERT_STREQ(layout_node_name(l, 0), "local");
    ASSERT_EQ(layout_set_size(l, 0), 4);
    ASSERT_EQ(layout_parity(l, 0), 2);
    e = layout_pool_drives(l, 0, &n);
    ASSERT_EQ(n, 4);
    ASSERT_STREQ(e[3].path, "/srv/d4");
    layout_free(l);

    l = build_ok("/b /a/ /d //c", NULL);
    expect_texts(l, 0, given);
    layout_free(l);

    l = build_ok("/srv/a{1...4} /srv/b{1...6}",
                 NULL); /* folders: one pool, whatever the ellipses */
    ASSERT_EQ(layout_pool_count(l), 1);
    ASSERT_EQ(layout_set_size(l, 0), 10);
    layout_free(l);
}

TEST(layout_errors)
{
    static const struct layout_opts four = { .set_size = 4 }, par = { .parity = 3 },
                                    port = { .default_port = 9000 };

    expect_build_error("", NULL, (const char *const[]){ "no drive", NULL });
    expect_build_error("http://n{1...4}:9000/d{1...2} http://n5:9000/d1", NULL,
                       (const char *const[]){ "ellipses", "'http://n{1...4}:9000/d{1...2}'",
                                              "'http://n5:9000/d1'", NULL });
    expect_build_error(
        "http://n1:9000/d1 /srv/d2", NULL,
        (const char *const[]){ "cannot be mixed", "'http://n1:9000/d1'", "'/srv/d2'", NULL });
    expect_build_error("http://n1:9000/d1 https://n2:9000/d1", NULL,
                       (const char *const[]){ "https://", "'https://n2:9000/d1'", NULL });
    expect_build_error("http://n1:9000/srv/d1 http://n2:9000/d1 HTTP://N1:9000//srv/d1/", NULL,
                       (const char *const[]){ "given twice", "'http://n1:9000/srv/d1'",
                                              "'HTTP://N1:9000//srv/d1/'", NULL });
    expect_build_error("http://n{1...2}:9000/d{1...2} http://n{1...2}:9000/d{2...3}", NULL,
                       (const char *const[]){ "'http://n1:9000/d2' is given twice", NULL });
    expect_build_error("http://n{1...2}/d1", NULL,
                       (const char *const[]){ "'http://n1/d1'", "no port",
                                              "(from the argument 'http://n{1...2}/d1')", NULL });
    expect_build_error("http:/srv/d{1...4}", NULL,
                       (const char *const[]){ "'http:/srv/d1'", "http://", NULL });
    expect_build_error("/srv/d1", NULL,
                       (const char *const[]){ "pool 1 has 1 drives", "2 to 16", NULL });
    expect_build_error("/srv/d{1...17}", NULL, (const char *const[]){ "17 drives", NULL });
    expect_build_error("http://n{1...6}:9000/d1", &four,
                       (const char *const[]){ "6 drives", "sets of 4", NULL });
    expect_build_error("/d{1...4}", &par, (const char *const[]){ "parity 3", NULL });
    expect_build_error("/d{1...4} /e{1...2000}", &port, (const char *const[]){ "1024", NULL });
}

TEST(layout_default_port)
{
    static const struct layout_opts port = { .default_port = 9100 };
    struct layout *l = build_ok("http://n{1...2}/d{1...2}", &port);

    ASSERT_STREQ(layout_node_name(l, 1), "n2:9100");
    layout_free(l);
}

/* Set size and parity for `nodes` x `per` drives, the list grouped by node (interleaved). */
static void
expect_geometry(unsigned nodes, unsigned per, unsigned set_size, unsigned parity)
{
    struct buf args = BUF_INIT;
    struct layout *l;

    explicit_list(nodes, per, &args);
    l = build_ok(args.ptr, NULL);
    if (layout_set_size(l, 0) != set_size || layout_parity(l, 0) != parity)
        harness_fail(__FILE__, __LINE__, "%ux%u: set size %u parity %u, expected %u and %u", nodes,
                     per, layout_set_size(l, 0), layout_parity(l, 0), set_size, parity);
    layout_free(l);
    buf_release(&args);
}

TEST(layout_set_sizes)
{
    expect_geometry(4, 2, 8, 4);
    expect_geometry(4, 4, 16, 4);
    expect_geometry(3, 2, 6, 3);
    expect_geometry(2, 2, 4, 2);
    expect_geometry(5, 1, 5, 2);
    expect_geometry(6, 1, 6, 3);
    expect_geometry(16, 1, 16, 4);
    expect_geometry(4, 3, 12, 4);
    expect_geometry(1, 4, 4, 2);
    expect_geometry(2, 1, 2, 1);
    expect_geometry(3, 1, 3, 1);
    /* Symmetry wins over size: 18 drives on 6 nodes take sets of 6, not 9 (2+1 drives per node). */
    expect_geometry(6, 3, 6, 3);
    /* 20 drives on 4 nodes: 4, not 10 or 5. */
    expect_geometry(4, 5, 4, 2);
    /* 32 drives on 2 nodes: 16. */
    expect_geometry(2, 16, 16, 4);
}

TEST(layout_set_size_fallback_and_overrides)
{
    static const struct layout_opts four = { .set_size = 4 }, p1 = { .parity = 1 },
                                    both = { .set_size = 2, .parity = 1 };
    struct layout *l;
    struct buf args = BUF_INIT;

    /* 5 drives on two nodes (3 + 2): no size is symmetric, the largest divisor is taken. */
    l = build_ok("http://a:1/1 http://a:1/2 http://a:1/3 http://b:1/1 http://b:1/2", NULL);
    ASSERT_EQ(layout_set_size(l, 0), 5);
    layout_free(l);

    explicit_list(4, 2, &args);
    l = build_ok(args.ptr, &four);
    ASSERT_EQ(layout_set_size(l, 0), 4);
    ASSERT_EQ(layout_parity(l, 0), 2);
    layout_free(l);
    l = build_ok(args.ptr, &p1);
    ASSERT_EQ(layout_set_size(l, 0), 8);
    ASSERT_EQ(layout_parity(l, 0), 1);
    layout_free(l);
    l = build_ok("http://h:1/d{1...4} http://h:1/e{1...6}", &both);
    ASSERT_EQ(layout_set_size(l, 0), 2);
    ASSERT_EQ(layout_set_size(l, 1), 2);
    ASSERT_EQ(layout_parity(l, 1), 1);
    layout_free(l);
    buf_release(&args);
}

TEST(layout_spread_warnings)
{
    static const struct layout_opts p1 = { .parity = 1 };
    struct buf args = BUF_INIT, w = BUF_INIT;
    struct layout *l;

    explicit_list(4, 2, &args); /* sets of 8, 2 drives per node, parity 4: fine */
    l = build_ok(args.ptr, NULL);
    ASSERT_EQ(layout_spread_warnings(l, &w), 0);
    ASSERT_EQ(w.len, 0);
    layout_free(l);

    l = build_ok(args.ptr, &p1); /* parity 1: every node holds 2 of the set */
    ASSERT_EQ(layout_spread_warnings(l, &w), 4);
    ASSERT(strstr(w.ptr, "pool 1: node 127.0.0.3:9000 holds up to 2 drives of 1 of its 1 "
                         "erasure sets, more than the parity 1"));
    layout_free(l);
    buf_clear(&w);

    /* 2 nodes x 8 drives: one set of 16, parity 4, 8 drives per node. */
    l = build_ok("http://n{1...2}:9000/d{1...8}", NULL);
    ASSERT_EQ(layout_spread_warnings(l, &w), 2);
    ASSERT(strstr(w.ptr, "node n1:9000 holds up to 8 drives"));
    ASSERT(strstr(w.ptr, "node n2:9000 holds up to 8 drives"));
    layout_free(l);
    buf_clear(&w);

    /* Uneven: n1 holds 3 of a set of 4 with parity 2; n2 holds 1. Second pool fine. */
    l = build_ok("http://n1:9000/a http://n1:9000/b http://n1:9000/c http://n2:9000/a", NULL);
    ASSERT_EQ(layout_spread_warnings(l, &w), 1);
    ASSERT(strstr(w.ptr, "pool 1: node n1:9000 holds up to 3 drives"));
    ASSERT(!strstr(w.ptr, "n2:9000"));
    ASSERT_EQ(w.ptr[w.len - 1], '\n');
    layout_free(l);

    /* One node (folder mode, or one URL host): nothing to spread over, no warning. */
    buf_clear(&w);
    l = build_ok("/d{1...4}", NULL);
    ASSERT_EQ(layout_spread_warnings(l, &w), 0);
    layout_free(l);
    l = build_ok("http://localhost:9000/d{1...4}", NULL);
    ASSERT_EQ(layout_spread_warnings(l, &w), 0);
    ASSERT_EQ(w.len, 0);
    layout_free(l);
    buf_release(&w);
    buf_release(&args);
}

static void
digest_of(const char *line, const struct layout_opts *opts, char out[LAYOUT_DIGEST_HEX])
{
    struct layout *l = build_ok(line, opts);

    layout_digest(l, out);
    layout_free(l);
}

TEST(layout_digest_canonical_text)
{
    struct layout *l = build_ok("http://n{1...2}:9000/d{1...2}", NULL);
    struct buf text = BUF_INIT;
    char d[LAYOUT_DIGEST_HEX];

    layout_canonical_text(l, &text);
    ASSERT_STREQ(text.ptr, "basalt-layout 1\n"
                           "pool 1 drives 4 set_size 4 parity 2\n"
                           "http://n1:9000/d1\nhttp://n2:9000/d1\n"
                           "http://n1:9000/d2\nhttp://n2:9000/d2\n");
    layout_digest(l, d);
    /* sha256 of the text above (python3 hashlib) */
    ASSERT_STREQ(d, "3ba5a40b21e9afac59c1d993fcff687cf7b9255680c8c87ef30c6043220b6d69");
    layout_free(l);
    buf_release(&text);
}

TEST(layout_digest_equal_and_different)
{
    static const char *const base = "http://n{1...4}:9000/srv/d{1...2}";
    static const char *const changes[] = {
        "http://n{1...4}:9001/srv/d{1...2}",
        "http://n{1...4}:9000/srv/e{1...2}",
        "https://n{1...4}:9000/srv/d{1...2}",
        "http://n{1...4}:9000/srv/d{1...3}",
        "http://n{1...4}:9000/srv/d{2...3}",
        "http://n{0...3}:9000/srv/d{1...2}",
        "http://n{1...4}:9000/srv/d{1...2} http://n{5...8}:9000/srv/d{1...2}",
        "http://m{1...4}:9000/srv/d{1...2}",
    };
    static const struct layout_opts four = { .set_size = 4 }, p3 = { .parity = 3 };
    char a[LAYOUT_DIGEST_HEX], b[LAYOUT_DIGEST_HEX];
    size_t i;

    digest_of(base, NULL, a);
    ASSERT_EQ(strlen(a), 64);
    digest_of(base, NULL, b);
    ASSERT_STREQ(a, b);
    /* The same drives written differently: same layout. */
    digest_of("HTTP://N{1...4}:9000//srv/d{1...2}/", NULL, b);
    ASSERT_STREQ(a, b);
    digest_of("http://n{1...4}/srv/d{1...2}", &(struct layout_opts){ .default_port = 9000 }, b);
    ASSERT_STREQ(a, b);
    for (i = 0; i < ARRAY_SIZE(changes); i++) {
        digest_of(changes[i], NULL, b);
        if (strcmp(a, b) == 0)
            harness_fail(__FILE__, __LINE__, "'%s' has the digest of '%s'", changes[i], base);
    }
    digest_of(base, &four, b);
    ASSERT(strcmp(a, b) != 0);
    digest_of(base, &p3, b);
    ASSERT(strcmp(a, b) != 0);
    /* Order matters: an explicit list in another node order. */
    digest_of("http://a:1/d1 http://b:1/d1", NULL, a);
    digest_of("http://b:1/d1 http://a:1/d1", NULL, b);
    ASSERT(strcmp(a, b) != 0);
}

/* layout_diff() of two command lines: expects a difference naming `words`, or none. */
static void
expect_diff(const char *x, const char *y, const struct layout_opts *oy, const char *words)
{
    struct layout *a = build_ok(x, NULL), *b = build_ok(y, oy);
    struct buf why = BUF_INIT;
    char da[LAYOUT_DIGEST_HEX], db[LAYOUT_DIGEST_HEX];

    layout_digest(a, da);
    layout_digest(b, db);
    if (!words) {
        ASSERT(!layout_diff(a, b, &why));
        ASSERT_EQ(why.len, 0);
        ASSERT_STREQ(da, db);
    } else {
        ASSERT(layout_diff(a, b, &why));
        if (!strstr(why.ptr, words))
            harness_fail(__FILE__, __LINE__, "diff '%s' lacks '%s'", why.ptr, words);
        ASSERT(strcmp(da, db) != 0);
    }
    layout_free(a);
    layout_free(b);
    buf_release(&why);
}

TEST(layout_diff_messages)
{
    static const struct layout_opts four = { .set_size = 4 }, p3 = { .parity = 3 };
    static const char *const x = "http://n{1...4}:9000/d{1...2} http://n{5...8}:9000/d{1...2}";

    expect_diff(x, x, NULL, NULL);
    expect_diff(x, "http://n{1...4}:9000/d{1...2}", NULL, "different pool count: 2 vs 1");
    expect_diff(x, "http://n{1...4}:9000/d{1...2} http://n{5...8}:9000/d{1...4}", NULL,
                "different drive count in pool 2: 8 vs 16");
    expect_diff(x, "http://n{1...4}:9000/d{1...2} http://n{5...8}:9000/e{1...2}", NULL,
                "endpoint at position 1 of pool 2 differs: 'http://n5:9000/d1' vs "
                "'http://n5:9000/e1'");
    expect_diff(x,
                "http://n{1...4}:9000/d{1...2} http://n{5...7}:9000/d{1...2} "
                "http://n9:9000/d{1...2}",
                NULL, "different pool count");
    expect_diff(x, x, &four, "different set size in pool 1: 8 vs 4");
    expect_diff(x, x, &p3, "different parity in pool 1: 4 vs 3");
}

TEST(layout_encode_decode_round_trip)
{
    static const char *const lines[] = {
        "http://n{1...4}:9000/srv/d{1...2} http://n{5...8}:9000/srv/d{1...4}",
        "https://[::1]:9000/a%20b/d{1...4}",
        ("http://127.0.0.1:9000/tmp/c/n1/d1 http://127.0.0.1:9000/tmp/c/n1/d2 "
         "http://127.0.0.2:9000/tmp/c/n2/d1 http://127.0.0.2:9000/tmp/c/n2/d2"),
    };
    struct buf enc = BUF_INIT, enc2 = BUF_INIT, why = BUF_INIT;
    char da[LAYOUT_DIGEST_HEX], db[LAYOUT_DIGEST_HEX];
    size_t i;

    for (i = 0; i < ARRAY_SIZE(lines); i++) {
        struct layout *a = build_ok(lines[i], NULL), *b = NULL;

        buf_clear(&enc);
        buf_clear(&enc2);
        ASSERT_OK(layout_encode(a, &enc));
        ASSERT_OK(layout_decode(enc.ptr, enc.len, &b, &why));
        ASSERT(!layout_diff(a, b, &why));
        layout_digest(a, da);
        layout_digest(b, db);
        ASSERT_STREQ(da, db);
        ASSERT_EQ(layout_node_count(a), layout_node_count(b));
        ASSERT_STREQ(layout_node_name(b, layout_node_count(b) - 1),
                     layout_node_name(a, layout_node_count(a) - 1));
        ASSERT_OK(layout_encode(b, &enc2));
        ASSERT_STREQ(enc.ptr, enc2.ptr);
        layout_free(a);
        layout_free(b);
    }
    ASSERT_EQ(why.len, 0);
    buf_release(&enc);
    buf_release(&enc2);
    buf_release(&why);
}

TEST(layout_encode_form)
{
    struct layout *l = build_ok("http://n{1...2}:9000/d{1...2}", NULL);
    struct buf enc = BUF_INIT;

    ASSERT_OK(layout_encode(l, &enc));
    ASSERT_STREQ(enc.ptr, "{\"version\":1,\"pools\":[{\"set_size\":4,\"parity\":2,\"drives\":["
                          "\"http://n1:9000/d1\",\"http://n2:9000/d1\",\"http://n1:9000/d2\","
                          "\"http://n2:9000/d2\"]}]}");
    layout_free(l);
    l = build_ok("/d{1...4}", NULL);
    buf_clear(&enc);
    ASSERT_EQ(layout_encode(l, &enc), -ERR_INVAL);
    ASSERT_EQ(enc.len, 0);
    layout_free(l);
    buf_release(&enc);
}

static void
expect_decode_error(const char *json, int err, const char *words)
{
    struct layout *l = NULL;
    struct buf msg = BUF_INIT;

    ASSERT_EQ(layout_decode(json, strlen(json), &l, &msg), err);
    ASSERT(l == NULL);
    if (!strstr(msg.ptr, words))
        harness_fail(__FILE__, __LINE__, "'%s': message '%s' lacks '%s'", json, msg.ptr, words);
    buf_release(&msg);
}

#define POOL2(drives)                                                                              \
    "{\"version\":1,\"pools\":[{\"set_size\":2,\"parity\":1,\"drives\":" drives "}]}"

TEST(layout_decode_errors)
{
    struct layout *l = NULL;
    struct buf big = BUF_INIT;
    size_t i;

    ASSERT_OK(layout_decode(POOL2("[\"http://a:1/d\",\"http://b:1/d\"]"),
                            strlen(POOL2("[\"http://a:1/d\",\"http://b:1/d\"]")), &l, NULL));
    ASSERT_EQ(layout_node_count(l), 2);
    layout_free(l);

    expect_decode_error("", -ERR_INVAL, "not valid JSON");
    expect_decode_error("{\"version\":1,\"pools\":[]", -ERR_INVAL, "not valid JSON");
    expect_decode_error("[1]", -ERR_INVAL, "layout:");
    expect_decode_error("{\"version\":2,\"pools\":[]}", -ERR_INVAL, "unknown version 2");
    expect_decode_error("{\"version\":1,\"pools\":[]}", -ERR_INVAL, "1 to 64 pools");
    expect_decode_error("{\"version\":1,\"pools\":[],\"x\":1}", -ERR_INVAL, "layout:");
    expect_decode_error("{\"version\":1,\"version\":1,\"pools\":[]}", -ERR_INVAL, "duplicate");
    expect_decode_error("{\"version\":1,\"pools\":[{\"set_size\":2,\"parity\":1}]}", -ERR_INVAL,
                        "pool 1");
    expect_decode_error(POOL2("[]"), -ERR_INVAL, "non-empty array");
    expect_decode_error(POOL2("{}"), -ERR_INVAL, "non-empty array");
    expect_decode_error(POOL2("[\"http://a:1/d\",7]"), -ERR_INVAL, "drive 2 of pool 1");
    expect_decode_error(POOL2("[\"http://a:1/d\",\"/srv/d\"]"), -ERR_INVAL, "not a URL");
    expect_decode_error(POOL2("[\"http://a:1/d\",\"http://b/d\"]"), -ERR_INVAL, "no port");
    expect_decode_error(POOL2("[\"http://a:1/d\",\"http://b:1/d\\u0000x\"]"), -ERR_INVAL,
                        "not valid JSON");
    expect_decode_error(POOL2("[\"http://a:1/d\",\"http://A:1//d/\"]"), -ERR_INVAL, "given twice");
    expect_decode_error(POOL2("[\"http://a:1/d\",\"https://b:1/d\"]"), -ERR_INVAL,
                        "cannot be mixed");
    expect_decode_error(POOL2("[\"http://a:1/d\",\"http://b:1/d\",\"http://c:1/d\"]"), -ERR_INVAL,
                        "cannot be split");
    expect_decode_error("{\"version\":1,\"pools\":[{\"set_size\":2,\"parity\":2,\"drives\":["
                        "\"http://a:1/d\",\"http://b:1/d\"]}]}",
                        -ERR_INVAL, "parity 2");
    expect_decode_error("{\"version\":1,\"pools\":[{\"set_size\":-1,\"parity\":1,\"drives\":["
                        "\"http://a:1/d\",\"http://b:1/d\"]}]}",
                        -ERR_INVAL, "out of range");
    expect_decode_error("{\"version\":1,\"pools\":[{\"set_size\":2.0,\"parity\":1,\"drives\":["
                        "\"http://a:1/d\",\"http://b:1/d\"]}]}",
                        -ERR_INVAL, "pool 1");

    buf_adds(&big, "{\"version\":1,\"pools\":[");
    for (i = 0; i <= LAYOUT_MAX_POOLS; i++)
        buf_addf(&big,
                 "%s{\"set_size\":2,\"parity\":1,\"drives\":[\"http://a:1/%zu\","
                 "\"http://b:1/%zu\"]}",
                 i ? "," : "", i, i);
    buf_adds(&big, "]}");
    expect_decode_error(big.ptr, -ERR_INVAL, "1 to 64 pools");

    buf_clear(&big);
    buf_grow(&big, LAYOUT_MAX_ENCODED + 1);
    memset(big.ptr, ' ', LAYOUT_MAX_ENCODED + 1);
    buf_setlen(&big, LAYOUT_MAX_ENCODED + 1);
    ASSERT_EQ(layout_decode(big.ptr, big.len, &l, NULL), -ERR_TOO_LARGE);
    buf_release(&big);
}

/* The local node index after marking `line` for `address`, or the error with its message. */
static int
mark(const char *line, const char *address, struct buf *msg)
{
    struct layout *l = build_ok(line, NULL);
    const struct endpoint *e;
    size_t p, i, n;
    int rc = layout_mark_local(l, address, msg);

    if (rc == 0) {
        rc = layout_local_node(l);
        for (p = 0; p < layout_pool_count(l); p++) {
            e = layout_pool_drives(l, p, &n);
            for (i = 0; i < n; i++)
                ASSERT_EQ(e[i].is_local, e[i].node == (unsigned)rc);
        }
    } else {
        ASSERT_EQ(layout_local_node(l), -1);
    }
    layout_free(l);
    return rc;
}

TEST(layout_mark_local_by_address)
{
    static const char *const four = "http://127.0.0.{1...4}:9000/tmp/c/d{1...2}";
    struct buf msg = BUF_INIT;

    ASSERT_EQ(mark(four, "127.0.0.2:9000", NULL), 1);
    ASSERT_EQ(mark(four, "127.0.0.4:9000", NULL), 3);
    ASSERT_EQ(mark(four, "127.0.0.2:9001", &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "this node (--address 127.0.0.2:9001) is none of the endpoints"));
    ASSERT(strstr(msg.ptr, "127.0.0.1:9000, 127.0.0.2:9000, 127.0.0.3:9000, 127.0.0.4:9000"));
    buf_clear(&msg);
    ASSERT_EQ(mark(four, "127.0.0.9:9000", &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "none of the endpoints"));
    buf_clear(&msg);
    ASSERT_EQ(mark("http://n{1...10}:9000/d{1...2}", "127.0.0.9:9000", &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "n8:9000, ... (10 in all)"));
    buf_clear(&msg);
    ASSERT_EQ(mark(four, "127.0.0.2", &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "listen address '127.0.0.2'"));
    /* Names are matched by resolution when no host is the listen host as written. */
    ASSERT_EQ(mark("http://203.0.113.7:9000/d{1...2} http://localhost:9000/d{1...2}",
                   "127.0.0.1:9000", NULL),
              1);
    ASSERT_EQ(
        mark("http://[::1]:9000/d{1...2} http://203.0.113.7:9000/d{1...2}", "[::1]:9000", NULL), 0);
    /* Folder mode: everything is local, whatever the address. */
    ASSERT_EQ(mark("/srv/d{1...4}", "127.0.0.1:9000", NULL), 0);
    buf_release(&msg);
}

TEST(layout_mark_local_wildcard)
{
    static const char *const one_local =
        "http://203.0.113.{1...3}:9000/d{1...2} http://127.0.0.1:9000/d{1...2} "
        "http://127.0.0.1:9001/d{1...2}";
    struct buf msg = BUF_INIT;

    ASSERT_EQ(mark(one_local, ":9000", NULL), 3);
    ASSERT_EQ(mark(one_local, "0.0.0.0:9000", NULL), 3);
    ASSERT_EQ(mark(one_local, "[::]:9000", NULL), 3);
    ASSERT_EQ(mark(one_local, ":9001", NULL), 4);
    ASSERT_EQ(mark(one_local, ":9002", &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "none of the endpoints"));
    buf_clear(&msg);
    /* All four loopback nodes are this machine: a wildcard cannot tell which one it is. */
    ASSERT_EQ(mark("http://127.0.0.{1...4}:9000/d{1...2}", ":9000", &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "several nodes: 127.0.0.1:9000 and 127.0.0.2:9000"));
    buf_clear(&msg);
    ASSERT_EQ(mark("http://203.0.113.{1...4}:9000/d{1...2}", ":9000", &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "this node (--address :9000) is none of the endpoints"));
    buf_release(&msg);
}

/* A wildcard listener finds its node by an address of a real (non-loopback) interface. */
TEST(layout_mark_local_wildcard_interface)
{
    struct ifaddrs *ifa, *i;
    char addr[INET_ADDRSTRLEN] = "";
    struct buf line = BUF_INIT;

    ASSERT_EQ(getifaddrs(&ifa), 0);
    for (i = ifa; i && !addr[0]; i = i->ifa_next) {
        const struct sockaddr_in *sin = (const void *)i->ifa_addr;

        if (sin && sin->sin_family == AF_INET && (ntohl(sin->sin_addr.s_addr) >> 24) != 127)
            inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
    }
    freeifaddrs(ifa);
    if (!addr[0])
        return; /* no interface besides loopback on this machine */
    buf_addf(&line, "http://203.0.113.1:9000/d{1...2} http://%s:9000/d{1...2}", addr);
    ASSERT_EQ(mark(line.ptr, ":9000", NULL), 1);
    ASSERT_EQ(mark(line.ptr, "203.0.113.1:9000", NULL), 0);
    buf_release(&line);
}
