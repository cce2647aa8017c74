/*
 * tests/unit/http/test_framing.c: request framing (http/framing.c) case by
 * case, the addresses and masks of util/netaddr.c, and the connection
 * guard's limits (http/guard.c).
 */
#include "util/base.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "harness.h"
#include "http/internal.h"
#include "util/err.h"

struct framing_case {
    const char *headers; /* "Name: value" lines separated by '\n' */
    bool http10;
    unsigned status; /* 0: accepted */
    int64_t length;  /* accepted: the content length (-1 none) */
    bool chunked;
};

static const struct framing_case framing_cases[] = {
    { "Host: a", false, 0, -1, false },
    { "Host: a\nContent-Length: 46", false, 0, 46, false },
    { "Host: a\nContent-Length:  46\t", false, 0, 46, false },
    { "Host: a\nContent-Length: 0", false, 0, 0, false },
    { "Host: a\nContent-Length: 9223372036854775807", false, 0, INT64_MAX, false },
    { "Host: a\nTransfer-Encoding: chunked", false, 0, -1, true },
    { "Host: a\nTransfer-Encoding: CHUNKED", false, 0, -1, true },
    { "", true, 0, -1, false },                 /* HTTP/1.0 needs no Host */
    { "Content-Length: 3", true, 0, 3, false }, /* nor does its body */
    /* Content-Length: twice (even equal), or not a plain decimal */
    { "Host: a\nContent-Length: 0\nContent-Length: 46", false, 400, -1, false },
    { "Host: a\nContent-Length: 5\nContent-Length: 5", false, 400, -1, false },
    { "Host: a\nContent-Length: -1", false, 400, -1, false },
    { "Host: a\nContent-Length: +46", false, 400, -1, false },
    { "Host: a\nContent-Length: 0x2e", false, 400, -1, false },
    { "Host: a\nContent-Length: 46, 46", false, 400, -1, false },
    { "Host: a\nContent-Length: ", false, 400, -1, false },
    { "Host: a\nContent-Length: 1e3", false, 400, -1, false },
    { "Host: a\nContent-Length: 4 6", false, 400, -1, false },
    { "Host: a\nContent-Length: 9223372036854775808", false, 400, -1, false },
    { "Host: a\nContent-Length: 99999999999999999999", false, 400, -1, false },
    /* Transfer-Encoding: exactly chunked, once; unknown codings 501 */
    { "Host: a\nTransfer-Encoding: chunked, chunked", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: gzip, chunked", false, 501, -1, false },
    { "Host: a\nTransfer-Encoding: chunked, gzip", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: identity", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: gzip", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: ", false, 400, -1, false },
    /* what libmicrohttpd would not decode as chunked (a body until close) */
    { "Host: a\nTransfer-Encoding: chunked,", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: , chunked", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: chunked ", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: chunked\t", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: chunked,,", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: Chunked", false, 0, -1, true },
    { "Host: a\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked", false, 400, -1, false },
    { "Host: a\nTransfer-Encoding: chunked\nTransfer-Encoding: x", false, 400, -1,
      false },                                                                           /* TE.TE */
    { "Host: a\nContent-Length: 5\nTransfer-Encoding: chunked", false, 400, -1, false }, /* CL.TE */
    { "Host: a\nTransfer-Encoding: chunked\nContent-Length: 5", false, 400, -1, false }, /* TE.CL */
    { "Transfer-Encoding: chunked", true, 400, -1, false }, /* chunked in HTTP/1.0 */
    /* names and values */
    { "Host: a\nContent-Length : 5", false, 400, -1, false },
    { "Host: a\nX A: b", false, 400, -1, false },
    { "Host: a\n: b", false, 400, -1, false },
    { "Host: a\nX-A: a\rb", false, 400, -1, false },
    { "Host: a\nX-A: tab\tand \200\377 obs-text, \001\177 kept", false, 0, -1, false },
    /* Host */
    { "Content-Length: 0", false, 400, -1, false },
    { "Host: a\nHost: b", false, 400, -1, false },
};

/* Splits `text` into headers (names before the first ':', values after it). */
static size_t
split_headers(const char *text, struct http_header *h, size_t cap)
{
    struct slice rest = slice_cstr(text), line, value;
    size_t n = 0;

    while (rest.ptr && rest.len && n < cap) {
        rest = slice_split(rest, '\n', &line);
        value = slice_split(line, ':', &h[n].name);
        h[n].value = value.ptr ? value : SLICE_NULL;
        if (h[n].value.len && h[n].value.ptr[0] == ' ') {
            h[n].value.ptr++;
            h[n].value.len--;
        }
        n++;
    }
    return n;
}

TEST(http_framing_cases)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(framing_cases); i++) {
        const struct framing_case *c = &framing_cases[i];
        struct http_header h[8];
        struct http_framing fr;
        const char *why = NULL;
        size_t n = split_headers(c->headers, h, ARRAY_SIZE(h));
        unsigned st = http_framing_check(h, n, c->http10, &fr, &why);

        if (st != c->status)
            fprintf(stderr, "case %zu (%s): status %u, expected %u (%s)\n", i, c->headers, st,
                    c->status, why ? why : "");
        ASSERT_EQ(st, c->status);
        if (st) {
            ASSERT(why && *why);
            continue;
        }
        ASSERT_EQ(fr.content_length, c->length);
        ASSERT_EQ(fr.chunked, c->chunked);
    }
}

/* A value with a NUL inside (a slice, not a C string) is refused. */
TEST(http_framing_nul_in_value)
{
    struct http_header h[2] = { { SLICE_LIT("Host"), SLICE_LIT("a") },
                                { SLICE_LIT("X-A"), { "a\0b", 3 } } };
    struct http_framing fr;
    const char *why;

    ASSERT_EQ(http_framing_check(h, 2, false, &fr, &why), 400);
}

TEST(util_netaddr_and_masks)
{
    struct netmask *m = NULL;
    struct netaddr a, b;
    char text[NETADDR_TEXT_MAX];
    size_t n = 0;

    ASSERT(netaddr_parse(SLICE_LIT(" 10.1.2.3 "), &a));
    netaddr_fmt(&a, text);
    ASSERT_STREQ(text, "10.1.2.3");
    ASSERT(netaddr_parse(SLICE_LIT("::ffff:10.1.2.3"), &b)); /* mapped: the IPv4 address */
    ASSERT(netaddr_eq(&a, &b));
    ASSERT_EQ(netaddr_hash(&a), netaddr_hash(&b));
    ASSERT(!netaddr_parse(SLICE_LIT("10.1.2"), &a));
    ASSERT(!netaddr_parse(SLICE_LIT("example.com"), &a));
    ASSERT(!netaddr_parse(SLICE_LIT(""), &a));

    ASSERT_OK(netmask_list_parse("10.0.0.0/8, 192.168.1.128/25,::1", &m, &n));
    ASSERT_EQ(n, 3);
    ASSERT(netaddr_parse(SLICE_LIT("10.255.0.1"), &a));
    ASSERT(netmask_list_match(m, n, &a));
    ASSERT(netaddr_parse(SLICE_LIT("11.0.0.1"), &a));
    ASSERT(!netmask_list_match(m, n, &a));
    ASSERT(netaddr_parse(SLICE_LIT("192.168.1.200"), &a));
    ASSERT(netmask_list_match(m, n, &a));
    ASSERT(netaddr_parse(SLICE_LIT("192.168.1.127"), &a));
    ASSERT(!netmask_list_match(m, n, &a));
    ASSERT(netaddr_parse(SLICE_LIT("::1"), &a));
    ASSERT(netmask_list_match(m, n, &a));
    ASSERT(netaddr_parse(SLICE_LIT("::2"), &a));
    ASSERT(!netmask_list_match(m, n, &a));
    free(m);

    ASSERT_EQ(netmask_list_parse("10.0.0.0/33", &m, &n), -ERR_INVAL);
    ASSERT_EQ(netmask_list_parse("10.0.0.0/", &m, &n), -ERR_INVAL);
    ASSERT_EQ(netmask_list_parse("nope", &m, &n), -ERR_INVAL);
    ASSERT_OK(netmask_list_parse(NULL, &m, &n));
    ASSERT_EQ(n, 0);
    free(m);
}

static struct sockaddr_in
sa4(const char *ip)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(1234) };

    inet_pton(AF_INET, ip, &sa.sin_addr);
    return sa;
}

TEST(http_guard_limits)
{
    struct netmask *proxies = NULL;
    size_t nproxies = 0;
    struct guard_config cfg = { .max_connections = 5, .max_per_address = 2 };
    struct sockaddr_in a = sa4("10.0.0.1"), b = sa4("10.0.0.2"), p = sa4("10.9.9.9");
    struct guard_conn *conns[8];
    struct guard_stats st;
    struct netaddr client;
    struct guard *g;
    int i;

    ASSERT_OK(netmask_list_parse("10.9.0.0/16", &proxies, &nproxies));
    cfg.proxies = proxies;
    cfg.nproxies = nproxies;
    g = guard_new(&cfg);
    /* per address: 2 from a, the third refused; b still admitted */
    for (i = 0; i < 2; i++) {
        ASSERT(guard_admit(g, (struct sockaddr *)&a));
        conns[i] = guard_conn_open(g, -1, (struct sockaddr *)&a);
    }
    ASSERT(!guard_admit(g, (struct sockaddr *)&a));
    ASSERT(guard_admit(g, (struct sockaddr *)&b));
    conns[2] = guard_conn_open(g, -1, (struct sockaddr *)&b);
    /* a proxy is exempt from the per-address limit, not from the global one */
    ASSERT(guard_admit(g, (struct sockaddr *)&p));
    conns[3] = guard_conn_open(g, -1, (struct sockaddr *)&p);
    ASSERT(guard_conn_proxied(conns[3]));
    ASSERT(!guard_conn_proxied(conns[0]));
    ASSERT(guard_admit(g, (struct sockaddr *)&p));
    conns[4] = guard_conn_open(g, -1, (struct sockaddr *)&p);
    ASSERT(!guard_admit(g, (struct sockaddr *)&p)); /* 5 open: the global limit */
    guard_get_stats(g, &st);
    ASSERT_EQ(st.open, 5);
    ASSERT_EQ(st.accepted, 5);
    ASSERT_EQ(st.refused_address, 1);
    ASSERT_EQ(st.refused_limit, 1);
    /* a closed connection frees its address's slot */
    guard_conn_close(g, conns[0]);
    ASSERT(guard_admit(g, (struct sockaddr *)&a));
    conns[0] = guard_conn_open(g, -1, (struct sockaddr *)&a);
    /* a proxied client: max_per_address requests in flight */
    ASSERT(netaddr_parse(SLICE_LIT("203.0.113.7"), &client));
    ASSERT(guard_client_enter(g, &client));
    ASSERT(guard_client_enter(g, &client));
    ASSERT(!guard_client_enter(g, &client));
    guard_client_leave(g, &client);
    ASSERT(guard_client_enter(g, &client));
    guard_client_leave(g, &client);
    guard_client_leave(g, &client);
    guard_get_stats(g, &st);
    ASSERT_EQ(st.refused_requests, 1);
    for (i = 0; i < 5; i++)
        guard_conn_close(g, conns[i]);
    guard_get_stats(g, &st);
    ASSERT_EQ(st.open, 0);
    guard_free(g);
    free(proxies);
}

/* IPv6 clients are limited per /64: another address of the same /64 is the same client. */
TEST(http_guard_limits_ipv6_per_64)
{
    struct guard_config cfg = { .max_connections = 10, .max_per_address = 1 };
    struct sockaddr_in6 a = { .sin6_family = AF_INET6 }, b = a, c = a;
    struct guard_conn *ca;
    struct guard *g = guard_new(&cfg);

    inet_pton(AF_INET6, "2001:db8:1:2::1", &a.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &b.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:3::1", &c.sin6_addr);
    ASSERT(guard_admit(g, (struct sockaddr *)&a));
    ca = guard_conn_open(g, -1, (struct sockaddr *)&a);
    ASSERT(!guard_admit(g, (struct sockaddr *)&b)); /* same /64 */
    ASSERT(guard_admit(g, (struct sockaddr *)&c));  /* another /64 */
    guard_conn_close(g, ca);
    ASSERT(guard_admit(g, (struct sockaddr *)&b));
    guard_free(g);
}
