/*
 * storage/drive_local_index.c: the index of a local drive (drive_local.c),
 * `.basalt/index.db`, a SQLite database in WAL mode:
 *
 *   buckets(name TEXT PRIMARY KEY, created_ns INTEGER)
 *   objects(bucket TEXT, key BLOB, vid TEXT, size INTEGER, mtime_ns INTEGER,
 *           etag TEXT, reduced INTEGER, rec_id INTEGER, has_data INTEGER,
 *           PRIMARY KEY(bucket, key)) WITHOUT ROWID
 *   recs(id INTEGER PRIMARY KEY, rec BLOB)
 *   objects_data ON objects(vid) WHERE has_data = 1
 *
 * Keys are BLOBs, so they compare and list in byte order whatever they hold;
 * `recs.rec` is objmeta_encode() of the version (with its inline data), the
 * columns of `objects` copy what a listing needs. A listing is one range scan
 * of `objects`: key >= max(prefix, after + "\0") AND key < successor(prefix).
 *
 * The record lives in its own rowid table because `objects` is a WITHOUT
 * ROWID table, an index b-tree, whose cells hold the whole row at every level:
 * with `rec` in the row (a few KiB of inline data for a small object) each
 * cell spilled to overflow pages, and SQLite reads a cell's whole overflow
 * chain to compare keys, so one lookup read about a dozen pages and a listing
 * read every record it passed. Narrow, a lookup reads the path to one leaf of
 * `objects` and one row of `recs`. An index of the earlier layout (`rec` in
 * `objects`) is converted at open (layout_upgrade).
 *
 * `objects_data` finds the record naming a data folder, for the orphan scan
 * at open (invariant 5): only versions with shard files (`has_data`, not
 * inline) are in it, so the commit of a small object, whose version id
 * changes with every write, does not also rewrite a leaf of that index at a
 * random place (a page more in the WAL, and again at the checkpoint, for
 * every inline record). An index of before `has_data` gets the column at
 * open with every row counted as having data (what the full index it
 * replaces held).
 *
 * DESIGN: threads
 *
 *   - The index has one writer, the drive's committer thread, which owns the
 *     write connection `wc`. Writers (meta_commit, meta_delete, bucket_make,
 *     bucket_delete) queue a `struct drive_local_req` on `queue` and wait for
 *     `done`. The committer takes every queued request, runs them in one
 *     BEGIN IMMEDIATE ... COMMIT, each inside its own SAVEPOINT so that one
 *     failing request rolls back only itself, then answers each with its rc.
 *   - Readers take a connection from a small pool (`pool`, protected by
 *     `pool_mu`); WAL lets them read while the committer writes. Each
 *     connection caches its prepared statements and is used by one thread at
 *     a time (SQLITE_OPEN_NOMUTEX).
 *   - drive_local.c holds `life` shared around every call into this file,
 *     and exclusively around drive_reset(), which closes the index
 *     (drive_local__index_close) and opens a new one.
 */
#include "util/base.h"

#include "storage/internal.h"

#include <limits.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sqlite3.h>

#include "obs/log.h"
#include "storage/drive.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/list.h"

#define POOL_MAX 4 /* idle read connections kept */
#define BUSY_TIMEOUT_MS 10000

enum st {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_BUCKET_GET,
    ST_BUCKET_INSERT,
    ST_BUCKET_DELETE,
    ST_BUCKET_LIST,
    ST_BUCKET_VIDS,
    ST_BUCKET_HAS_OBJ,
    ST_BUCKET_CLEAR,
    ST_BUCKET_CLEAR_RECS,
    ST_OBJ_VID,
    ST_OBJ_PUT,
    ST_OBJ_DELETE,
    ST_OBJ_REC,
    ST_REC_INSERT,
    ST_REC_UPDATE,
    ST_REC_DELETE,
    ST_VID_USED,
    ST_LIST,
    ST_LIST_UPPER,
    ST_JOURNAL_PUT,
    ST_JOURNAL_DELETE,
    ST_JOURNAL_LIST,
    ST__COUNT
};

static const char *const sql_text[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT req",
    [ST_RELEASE] = "RELEASE req",
    [ST_ROLLBACK_TO] = "ROLLBACK TO req",
    [ST_BUCKET_GET] = "SELECT created_ns FROM buckets WHERE name = ?1",
    [ST_BUCKET_INSERT] = "INSERT INTO buckets(name, created_ns) VALUES (?1, ?2)",
    [ST_BUCKET_DELETE] = "DELETE FROM buckets WHERE name = ?1",
    [ST_BUCKET_LIST] = "SELECT name, created_ns FROM buckets ORDER BY name",
    [ST_BUCKET_VIDS] = "SELECT vid FROM objects WHERE bucket = ?1",
    [ST_BUCKET_HAS_OBJ] = "SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1",
    [ST_BUCKET_CLEAR] = "DELETE FROM objects WHERE bucket = ?1",
    [ST_BUCKET_CLEAR_RECS] = "DELETE FROM recs WHERE id IN "
                             "(SELECT rec_id FROM objects WHERE bucket = ?1)",
    [ST_OBJ_VID] = "SELECT vid, rec_id FROM objects WHERE bucket = ?1 AND key = ?2",
    [ST_OBJ_PUT] = "INSERT OR REPLACE INTO objects(bucket, key, vid, size, mtime_ns, etag, "
                   "reduced, rec_id, has_data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_OBJ_DELETE] = "DELETE FROM objects WHERE bucket = ?1 AND key = ?2",
    [ST_OBJ_REC] = "SELECT rec FROM recs WHERE id = "
                   "(SELECT rec_id FROM objects WHERE bucket = ?1 AND key = ?2)",
    [ST_REC_INSERT] = "INSERT INTO recs(rec) VALUES (?1)",
    [ST_REC_UPDATE] = "UPDATE recs SET rec = ?2 WHERE id = ?1",
    [ST_REC_DELETE] = "DELETE FROM recs WHERE id = ?1",
    [ST_VID_USED] = "SELECT 1 FROM objects WHERE vid = ?1 AND has_data = 1 LIMIT 1",
    [ST_LIST] = "SELECT key, vid, size, mtime_ns, etag, reduced FROM objects "
                "WHERE bucket = ?1 AND key >= ?2 ORDER BY key LIMIT ?3",
    [ST_LIST_UPPER] = "SELECT key, vid, size, mtime_ns, etag, reduced FROM objects "
                      "WHERE bucket = ?1 AND key >= ?2 AND key < ?4 ORDER BY key LIMIT ?3",
    [ST_JOURNAL_PUT] = "INSERT OR REPLACE INTO journal(name, item) VALUES (?1, ?2)",
    [ST_JOURNAL_DELETE] = "DELETE FROM journal WHERE name = ?1 AND item = ?2",
    [ST_JOURNAL_LIST] = "SELECT item FROM journal WHERE name = ?1 AND item > ?2 ORDER BY item "
                        "LIMIT ?3",
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS buckets(name TEXT PRIMARY KEY, created_ns INTEGER);"
    "CREATE TABLE IF NOT EXISTS objects(bucket TEXT, key BLOB, vid TEXT, size INTEGER,"
    " mtime_ns INTEGER, etag TEXT, reduced INTEGER NOT NULL DEFAULT 0, rec_id INTEGER NOT NULL,"
    " has_data INTEGER NOT NULL DEFAULT 1, PRIMARY KEY(bucket, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS recs(id INTEGER PRIMARY KEY, rec BLOB NOT NULL);"
    /* for the orphan scan at open (invariant 5): the versions with a data folder only */
    "DROP INDEX IF EXISTS objects_vid;"
    "CREATE INDEX IF NOT EXISTS objects_data ON objects(vid) WHERE has_data = 1;"
    /* the node's small persistent lists (drive_journal_update): heal queue, scanner place */
    "CREATE TABLE IF NOT EXISTS journal(name TEXT, item BLOB, PRIMARY KEY(name, item))"
    " WITHOUT ROWID;";

/* One SQLite connection and its prepared statements; one thread at a time. */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    struct conn *next; /* in the pool's free list */
};

/* Converts a SQLite error on `db`, logs it once; I/O and corruption take the drive offline. */
static int
sql_fail(struct drive_local *l, sqlite3 *db, int src, const char *what)
{
    struct log_ctx ctx = { .drive = l->base.endpoint };
    int rc;

    switch (src & 0xff) {
    case SQLITE_FULL:
        rc = -ERR_NO_SPACE;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        rc = -ERR_BUSY;
        break;
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
        rc = -ERR_IO;
        break;
    default:
        rc = -ERR_INTERNAL;
        break;
    }
    log_error(&ctx, "index: %s: %s (%d)", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(src), src);
    if (rc == -ERR_IO)
        drive_set_offline(&l->base, rc);
    return rc;
}

/* ---- SQLite connections ---- */

static void
conn_close(struct conn *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close(c->db);
    free(c);
}

static int
conn_exec(struct drive_local *l, struct conn *c, const char *sql)
{
    int src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

    return src == SQLITE_OK ? 0 : sql_fail(l, c->db, src, sql);
}

/* 1 if table `objects` has column `col`, 0 if not (or no such table), or an error. */
static int
objects_has_column(struct drive_local *l, struct conn *c, const char *col)
{
    sqlite3_stmt *st = NULL;
    int src, rc;

    static const char q[] = "SELECT 1 FROM pragma_table_info('objects') WHERE name = ?1";

    src = sqlite3_prepare_v2(c->db, q, -1, &st, NULL);
    if (src != SQLITE_OK)
        return sql_fail(l, c->db, src, q);
    sqlite3_bind_text(st, 1, col, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    rc = src == SQLITE_ROW ? 1 : src == SQLITE_DONE ? 0 : sql_fail(l, c->db, src, q);
    sqlite3_finalize(st);
    return rc;
}

/*
 * The layout before `recs` (the record in a `rec` column of `objects`), and
 * before that without `reduced` (it came with storage classes), becomes the
 * current one in one transaction: each record moves to `recs` under the
 * number of its row in key order. A layout with `recs` but without
 * `has_data` gets the column (every row 1). Runs before schema_sql, which
 * then makes `objects_data` on the new table (and drops `objects_vid`, the
 * full index it replaces).
 */
static int
layout_upgrade(struct drive_local *l, struct conn *c)
{
    struct log_ctx ctx = { .drive = l->base.endpoint };
    int rc;

    static const char move[] =
        "BEGIN IMMEDIATE;"
        "ALTER TABLE objects RENAME TO objects_v1;"
        "CREATE TABLE recs(id INTEGER PRIMARY KEY, rec BLOB NOT NULL);"
        "CREATE TABLE objects(bucket TEXT, key BLOB, vid TEXT, size INTEGER,"
        " mtime_ns INTEGER, etag TEXT, reduced INTEGER NOT NULL DEFAULT 0,"
        " rec_id INTEGER NOT NULL, has_data INTEGER NOT NULL DEFAULT 1,"
        " PRIMARY KEY(bucket, key)) WITHOUT ROWID;"
        "INSERT INTO recs(id, rec) SELECT row_number() OVER (ORDER BY bucket, key), rec"
        " FROM objects_v1;"
        "INSERT INTO objects(bucket, key, vid, size, mtime_ns, etag, reduced, rec_id)"
        " SELECT bucket, key, vid, size, mtime_ns, etag, reduced,"
        " row_number() OVER (ORDER BY bucket, key) FROM objects_v1;"
        "DROP TABLE objects_v1;"
        "COMMIT";

    rc = objects_has_column(l, c, "rec");
    if (rc == 0 && objects_has_column(l, c, "bucket") == 1 &&
        objects_has_column(l, c, "has_data") == 0) /* see the top of the file */
        return conn_exec(l, c,
                         "ALTER TABLE objects ADD COLUMN has_data INTEGER NOT NULL DEFAULT 1");
    if (rc <= 0)
        return rc;
    rc = objects_has_column(l, c, "reduced");
    if (rc == 0) /* SQLite adds a column with its default in place */
        rc = conn_exec(l, c, "ALTER TABLE objects ADD COLUMN reduced INTEGER NOT NULL DEFAULT 0");
    if (rc < 0)
        return rc;
    log_info(&ctx, "index: moving object records to their own table (a one-time upgrade)");
    rc = conn_exec(l, c, move);
    if (rc < 0 && !sqlite3_get_autocommit(c->db))
        conn_exec(l, c, "ROLLBACK");
    return rc;
}

/* Opens a connection to index.db: the writer creates it and sets WAL and the schema. */
static int
conn_open(struct drive_local *l, bool writer, struct conn **out)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    char p[PATH_MAX];
    struct conn *c = xcalloc(1, sizeof(*c));
    int src, rc = 0;

    drive_local__path(l, p, "index.db");
    src = sqlite3_open_v2(p, &c->db, flags | (writer ? SQLITE_OPEN_CREATE : 0), NULL);
    if (src != SQLITE_OK) {
        rc = sql_fail(l, c->db, src, "open");
        goto out_close;
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    /*
     * A small page cache per connection: the kernel's page cache holds the
     * file anyway, and SQLite's default (2 MB per connection, times the read
     * pool, times the drives) kept ~90 MiB resident after a small-object load.
     */
    rc = conn_exec(l, c, "PRAGMA cache_size = -256");
    if (rc == 0 && !writer)
        rc = conn_exec(l, c, "PRAGMA query_only = 1");
    if (rc < 0 || !writer)
        goto out_close;
    rc = conn_exec(l, c, "PRAGMA journal_mode = WAL");
    if (rc == 0)
        rc = conn_exec(l, c, l->sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF");
    if (rc == 0)
        rc = layout_upgrade(l, c);
    if (rc == 0)
        rc = conn_exec(l, c, schema_sql);
out_close:
    if (rc < 0)
        conn_close(c);
    else
        *out = c;
    return rc;
}

static int
conn_stmt(struct drive_local *l, struct conn *c, enum st id, sqlite3_stmt **out)
{
    int src;

    if (!c->st[id]) {
        src = sqlite3_prepare_v3(c->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id],
                                 NULL);
        if (src != SQLITE_OK)
            return sql_fail(l, c->db, src, sql_text[id]);
    }
    *out = c->st[id];
    return 0;
}

/*
 * Steps `st`: 1 for a row (the caller reads it, then calls sqlite3_reset),
 * 0 when done, < 0 on error; the statement is reset unless a row is returned.
 */
static int
st_step(struct drive_local *l, struct conn *c, sqlite3_stmt *st)
{
    int src = sqlite3_step(st);
    int rc = 0;

    if (src == SQLITE_ROW)
        return 1;
    if (src != SQLITE_DONE)
        rc = sql_fail(l, c->db, src, sqlite3_sql(st));
    sqlite3_reset(st);
    return rc;
}

/* Runs a statement without parameters or rows (BEGIN, COMMIT, SAVEPOINT...). */
static int
st_run(struct drive_local *l, struct conn *c, enum st id)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = conn_stmt(l, c, id, &st);
    if (rc == 0)
        rc = st_step(l, c, st);
    return rc;
}

static void
bind_key(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    /* a NULL pointer would bind SQL NULL, not an empty BLOB */
    sqlite3_bind_blob64(st, i, n ? p : "", n, SQLITE_STATIC);
}

static void
bind_str(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static const char *
col_str(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);

    return s ? s : "";
}

/* ---- read connection pool ---- */

static int
pool_get(struct drive_local *l, struct conn **out)
{
    struct conn *c;

    pthread_mutex_lock(&l->pool_mu);
    c = l->pool;
    if (c) {
        l->pool = c->next;
        l->npool--;
    }
    pthread_mutex_unlock(&l->pool_mu);
    if (c) {
        *out = c;
        return 0;
    }
    return conn_open(l, false, out);
}

static void
pool_put(struct drive_local *l, struct conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&l->pool_mu);
    if (l->npool < POOL_MAX) {
        c->next = l->pool;
        l->pool = c;
        l->npool++;
        c = NULL;
    }
    pthread_mutex_unlock(&l->pool_mu);
    conn_close(c);
}

static void
pool_close_all(struct drive_local *l)
{
    struct conn *c;

    pthread_mutex_lock(&l->pool_mu);
    while ((c = l->pool) != NULL) {
        l->pool = c->next;
        conn_close(c);
    }
    l->npool = 0;
    pthread_mutex_unlock(&l->pool_mu);
}

/* ---- queries shared by readers and the committer ---- */

/* 0 and `*created_ns` (may be NULL), -ERR_NOT_FOUND, or an error. */
static int
query_bucket(struct drive_local *l, struct conn *c, const char *bucket, int64_t *created_ns)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = conn_stmt(l, c, ST_BUCKET_GET, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, bucket);
    rc = st_step(l, c, st);
    if (rc <= 0)
        return rc == 0 ? -ERR_NOT_FOUND : rc;
    if (created_ns)
        *created_ns = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

/* 0, the current vid of `key` in `vid` and its row of `recs` in `rec_id`; -ERR_NOT_FOUND; or an
 * error. */
static int
query_vid(struct drive_local *l, struct conn *c, const char *bucket, const char *key,
          char vid[OBJMETA_VID_LEN + 1], int64_t *rec_id)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = conn_stmt(l, c, ST_OBJ_VID, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, bucket);
    bind_key(st, 2, key, strlen(key));
    rc = st_step(l, c, st);
    if (rc <= 0)
        return rc == 0 ? -ERR_NOT_FOUND : rc;
    snprintf(vid, OBJMETA_VID_LEN + 1, "%s", col_str(st, 0));
    *rec_id = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    return 0;
}

/* Runs a statement on one row of `recs`: `ST_REC_UPDATE` (with `rec`) or `ST_REC_DELETE`. */
static int
rec_change(struct drive_local *l, struct conn *c, enum st id, int64_t rec_id, struct slice rec)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = conn_stmt(l, c, id, &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, rec_id);
    if (id == ST_REC_UPDATE)
        sqlite3_bind_blob64(st, 2, rec.len ? rec.ptr : "", rec.len, SQLITE_STATIC);
    return st_step(l, c, st);
}

/* Adds `rec` to `recs`: 0 and its row in `rec_id`, or an error. */
static int
rec_insert(struct drive_local *l, struct conn *c, struct slice rec, int64_t *rec_id)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = conn_stmt(l, c, ST_REC_INSERT, &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_blob64(st, 1, rec.len ? rec.ptr : "", rec.len, SQLITE_STATIC);
    rc = st_step(l, c, st);
    if (rc == 0)
        *rec_id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

/* ---- the committer: one writer, group commit ---- */

static int
apply_bucket_make(struct drive_local *l, struct conn *c, struct drive_local_req *r)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = query_bucket(l, c, r->bucket, NULL);
    if (rc != -ERR_NOT_FOUND)
        return rc == 0 ? -ERR_EXISTS : rc;
    rc = conn_stmt(l, c, ST_BUCKET_INSERT, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, r->bucket);
    sqlite3_bind_int64(st, 2, r->created_ns);
    return st_step(l, c, st);
}

/* Appends the vid of every object of the bucket to `r->old_vids`. */
static int
collect_bucket_vids(struct drive_local *l, struct conn *c, struct drive_local_req *r)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = conn_stmt(l, c, ST_BUCKET_VIDS, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, r->bucket);
    while ((rc = st_step(l, c, st)) == 1) {
        const char *vid = col_str(st, 0);

        if (objmeta_vid_is_valid(vid))
            buf_add(&r->old_vids, vid, OBJMETA_VID_LEN);
    }
    return rc;
}

static int
apply_bucket_delete(struct drive_local *l, struct conn *c, struct drive_local_req *r)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = query_bucket(l, c, r->bucket, NULL);
    if (rc == 0)
        rc = conn_stmt(l, c, ST_BUCKET_HAS_OBJ, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, r->bucket);
    rc = st_step(l, c, st);
    if (rc == 1) {
        sqlite3_reset(st);
        if (!r->force)
            return -ERR_NOT_EMPTY;
        rc = collect_bucket_vids(l, c, r);
        if (rc == 0)
            rc = conn_stmt(l, c, ST_BUCKET_CLEAR_RECS, &st);
        if (rc < 0)
            return rc;
        bind_str(st, 1, r->bucket);
        rc = st_step(l, c, st);
        if (rc == 0)
            rc = conn_stmt(l, c, ST_BUCKET_CLEAR, &st);
        if (rc < 0)
            return rc;
        bind_str(st, 1, r->bucket);
        rc = st_step(l, c, st);
    }
    if (rc == 0)
        rc = conn_stmt(l, c, ST_BUCKET_DELETE, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, r->bucket);
    return st_step(l, c, st);
}

static int meta_read_conn(struct drive_local *l, struct conn *c, const char *bucket,
                          const char *key, struct obj_meta *out);

/*
 * drive_meta_replace(): the current record into r->prev (none if it fails
 * its checksum); -ERR_EXISTS if it is another version as new as r->m or newer.
 */
static int
check_prev(struct drive_local *l, struct conn *c, struct drive_local_req *r)
{
    int rc = meta_read_conn(l, c, r->bucket, r->key, r->prev);

    r->had_prev = rc == 0;
    if (rc == -ERR_NOT_FOUND || rc == -ERR_CORRUPT)
        return 0;
    if (rc < 0)
        return rc;
    if (strcmp(r->prev->vid, r->m->vid) != 0 && r->prev->mtime_ns >= r->m->mtime_ns)
        return -ERR_EXISTS;
    return 0;
}

static int
apply_meta_put(struct drive_local *l, struct conn *c, struct drive_local_req *r)
{
    char old[OBJMETA_VID_LEN + 1];
    sqlite3_stmt *st = NULL;
    int64_t rec_id = 0;
    int rc;

    rc = query_bucket(l, c, r->bucket, NULL);
    if (rc < 0)
        return rc;
    if (r->prev) {
        rc = check_prev(l, c, r);
        if (rc < 0)
            return rc;
    }
    rc = query_vid(l, c, r->bucket, r->key, old, &rec_id);
    if (rc < 0 && rc != -ERR_NOT_FOUND)
        return rc;
    if (rc == 0 && strcmp(old, r->m->vid) != 0 && objmeta_vid_is_valid(old))
        buf_add(&r->old_vids, old, OBJMETA_VID_LEN);
    /*
     * an overwrite rewrites the key's row of `recs` in place; a key whose
     * row is missing (an index damaged outside Basalt) gets a new one
     */
    if (rc == 0)
        rc = rec_change(l, c, ST_REC_UPDATE, rec_id, r->rec);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = -ERR_NOT_FOUND;
    if (rc < 0 && rc != -ERR_NOT_FOUND)
        return rc;
    if (rc == -ERR_NOT_FOUND)
        rc = rec_insert(l, c, r->rec, &rec_id);
    if (rc == 0)
        rc = conn_stmt(l, c, ST_OBJ_PUT, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, r->bucket);
    bind_key(st, 2, r->key, strlen(r->key));
    bind_str(st, 3, r->m->vid);
    sqlite3_bind_int64(st, 4, (int64_t)r->m->size);
    sqlite3_bind_int64(st, 5, r->m->mtime_ns);
    bind_str(st, 6, r->m->etag);
    sqlite3_bind_int(st, 7, r->m->reduced);
    sqlite3_bind_int64(st, 8, rec_id);
    sqlite3_bind_int(st, 9, !r->m->is_inline);
    return st_step(l, c, st);
}

static int
apply_meta_delete(struct drive_local *l, struct conn *c, struct drive_local_req *r)
{
    char cur[OBJMETA_VID_LEN + 1];
    sqlite3_stmt *st = NULL;
    int64_t rec_id = 0;
    int rc;

    rc = query_vid(l, c, r->bucket, r->key, cur, &rec_id);
    if (rc < 0)
        return rc;
    if (r->vid && strcmp(r->vid, cur) != 0)
        return -ERR_NOT_FOUND;
    rc = rec_change(l, c, ST_REC_DELETE, rec_id, SLICE_NULL);
    if (rc == 0)
        rc = conn_stmt(l, c, ST_OBJ_DELETE, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, r->bucket);
    bind_key(st, 2, r->key, strlen(r->key));
    rc = st_step(l, c, st);
    if (rc == 0 && objmeta_vid_is_valid(cur))
        buf_add(&r->old_vids, cur, OBJMETA_VID_LEN);
    return rc;
}

static int
apply_journal(struct drive_local *l, struct conn *c, struct drive_local_req *r)
{
    const struct drive_local_journal *j = r->journal;
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc = 0;

    /* removals first: an item removed and added again in one update stays */
    for (i = 0; i < j->nput + j->ndel && rc == 0; i++) {
        struct slice item = i < j->ndel ? j->del[i] : j->put[i - j->ndel];

        rc = conn_stmt(l, c, i < j->ndel ? ST_JOURNAL_DELETE : ST_JOURNAL_PUT, &st);
        if (rc < 0)
            break;
        bind_str(st, 1, r->bucket); /* the journal's name */
        sqlite3_bind_blob64(st, 2, item.len ? item.ptr : "", item.len, SQLITE_STATIC);
        rc = st_step(l, c, st);
        rc = rc < 0 ? rc : 0;
    }
    return rc;
}

/* Runs one request inside its own savepoint: a failure rolls back only this request. */
static int
apply_one(struct drive_local *l, struct conn *c, struct drive_local_req *r)
{
    int rc;

    rc = st_run(l, c, ST_SAVEPOINT);
    if (rc < 0)
        return rc;
    switch (r->kind) {
    case DRIVE_LOCAL_REQ_BUCKET_MAKE:
        rc = apply_bucket_make(l, c, r);
        break;
    case DRIVE_LOCAL_REQ_BUCKET_DELETE:
        rc = apply_bucket_delete(l, c, r);
        break;
    case DRIVE_LOCAL_REQ_META_PUT:
        rc = apply_meta_put(l, c, r);
        break;
    case DRIVE_LOCAL_REQ_META_DELETE:
        rc = apply_meta_delete(l, c, r);
        break;
    case DRIVE_LOCAL_REQ_JOURNAL:
        rc = apply_journal(l, c, r);
        break;
    }
    if (rc < 0) {
        buf_clear(&r->old_vids);
        st_run(l, c, ST_ROLLBACK_TO);
    }
    st_run(l, c, ST_RELEASE);
    return rc;
}

static void
fail_all(struct list_node *batch, int rc)
{
    struct list_node *n;

    for (n = batch->next; n != batch; n = n->next) {
        struct drive_local_req *r = container_of(n, struct drive_local_req, link);

        r->rc = rc;
        buf_clear(&r->old_vids);
    }
}

/*
 * Whether index.db is still the file the drive opened: a folder removed (a
 * disk gone) leaves SQLite writing happily into an unlinked file, and a
 * commit there would be acknowledged and lost. One stat per transaction.
 */
static bool
index_is_ours(struct drive_local *l)
{
    char p[PATH_MAX];
    struct stat st;

    drive_local__path(l, p, "index.db");
    return stat(p, &st) == 0 && st.st_dev == l->index_dev && st.st_ino == l->index_ino;
}

/* Committer thread only: one transaction for the whole batch (group commit). */
static void
run_batch(struct drive_local *l, struct list_node *batch)
{
    struct conn *c = l->wc;
    struct list_node *n;
    size_t records = 0;
    int64_t t0;
    int rc;

    if (!index_is_ours(l)) {
        drive_set_offline(&l->base, -ERR_OFFLINE);
        fail_all(batch, -ERR_OFFLINE);
        return;
    }
    rc = st_run(l, c, ST_BEGIN);
    if (rc < 0) {
        fail_all(batch, rc);
        return;
    }
    for (n = batch->next; n != batch; n = n->next) {
        struct drive_local_req *r = container_of(n, struct drive_local_req, link);

        r->rc = apply_one(l, c, r);
        records++;
    }
    t0 = clock_mono_ns();
    rc = st_run(l, c, ST_COMMIT);
    drive__observe_commit(&l->base, records, clock_mono_ns() - t0);
    if (rc < 0) {
        if (!sqlite3_get_autocommit(c->db))
            st_run(l, c, ST_ROLLBACK);
        fail_all(batch, rc);
        return;
    }
    atomic_fetch_add(&l->ntxn, 1);
}

/* Committer thread, after the batch: old data folders, then the caller's callback. */
static void
complete_async(struct drive_local *l, struct list_node *finished)
{
    struct list_node *n;

    while ((n = list_pop(finished)) != NULL) {
        struct drive_local_req *r = container_of(n, struct drive_local_req, link);
        struct drive_local_async *a = r->async;

        if (r->rc == 0)
            drive_local__remove_old_vids(l, &r->old_vids);
        a->done(a->arg, r->rc);
        buf_release(&r->old_vids);
        buf_release(&a->rec);
        free(a);
    }
}

static void *
committer_main(void *arg)
{
    struct drive_local *l = arg;
    struct list_node batch, finished, *n;

    list_init(&finished);
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (list_is_empty(&l->queue) && !l->stop)
            pthread_cond_wait(&l->cv, &l->mu);
        if (list_is_empty(&l->queue))
            break;
        list_init(&batch);
        list_splice_tail(&batch, &l->queue);
        pthread_mutex_unlock(&l->mu);
        run_batch(l, &batch);
        pthread_mutex_lock(&l->mu);
        while ((n = list_pop(&batch)) != NULL) {
            struct drive_local_req *r = container_of(n, struct drive_local_req, link);

            if (r->async)
                list_add_tail(&finished, n);
            else
                r->done = true;
        }
        pthread_cond_broadcast(&l->done_cv);
        pthread_mutex_unlock(&l->mu);
        complete_async(l, &finished);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Spawn site of the drive's index committer thread (STYLE 2.7): runs run_batch(). */
int
drive_local__index_start(struct drive_local *l)
{
    int e;

    l->stop = false;
    e = pthread_create(&l->committer, NULL, committer_main, l);
    if (e != 0)
        return drive_local__sys_fail(l, e, "pthread_create", "committer");
    pthread_setname_np(l->committer, "basalt-commit");
    l->committer_running = true;
    return 0;
}

/* Lets queued requests finish, then joins the committer. */
static void
committer_stop(struct drive_local *l)
{
    if (!l->committer_running)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->committer, NULL);
    l->committer_running = false;
}

/* Queues `r` for the committer and waits for its answer. Returns r->rc. */
int
drive_local__index_write(struct drive_local *l, struct drive_local_req *r)
{
    if (!l->committer_running)
        return -ERR_OFFLINE; /* a drive_reset() failed: no index (read under `life`) */
    pthread_mutex_lock(&l->mu);
    r->done = false;
    list_add_tail(&l->queue, &r->link);
    pthread_cond_signal(&l->cv);
    while (!r->done)
        pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    return r->rc;
}

int
drive_local__index_write_many(struct drive_local *l, struct drive_local_req *rs, size_t n)
{
    size_t i;

    if (!l->committer_running)
        return -ERR_OFFLINE;
    pthread_mutex_lock(&l->mu);
    for (i = 0; i < n; i++) { /* under one hold of mu: the committer takes them all at once */
        rs[i].done = false;
        list_add_tail(&l->queue, &rs[i].link);
    }
    pthread_cond_signal(&l->cv);
    for (i = 0; i < n; i++)
        while (!rs[i].done)
            pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

int
drive_local__index_submit(struct drive_local *l, struct drive_local_req *r)
{
    if (!l->committer_running)
        return -ERR_OFFLINE;
    pthread_mutex_lock(&l->mu);
    list_add_tail(&l->queue, &r->link);
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

int
drive_local__index_wait(struct drive_local *l, struct drive_local_req *r)
{
    pthread_mutex_lock(&l->mu);
    while (!r->done)
        pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    return r->rc;
}

bool
drive_local__index_done(struct drive_local *l, struct drive_local_req *r, int64_t wait_ns)
{
    bool done;

    pthread_mutex_lock(&l->mu);
    if (!r->done && wait_ns > 0) {
        int64_t at = clock_now_ns() + wait_ns;
        struct timespec ts = { .tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL };

        pthread_cond_timedwait(&l->done_cv, &l->mu, &ts);
    }
    done = r->done;
    pthread_mutex_unlock(&l->mu);
    return done;
}

void
drive_local__req_init(struct drive_local_req *r, enum drive_local_req_kind kind, const char *bucket)
{
    memset(r, 0, sizeof(*r));
    list_init(&r->link);
    r->kind = kind;
    r->bucket = bucket;
    buf_init(&r->old_vids, 0);
}

static int
bucket_list_conn(struct drive_local *l, struct conn *c, struct bucket_ent **out, size_t *n)
{
    struct bucket_ent *ents = NULL;
    size_t len = 0, alloc = 0;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = conn_stmt(l, c, ST_BUCKET_LIST, &st);
    if (rc < 0)
        return rc;
    while ((rc = st_step(l, c, st)) == 1) {
        if (len == alloc) {
            alloc = alloc ? 2 * alloc : 16;
            ents = xrealloc(ents, alloc * sizeof(*ents));
        }
        snprintf(ents[len].name, sizeof(ents[len].name), "%s", col_str(st, 0));
        ents[len++].created_ns = sqlite3_column_int64(st, 1);
    }
    if (rc < 0) {
        free(ents);
        return rc;
    }
    *out = ents;
    *n = len;
    return 0;
}

static int
meta_read_conn(struct drive_local *l, struct conn *c, const char *bucket, const char *key,
               struct obj_meta *out)
{
    struct log_ctx ctx = { .drive = l->base.endpoint, .bucket = bucket, .key = key };
    sqlite3_stmt *st = NULL;
    int rc;

    rc = conn_stmt(l, c, ST_OBJ_REC, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, bucket);
    bind_key(st, 2, key, strlen(key));
    rc = st_step(l, c, st);
    if (rc <= 0)
        return rc == 0 ? -ERR_NOT_FOUND : rc;
    rc = objmeta_decode(slice_make(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)),
                        out);
    sqlite3_reset(st);
    if (rc < 0)
        log_error(&ctx, "index record fails its checksum or does not decode");
    return rc;
}

/*
 * The smallest key that is not >= every key starting with `prefix`: drop the
 * trailing 0xff bytes, add one to the last byte. False if there is none (the
 * prefix is empty or all 0xff): no upper bound.
 */
static bool
prefix_successor(struct slice prefix, struct buf *out)
{
    size_t n = prefix.len;

    while (n > 0 && (unsigned char)prefix.ptr[n - 1] == 0xff)
        n--;
    if (n == 0)
        return false;
    buf_add(out, prefix.ptr, n);
    out->ptr[n - 1] = (char)((unsigned char)out->ptr[n - 1] + 1);
    return true;
}

/*
 * The lower bound as one `key >= lower`: "key > after" is "key >= after
 * followed by a 0 byte" in byte order; take the larger of that and prefix.
 */
static void
list_lower(struct slice prefix, struct slice after, struct buf *out)
{
    if (after.len > 0 && slice_cmp(after, prefix) >= 0) {
        buf_addslice(out, after);
        buf_addch(out, '\0');
    } else {
        buf_addslice(out, prefix);
    }
}

static int
list_rows(struct drive_local *l, struct conn *c, sqlite3_stmt *st, drive_list_fn *cb, void *arg)
{
    struct drive_list_ent ent;
    int rc;

    while ((rc = st_step(l, c, st)) == 1) {
        ent.key = sqlite3_column_blob(st, 0);
        ent.key_len = (size_t)sqlite3_column_bytes(st, 0);
        if (!ent.key)
            ent.key = "";
        ent.vid = col_str(st, 1);
        ent.size = (uint64_t)sqlite3_column_int64(st, 2);
        ent.mtime_ns = sqlite3_column_int64(st, 3);
        ent.etag = col_str(st, 4);
        ent.reduced = sqlite3_column_int(st, 5) != 0;
        rc = cb(arg, &ent);
        if (rc != 0) {
            sqlite3_reset(st);
            return rc < 0 ? rc : 0;
        }
    }
    return rc;
}

static int
list_conn(struct drive_local *l, struct conn *c, const char *bucket, struct slice prefix,
          struct slice after, unsigned limit, drive_list_fn *cb, void *arg)
{
    struct buf lower = BUF_INIT, upper = BUF_INIT;
    bool has_upper = prefix_successor(prefix, &upper);
    sqlite3_stmt *st = NULL;
    int rc;

    rc = query_bucket(l, c, bucket, NULL);
    if (rc == 0)
        rc = conn_stmt(l, c, has_upper ? ST_LIST_UPPER : ST_LIST, &st);
    if (rc < 0)
        goto out_release;
    list_lower(prefix, after, &lower);
    bind_str(st, 1, bucket);
    bind_key(st, 2, lower.ptr, lower.len);
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    if (has_upper)
        bind_key(st, 4, upper.ptr, upper.len);
    rc = list_rows(l, c, st, cb, arg);
out_release:
    buf_release(&upper);
    buf_release(&lower);
    return rc;
}

int
drive_local__index_open(struct drive_local *l)
{
    return conn_open(l, true, &l->wc);
}

void
drive_local__index_close(struct drive_local *l)
{
    committer_stop(l);
    pool_close_all(l);
    conn_close(l->wc);
    l->wc = NULL;
}

int
drive_local__index_vid_used(struct drive_local *l, const char *vid)
{
    sqlite3_stmt *st = NULL;
    int rc;

    BUG_ON(l->committer_running); /* `wc` belongs to the committer once it runs */
    rc = conn_stmt(l, l->wc, ST_VID_USED, &st);
    if (rc < 0)
        return rc;
    bind_str(st, 1, vid);
    rc = st_step(l, l->wc, st);
    if (rc == 1)
        sqlite3_reset(st);
    return rc;
}

int
drive_local__index_bucket_stat(struct drive_local *l, const char *bucket, int64_t *created_ns)
{
    struct conn *c = NULL;
    int64_t ns = 0;
    int rc;

    rc = pool_get(l, &c);
    if (rc == 0)
        rc = query_bucket(l, c, bucket, &ns);
    pool_put(l, c);
    if (rc == 0)
        *created_ns = ns;
    return rc;
}

int
drive_local__index_bucket_list(struct drive_local *l, struct bucket_ent **out, size_t *n)
{
    struct conn *c = NULL;
    int rc;

    rc = pool_get(l, &c);
    if (rc == 0)
        rc = bucket_list_conn(l, c, out, n);
    pool_put(l, c);
    return rc;
}

int
drive_local__index_meta_read(struct drive_local *l, const char *bucket, const char *key,
                             struct obj_meta *out)
{
    struct conn *c = NULL;
    int rc;

    rc = pool_get(l, &c);
    if (rc == 0)
        rc = meta_read_conn(l, c, bucket, key, out);
    pool_put(l, c);
    return rc;
}

int
drive_local__index_list(struct drive_local *l, const char *bucket, struct slice prefix,
                        struct slice after, unsigned limit, drive_list_fn *cb, void *arg)
{
    struct conn *c = NULL;
    int rc;

    rc = pool_get(l, &c);
    if (rc == 0)
        rc = list_conn(l, c, bucket, prefix, after, limit, cb, arg);
    pool_put(l, c);
    return rc;
}

static int
journal_list_conn(struct drive_local *l, struct conn *c, const char *name, struct slice after,
                  unsigned limit, drive_journal_fn *cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    int rc = conn_stmt(l, c, ST_JOURNAL_LIST, &st);

    if (rc < 0)
        return rc;
    bind_str(st, 1, name);
    sqlite3_bind_blob64(st, 2, after.len ? after.ptr : "", after.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    while ((rc = st_step(l, c, st)) == 1) {
        const void *p = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);

        rc = cb(arg, slice_make(p ? p : "", (size_t)n));
        if (rc != 0)
            break;
    }
    sqlite3_reset(st);
    return rc < 0 ? rc : 0;
}

int
drive_local__index_journal_list(struct drive_local *l, const char *name, struct slice after,
                                unsigned limit, drive_journal_fn *cb, void *arg)
{
    struct conn *c = NULL;
    int rc;

    rc = pool_get(l, &c);
    if (rc == 0)
        rc = journal_list_conn(l, c, name, after, limit, cb, arg);
    pool_put(l, c);
    return rc;
}
