/* s3/attributes.c: not built yet; answers 501 NotImplemented. */
#include "util/base.h"

#include "s3/internal.h"
#include "util/err.h"

void
s3__get_object_attributes(struct s3_call *call)
{
    s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
}
