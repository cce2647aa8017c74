/*
 * fuzz/range_header.c: the Range header parser of GetObject
 * (s3_range_parse) and the conditional headers (s3_conditions_eval).
 * Input: 8 bytes of object size (little endian), then the header value.
 * Checks that a satisfiable range lies inside the object.
 */
#include "util/base.h"

#include "s3/internal.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t obj_size = 0, off = 0, len = 0;
    int rc;

    if (size < 8)
        return 0;
    memcpy(&obj_size, data, 8);
    if (data[0] & 1) /* keep small sizes frequent */
        obj_size &= 0xffff;
    rc = s3_range_parse(slice_make(data + 8, size - 8), obj_size, &off, &len);
    BUG_ON(rc != 0 && rc != 1 && rc != -ERR_INVALID_RANGE);
    if (rc == 1) {
        BUG_ON(len == 0);
        BUG_ON(off >= obj_size);
        BUG_ON(len > obj_size - off);
    }
    {
        struct slice v = slice_make(data + 8, size - 8);
        struct s3_conditions c = { v, v, v, v };

        rc = s3_conditions_eval(&c, "0123456789abcdef", (time_t)(obj_size & 0xffffffff));
        BUG_ON(rc != 0 && rc != -ERR_PRECONDITION_FAILED && rc != -ERR_NOT_MODIFIED);
    }
    return 0;
}
