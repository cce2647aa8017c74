/* tests/unit/cli/test_parse.c: the client's small parsers (cli/parse.h). */
#include "util/base.h"

#include "cli/parse.h"

#include "harness.h"

TEST(cli_parse_duration)
{
    int64_t s = -1;

    ASSERT_OK(parse_duration("7d", &s));
    ASSERT_EQ(s, 7 * 86400);
    ASSERT_OK(parse_duration("12h", &s));
    ASSERT_EQ(s, 12 * 3600);
    ASSERT_OK(parse_duration("1d12h30m5s", &s));
    ASSERT_EQ(s, 86400 + 12 * 3600 + 30 * 60 + 5);
    ASSERT_OK(parse_duration("2w", &s));
    ASSERT_EQ(s, 14 * 86400);
    ASSERT_OK(parse_duration("90", &s));
    ASSERT_EQ(s, 90);
    ASSERT_OK(parse_duration("0s", &s));
    ASSERT_EQ(s, 0);
    s = 42;
    ASSERT_EQ(parse_duration("", &s), -ERR_INVAL);
    ASSERT_EQ(parse_duration("d", &s), -ERR_INVAL);
    ASSERT_EQ(parse_duration("7x", &s), -ERR_INVAL);
    ASSERT_EQ(parse_duration("1d5", &s), -ERR_INVAL);
    ASSERT_EQ(parse_duration("-1d", &s), -ERR_INVAL);
    ASSERT_EQ(parse_duration("36501d", &s), -ERR_INVAL);
    ASSERT_EQ(parse_duration("99999999999999999999d", &s), -ERR_INVAL);
    ASSERT_EQ(s, 42); /* untouched on error */
}

TEST(cli_parse_rfc3339)
{
    int64_t t = -1;

    ASSERT_OK(parse_rfc3339("1970-01-01T00:00:00Z", &t));
    ASSERT_EQ(t, 0);
    ASSERT_OK(parse_rfc3339("2025-01-02T03:04:05Z", &t));
    ASSERT_EQ(t, 1735787045);
    ASSERT_OK(parse_rfc3339("2025-01-02t03:04:05.123456z", &t));
    ASSERT_EQ(t, 1735787045);
    ASSERT_OK(parse_rfc3339("2025-01-02T04:04:05+01:00", &t));
    ASSERT_EQ(t, 1735787045);
    ASSERT_OK(parse_rfc3339("2025-01-01T21:34:05-0530", &t));
    ASSERT_EQ(t, 1735787045);
    t = 42;
    ASSERT_EQ(parse_rfc3339("2025-01-02T03:04:05", &t), -ERR_INVAL);   /* no zone */
    ASSERT_EQ(parse_rfc3339("2025-01-02 03:04:05Z", &t), -ERR_INVAL);  /* no T */
    ASSERT_EQ(parse_rfc3339("2025-01-02T03:04:05.Z", &t), -ERR_INVAL); /* empty fraction */
    ASSERT_EQ(parse_rfc3339("2025-01-02T03:04:05+24:00", &t), -ERR_INVAL);
    ASSERT_EQ(parse_rfc3339("2025-01-02T03:04:05Zjunk", &t), -ERR_INVAL);
    ASSERT_EQ(parse_rfc3339("7d", &t), -ERR_INVAL);
    ASSERT_EQ(parse_rfc3339("", &t), -ERR_INVAL);
    ASSERT_EQ(t, 42); /* untouched on error */
}

TEST(cli_parse_size)
{
    uint64_t b = 0;

    ASSERT_OK(parse_size("512", &b));
    ASSERT_EQ(b, 512);
    ASSERT_OK(parse_size("10K", &b));
    ASSERT_EQ(b, 10240);
    ASSERT_OK(parse_size("10KiB", &b));
    ASSERT_EQ(b, 10240);
    ASSERT_OK(parse_size("5MB", &b));
    ASSERT_EQ(b, 5ull << 20);
    ASSERT_OK(parse_size("1g", &b));
    ASSERT_EQ(b, 1ull << 30);
    ASSERT_OK(parse_size("7B", &b));
    ASSERT_EQ(b, 7);
    ASSERT_EQ(parse_size("", &b), -ERR_INVAL);
    ASSERT_EQ(parse_size("K", &b), -ERR_INVAL);
    ASSERT_EQ(parse_size("1.5M", &b), -ERR_INVAL);
    ASSERT_EQ(parse_size("10X", &b), -ERR_INVAL);
    ASSERT_EQ(parse_size("99999999999P", &b), -ERR_INVAL);
}

TEST(cli_glob)
{
    ASSERT(glob_match("*.txt", "a.txt"));
    ASSERT(glob_match("*.txt", "dir/a.txt")); /* '*' crosses '/' */
    ASSERT(!glob_match("*.txt", "a.txt.gz"));
    ASSERT(glob_match("file-?.log", "file-1.log"));
    ASSERT(!glob_match("file-?.log", "file-10.log"));
    ASSERT(glob_match("[ab]*", "beta"));
    ASSERT(!glob_match("[ab]*", "gamma"));
    ASSERT(glob_match("\\*", "*"));
    ASSERT(!glob_match("\\*", "x"));
}

TEST(cli_path_split_remote)
{
    char *b, *k;

    path_split_remote("bucket/dir/key.txt", &b, &k);
    ASSERT_STREQ(b, "bucket");
    ASSERT_STREQ(k, "dir/key.txt");
    free(b);
    free(k);
    path_split_remote("bucket", &b, &k);
    ASSERT_STREQ(b, "bucket");
    ASSERT_STREQ(k, "");
    free(b);
    free(k);
    path_split_remote("bucket/dir/", &b, &k);
    ASSERT_STREQ(k, "dir/");
    free(b);
    free(k);
    path_split_remote("", &b, &k);
    ASSERT_STREQ(b, "");
    ASSERT_STREQ(k, "");
    free(b);
    free(k);
}

static void
join_ok(const char *dir, const char *rel, const char *want)
{
    struct buf out = BUF_INIT;

    ASSERT_OK(path_join_safe(dir, rel, &out));
    ASSERT_STREQ(out.ptr, want);
    buf_release(&out);
}

static void
join_refused(const char *dir, const char *rel)
{
    struct buf out = BUF_INIT;

    buf_adds(&out, "unchanged");
    ASSERT_EQ(path_join_safe(dir, rel, &out), -ERR_INVAL);
    ASSERT_STREQ(out.ptr, "unchanged");
    buf_release(&out);
}

TEST(cli_path_join_safe)
{
    join_ok("/tmp/t", "a/b.txt", "/tmp/t/a/b.txt");
    join_ok("/tmp/t/", "a//./b", "/tmp/t/a/b");
    join_ok("/tmp/t", "/abs/x", "/tmp/t/abs/x");
    join_ok("t", "..x/y..", "t/..x/y..");
    join_ok("", "f", "./f");
    join_refused("/tmp/t", "a/../../x");
    join_refused("/tmp/t", "../x");
    join_refused("/tmp/t", "a/..");
    join_refused("/tmp/t", "..");
    join_refused("/tmp/t", "");
    join_refused("/tmp/t", "./");
    join_refused("/tmp/t", "//");
}

TEST(cli_parse_attrs)
{
    char **h = NULL;
    size_t n = 0, i;

    ASSERT_OK(parse_attrs("project=basalt;Content-Type=text/csv;empty=;x=a=b", &h, &n));
    ASSERT_EQ(n, 4);
    ASSERT_STREQ(h[0], "x-amz-meta-project: basalt");
    ASSERT_STREQ(h[1], "Content-Type: text/csv");
    ASSERT_STREQ(h[2], "x-amz-meta-empty: ");
    ASSERT_STREQ(h[3], "x-amz-meta-x: a=b");
    ASSERT_EQ(parse_attrs("novalue", &h, &n), -ERR_INVAL);
    ASSERT_EQ(parse_attrs("=v", &h, &n), -ERR_INVAL);
    ASSERT_EQ(parse_attrs("bad name=v", &h, &n), -ERR_INVAL);
    for (i = 0; i < n; i++)
        free(h[i]);
    free(h);
}

TEST(cli_content_type)
{
    ASSERT_STREQ(content_type_for("a/b/notes.TXT"), "text/plain");
    ASSERT_STREQ(content_type_for("x.json"), "application/json");
    ASSERT_STREQ(content_type_for("photo.jpeg"), "image/jpeg");
    ASSERT_STREQ(content_type_for("archive.tar.gz"), "application/gzip");
    ASSERT_STREQ(content_type_for(".bashrc"), "application/octet-stream");
    ASSERT_STREQ(content_type_for("dir.d/noext"), "application/octet-stream");
    ASSERT_STREQ(content_type_for("x.unknown"), "application/octet-stream");
}
