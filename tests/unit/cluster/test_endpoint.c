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

/* ---- endpoint_parse ---- */

/* Parses `arg` and checks its canonical text and path; re-parsing the text gives the same. */
static void
expect_parse(const char *arg, unsigned default_port, const char *text, const char *path)
{
    struct endpoint e, again;
    struct buf msg = BUF_INIT;

    if (endpoint_parse(arg, default_port, &e, &msg) < 0)
        harness_fail(__FILE__, __LINE__, "'%s': %s", arg, msg.ptr);
    ASSERT_STREQ(e.arg, arg);
    ASSERT_STREQ(e.text, text);
    ASSERT_STREQ(e.path, path);
    ASSERT_EQ(e.node, 0);
    ASSERT(!e.is_local);
    ASSERT_OK(endpoint_parse(e.text, 0, &again, NULL));
    ASSERT_STREQ(again.text, e.text);
    ASSERT_STREQ(again.path, e.path);
    endpoint_release(&again);
    endpoint_release(&e);
    buf_release(&msg);
}

/* Expects -ERR_INVAL with a message quoting `arg` and containing `words`. */
static void
expect_parse_error(const char *arg, unsigned default_port, const char *words)
{
    struct endpoint e = { 0 };
    struct buf msg = BUF_INIT;

    ASSERT_EQ(endpoint_parse(arg, default_port, &e, &msg), -ERR_INVAL);
    ASSERT(e.text == NULL);
    if (!strstr(msg.ptr, words) || (*arg && !strstr(msg.ptr, arg)))
        harness_fail(__FILE__, __LINE__, "'%s': message '%s' lacks '%s' or the argument", arg,
                     msg.ptr, words);
    buf_release(&msg);
}

TEST(endpoint_parse_urls)
{
    struct endpoint e;
    struct buf name = BUF_INIT;

    ASSERT_OK(endpoint_parse("http://n1:9000/srv/d1", 0, &e, NULL));
    ASSERT(e.is_url && !e.tls);
    ASSERT_STREQ(e.host, "n1");
    ASSERT_EQ(e.port, 9000);
    ASSERT_STREQ(e.path, "/srv/d1");
    ASSERT_STREQ(e.text, "http://n1:9000/srv/d1");
    endpoint_node_name(&e, &name);
    ASSERT_STREQ(name.ptr, "n1:9000");
    endpoint_release(&e);
    ASSERT(e.text == NULL && e.host == NULL);
    endpoint_release(&e); /* safe twice */

    ASSERT_OK(endpoint_parse("HTTPS://10.0.0.1:443/d", 0, &e, NULL));
    ASSERT(e.is_url && e.tls);
    ASSERT_STREQ(e.text, "https://10.0.0.1:443/d");
    endpoint_release(&e);

    expect_parse("HTTP://Node-1.Example.COM:9000//srv//d1/", 0,
                 "http://node-1.example.com:9000/srv/d1", "/srv/d1");
    expect_parse("http://basalt_node1:9000/data", 0, "http://basalt_node1:9000/data", "/data");
    expect_parse("http://n1/srv/d1", 9001, "http://n1:9001/srv/d1", "/srv/d1");
    expect_parse("http://n1:9000/srv/a%20b/%41", 0, "http://n1:9000/srv/a%20b/A", "/srv/a b/A");
    expect_parse("http://n1:9000/p%25c%3f%23\"\\", 0, "http://n1:9000/p%25c%3F%23%22%5C",
                 "/p%c?#\"\\");
    expect_parse("http://n1:9000/caf\xc3\xa9", 0, "http://n1:9000/caf%C3%A9", "/caf\xc3\xa9");
    expect_parse("http://n1:9000/d...1/.x/..y", 0, "http://n1:9000/d...1/.x/..y", "/d...1/.x/..y");
    buf_release(&name);
}

TEST(endpoint_parse_ipv6)
{
    struct endpoint e;
    struct buf name = BUF_INIT;

    ASSERT_OK(endpoint_parse("http://[::1]:9000/d1", 0, &e, NULL));
    ASSERT_STREQ(e.host, "::1");
    ASSERT_STREQ(e.text, "http://[::1]:9000/d1");
    endpoint_node_name(&e, &name);
    ASSERT_STREQ(name.ptr, "[::1]:9000");
    endpoint_release(&e);
    expect_parse("http://[2001:DB8:0:0:0::1]:9000/d1", 0, "http://[2001:db8::1]:9000/d1", "/d1");
    expect_parse("http://[::ffff:10.0.0.1]/d1", 9000, "http://[::ffff:10.0.0.1]:9000/d1", "/d1");
    expect_parse_error("http://::1:9000/d1", 0, "brackets");
    expect_parse_error("http://[::1/d1", 0, "'[' without ']'");
    expect_parse_error("http://[::1]x:9000/d1", 0, "after ']'");
    expect_parse_error("http://[zz::1]:9000/d1", 0, "IPv6");
    expect_parse_error("http://[fe80::1%25eth0]:9000/d1", 0, "IPv6");
    expect_parse_error("http://[10.0.0.1]:9000/d1", 0, "IPv6");
    buf_release(&name);
}

TEST(endpoint_parse_folders)
{
    struct endpoint e;

    ASSERT_OK(endpoint_parse("/srv/d1", 9000, &e, NULL));
    ASSERT(!e.is_url && e.host == NULL && e.port == 0);
    endpoint_release(&e);
    expect_parse("/srv//d1/", 0, "/srv/d1", "/srv/d1");
    expect_parse("data/d1", 0, "data/d1", "data/d1");
    expect_parse("./d{1..4}", 0, "./d{1..4}", "./d{1..4}");
    expect_parse("/", 0, "/", "/");
    expect_parse("http/d1", 0, "http/d1", "http/d1"); /* a folder named http */
    expect_parse("/srv/a:b", 0, "/srv/a:b", "/srv/a:b");
}

/* Nothing that looks like a URL becomes a folder (it used to create a folder "http:"). */
TEST(endpoint_parse_url_lookalikes)
{
    ASSERT(endpoint_looks_like_url("http:/srv/d1"));
    ASSERT(endpoint_looks_like_url("HTTPS:x"));
    ASSERT(endpoint_looks_like_url("/srv/a://b"));
    ASSERT(!endpoint_looks_like_url("/srv/http:/d1"));
    ASSERT(!endpoint_looks_like_url("httpd/d1"));
    expect_parse_error("http:/srv/d1", 0, "must start with http:// or https://");
    expect_parse_error("http:srv", 0, "must start with http:// or https://");
    expect_parse_error("Https:/x", 0, "must start with http:// or https://");
    expect_parse_error("ftp://n1:21/d1", 0, "unknown scheme 'ftp'");
    expect_parse_error("/srv/a://b", 0, "does not start with http:// or https://");
    expect_parse_error("htp://n1:9000/d1", 0, "unknown scheme 'htp'");
}

TEST(endpoint_parse_errors)
{
    char long_arg[ENDPOINT_MAX_LEN + 2], escaped[ENDPOINT_MAX_LEN + 1];

    expect_parse_error("", 9000, "empty endpoint");
    expect_parse_error("http:///d1", 9000, "empty host");
    expect_parse_error("http://:9000/d1", 0, "empty host");
    expect_parse_error("http://n1:0/d1", 0, "bad port '0'");
    expect_parse_error("http://n1:65536/d1", 0, "bad port '65536'");
    expect_parse_error("http://n1:/d1", 0, "bad port ''");
    expect_parse_error("http://n1:-1/d1", 0, "bad port '-1'");
    expect_parse_error("http://n1:9000srv/d1", 0, "bad port '9000srv'");
    expect_parse_error("http://n1/d1", 0, "no port");
    expect_parse_error("http://n1:9000", 0, "no drive path");
    expect_parse_error("http://n1", 9000, "no drive path");
    expect_parse_error("http://n1:9000/", 0, "root folder");
    expect_parse_error("http://n1:9000//", 0, "root folder");
    expect_parse_error("http://n1:9000/srv/../d1", 0, "'.' or '..'");
    expect_parse_error("http://n1:9000/srv/./d1", 0, "'.' or '..'");
    expect_parse_error("http://n1:9000/srv/d1/..", 0, "'.' or '..'");
    expect_parse_error("http://n1:9000/srv/%2e%2E/d1", 0, "'.' or '..'");
    expect_parse_error("http://n1:9000/srv/a%00b", 0, "NUL");
    expect_parse_error("http://n1:9000/srv/a\tb", 0, "control character");
    expect_parse_error("http://n1:9000/srv/a%zz", 0, "%-escape");
    expect_parse_error("http://n1:9000/srv/a%4", 0, "%-escape");
    expect_parse_error("http://n1:9000/srv/d1?x=1", 0, "query");
    expect_parse_error("http://n1:9000/srv/d1#top", 0, "fragment");
    expect_parse_error("http://u:p@n1:9000/d1", 0, "user information");
    expect_parse_error("http://10.0.0.256:9000/d1", 0, "IPv4");
    expect_parse_error("http://10.0.0:9000/d1", 0, "IPv4");
    expect_parse_error("http://-n1:9000/d1", 0, "host name");
    expect_parse_error("http://n1-:9000/d1", 0, "host name");
    expect_parse_error("http://a..b:9000/d1", 0, "host name");
    expect_parse_error("http://n1.:9000/d1", 0, "host name");
    expect_parse_error("http://n 1:9000/d1", 0, "host name");

    memset(long_arg, 'a', sizeof(long_arg) - 1);
    memcpy(long_arg, "http://n1:9/", 12);
    long_arg[sizeof(long_arg) - 1] = '\0';
    expect_parse_error(long_arg, 0, "longer than 1024");
    memset(escaped, '\xff', sizeof(escaped) - 1);
    memcpy(escaped, "http://n1:9/", 12);
    escaped[400] = '\0'; /* 400 bytes as given, over 1,100 written canonically */
    expect_parse_error(escaped, 0, "canonically");
}

TEST(endpoint_split_address)
{
    struct buf host = BUF_INIT, msg = BUF_INIT;
    uint16_t port = 0;

    ASSERT_OK(endpoint_split_address("127.0.0.2:9000", &host, &port, NULL));
    ASSERT_STREQ(host.ptr, "127.0.0.2");
    ASSERT_EQ(port, 9000);
    buf_clear(&host);
    ASSERT_OK(endpoint_split_address(":9001", &host, &port, NULL));
    ASSERT_EQ(host.len, 0);
    ASSERT_EQ(port, 9001);
    ASSERT_OK(endpoint_split_address("[::]:9002", &host, &port, NULL));
    ASSERT_STREQ(host.ptr, "::");
    buf_clear(&host);
    ASSERT_OK(endpoint_split_address("LocalHost:80", &host, &port, NULL));
    ASSERT_STREQ(host.ptr, "localhost");
    ASSERT_EQ(port, 80);
    buf_clear(&host);

    ASSERT_EQ(endpoint_split_address("9000", &host, &port, &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "listen address '9000'"));
    ASSERT_EQ(endpoint_split_address("[::1]", &host, &port, NULL), -ERR_INVAL);
    ASSERT_EQ(endpoint_split_address("::1:9000", &host, &port, NULL), -ERR_INVAL);
    ASSERT_EQ(endpoint_split_address("h:0", &host, &port, NULL), -ERR_INVAL);
    ASSERT_EQ(endpoint_split_address("h:", &host, &port, NULL), -ERR_INVAL);
    ASSERT_EQ(endpoint_split_address("bad host:1", &host, &port, NULL), -ERR_INVAL);
    ASSERT_EQ(host.len, 0);
    ASSERT_EQ(port, 80);
    buf_release(&host);
    buf_release(&msg);
}
