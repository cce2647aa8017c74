/*
 * cli/alias.h: aliases, the names the client commands use for S3 endpoints
 * with their credentials ("local" in `basalt ls local/bucket/key`).
 *
 * Where an alias comes from, first match wins:
 *   1. the environment, BASALT_ALIAS_<NAME>=https://ACCESS:SECRET@host[:port]
 *      (NAME as written, or upper case with '-' as '_'; ACCESS and SECRET
 *      percent-encoded where they hold ':', '@' or '/');
 *   2. the config file, $BASALT_CONFIG_DIR/config.json (default
 *      ~/.basalt/config.json), mode 0600: refused when group or others may
 *      read it, since it holds secret keys;
 *   3. BASALT_ACCESS_KEY and BASALT_SECRET_KEY (with BASALT_ENDPOINT, default
 *      http://127.0.0.1:9000, and BASALT_REGION), the variables of
 *      `basalt admin`, as the alias named by BASALT_ALIAS (default "local").
 *
 * The config file, as MinIO's mc keeps it:
 *   {"version":"1","aliases":{"local":{"url":"http://127.0.0.1:9000",
 *    "accessKey":"...","secretKey":"...","region":"us-east-1","path":"auto"}}}
 * "path" is "on" (path-style requests), "off" (virtual-host) or "auto":
 * virtual-host only for *.amazonaws.com, path-style elsewhere (IP addresses,
 * localhost and most self-hosted endpoints have no wildcard DNS).
 */
#ifndef BASALT_CLI_ALIAS_H
#define BASALT_CLI_ALIAS_H

#include "util/base.h"

#include "client/client.h"
#include "util/buf.h"
#include "util/slice.h"

#define ALIAS_DEFAULT_REGION "us-east-1"
#define ALIAS_DEFAULT_ENDPOINT "http://127.0.0.1:9000"

enum alias_style { ALIAS_STYLE_AUTO, ALIAS_STYLE_PATH, ALIAS_STYLE_VHOST };

struct alias {
    char *name;
    char *url; /* "http://host:port", no trailing '/' */
    char *access_key;
    char *secret_key; /* zeroed by alias_release */
    char *region;
    enum alias_style style;
    const char *source; /* "env", "config" or "BASALT_ENDPOINT": static strings */
};

struct alias_config {
    struct alias *v;
    size_t n;
};

void alias_release(struct alias *a);

/* True when `name` is a valid alias name: [A-Za-z0-9_-]{1,64}, starting with a letter. */
bool alias_name_is_valid(const char *name);

/*
 * Checks `url` is "http[s]://HOST[:PORT]" (a trailing '/' allowed, dropped),
 * and returns a malloc'd copy without the '/'; NULL with the reason in `errmsg`.
 */
char *alias_check_url(const char *url, struct buf *errmsg);

/*
 * Parses "https://ACCESS:SECRET@host[:port]" (the BASALT_ALIAS_<NAME> form) into
 * `out`, named `name`. 0, or -ERR_INVAL with the reason in `errmsg` (which
 * never repeats the secret); `out` is written only on success.
 */
int alias_parse_url(const char *name, const char *value, struct alias *out, struct buf *errmsg);

/* Parses the config document; 0, or -ERR_INVAL with the reason. `cfg` is written only on success.
 */
int alias_config_parse(struct slice json, struct alias_config *cfg, struct buf *errmsg);

/* The config document of `cfg` (pretty, sorted by name): a new jansson string to free(). */
char *alias_config_dump(const struct alias_config *cfg);

/* The config file's path: $BASALT_CONFIG_DIR/config.json or $HOME/.basalt/config.json. */
void alias_config_path(struct buf *out);

/*
 * Loads the config file (none: an empty config). -ERR_ACCESS_DENIED when group
 * or others may read it, -ERR_INVAL when it does not parse, -ERR_IO when it
 * cannot be read; the reason in `errmsg`, naming the file and the fix.
 */
int alias_config_load(struct alias_config *cfg, struct buf *errmsg);

/* Writes the config file atomically with mode 0600 (its folder 0700). */
int alias_config_save(const struct alias_config *cfg, struct buf *errmsg);

/* Adds `a` or replaces the alias of its name; takes ownership of `a`'s strings. */
void alias_config_set(struct alias_config *cfg, struct alias *a);

/* Removes alias `name`; -ERR_NOT_FOUND if there is none. */
int alias_config_remove(struct alias_config *cfg, const char *name);

void alias_config_release(struct alias_config *cfg);

/*
 * Finds alias `name` in the three sources above (the file is read only when
 * the environment does not answer). 0 and `*out`, -ERR_NOT_FOUND (nothing in
 * `errmsg`), or an error of alias_config_load / alias_parse_url with its reason.
 */
int alias_lookup(const char *name, struct alias *out, struct buf *errmsg);

/* Every alias from the three sources, the ones that win first; `cfg` owns them. */
int alias_list_all(struct alias_config *cfg, struct buf *errmsg);

/* True when requests to `a` are virtual-host style. */
bool alias_is_vhost(const struct alias *a);

/* A client for `a` (client_new, addressing set). */
int alias_client(const struct alias *a, struct client **out, struct buf *errmsg);
/*
 * The TLS settings of the environment on `c`: the CA bundle of
 * BASALT_CA_BUNDLE, else CURL_CA_BUNDLE, else SSL_CERT_FILE (as the curl
 * tool reads them), and BASALT_INSECURE=1 (`basalt --insecure`).
 */
void alias_client_tls(struct client *c);

#endif
