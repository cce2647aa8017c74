/*
 * cli/ui.h: what every client command shares: its options (a table per
 * command, --json and --help everywhere), its output (text for people, one
 * JSON object per line with --json), its errors (one line on stderr,
 * "basalt: CMD: WHAT: why", exit status 1; usage errors exit 2), the
 * progress bar of long transfers (stderr, only when stdout and stderr are
 * terminals and --json is off), and the resolution of ALIAS/BUCKET/KEY paths.
 */
#ifndef BASALT_CLI_UI_H
#define BASALT_CLI_UI_H

#include "util/base.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "cli/alias.h"
#include "client/client.h"
#include "util/buf.h"

/* One command's run: its name, the global flags. */
struct cli {
    const char *cmd; /* "cp" */
    bool json;
    bool tty;     /* stdout and stderr are terminals: progress bars */
    int failures; /* errors reported; the exit status is 1 when non-zero */
};

enum opt_kind {
    OPT_FLAG, /* bool */
    OPT_STR,  /* const char * */
    OPT_LIST, /* struct strlist, repeatable */
};

struct strlist {
    const char **v;
    size_t n;
};

struct opt {
    const char *name; /* "--force" */
    const char *alt;  /* "-r", or NULL */
    enum opt_kind kind;
    void *dst;
    const char *help;
};

struct cmd_spec {
    const char *name;  /* "cp" */
    const char *usage; /* "[FLAGS] SOURCE... TARGET" */
    const char *about; /* one paragraph */
    const struct opt *opts;
    size_t nopts;
    int min_args, max_args; /* positional arguments; max -1: no limit */
};

/*
 * Parses argv (argv[0] is the command name) against `spec`, filling the
 * option targets and `args` (borrowed pointers into argv, `*nargs` of them,
 * free `*args`). Returns 0, or the exit status to return at once: 0 after
 * --help (usage printed on stdout), 2 on a usage error (printed on stderr).
 */
int cli_parse(struct cli *cli, const struct cmd_spec *spec, int argc, char **argv, int *nargs,
              char ***args, bool *done);

/* Prints the usage of `spec` on `f`. */
void cli_usage(const struct cmd_spec *spec, FILE *f);

/* "basalt: CMD: WHAT: message" on stderr; counts a failure. */
void cli_fail(struct cli *cli, const char *what, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* The exit status: 1 after a failure, else 0. */
int cli_status(const struct cli *cli);

/* Prints `obj` as one compact JSON line on stdout and releases it. */
void cli_json(json_t *obj);

/* "1.2MiB" (mc's units), "0B" */
void fmt_size(struct buf *out, uint64_t n);

/* "2024-05-01 10:11:12 UTC" */
void fmt_time(struct buf *out, time_t t);

/* "2024-05-01T10:11:12Z" */
void fmt_iso(struct buf *out, time_t t);

/* A parsed command-line path: remote ALIAS/BUCKET/KEY or local. */
struct cli_path {
    const char *arg; /* as given (borrowed) */
    bool remote;
    struct alias alias;
    char *bucket; /* "" for the alias alone */
    char *key;    /* "" for a bucket */
};

/*
 * Classifies `arg`: remote when its first segment names a known alias
 * (alias.h), else local. 0, or -1 after printing why (a broken config file,
 * a malformed BASALT_ALIAS_* value).
 */
int cli_path_parse(struct cli *cli, const char *arg, struct cli_path *p);

/* Like cli_path_parse, but a local path is an error ("no alias ..."). */
int cli_path_remote(struct cli *cli, const char *arg, struct cli_path *p);

void cli_path_release(struct cli_path *p);

/* A client for a remote path; -1 after printing why. */
int cli_connect(struct cli *cli, const struct cli_path *p, struct client **out);

/* "alias/bucket/key" of a remote path, or the local path. */
void cli_path_display(const struct cli_path *p, const char *key, struct buf *out);

/* The progress bar of one transfer (client_progress_fn through progress_add). */
struct progress {
    bool on;
    uint64_t total; /* 0: unknown */
    atomic_uint_fast64_t done;
    int64_t start_ns;
    atomic_int_fast64_t next_draw_ns;
    char label[48];
    pthread_mutex_t lock; /* one drawer at a time */
};

/* Starts a bar for `total` bytes (0: unknown), drawn only on a terminal. */
void progress_start(struct progress *p, const struct cli *cli, const char *label, uint64_t total);

/* client_progress_fn: counts `delta` bytes and redraws at most 10 times a second. Any thread. */
void progress_add(void *arg, uint64_t delta);

/* Erases the bar. */
void progress_end(struct progress *p);

#endif
