/*
 * client/s3ops.h: the S3 operations of the `basalt` client on top of
 * client_call (client.h): listing, HEAD/GET/PUT of objects streamed from and
 * to files, multipart uploads with parallel parts, server-side copy, batched
 * deletes, buckets and their sub-resources (?tagging, ?cors, ?policy).
 *
 * Every function returns 0 or a negative -ERR_*; on an S3 error it appends
 * "Code: Message" (e.g. "NoSuchKey: The specified key does not exist.") to
 * `errmsg`, on a transport error the sentence of client_call. The S3 codes
 * the CLI reacts to map to their own symbols (NoSuchBucket ->
 * -ERR_BUCKET_NOT_FOUND, NoSuchKey -> -ERR_KEY_NOT_FOUND, BucketAlreadyOwnedByYou ->
 * -ERR_BUCKET_EXISTS, NotImplemented -> -ERR_NOT_IMPLEMENTED, AccessDenied,
 * SignatureDoesNotMatch, InvalidAccessKeyId, BucketNotEmpty); others by
 * status (404 -ERR_NOT_FOUND, 403 -ERR_ACCESS_DENIED, else -ERR_IO).
 * A client is used by one thread at a time; s3ops_upload_fd makes its own
 * clients (client_dup) for its parallel parts.
 */
#ifndef BASALT_CLIENT_S3OPS_H
#define BASALT_CLIENT_S3OPS_H

#include "util/base.h"

#include <time.h>

#include "client/client.h"
#include "util/buf.h"

#define S3OPS_MIN_PART (5ull << 20)      /* S3's smallest part but the last */
#define S3OPS_MAX_PARTS 10000u           /* S3's most parts of an upload */
#define S3OPS_MAX_PUT (5ull << 30)       /* S3's largest single PUT and CopyObject */
#define S3OPS_DELETE_BATCH 1000u         /* keys per DeleteObjects request */
#define S3OPS_DEFAULT_PART (16ull << 20) /* part size, and the multipart threshold */
#define S3OPS_DEFAULT_THREADS 4u         /* parts uploaded at once */

/* One listing entry: an object, or a common prefix ("dir/") when listing with '/'. */
struct s3ops_entry {
    const char *key; /* borrowed for the callback: the full key, or the bucket name */
    uint64_t size;
    time_t mtime;     /* LastModified (objects), CreationDate (buckets) */
    const char *etag; /* without quotes; "" for prefixes */
    bool is_prefix;
};

/* Called once per entry, in key order; a non-zero return stops the listing and is returned. */
typedef int s3ops_list_fn(void *arg, const struct s3ops_entry *e);

/* Lists `bucket` under `prefix` (NULL: all), recursively or by '/' (ListObjectsV2, paged). */
int s3ops_list(struct client *c, const char *bucket, const char *prefix, bool recursive,
               s3ops_list_fn *fn, void *arg, struct buf *errmsg);

/* Lists the buckets (ListBuckets): key is the name, mtime its creation date. */
int s3ops_list_buckets(struct client *c, s3ops_list_fn *fn, void *arg, struct buf *errmsg);

/* What HEAD (or GET) says about an object. Release with s3ops_stat_release. */
struct s3ops_stat {
    uint64_t size;
    time_t mtime;      /* Last-Modified */
    time_t meta_mtime; /* x-amz-meta-mtime (the source file's), or -1 */
    char etag[80];     /* without quotes */
    char content_type[128];
    struct buf meta; /* every x-amz-meta-* header, "name: value\n" lines, names lower case */
};
void s3ops_stat_init(struct s3ops_stat *st);
void s3ops_stat_release(struct s3ops_stat *st);

/* HEAD of an object, or of a bucket when `key` is NULL or "" (then only existence). */
int s3ops_head(struct client *c, const char *bucket, const char *key, struct s3ops_stat *st,
               struct buf *errmsg);

/*
 * GET of an object into `sink` (client.h), with `range` ("bytes=0-99") or
 * NULL; `st`, when non-NULL, is filled from the response headers.
 */
int s3ops_get(struct client *c, const char *bucket, const char *key, const char *range,
              client_sink_fn *sink, void *sink_arg, client_progress_fn *progress,
              void *progress_arg, struct s3ops_stat *st, struct buf *errmsg);

/* PUT of an object from `body`, with extra `headers` ("Name: value", signed). */
int s3ops_put(struct client *c, const char *bucket, const char *key, struct client_body body,
              const char *const *headers, size_t nheaders, client_progress_fn *progress,
              void *progress_arg, struct buf *errmsg);

/*
 * Uploads `size` bytes of `fd` (read with pread from 0): one PUT up to
 * `part_size`, else a multipart upload of `part_size` parts (grown to stay
 * within 10,000 parts), `threads` at once, each on its own connection. A
 * failed multipart upload is aborted. `progress` may be called from several
 * threads at once.
 */
int s3ops_upload_fd(struct client *c, const char *bucket, const char *key, int fd, uint64_t size,
                    uint64_t part_size, unsigned threads, const char *const *headers,
                    size_t nheaders, client_progress_fn *progress, void *progress_arg,
                    struct buf *errmsg);

/*
 * Uploads what `fd` gives until end of file, length unknown: one PUT if it
 * ends within the first `part_size` bytes, else a multipart upload, one part
 * in memory at a time (memory: one part). Aborted on failure.
 * `*total` gets the bytes uploaded.
 */
int s3ops_upload_stream(struct client *c, const char *bucket, const char *key, int fd,
                        uint64_t part_size, const char *const *headers, size_t nheaders,
                        client_progress_fn *progress, void *progress_arg, uint64_t *total,
                        struct buf *errmsg);

/*
 * Server-side copy (CopyObject) of src to dst on the same endpoint. With
 * `headers` (nheaders > 0) the metadata is replaced by them
 * (x-amz-metadata-directive: REPLACE), else copied.
 */
int s3ops_copy(struct client *c, const char *src_bucket, const char *src_key,
               const char *dst_bucket, const char *dst_key, const char *const *headers,
               size_t nheaders, struct buf *errmsg);

/* DELETE of one object (no error when it does not exist, as S3). */
int s3ops_delete(struct client *c, const char *bucket, const char *key, struct buf *errmsg);

/*
 * Deletes `n` keys with DeleteObjects, S3OPS_DELETE_BATCH per request.
 * Returns 0 when every key is gone; else the first failure, "KEY: Code: Message"
 * in `errmsg`, and -ERR_IO. `*deleted` (when non-NULL) counts the keys deleted.
 */
int s3ops_delete_many(struct client *c, const char *bucket, char *const *keys, size_t n,
                      size_t *deleted, struct buf *errmsg);

/* PUT of a bucket, with a LocationConstraint when `region` is set and not us-east-1. */
int s3ops_make_bucket(struct client *c, const char *bucket, const char *region, struct buf *errmsg);
int s3ops_remove_bucket(struct client *c, const char *bucket, struct buf *errmsg);

/*
 * A sub-resource ("tagging", "cors", "policy") of a bucket (key NULL) or an
 * object: GET appends the document to `out`; PUT sends `doc` with its
 * Content-MD5; DELETE removes it.
 */
int s3ops_get_sub(struct client *c, const char *bucket, const char *key, const char *sub,
                  struct buf *out, struct buf *errmsg);
int s3ops_put_sub(struct client *c, const char *bucket, const char *key, const char *sub,
                  struct slice doc, struct buf *errmsg);
int s3ops_delete_sub(struct client *c, const char *bucket, const char *key, const char *sub,
                     struct buf *errmsg);

/* Called at the end of every element with its path ("Tagging/TagSet/Tag/Key") and text. */
typedef void s3ops_xml_fn(void *arg, const char *path, struct slice text);

/* Walks an XML document (namespaces dropped); -ERR_MALFORMED_XML if it does not parse. */
int s3ops_xml_walk(struct slice xml, s3ops_xml_fn *fn, void *arg);

/* Appends `s` with the five XML entities escaped. */
void s3ops_xml_escape(struct buf *out, const char *s);

/* "2024-05-01T10:11:12.000Z" into seconds since the epoch; -ERR_INVAL if not one. */
int s3ops_parse_time(struct slice s, time_t *out);

/* The S3 error code `code` as a -ERR_* symbol, or `fallback`. */
int s3ops_code_err(const char *code, int fallback);

#endif
