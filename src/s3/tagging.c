/* s3/tagging.c: not built yet; answers 501 NotImplemented. */
#include "util/base.h"

#include "s3/internal.h"
#include "util/err.h"

void
s3__object_tagging(struct s3_call *call)
{
    s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
}

void
s3__bucket_tagging(struct s3_call *call)
{
    s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
}
