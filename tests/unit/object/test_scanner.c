/*
 * tests/unit/object/test_scanner.c: the scanner's share of the keys in a
 * cluster (scanner.c is_mine): a node scans the keys whose placement hash
 * falls to it, and also those of a node that does not answer when it is
 * that node's next answering node; a node that answers again takes its
 * share back.
 */
#include "util/base.h"

#include <stdatomic.h>
#include <unistd.h>

#include "harness.h"
#include "object/internal.h"
#include "object/objlayer.h"
#include "object_test.h"
#include "storage/drive.h"

#define NDRIVES 4
#define NKEYS 60

static atomic_bool node0_up;

static bool
node_online(void *arg, unsigned node)
{
    return node != 0 || atomic_load(&node0_up);
}

/* Asks for a scan cycle and waits for it; returns the objects it looked at. */
static uint64_t
one_cycle(struct objlayer *ol)
{
    struct objlayer_status st;
    uint64_t before;
    unsigned waited;

    objlayer_status(ol, &st);
    before = st.scan_cycles;
    object__scan_soon(ol);
    for (waited = 0; waited < 20000; waited += 10) {
        objlayer_status(ol, &st);
        if (st.scan_cycles > before)
            return st.last_scan_total;
        usleep(10 * 1000);
    }
    harness_fail(__FILE__, __LINE__, "no scan cycle within 20 s");
    return 0;
}

TEST(object_scanner_takes_the_share_of_a_node_that_is_down)
{
    struct drive *drives[NDRIVES];
    struct objlayer_config cfg = { .ndrives = NDRIVES,
                                   .sync = true,
                                   .prebuilt = drives,
                                   .scan_share = 1,
                                   .scan_shares = 3,
                                   .node_online = node_online };
    struct objlayer *ol = NULL;
    struct buf err = BUF_INIT;
    unsigned i, mine = 0, of0 = 0;
    char key[16];

    atomic_store(&node0_up, true);
    for (i = 0; i < NDRIVES; i++) {
        char name[16];

        snprintf(name, sizeof(name), "mem:%u", i);
        drives[i] = drive_mem_new(name);
    }
    if (objlayer_open(&cfg, &ol, &err) < 0)
        harness_fail(__FILE__, __LINE__, "objlayer_open: %s", err.ptr);
    ASSERT_OK(objlayer_bucket_make(ol, NULL, "b"));
    for (i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "k%u", i);
        ASSERT_OK(object_test_put(ol, key, key, strlen(key), SLICE_NULL));
        mine += object__hash("b", key) % 3 == 1;
        of0 += object__hash("b", key) % 3 == 0;
    }
    ASSERT(mine > 0 && of0 > 0);
    ASSERT_EQ(one_cycle(ol), mine); /* node 0 up: only its own share */
    atomic_store(&node0_up, false);
    ASSERT_EQ(one_cycle(ol), mine + of0); /* node 0 down: node 1 is its next: both shares */
    atomic_store(&node0_up, true);
    ASSERT_EQ(one_cycle(ol), mine);
    objlayer_close(ol);
}
