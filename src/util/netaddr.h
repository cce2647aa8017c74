/*
 * util/netaddr.h: IP addresses and CIDR masks, as --trusted-proxies and the
 * HTTP front's per-address limits need them. An IPv4-mapped IPv6 address
 * (::ffff:10.0.0.1) is the IPv4 address it maps, so that a dual-stack
 * socket and a list written in IPv4 agree.
 */
#ifndef BASALT_UTIL_NETADDR_H
#define BASALT_UTIL_NETADDR_H

#include "util/base.h"

#include <sys/socket.h>

#include "util/slice.h"

#define NETADDR_TEXT_MAX 48 /* "ffff:...:255.255.255.255" and a NUL */

struct netaddr {
    int family; /* AF_INET, AF_INET6 */
    uint8_t addr[16];
};

struct netmask {
    struct netaddr net;
    unsigned bits;
};

/* "10.0.0.1", "::1" (surrounding blanks allowed): true and `*out`. */
bool netaddr_parse(struct slice text, struct netaddr *out);
/* A socket address (AF_INET or AF_INET6): true and `*out`. */
bool netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);
/* As text; "" for an unknown family. */
void netaddr_fmt(const struct netaddr *a, char out[NETADDR_TEXT_MAX]);
bool netaddr_eq(const struct netaddr *a, const struct netaddr *b);
uint64_t netaddr_hash(const struct netaddr *a);

/* "10.0.0.0/8", "127.0.0.1", "::1/128": true and `*out`. */
bool netmask_parse(struct slice text, struct netmask *out);
/*
 * A comma-separated list of masks (NULL or "" is none; at most 64).
 * Returns 0 and a malloc'd array, or -ERR_INVAL (nothing allocated).
 */
int netmask_list_parse(const char *list, struct netmask **out, size_t *n);
bool netmask_list_match(const struct netmask *m, size_t n, const struct netaddr *a);

#endif
