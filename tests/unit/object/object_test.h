/*
 * tests/unit/object/object_test.h: helpers shared by the object-layer tests.
 */
#ifndef BASALT_TESTS_UNIT_OBJECT_OBJECT_TEST_H
#define BASALT_TESTS_UNIT_OBJECT_OBJECT_TEST_H

#include "util/base.h"

#include "object/objlayer.h"

/* Lowercase hex MD5 of `n` bytes into `out` (33 bytes): the ETag the layer must give. */
void object_test_md5_hex(const void *p, size_t n, char out[33]);
/*
 * Reads all of bucket "b" key `key`; 0 if the object is exactly want[0..n),
 * else the read's error, or -ERR_CORRUPT for a size or byte mismatch.
 */
int object_test_check_read(struct objlayer *ol, const char *key, const uint8_t *want, size_t n);

/* Opens an object layer over `n` new in-memory drives (kept in drives[]); fails the test on error.
 */
struct drive;
void object_test_open_mem(struct objlayer **ol, struct drive **drives, unsigned n);
/* The same, each in-memory drive wrapped in a fault-injecting one (storage/drive_faulty.h). */
void object_test_open_faulty(struct objlayer **ol, struct drive **drives, unsigned n);
/*
 * PUTs `n` bytes in one write as bucket "b" key `key`, storing `headers`
 * ("name\0value\0..."); the rc of begin, write or finish.
 */
int object_test_put(struct objlayer *ol, const char *key, const void *data, size_t n,
                    struct slice headers);
/*
 * Drive `d`'s own record of `bucket`/`key` (the storage detail behind the
 * layer's view: inline or not, shard layout); fails the test if unreadable.
 * `out` initialized by the caller.
 */
struct obj_meta;
void object_test_record(struct drive *d, const char *bucket, const char *key, struct obj_meta *out);
/* Deterministic pseudo-random bytes. */
void object_test_fill(uint8_t *p, size_t n, unsigned seed);

#endif
