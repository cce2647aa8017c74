/* tests/unit/object/object_test.c: helpers shared by the object-layer tests. */
#include "util/base.h"

#include "object_test.h"

#include <openssl/evp.h>

#include "harness.h"
#include "storage/drive.h"
#include "storage/drive_faulty.h"
#include "util/enc.h"
#include "util/err.h"

void
object_test_md5_hex(const void *p, size_t n, char out[33])
{
    uint8_t md[16];
    unsigned len;

    EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
    hex_encode_to(out, md, sizeof(md));
}

int
object_test_check_read(struct objlayer *ol, const char *key, const uint8_t *want, size_t n)
{
    struct obj_info info;
    struct obj_get *g;
    uint8_t *buf = xmalloc(n + 1);
    ssize_t got;
    int rc;

    obj_info_init(&info);
    rc = objlayer_get_open(ol, NULL, "b", key, &g, &info);
    if (rc == 0) {
        got = obj_get_read(g, 0, buf, n + 1);
        obj_get_close(g);
        if (got < 0)
            rc = (int)got;
        else if ((size_t)got != n || info.size != n || memcmp(buf, want, n) != 0)
            rc = -ERR_CORRUPT;
    }
    obj_info_release(&info);
    free(buf);
    return rc;
}

static void
open_mem(struct objlayer **ol, struct drive **drives, unsigned n, bool faulty)
{
    struct objlayer_config cfg = { .ndrives = n, .sync = true, .prebuilt = drives };
    struct buf err = BUF_INIT;
    unsigned i;

    for (i = 0; i < n; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        drives[i] = drive_mem_new(name);
        if (faulty)
            drives[i] = drive_faulty_new(drives[i]);
    }
    if (objlayer_open(&cfg, ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    buf_release(&err);
}

void
object_test_open_mem(struct objlayer **ol, struct drive **drives, unsigned n)
{
    open_mem(ol, drives, n, false);
}

void
object_test_open_faulty(struct objlayer **ol, struct drive **drives, unsigned n)
{
    open_mem(ol, drives, n, true);
}

void
object_test_fill(uint8_t *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    size_t i;

    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

int
object_test_put(struct objlayer *ol, const char *key, const void *data, size_t n,
                struct slice headers)
{
    struct obj_put_opts opts = { .size = (int64_t)n, .headers = headers };
    struct obj_put *p;
    int rc = objlayer_put_begin(ol, NULL, "b", key, &opts, &p);

    if (rc < 0)
        return rc;
    rc = obj_put_write(p, data, n);
    if (rc < 0) {
        obj_put_abort(p);
        return rc;
    }
    return obj_put_finish(p, NULL);
}

void
object_test_record(struct drive *d, const char *bucket, const char *key, struct obj_meta *out)
{
    ASSERT_OK(drive_meta_read(d, bucket, key, out));
}
