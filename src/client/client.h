/*
 * client/client.h: a small S3 and admin API client over libcurl, for the
 * `basalt` command line. Every request is signed with SigV4 in the
 * Authorization header (auth/sigv4.h), with the SHA-256 of its body in
 * x-amz-content-sha256, so the server can check the payload.
 *
 * A `struct client` holds one libcurl handle (its connection is kept alive
 * between requests) and is used by one thread at a time.
 */
#ifndef BASALT_CLIENT_CLIENT_H
#define BASALT_CLIENT_CLIENT_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

#define CLIENT_MAX_RESPONSE (64u << 20) /* bytes of response body kept */
#define CLIENT_CONNECT_TIMEOUT_MS 10000L
#define CLIENT_TOTAL_TIMEOUT_MS 300000L

struct client;

/*
 * Creates a client for the server at `endpoint` ("http://HOST[:PORT]" or
 * "https://...", optionally with a trailing '/', no other path). Copies every
 * string; the secret key is zeroed when the client is freed. Returns 0 and
 * sets `*out`, or -ERR_INVAL with the reason appended to `errmsg` (when
 * non-NULL); `*out` is unchanged on error.
 */
int client_new(const char *endpoint, const char *access_key, const char *secret_key,
               const char *region, struct client **out, struct buf *errmsg);

/* Frees `c` (NULL is fine), zeroing its secret. */
void client_free(struct client *c);

/*
 * https:// endpoints: trust the CAs of the PEM file `ca_bundle` instead of
 * the system's (NULL: the system's); `insecure` skips every check of the
 * server's certificate (name, signature, dates): encrypted, but to anyone.
 * Copies `ca_bundle`. No effect on http:// endpoints.
 */
void client_set_tls(struct client *c, const char *ca_bundle, bool insecure);

/* Timeouts in milliseconds: to connect, and for a whole request (0: no limit). */
void client_set_timeouts(struct client *c, long connect_ms, long total_ms);

/*
 * Retries (client_call only): a request is sent again, after an exponential
 * backoff with full jitter (a random wait in [0, min(CLIENT_RETRY_CAP_MS,
 * base_ms * 2^n)]), when
 *   - the server answered 503 (SlowDown: it did nothing), any method;
 *   - the server answered 500 (InternalError), or the connection was refused,
 *     dropped, reset or answered nothing, and the request is idempotent
 *     (client_call.retry: by default GET, HEAD, PUT, DELETE, DeleteObjects;
 *     an UploadPart is a PUT);
 *   - the connection was refused (nothing was sent), for CLIENT_RETRY_UNSENT;
 * never once bytes of a 2xx body went to a sink (they cannot be taken back),
 * nor after a Ctrl-C. At most `retries` extra attempts and `max_ms` in all
 * (the waits are cut to fit); retries = 0 turns retrying off.
 */
#define CLIENT_RETRIES 5
#define CLIENT_RETRY_MAX_MS 60000L
#define CLIENT_RETRY_BASE_MS 100L
#define CLIENT_RETRY_CAP_MS 5000L
void client_set_retry(struct client *c, unsigned retries, long max_ms, long base_ms);

/* The number of requests client_call sent again since `c` was created. */
uint64_t client_retried(const struct client *c);

/*
 * A name for messages (an alias: "local"), copied; the hints of error messages
 * use it ("check the access key and secret key of alias local").
 */
void client_set_name(struct client *c, const char *name);

/* The name set by client_set_name, or NULL. Borrowed from `c`. */
const char *client_name(const struct client *c);

/*
 * Ctrl-C. client_interrupt_catch() installs a SIGINT handler that sets a
 * process-wide flag (a signal handler can reach nothing else) and puts the
 * previous disposition back, so a second Ctrl-C kills at once; while the flag
 * is set every client_call in progress stops (-ERR_IO, "interrupted") unless
 * the call is `uninterruptible` (the abort of a multipart upload).
 * client_interrupt_release() puts the previous handler back when no Ctrl-C
 * came. Any thread.
 */
void client_interrupt_catch(void);
void client_interrupt_release(void);
bool client_is_interrupted(void);

/* The endpoint as given, without a trailing '/'. Borrowed from `c`. */
const char *client_endpoint(const struct client *c);

/*
 * Sends one signed request and waits for the answer: `method` on `path` (not
 * encoded, "/bucket/my key": each byte that needs it is encoded here, '/'
 * kept), with `query` (already encoded, without '?'; NULL or "" for none, see
 * client_query_add) and `body` (may be empty).
 *
 * Returns 0 once a response arrived, whatever its HTTP status: `*status`
 * gets the status and the body is appended to `response`. Errors, with a
 * sentence appended to `errmsg` (when non-NULL), e.g. "cannot reach
 * http://127.0.0.1:9000: Connection refused":
 * -ERR_IO (cannot connect or resolve, connection broken), -ERR_TIMEOUT,
 * -ERR_TOO_LARGE (response over CLIENT_MAX_RESPONSE). On error `*status` is
 * unchanged and `response` may hold part of a body.
 */
int client_request(struct client *c, const char *method, const char *path, const char *query,
                   struct slice body, long *status, struct buf *response, struct buf *errmsg);

/* Addressing: path-style ("/bucket/key", the default) or virtual-host ("bucket.host/key"). */
void client_set_vhost(struct client *c, bool vhost);

/* A new client with the same endpoint, credentials, region and options (for parallel parts). */
struct client *client_dup(const struct client *c);

/* The request body: bytes in memory, or [off, off + len) of a file read with pread. */
struct client_body {
    struct slice mem; /* when fd < 0 */
    int fd;           /* >= 0: read from this file; the payload is sent UNSIGNED-PAYLOAD */
    uint64_t off, len;
};

/*
 * Where a 2xx response body goes, chunk by chunk; returns false to stop the
 * transfer early (the call then still returns 0: see client_call.stopped).
 */
typedef bool client_sink_fn(void *arg, const void *p, size_t n);

/* Called with the number of body bytes sent or received since the previous call. */
typedef void client_progress_fn(void *arg, uint64_t delta);

/* Which failures of a call are sent again (client_set_retry). */
enum client_retry {
    /* by its method: GET, HEAD, PUT, DELETE and DeleteObjects are idempotent, others are not */
    CLIENT_RETRY_BY_METHOD,
    /* the caller knows that sending it twice does no harm, whatever the method */
    CLIENT_RETRY_IDEMPOTENT,
    /* only when the server provably did nothing: a 503 answer, or the connection refused */
    CLIENT_RETRY_UNSENT,
};

/*
 * One S3 request. `bucket` and `key` are plain (not encoded; NULL or "" for
 * none); the client builds the path-style or virtual-host URL. Or, instead,
 * `path` (not encoded, "/basalt/admin/v1/users"): Basalt's own API, always
 * on the endpoint's host. `headers` are
 * extra "Name: value" strings, all signed. A 2xx body goes to `sink` when
 * set, else it is appended to `response`; any other body always goes to
 * `response` (the S3 error document). `resp_headers`, when non-NULL, gets
 * the raw response header lines.
 */
struct client_call {
    const char *method;
    const char *bucket;
    const char *key;
    const char *path; /* when not NULL: used instead of bucket and key */
    const char *query;
    const char *const *headers;
    size_t nheaders;
    struct client_body body;
    client_sink_fn *sink;
    void *sink_arg;
    client_progress_fn *progress;
    void *progress_arg;
    struct buf *response;
    struct buf *resp_headers;
    bool uninterruptible; /* runs even after a Ctrl-C (client_interrupt_catch) */
    enum client_retry retry;
    long status;  /* out: the HTTP status */
    bool stopped; /* out: the sink stopped the transfer */
};

/*
 * Runs `call` (set `body.fd = -1` for a memory body). Returns 0 once a
 * response arrived, whatever its status (in call->status), or the transport
 * errors of client_request with a sentence in `errmsg`.
 */
int client_call(struct client *c, struct client_call *call, struct buf *errmsg);

/*
 * A presigned URL for `method` on bucket/key valid `expires` seconds
 * (at most 7 days), appended to `url`.
 */
void client_presign(const struct client *c, const char *method, const char *bucket, const char *key,
                    unsigned expires, struct buf *url);

/*
 * The value of response header `name` (any case) in raw header lines, trimmed,
 * or a NULL slice. The last response's block wins after redirects or 100s.
 */
struct slice client_header(const struct buf *resp_headers, const char *name);

/* Appends "name=value" to the query `q` ('&' first when `q` is not empty), both URI-encoded. */
void client_query_add(struct buf *q, const char *name, const char *value);

/*
 * Extracts Code and Message from an S3 error document
 * ("<Error><Code>NoSuchKey</Code><Message>...</Message>...</Error>"),
 * unescaping the XML entities. Returns 0 when a Code was found (Message may be
 * empty), else -ERR_INVAL; appends to `code` and `message` only on success.
 */
int client_parse_error(struct slice xml, struct buf *code, struct buf *message);

#endif
