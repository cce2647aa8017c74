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

int
err_from_name(const char *name, size_t n, int unknown)
{
    size_t e;

    if (n == 0)
        return 0;
    for (e = 1; e < ERR__COUNT; e++)
        if (strlen(names[e]) == n && memcmp(names[e], name, n) == 0)
            return -(int)e;
    return unknown;
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
