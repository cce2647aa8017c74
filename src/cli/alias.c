/*
 * cli/alias.c: aliases from the environment and ~/.basalt/config.json (see
 * alias.h). The file holds secret keys: it is written with mode 0600 through
 * a temporary file and rename(2), and refused when its mode lets group or
 * others read it (ssh's rule for private keys).
 */
#include "util/base.h"

#include "cli/alias.h"

#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/parse.h"
#include "util/enc.h"
#include "util/err.h"

extern char **environ;

static void
alias_zero(struct alias *a)
{
    memset(a, 0, sizeof(*a));
}

void
alias_release(struct alias *a)
{
    if (!a)
        return;
    if (a->secret_key) {
        secure_zero(a->secret_key, strlen(a->secret_key));
        free(a->secret_key);
    }
    free(a->name);
    free(a->url);
    free(a->access_key);
    free(a->region);
    alias_zero(a);
}

bool
alias_name_is_valid(const char *name)
{
    size_t i, n = strlen(name);

    if (n == 0 || n > 64 || !isalpha((unsigned char)name[0]))
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
            return false;
    return true;
}

char *
alias_check_url(const char *url, struct buf *errmsg)
{
    size_t skip, n = strlen(url);
    const char *host;

    if (!strncmp(url, "http://", 7))
        skip = 7;
    else if (!strncmp(url, "https://", 8))
        skip = 8;
    else
        goto bad;
    while (n > skip && url[n - 1] == '/')
        n--;
    host = url + skip;
    if (n == skip || memchr(host, '/', n - skip) || memchr(host, '@', n - skip) ||
        memchr(host, '?', n - skip) || memchr(host, '#', n - skip) || memchr(host, ' ', n - skip) ||
        host[0] == ':')
        goto bad;
    return xstrndup(url, n);
bad:
    buf_addf(errmsg, "'%s' is not an endpoint URL such as http://127.0.0.1:9000 or https://HOST",
             url);
    return NULL;
}

static enum alias_style
style_parse(const char *s)
{
    if (s && (!strcmp(s, "on") || !strcmp(s, "path")))
        return ALIAS_STYLE_PATH;
    if (s && (!strcmp(s, "off") || !strcmp(s, "vhost") || !strcmp(s, "dns")))
        return ALIAS_STYLE_VHOST;
    return ALIAS_STYLE_AUTO;
}

static const char *
style_name(enum alias_style s)
{
    return s == ALIAS_STYLE_PATH ? "on" : s == ALIAS_STYLE_VHOST ? "off" : "auto";
}

int
alias_parse_url(const char *name, const char *value, struct alias *out, struct buf *errmsg)
{
    const char *sep = strstr(value, "://"), *at, *colon, *region = getenv("BASALT_REGION");
    struct buf ak = BUF_INIT, sk = BUF_INIT, url = BUF_INIT;
    char *checked;
    int rc = -ERR_INVAL;

    at = sep ? strchr(sep + 3, '@') : NULL;
    colon = at ? memchr(sep + 3, ':', (size_t)(at - sep - 3)) : NULL;
    if (!sep || !at || !colon) {
        buf_addf(errmsg,
                 "BASALT_ALIAS_%s is not a URL such as https://ACCESS_KEY:SECRET_KEY@HOST[:PORT]",
                 name);
        return rc;
    }
    if (uri_decode(&ak, slice_make(sep + 3, (size_t)(colon - sep - 3))) < 0 ||
        uri_decode(&sk, slice_make(colon + 1, (size_t)(at - colon - 1))) < 0 || !ak.len ||
        !sk.len) {
        buf_addf(errmsg,
                 "BASALT_ALIAS_%s: the access key or the secret key is empty or badly "
                 "percent-encoded",
                 name);
        goto out;
    }
    buf_add(&url, value, (size_t)(sep + 3 - value));
    buf_adds(&url, at + 1);
    checked = alias_check_url(url.ptr, errmsg);
    if (!checked) {
        buf_addf(errmsg, " (in BASALT_ALIAS_%s)", name);
        goto out;
    }
    alias_zero(out);
    out->name = xstrdup(name);
    out->url = checked;
    out->access_key = buf_detach(&ak, NULL);
    out->secret_key = buf_detach(&sk, NULL);
    out->region = xstrdup(region && *region ? region : ALIAS_DEFAULT_REGION);
    out->source = "env";
    rc = 0;
out:
    buf_release(&ak);
    buf_release_secure(&sk);
    buf_release(&url);
    return rc;
}

static const char *
jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

int
alias_config_parse(struct slice json, struct alias_config *cfg, struct buf *errmsg)
{
    json_error_t jerr;
    json_t *root = json_loadb(json.ptr ? json.ptr : "", json.len, 0, &jerr), *aliases, *a;
    struct alias_config tmp = { 0 };
    const char *name;
    int rc = -ERR_INVAL;

    if (!root) {
        buf_addf(errmsg, "not valid JSON: %s (line %d)", jerr.text, jerr.line);
        return rc;
    }
    aliases = json_object_get(root, "aliases");
    if (!json_is_object(root) || (aliases && !json_is_object(aliases))) {
        buf_adds(errmsg, "expected {\"version\":\"1\",\"aliases\":{NAME:{...}}}");
        goto out;
    }
    json_object_foreach(aliases, name, a)
    {
        struct alias al;
        char *url;

        if (!alias_name_is_valid(name) || !jstr(a, "url") || !jstr(a, "accessKey") ||
            !jstr(a, "secretKey")) {
            buf_addf(errmsg,
                     "alias '%s': needs a valid name, \"url\", \"accessKey\" and "
                     "\"secretKey\"",
                     name);
            goto out;
        }
        url = alias_check_url(jstr(a, "url"), errmsg);
        if (!url) {
            buf_addf(errmsg, " (alias '%s')", name);
            goto out;
        }
        alias_zero(&al);
        al.name = xstrdup(name);
        al.url = url;
        al.access_key = xstrdup(jstr(a, "accessKey"));
        al.secret_key = xstrdup(jstr(a, "secretKey"));
        al.region = xstrdup(jstr(a, "region") ? jstr(a, "region") : ALIAS_DEFAULT_REGION);
        al.style = style_parse(jstr(a, "path"));
        al.source = "config";
        alias_config_set(&tmp, &al);
    }
    *cfg = tmp;
    memset(&tmp, 0, sizeof(tmp));
    rc = 0;
out:
    alias_config_release(&tmp);
    json_decref(root);
    return rc;
}

char *
alias_config_dump(const struct alias_config *cfg)
{
    json_t *root = json_object(), *aliases = json_object();
    char *s;
    size_t i;

    json_object_set_new(root, "version", json_string("1"));
    for (i = 0; i < cfg->n; i++) {
        const struct alias *a = &cfg->v[i];

        json_object_set_new(aliases, a->name,
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "url", a->url, "accessKey",
                                      a->access_key, "secretKey", a->secret_key, "region",
                                      a->region, "path", style_name(a->style)));
    }
    json_object_set_new(root, "aliases", aliases);
    s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (!s)
        die("jansson: out of memory");
    return s;
}

void
alias_config_path(struct buf *out)
{
    const char *dir = getenv("BASALT_CONFIG_DIR"), *home = getenv("HOME");

    if (dir && *dir)
        buf_addf(out, "%s/config.json", dir);
    else
        buf_addf(out, "%s/.basalt/config.json", home && *home ? home : ".");
}

int
alias_config_load(struct alias_config *cfg, struct buf *errmsg)
{
    struct buf path = BUF_INIT, data = BUF_INIT, why = BUF_INIT;
    struct stat st;
    char tmp[8192];
    ssize_t n;
    int fd, rc = 0;

    memset(cfg, 0, sizeof(*cfg));
    alias_config_path(&path);
    fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            buf_addf(errmsg, "cannot read %s: %s", path.ptr, strerror(errno));
            rc = -ERR_IO;
        }
        goto out;
    }
    if (fstat(fd, &st) == 0 && (st.st_mode & 077)) {
        buf_addf(errmsg,
                 "%s is accessible by group or others (mode %04o) and holds secret keys: "
                 "refusing to use it; run 'chmod 600 %s'",
                 path.ptr, (unsigned)(st.st_mode & 07777), path.ptr);
        rc = -ERR_ACCESS_DENIED;
        goto out_close;
    }
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
        buf_add(&data, tmp, (size_t)n);
    if (n < 0) {
        buf_addf(errmsg, "cannot read %s: %s", path.ptr, strerror(errno));
        rc = -ERR_IO;
        goto out_close;
    }
    rc = alias_config_parse(buf_slice(&data), cfg, &why);
    if (rc < 0)
        buf_addf(errmsg, "%s: %s; fix or remove the file", path.ptr, why.ptr);
out_close:
    close(fd);
out:
    buf_release(&path);
    buf_release_secure(&data);
    buf_release(&why);
    return rc;
}

int
alias_config_save(const struct alias_config *cfg, struct buf *errmsg)
{
    struct buf path = BUF_INIT, tmp = BUF_INIT;
    char *doc = alias_config_dump(cfg), *slash;
    size_t len = strlen(doc);
    int fd = -1, rc = -ERR_IO;

    alias_config_path(&path);
    slash = strrchr(path.ptr, '/');
    if (slash) {
        *slash = '\0';
        if (mkdir(path.ptr, 0700) < 0 && errno != EEXIST) {
            buf_addf(errmsg, "cannot create %s: %s", path.ptr, strerror(errno));
            goto out;
        }
        *slash = '/';
    }
    buf_addf(&tmp, "%s.tmp", path.ptr);
    fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) < 0 || write(fd, doc, len) != (ssize_t)len ||
        write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
        buf_addf(errmsg, "cannot write %s: %s", tmp.ptr, strerror(errno));
        goto out;
    }
    if (rename(tmp.ptr, path.ptr) < 0) {
        buf_addf(errmsg, "cannot replace %s: %s", path.ptr, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp.ptr);
    secure_zero(doc, len);
    free(doc);
    buf_release(&path);
    buf_release(&tmp);
    return rc;
}

void
alias_config_set(struct alias_config *cfg, struct alias *a)
{
    size_t i;

    for (i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->v[i].name, a->name))
            break;
    if (i == cfg->n) {
        cfg->v = xrealloc(cfg->v, (cfg->n + 1) * sizeof(*cfg->v));
        cfg->n++;
    } else {
        alias_release(&cfg->v[i]);
    }
    cfg->v[i] = *a;
    alias_zero(a);
}

int
alias_config_remove(struct alias_config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->n; i++) {
        if (strcmp(cfg->v[i].name, name))
            continue;
        alias_release(&cfg->v[i]);
        memmove(&cfg->v[i], &cfg->v[i + 1], (cfg->n - i - 1) * sizeof(*cfg->v));
        cfg->n--;
        return 0;
    }
    return -ERR_NOT_FOUND;
}

void
alias_config_release(struct alias_config *cfg)
{
    size_t i;

    for (i = 0; i < cfg->n; i++)
        alias_release(&cfg->v[i]);
    free(cfg->v);
    memset(cfg, 0, sizeof(*cfg));
}

/* The value of BASALT_ALIAS_<name>, or of its upper-case '_' form. */
static const char *
env_alias(const char *name)
{
    struct buf var = BUF_INIT;
    const char *v;
    size_t i;

    buf_addf(&var, "BASALT_ALIAS_%s", name);
    v = getenv(var.ptr);
    if (!v || !*v) {
        for (i = 13; i < var.len; i++)
            var.ptr[i] = var.ptr[i] == '-' ? '_' : (char)toupper((unsigned char)var.ptr[i]);
        v = getenv(var.ptr);
    }
    buf_release(&var);
    return v && *v ? v : NULL;
}

static const char *
env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v && *v ? v : fallback;
}

/* The BASALT_ENDPOINT alias named `name`, when the variables define it. */
static int
endpoint_alias(const char *name, struct alias *out, struct buf *errmsg)
{
    const char *ak = env_or("BASALT_ACCESS_KEY", NULL), *sk = env_or("BASALT_SECRET_KEY", NULL);
    char *url;

    if (!ak || !sk || strcmp(name, env_or("BASALT_ALIAS", "local")))
        return -ERR_NOT_FOUND;
    url = alias_check_url(env_or("BASALT_ENDPOINT", ALIAS_DEFAULT_ENDPOINT), errmsg);
    if (!url) {
        buf_adds(errmsg, " (BASALT_ENDPOINT)");
        return -ERR_INVAL;
    }
    alias_zero(out);
    out->name = xstrdup(name);
    out->url = url;
    out->access_key = xstrdup(ak);
    out->secret_key = xstrdup(sk);
    out->region = xstrdup(env_or("BASALT_REGION", ALIAS_DEFAULT_REGION));
    out->source = "BASALT_ENDPOINT";
    return 0;
}

static void
alias_copy(struct alias *dst, const struct alias *src)
{
    *dst = *src;
    dst->name = xstrdup(src->name);
    dst->url = xstrdup(src->url);
    dst->access_key = xstrdup(src->access_key);
    dst->secret_key = xstrdup(src->secret_key);
    dst->region = xstrdup(src->region);
}

int
alias_lookup(const char *name, struct alias *out, struct buf *errmsg)
{
    struct alias_config cfg;
    const char *v = env_alias(name);
    size_t i;
    int rc;

    if (v)
        return alias_parse_url(name, v, out, errmsg);
    rc = alias_config_load(&cfg, errmsg);
    if (rc < 0)
        return rc;
    rc = -ERR_NOT_FOUND;
    for (i = 0; i < cfg.n && rc == -ERR_NOT_FOUND; i++) {
        if (strcmp(cfg.v[i].name, name))
            continue;
        alias_copy(out, &cfg.v[i]);
        rc = 0;
    }
    alias_config_release(&cfg);
    return rc == -ERR_NOT_FOUND ? endpoint_alias(name, out, errmsg) : rc;
}

static bool
config_has(const struct alias_config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->v[i].name, name))
            return true;
    return false;
}

int
alias_list_all(struct alias_config *cfg, struct buf *errmsg)
{
    struct alias_config file;
    struct alias a;
    char **e;
    size_t i;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    for (e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        char *name;

        if (strncmp(*e, "BASALT_ALIAS_", 13) || !eq || eq == *e + 13)
            continue;
        name = xstrndup(*e + 13, (size_t)(eq - *e - 13));
        if (alias_parse_url(name, eq + 1, &a, errmsg) == 0)
            alias_config_set(cfg, &a);
        free(name);
    }
    rc = alias_config_load(&file, errmsg);
    if (rc < 0)
        return rc;
    for (i = 0; i < file.n; i++)
        if (!config_has(cfg, file.v[i].name))
            alias_config_set(cfg, &file.v[i]);
    alias_config_release(&file);
    if (!config_has(cfg, env_or("BASALT_ALIAS", "local")) &&
        endpoint_alias(env_or("BASALT_ALIAS", "local"), &a, errmsg) == 0)
        alias_config_set(cfg, &a);
    return 0;
}

bool
alias_is_vhost(const struct alias *a)
{
    size_t n = strlen(a->url);

    if (a->style != ALIAS_STYLE_AUTO)
        return a->style == ALIAS_STYLE_VHOST;
    return n > 14 && (strstr(a->url, ".amazonaws.com") != NULL);
}

/* BASALT_RETRIES and BASALT_RETRY_MAX_TIME on `c`; -ERR_INVAL with the reason if malformed. */
static int
set_retry_from_env(struct client *c, struct buf *errmsg)
{
    const char *n = getenv("BASALT_RETRIES"), *t = getenv("BASALT_RETRY_MAX_TIME");
    uint64_t retries = CLIENT_RETRIES;
    int64_t secs = CLIENT_RETRY_MAX_MS / 1000;

    if (n && *n && (parse_u64(slice_cstr(n), &retries) < 0 || retries > 100)) {
        buf_addf(errmsg, "BASALT_RETRIES='%s': expected a number from 0 to 100", n);
        return -ERR_INVAL;
    }
    if (t && *t && parse_duration(t, &secs) < 0) {
        buf_addf(errmsg, "BASALT_RETRY_MAX_TIME='%s': expected a duration such as 60s or 5m", t);
        return -ERR_INVAL;
    }
    client_set_retry(c, (unsigned)retries, (long)MIN(secs, 86400) * 1000, CLIENT_RETRY_BASE_MS);
    return 0;
}

void
alias_client_tls(struct client *c)
{
    const char *ca = getenv("BASALT_CA_BUNDLE"), *insecure = getenv("BASALT_INSECURE");

    if (!ca || !*ca)
        ca = getenv("CURL_CA_BUNDLE");
    if (!ca || !*ca)
        ca = getenv("SSL_CERT_FILE");
    client_set_tls(c, ca && *ca ? ca : NULL,
                   insecure && (!strcmp(insecure, "1") || !strcasecmp(insecure, "on") ||
                                !strcasecmp(insecure, "true")));
}

int
alias_client(const struct alias *a, struct client **out, struct buf *errmsg)
{
    struct client *c = NULL;
    int rc = client_new(a->url, a->access_key, a->secret_key, a->region, &c, errmsg);

    if (rc < 0)
        return rc;
    client_set_vhost(c, alias_is_vhost(a));
    client_set_name(c, a->name);
    alias_client_tls(c);
    rc = set_retry_from_env(c, errmsg);
    if (rc < 0) {
        client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}
