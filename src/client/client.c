/*
 * client/client.c: the S3/admin API client over libcurl (see client.h).
 *
 * One request: the path is encoded, the headers that SigV4 signs (host,
 * x-amz-date, x-amz-content-sha256) are set explicitly so that what is
 * signed is exactly what libcurl sends (libcurl's own Host header, its
 * dot-segment squashing and its form Content-Type are turned off), then
 * libcurl runs the request and the body is collected into a bounded buffer.
 * Transport failures become one sentence that names the endpoint.
 */
#include "util/base.h"

#include "client/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "auth/sigv4.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

struct client {
    char *endpoint; /* "http://host:port", no trailing '/' */
    char *host;     /* "host:port": the Host header */
    char *access_key;
    char *secret_key; /* zeroed by client_free */
    char *region;
    char *scheme; /* "http" or "https" */
    bool vhost;
    long connect_ms;
    long total_ms;
    unsigned retries; /* extra attempts (client_set_retry) */
    long retry_max_ms;
    long retry_base_ms;
    unsigned seed; /* of the jitter */
    uint64_t retried;
    char *name;      /* for hints in messages: the alias, or NULL */
    char *ca_bundle; /* https: a PEM file of trusted CAs instead of the system's; NULL: system */
    bool insecure;   /* https: no verification of the server's certificate (client_set_tls) */
    CURL *curl;
};

/* Where the response body goes, and how the request body is read. */
struct xfer {
    struct client *c;
    struct client_call *call;
    bool overflow;
    uint64_t sent;      /* bytes of an fd body read so far, this attempt */
    uint64_t delivered; /* bytes of a 2xx body given to the sink */
    /*
     * Bytes of the fd body already counted by call->progress, over every
     * attempt of the call: a retry sends the body again from its start, and
     * only what goes past this is counted, so the total never exceeds the
     * body's length.
     */
    uint64_t *counted;
    int read_errno;
};

/*
 * Set by the SIGINT handler of client_interrupt_catch. A global because a
 * signal handler can reach nothing else; nothing but the handler writes it.
 */
static volatile sig_atomic_t interrupted;
static struct sigaction sigint_prev;
static atomic_int sigint_caught; /* client_interrupt_catch calls not yet released */

static void
on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    sigaction(SIGINT, &sigint_prev, NULL); /* a second Ctrl-C kills at once */
}

void
client_interrupt_catch(void)
{
    struct sigaction sa;

    if (atomic_fetch_add(&sigint_caught, 1) > 0)
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read(2) of stdin returns EINTR */
    sigaction(SIGINT, &sa, &sigint_prev);
}

void
client_interrupt_release(void)
{
    if (atomic_fetch_sub(&sigint_caught, 1) != 1 || interrupted)
        return;
    sigaction(SIGINT, &sigint_prev, NULL);
}

bool
client_is_interrupted(void)
{
    return interrupted != 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("libcurl: global initialisation failed");
}

/* Splits "http://host:port[/]" into the endpoint without '/' and the host. */
static int
parse_endpoint(const char *endpoint, char **base, char **host, struct buf *errmsg)
{
    struct slice s = slice_cstr(endpoint), rest, authority;
    size_t skip;

    if (slice_starts_with(s, SLICE_LIT("http://")))
        skip = 7;
    else if (slice_starts_with(s, SLICE_LIT("https://")))
        skip = 8;
    else
        goto bad;
    rest = slice_split(slice_make(s.ptr + skip, s.len - skip), '/', &authority);
    if (authority.len == 0 || rest.len > 0 || slice_find(authority, '?') >= 0 ||
        slice_find(authority, '#') >= 0 || slice_find(authority, '@') >= 0 ||
        slice_find(authority, ' ') >= 0)
        goto bad;
    *base = xstrndup(s.ptr, skip + authority.len);
    *host = slice_dup(authority);
    return 0;
bad:
    if (errmsg)
        buf_addf(errmsg, "invalid endpoint '%s': expected http://HOST[:PORT] or https://...",
                 endpoint);
    return -ERR_INVAL;
}

int
client_new(const char *endpoint, const char *access_key, const char *secret_key, const char *region,
           struct client **out, struct buf *errmsg)
{
    struct client *c;
    char *base, *host;
    int rc;

    rc = parse_endpoint(endpoint, &base, &host, errmsg);
    if (rc < 0)
        return rc;
    pthread_once(&curl_once, curl_init_once);
    c = xcalloc(1, sizeof(*c));
    c->endpoint = base;
    c->host = host;
    c->access_key = xstrdup(access_key);
    c->secret_key = xstrdup(secret_key);
    c->region = xstrdup(region);
    c->scheme = xstrndup(base, (size_t)(strchr(base, ':') - base));
    c->connect_ms = CLIENT_CONNECT_TIMEOUT_MS;
    c->total_ms = CLIENT_TOTAL_TIMEOUT_MS;
    c->retries = CLIENT_RETRIES;
    c->retry_max_ms = CLIENT_RETRY_MAX_MS;
    c->retry_base_ms = CLIENT_RETRY_BASE_MS;
    c->seed = (unsigned)clock_mono_ns() ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)c;
    c->curl = curl_easy_init();
    if (!c->curl)
        die("libcurl: cannot create a handle");
    *out = c;
    return 0;
}

void
client_free(struct client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->ca_bundle);
    secure_zero(c->secret_key, strlen(c->secret_key));
    free(c->secret_key);
    free(c->access_key);
    free(c->region);
    free(c->scheme);
    free(c->host);
    free(c->endpoint);
    free(c->name);
    free(c);
}

void
client_set_retry(struct client *c, unsigned retries, long max_ms, long base_ms)
{
    c->retries = retries;
    c->retry_max_ms = max_ms;
    c->retry_base_ms = MAX(base_ms, 1L);
}

uint64_t
client_retried(const struct client *c)
{
    return c->retried;
}

void
client_set_name(struct client *c, const char *name)
{
    free(c->name);
    c->name = name ? xstrdup(name) : NULL;
}

const char *
client_name(const struct client *c)
{
    return c->name;
}

void
client_set_tls(struct client *c, const char *ca_bundle, bool insecure)
{
    free(c->ca_bundle);
    c->ca_bundle = ca_bundle ? xstrdup(ca_bundle) : NULL;
    c->insecure = insecure;
}

void
client_set_timeouts(struct client *c, long connect_ms, long total_ms)
{
    c->connect_ms = connect_ms;
    c->total_ms = total_ms;
}

const char *
client_endpoint(const struct client *c)
{
    return c->endpoint;
}

void
client_query_add(struct buf *q, const char *name, const char *value)
{
    if (q->len)
        buf_addch(q, '&');
    uri_encode(q, slice_cstr(name), false);
    buf_addch(q, '=');
    uri_encode(q, slice_cstr(value), false);
}

void
client_set_vhost(struct client *c, bool vhost)
{
    c->vhost = vhost;
}

struct client *
client_dup(const struct client *c)
{
    struct client *d = NULL;

    if (client_new(c->endpoint, c->access_key, c->secret_key, c->region, &d, NULL) < 0)
        die("client_dup: the endpoint of a valid client did not parse");
    d->vhost = c->vhost;
    d->connect_ms = c->connect_ms;
    d->total_ms = c->total_ms;
    client_set_retry(d, c->retries, c->retry_max_ms, c->retry_base_ms);
    client_set_name(d, c->name);
    return d;
}

/*
 * The Host header and the encoded path of bucket/key under the client's
 * addressing, or of `path` (not NULL: used as is).
 */
static void
target(const struct client *c, const char *bucket, const char *key, const char *path,
       struct buf *host, struct buf *epath)
{
    struct buf raw = BUF_INIT;

    bucket = bucket ? bucket : "";
    key = key ? key : "";
    if (path) {
        buf_adds(host, c->host);
        buf_adds(&raw, path);
    } else if (c->vhost && *bucket) {
        buf_addf(host, "%s.%s", bucket, c->host);
        buf_addf(&raw, "/%s", key);
    } else {
        buf_adds(host, c->host);
        buf_addf(&raw, "/%s%s%s", bucket, *key ? "/" : "", key);
    }
    uri_encode(epath, buf_slice(&raw), true);
    buf_release(&raw);
}

static bool
is_2xx(CURL *curl)
{
    long status = 0;

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status >= 200 && status <= 299;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    struct client_call *call = x->call;
    size_t len = size * n;

    if (call->sink && is_2xx(x->c->curl)) {
        x->delivered += len;
        if (!call->sink(call->sink_arg, p, len)) {
            call->stopped = true;
            return 0; /* libcurl stops with CURLE_WRITE_ERROR */
        }
        if (call->progress)
            call->progress(call->progress_arg, len);
        return len;
    }
    if (!call->response || call->response->len + len > CLIENT_MAX_RESPONSE) {
        x->overflow = call->response != NULL;
        return call->response ? 0 : len;
    }
    buf_add(call->response, p, len);
    return len;
}

static size_t
header_cb(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;

    if (len >= 5 && !memcmp(p, "HTTP/", 5))
        buf_clear(x->call->resp_headers); /* a new response (after 100 Continue) */
    buf_add(x->call->resp_headers, p, len);
    return len;
}

static size_t
read_cb(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    struct client_body *b = &x->call->body;
    size_t want = MIN(size * n, (size_t)(b->len - x->sent));
    ssize_t got;

    if (want == 0)
        return 0;
    do
        got = pread(b->fd, p, want, (off_t)(b->off + x->sent));
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        x->read_errno = got < 0 ? errno : EIO; /* a file that shrank under us */
        return CURL_READFUNC_ABORT;
    }
    x->sent += (uint64_t)got;
    if (x->call->progress && x->sent > *x->counted) {
        x->call->progress(x->call->progress_arg, x->sent - *x->counted);
        *x->counted = x->sent;
    }
    return (size_t)got;
}

static struct curl_slist *
add_header(struct curl_slist *list, const char *name, const char *value)
{
    struct buf h = BUF_INIT;
    struct curl_slist *l;

    buf_addf(&h, "%s: %s", name, value);
    l = curl_slist_append(list, h.ptr);
    if (!l)
        die("libcurl: out of memory");
    buf_release(&h);
    return l;
}

/* The SHA-256 to sign: of the memory body, or UNSIGNED-PAYLOAD for a file body. */
static void
payload_hash(const struct client_body *b, char sha[65])
{
    if (b->fd >= 0) {
        snprintf(sha, 65, "%s", SIGV4_UNSIGNED_PAYLOAD);
        return;
    }
    sha256_hex(b->mem.len ? b->mem.ptr : "", b->mem.len, sha);
}

/* Signs the request (host, date, payload hash and every extra header) into a header list. */
static struct curl_slist *
signed_headers(const struct client *c, const struct client_call *call, const char *host,
               struct slice epath, const char *query)
{
    struct buf date = BUF_INIT, authz = BUF_INIT;
    struct curl_slist *list = NULL;
    struct sigv4_header *h = xcalloc(3 + call->nheaders, sizeof(*h));
    char sha[65];
    size_t i, n = 3;
    struct sigv4_req r = {
        .method = slice_cstr(call->method), .path = epath, .query = slice_cstr(query), .headers = h
    };

    r.now = time(NULL);
    clock_fmt_amz(&date, r.now);
    payload_hash(&call->body, sha);
    h[0] = (struct sigv4_header){ SLICE_LIT("host"), slice_cstr(host) };
    h[1] = (struct sigv4_header){ SLICE_LIT("x-amz-date"), buf_slice(&date) };
    h[2] = (struct sigv4_header){ SLICE_LIT("x-amz-content-sha256"), slice_cstr(sha) };
    for (i = 0; i < call->nheaders; i++) {
        const char *colon = strchr(call->headers[i], ':');

        if (!colon)
            continue;
        h[n].name = slice_make(call->headers[i], (size_t)(colon - call->headers[i]));
        h[n++].value = slice_trim(slice_cstr(colon + 1));
        list = curl_slist_append(list, call->headers[i]);
    }
    r.nheaders = n;
    sigv4_sign(&r, c->access_key, c->secret_key, c->region, &authz);
    list = add_header(list, "Host", host);
    list = add_header(list, "x-amz-date", date.ptr);
    list = add_header(list, "x-amz-content-sha256", sha);
    list = add_header(list, "Authorization", authz.ptr);
    list = curl_slist_append(list, "Expect:"); /* no 100-continue round trip */
    for (i = 0; i < call->nheaders; i++)
        if (!strncasecmp(call->headers[i], "content-type:", 13))
            break;
    if (i == call->nheaders)
        list = curl_slist_append(list, "Content-Type:"); /* not libcurl's form type */
    if (!list)
        die("libcurl: out of memory");
    free(h);
    buf_release(&date);
    buf_release_secure(&authz);
    return list;
}

/* Sets the method and the body of the request on the handle. */
static void
set_method(CURL *curl, const char *method, const struct client_body *b)
{
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        return;
    }
    if (b->fd >= 0) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->len);
    } else if (!strcmp(method, "GET") && b->mem.len == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        return;
    } else if (b->mem.len || !strcmp(method, "PUT") || !strcmp(method, "POST")) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->mem.len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, b->mem.len ? b->mem.ptr : "");
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
}

/* Turns a libcurl failure into -ERR_* and one sentence naming the endpoint. */
static int
transport_error(const struct client *c, CURLcode cc, const char *errbuf, const struct xfer *x,
                struct buf *errmsg)
{
    long os_errno = 0;
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    int rc = -ERR_IO;

    curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
    if (cc == CURLE_COULDNT_CONNECT && os_errno)
        why = strerror((int)os_errno);
    else if (cc == CURLE_COULDNT_RESOLVE_HOST)
        why = "cannot resolve the host name";
    if (cc == CURLE_OPERATION_TIMEDOUT)
        rc = -ERR_TIMEOUT;
    if (x->overflow) {
        rc = -ERR_TOO_LARGE;
        why = "the response is larger than 64 MiB";
    }
    if (x->read_errno) {
        if (errmsg)
            buf_addf(errmsg, "cannot read the local file: %s", strerror(x->read_errno));
        return -ERR_IO;
    }
    if (cc == CURLE_ABORTED_BY_CALLBACK && interrupted) {
        if (errmsg)
            buf_adds(errmsg, "interrupted (Ctrl-C)");
        return -ERR_IO;
    }
    if (!errmsg)
        return rc;
    buf_addf(errmsg, "cannot reach %s: %s", c->endpoint, why);
    if (cc == CURLE_COULDNT_CONNECT)
        buf_addf(errmsg, ": is the server running at %s?", c->endpoint);
    else if (cc == CURLE_COULDNT_RESOLVE_HOST)
        buf_addf(errmsg, ": check the URL of %s%s (`basalt alias list`)",
                 c->name ? "alias " : "the endpoint", c->name ? c->name : "");
    else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
        buf_adds(errmsg, ": give the CA that signed the server's certificate with --ca-bundle "
                         "FILE or BASALT_CA_BUNDLE");
    return rc;
}

static int
xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    const struct xfer *x = arg;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return interrupted && !x->call->uninterruptible; /* non-zero: CURLE_ABORTED_BY_CALLBACK */
}

/* https: TLS 1.2 or later, verified against c->ca_bundle (or the system's CAs) unless insecure. */
static void
set_tls(struct client *c)
{
    if (strcmp(c->scheme, "https"))
        return;
    curl_easy_setopt(c->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->ca_bundle)
        curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->ca_bundle);
    if (c->insecure) {
        curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

/* One attempt of `call`: the curl code, the status in call->status when CURLE_OK. */
static CURLcode
call_once(struct client *c, struct client_call *call, struct xfer *x, char *errbuf)
{
    struct buf url = BUF_INIT, epath = BUF_INIT, host = BUF_INIT;
    struct curl_slist *headers;
    const char *query = call->query ? call->query : "";
    CURLcode cc;

    target(c, call->bucket, call->key, call->path, &host, &epath);
    buf_addf(&url, "%s://%s%s%s%s", c->scheme, host.ptr, epath.ptr, *query ? "?" : "", query);
    headers = signed_headers(c, call, host.ptr, buf_slice(&epath), query);
    curl_easy_reset(c->curl);
    set_tls(c);
    curl_easy_setopt(c->curl, CURLOPT_URL, url.ptr);
    curl_easy_setopt(c->curl, CURLOPT_PATH_AS_IS, 1L); /* sign and send the same path */
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "basalt-client/" BASALT_VERSION);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->total_ms);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, x);
    if (c->vhost) /* bucket.host resolves like host (e.g. bucket.localhost) */
        curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
    if (call->body.fd >= 0) {
        curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(c->curl, CURLOPT_READDATA, x);
    }
    set_method(c->curl, call->method, &call->body);
    cc = curl_easy_perform(c->curl);
    if (cc == CURLE_WRITE_ERROR && call->stopped)
        cc = CURLE_OK;
    if (cc == CURLE_OK)
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &call->status);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    buf_release(&url);
    buf_release(&epath);
    buf_release(&host);
    return cc;
}

static bool
is_idempotent(const struct client_call *call)
{
    if (call->retry != CLIENT_RETRY_BY_METHOD)
        return call->retry == CLIENT_RETRY_IDEMPOTENT;
    return !strcmp(call->method, "GET") || !strcmp(call->method, "HEAD") ||
           !strcmp(call->method, "PUT") || !strcmp(call->method, "DELETE") ||
           (!strcmp(call->method, "POST") && call->query && !strcmp(call->query, "delete="));
}

/* Whether the outcome of one attempt is worth another (client.h, client_set_retry). */
static bool
should_retry(const struct client_call *call, CURLcode cc, const struct xfer *x)
{
    if (interrupted || x->delivered || x->read_errno || x->overflow || call->stopped)
        return false;
    if (cc == CURLE_OK)
        return call->status == 503 || (call->status == 500 && is_idempotent(call));
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return is_idempotent(call) || call->retry == CLIENT_RETRY_UNSENT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return is_idempotent(call);
    default:
        return false;
    }
}

/* Sleeps `ms` milliseconds in steps, returning early on a Ctrl-C. */
static void
backoff_sleep(long ms)
{
    while (ms > 0 && !interrupted) {
        long step = MIN(ms, 50L);
        struct timespec ts = { 0, step * 1000000L };

        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* The wait before retry `n` (0-based): full jitter over an exponential bound. */
static long
backoff_ms(struct client *c, unsigned n)
{
    long bound = c->retry_base_ms << MIN(n, 16u);

    bound = MIN(bound, CLIENT_RETRY_CAP_MS);
    return (long)(rand_r(&c->seed) % (unsigned)(bound + 1));
}

int
client_call(struct client *c, struct client_call *call, struct buf *errmsg)
{
    struct buf scratch = BUF_INIT;
    size_t resp_len = call->response ? call->response->len : 0;
    int64_t start = clock_mono_ns();
    uint64_t counted = 0;
    unsigned attempt;
    CURLcode cc;
    int rc = 0;

    if (!call->resp_headers)
        call->resp_headers = &scratch;
    for (attempt = 0;; attempt++) {
        struct xfer x = { .c = c, .call = call, .counted = &counted };
        char errbuf[CURL_ERROR_SIZE] = "";
        long wait, left;

        call->stopped = false;
        if (call->response)
            buf_setlen(call->response, resp_len);
        buf_clear(call->resp_headers);
        cc = call_once(c, call, &x, errbuf);
        wait = backoff_ms(c, attempt);
        left = c->retry_max_ms - (long)((clock_mono_ns() - start) / 1000000);
        if (attempt >= c->retries || left <= 0 || !should_retry(call, cc, &x)) {
            if (cc != CURLE_OK)
                rc = transport_error(c, cc, errbuf, &x, errmsg);
            break;
        }
        c->retried++;
        backoff_sleep(MIN(wait, left));
    }
    if (call->resp_headers == &scratch)
        call->resp_headers = NULL;
    buf_release(&scratch);
    return rc;
}

int
client_request(struct client *c, const char *method, const char *path, const char *query,
               struct slice body, long *status, struct buf *response, struct buf *errmsg)
{
    struct buf url = BUF_INIT, epath = BUF_INIT;
    struct xfer x = { .c = c };
    struct client_call call = { .method = method, .query = query, .response = response };
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode cc;
    int rc = 0;

    x.call = &call;
    call.body.fd = -1;
    call.body.mem = body;
    query = query ? query : "";
    uri_encode(&epath, slice_cstr(path && *path ? path : "/"), true);
    buf_addf(&url, "%s%s%s%s", c->endpoint, epath.ptr, *query ? "?" : "", query);
    headers = signed_headers(c, &call, c->host, buf_slice(&epath), query);
    curl_easy_reset(c->curl);
    set_tls(c);
    curl_easy_setopt(c->curl, CURLOPT_URL, url.ptr);
    curl_easy_setopt(c->curl, CURLOPT_PATH_AS_IS, 1L); /* sign and send the same path */
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "basalt-client/" BASALT_VERSION);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->total_ms);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x);
    set_method(c->curl, method, &call.body);
    cc = curl_easy_perform(c->curl);
    if (cc != CURLE_OK)
        rc = transport_error(c, cc, errbuf, &x, errmsg);
    else
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    buf_release(&url);
    buf_release(&epath);
    return rc;
}

void
client_presign(const struct client *c, const char *method, const char *bucket, const char *key,
               unsigned expires, struct buf *url)
{
    struct buf host = BUF_INIT, epath = BUF_INIT, q = BUF_INIT;

    target(c, bucket, key, NULL, &host, &epath);
    sigv4_presign(slice_cstr(method), buf_slice(&epath), SLICE_NULL, buf_slice(&host), time(NULL),
                  MIN(expires, SIGV4_MAX_EXPIRES), c->access_key, c->secret_key, c->region, &q);
    buf_addf(url, "%s://%s%s?%s", c->scheme, host.ptr, epath.ptr, q.ptr);
    buf_release(&host);
    buf_release(&epath);
    buf_release(&q);
}

struct slice
client_header(const struct buf *resp_headers, const char *name)
{
    struct slice rest = buf_slice(resp_headers), line;
    size_t n = strlen(name);

    while (rest.len) {
        rest = slice_split(rest, '\n', &line);
        if (line.len > n && line.ptr[n] == ':' && !strncasecmp(line.ptr, name, n))
            return slice_trim(slice_make(line.ptr + n + 1, line.len - n - 1));
        if (!rest.ptr)
            break;
    }
    return SLICE_NULL;
}

/* Appends the XML text `s` with its five predefined entities unescaped. */
static void
add_xml_text(struct buf *out, struct slice s)
{
    static const char *const ent[][2] = {
        { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&apos;", "'" },
    };
    size_t i, k;

    for (i = 0; i < s.len; i++) {
        for (k = 0; k < ARRAY_SIZE(ent); k++) {
            struct slice e = slice_cstr(ent[k][0]);

            if (slice_starts_with(slice_make(s.ptr + i, s.len - i), e))
                break;
        }
        if (k == ARRAY_SIZE(ent)) {
            buf_addch(out, s.ptr[i]);
            continue;
        }
        buf_adds(out, ent[k][1]);
        i += strlen(ent[k][0]) - 1;
    }
}

/* The text of the first <tag>...</tag> of `xml`, or a NULL slice. */
static struct slice
xml_element(struct slice xml, const char *open, const char *close)
{
    const char *a = memmem(xml.ptr, xml.len, open, strlen(open)), *b;

    if (!a)
        return SLICE_NULL;
    a += strlen(open);
    b = memmem(a, xml.len - (size_t)(a - xml.ptr), close, strlen(close));
    return b ? slice_make(a, (size_t)(b - a)) : SLICE_NULL;
}

int
client_parse_error(struct slice xml, struct buf *code, struct buf *message)
{
    struct slice c, m;

    if (xml.len == 0)
        return -ERR_INVAL;
    c = xml_element(xml, "<Code>", "</Code>");
    m = xml_element(xml, "<Message>", "</Message>");
    if (!c.ptr || c.len == 0)
        return -ERR_INVAL;
    add_xml_text(code, c);
    if (m.ptr)
        add_xml_text(message, m);
    return 0;
}
