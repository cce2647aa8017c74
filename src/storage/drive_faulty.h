/*
 * storage/drive_faulty.h: a drive that wraps another and fails on purpose
 * (STYLE 2.12 "fault injection through the drive table"), for the tests of
 * the object layer, healing and quorum. Without a fault set it forwards every
 * call to the inner drive unchanged.
 *
 * The controls may be called from any thread, at any time; a call in flight
 * sees the old or the new setting.
 */
#ifndef BASALT_STORAGE_DRIVE_FAULTY_H
#define BASALT_STORAGE_DRIVE_FAULTY_H

#include "util/base.h"

#include "storage/drive.h"
#include "util/reqctx.h"

/* Operations for drive_faulty_fail_after(), or'ed into a mask. */
enum drive_faulty_op {
    DRIVE_FAULTY_OP_FORMAT = 1u << 0, /* format_read, format_write */
    DRIVE_FAULTY_OP_BUCKET = 1u << 1, /* bucket_make, _delete, _stat, _list */
    DRIVE_FAULTY_OP_SHARD_CREATE = 1u << 2,
    DRIVE_FAULTY_OP_SHARD_APPEND = 1u << 3,
    DRIVE_FAULTY_OP_SHARD_FINISH = 1u << 4,
    DRIVE_FAULTY_OP_SHARD_READ = 1u << 5,
    DRIVE_FAULTY_OP_TMP_REMOVE = 1u << 6,
    DRIVE_FAULTY_OP_META_COMMIT = 1u << 7, /* meta_commit, meta_commit_async, meta_replace */
    DRIVE_FAULTY_OP_META_READ = 1u << 8,
    DRIVE_FAULTY_OP_META_DELETE = 1u << 9,
    DRIVE_FAULTY_OP_LIST = 1u << 10,
    DRIVE_FAULTY_OP_SHARD_LINK = 1u << 11,
    DRIVE_FAULTY_OP_ALL = (1u << 12) - 1,
};

/*
 * Wraps `inner`, taking ownership of it (drive_close() of the faulty drive
 * closes `inner`). The endpoint is the inner drive's. Never fails.
 */
struct drive *drive_faulty_new(struct drive *inner);

/*
 * From now on, the `n`th call (counting from 1, from this call on) of any op
 * in `op_mask` and every later one return `err` (a negative -ERR_*) without
 * reaching the inner drive. A failed shard_finish aborts the inner writer.
 * `n` == 0 or `op_mask` == 0 clears the rule.
 */
void drive_faulty_fail_after(struct drive *d, unsigned op_mask, unsigned n, int err);
/* shard_read flips one bit (the lowest of the middle byte) of what it returns. */
void drive_faulty_flip_bits_on_read(struct drive *d, bool on);
/*
 * Short I/O: shard_read returns half of what the inner drive read (at least 1
 * byte); shard_append writes the first half of the bytes, then fails with
 * -ERR_IO (a torn write; the writer is then failed).
 */
void drive_faulty_short_io(struct drive *d, bool on);
/* shard_append and meta_commit (and replace) return -ERR_NO_SPACE; the drive stays online. */
void drive_faulty_enospc(struct drive *d, bool on);
/* shard_finish aborts the inner writer, takes the drive offline and returns -ERR_IO. */
void drive_faulty_fail_fsync(struct drive *d, bool on);
/* Takes the drive offline: every op returns -ERR_OFFLINE until drive_reset(). */
void drive_faulty_go_offline(struct drive *d);
/*
 * Calls of the ops in `op_mask` block (a hung disk: an fsync that does not
 * return) until the mask is changed to leave them out (0: none hangs);
 * drive_faulty_hanging() says how many calls are blocked now. The drive
 * must not be closed while calls hang.
 */
void drive_faulty_hang(struct drive *d, unsigned op_mask);
unsigned drive_faulty_hanging(struct drive *d);
/*
 * drive_meta_commit_async() and drive_meta_delete_async() run on a thread
 * of their own and answer later, as a local drive's group committer does
 * (off: before returning). Every such call must have answered before the
 * drive is closed.
 */
void drive_faulty_async_commits(struct drive *d, bool on);
/* The request id (util/reqctx.h) the last call ran under; "" for none. */
void drive_faulty_last_request(struct drive *d, char out[REQCTX_ID_LEN + 1]);
/* Clears every fault above (drive_reset() does too). Does not bring the drive back online. */
void drive_faulty_clear(struct drive *d);

#endif
