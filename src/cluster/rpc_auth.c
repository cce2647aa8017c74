/*
 * cluster/rpc_auth.c: the cluster key, node identities, the signed header
 * set of an RPC call and the anti-replay windows (see rpc_auth.h for the
 * wire format and the checks).
 *
 * DESIGN: the anti-replay window of one sender is a circular bitmap of
 * RPC_REPLAY_WINDOW bits indexed by seq % RPC_REPLAY_WINDOW, plus `top`, the
 * highest sequence number recorded. A number above `top` moves the window
 * (clearing the bits it uncovers); one at or below `top` but inside the
 * window is accepted once (its bit); one below the window is refused. A
 * newer boot of the sender (a later boot time) starts a fresh window; an
 * older one is refused, so calls captured before a sender restarted cannot
 * be replayed after it.
 */
#include "util/base.h"

#include "cluster/rpc_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sys/random.h>

#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"
#include "util/sha256.h"

#define REPLAY_SLOTS (2 * RPC_REPLAY_SENDERS) /* open addressing, at most half full */
#define REPLAY_WORDS (RPC_REPLAY_WINDOW / 64)

_Static_assert(RPC_REPLAY_WINDOW % 64 == 0, "the window is made of 64-bit words");

/* ---- key and identity ---- */

/*
 * HMAC-SHA256 (RFC 2104). Every RPC call is signed by its sender and
 * checked by its receiver: with the SHA extensions, util/sha256 computes it
 * by hand (four blocks for a small call), where OpenSSL 3's one-shot HMAC()
 * would look the algorithm up and build and free a MAC context each time,
 * which cost several times the hashing. Tests compare it with OpenSSL's.
 */
void
rpc_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, uint8_t out[32])
{
    uint8_t pad[64], inner[SHA256_SIZE];
    struct sha256 c;
    unsigned len = 32;
    size_t i;

    if (!sha256_ni_available() || keylen > sizeof(pad)) {
        BUG_ON(!HMAC(EVP_sha256(), key, (int)keylen, msg, n, out, &len));
        return;
    }
    memset(pad, 0x36, sizeof(pad));
    for (i = 0; i < keylen; i++)
        pad[i] ^= ((const uint8_t *)key)[i];
    sha256_init(&c);
    sha256_update(&c, pad, sizeof(pad));
    sha256_update(&c, msg, n);
    sha256_final(&c, inner);
    memset(pad, 0x5c, sizeof(pad));
    for (i = 0; i < keylen; i++)
        pad[i] ^= ((const uint8_t *)key)[i];
    sha256_init(&c);
    sha256_update(&c, pad, sizeof(pad));
    sha256_update(&c, inner, sizeof(inner));
    sha256_final(&c, out);
    secure_zero(pad, sizeof(pad));
    secure_zero(inner, sizeof(inner));
    secure_zero(&c, sizeof(c));
}

void
rpc_body_sha256(const void *p, size_t n, uint8_t out[32])
{
    struct sha256 c;
    unsigned len = 32;

    if (!sha256_ni_available()) {
        BUG_ON(!EVP_Digest(n ? p : "", n, out, &len, EVP_sha256(), NULL));
        return;
    }
    sha256_init(&c);
    sha256_update(&c, p, n);
    sha256_final(&c, out);
}

static void
hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, uint8_t out[32])
{
    rpc_hmac_sha256(key, keylen, msg, n, out);
}

static void
add_field(struct buf *b, struct slice s)
{
    uint8_t len[4] = { (uint8_t)(s.len >> 24), (uint8_t)(s.len >> 16), (uint8_t)(s.len >> 8),
                       (uint8_t)s.len };

    buf_add(b, len, sizeof(len));
    buf_add(b, s.ptr, s.len);
}

void
rpc_key_derive(struct rpc_key *out, const char *cluster_secret, const char *root_user,
               const char *root_password)
{
    static const char salt[] = "basalt cluster rpc key";
    static const char info[] = "rpc signing key v1\x01"; /* HKDF-Expand, one block */
    struct buf ikm = BUF_INIT;
    uint8_t prk[32];

    /* HKDF-SHA256 (RFC 5869): extract with a fixed salt, expand one block. */
    if (cluster_secret && cluster_secret[0]) {
        add_field(&ikm, SLICE_LIT("secret"));
        add_field(&ikm, slice_cstr(cluster_secret));
    } else {
        add_field(&ikm, SLICE_LIT("root"));
        add_field(&ikm, slice_cstr(root_user));
        add_field(&ikm, slice_cstr(root_password));
    }
    hmac_sha256(salt, sizeof(salt) - 1, ikm.ptr, ikm.len, prk);
    hmac_sha256(prk, sizeof(prk), info, sizeof(info) - 1, out->_k);
    secure_zero(prk, sizeof(prk));
    buf_release_secure(&ikm);
}

static bool
is_node_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '[' || c == ']' || c == '-';
}

bool
rpc_node_id_valid(struct slice s)
{
    size_t i;

    if (s.len == 0 || s.len > RPC_NODE_MAX)
        return false;
    for (i = 0; i < s.len; i++) {
        if (!is_node_char(s.ptr[i]))
            return false;
    }
    return true;
}

int
rpc_identity_init(struct rpc_identity *id, const char *node)
{
    uint8_t boot[RPC_BOOT_ID_SIZE];

    if (!node || !rpc_node_id_valid(slice_cstr(node)))
        return -ERR_INVAL;
    if (getrandom(boot, sizeof(boot), 0) != sizeof(boot))
        die("getrandom failed");
    memset(id, 0, sizeof(*id));
    memcpy(id->node, node, strlen(node));
    hex_encode_to(id->boot_id, boot, sizeof(boot));
    id->boot_time_ns = clock_now_ns();
    return 0;
}

/* ---- the header set ---- */

static bool
is_request_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static bool
request_id_valid(struct slice s)
{
    size_t i;

    if (s.len > RPC_REQUEST_ID_MAX)
        return false;
    for (i = 0; i < s.len; i++) {
        if (!is_request_id_char(s.ptr[i]))
            return false;
    }
    return true;
}

/* A decimal in [0, max] (no sign, no spaces, no leading zeros but "0"). */
static bool
parse_dec(struct slice s, uint64_t max, uint64_t *out)
{
    uint64_t v;

    if (s.len > 1 && s.ptr[0] == '0')
        return false;
    if (parse_u64(s, &v) < 0 || v > max)
        return false;
    *out = v;
    return true;
}

struct hdr_field {
    const char *name;
    size_t off; /* of the slice in struct rpc_auth_hdr */
};

static const struct hdr_field hdr_fields[] = {
    { RPC_HDR_VERSION, offsetof(struct rpc_auth_hdr, version) },
    { RPC_HDR_NODE, offsetof(struct rpc_auth_hdr, node) },
    { RPC_HDR_BOOT_ID, offsetof(struct rpc_auth_hdr, boot_id) },
    { RPC_HDR_BOOT_TIME, offsetof(struct rpc_auth_hdr, boot_time) },
    { RPC_HDR_SEQ, offsetof(struct rpc_auth_hdr, seq) },
    { RPC_HDR_TIME, offsetof(struct rpc_auth_hdr, time) },
    { RPC_HDR_BODY, offsetof(struct rpc_auth_hdr, body) },
    { RPC_HDR_REQUEST_ID, offsetof(struct rpc_auth_hdr, request_id) },
    { RPC_HDR_SIGNATURE, offsetof(struct rpc_auth_hdr, signature) },
};

static struct slice *
hdr_slice(struct rpc_auth_hdr *h, size_t i)
{
    return (struct slice *)((char *)h + hdr_fields[i].off);
}

/* The parsed forms of the values; false if one is malformed. */
static bool
hdr_parse_values(struct rpc_auth_hdr *h)
{
    uint64_t v, bt, t;

    if (!parse_dec(h->version, 999, &v) || v == 0 || !rpc_node_id_valid(h->node) ||
        h->boot_id.len != 2 * RPC_BOOT_ID_SIZE ||
        hex_decode(h->boot_id, h->boot, sizeof(h->boot)) < 0 ||
        !parse_dec(h->boot_time, INT64_MAX, &bt) || !parse_dec(h->seq, UINT64_MAX, &h->seq_no) ||
        h->seq_no == 0 || !parse_dec(h->time, INT64_MAX, &t) || !request_id_valid(h->request_id) ||
        h->signature.len != 2 * RPC_SIG_SIZE ||
        hex_decode(h->signature, h->sig, sizeof(h->sig)) < 0)
        return false;
    h->v = (unsigned)v;
    h->boot_time_ns = (int64_t)bt;
    h->time_ms = (int64_t)t;
    h->streaming = slice_eq_cstr(h->body, RPC_BODY_STREAM);
    if (h->streaming)
        return true;
    return h->body.len == 64 && hex_decode(h->body, h->body_sha256, 32) == 0;
}

int
rpc_auth_hdr_parse(rpc_header_get_fn *get, void *arg, struct rpc_auth_hdr *h)
{
    size_t i;

    memset(h, 0, offsetof(struct rpc_auth_hdr, _text));
    for (i = 0; i < ARRAY_SIZE(hdr_fields); i++) {
        if (!get(arg, hdr_fields[i].name, hdr_slice(h, i)))
            return -ERR_AUTH_MALFORMED;
    }
    return hdr_parse_values(h) ? 0 : -ERR_AUTH_MALFORMED;
}

/* Appends `s` as a NUL-terminated value to h->_text at `*pos`; returns its slice. */
static struct slice
text_put(struct rpc_auth_hdr *h, size_t *pos, const char *s, size_t n)
{
    char *dst = h->_text + *pos;

    BUG_ON(*pos + n + 1 > sizeof(h->_text));
    memcpy(dst, s, n);
    dst[n] = '\0';
    *pos += n + 1;
    return slice_make(dst, n);
}

static struct slice
text_putf(struct rpc_auth_hdr *h, size_t *pos, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);

    return text_put(h, pos, tmp, (size_t)n);
}

static void
make_request_id(char *dst, const char *id)
{
    size_t i;

    for (i = 0; id && id[i] && i < RPC_REQUEST_ID_MAX; i++)
        dst[i] = is_request_id_char(id[i]) ? id[i] : '_';
    dst[i] = '\0';
}

void
rpc_auth_hdr_make(struct rpc_auth_hdr *h, const struct rpc_key *key,
                  const struct rpc_identity *self, unsigned version, uint64_t seq, int64_t time_ms,
                  const uint8_t *body_sha256, const char *request_id, struct slice method,
                  struct slice path, struct slice query)
{
    char digest[65], rid[RPC_REQUEST_ID_MAX + 1], sig[2 * RPC_SIG_SIZE + 1];
    size_t pos = 0;

    memset(h, 0, sizeof(*h));
    make_request_id(rid, request_id);
    h->v = version;
    h->version = text_putf(h, &pos, version);
    h->node = text_put(h, &pos, self->node, strlen(self->node));
    h->boot_id = text_put(h, &pos, self->boot_id, strlen(self->boot_id));
    h->boot_time = text_putf(h, &pos, (uint64_t)self->boot_time_ns);
    h->seq_no = seq;
    h->seq = text_putf(h, &pos, seq);
    h->time_ms = time_ms;
    h->time = text_putf(h, &pos, (uint64_t)time_ms);
    h->streaming = !body_sha256;
    if (body_sha256) {
        memcpy(h->body_sha256, body_sha256, 32);
        hex_encode_to(digest, body_sha256, 32);
        h->body = text_put(h, &pos, digest, 64);
    } else {
        h->body = text_put(h, &pos, RPC_BODY_STREAM, strlen(RPC_BODY_STREAM));
    }
    h->request_id = text_put(h, &pos, rid, strlen(rid));
    (void)hex_decode(h->boot_id, h->boot, sizeof(h->boot));
    h->boot_time_ns = self->boot_time_ns;
    rpc_auth_sign(key, method, path, query, h, h->sig);
    hex_encode_to(sig, h->sig, sizeof(h->sig));
    h->signature = text_put(h, &pos, sig, 2 * RPC_SIG_SIZE);
}

void
rpc_auth_hdr_emit(const struct rpc_auth_hdr *h, rpc_header_put_fn *put, void *arg)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(hdr_fields); i++)
        put(arg, hdr_fields[i].name, *hdr_slice((struct rpc_auth_hdr *)h, i));
}

void
rpc_auth_sign(const struct rpc_key *key, struct slice method, struct slice path, struct slice query,
              const struct rpc_auth_hdr *h, uint8_t out[RPC_SIG_SIZE])
{
    struct buf b = BUF_INIT;
    size_t i;

    buf_grow(&b, 256 + path.len + query.len);
    add_field(&b, SLICE_LIT("basalt-rpc"));
    add_field(&b, method);
    add_field(&b, path);
    add_field(&b, query);
    /* every header but the signature itself, in the table's order */
    for (i = 0; i + 1 < ARRAY_SIZE(hdr_fields); i++)
        add_field(&b, *hdr_slice((struct rpc_auth_hdr *)h, i));
    hmac_sha256(key->_k, sizeof(key->_k), b.ptr, b.len, out);
    buf_release(&b);
}

int
rpc_auth_verify(const struct rpc_key *key, struct slice method, struct slice path,
                struct slice query, const struct rpc_auth_hdr *h, int64_t now_ms)
{
    uint8_t want[RPC_SIG_SIZE];
    int64_t skew;

    rpc_auth_sign(key, method, path, query, h, want);
    if (!ct_equal(want, h->sig, sizeof(want)))
        return -ERR_SIG_MISMATCH;
    skew = h->time_ms > now_ms ? h->time_ms - now_ms : now_ms - h->time_ms;
    if (skew > RPC_MAX_SKEW_MS)
        return -ERR_TIME_SKEWED;
    return 0;
}

/* ---- anti-replay windows ---- */

struct replay_sender {
    char node[RPC_NODE_MAX + 1]; /* immutable once in the table */
    pthread_mutex_t lock;        /* protects every field below */
    int64_t boot_time_ns;
    uint8_t boot[RPC_BOOT_ID_SIZE];
    bool started; /* a boot was recorded */
    uint64_t top; /* the highest sequence number recorded */
    uint64_t bits[REPLAY_WORDS];
};

struct rpc_replay {
    pthread_rwlock_t lock; /* protects slots[] and n; senders are never removed */
    struct replay_sender *slots[REPLAY_SLOTS];
    size_t n;
};

struct rpc_replay *
rpc_replay_new(void)
{
    struct rpc_replay *t = xcalloc(1, sizeof(*t));

    BUG_ON(pthread_rwlock_init(&t->lock, NULL) != 0);
    return t;
}

void
rpc_replay_free(struct rpc_replay *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < REPLAY_SLOTS; i++) {
        if (t->slots[i]) {
            pthread_mutex_destroy(&t->slots[i]->lock);
            free(t->slots[i]);
        }
    }
    pthread_rwlock_destroy(&t->lock);
    free(t);
}

static size_t
node_hash(struct slice s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    size_t i;

    for (i = 0; i < s.len; i++)
        h = (h ^ (uint8_t)s.ptr[i]) * 1099511628211ull;
    return (size_t)(h % REPLAY_SLOTS);
}

/* The slot of `node`, or of the empty slot where it would go. Caller holds t->lock. */
static size_t
replay_probe(struct rpc_replay *t, struct slice node)
{
    size_t i = node_hash(node);

    while (t->slots[i] && !slice_eq_cstr(node, t->slots[i]->node))
        i = (i + 1) % REPLAY_SLOTS;
    return i;
}

/* The sender `node`, created when `create` (NULL if absent, or if the table is full). */
static struct replay_sender *
replay_sender_get(struct rpc_replay *t, struct slice node, bool create)
{
    struct replay_sender *s;
    size_t i;

    pthread_rwlock_rdlock(&t->lock);
    s = t->slots[replay_probe(t, node)];
    pthread_rwlock_unlock(&t->lock);
    if (s || !create)
        return s;
    pthread_rwlock_wrlock(&t->lock);
    i = replay_probe(t, node);
    s = t->slots[i];
    if (!s && t->n < RPC_REPLAY_SENDERS) {
        s = xcalloc(1, sizeof(*s));
        memcpy(s->node, node.ptr, node.len);
        BUG_ON(pthread_mutex_init(&s->lock, NULL) != 0);
        t->slots[i] = s;
        t->n++;
    }
    pthread_rwlock_unlock(&t->lock);
    return s;
}

static bool
bit_test(const struct replay_sender *s, uint64_t seq)
{
    uint64_t i = seq % RPC_REPLAY_WINDOW;

    return (s->bits[i / 64] >> (i % 64)) & 1;
}

static void
bit_set(struct replay_sender *s, uint64_t seq)
{
    uint64_t i = seq % RPC_REPLAY_WINDOW;

    s->bits[i / 64] |= 1ull << (i % 64);
}

/* Moves the window's top to `seq` (> s->top), clearing the bits it uncovers. */
static void
window_advance(struct replay_sender *s, uint64_t seq)
{
    uint64_t i = s->top + 1, idx;

    if (seq - s->top >= RPC_REPLAY_WINDOW) {
        memset(s->bits, 0, sizeof(s->bits));
    } else {
        while (i <= seq) {
            idx = i % RPC_REPLAY_WINDOW;
            if (idx % 64 == 0 && seq - i >= 63) {
                s->bits[idx / 64] = 0;
                i += 64;
            } else {
                s->bits[idx / 64] &= ~(1ull << (idx % 64));
                i++;
            }
        }
    }
    s->top = seq;
}

/* The check itself; caller holds s->lock. */
static int
window_check(struct replay_sender *s, const struct rpc_auth_hdr *h, bool commit)
{
    uint64_t seq = h->seq_no;

    if (!s->started || h->boot_time_ns > s->boot_time_ns) {
        if (!commit)
            return 0;
        s->started = true;
        s->boot_time_ns = h->boot_time_ns;
        memcpy(s->boot, h->boot, sizeof(s->boot));
        s->top = 0;
        memset(s->bits, 0, sizeof(s->bits));
    } else if (h->boot_time_ns < s->boot_time_ns || memcmp(h->boot, s->boot, sizeof(s->boot))) {
        return -ERR_REPLAY; /* an older boot, or another with the same start time */
    }
    if (seq > s->top) {
        if (commit) {
            window_advance(s, seq);
            bit_set(s, seq);
        }
        return 0;
    }
    if (s->top - seq >= RPC_REPLAY_WINDOW || bit_test(s, seq))
        return -ERR_REPLAY;
    if (commit)
        bit_set(s, seq);
    return 0;
}

int
rpc_replay_check(struct rpc_replay *t, const struct rpc_auth_hdr *h, bool commit)
{
    struct replay_sender *s = replay_sender_get(t, h->node, commit);
    int rc;

    if (!s)
        return commit ? -ERR_BUSY : 0;
    pthread_mutex_lock(&s->lock);
    rc = window_check(s, h, commit);
    pthread_mutex_unlock(&s->lock);
    return rc;
}
