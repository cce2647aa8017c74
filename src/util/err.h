/*
 * util/err.h: the one error space (STYLE 2.4). Commands return 0 or -ERR_*;
 * size-returning functions return the size or -ERR_*.
 */
#ifndef BASALT_UTIL_ERR_H
#define BASALT_UTIL_ERR_H

enum err {
#define ERR(sym, msg) ERR_##sym,
#include "util/errors.def"
#undef ERR
    ERR__COUNT
};

/* "NOT_FOUND" for ERR_NOT_FOUND or -ERR_NOT_FOUND; "UNKNOWN" out of range. */
const char *err_name(int e);
/*
 * The code err_name() spells as the `n` bytes at `name`: -ERR_*; 0 for an
 * empty name; `unknown` for a name this version does not know (a newer
 * peer's). Codes cross the network by name, never by number: the numbers
 * change when errors.def gains a symbol.
 */
int err_from_name(const char *name, size_t n, int unknown);
/* The one-line meaning from errors.def. */
const char *err_msg(int e);
/* Converts an errno value: ENOENT -> -ERR_NOT_FOUND, ENOSPC/EDQUOT -> -ERR_NO_SPACE, else -ERR_IO.
 */
int err_from_errno(int e);

#endif
