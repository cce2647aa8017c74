/* tests/unit/s3/test_listing.c: ListObjects page logic against a fake, sorted source. */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"

struct fake_src {
    const char *const *keys; /* sorted */
    size_t n;
    unsigned calls;
    unsigned rows; /* rows handed to callbacks, to check the prefix skipping */
};

static int
fake_list(void *arg, struct slice prefix, struct slice after, unsigned limit, obj_list_fn *cb,
          void *cb_arg)
{
    struct fake_src *f = arg;
    unsigned given = 0;
    size_t i;
    int rc;

    f->calls++;
    for (i = 0; i < f->n; i++) {
        struct obj_list_ent e = { .key = slice_cstr(f->keys[i]), .size = i, .etag = "e" };

        if (!slice_starts_with(e.key, prefix) || slice_cmp(e.key, after) <= 0)
            continue;
        f->rows++;
        rc = cb(cb_arg, &e);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        if (limit && ++given == limit)
            break;
    }
    return 0;
}

static const char *const keys[] = {
    "a", "a/1", "a/2", "a/3/x", "b", "c/1", "c/2", "d",
};

static void
page(struct arena *a, struct fake_src *f, const char *prefix, const char *delim, const char *after,
     unsigned max, struct s3_list_page *pg)
{
    struct s3_list_params p = { slice_cstr(prefix), slice_cstr(delim), slice_cstr(after), max };

    ASSERT_OK(s3_list_page(a, fake_list, f, &p, pg));
}

static void
expect(const struct s3_list_page *pg, const char *const *want, size_t n)
{
    size_t i;

    ASSERT_EQ(pg->nitems, n);
    for (i = 0; i < n && i < pg->nitems; i++) {
        bool is_prefix = want[i][0] == '+';
        const char *k = want[i] + is_prefix;

        ASSERT_STREQ(pg->items[i].key, k);
        ASSERT_EQ(pg->items[i].is_prefix, is_prefix);
    }
}

TEST(s3_listing_flat)
{
    struct arena *a = arena_new(0);
    struct fake_src f = { .keys = keys, .n = ARRAY_SIZE(keys) };
    struct s3_list_page pg;
    static const char *const w1[] = { "a", "a/1", "a/2" };
    static const char *const w2[] = { "a/3/x", "b", "c/1", "c/2", "d" };

    page(a, &f, "", "", "", 3, &pg);
    expect(&pg, w1, 3);
    ASSERT(pg.truncated);
    ASSERT_STREQ(pg.next.ptr, "a/2");
    page(a, &f, "", "", "a/2", 1000, &pg);
    expect(&pg, w2, 5);
    ASSERT(!pg.truncated);
    page(a, &f, "", "", "", 8, &pg); /* exactly all: not truncated */
    ASSERT_EQ(pg.nitems, 8);
    ASSERT(!pg.truncated);
    page(a, &f, "", "", "", 0, &pg);
    ASSERT_EQ(pg.nitems, 0);
    ASSERT(!pg.truncated);
    arena_free(a);
}

TEST(s3_listing_delimiter)
{
    struct arena *a = arena_new(0);
    struct fake_src f = { .keys = keys, .n = ARRAY_SIZE(keys) };
    struct s3_list_page pg;
    static const char *const w1[] = { "a", "+a/", "b", "+c/", "d" };
    static const char *const w2[] = { "a/1", "a/2", "+a/3/" };
    static const char *const w3[] = { "a", "+a/" };
    static const char *const w4[] = { "b", "+c/" };

    page(a, &f, "", "/", "", 1000, &pg);
    expect(&pg, w1, 5);
    ASSERT_EQ(pg.nkeys, 3);
    ASSERT_EQ(pg.nprefixes, 2);
    ASSERT(!pg.truncated);
    page(a, &f, "a/", "/", "", 1000, &pg);
    expect(&pg, w2, 3);
    /* pages of 2, resuming from the last item (a common prefix) as S3's NextMarker */
    page(a, &f, "", "/", "", 2, &pg);
    expect(&pg, w3, 2);
    ASSERT(pg.truncated);
    ASSERT_STREQ(pg.next.ptr, "a/");
    page(a, &f, "", "/", "a/", 2, &pg);
    expect(&pg, w4, 2);
    ASSERT(pg.truncated);
    ASSERT_STREQ(pg.next.ptr, "c/");
    page(a, &f, "", "/", "c/", 2, &pg);
    ASSERT_EQ(pg.nitems, 1);
    ASSERT_STREQ(pg.items[0].key, "d");
    ASSERT(!pg.truncated);
    arena_free(a);
}

/* A common prefix over many keys is skipped, not read through. */
TEST(s3_listing_skips_prefixes)
{
    struct arena *a = arena_new(0);
    const char **many = xcalloc(10002, sizeof(*many));
    struct fake_src f;
    struct s3_list_page pg;
    size_t i;

    many[0] = "a";
    for (i = 0; i < 10000; i++)
        many[i + 1] = arena_printf(a, "p/%05zu", i);
    many[10001] = "z";
    f = (struct fake_src){ .keys = many, .n = 10002 };
    page(a, &f, "", "/", "", 1000, &pg);
    ASSERT_EQ(pg.nitems, 3);
    ASSERT_STREQ(pg.items[1].key, "p/");
    ASSERT(pg.items[1].is_prefix);
    ASSERT(f.rows < 10); /* not O(objects under p/) */
    free(many);
    arena_free(a);
}

TEST(s3_listing_multichar_delimiter_and_prefix)
{
    static const char *const k[] = { "x--1", "x--2", "x-y", "y" };
    struct arena *a = arena_new(0);
    struct fake_src f = { .keys = k, .n = ARRAY_SIZE(k) };
    struct s3_list_page pg;
    static const char *const w[] = { "+x--", "x-y" };

    page(a, &f, "x", "--", "", 1000, &pg);
    expect(&pg, w, 2);
    arena_free(a);
}
