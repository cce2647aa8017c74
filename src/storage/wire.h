/*
 * storage/wire.h: the byte layout of drive calls between nodes (the remote
 * drive, drive_remote.c, and the routes that serve a node's drives to the
 * others, drive_serve.c): little-endian integers and length-prefixed byte
 * strings appended to a buf, and a bounds-checked reader over untrusted
 * bytes (a peer's answer, a peer's request).
 */
#ifndef BASALT_STORAGE_WIRE_H
#define BASALT_STORAGE_WIRE_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

void wire_put_u8(struct buf *b, uint8_t v);
void wire_put_u32(struct buf *b, uint32_t v);
void wire_put_u64(struct buf *b, uint64_t v);
/* A u32 length, then the bytes. */
void wire_put_bytes(struct buf *b, struct slice s);

/*
 * Reads what the wire_put_* functions wrote, in order. Any read past the
 * end, or a length larger than what remains, makes the reader failed
 * (sticky): later reads return zeros and empty slices, and wire_ok() false.
 */
struct wire_reader {
    const uint8_t *p;
    size_t left;
    bool failed;
};

void wire_reader_init(struct wire_reader *r, struct slice s);
uint8_t wire_get_u8(struct wire_reader *r);
uint32_t wire_get_u32(struct wire_reader *r);
uint64_t wire_get_u64(struct wire_reader *r);
/* A slice into the input (borrowed). */
struct slice wire_get_bytes(struct wire_reader *r);
/* True if no read failed and, with `at_end`, nothing is left over. */
bool wire_ok(const struct wire_reader *r, bool at_end);

#endif
