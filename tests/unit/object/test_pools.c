/*
 * tests/unit/object/test_pools.c: a layer of several pools (placement.c).
 * New objects spread over the pools, an object stays in its pool when
 * overwritten, reads, listings and deletes find it wherever it is; a copy
 * left in another pool (two creates racing, a drive away) never hides the
 * newest version and is removed by the heal; uploads complete in their
 * pool; a pool added to a deployment is formatted with its id, and pools
 * given in another order are refused.
 */
#include "util/base.h"

#include <stdio.h>

#include "harness.h"
#include "object/internal.h"
#include "object/objlayer.h"
#include "object_test.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"

#define PER_POOL 4
#define NKEYS 40
#define BIG (300 * 1024) /* not inline */

static void
open_pools(struct objlayer **ol, struct drive **drives, unsigned npools)
{
    struct objlayer_pool pools[4];
    struct objlayer_config cfg = {
        .ndrives = npools * PER_POOL,
        .sync = true,
        .prebuilt = drives,
        .pools = pools,
        .npools = npools,
    };
    struct buf err = BUF_INIT;
    unsigned i;

    for (i = 0; i < npools; i++)
        pools[i] = (struct objlayer_pool){ .ndrives = PER_POOL };
    for (i = 0; i < npools * PER_POOL; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        drives[i] = drive_faulty_new(drive_mem_new(name));
    }
    if (objlayer_open(&cfg, ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
}

/* Bit p set when a drive of pool p holds a record of b/key. */
static unsigned
pools_holding(struct drive **drives, unsigned npools, const char *key)
{
    unsigned p, j, mask = 0;

    for (p = 0; p < npools; p++)
        for (j = 0; j < PER_POOL; j++) {
            struct obj_meta m;

            objmeta_init(&m);
            if (drive_meta_read(drives[p * PER_POOL + j], "b", key, &m) == 0)
                mask |= 1u << p;
            objmeta_release(&m);
        }
    return mask;
}

struct listed {
    unsigned n;
    char keys[NKEYS * 2][32];
};

static int
list_cb(void *arg, const struct obj_list_ent *e)
{
    struct listed *l = arg;

    if (l->n < ARRAY_SIZE(l->keys))
        snprintf(l->keys[l->n], sizeof(l->keys[0]), "%.*s", (int)e->key.len, e->key.ptr);
    l->n++;
    return 0;
}

static size_t
size_of(unsigned i)
{
    return i % 3 == 0 ? BIG : 1000 + i;
}

TEST(object_pools_spread_stay_and_are_found)
{
    struct drive *drives[2 * PER_POOL];
    struct objlayer *ol = NULL;
    uint8_t *a = xmalloc(BIG), *b = xmalloc(BIG);
    unsigned where[NKEYS], used = 0, i;
    struct listed l = { 0 };
    char key[32];

    open_pools(&ol, drives, 2);
    object_test_fill(a, BIG, 1);
    object_test_fill(b, BIG, 2);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    for (i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "k%02u", i);
        ASSERT_OK(object_test_put(ol, key, a, size_of(i), SLICE_NULL));
        where[i] = pools_holding(drives, 2, key);
        ASSERT(where[i] == 1 || where[i] == 2); /* one pool, not both */
        used |= where[i];
    }
    ASSERT_EQ(used, 3);           /* both pools took new objects (40 coin flips) */
    for (i = 0; i < NKEYS; i++) { /* an overwrite stays where the object is */
        snprintf(key, sizeof(key), "k%02u", i);
        ASSERT_OK(object_test_put(ol, key, b, size_of(i), SLICE_NULL));
        ASSERT_EQ(pools_holding(drives, 2, key), where[i]);
        ASSERT_OK(object_test_check_read(ol, key, b, size_of(i)));
    }
    ASSERT_OK(objlayer_list(ol, NULL, "b", SLICE_NULL, SLICE_NULL, 0, list_cb, &l));
    ASSERT_EQ(l.n, NKEYS);
    for (i = 0; i < NKEYS; i += 2) {
        snprintf(key, sizeof(key), "k%02u", i);
        ASSERT_OK(objlayer_delete(ol, NULL, "b", key));
        ASSERT_EQ(pools_holding(drives, 2, key), 0);
        ASSERT_EQ(objlayer_delete(ol, NULL, "b", key), -ERR_KEY_NOT_FOUND);
    }
    memset(&l, 0, sizeof(l));
    ASSERT_OK(objlayer_list(ol, NULL, "b", SLICE_NULL, SLICE_NULL, 0, list_cb, &l));
    ASSERT_EQ(l.n, NKEYS / 2);
    ASSERT_STREQ(l.keys[0], "k01");
    objlayer_close(ol);
    free(a);
    free(b);
}

/* PUTs into the given set (another pool than the object's: what a racing create does). */
static int
put_into(struct objlayer *ol, struct eset *set, const char *key, const uint8_t *data, size_t n,
         const struct obj_cond *cond)
{
    struct obj_put_opts opts = { .size = (int64_t)n, .cond = cond };
    struct obj_put *p;
    int rc = object__put_begin(ol, "b", key, &opts, NULL, set, &p);

    if (rc < 0)
        return rc;
    rc = obj_put_write(p, data, n);
    if (rc < 0) {
        obj_put_abort(p);
        return rc;
    }
    return obj_put_finish(p, NULL);
}

TEST(object_pools_copy_in_another_pool_never_wins_and_is_healed_away)
{
    struct drive *drives[2 * PER_POOL];
    struct objlayer *ol = NULL;
    struct obj_cond create = { .if_none_match = true, .if_match = SLICE_NULL };
    uint8_t *a = xmalloc(BIG), *b = xmalloc(BIG);
    struct heal_report r = { 0 };
    struct listed l = { 0 };
    unsigned home, other, j;

    open_pools(&ol, drives, 2);
    object_test_fill(a, BIG, 3);
    object_test_fill(b, BIG, 4);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, "k", a, BIG, SLICE_NULL));
    home = pools_holding(drives, 2, "k") == 1 ? 0 : 1;
    other = 1 - home;

    /* a create in the other pool sees the object there: If-None-Match fails, nothing written */
    ASSERT_EQ(put_into(ol, object__pool_set(ol, other, "b", "k"), "k", b, BIG, &create),
              -ERR_PRECONDITION_FAILED);
    ASSERT_EQ(pools_holding(drives, 2, "k"), 1u << home);

    /* a newer version committed in the other pool while the home pool cannot drop its copy */
    for (j = 0; j < PER_POOL; j++)
        drive_faulty_fail_after(drives[home * PER_POOL + j], DRIVE_FAULTY_OP_META_DELETE, 1,
                                -ERR_IO);
    ASSERT_OK(put_into(ol, object__pool_set(ol, other, "b", "k"), "k", b, BIG, NULL));
    ASSERT_EQ(pools_holding(drives, 2, "k"), 3);        /* both hold one */
    ASSERT_OK(object_test_check_read(ol, "k", b, BIG)); /* the newest wins */
    ASSERT_OK(objlayer_list(ol, NULL, "b", SLICE_NULL, SLICE_NULL, 0, list_cb, &l));
    ASSERT_EQ(l.n, 1);

    /* the heal removes the older copy once the drives let it */
    for (j = 0; j < PER_POOL; j++)
        drive_faulty_clear(drives[home * PER_POOL + j]);
    ASSERT_OK(objlayer_heal_object(ol, NULL, "b", "k", &r));
    ASSERT_EQ(pools_holding(drives, 2, "k"), 1u << other);
    ASSERT_OK(object_test_check_read(ol, "k", b, BIG));

    /* an overwrite through the layer goes to the pool now holding it */
    ASSERT_OK(object_test_put(ol, "k", a, 10, SLICE_NULL));
    ASSERT_EQ(pools_holding(drives, 2, "k"), 1u << other);
    ASSERT_OK(object_test_check_read(ol, "k", a, 10));
    objlayer_close(ol);
    free(a);
    free(b);
}

TEST(object_pools_delete_removes_every_copy)
{
    struct drive *drives[2 * PER_POOL];
    struct objlayer *ol = NULL;
    uint8_t data[100];
    unsigned home, j;

    open_pools(&ol, drives, 2);
    object_test_fill(data, sizeof(data), 5);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    ASSERT_OK(object_test_put(ol, "k", data, sizeof(data), SLICE_NULL));
    home = pools_holding(drives, 2, "k") == 1 ? 0 : 1;
    for (j = 0; j < PER_POOL; j++)
        drive_faulty_fail_after(drives[home * PER_POOL + j], DRIVE_FAULTY_OP_META_DELETE, 1,
                                -ERR_IO);
    ASSERT_OK(put_into(ol, object__pool_set(ol, 1 - home, "b", "k"), "k", data, 50, NULL));
    for (j = 0; j < PER_POOL; j++)
        drive_faulty_clear(drives[home * PER_POOL + j]);
    ASSERT_EQ(pools_holding(drives, 2, "k"), 3);
    ASSERT_OK(objlayer_delete(ol, NULL, "b", "k"));
    ASSERT_EQ(pools_holding(drives, 2, "k"), 0); /* no older copy comes back */
    ASSERT_EQ(object_test_check_read(ol, "k", data, 50), -ERR_KEY_NOT_FOUND);
    objlayer_close(ol);
}

TEST(object_pools_multipart_completes_in_the_upload_pool)
{
    struct drive *drives[2 * PER_POOL];
    struct objlayer *ol = NULL;
    struct obj_put_opts opts = { .size = -1 };
    size_t n1 = OBJ_MP_MIN_PART, n2 = 1000;
    uint8_t *data = xmalloc(n1 + n2);
    struct obj_mp_part parts[2] = { { .number = 1 }, { .number = 2 } };
    char id[OBJ_VID_LEN + 1], key[32];
    unsigned i, used = 0;

    open_pools(&ol, drives, 2);
    object_test_fill(data, n1 + n2, 6);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    for (i = 0; i < 8; i++) { /* uploads land in either pool; each completes where it is */
        struct obj_put *p;
        struct obj_info info;
        unsigned part;

        snprintf(key, sizeof(key), "mp%u", i);
        ASSERT_OK(objlayer_mp_create(ol, NULL, "b", key, &opts, id));
        for (part = 0; part < 2; part++) {
            struct obj_put_opts po = { .size = (int64_t)(part ? n2 : n1) };

            ASSERT_OK(objlayer_mp_part_begin(ol, NULL, "b", key, id, part + 1, &po, &p));
            ASSERT_OK(obj_put_write(p, data + (part ? n1 : 0), part ? n2 : n1));
            obj_info_init(&info);
            ASSERT_OK(obj_put_finish(p, &info));
            snprintf(parts[part].etag, sizeof(parts[part].etag), "%.35s", info.etag);
            obj_info_release(&info);
        }
        ASSERT_OK(objlayer_mp_complete(ol, NULL, "b", key, id, parts, 2, NULL, NULL));
        ASSERT(pools_holding(drives, 2, key) == 1 || pools_holding(drives, 2, key) == 2);
        used |= pools_holding(drives, 2, key);
        ASSERT_OK(object_test_check_read(ol, key, data, n1 + n2));
        ASSERT_EQ(objlayer_mp_abort(ol, NULL, "b", key, id), -ERR_NO_SUCH_UPLOAD);
    }
    ASSERT(used != 0);
    objlayer_close(ol);
    free(data);
}

/* Opens a layer on folders d0.. of the test's directory, `npools` pools of `sizes`. */
static int
open_folders(struct objlayer **ol, unsigned first, const size_t *sizes, unsigned npools,
             struct buf *err)
{
    static char paths[16][4200];
    const char *ptrs[16];
    struct objlayer_pool pools[4];
    struct objlayer_config cfg = { .drives = ptrs, .sync = true, .pools = pools, .npools = npools };
    size_t total = 0;
    unsigned i;

    for (i = 0; i < npools; i++) {
        pools[i] = (struct objlayer_pool){ .ndrives = sizes[i] };
        total += sizes[i];
    }
    for (i = 0; i < total; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/d%u", harness_tmpdir(), (first + i) % 8);
        ptrs[i] = paths[i];
    }
    cfg.ndrives = total;
    return objlayer_open(&cfg, ol, err);
}

/* The "deployment_id" of folder d<i>'s format.json. */
static void
deployment_of(unsigned i, char out[64])
{
    char path[4300], text[4096];
    FILE *f;
    size_t n;
    const char *at;

    snprintf(path, sizeof(path), "%s/d%u/.basalt/format.json", harness_tmpdir(), i);
    f = fopen(path, "r");
    ASSERT(f != NULL);
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    at = strstr(text, "\"deployment_id\"");
    ASSERT(at != NULL);
    at = strchr(at + 15, '"');
    ASSERT(at != NULL);
    snprintf(out, 64, "%.36s", at + 1);
}

TEST(object_pools_a_pool_added_later)
{
    const size_t one[1] = { 4 }, two[2] = { 4, 4 }, merged[1] = { 8 };
    struct objlayer *ol = NULL;
    struct buf err = BUF_INIT;
    uint8_t *data = xmalloc(BIG);
    char key[32], dep0[64], dep5[64];
    unsigned i, in_new = 0;

    object_test_fill(data, BIG, 7);
    ASSERT_OK(open_folders(&ol, 0, one, 1, &err));
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    for (i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "old%u", i);
        ASSERT_OK(object_test_put(ol, key, data, 1000 + i, SLICE_NULL));
    }
    objlayer_close(ol);

    /* a second pool: formatted with the deployment's id; old objects stay readable */
    ASSERT_OK(open_folders(&ol, 0, two, 2, &err));
    deployment_of(0, dep0);
    deployment_of(5, dep5);
    ASSERT_STREQ(dep0, dep5);
    for (i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "old%u", i);
        ASSERT_OK(object_test_check_read(ol, key, data, 1000 + i));
    }
    for (i = 0; i < 30; i++) {
        struct obj_info info;

        snprintf(key, sizeof(key), "new%u", i);
        ASSERT_OK(object_test_put(ol, key, data, BIG, SLICE_NULL));
        obj_info_init(&info);
        ASSERT_OK(objlayer_head(ol, NULL, "b", key, &info));
        obj_info_release(&info);
    }
    objlayer_close(ol);
    /* opened again: each new object is found in the pool it went to, some in the new one */
    ASSERT_OK(open_folders(&ol, 0, two, 2, &err));
    for (i = 0; i < 30; i++) {
        struct eset *set;

        snprintf(key, sizeof(key), "new%u", i);
        ASSERT_OK(object__locate(ol, "b", key, &set));
        in_new += set->pool == 1;
    }
    ASSERT(in_new > 0 && in_new < 30);
    objlayer_close(ol);

    /* the pools in another order, or as one: refused, saying why */
    ASSERT(open_folders(&ol, 4, two, 2, &err) < 0);
    ASSERT(strstr(err.ptr, "pool") != NULL);
    buf_clear(&err);
    ASSERT(open_folders(&ol, 0, merged, 1, &err) < 0);
    ASSERT(strstr(err.ptr, "sets of 4 drives") != NULL || strstr(err.ptr, "pool") != NULL);
    buf_release(&err);
    free(data);
}

/*
 * Another pool that cannot tell (its set for the key below read quorum) may
 * hold a newer version of the key: a write elsewhere is refused, not
 * acknowledged and then hidden by it; once the pool answers, it goes through.
 */
TEST(object_pools_write_refused_while_another_pool_cannot_tell)
{
    struct drive *drives[2 * PER_POOL];
    struct objlayer *ol = NULL;
    unsigned j;

    open_pools(&ol, drives, 2);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    for (j = 1; j < PER_POOL; j++) /* pool 1: 1 drive of 4 answers (read quorum is 2) */
        drive_faulty_fail_after(drives[PER_POOL + j], DRIVE_FAULTY_OP_META_READ, 1, -ERR_IO);
    ASSERT_EQ(put_into(ol, object__pool_set(ol, 0, "b", "k"), "k", (const uint8_t *)"x", 1, NULL),
              -ERR_QUORUM);
    ASSERT_EQ(pools_holding(drives, 2, "k"), 0);
    for (j = 1; j < PER_POOL; j++)
        drive_faulty_clear(drives[PER_POOL + j]);
    ASSERT_OK(put_into(ol, object__pool_set(ol, 0, "b", "k"), "k", (const uint8_t *)"x", 1, NULL));
    ASSERT_EQ(pools_holding(drives, 2, "k"), 1);
    objlayer_close(ol);
}
