/* cli/cmd_cors.c: placeholder. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_cors(int argc, char **argv)
{
    fprintf(stderr, "basalt: cors: not implemented yet\n");
    return 1;
}
