/*
 * tests/unit/s3/test_post_form.c: the streaming multipart/form-data parser.
 * Every form is fed whole, byte by byte and split at every position, and
 * must give the same transcript of events.
 */
#include "util/base.h"

#include "harness.h"
#include "s3/post_form.h"
#include "util/buf.h"

/*
 * Transcript: "[name|filename|type]" for a part (filename "-" when absent,
 * type "-" when absent), its data, "/" at its end, "$" at the end of the form.
 */
struct rec {
    struct buf out;
    int fail_at; /* event number at which the callback fails, or -1 */
    int events;
};

static void
add_or_dash(struct buf *b, struct slice s)
{
    if (s.ptr)
        buf_addslice(b, s);
    else
        buf_addch(b, '-');
}

static int
record(void *arg, enum post_form_event ev, const struct post_form_part *part, struct slice data)
{
    struct rec *r = arg;

    if (r->events++ == r->fail_at)
        return -ERR_TOO_LARGE;
    switch (ev) {
    case POST_FORM_PART_BEGIN:
        buf_addch(&r->out, '[');
        buf_addslice(&r->out, part->name);
        buf_addch(&r->out, '|');
        add_or_dash(&r->out, part->filename);
        buf_addch(&r->out, '|');
        add_or_dash(&r->out, part->content_type);
        buf_addch(&r->out, ']');
        break;
    case POST_FORM_DATA:
        ASSERT(data.len > 0);
        buf_addslice(&r->out, data);
        break;
    case POST_FORM_PART_END:
        buf_addch(&r->out, '/');
        break;
    case POST_FORM_END:
        buf_addch(&r->out, '$');
        break;
    }
    return 0;
}

/* Parses `body` fed in pieces cut at `cuts` (sorted, within the body); returns finish's rc. */
static int
parse_cut(const char *boundary, struct slice body, const size_t *cuts, size_t ncuts,
          struct buf *out)
{
    struct rec r = { BUF_INIT, -1, 0 };
    struct post_form *f = post_form_new(slice_cstr(boundary), record, &r);
    size_t i, pos = 0;
    int rc = 0;

    for (i = 0; i <= ncuts && rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : body.len;

        rc = post_form_feed(f, body.ptr + pos, end - pos);
        pos = end;
    }
    rc = post_form_finish(f);
    post_form_free(f);
    buf_addslice(out, buf_slice(&r.out));
    buf_release(&r.out);
    return rc;
}

/* Checks that whole, byte-by-byte and every two-piece split give `want` and `want_rc`. */
static void
check_form(const char *boundary, struct slice body, const char *want, int want_rc)
{
    struct buf got = BUF_INIT;
    size_t *cuts = xcalloc(body.len + 1, sizeof(*cuts));
    size_t i;
    int rc;

    rc = parse_cut(boundary, body, NULL, 0, &got);
    ASSERT_EQ(rc, want_rc);
    if (want)
        ASSERT_STREQ(got.ptr, want);
    for (i = 0; i + 1 < body.len; i++)
        cuts[i] = i + 1;
    buf_clear(&got);
    rc = parse_cut(boundary, body, cuts, body.len ? body.len - 1 : 0, &got);
    ASSERT_EQ(rc, want_rc);
    if (want)
        ASSERT_STREQ(got.ptr, want);
    for (i = 1; i < body.len; i++) {
        buf_clear(&got);
        rc = parse_cut(boundary, body, &i, 1, &got);
        ASSERT_EQ(rc, want_rc);
        if (want)
            ASSERT_STREQ(got.ptr, want);
    }
    free(cuts);
    buf_release(&got);
}

#define FORM_OK(b, body, want) check_form((b), SLICE_LIT(body), (want), 0)

TEST(post_form_simple)
{
    FORM_OK("XyZ",
            "--XyZ\r\n"
            "Content-Disposition: form-data; name=\"key\"\r\n\r\n"
            "a/${filename}\r\n"
            "--XyZ\r\n"
            "Content-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n"
            "hello\r\nworld\r\n"
            "--XyZ--\r\n",
            "[key|-|-]a/${filename}/[file|f.txt|text/plain]hello\r\nworld/$");
}

TEST(post_form_preamble_epilogue_padding)
{
    FORM_OK("b",
            "ignored preamble\r\n--b  \t\r\n"
            "content-disposition: FORM-DATA;name=x\r\nX-Other: 1\r\n\r\n"
            "1\r\n--b\r\n"
            "Content-Disposition: form-data; name=\"y\"\r\n\r\n"
            "\r\n--b--epilogue \r\n--b\r\nwhatever",
            "[x|-|-]1/[y|-|-]/$");
}

TEST(post_form_near_delimiters_are_data)
{
    /* CR, CRLF, "--b" without CRLF, a longer boundary, CRs in a row. */
    FORM_OK("bnd",
            "--bnd\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
            "\r\r\n\r\n-\r\n--\r\n--bn\r\r\n--bnX--bnd\r\n\r\n--b\r\n"
            "\r\n--bnd--",
            "[file|-|-]\r\r\n\r\n-\r\n--\r\n--bn\r\r\n--bnX--bnd\r\n\r\n--b\r\n/$");
}

TEST(post_form_quoted_params)
{
    FORM_OK("q",
            "--q\r\nContent-Disposition: form-data; filename=\"a;b\\\"c.txt\"; "
            "name=\"file\"\r\n\r\nX\r\n--q--",
            "[file|a;b\"c.txt|-]X/$");
    FORM_OK("q",
            "--q\r\nContent-Disposition: form-data; name=\"e\"; filename=\"\"\r\n\r\n\r\n--q--",
            "[e||-]/$");
}

TEST(post_form_boundary_param)
{
    struct slice b;

    ASSERT_OK(post_form_boundary(SLICE_LIT("multipart/form-data; boundary=abc"), &b));
    ASSERT(slice_eq_cstr(b, "abc"));
    ASSERT_OK(post_form_boundary(SLICE_LIT("Multipart/Form-Data;charset=utf-8; "
                                           "BOUNDARY=\"a b:c\""),
                                 &b));
    ASSERT(slice_eq_cstr(b, "a b:c"));
    ASSERT_EQ(post_form_boundary(SLICE_LIT("multipart/mixed; boundary=abc"), &b),
              -ERR_MALFORMED_POST);
    ASSERT_EQ(post_form_boundary(SLICE_LIT("multipart/form-data"), &b), -ERR_MALFORMED_POST);
    ASSERT_EQ(post_form_boundary(SLICE_LIT("multipart/form-data; boundary="), &b),
              -ERR_MALFORMED_POST);
    ASSERT_EQ(post_form_boundary(SLICE_LIT("application/x-www-form-urlencoded"), &b),
              -ERR_MALFORMED_POST);
    ASSERT_EQ(post_form_boundary(SLICE_LIT("multipart/form-data; boundary="
                                           "12345678901234567890123456789012345678901234567890"
                                           "123456789012345678901"),
                                 &b),
              -ERR_MALFORMED_POST);
}

TEST(post_form_truncated)
{
    check_form("b", SLICE_LIT(""), "", -ERR_MALFORMED_POST);
    check_form("b", SLICE_LIT("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ndata"),
               NULL, -ERR_MALFORMED_POST);
    check_form("b",
               SLICE_LIT("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ndata\r\n--b"),
               NULL, -ERR_MALFORMED_POST);
    check_form("b", SLICE_LIT("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nd\r\n--b-"),
               NULL, -ERR_MALFORMED_POST);
    check_form("b", SLICE_LIT("--b\r\nContent-Disposition: form-da"), NULL, -ERR_MALFORMED_POST);
}

TEST(post_form_malformed)
{
    /* no name, not form-data, no disposition, header without colon, garbage after delimiter */
    check_form("b", SLICE_LIT("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--"), NULL,
               -ERR_MALFORMED_POST);
    check_form("b", SLICE_LIT("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--"),
               NULL, -ERR_MALFORMED_POST);
    check_form("b", SLICE_LIT("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"), NULL,
               -ERR_MALFORMED_POST);
    check_form("b", SLICE_LIT("--b\r\n\r\nx\r\n--b--"), NULL, -ERR_MALFORMED_POST);
    check_form("b", SLICE_LIT("--b\r\nnocolon\r\n\r\nx\r\n--b--"), NULL, -ERR_MALFORMED_POST);
    check_form("b", SLICE_LIT("--bX\r\n"), NULL, -ERR_MALFORMED_POST);
    check_form("b", SLICE_LIT("--b\r\nContent-Disposition: form-data; name=a\n\r\nx\r\n--b--"),
               NULL, -ERR_MALFORMED_POST);
}

TEST(post_form_header_limit)
{
    struct buf body = BUF_INIT;
    size_t i;

    buf_adds(&body, "--b\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ");
    for (i = 0; i < POST_FORM_MAX_HEADER; i++)
        buf_addch(&body, 'p');
    buf_adds(&body, "\r\n\r\nx\r\n--b--");
    {
        struct buf got = BUF_INIT;

        ASSERT_EQ(parse_cut("b", buf_slice(&body), NULL, 0, &got), -ERR_MALFORMED_POST);
        ASSERT_STREQ(got.ptr, "");
        buf_release(&got);
    }
    buf_release(&body);
}

TEST(post_form_callback_error_is_sticky)
{
    static const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nxyz\r\n--b--";
    struct rec r = { BUF_INIT, 1, 0 }; /* fail on the first DATA */
    struct post_form *f = post_form_new(SLICE_LIT("b"), record, &r);

    ASSERT_EQ(post_form_feed(f, body, sizeof(body) - 1), -ERR_TOO_LARGE);
    ASSERT_EQ(post_form_feed(f, "x", 1), -ERR_TOO_LARGE);
    ASSERT_EQ(post_form_finish(f), -ERR_TOO_LARGE);
    ASSERT(!post_form_is_done(f));
    post_form_free(f);
    buf_release(&r.out);
}

/* A large part fed in odd-sized pieces: every byte comes through once, in order. */
TEST(post_form_large_random)
{
    struct buf body = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
    uint32_t x = 12345;
    size_t cuts[64], i, n;

    buf_adds(&body, "--0123abc\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n");
    buf_adds(&want, "[file|-|-]");
    for (i = 0; i < 200000; i++) {
        char c;

        x = x * 1103515245u + 12345u;
        c = "\r\n-0123abc"[(x >> 16) % 10]; /* many near-delimiters */
        buf_addch(&body, c);
        buf_addch(&want, c);
    }
    buf_adds(&body, "\r\n--0123abc--\r\n");
    buf_adds(&want, "/$");
    for (n = 0, i = 0; n < ARRAY_SIZE(cuts); n++) {
        x = x * 1103515245u + 12345u;
        i += 1 + (x >> 16) % 7000;
        if (i >= body.len)
            break;
        cuts[n] = i;
    }
    ASSERT_OK(parse_cut("0123abc", buf_slice(&body), cuts, n, &got));
    ASSERT_EQ(got.len, want.len);
    ASSERT(!memcmp(got.ptr, want.ptr, want.len));
    buf_release(&body);
    buf_release(&want);
    buf_release(&got);
}
