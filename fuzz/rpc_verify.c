/*
 * fuzz/rpc_verify.c: the server-side verification of an RPC call's signed
 * header set (cluster/rpc_auth.h) on arbitrary bytes. The input is
 *
 *   METHOD SP TARGET LF (NAME ":" SP VALUE LF)*
 *
 * TARGET is the raw path, optionally "?" and the raw query. The header lines
 * go through rpc_auth_hdr_parse() and rpc_auth_verify() with the key of
 * BASALT_CLUSTER_SECRET "fuzz" at the time NOW_MS; a call that verifies must
 * then pass the replay check once and be refused the second time.
 *
 * Then a property on the same method, path and query: the header set
 * rpc_auth_hdr_make() signs for them (sender, sequence number and time from
 * the input's length) parses back and verifies, and fails with another key
 * or another method.
 */
#include "util/base.h"

#include "cluster/rpc_auth.h"
#include "util/err.h"

#define NOW_MS 1800000000000ll
#define MAX_HEADERS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct hdrs {
    struct slice name[MAX_HEADERS], value[MAX_HEADERS];
    size_t n;
};

static bool
get(void *arg, const char *name, struct slice *out)
{
    struct hdrs *h = arg;
    size_t i;

    for (i = 0; i < h->n; i++) {
        if (slice_case_eq_cstr(h->name[i], name)) {
            *out = h->value[i];
            return true;
        }
    }
    return false;
}

static void
put(void *arg, const char *name, struct slice value)
{
    struct hdrs *h = arg;

    BUG_ON(h->n == MAX_HEADERS);
    h->name[h->n] = slice_cstr(name);
    h->value[h->n++] = value;
}

/* Sign-then-verify for this method, path and query. */
static void
check_roundtrip(const struct rpc_key *key, struct slice method, struct slice path,
                struct slice query, size_t size)
{
    struct rpc_identity id = { .node = "10.0.0.1:9000",
                               .boot_id = "00112233445566778899aabbccddeeff",
                               .boot_time_ns = 1700000000000000000ll };
    uint8_t md[32] = { (uint8_t)size };
    struct rpc_auth_hdr made, parsed;
    struct hdrs h = { .n = 0 };
    struct rpc_key other;

    rpc_auth_hdr_make(&made, key, &id, RPC_VERSION, size + 1, NOW_MS - (int64_t)size, md, "fuzz",
                      method, path, query);
    rpc_auth_hdr_emit(&made, put, &h);
    if (rpc_auth_hdr_parse(get, &h, &parsed) != 0)
        abort();
    if (rpc_auth_verify(key, method, path, query, &parsed, NOW_MS) != 0)
        abort();
    rpc_key_derive(&other, "fuzz2", NULL, NULL);
    if (rpc_auth_verify(&other, method, path, query, &parsed, NOW_MS) != -ERR_SIG_MISMATCH)
        abort();
    if (rpc_auth_verify(key, SLICE_LIT("X-OTHER"), path, query, &parsed, NOW_MS) !=
        -ERR_SIG_MISMATCH)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice in = slice_make(data, size), line, method, target, path, query;
    struct hdrs h = { .n = 0 };
    struct rpc_auth_hdr a;
    struct rpc_replay *t;
    struct rpc_key key;

    in = slice_split(in, '\n', &line);
    target = slice_split(line, ' ', &method);
    query = slice_split(target, '?', &path);
    while (in.ptr && h.n < MAX_HEADERS) {
        in = slice_split(in, '\n', &line);
        h.value[h.n] = slice_trim(slice_split(line, ':', &h.name[h.n]));
        h.n++;
    }
    rpc_key_derive(&key, "fuzz", NULL, NULL);
    if (rpc_auth_hdr_parse(get, &h, &a) == 0 &&
        rpc_auth_verify(&key, method, path, query, &a, NOW_MS) == 0) {
        t = rpc_replay_new();
        if (rpc_replay_check(t, &a, false) != 0 || rpc_replay_check(t, &a, true) != 0 ||
            rpc_replay_check(t, &a, true) != -ERR_REPLAY)
            abort();
        rpc_replay_free(t);
    }
    check_roundtrip(&key, method, path, query, size);
    return 0;
}
