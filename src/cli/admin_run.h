/*
 * cli/admin_run.h: what the `basalt admin user|group|policy|svcacct`
 * commands share. Each group (cli/cmd_admin_<group>.c) is a table of verbs
 * with mc admin's argument order (the alias first); admin_dispatch() parses
 * one verb's arguments with cli_parse (ui.h), resolves the alias as the S3
 * commands do (alias.h), connects, and runs the verb with a `struct
 * admin_run`: the parsed command, the alias, the client and the positional
 * arguments.
 *
 * The verbs talk to the server's admin API for identities (JSON under
 * /basalt/admin/v1/, s3/admin_iam.c; docs/iam.md). Its errors are S3 XML
 * error documents; admin_run_call prints them in one line,
 * "basalt: admin user add: ALIAS: EntityAlreadyExists: message", and every
 * verb returns the exit status: 0, 1 after a printed failure, 2 on a usage
 * error.
 */
#ifndef BASALT_CLI_ADMIN_RUN_H
#define BASALT_CLI_ADMIN_RUN_H

#include "util/base.h"

#include <jansson.h>

#include "cli/ui.h"
#include "client/client.h"
#include "util/buf.h"
#include "util/slice.h"

#define ADMIN_API_PREFIX "/basalt/admin/v1/"
#define ADMIN_FILE_MAX (64u * 1024) /* bytes of a policy file (the server takes 64 KiB) */

/* One verb's run. */
struct admin_run {
    struct cli cli;         /* cli.cmd is "admin user add" */
    struct cli_path target; /* the alias (args[0]) */
    struct client *c;
    char **args; /* positional arguments; args[0] is the alias */
    int nargs;
    void *opts; /* the group's option values */
};

typedef int admin_verb_fn(struct admin_run *r);

struct admin_verb {
    const char *name;  /* "add" */
    const char *usage; /* "ALIAS ACCESS_KEY SECRET_KEY" */
    const char *about; /* one paragraph */
    int min_args, max_args;
    unsigned opts; /* bit i set: the group's option i applies to this verb */
    admin_verb_fn *fn;
};

/*
 * Runs `basalt admin GROUP VERB ARGS...`: argv[0] is GROUP ("user"),
 * argv[1] the verb. `opts` (nopts of them, at most 32) are the options of
 * the whole group, their targets in the struct `optvals` (handed to the
 * verb as r->opts). Returns the exit status.
 */
int admin_dispatch(const char *group, const struct admin_verb *verbs, size_t nverbs,
                   const struct opt *opts, size_t nopts, void *optvals, int argc, char **argv);

/* An admin API error: the S3 Code (empty for a transport error) and Message. */
struct admin_err {
    long status; /* HTTP status; 0 when no answer came */
    struct buf code;
    struct buf message;
};

void admin_err_init(struct admin_err *e);
void admin_err_release(struct admin_err *e);

/*
 * Which failures of the admin call `method` `path` (under ADMIN_API_PREFIX,
 * "users/alice/enable") are retried: CLIENT_RETRY_IDEMPOTENT for reads and
 * the writes that are safe to repeat, else CLIENT_RETRY_UNSENT (the list
 * and the reasons are in admin_run.c).
 */
enum client_retry admin_retry_class(const char *method, const char *path);

/*
 * Sends `method` to ADMIN_API_PREFIX `path` (e.g. "users/alice/enable") with
 * `query` (encoded, or NULL) and `body`. 0 with the answer's JSON object in
 * `*out` (when `out` is not NULL; the caller json_decref()s it), or -1 with
 * `err` filled; `*out` is written only on success. Retried with the S3
 * commands' backoff (client_set_retry) where admin_retry_class allows it.
 */
int admin_run_request(struct admin_run *r, const char *method, const char *path, const char *query,
                      struct slice body, json_t **out, struct admin_err *err);

/* Prints `err` in one line ("ALIAS: Code: Message") and counts a failure. */
void admin_run_fail(struct admin_run *r, const struct admin_err *err);

/* admin_run_request, printing the error: 0, or -1 after admin_run_fail. */
int admin_run_call(struct admin_run *r, const char *method, const char *path, const char *query,
                   struct slice body, json_t **out);

/*
 * "KIND/NAME[/VERB]" into `path` (NULL verb: none). -1 after printing why
 * when `name` is empty or holds a '/' (never a valid name: it would reach
 * another endpoint).
 */
int admin_run_path(struct admin_run *r, struct buf *path, const char *kind, const char *name,
                   const char *verb);

/* admin_run_call with a JSON object body (taken: released here). */
int admin_run_call_json(struct admin_run *r, const char *method, const char *path, json_t *body,
                        json_t **out);

/*
 * Reports a success: with --json, `obj` (taken; NULL: none) as one line
 * with "status":"success" first; else the printf-style message and a
 * newline. Returns 0.
 */
int admin_run_done(struct admin_run *r, json_t *obj, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* Like admin_run_done's JSON line: `obj` (taken) printed with "status":"success" first. */
void admin_run_json(json_t *obj);

/*
 * Reads the file `path` (at most ADMIN_FILE_MAX bytes) into `out`. 0, or -1
 * after printing why (cannot open it, too large).
 */
int admin_run_read_file(struct admin_run *r, const char *path, struct buf *out);

/*
 * Prints `rows` (an array of arrays of strings; the first row is the
 * header) as columns separated by two spaces, the last one unpadded.
 */
void admin_table_print(const json_t *rows);

/* The strings of array `a` joined by "," into `out` ("" for none). */
void admin_join(const json_t *a, struct buf *out);

/* "2024-05-01T10:11:12Z" for unix seconds `t`, or `none` when t is 0. */
void admin_fmt_time(struct buf *out, json_int_t t, const char *none);

#endif
