/*
 * http/guard.c: what keeps one client from taking the server (issue 16).
 *
 * - Limits: at accept, a connection past max_connections, or past
 *   max_per_address from one address, is closed at once and counted. A
 *   trusted proxy's connections are exempt from the per-address limit;
 *   its clients (named by X-Forwarded-For) are limited per request in
 *   flight instead (guard_client_enter), answered 503 SlowDown past it.
 * - The header deadline: a request must send its whole header section
 *   within header_timeout of its first byte, however slowly it trickles
 *   (libmicrohttpd's own timeout restarts with every byte, so a trickle
 *   never meets it). libmicrohttpd does not say when a request's first
 *   byte arrives, so a thread reads each idle connection's received-byte
 *   count (TCP_INFO) once a tick: a count past the one seen when the last
 *   request completed starts the clock; so does the request line
 *   (guard_request_line). A connection still without its headers at the
 *   deadline is shut down; its thread then sees the socket closed and
 *   ends it. The deadline is thus kept to within one tick (1 s).
 *
 * Cost: an idle connection costs one getsockopt per tick; a request one
 * getsockopt when it completes and a few atomic stores. The registry's
 * mutex is taken at connect and close and by the tick, never per request.
 * shutdown() is safe on a registered connection's descriptor: libmicrohttpd
 * closes it only after telling us (guard_conn_close, under the mutex).
 */
#include "util/base.h"

#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received (glibc's lacks it) */
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "http/internal.h"
#include "obs/log.h"
#include "util/clock.h"

#define GUARD_TICK_MS 1000
#define ADDR_BUCKETS 1024

enum conn_phase { PHASE_IDLE, PHASE_HEADERS, PHASE_BUSY };

/*
 * A connection's state is one atomic word: the phase in the low 2 bits,
 * and above them a generation that each completed request advances. The
 * deadline thread moves IDLE to HEADERS by compare-and-swap of the word it
 * read before looking at the byte count: if a request completed meanwhile,
 * the generation differs and the swap fails (else a connection idle again
 * could be taken for one in the middle of its headers).
 */
#define STATE(gen, phase) (((gen) << 2) | (uint64_t)(phase))
#define STATE_PHASE(s) ((int)((s)&3))
#define STATE_GEN(s) ((s) >> 2)

struct guard_conn {
    struct guard_conn *prev, *next; /* registry, under guard.lock */
    int fd;
    struct netaddr addr;
    bool counted;             /* holds one of addr's per-address slots */
    bool proxied;             /* the peer is a trusted proxy */
    bool shut;                /* shut down at the deadline */
    _Atomic uint64_t state;   /* STATE(generation, phase) */
    _Atomic int64_t phase_ns; /* PHASE_HEADERS: when the request's first byte was seen */
    _Atomic uint64_t mark;    /* received bytes when the connection last became idle */
};

struct addr_count {
    struct addr_count *next;
    struct netaddr addr;
    unsigned n;
};

struct addr_table {
    struct addr_count *b[ADDR_BUCKETS];
};

struct guard {
    struct guard_config cfg;
    pthread_mutex_t lock;      /* registry, conns' and clients' tables */
    struct guard_conn head;    /* circular registry */
    struct addr_table conns;   /* open connections per peer address */
    struct addr_table clients; /* proxied requests in flight per client address */
    unsigned open;
    atomic_uint_fast64_t accepted, refused_limit, refused_address, refused_requests,
        header_timeouts;
    pthread_t thread;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping, started;
};

/* ---- per-address counts ---- */

/*
 * What the per-address limits count by: an IPv4 address, or an IPv6 /64
 * (one host or LAN gets a whole /64: counting /128s would give it as many
 * slots as it likes).
 */
static struct netaddr
limit_key(const struct netaddr *a)
{
    struct netaddr k = *a;

    if (k.family == AF_INET6)
        memset(k.addr + 8, 0, 8);
    return k;
}

static struct addr_count **
addr_slot(struct addr_table *t, const struct netaddr *a)
{
    struct addr_count **p = &t->b[netaddr_hash(a) % ADDR_BUCKETS];

    while (*p && !netaddr_eq(&(*p)->addr, a))
        p = &(*p)->next;
    return p;
}

static unsigned
addr_get(struct addr_table *t, const struct netaddr *addr)
{
    struct netaddr a = limit_key(addr);
    struct addr_count **p = addr_slot(t, &a);

    return *p ? (*p)->n : 0;
}

static void
addr_inc(struct addr_table *t, const struct netaddr *addr)
{
    struct netaddr a = limit_key(addr);
    struct addr_count **p = addr_slot(t, &a);

    if (!*p) {
        *p = xcalloc(1, sizeof(**p));
        (*p)->addr = a;
    }
    (*p)->n++;
}

static void
addr_dec(struct addr_table *t, const struct netaddr *addr)
{
    struct netaddr a = limit_key(addr);
    struct addr_count **p = addr_slot(t, &a), *e = *p;

    if (!e)
        return;
    if (--e->n == 0) {
        *p = e->next;
        free(e);
    }
}

static void
addr_clear(struct addr_table *t)
{
    size_t i;

    for (i = 0; i < ADDR_BUCKETS; i++) {
        while (t->b[i]) {
            struct addr_count *e = t->b[i];

            t->b[i] = e->next;
            free(e);
        }
    }
}

/* ---- the deadline thread ---- */

static bool
bytes_received(int fd, uint64_t *out)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
        return false;
    *out = ti.tcpi_bytes_received;
    return true;
}

static void
tick(struct guard *g)
{
    int64_t now = clock_mono_ns(), limit = (int64_t)g->cfg.header_timeout * 1000000000;
    struct guard_conn *c;
    unsigned closed = 0;
    char first[NETADDR_TEXT_MAX] = "";
    uint64_t got;

    pthread_mutex_lock(&g->lock);
    for (c = g->head.next; c != &g->head; c = c->next) {
        uint64_t s = atomic_load(&c->state);
        int ph = STATE_PHASE(s);

        if (c->shut || c->fd < 0)
            continue;
        if (ph == PHASE_IDLE) {
            if (bytes_received(c->fd, &got) && got > atomic_load(&c->mark)) {
                atomic_store(&c->phase_ns, now);
                atomic_compare_exchange_strong(&c->state, &s, STATE(STATE_GEN(s), PHASE_HEADERS));
            }
        } else if (ph == PHASE_HEADERS && now - atomic_load(&c->phase_ns) > limit) {
            (void)shutdown(c->fd, SHUT_RDWR);
            c->shut = true;
            if (!closed++)
                netaddr_fmt(&c->addr, first);
        }
    }
    pthread_mutex_unlock(&g->lock);
    if (closed) {
        atomic_fetch_add(&g->header_timeouts, closed);
        log_warn(&(struct log_ctx){ .event = "header_timeout" },
                 "closed %u connection%s that did not send a request's headers within %u s "
                 "(the first from %s)",
                 closed, closed == 1 ? "" : "s", g->cfg.header_timeout, first);
    }
}

static void *
guard_main(void *arg)
{
    struct guard *g = arg;
    struct timespec ts;

    pthread_mutex_lock(&g->stop_lock);
    while (!g->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += GUARD_TICK_MS / 1000;
        pthread_cond_timedwait(&g->stop_cond, &g->stop_lock, &ts);
        if (g->stopping)
            break;
        pthread_mutex_unlock(&g->stop_lock);
        tick(g);
        pthread_mutex_lock(&g->stop_lock);
    }
    pthread_mutex_unlock(&g->stop_lock);
    return NULL;
}

/* ---- the API ---- */

struct guard *
guard_new(const struct guard_config *cfg)
{
    struct guard *g = xcalloc(1, sizeof(*g));
    pthread_condattr_t ca;

    g->cfg = *cfg;
    g->head.next = g->head.prev = &g->head;
    pthread_mutex_init(&g->lock, NULL);
    pthread_mutex_init(&g->stop_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->stop_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (g->cfg.header_timeout) {
        if (pthread_create(&g->thread, NULL, guard_main, g) == 0) {
            g->started = true;
            pthread_setname_np(g->thread, "http-guard");
        } else {
            log_error(NULL, "cannot start the header deadline thread: no header deadline");
        }
    }
    return g;
}

void
guard_free(struct guard *g)
{
    if (!g)
        return;
    if (g->started) {
        pthread_mutex_lock(&g->stop_lock);
        g->stopping = true;
        pthread_cond_signal(&g->stop_cond);
        pthread_mutex_unlock(&g->stop_lock);
        pthread_join(g->thread, NULL);
    }
    addr_clear(&g->conns);
    addr_clear(&g->clients);
    pthread_mutex_destroy(&g->lock);
    pthread_mutex_destroy(&g->stop_lock);
    pthread_cond_destroy(&g->stop_cond);
    free(g);
}

static bool
is_proxy(const struct guard *g, const struct netaddr *a)
{
    return netmask_list_match(g->cfg.proxies, g->cfg.nproxies, a);
}

/*
 * Only a check: the slot is taken when the connection starts
 * (guard_conn_open), since libmicrohttpd may still drop an admitted
 * connection without telling (out of memory) and a slot taken here would
 * then never be given back. It accepts and starts connections on its one
 * listening thread, so no other admit runs in between.
 */
bool
guard_admit(struct guard *g, const struct sockaddr *sa)
{
    struct netaddr a;
    bool ip = netaddr_from_sockaddr(sa, &a), limited;

    /* not IP (cannot happen on a TCP listener): only the global limit */
    limited = ip && g->cfg.max_per_address && !is_proxy(g, &a);
    pthread_mutex_lock(&g->lock);
    if (g->open >= g->cfg.max_connections) {
        pthread_mutex_unlock(&g->lock);
        atomic_fetch_add(&g->refused_limit, 1);
        return false;
    }
    if (limited && addr_get(&g->conns, &a) >= g->cfg.max_per_address) {
        pthread_mutex_unlock(&g->lock);
        atomic_fetch_add(&g->refused_address, 1);
        return false;
    }
    pthread_mutex_unlock(&g->lock);
    return true;
}

struct guard_conn *
guard_conn_open(struct guard *g, int fd, const struct sockaddr *sa)
{
    struct guard_conn *c = xcalloc(1, sizeof(*c));

    c->fd = fd;
    c->counted = netaddr_from_sockaddr(sa, &c->addr);
    c->proxied = c->counted && is_proxy(g, &c->addr);
    atomic_init(&c->state, STATE(0, PHASE_IDLE));
    atomic_init(&c->phase_ns, 0);
    atomic_init(&c->mark, 0);
    atomic_fetch_add(&g->accepted, 1);
    pthread_mutex_lock(&g->lock);
    g->open++;
    if (c->counted)
        addr_inc(&g->conns, &c->addr);
    c->next = &g->head;
    c->prev = g->head.prev;
    c->prev->next = c;
    g->head.prev = c;
    pthread_mutex_unlock(&g->lock);
    return c;
}

void
guard_conn_close(struct guard *g, struct guard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    if (c->counted)
        addr_dec(&g->conns, &c->addr);
    if (g->open)
        g->open--;
    pthread_mutex_unlock(&g->lock);
    free(c);
}

/*
 * Only the connection's own thread calls these three; the deadline thread
 * changes nothing but IDLE to HEADERS of the same generation.
 */
void
guard_request_line(struct guard_conn *c)
{
    uint64_t s;

    if (!c)
        return;
    s = atomic_load(&c->state);
    if (STATE_PHASE(s) != PHASE_IDLE)
        return; /* the deadline thread saw its first bytes: that clock runs */
    atomic_store(&c->phase_ns, clock_mono_ns());
    atomic_compare_exchange_strong(&c->state, &s, STATE(STATE_GEN(s), PHASE_HEADERS));
}

void
guard_headers_done(struct guard_conn *c)
{
    if (c)
        atomic_store(&c->state, STATE(STATE_GEN(atomic_load(&c->state)), PHASE_BUSY));
}

void
guard_request_done(struct guard_conn *c)
{
    uint64_t got;

    if (!c)
        return;
    if (c->fd >= 0 && bytes_received(c->fd, &got))
        atomic_store(&c->mark, got);
    atomic_store(&c->state, STATE(STATE_GEN(atomic_load(&c->state)) + 1, PHASE_IDLE));
}

bool
guard_conn_proxied(const struct guard_conn *c)
{
    return c && c->proxied;
}

bool
guard_client_enter(struct guard *g, const struct netaddr *client)
{
    bool ok = true;

    if (!g->cfg.max_per_address)
        return true;
    pthread_mutex_lock(&g->lock);
    if (addr_get(&g->clients, client) >= g->cfg.max_per_address)
        ok = false;
    else
        addr_inc(&g->clients, client);
    pthread_mutex_unlock(&g->lock);
    if (!ok)
        atomic_fetch_add(&g->refused_requests, 1);
    return ok;
}

void
guard_client_leave(struct guard *g, const struct netaddr *client)
{
    if (!g->cfg.max_per_address)
        return;
    pthread_mutex_lock(&g->lock);
    addr_dec(&g->clients, client);
    pthread_mutex_unlock(&g->lock);
}

void
guard_get_stats(struct guard *g, struct guard_stats *out)
{
    pthread_mutex_lock(&g->lock);
    out->open = g->open;
    pthread_mutex_unlock(&g->lock);
    out->accepted = atomic_load(&g->accepted);
    out->refused_limit = atomic_load(&g->refused_limit);
    out->refused_address = atomic_load(&g->refused_address);
    out->refused_requests = atomic_load(&g->refused_requests);
    out->header_timeouts = atomic_load(&g->header_timeouts);
}

void
guard_count_header_timeout(struct guard *g)
{
    atomic_fetch_add(&g->header_timeouts, 1);
}
