/*
 * cli/copy.h: copying one object or file between any two ends, local or
 * remote, for cp, mv and mirror:
 *   local  -> remote  s3ops_upload_fd: one PUT, or parallel multipart parts
 *                     past the part size; Content-Type from the file name,
 *                     the file's mtime as x-amz-meta-mtime, --attr headers;
 *   remote -> local   GET into a temporary file in the target folder, its
 *                     mtime set from x-amz-meta-mtime (else Last-Modified),
 *                     renamed into place only when complete: a failed or
 *                     interrupted download leaves no file with the final name;
 *   remote -> remote  CopyObject on the same endpoint and credentials (server
 *                     side, up to 5 GiB), else through a temporary file;
 *   local  -> local   through a temporary file and rename.
 */
#ifndef BASALT_CLI_COPY_H
#define BASALT_CLI_COPY_H

#include "util/base.h"

#include "cli/ui.h"
#include "client/client.h"

struct copy_end {
    struct client *c;          /* NULL: local */
    const struct alias *alias; /* remote */
    const char *bucket;        /* remote */
    const char *key;           /* remote */
    const char *path;          /* local */
};

struct copy_opts {
    char **attrs; /* extra header lines (parse_attrs) */
    size_t nattrs;
    uint64_t part_size;
    unsigned threads;
};

/*
 * Copies src to dst; 0 and the bytes copied in `*bytes`, or a negative
 * -ERR_* with the reason in `errmsg` ("NoSuchKey: ...", "cannot open ...").
 * Draws a progress bar for transfers on a terminal.
 */
int copy_one(const struct cli *cli, const struct copy_end *src, const struct copy_end *dst,
             const struct copy_opts *o, uint64_t *bytes, struct buf *errmsg);

/* Creates the folders of `path` above its last '/' (mkdir -p); 0 or -ERR_IO with the reason. */
int copy_mkdirs(const char *path, struct buf *errmsg);

#endif
