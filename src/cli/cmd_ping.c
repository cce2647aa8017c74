/* cli/cmd_ping.c: placeholder. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_ping(int argc, char **argv)
{
    fprintf(stderr, "basalt: ping: not implemented yet\n");
    return 1;
}
