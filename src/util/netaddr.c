/* util/netaddr.c: IP addresses and CIDR masks (see netaddr.h). */
#include "util/base.h"

#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "util/err.h"

#define NETMASK_LIST_MAX 64

static void
normalize(struct netaddr *a)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (a->family == AF_INET6 && memcmp(a->addr, mapped, sizeof(mapped)) == 0) {
        memmove(a->addr, a->addr + 12, 4);
        memset(a->addr + 4, 0, 12);
        a->family = AF_INET;
    }
}

bool
netaddr_parse(struct slice text, struct netaddr *out)
{
    char buf[NETADDR_TEXT_MAX];

    text = slice_trim(text);
    if (!text.len || text.len >= sizeof(buf))
        return false;
    memcpy(buf, text.ptr, text.len);
    buf[text.len] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->family = AF_INET6;
    else
        return false;
    normalize(out);
    return true;
}

bool
netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
    memset(out, 0, sizeof(*out));
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        out->family = AF_INET;
        memcpy(out->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        out->family = AF_INET6;
        memcpy(out->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        normalize(out);
        return true;
    }
    return false;
}

void
netaddr_fmt(const struct netaddr *a, char out[NETADDR_TEXT_MAX])
{
    out[0] = '\0';
    if (a->family == AF_INET || a->family == AF_INET6)
        inet_ntop(a->family, a->addr, out, NETADDR_TEXT_MAX);
}

bool
netaddr_eq(const struct netaddr *a, const struct netaddr *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

uint64_t
netaddr_hash(const struct netaddr *a)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)a->family;
    size_t i;

    for (i = 0; i < 16; i++) {
        h ^= a->addr[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

bool
netmask_parse(struct slice text, struct netmask *out)
{
    struct slice bits = slice_split(slice_trim(text), '/', &text);
    unsigned long n = 0;
    size_t i;

    if (!netaddr_parse(text, &out->net))
        return false;
    out->bits = out->net.family == AF_INET ? 32 : 128;
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
    if (n > out->bits)
        return false;
    out->bits = (unsigned)n;
    return true;
}

int
netmask_list_parse(const char *list, struct netmask **out, size_t *n)
{
    struct slice rest = slice_cstr(list ? list : ""), one;
    struct netmask *m = NULL;
    size_t k = 0;

    while (rest.ptr && rest.len) {
        rest = slice_split(rest, ',', &one);
        if (!slice_trim(one).len)
            continue;
        if (k == NETMASK_LIST_MAX) {
            free(m);
            return -ERR_INVAL;
        }
        m = xrealloc(m, (k + 1) * sizeof(*m));
        if (!netmask_parse(one, &m[k])) {
            free(m);
            return -ERR_INVAL;
        }
        k++;
    }
    *out = m;
    *n = k;
    return 0;
}

static bool
mask_match(const struct netmask *m, const struct netaddr *a)
{
    unsigned full = m->bits / 8, rest = m->bits % 8;

    if (m->net.family != a->family || memcmp(m->net.addr, a->addr, full) != 0)
        return false;
    return !rest || ((m->net.addr[full] ^ a->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool
netmask_list_match(const struct netmask *m, size_t n, const struct netaddr *a)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (mask_match(&m[i], a))
            return true;
    return false;
}
