/*
 * cli/cmd_server.c: `basalt server [OPTIONS] DRIVE...`: parses the options,
 * expands the drive arguments (/srv/d{1...4}), picks the root credentials
 * (BASALT_ROOT_USER / BASALT_ROOT_PASSWORD, or development credentials on a
 * loopback address only), starts the server, prints the banner and runs
 * until SIGINT or SIGTERM.
 *
 * Exit codes: 0 after a clean stop (SIGINT, SIGTERM, or `basalt admin
 * service stop`), 1 when the server cannot start (drives, address in use) or
 * cannot start again after `basalt admin service restart`, 2 for a usage or
 * configuration error. A restart asked through the admin API stops like
 * SIGTERM, then execs the same binary with the same arguments
 * (server/restart.h): the same PID.
 */
#include "util/base.h"

#include "cli/commands.h"

#include <getopt.h>
#include <limits.h>

#include "cluster/endpoint.h"
#include "cluster/layout.h"
#include "server/restart.h"
#include "server/server.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/slice.h"

#define DEV_USER "basaltadmin"
#define DEV_PASSWORD "basaltadmin"

struct server_opts {
    struct server_config cfg;
    bool dev_credentials;
    char **domains; /* --domain, lowercase, malloc'd */
    size_t ndomains;
    char *path_prefix; /* --path-prefix without a trailing '/', malloc'd */
};

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: basalt server [OPTIONS] DRIVE...\n"
            "\n"
            "Serves the S3 API over DRIVE folders (erasure coded). A DRIVE may use\n"
            "ellipses: /srv/d{1...4} is /srv/d1 /srv/d2 /srv/d3 /srv/d4.\n"
            "\n"
            "A cluster: every node runs the same command with the same DRIVE URLs,\n"
            "each with its own --address; a node serves the drives whose HOST:PORT\n"
            "is its address, and reaches the others over the same port:\n"
            "  basalt server --address 10.0.0.1:9000 'http://10.0.0.{1...4}:9000/srv/d{1...2}'\n"
            "Nodes must share BASALT_ROOT_USER/BASALT_ROOT_PASSWORD (or\n"
            "BASALT_CLUSTER_SECRET, which then keys node-to-node calls).\n"
            "\n"
            "options:\n"
            "  --address HOST:PORT   listen address (default %s)\n"
            "  --region NAME         S3 region (default us-east-1)\n"
            "  --sync=on|off         fsync before acknowledging writes (default on);\n"
            "                        off is for benchmarks only: acknowledged writes may\n"
            "                        be lost on power failure\n"
            "  --max-memory MIB      memory budget for streaming requests; past it requests\n"
            "                        get 503 SlowDown (default 256)\n"
            "  --idle-timeout SEC    close client connections that send nothing for SEC\n"
            "                        seconds, also between pieces of a body (default %d)\n"
            "  --header-timeout SEC  close a connection whose request has not sent all its\n"
            "                        headers SEC seconds after its first byte, however\n"
            "                        slowly it trickles (default 10)\n"
            "  --max-connections N   refuse new connections while N are open (default:\n"
            "                        what the open-file limit allows, at most 16384)\n"
            "  --max-connections-per-address N\n"
            "                        refuse a client address's connections past N (0: no\n"
            "                        limit; default: a quarter of --max-connections);\n"
            "                        behind --trusted-proxies, their clients' requests in\n"
            "                        flight past N get 503 SlowDown\n"
            "  --domain NAME         serve virtual-host style requests too: a Host of\n"
            "                        BUCKET.NAME names the bucket (repeat the option or\n"
            "                        separate names with commas; path style still works,\n"
            "                        for NAME itself and IP addresses)\n"
            "  --path-prefix PATH    serve the whole API under PATH (/storage: clients use\n"
            "                        http://host:port/storage as their endpoint), e.g.\n"
            "                        behind a reverse proxy that forwards /storage/ as is\n"
            "  --stale-uploads-after DURATION\n"
            "                        abort multipart uploads older than DURATION, with a\n"
            "                        unit s, m, h or d (default 24h)\n"
            "  --scan-every DURATION the background scanner walks every object (heals what\n"
            "                        is below full redundancy) once every DURATION\n"
            "                        (default 1h)\n"
            "  --drive-timeout DURATION\n"
            "                        a call to one of this node's drives that has not\n"
            "                        returned after DURATION (a dead NFS server, a disk\n"
            "                        stuck in the kernel) takes the drive offline until\n"
            "                        its calls return (default 30s)\n"
            "  --audit-stdout        an audit record (JSON line) per request on stdout\n"
            "  --audit-file PATH     audit records appended to PATH (reopened on SIGHUP)\n"
            "  --audit-webhook URL   audit records pushed to Loki (URL: http://loki:3100 or\n"
            "                        its push path), batched and gzipped, retried\n"
            "  --audit-queue N       records waiting for the file or webhook before new\n"
            "                        ones are dropped and counted (default 100000)\n"
            "  --audit-health        audit health checks too (default: not)\n"
            "  --trusted-proxies LIST\n"
            "                        addresses or CIDRs (comma-separated) of proxies whose\n"
            "                        X-Forwarded-For / X-Real-IP name the client, for the\n"
            "                        audit and aws:SourceIp (default: none)\n"
            "  --object-ownership ObjectWriter|BucketOwnerPreferred|BucketOwnerEnforced\n"
            "                        the object ownership of new buckets that do not ask\n"
            "                        for one (x-amz-object-ownership); BucketOwnerEnforced,\n"
            "                        S3's default, disables ACLs; the others are for\n"
            "                        legacy clients that set ACLs (default\n"
            "                        BucketOwnerEnforced)\n"
            "  --certs-dir DIR       serve HTTPS (TLS 1.2 and 1.3) with DIR/public.crt and\n"
            "                        DIR/private.key (PEM), plus DIR/NAME/public.crt and\n"
            "                        private.key picked by SNI; DIR/CAs/ holds the CAs that\n"
            "                        node-to-node calls trust (besides the system's) for\n"
            "                        https:// endpoints; SIGHUP reloads them (MinIO's layout)\n"
            "  --http-engine mhd|basalt\n"
            "                        what serves HTTP: libmicrohttpd, a thread per\n"
            "                        connection (mhd, the default), or Basalt's own front\n"
            "                        (basalt: an epoll thread holds idle connections and\n"
            "                        parses request heads strictly, workers run requests)\n"
            "\n"
            "environment:\n"
            "  BASALT_ROOT_USER      root access key (at least 3 characters)\n"
            "  BASALT_ROOT_PASSWORD  root secret key (at least 8 characters)\n"
            "  BASALT_CLUSTER_SECRET the key of node-to-node calls (default: derived from\n"
            "                        the root credentials); the same on every node\n"
            "  BASALT_PROMETHEUS_AUTH  \"public\": /basalt/v1/metrics/node answers without\n"
            "                        authentication (default: signed by root, or a bearer\n"
            "                        token of `basalt admin prometheus generate`);\n"
            "                        MINIO_PROMETHEUS_AUTH_TYPE is read as an alias\n"
            "  BASALT_AUDIT_STDOUT=on, BASALT_AUDIT_FILE, BASALT_AUDIT_WEBHOOK,\n"
            "  BASALT_TRUSTED_PROXIES  the same as the options above\n"
            "  BASALT_OBJECT_OWNERSHIP  the default of --object-ownership (the option wins)\n"
            "  BASALT_CERTS_DIR      the default of --certs-dir (the option wins)\n"
            "  BASALT_HTTP_ENGINE    the default of --http-engine (the option wins)\n"
            "  Without them the server starts only on a loopback address, with the\n"
            "  development credentials %s / %s.\n",
            SERVER_DEFAULT_ADDRESS, SERVER_DEFAULT_IDLE_TIMEOUT, DEV_USER, DEV_PASSWORD);
}

/*
 * BASALT_PROMETHEUS_AUTH=public, or MinIO's MINIO_PROMETHEUS_AUTH_TYPE=public
 * (an operator's compose file written for MinIO): metrics without
 * authentication. Basalt's variable wins when both are set.
 */
static bool
metrics_are_public(void)
{
    const char *v = getenv("BASALT_PROMETHEUS_AUTH");

    if (!v || !*v)
        v = getenv("MINIO_PROMETHEUS_AUTH_TYPE");
    return v && !strcasecmp(v, "public");
}

/* The audit and proxy settings from the environment, where no option gave them. */
static void
env_defaults(struct server_config *cfg)
{
    const char *v = getenv("BASALT_AUDIT_STDOUT");

    if (v && (!strcasecmp(v, "on") || !strcmp(v, "1") || !strcasecmp(v, "true")))
        cfg->audit_stdout = true;
    if (!cfg->audit_file && (v = getenv("BASALT_AUDIT_FILE")) && *v)
        cfg->audit_file = v;
    if (!cfg->audit_webhook && (v = getenv("BASALT_AUDIT_WEBHOOK")) && *v)
        cfg->audit_webhook = v;
    if (!cfg->trusted_proxies && (v = getenv("BASALT_TRUSTED_PROXIES")) && *v)
        cfg->trusted_proxies = v;
    if (!cfg->certs_dir && (v = getenv("BASALT_CERTS_DIR")) && *v)
        cfg->certs_dir = v;
}

/* "127.0.0.1:9000", "[::1]:9000", "localhost:9000" */
static bool
is_loopback_address(const char *address)
{
    const char *colon = strrchr(address, ':');
    struct slice host = slice_make(address, colon ? (size_t)(colon - address) : 0);

    if (slice_eq_cstr(host, "localhost") || slice_eq_cstr(host, "[::1]") ||
        slice_eq_cstr(host, "::1"))
        return true;
    return slice_starts_with(host, SLICE_LIT("127."));
}

/* long options without a short letter */
enum {
    OPT_HEADER_TIMEOUT = 1000,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_PER_ADDRESS,
    OPT_HTTP_ENGINE,
};

static int
parse_number(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;

    if (parse_u64(slice_cstr(arg), &v) < 0 || v < min || v > max) {
        fprintf(stderr, "basalt server: %s: '%s' is not a number from %llu to %llu\n", opt, arg,
                (unsigned long long)min, (unsigned long long)max);
        return -ERR_INVAL;
    }
    *out = v;
    return 0;
}

/* "90s", "30m", "24h", "7d" (a number alone is seconds) into nanoseconds. */
static int
parse_duration(const char *opt, const char *arg, int64_t *out)
{
    size_t n = strlen(arg);
    uint64_t v, unit = 1;

    if (n > 1 && strchr("smhd", arg[n - 1])) {
        unit = arg[n - 1] == 's' ? 1 : arg[n - 1] == 'm' ? 60 : arg[n - 1] == 'h' ? 3600 : 86400;
        n--;
    }
    if (parse_u64(slice_make(arg, n), &v) < 0 || v == 0 || v > 3650ull * 86400 / unit) {
        fprintf(stderr, "basalt server: %s: '%s' is not a duration such as 90s, 30m, 24h or 7d\n",
                opt, arg);
        return -ERR_INVAL;
    }
    *out = (int64_t)(v * unit) * 1000000000LL;
    return 0;
}

static bool
is_valid_region(const char *r)
{
    size_t i, n = strlen(r);

    if (n == 0 || n > 63)
        return false;
    for (i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
            return false;
    return true;
}

/* A DNS name for --domain: letters, digits, '-' and '.', not an IP address. */
static bool
is_valid_domain(struct slice d)
{
    bool alpha = false;
    size_t i;

    if (d.len == 0 || d.len > 253 || d.ptr[0] == '.' || d.ptr[d.len - 1] == '.' || d.ptr[0] == '-')
        return false;
    for (i = 0; i < d.len; i++) {
        char c = d.ptr[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')
            alpha = true;
        else if (!(c >= '0' && c <= '9') && c != '.')
            return false;
        if (c == '.' && i && d.ptr[i - 1] == '.')
            return false;
    }
    return alpha; /* all digits and dots: an IPv4 address, always path style */
}

/* --domain a.example.com,b.example.com (the option may repeat). */
static int
add_domains(struct server_opts *o, const char *arg)
{
    struct slice rest = slice_cstr(arg), one;
    size_t i;

    while (rest.ptr) {
        rest = slice_split(rest, ',', &one);
        one = slice_trim(one);
        if (!is_valid_domain(one)) {
            fprintf(stderr, "basalt server: --domain: '%.*s' is not a domain name\n", (int)one.len,
                    one.ptr);
            return -ERR_INVAL;
        }
        o->domains = xrealloc(o->domains, (o->ndomains + 1) * sizeof(*o->domains));
        o->domains[o->ndomains] = slice_dup(one);
        for (i = 0; i < one.len; i++)
            if (o->domains[o->ndomains][i] >= 'A' && o->domains[o->ndomains][i] <= 'Z')
                o->domains[o->ndomains][i] += 'a' - 'A';
        o->ndomains++;
    }
    return 0;
}

/*
 * --path-prefix: "/" then segments of URL-safe characters (what a client
 * sends unencoded, so the raw path starts with exactly these bytes); no
 * empty, "." or ".." segment. A trailing '/' is dropped; "/" alone is none.
 */
static bool
is_valid_path_prefix(const char *p, size_t n)
{
    size_t i, seg = 1; /* start of the current segment */

    if (n == 0 || p[0] != '/')
        return false;
    for (i = 1; i <= n; i++) {
        if (i == n || p[i] == '/') {
            size_t len = i - seg;

            if (n > 1 && (len == 0 || (len == 1 && p[seg] == '.') ||
                          (len == 2 && p[seg] == '.' && p[seg + 1] == '.')))
                return false;
            seg = i + 1;
            continue;
        }
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || strchr("-._~", p[i])))
            return false;
    }
    return true;
}

/*
 * --path-prefix: "/" then segments of URL-safe characters (what a client
 * sends unencoded, so the raw path starts with exactly these bytes); no
 * empty, "." or ".." segment. A trailing '/' is dropped; "/" alone is none.
 */
static int
set_path_prefix(struct server_opts *o, const char *arg)
{
    size_t n = strlen(arg);

    while (n > 1 && arg[n - 1] == '/')
        n--;
    if (!is_valid_path_prefix(arg, n)) {
        fprintf(stderr,
                "basalt server: --path-prefix: '%s' is not a path such as /storage "
                "(letters, digits, - . _ ~ and /)\n",
                arg);
        return -ERR_INVAL;
    }
    free(o->path_prefix);
    o->path_prefix = xstrndup(arg, n == 1 ? 0 : n);
    return 0;
}

/* --object-ownership, BASALT_OBJECT_OWNERSHIP: one of S3's three settings. */
static int
set_object_ownership(const char *what, const char *v, struct server_opts *o)
{
    if (strcmp(v, "ObjectWriter") && strcmp(v, "BucketOwnerPreferred") &&
        strcmp(v, "BucketOwnerEnforced")) {
        fprintf(stderr,
                "basalt server: %s: '%s' is not ObjectWriter, BucketOwnerPreferred or "
                "BucketOwnerEnforced\n",
                what, v);
        return -ERR_INVAL;
    }
    o->cfg.object_ownership = v;
    return 0;
}

static int
set_http_engine(const char *what, const char *v, struct server_opts *o)
{
    if (strcmp(v, "mhd") && strcmp(v, "basalt")) {
        fprintf(stderr, "basalt server: %s: '%s' is not mhd or basalt\n", what, v);
        return -ERR_INVAL;
    }
    o->cfg.http_engine = v;
    return 0;
}

static int
parse_option(int c, struct server_opts *o)
{
    uint64_t v;

    switch (c) {
    case 'a':
        o->cfg.address = optarg;
        return 0;
    case 'r':
        if (!is_valid_region(optarg)) {
            fprintf(stderr, "basalt server: --region: '%s' is not a valid region name\n", optarg);
            return -ERR_INVAL;
        }
        o->cfg.region = optarg;
        return 0;
    case 's':
        if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
            fprintf(stderr, "basalt server: --sync takes 'on' or 'off'\n");
            return -ERR_INVAL;
        }
        o->cfg.sync = !strcmp(optarg, "on");
        return 0;
    case 'm':
        if (parse_number("--max-memory", optarg, 1, 1ull << 20, &v) < 0)
            return -ERR_INVAL;
        o->cfg.max_memory = v << 20;
        return 0;
    case 't':
        if (parse_number("--idle-timeout", optarg, 1, 86400, &v) < 0)
            return -ERR_INVAL;
        o->cfg.idle_timeout = (unsigned)v;
        return 0;
    case 'D':
        return add_domains(o, optarg);
    case 'P':
        return set_path_prefix(o, optarg);
    case 'U':
        return parse_duration("--stale-uploads-after", optarg, &o->cfg.stale_upload_ns);
    case 'S':
        return parse_duration("--scan-every", optarg, &o->cfg.scan_interval_ns);
    case 'T':
        return parse_duration("--drive-timeout", optarg, &o->cfg.drive_timeout_ns);
    case 'A':
        o->cfg.audit_stdout = true;
        return 0;
    case 'F':
        o->cfg.audit_file = optarg;
        return 0;
    case 'W':
        o->cfg.audit_webhook = optarg;
        return 0;
    case 'Q':
        if (parse_number("--audit-queue", optarg, 1, 10000000, &v) < 0)
            return -ERR_INVAL;
        o->cfg.audit_queue = (size_t)v;
        return 0;
    case 'H':
        o->cfg.audit_health = true;
        return 0;
    case 'X':
        o->cfg.trusted_proxies = optarg;
        return 0;
    case OPT_HEADER_TIMEOUT:
        if (parse_number("--header-timeout", optarg, 1, 3600, &v) < 0)
            return -ERR_INVAL;
        o->cfg.header_timeout = (unsigned)v;
        return 0;
    case OPT_MAX_CONNECTIONS:
        if (parse_number("--max-connections", optarg, 1, 1000000, &v) < 0)
            return -ERR_INVAL;
        o->cfg.max_connections = (unsigned)v;
        return 0;
    case OPT_MAX_PER_ADDRESS:
        if (parse_number("--max-connections-per-address", optarg, 0, 1000000, &v) < 0)
            return -ERR_INVAL;
        o->cfg.max_per_address = v ? (unsigned)v : UINT_MAX;
        return 0;
    case 'O':
        return set_object_ownership("--object-ownership", optarg, o);
    case 'C':
        o->cfg.certs_dir = optarg;
        return 0;
    case OPT_HTTP_ENGINE:
        return set_http_engine("--http-engine", optarg, o);
    default:
        usage(stderr);
        return -ERR_INVAL;
    }
}

static int
parse_options(int argc, char **argv, struct server_opts *o)
{
    static const struct option longopts[] = {
        { "address", required_argument, NULL, 'a' },
        { "region", required_argument, NULL, 'r' },
        { "sync", required_argument, NULL, 's' },
        { "max-memory", required_argument, NULL, 'm' },
        { "idle-timeout", required_argument, NULL, 't' },
        { "domain", required_argument, NULL, 'D' },
        { "path-prefix", required_argument, NULL, 'P' },
        { "stale-uploads-after", required_argument, NULL, 'U' },
        { "scan-every", required_argument, NULL, 'S' },
        { "drive-timeout", required_argument, NULL, 'T' },
        { "audit-stdout", no_argument, NULL, 'A' },
        { "audit-file", required_argument, NULL, 'F' },
        { "audit-webhook", required_argument, NULL, 'W' },
        { "audit-queue", required_argument, NULL, 'Q' },
        { "audit-health", no_argument, NULL, 'H' },
        { "trusted-proxies", required_argument, NULL, 'X' },
        { "header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT },
        { "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
        { "max-connections-per-address", required_argument, NULL, OPT_MAX_PER_ADDRESS },
        { "object-ownership", required_argument, NULL, 'O' },
        { "certs-dir", required_argument, NULL, 'C' },
        { "http-engine", required_argument, NULL, OPT_HTTP_ENGINE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        rc = parse_option(c, o);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Root credentials from the environment, or the development ones on loopback. */
static int
pick_credentials(struct server_opts *o)
{
    const char *user = getenv("BASALT_ROOT_USER"), *pass = getenv("BASALT_ROOT_PASSWORD");

    if ((user && *user) || (pass && *pass)) {
        if (!user || strlen(user) < 3 || !pass || strlen(pass) < 8) {
            fprintf(stderr, "basalt server: BASALT_ROOT_USER must have at least 3 characters "
                            "and BASALT_ROOT_PASSWORD at least 8 (set both)\n");
            return -ERR_INVAL;
        }
        o->cfg.root_user = user;
        o->cfg.root_password = pass;
        return 0;
    }
    if (!is_loopback_address(o->cfg.address)) {
        fprintf(stderr,
                "basalt server: refusing to listen on %s without credentials: set "
                "BASALT_ROOT_USER and BASALT_ROOT_PASSWORD (development credentials are "
                "only used on a loopback address such as 127.0.0.1)\n",
                o->cfg.address);
        return -ERR_INVAL;
    }
    o->cfg.root_user = DEV_USER;
    o->cfg.root_password = DEV_PASSWORD;
    o->dev_credentials = true;
    return 0;
}

/*
 * A URL a client on this machine can use: a wildcard host becomes
 * 127.0.0.1; the path prefix is part of the endpoint.
 */
static void
client_url(const char *address, const char *prefix, bool tls, struct buf *url)
{
    const char *colon = strrchr(address, ':');
    struct slice host = slice_make(address, colon ? (size_t)(colon - address) : 0);

    buf_adds(url, tls ? "https://" : "http://");
    if (host.len == 0 || slice_eq_cstr(host, "0.0.0.0") || slice_eq_cstr(host, "[::]"))
        buf_addf(url, "127.0.0.1%s", colon ? colon : "");
    else
        buf_adds(url, address);
    buf_adds(url, prefix ? prefix : "");
}

static void
print_banner(struct server *srv, const struct server_opts *o)
{
    struct buf layout = BUF_INIT, url = BUF_INIT;
    size_t i;

    server_describe(srv, &layout);
    client_url(o->cfg.address, o->cfg.path_prefix, o->cfg.certs_dir != NULL, &url);
    printf("Basalt server\n");
    printf("  endpoint:    %s\n", url.ptr);
    for (i = 0; i < o->ndomains; i++)
        printf("  %s BUCKET.%s (virtual-host style)\n",
               i ? "             " : "domains:   ", o->domains[i]);
    printf("  region:      %s\n", o->cfg.region);
    printf("  access key:  %s\n", o->cfg.root_user);
    if (o->dev_credentials)
        printf("  secret key:  %s\n", o->cfg.root_password);
    else
        printf("  secret key:  (from BASALT_ROOT_PASSWORD)\n");
    printf("  drives:      %s\n", layout.ptr);
    if (!o->cfg.sync)
        printf("  WARNING: --sync=off: acknowledged writes may be lost on power failure\n");
    if (o->dev_credentials)
        printf("  WARNING: development credentials, for development on this machine only:\n"
               "           set BASALT_ROOT_USER and BASALT_ROOT_PASSWORD for real use\n");
    printf(
        "\ntry:\n  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s aws --endpoint-url %s s3 ls\n\n",
        o->cfg.root_user, o->dev_credentials ? o->cfg.root_password : "\"$BASALT_ROOT_PASSWORD\"",
        url.ptr);
    fflush(stdout);
    buf_release(&layout);
    buf_release(&url);
}

static int
run(struct server_opts *o)
{
    struct buf errmsg = BUF_INIT;
    struct server *srv = NULL;
    enum server_exit why;
    int rc, sig;

    server_block_signals();
    rc = server_open(&o->cfg, &srv, &errmsg);
    if (rc < 0) {
        fprintf(stderr, "basalt server: %s\n", errmsg.len ? errmsg.ptr : err_msg(rc));
        buf_release(&errmsg);
        return 1;
    }
    print_banner(srv, o);
    sig = server_wait(srv);
    /* a signal from outside stops, even with a restart asked (one still queued is dropped) */
    why = sig == SERVER_SERVICE_SIGNAL ? server_exit_asked(srv) : SERVER_EXIT_SIGNAL;
    if (why == SERVER_EXIT_SIGNAL)
        fprintf(stderr, "basalt server: signal %d, stopping\n", sig);
    else
        fprintf(stderr, "basalt server: %s asked through the admin API, stopping\n",
                why == SERVER_EXIT_RESTART ? "restart" : "stop");
    server_close(srv);
    if (why == SERVER_EXIT_RESTART) {
        fprintf(stderr, "basalt server: starting again\n");
        server_restart_exec(&errmsg); /* returns only on failure */
        fprintf(stderr, "basalt server: cannot restart: %s\n", errmsg.ptr);
        rc = 1;
    }
    buf_release(&errmsg);
    return rc;
}

/*
 * The layout of the drive arguments, marked with this node (--address).
 * Folders: a single node, every drive local, `drives` the folders in order.
 * URLs: a cluster node. 0, or 2 (a usage error, said on stderr).
 */
static int
build_layout(int argc, char **argv, struct server_opts *o, struct layout **out,
             struct endpoint_list *drives)
{
    struct layout_opts lo = { 0 };
    struct buf errmsg = BUF_INIT, host = BUF_INIT, warn = BUF_INIT;
    const struct endpoint *e;
    struct layout *l = NULL;
    uint16_t port = 0;
    size_t n, i;
    int rc = endpoint_split_address(o->cfg.address, &host, &port, &errmsg);

    lo.default_port = port;
    if (rc == 0)
        rc = layout_from_args(argc, argv, &lo, &l, &errmsg);
    if (rc == 0)
        rc = layout_mark_local(l, o->cfg.address, &errmsg);
    if (rc < 0) {
        fprintf(stderr, "basalt server: %s\n", errmsg.ptr);
        layout_free(l);
        rc = 2;
        goto out;
    }
    if (layout_spread_warnings(l, &warn))
        fprintf(stderr, "basalt server: warning: %s", warn.ptr);
    e = layout_pool_drives(l, 0, &n);
    for (i = 0; i < n && !layout_is_cluster(l); i++) {
        drives->items = xrealloc(drives->items, (drives->n + 1) * sizeof(*drives->items));
        drives->items[drives->n++] = xstrdup(e[i].path);
    }
    *out = l;
out:
    buf_release(&errmsg);
    buf_release(&host);
    buf_release(&warn);
    return rc;
}

int
cmd_server(int argc, char **argv)
{
    struct server_opts o = { .cfg = { .address = SERVER_DEFAULT_ADDRESS,
                                      .region = "us-east-1",
                                      .sync = true,
                                      .max_memory = SERVER_DEFAULT_MAX_MEMORY,
                                      .idle_timeout = SERVER_DEFAULT_IDLE_TIMEOUT } };
    struct endpoint_list drives = ENDPOINT_LIST_INIT;
    struct layout *layout = NULL;
    size_t i;
    int rc;

    if (getenv("BASALT_OBJECT_OWNERSHIP") && *getenv("BASALT_OBJECT_OWNERSHIP") &&
        set_object_ownership("BASALT_OBJECT_OWNERSHIP", getenv("BASALT_OBJECT_OWNERSHIP"), &o) <
            0) {
        rc = 2;
        goto out;
    }
    if (getenv("BASALT_HTTP_ENGINE") && *getenv("BASALT_HTTP_ENGINE") &&
        set_http_engine("BASALT_HTTP_ENGINE", getenv("BASALT_HTTP_ENGINE"), &o) < 0) {
        rc = 2;
        goto out;
    }
    rc = parse_options(argc, argv, &o);
    if (rc != 0) {
        rc = rc > 0 ? 0 : 2;
        goto out;
    }
    if (optind >= argc) {
        fprintf(stderr, "basalt server: no DRIVE given\n\n");
        usage(stderr);
        rc = 2;
        goto out;
    }
    rc = build_layout(argc - optind, argv + optind, &o, &layout, &drives);
    if (rc != 0)
        goto out;
    if (pick_credentials(&o) < 0) {
        rc = 2;
        goto out;
    }
    o.cfg.drives = (const char *const *)drives.items;
    o.cfg.ndrives = drives.n;
    o.cfg.domains = (const char *const *)o.domains;
    o.cfg.ndomains = o.ndomains;
    o.cfg.path_prefix = o.path_prefix;
    o.cfg.layout = layout;
    o.cfg.cluster_secret = getenv("BASALT_CLUSTER_SECRET");
    o.cfg.metrics_public = metrics_are_public();
    env_defaults(&o.cfg);
    rc = run(&o);
out:
    for (i = 0; i < o.ndomains; i++)
        free(o.domains[i]);
    free(o.domains);
    free(o.path_prefix);
    endpoint_list_release(&drives);
    layout_free(layout);
    return rc;
}
