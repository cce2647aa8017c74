/*
 * fuzz/objmeta_decode.c: libFuzzer target over objmeta_decode(), the parser
 * of index records read back from a drive (STYLE 2.12). Any input must
 * either decode to a record that passes objmeta_validate() and re-encodes to
 * the same bytes, or fail with -ERR_CORRUPT; never crash or over-read.
 * Seeds: fuzz/corpus/objmeta_decode/ (valid records, inline and not).
 *
 *   make fuzz && build-fuzzer/fuzz/objmeta_decode -max_total_time=60 fuzz/corpus/objmeta_decode
 */
#include "util/base.h"

#include <xxhash.h>

#include "storage/objmeta.h"
#include "util/buf.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_one(const uint8_t *data, size_t size)
{
    struct obj_meta m;
    struct buf again = BUF_INIT;
    const char *name, *value;
    size_t pos = 0;
    int rc;

    objmeta_init(&m);
    rc = objmeta_decode(slice_make(data, size), &m);
    if (rc < 0) {
        BUG_ON(rc != -ERR_CORRUPT);
        BUG_ON(m.headers.len != 0 || m.inline_data.len != 0);
        goto out_release;
    }
    BUG_ON(objmeta_validate(&m) != 0);
    while (objmeta_header_next(&m, &pos, &name, &value))
        BUG_ON(pos > m.headers.len);
    objmeta_encode(&m, &again);
    BUG_ON(again.len != size || memcmp(again.ptr, data, size) != 0);
out_release:
    buf_release(&again);
    objmeta_release(&m);
}

/*
 * Each input is tried as is (almost always a checksum mismatch), and with its
 * checksum appended, so that mutations reach the field checks behind it.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t sum = XXH3_64bits(data, size);
    uint8_t *sealed = xmalloc(size + 8);
    int i;

    check_one(data, size);
    if (size > 0)
        memcpy(sealed, data, size);
    for (i = 0; i < 8; i++)
        sealed[size + (size_t)i] = (uint8_t)(sum >> (8 * i));
    check_one(sealed, size + 8);
    free(sealed);
    return 0;
}
