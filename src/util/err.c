/* util/err.c: names and messages of the error space. */
#include "util/base.h"

#include "util/err.h"

static const char *const names[] = {
#define ERR(sym, msg) #sym,
#include "util/errors.def"
#undef ERR
};

static const char *const msgs[] = {
#define ERR(sym, msg) msg,
#include "util/errors.def"
#undef ERR
};

const char *
err_name(int e)
{
    if (e < 0)
        e = -e;
    return e < ERR__COUNT ? names[e] : "UNKNOWN";
}

const char *
err_msg(int e)
{
    if (e < 0)
        e = -e;
    return e < ERR__COUNT ? msgs[e] : "unknown error";
}

int
err_from_errno(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return -ERR_NOT_FOUND;
    case ENOSPC:
    case EDQUOT:
        return -ERR_NO_SPACE;
    case EEXIST:
        return -ERR_EXISTS;
    case ENOTEMPTY:
        return -ERR_NOT_EMPTY;
    default:
        return -ERR_IO;
    }
}
