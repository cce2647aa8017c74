/*
 * client/s3ops.c: S3 operations for the `basalt` client (see s3ops.h).
 *
 * Responses are parsed with expat through one small walker (s3ops_xml_walk) that
 * calls back with the element path ("ListBucketResult/Contents/Key") and the
 * element's text when an element ends; each operation keeps the fields it
 * needs. Multipart uploads of files run `threads` workers, each with its own
 * connection (client_dup), taking the next part number under a mutex; the
 * first failure stops the others and aborts the upload.
 */
#include "util/base.h"

#include "client/s3ops.h"

#include <ctype.h>
#include <expat.h>
#include <pthread.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"
#include "util/md5.h"

/* ---- XML -------------------------------------------------------------------------------- */

struct xml_walk {
    struct buf path;
    struct buf text;
    s3ops_xml_fn *fn;
    void *arg;
};

static void XMLCALL
xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_walk *w = ud;
    const char *local = strrchr(name, '|'); /* namespace separator */

    if (w->path.len)
        buf_addch(&w->path, '/');
    buf_adds(&w->path, local ? local + 1 : name);
    buf_clear(&w->text);
}

static void XMLCALL
xml_end(void *ud, const XML_Char *name)
{
    struct xml_walk *w = ud;
    char *slash;

    w->fn(w->arg, w->path.ptr, buf_slice(&w->text));
    buf_clear(&w->text);
    slash = strrchr(w->path.ptr, '/');
    buf_setlen(&w->path, slash ? (size_t)(slash - w->path.ptr) : 0);
}

static void XMLCALL
xml_text(void *ud, const XML_Char *s, int len)
{
    struct xml_walk *w = ud;

    buf_add(&w->text, s, (size_t)len);
}

/* Walks `xml`, calling `fn` at the end of every element; -ERR_MALFORMED_XML if it does not parse.
 */
int
s3ops_xml_walk(struct slice xml, s3ops_xml_fn *fn, void *arg)
{
    struct xml_walk w = { BUF_INIT, BUF_INIT, fn, arg };
    XML_Parser p = XML_ParserCreateNS(NULL, '|');
    int rc = 0;

    if (!p)
        die("expat: out of memory");
    XML_SetUserData(p, &w);
    XML_SetElementHandler(p, xml_start, xml_end);
    XML_SetCharacterDataHandler(p, xml_text);
    if (XML_Parse(p, xml.ptr ? xml.ptr : "", (int)xml.len, 1) != XML_STATUS_OK)
        rc = -ERR_MALFORMED_XML;
    XML_ParserFree(p);
    buf_release(&w.path);
    buf_release(&w.text);
    return rc;
}

void
s3ops_xml_escape(struct buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            buf_adds(out, "&amp;");
            break;
        case '<':
            buf_adds(out, "&lt;");
            break;
        case '>':
            buf_adds(out, "&gt;");
            break;
        case '"':
            buf_adds(out, "&quot;");
            break;
        case '\'':
            buf_adds(out, "&apos;");
            break;
        default:
            buf_addch(out, *s);
        }
    }
}

/* ---- errors ----------------------------------------------------------------------------- */

int
s3ops_code_err(const char *code, int fallback)
{
    static const struct {
        const char *code;
        int err;
    } map[] = {
        { "NoSuchBucket", -ERR_BUCKET_NOT_FOUND },
        { "NoSuchKey", -ERR_KEY_NOT_FOUND },
        { "BucketAlreadyOwnedByYou", -ERR_BUCKET_EXISTS },
        { "BucketAlreadyExists", -ERR_EXISTS },
        { "BucketNotEmpty", -ERR_NOT_EMPTY },
        { "NotImplemented", -ERR_NOT_IMPLEMENTED },
        { "AccessDenied", -ERR_ACCESS_DENIED },
        { "SignatureDoesNotMatch", -ERR_SIG_MISMATCH },
        { "InvalidAccessKeyId", -ERR_INVALID_ACCESS_KEY },
        { "NoSuchTagSet", -ERR_NO_SUCH_TAG_SET },
        { "NoSuchCORSConfiguration", -ERR_NO_SUCH_CORS },
        { "NoSuchBucketPolicy", -ERR_NO_SUCH_BUCKET_POLICY },
        { "InvalidBucketName", -ERR_INVALID_BUCKET_NAME },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(map); i++)
        if (code && !strcmp(code, map[i].code))
            return map[i].err;
    return fallback;
}

static int
status_err(long status)
{
    return status == 404   ? -ERR_NOT_FOUND
           : status == 403 ? -ERR_ACCESS_DENIED
           : status == 501 ? -ERR_NOT_IMPLEMENTED
                           : -ERR_IO;
}

/*
 * What to do about an error, appended to `errmsg` after "Code: Message": a
 * bucket that does not exist is named with the command that creates it, a
 * refused key or signature with the alias to check.
 */
static void
add_hint(const struct client *c, const struct client_call *call, int rc, struct buf *errmsg)
{
    const char *alias = client_name(c);

    if (rc == -ERR_BUCKET_NOT_FOUND && call->bucket && *call->bucket) {
        buf_addf(errmsg, ": bucket %s does not exist", call->bucket);
        if (alias)
            buf_addf(errmsg, ": create it with `basalt mb %s/%s`", alias, call->bucket);
    } else if ((rc == -ERR_INVALID_ACCESS_KEY || rc == -ERR_SIG_MISMATCH) && alias) {
        buf_addf(errmsg, ": check the %s of alias %s (`basalt alias list %s`)",
                 rc == -ERR_SIG_MISMATCH ? "secret key" : "access key", alias, alias);
    }
}

/*
 * 0 for a 2xx answer without an <Error> document (CopyObject and
 * CompleteMultipartUpload may answer 200 with one), else the error.
 */
static int
check(const struct client *c, const struct client_call *call, bool has_key, struct buf *errmsg)
{
    struct buf code = BUF_INIT, msg = BUF_INIT;
    struct slice body = call->response ? buf_slice(call->response) : SLICE_NULL;
    bool ok = call->status >= 200 && call->status <= 299;
    int rc;

    if (ok && (!body.len || !memmem(body.ptr, MIN(body.len, 256), "<Error>", 7)))
        return 0;
    if (client_parse_error(body, &code, &msg) == 0) {
        rc = s3ops_code_err(code.ptr, ok ? -ERR_IO : status_err(call->status));
        if (rc == -ERR_BUCKET_NOT_FOUND && call->bucket && *call->bucket)
            buf_addf(errmsg, "%s", code.ptr); /* the hint says it better */
        else
            buf_addf(errmsg, "%s: %s", code.ptr, msg.len ? msg.ptr : "(no message)");
    } else if (call->status == 404) {
        rc = has_key ? -ERR_KEY_NOT_FOUND : -ERR_BUCKET_NOT_FOUND;
        buf_adds(errmsg, has_key ? "NoSuchKey: The specified key does not exist." : "NoSuchBucket");
    } else if (call->status == 403) {
        rc = -ERR_ACCESS_DENIED;
        buf_adds(errmsg, "AccessDenied: Access Denied (wrong credentials or no permission).");
    } else {
        rc = status_err(call->status);
        buf_addf(errmsg, "the server answered HTTP %ld", call->status);
    }
    add_hint(c, call, rc, errmsg);
    buf_release(&code);
    buf_release(&msg);
    return rc;
}

/* Runs `call` collecting the body in `resp` (when the caller gave none), then checks it. */
static int
run(struct client *c, struct client_call *call, struct buf *errmsg)
{
    struct buf resp = BUF_INIT;
    int rc;

    if (call->body.fd == 0 && !call->body.len) /* left zero by an initializer: no file */
        call->body.fd = -1;
    if (!call->response)
        call->response = &resp;
    rc = client_call(c, call, errmsg);
    if (rc == 0)
        rc = check(c, call, call->key && *call->key, errmsg);
    if (call->response == &resp)
        call->response = NULL;
    buf_release(&resp);
    return rc;
}

int
s3ops_parse_time(struct slice s, time_t *out)
{
    struct tm tm = { 0 };
    char tmp[40];
    int n = 0;

    if (s.len == 0 || s.len >= sizeof(tmp))
        return -ERR_INVAL;
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    if (sscanf(tmp, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -ERR_INVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm);
    return 0;
}

static uint64_t
slice_u64(struct slice s)
{
    uint64_t v = 0;

    parse_u64(slice_trim(s), &v);
    return v;
}

/* Copies an ETag without its quotes into `dst`. */
static void
copy_etag(char *dst, size_t cap, struct slice s)
{
    s = slice_trim(s);
    if (s.len >= 2 && s.ptr[0] == '"' && s.ptr[s.len - 1] == '"')
        s = slice_make(s.ptr + 1, s.len - 2);
    snprintf(dst, cap, "%.*s", (int)s.len, s.ptr);
}

/* ---- listing ---------------------------------------------------------------------------- */

struct list_item {
    char *key;
    uint64_t size;
    time_t mtime;
    char etag[80];
    bool is_prefix;
};

struct list_page {
    struct list_item *items;
    size_t n, cap;
    struct list_item cur;
    bool truncated;
    struct buf token;
};

static void
page_push(struct list_page *pg)
{
    if (pg->n == pg->cap) {
        pg->cap = pg->cap ? pg->cap * 2 : 64;
        pg->items = xrealloc(pg->items, pg->cap * sizeof(*pg->items));
    }
    pg->items[pg->n++] = pg->cur;
    memset(&pg->cur, 0, sizeof(pg->cur));
}

static void
list_cb(void *arg, const char *path, struct slice text)
{
    struct list_page *pg = arg;
    const char *leaf = strchr(path, '/');

    if (!leaf)
        return;
    leaf++;
    if (!strcmp(leaf, "Contents/Key") || !strcmp(leaf, "CommonPrefixes/Prefix") ||
        !strcmp(leaf, "Buckets/Bucket/Name")) {
        free(pg->cur.key);
        pg->cur.key = slice_dup(text);
    } else if (!strcmp(leaf, "Contents/Size")) {
        pg->cur.size = slice_u64(text);
    } else if (!strcmp(leaf, "Contents/LastModified") ||
               !strcmp(leaf, "Buckets/Bucket/CreationDate")) {
        s3ops_parse_time(text, &pg->cur.mtime);
    } else if (!strcmp(leaf, "Contents/ETag")) {
        copy_etag(pg->cur.etag, sizeof(pg->cur.etag), text);
    } else if (!strcmp(leaf, "Contents") || !strcmp(leaf, "Buckets/Bucket")) {
        if (pg->cur.key)
            page_push(pg);
    } else if (!strcmp(leaf, "CommonPrefixes")) {
        pg->cur.is_prefix = true;
        if (pg->cur.key)
            page_push(pg);
    } else if (!strcmp(leaf, "IsTruncated")) {
        pg->truncated = slice_eq_cstr(slice_trim(text), "true");
    } else if (!strcmp(leaf, "NextContinuationToken")) {
        buf_clear(&pg->token);
        buf_addslice(&pg->token, text);
    }
}

static int
item_cmp(const void *a, const void *b)
{
    return strcmp(((const struct list_item *)a)->key, ((const struct list_item *)b)->key);
}

/* Sorts the page (contents and prefixes merge by key), calls `fn` for each, frees the items. */
static int
page_emit(struct list_page *pg, s3ops_list_fn *fn, void *arg)
{
    size_t i;
    int rc = 0;

    if (pg->n > 1) /* items is NULL on an empty page: qsort must not see it */
        qsort(pg->items, pg->n, sizeof(*pg->items), item_cmp);
    for (i = 0; i < pg->n; i++) {
        struct list_item *it = &pg->items[i];
        struct s3ops_entry e = { it->key, it->size, it->mtime, it->etag, it->is_prefix };

        if (rc == 0)
            rc = fn(arg, &e);
        free(it->key);
    }
    free(pg->cur.key);
    memset(&pg->cur, 0, sizeof(pg->cur));
    pg->n = 0;
    return rc;
}

int
s3ops_list(struct client *c, const char *bucket, const char *prefix, bool recursive,
           s3ops_list_fn *fn, void *arg, struct buf *errmsg)
{
    struct list_page pg = { .token = BUF_INIT };
    struct buf q = BUF_INIT, body = BUF_INIT;
    int rc;

    do {
        struct client_call call = { .method = "GET", .bucket = bucket, .response = &body };

        buf_clear(&q);
        buf_clear(&body);
        client_query_add(&q, "list-type", "2");
        if (pg.token.len)
            client_query_add(&q, "continuation-token", pg.token.ptr);
        if (!recursive)
            client_query_add(&q, "delimiter", "/");
        if (prefix && *prefix)
            client_query_add(&q, "prefix", prefix);
        call.query = q.ptr;
        call.body.fd = -1;
        rc = run(c, &call, errmsg);
        if (rc < 0)
            break;
        pg.truncated = false;
        rc = s3ops_xml_walk(buf_slice(&body), list_cb, &pg);
        if (rc < 0) {
            buf_adds(errmsg, "the listing is not valid XML");
            page_emit(&pg, NULL, NULL);
            break;
        }
        rc = page_emit(&pg, fn, arg);
    } while (rc == 0 && pg.truncated && pg.token.len);
    free(pg.items);
    buf_release(&pg.token);
    buf_release(&q);
    buf_release(&body);
    return rc;
}

int
s3ops_list_buckets(struct client *c, s3ops_list_fn *fn, void *arg, struct buf *errmsg)
{
    struct list_page pg = { .token = BUF_INIT };
    struct buf body = BUF_INIT;
    struct client_call call = { .method = "GET", .response = &body };
    int rc;

    call.body.fd = -1;
    rc = run(c, &call, errmsg);
    if (rc == 0 && s3ops_xml_walk(buf_slice(&body), list_cb, &pg) < 0) {
        buf_adds(errmsg, "the bucket list is not valid XML");
        rc = -ERR_MALFORMED_XML;
    }
    if (rc == 0)
        rc = page_emit(&pg, fn, arg);
    else
        page_emit(&pg, NULL, NULL);
    free(pg.items);
    buf_release(&pg.token);
    buf_release(&body);
    return rc;
}

/* ---- objects ---------------------------------------------------------------------------- */

void
s3ops_stat_init(struct s3ops_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->meta_mtime = -1;
    buf_init(&st->meta, 0);
}

void
s3ops_stat_release(struct s3ops_stat *st)
{
    buf_release(&st->meta);
}

/* Fills `st` from raw response header lines. */
static void
stat_from_headers(struct s3ops_stat *st, const struct buf *h)
{
    struct slice rest = buf_slice(h), line, v;
    uint64_t mt;

    st->size = slice_u64(client_header(h, "Content-Length"));
    v = client_header(h, "Last-Modified");
    if (v.len)
        clock_parse_http(v, &st->mtime);
    copy_etag(st->etag, sizeof(st->etag), client_header(h, "ETag"));
    v = client_header(h, "Content-Type");
    snprintf(st->content_type, sizeof(st->content_type), "%.*s", (int)v.len, v.ptr ? v.ptr : "");
    buf_clear(&st->meta);
    while (rest.len) {
        rest = slice_split(rest, '\n', &line);
        line = slice_trim(line);
        if (line.len > 11 && !strncasecmp(line.ptr, "x-amz-meta-", 11)) {
            ssize_t colon = slice_find(line, ':');
            size_t i;

            if (colon < 0)
                continue;
            for (i = 0; i < (size_t)colon; i++)
                buf_addch(&st->meta, (char)tolower((unsigned char)line.ptr[i]));
            buf_adds(&st->meta, ": ");
            buf_addslice(&st->meta,
                         slice_trim(slice_make(line.ptr + colon + 1, line.len - colon - 1)));
            buf_addch(&st->meta, '\n');
        }
        if (!rest.ptr)
            break;
    }
    v = client_header(h, "x-amz-meta-mtime");
    if (v.len && slice_find(v, '.') > 0)
        v.len = (size_t)slice_find(v, '.');
    if (v.len && parse_u64(v, &mt) == 0)
        st->meta_mtime = (time_t)mt;
}

int
s3ops_head(struct client *c, const char *bucket, const char *key, struct s3ops_stat *st,
           struct buf *errmsg)
{
    struct buf h = BUF_INIT;
    struct client_call call = {
        .method = "HEAD", .bucket = bucket, .key = key, .resp_headers = &h
    };
    int rc;

    call.body.fd = -1;
    rc = run(c, &call, errmsg);
    if (rc == 0 && st)
        stat_from_headers(st, &h);
    buf_release(&h);
    return rc;
}

int
s3ops_get(struct client *c, const char *bucket, const char *key, const char *range,
          client_sink_fn *sink, void *sink_arg, client_progress_fn *progress, void *progress_arg,
          struct s3ops_stat *st, struct buf *errmsg)
{
    struct buf h = BUF_INIT, hrange = BUF_INIT;
    const char *hdrs[1];
    struct client_call call = { .method = "GET",
                                .bucket = bucket,
                                .key = key,
                                .sink = sink,
                                .sink_arg = sink_arg,
                                .progress = progress,
                                .progress_arg = progress_arg,
                                .resp_headers = &h };
    int rc;

    call.body.fd = -1;
    if (range) {
        buf_addf(&hrange, "Range: %s", range);
        hdrs[0] = hrange.ptr;
        call.headers = hdrs;
        call.nheaders = 1;
    }
    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, 0); /* a large object takes what it takes */
    rc = run(c, &call, errmsg);
    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, CLIENT_TOTAL_TIMEOUT_MS);
    if (rc == 0 && st)
        stat_from_headers(st, &h);
    buf_release(&h);
    buf_release(&hrange);
    return rc;
}

int
s3ops_put(struct client *c, const char *bucket, const char *key, struct client_body body,
          const char *const *headers, size_t nheaders, client_progress_fn *progress,
          void *progress_arg, struct buf *errmsg)
{
    struct client_call call = { .method = "PUT",
                                .bucket = bucket,
                                .key = key,
                                .headers = headers,
                                .nheaders = nheaders,
                                .body = body,
                                .progress = progress,
                                .progress_arg = progress_arg };
    int rc;

    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, 0);
    rc = run(c, &call, errmsg);
    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, CLIENT_TOTAL_TIMEOUT_MS);
    if (rc == 0 && body.fd < 0 && progress)
        progress(progress_arg, body.mem.len);
    return rc;
}

/* ---- multipart -------------------------------------------------------------------------- */

static void
upload_id_cb(void *arg, const char *path, struct slice text)
{
    if (!strcmp(path, "InitiateMultipartUploadResult/UploadId"))
        buf_addslice(arg, text);
}

static int
mpu_create(struct client *c, const char *bucket, const char *key, const char *const *headers,
           size_t nheaders, struct buf *upload_id, struct buf *errmsg)
{
    struct buf body = BUF_INIT;
    struct client_call call = { .method = "POST",
                                .bucket = bucket,
                                .key = key,
                                .query = "uploads=",
                                .headers = headers,
                                .nheaders = nheaders,
                                .response = &body };
    int rc;

    call.body.fd = -1;
    rc = run(c, &call, errmsg);
    if (rc == 0 &&
        (s3ops_xml_walk(buf_slice(&body), upload_id_cb, upload_id) < 0 || !upload_id->len)) {
        buf_adds(errmsg, "no UploadId in the answer to CreateMultipartUpload");
        rc = -ERR_IO;
    }
    buf_release(&body);
    return rc;
}

static int
mpu_part(struct client *c, const char *bucket, const char *key, const char *upload_id,
         unsigned partno, struct client_body body, client_progress_fn *progress, void *progress_arg,
         char etag[80], struct buf *errmsg)
{
    struct buf q = BUF_INIT, h = BUF_INIT;
    char num[16];
    struct client_call call = { .method = "PUT",
                                .bucket = bucket,
                                .key = key,
                                .body = body,
                                .progress = progress,
                                .progress_arg = progress_arg,
                                .resp_headers = &h };
    int rc;

    snprintf(num, sizeof(num), "%u", partno);
    client_query_add(&q, "partNumber", num);
    client_query_add(&q, "uploadId", upload_id);
    call.query = q.ptr;
    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, 0);
    rc = run(c, &call, errmsg);
    if (rc == 0) {
        copy_etag(etag, 80, client_header(&h, "ETag"));
        if (body.fd < 0 && progress)
            progress(progress_arg, body.mem.len);
    }
    buf_release(&q);
    buf_release(&h);
    return rc;
}

static int
mpu_complete(struct client *c, const char *bucket, const char *key, const char *upload_id,
             char (*etags)[80], unsigned nparts, struct buf *errmsg)
{
    struct buf doc = BUF_INIT, q = BUF_INIT;
    struct client_call call = { .method = "POST", .bucket = bucket, .key = key };
    unsigned i;
    int rc;

    buf_adds(&doc, "<CompleteMultipartUpload>");
    for (i = 0; i < nparts; i++)
        buf_addf(&doc, "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1,
                 etags[i]);
    buf_adds(&doc, "</CompleteMultipartUpload>");
    client_query_add(&q, "uploadId", upload_id);
    call.query = q.ptr;
    call.body.fd = -1;
    call.body.mem = buf_slice(&doc);
    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, 0);
    rc = run(c, &call, errmsg);
    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, CLIENT_TOTAL_TIMEOUT_MS);
    buf_release(&doc);
    buf_release(&q);
    return rc;
}

/* AbortMultipartUpload, even after a Ctrl-C; 0 or the error in `errmsg`. */
static int
mpu_abort(struct client *c, const char *bucket, const char *key, const char *upload_id,
          struct buf *errmsg)
{
    struct buf q = BUF_INIT;
    struct client_call call = {
        .method = "DELETE", .bucket = bucket, .key = key, .uninterruptible = true
    };
    int rc;

    client_query_add(&q, "uploadId", upload_id);
    call.query = q.ptr;
    call.body.fd = -1;
    rc = run(c, &call, errmsg);
    buf_release(&q);
    return rc;
}

/*
 * The end of a multipart upload that failed (rc < 0) or was interrupted:
 * aborts it and says so in `errmsg`, which held `keep` bytes before the
 * upload began. After a Ctrl-C the parts' own messages are replaced by one
 * sentence (the abort is what the operator needs to know).
 */
static int
mpu_fail(struct client *c, const char *bucket, const char *key, const char *upload_id, int rc,
         size_t keep, struct buf *errmsg)
{
    struct buf why = BUF_INIT;
    int arc;

    if (client_is_interrupted()) {
        buf_setlen(errmsg, keep);
        buf_adds(errmsg, "interrupted (Ctrl-C)");
        rc = rc < 0 ? rc : -ERR_IO;
    }
    arc = mpu_abort(c, bucket, key, upload_id, &why);
    if (client_is_interrupted() && arc == 0)
        buf_addf(errmsg, ": the multipart upload %s was aborted, nothing was stored", upload_id);
    else if (arc < 0)
        buf_addf(errmsg, " (and the multipart upload %s could not be aborted: %s)", upload_id,
                 why.ptr);
    buf_release(&why);
    return rc;
}

/* The shared state of a parallel upload of a file. */
struct upload {
    const char *bucket, *key, *upload_id;
    struct client *proto;
    int fd;
    uint64_t size, part_size;
    unsigned nparts, next;
    char (*etags)[80];
    client_progress_fn *progress;
    void *progress_arg;
    pthread_mutex_t lock; /* protects next, rc, errmsg */
    int rc;
    struct buf errmsg;
};

static void *
upload_worker(void *arg)
{
    struct upload *u = arg;
    struct client *c = client_dup(u->proto);
    struct buf msg = BUF_INIT;

    for (;;) {
        unsigned p;
        struct client_body body = { .fd = u->fd };
        int rc;

        pthread_mutex_lock(&u->lock);
        p = u->rc == 0 && u->next < u->nparts ? u->next++ : u->nparts;
        pthread_mutex_unlock(&u->lock);
        if (p == u->nparts)
            break;
        body.off = (uint64_t)p * u->part_size;
        body.len = MIN(u->part_size, u->size - body.off);
        buf_clear(&msg);
        rc = mpu_part(c, u->bucket, u->key, u->upload_id, p + 1, body, u->progress, u->progress_arg,
                      u->etags[p], &msg);
        if (rc < 0) {
            pthread_mutex_lock(&u->lock);
            if (u->rc == 0) {
                u->rc = rc;
                buf_addf(&u->errmsg, "part %u: %s", p + 1, msg.ptr);
            }
            pthread_mutex_unlock(&u->lock);
            break;
        }
    }
    buf_release(&msg);
    client_free(c);
    return NULL;
}

int
s3ops_upload_fd(struct client *c, const char *bucket, const char *key, int fd, uint64_t size,
                uint64_t part_size, unsigned threads, const char *const *headers, size_t nheaders,
                client_progress_fn *progress, void *progress_arg, struct buf *errmsg)
{
    struct upload u = { .bucket = bucket, .key = key, .proto = c, .fd = fd, .size = size };
    struct buf upload_id = BUF_INIT;
    size_t keep = errmsg->len;
    pthread_t th[16];
    unsigned i, started = 0;
    int rc;

    part_size = MAX(part_size, S3OPS_MIN_PART);
    if (size <= part_size) {
        struct client_body body = { .fd = fd, .off = 0, .len = size };

        return s3ops_put(c, bucket, key, body, headers, nheaders, progress, progress_arg, errmsg);
    }
    while (DIV_ROUND_UP(size, part_size) > S3OPS_MAX_PARTS)
        part_size *= 2;
    rc = mpu_create(c, bucket, key, headers, nheaders, &upload_id, errmsg);
    if (rc < 0)
        goto out;
    client_interrupt_catch(); /* Ctrl-C from here on aborts the upload */
    u.upload_id = upload_id.ptr;
    u.part_size = part_size;
    u.nparts = (unsigned)DIV_ROUND_UP(size, part_size);
    u.etags = xcalloc(u.nparts, sizeof(*u.etags));
    u.progress = progress;
    u.progress_arg = progress_arg;
    buf_init(&u.errmsg, 0);
    pthread_mutex_init(&u.lock, NULL);
    threads = MAX(1u, MIN(MIN(threads, u.nparts), (unsigned)ARRAY_SIZE(th)));
    for (i = 0; i < threads; i++)
        if (pthread_create(&th[i], NULL, upload_worker, &u) == 0)
            started++;
    if (!started)
        upload_worker(&u);
    for (i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    rc = u.rc;
    if (rc < 0)
        buf_addslice(errmsg, buf_slice(&u.errmsg));
    else if (!client_is_interrupted())
        rc = mpu_complete(c, bucket, key, u.upload_id, u.etags, u.nparts, errmsg);
    if (rc < 0 || client_is_interrupted())
        rc = mpu_fail(c, bucket, key, u.upload_id, rc, keep, errmsg);
    client_interrupt_release();
    pthread_mutex_destroy(&u.lock);
    buf_release(&u.errmsg);
    free(u.etags);
out:
    buf_release(&upload_id);
    return rc;
}

/* Reads up to `n` bytes (fewer only at end of file); -errno on error. */
static ssize_t
read_full(int fd, char *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);

        if (r < 0 && errno == EINTR && client_is_interrupted())
            return -EINTR;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int
s3ops_upload_stream(struct client *c, const char *bucket, const char *key, int fd,
                    uint64_t part_size, const char *const *headers, size_t nheaders,
                    client_progress_fn *progress, void *progress_arg, uint64_t *total,
                    struct buf *errmsg)
{
    struct buf upload_id = BUF_INIT;
    size_t keep = errmsg->len;
    char *part = NULL, (*etags)[80] = NULL;
    unsigned nparts = 0;
    uint64_t sum = 0;
    ssize_t n;
    int rc = 0;

    part_size = MAX(part_size, S3OPS_MIN_PART);
    part = xmalloc(part_size);
    for (;;) {
        struct client_body body = { .fd = -1 };

        n = read_full(fd, part, part_size);
        if (n < 0) {
            buf_addf(errmsg, "cannot read the input: %s", strerror((int)-n));
            rc = -ERR_IO;
            break;
        }
        body.mem = slice_make(part, (size_t)n);
        if (nparts == 0 && (uint64_t)n < part_size) { /* all of it fits one PUT */
            rc = s3ops_put(c, bucket, key, body, headers, nheaders, progress, progress_arg, errmsg);
            sum = (uint64_t)n;
            goto out;
        }
        if (n == 0 && nparts > 0)
            break;
        if (nparts == 0) {
            rc = mpu_create(c, bucket, key, headers, nheaders, &upload_id, errmsg);
            if (rc < 0)
                goto out;
            client_interrupt_catch(); /* Ctrl-C from here on aborts the upload */
        }
        if (nparts == S3OPS_MAX_PARTS) {
            buf_addf(errmsg, "the input is longer than %u parts of %llu bytes", S3OPS_MAX_PARTS,
                     (unsigned long long)part_size);
            rc = -ERR_TOO_LARGE;
            break;
        }
        etags = xrealloc(etags, (nparts + 1) * sizeof(*etags));
        rc = mpu_part(c, bucket, key, upload_id.ptr, nparts + 1, body, progress, progress_arg,
                      etags[nparts], errmsg);
        if (rc < 0)
            break;
        nparts++;
        sum += (uint64_t)n;
        if ((uint64_t)n < part_size)
            break;
    }
    if (rc == 0 && !client_is_interrupted())
        rc = mpu_complete(c, bucket, key, upload_id.ptr, etags, nparts, errmsg);
    if (upload_id.len && (rc < 0 || client_is_interrupted()))
        rc = mpu_fail(c, bucket, key, upload_id.ptr, rc, keep, errmsg);
    if (upload_id.len)
        client_interrupt_release();
out:
    if (rc == 0 && total)
        *total = sum;
    free(part);
    free(etags);
    buf_release(&upload_id);
    return rc;
}

/* ---- copy, delete, buckets, sub-resources ----------------------------------------------- */

int
s3ops_copy(struct client *c, const char *src_bucket, const char *src_key, const char *dst_bucket,
           const char *dst_key, const char *const *headers, size_t nheaders, struct buf *errmsg)
{
    struct buf src = BUF_INIT, raw = BUF_INIT;
    const char **h = xcalloc(nheaders + 2, sizeof(*h));
    struct client_call call = { .method = "PUT", .bucket = dst_bucket, .key = dst_key };
    size_t i, n = 0;
    int rc;

    buf_addf(&raw, "/%s/%s", src_bucket, src_key);
    buf_adds(&src, "x-amz-copy-source: ");
    uri_encode(&src, buf_slice(&raw), true);
    h[n++] = src.ptr;
    if (nheaders)
        h[n++] = "x-amz-metadata-directive: REPLACE";
    for (i = 0; i < nheaders; i++)
        h[n++] = headers[i];
    call.headers = h;
    call.nheaders = n;
    call.body.fd = -1;
    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, 0);
    rc = run(c, &call, errmsg);
    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, CLIENT_TOTAL_TIMEOUT_MS);
    free(h);
    buf_release(&src);
    buf_release(&raw);
    return rc;
}

int
s3ops_delete(struct client *c, const char *bucket, const char *key, struct buf *errmsg)
{
    struct client_call call = { .method = "DELETE", .bucket = bucket, .key = key };

    call.body.fd = -1;
    return run(c, &call, errmsg);
}

/* The Content-MD5 header of `doc`. */
static void
content_md5(struct buf *hdr, struct slice doc)
{
    struct md5 m;
    uint8_t sum[MD5_SIZE];

    md5_init(&m);
    md5_update(&m, doc.ptr ? doc.ptr : "", doc.len);
    md5_final(&m, sum);
    buf_adds(hdr, "Content-MD5: ");
    base64_encode(hdr, sum, sizeof(sum));
}

struct delete_result {
    struct buf key, code, msg;
    bool failed; /* first error kept */
    size_t errors;
};

static void
delete_cb(void *arg, const char *path, struct slice text)
{
    struct delete_result *r = arg;

    if (r->failed)
        return;
    if (!strcmp(path, "DeleteResult/Error/Key"))
        buf_addslice(&r->key, text);
    else if (!strcmp(path, "DeleteResult/Error/Code"))
        buf_addslice(&r->code, text);
    else if (!strcmp(path, "DeleteResult/Error/Message"))
        buf_addslice(&r->msg, text);
    else if (!strcmp(path, "DeleteResult/Error"))
        r->failed = true;
}

/* One DeleteObjects request of at most S3OPS_DELETE_BATCH keys. */
static int
delete_batch(struct client *c, const char *bucket, char *const *keys, size_t n, size_t *deleted,
             struct buf *errmsg)
{
    struct buf doc = BUF_INIT, md5 = BUF_INIT, body = BUF_INIT;
    struct delete_result r = { BUF_INIT, BUF_INIT, BUF_INIT, false, 0 };
    const char *h[2];
    struct client_call call = { .method = "POST",
                                .bucket = bucket,
                                .query = "delete=",
                                .headers = h,
                                .nheaders = 2,
                                .response = &body };
    size_t i;
    int rc;

    buf_adds(&doc, "<Delete><Quiet>true</Quiet>");
    for (i = 0; i < n; i++) {
        buf_adds(&doc, "<Object><Key>");
        s3ops_xml_escape(&doc, keys[i]);
        buf_adds(&doc, "</Key></Object>");
    }
    buf_adds(&doc, "</Delete>");
    content_md5(&md5, buf_slice(&doc));
    h[0] = md5.ptr;
    h[1] = "Content-Type: application/xml";
    call.body.fd = -1;
    call.body.mem = buf_slice(&doc);
    rc = run(c, &call, errmsg);
    if (rc == 0 && s3ops_xml_walk(buf_slice(&body), delete_cb, &r) < 0) {
        buf_adds(errmsg, "the DeleteObjects answer is not valid XML");
        rc = -ERR_IO;
    }
    if (rc == 0 && r.failed) {
        buf_addf(errmsg, "%s: %s: %s", r.key.ptr, r.code.ptr, r.msg.ptr);
        rc = s3ops_code_err(r.code.ptr, -ERR_IO);
    }
    if (rc == 0 && deleted)
        *deleted += n;
    buf_release(&doc);
    buf_release(&md5);
    buf_release(&body);
    buf_release(&r.key);
    buf_release(&r.code);
    buf_release(&r.msg);
    return rc;
}

int
s3ops_delete_many(struct client *c, const char *bucket, char *const *keys, size_t n,
                  size_t *deleted, struct buf *errmsg)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i += S3OPS_DELETE_BATCH)
        rc = delete_batch(c, bucket, keys + i, MIN(S3OPS_DELETE_BATCH, n - i), deleted, errmsg);
    return rc;
}

int
s3ops_make_bucket(struct client *c, const char *bucket, const char *region, struct buf *errmsg)
{
    struct buf doc = BUF_INIT;
    struct client_call call = { .method = "PUT", .bucket = bucket };
    int rc;

    if (region && *region && strcmp(region, "us-east-1"))
        buf_addf(&doc,
                 "<CreateBucketConfiguration><LocationConstraint>%s</LocationConstraint>"
                 "</CreateBucketConfiguration>",
                 region);
    call.body.fd = -1;
    call.body.mem = buf_slice(&doc);
    rc = run(c, &call, errmsg);
    buf_release(&doc);
    return rc;
}

int
s3ops_remove_bucket(struct client *c, const char *bucket, struct buf *errmsg)
{
    struct client_call call = { .method = "DELETE", .bucket = bucket };

    call.body.fd = -1;
    return run(c, &call, errmsg);
}

int
s3ops_get_sub(struct client *c, const char *bucket, const char *key, const char *sub,
              struct buf *out, struct buf *errmsg)
{
    struct buf q = BUF_INIT;
    struct client_call call = { .method = "GET", .bucket = bucket, .key = key, .response = out };
    int rc;

    buf_addf(&q, "%s=", sub);
    call.query = q.ptr;
    call.body.fd = -1;
    rc = run(c, &call, errmsg);
    buf_release(&q);
    return rc;
}

int
s3ops_put_sub(struct client *c, const char *bucket, const char *key, const char *sub,
              struct slice doc, struct buf *errmsg)
{
    struct buf q = BUF_INIT, md5 = BUF_INIT;
    const char *h[1];
    struct client_call call = {
        .method = "PUT", .bucket = bucket, .key = key, .headers = h, .nheaders = 1
    };
    int rc;

    buf_addf(&q, "%s=", sub);
    content_md5(&md5, doc);
    h[0] = md5.ptr;
    call.query = q.ptr;
    call.body.fd = -1;
    call.body.mem = doc;
    rc = run(c, &call, errmsg);
    buf_release(&q);
    buf_release(&md5);
    return rc;
}

int
s3ops_delete_sub(struct client *c, const char *bucket, const char *key, const char *sub,
                 struct buf *errmsg)
{
    struct buf q = BUF_INIT;
    struct client_call call = { .method = "DELETE", .bucket = bucket, .key = key };
    int rc;

    buf_addf(&q, "%s=", sub);
    call.query = q.ptr;
    call.body.fd = -1;
    rc = run(c, &call, errmsg);
    buf_release(&q);
    return rc;
}
