/*
 * s3/audit.c: an audit record per request (obs/audit.h) when the request
 * completes, and the client's address as the audit and aws:SourceIp see it.
 *
 * The client's address is the peer's, unless the peer is a trusted proxy
 * (--trusted-proxies): then the right-most address of X-Forwarded-For that
 * is not itself a trusted proxy (the one the nearest trusted proxy saw), or
 * X-Real-IP. A forwarded header from any other peer is ignored: a client
 * cannot claim another address.
 *
 * Health checks are not audited unless asked (--audit-health): probes every
 * few seconds would drown the requests.
 */
#include "util/base.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

#include "obs/audit.h"
#include "s3/internal.h"
#include "util/clock.h"
#include "util/err.h"

#define MAX_PROXIES 64

struct s3_proxy {
    int family; /* AF_INET, AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
};

/* "10.0.0.0/8", "127.0.0.1", "::1": true and `*p`. */
static bool
parse_cidr(struct slice s, struct s3_proxy *p)
{
    char text[64];
    struct slice bits = slice_split(s, '/', &s);
    unsigned long n = 0;
    size_t i;

    s = slice_trim(s);
    if (!s.len || s.len >= sizeof(text))
        return false;
    memcpy(text, s.ptr, s.len);
    text[s.len] = '\0';
    if (inet_pton(AF_INET, text, p->addr) == 1) {
        p->family = AF_INET;
        p->bits = 32;
    } else if (inet_pton(AF_INET6, text, p->addr) == 1) {
        p->family = AF_INET6;
        p->bits = 128;
    } else {
        return false;
    }
    if (!bits.ptr)
        return true;
    bits = slice_trim(bits);
    if (!bits.len || bits.len > 3)
        return false;
    for (i = 0; i < bits.len; i++) {
        if (bits.ptr[i] < '0' || bits.ptr[i] > '9')
            return false;
        n = n * 10 + (unsigned long)(bits.ptr[i] - '0');
    }
    if (n > p->bits)
        return false;
    p->bits = (unsigned)n;
    return true;
}

static bool
proxy_match(const struct s3_proxy *p, int family, const uint8_t *addr)
{
    unsigned full = p->bits / 8, rest = p->bits % 8;

    if (p->family != family || memcmp(p->addr, addr, full) != 0)
        return false;
    return !rest || ((p->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Whether `text` (an address) is a trusted proxy. */
static bool
is_trusted(const struct s3 *s, struct slice text)
{
    uint8_t addr[16];
    char buf[64];
    int family;
    size_t i;

    text = slice_trim(text);
    if (!s->nproxies || !text.len || text.len >= sizeof(buf))
        return false;
    memcpy(buf, text.ptr, text.len);
    buf[text.len] = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1)
        family = AF_INET;
    else if (inet_pton(AF_INET6, buf, addr) == 1)
        family = AF_INET6;
    else
        return false;
    for (i = 0; i < s->nproxies; i++)
        if (proxy_match(&s->proxies[i], family, addr))
            return true;
    return false;
}

int
s3_trusted_proxies_parse(const char *list, struct s3_proxy **out, size_t *n)
{
    struct slice rest = slice_cstr(list ? list : ""), one;
    struct s3_proxy *p = NULL;
    size_t k = 0;

    while (rest.ptr && rest.len) {
        rest = slice_split(rest, ',', &one);
        if (!slice_trim(one).len)
            continue;
        if (k == MAX_PROXIES) {
            free(p);
            return -ERR_INVAL;
        }
        p = xrealloc(p, (k + 1) * sizeof(*p));
        if (!parse_cidr(one, &p[k])) {
            free(p);
            return -ERR_INVAL;
        }
        k++;
    }
    *out = p;
    *n = k;
    return 0;
}

const char *
s3__client_addr(struct s3_call *call, const char **forwarded)
{
    struct http_req *req = call->req;
    struct s3 *s = call->s3;
    struct slice v, rest, one, pick = SLICE_NULL;

    if (forwarded)
        *forwarded = NULL;
    if (call->client_addr)
        goto out;
    call->client_addr = req->remote;
    if (!is_trusted(s, slice_cstr(req->remote)))
        goto out;
    if (http_req_header(req, "x-forwarded-for", &v)) {
        struct slice parts[32];
        size_t n = 0, i;

        call->forwarded = arena_slicedup(req->arena, slice_trim(v));
        rest = v;
        while (rest.ptr && n < ARRAY_SIZE(parts)) {
            rest = slice_split(rest, ',', &one);
            if (slice_trim(one).len)
                parts[n++] = slice_trim(one);
        }
        /* right to left: the first address that is not one of our proxies */
        for (i = n; i-- > 0;) {
            pick = parts[i];
            if (!is_trusted(s, parts[i]))
                break;
        }
    } else if (http_req_header(req, "x-real-ip", &v)) {
        call->forwarded = arena_slicedup(req->arena, slice_trim(v));
        pick = slice_trim(v);
    }
    if (pick.len && pick.len < 64)
        call->client_addr = arena_slicedup(req->arena, pick);
out:
    if (forwarded)
        *forwarded = call->forwarded;
    return call->client_addr;
}

/* ---- records ---- */

const char *
s3_op_class(enum s3_op op)
{
    switch (op) {
    case S3_OP_GET_OBJECT:
    case S3_OP_HEAD_OBJECT:
    case S3_OP_HEAD_BUCKET:
    case S3_OP_GET_BUCKET_LOCATION:
    case S3_OP_GET_OBJECT_TAGGING:
    case S3_OP_GET_BUCKET_TAGGING:
    case S3_OP_GET_BUCKET_CORS:
    case S3_OP_CORS_PREFLIGHT:
    case S3_OP_GET_OBJECT_ATTRIBUTES:
    case S3_OP_GET_BUCKET_POLICY:
    case S3_OP_GET_BUCKET_POLICY_STATUS:
        return "read";
    case S3_OP_LIST_BUCKETS:
    case S3_OP_LIST_OBJECTS:
    case S3_OP_LIST_OBJECTS_V2:
    case S3_OP_LIST_PARTS:
    case S3_OP_LIST_MULTIPART_UPLOADS:
        return "list";
    case S3_OP_DELETE_OBJECT:
    case S3_OP_DELETE_OBJECTS:
    case S3_OP_DELETE_BUCKET:
    case S3_OP_ABORT_MULTIPART_UPLOAD:
    case S3_OP_DELETE_OBJECT_TAGGING:
    case S3_OP_DELETE_BUCKET_TAGGING:
    case S3_OP_DELETE_BUCKET_CORS:
    case S3_OP_DELETE_BUCKET_POLICY:
        return "delete";
    case S3_OP_PUT_OBJECT:
    case S3_OP_COPY_OBJECT:
    case S3_OP_POST_OBJECT:
    case S3_OP_CREATE_BUCKET:
    case S3_OP_CREATE_MULTIPART_UPLOAD:
    case S3_OP_UPLOAD_PART:
    case S3_OP_UPLOAD_PART_COPY:
    case S3_OP_COMPLETE_MULTIPART_UPLOAD:
    case S3_OP_PUT_OBJECT_TAGGING:
    case S3_OP_PUT_BUCKET_TAGGING:
    case S3_OP_PUT_BUCKET_CORS:
    case S3_OP_PUT_BUCKET_POLICY:
        return "write";
    case S3_OP_HEALTH:
        return "health";
    default:
        return "admin"; /* admin, metrics, IAM and STS, and refused requests */
    }
}

void
s3__audit_done(struct s3_call *call, const struct http_done *d)
{
    struct s3 *s = call->s3;
    struct http_req *req = call->req;
    struct audit_record r = { 0 };
    struct slice ua;
    const char *fwd;

    if (!s->audit || (call->op == S3_OP_HEALTH && !s->audit_health))
        return;
    r.time_ns = clock_now_ns() - (clock_mono_ns() - req->start_ns);
    r.request_id = req->id;
    r.api = s3_op_name(call->op);
    r.class = s3_op_class(call->op);
    r.bucket = call->bucket;
    r.object = call->key;
    r.status = d->status;
    if (d->status >= 300 && call->err)
        r.error_code = call->err_code ? call->err_code : s3_error_lookup(call->err)->code;
    r.bytes_in = d->bytes_in;
    r.bytes_out = d->bytes_out;
    r.duration_ns = d->duration_ns;
    r.ttfb_ns = d->ttfb_ns;
    r.remote = s3__client_addr(call, &fwd);
    r.forwarded = fwd;
    if (http_req_header(req, "user-agent", &ua))
        r.user_agent = arena_slicedup(req->arena, slice_trim(ua));
    r.access_key = call->id && call->id->type != IAM_ANONYMOUS && call->id->access_key[0]
                       ? call->id->access_key
                       : NULL;
    audit_submit(s->audit, &r);
}
