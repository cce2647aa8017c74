/* s3/multipart.c: not built yet; answers 501 NotImplemented. */
#include "util/base.h"

#include "s3/internal.h"
#include "util/err.h"

void
s3__create_multipart(struct s3_call *call)
{
    s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
}

void
s3__upload_part(struct s3_call *call)
{
    s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
}

void
s3__complete_multipart(struct s3_call *call)
{
    s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
}

void
s3__abort_multipart(struct s3_call *call)
{
    s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
}

void
s3__list_parts(struct s3_call *call)
{
    s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
}

void
s3__list_uploads(struct s3_call *call)
{
    s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
}
