/*
 * tests/unit/object/test_sysobj.c: system objects (objlayer_sys_*): put,
 * get, replace, delete and list under "iam/", the key rules, and that they
 * survive closing and opening the layer again on the same drive folders.
 */
#include "util/base.h"

#include <sys/stat.h>

#include "harness.h"
#include "object/objlayer.h"
#include "object_test.h"
#include "storage/drive.h"

#define NDRIVES 4

static void
open_dirs(struct objlayer **ol)
{
    static char paths[NDRIVES][4200];
    const char *ptrs[NDRIVES];
    struct objlayer_config cfg = {
        .drives = ptrs, .ndrives = NDRIVES, .sync = true, .format_fresh = true
    };
    struct buf err = BUF_INIT;
    unsigned i;

    for (i = 0; i < NDRIVES; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/d%u", harness_tmpdir(), i);
        mkdir(paths[i], 0755);
        ptrs[i] = paths[i];
    }
    if (objlayer_open(&cfg, ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
}

struct seen {
    struct buf keys; /* "key," each */
    unsigned n, stop_after;
};

static int
see_key(void *arg, const char *key)
{
    struct seen *s = arg;

    buf_addf(&s->keys, "%s,", key);
    s->n++;
    return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

TEST(sysobj_put_get_delete_list)
{
    struct drive *drives[4];
    struct objlayer *ol;
    struct buf out = BUF_INIT;
    struct seen s = { .keys = BUF_INIT };

    object_test_open_mem(&ol, drives, 4);
    ASSERT_EQ(objlayer_sys_get(ol, NULL, "iam/users/a.json", &out), -ERR_NOT_FOUND);
    ASSERT_EQ(objlayer_sys_delete(ol, NULL, "iam/users/a.json"), -ERR_NOT_FOUND);
    ASSERT_OK(objlayer_sys_list(ol, NULL, "iam/", see_key, &s)); /* no system bucket yet */
    ASSERT_EQ(s.n, 0);

    ASSERT_OK(objlayer_sys_put(ol, NULL, "iam/users/a.json", SLICE_LIT("{\"a\":1}")));
    ASSERT_OK(objlayer_sys_put(ol, NULL, "iam/users/b.json", SLICE_LIT("{\"b\":1}")));
    ASSERT_OK(objlayer_sys_put(ol, NULL, "iam/groups/g.json", SLICE_LIT("{}")));
    ASSERT_OK(objlayer_sys_get(ol, NULL, "iam/users/a.json", &out));
    ASSERT_STREQ(out.ptr, "{\"a\":1}");
    buf_clear(&out);
    /* replaced */
    ASSERT_OK(objlayer_sys_put(ol, NULL, "iam/users/a.json", SLICE_LIT("{\"a\":2}")));
    ASSERT_OK(objlayer_sys_get(ol, NULL, "iam/users/a.json", &out));
    ASSERT_STREQ(out.ptr, "{\"a\":2}");
    buf_clear(&out);
    /* an empty document is a document */
    ASSERT_OK(objlayer_sys_put(ol, NULL, "iam/empty", SLICE_LIT("")));
    ASSERT_OK(objlayer_sys_get(ol, NULL, "iam/empty", &out));
    ASSERT_EQ(out.len, 0);

    ASSERT_OK(objlayer_sys_list(ol, NULL, "iam/users/", see_key, &s));
    ASSERT_STREQ(s.keys.ptr, "iam/users/a.json,iam/users/b.json,");
    buf_clear(&s.keys);
    s.n = 0;
    ASSERT_OK(objlayer_sys_list(ol, NULL, "iam/", see_key, &s));
    ASSERT_STREQ(s.keys.ptr, "iam/empty,iam/groups/g.json,iam/users/a.json,iam/users/b.json,");
    buf_clear(&s.keys);
    s.n = 0;
    s.stop_after = 2; /* the callback stops the walk */
    ASSERT_OK(objlayer_sys_list(ol, NULL, "iam/", see_key, &s));
    ASSERT_EQ(s.n, 2);

    ASSERT_OK(objlayer_sys_delete(ol, NULL, "iam/users/a.json"));
    ASSERT_EQ(objlayer_sys_get(ol, NULL, "iam/users/a.json", &out), -ERR_NOT_FOUND);
    ASSERT_EQ(objlayer_sys_delete(ol, NULL, "iam/users/a.json"), -ERR_NOT_FOUND);

    /* system objects are not bucket configuration: S3's listing of buckets does not show them */
    {
        struct obj_bucket *b = NULL;
        size_t n = 9;

        ASSERT_OK(objlayer_bucket_list(ol, NULL, &b, &n));
        ASSERT_EQ(n, 0);
        free(b);
    }
    buf_release(&s.keys);
    buf_release(&out);
    objlayer_close(ol);
}

TEST(sysobj_refuses_keys_outside_iam_and_odd_segments)
{
    static const char *const bad[] = {
        "buckets/b/cors",
        "iam",
        "ia/x",
        "/iam/x",
        "iam/../buckets/b/cors",
        "iam/./x",
        "iam/a//b",
        "iam/x/",
        "iam/..",
        "iam/a\nb",
        "",
    };
    struct drive *drives[4];
    struct objlayer *ol;
    struct buf out = BUF_INIT;
    struct seen s = { .keys = BUF_INIT };
    unsigned i;

    object_test_open_mem(&ol, drives, 4);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        ASSERT_EQ(objlayer_sys_put(ol, NULL, bad[i], SLICE_LIT("x")), -ERR_INVAL);
        ASSERT_EQ(objlayer_sys_get(ol, NULL, bad[i], &out), -ERR_INVAL);
        ASSERT_EQ(objlayer_sys_delete(ol, NULL, bad[i]), -ERR_INVAL);
    }
    ASSERT_EQ(objlayer_sys_list(ol, NULL, "buckets/", see_key, &s), -ERR_INVAL);
    ASSERT_EQ(objlayer_sys_list(ol, NULL, "iam/../", see_key, &s), -ERR_INVAL);
    /* dots inside a segment are fine */
    ASSERT_OK(objlayer_sys_put(ol, NULL, "iam/keys/a..b.json", SLICE_LIT("x")));
    ASSERT_OK(objlayer_sys_get(ol, NULL, "iam/keys/a..b.json", &out));
    ASSERT_STREQ(out.ptr, "x");
    buf_release(&out);
    objlayer_close(ol);
}

TEST(sysobj_survives_reopen)
{
    struct objlayer *ol;
    struct buf out = BUF_INIT;

    open_dirs(&ol);
    ASSERT_OK(objlayer_sys_put(ol, NULL, "iam/policies/p.json", SLICE_LIT("{\"p\":true}")));
    objlayer_close(ol);
    open_dirs(&ol);
    ASSERT_OK(objlayer_sys_get(ol, NULL, "iam/policies/p.json", &out));
    ASSERT_STREQ(out.ptr, "{\"p\":true}");
    buf_release(&out);
    objlayer_close(ol);
}
