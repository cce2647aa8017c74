/* cli/cmd_tag.c: placeholder. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_tag(int argc, char **argv)
{
    fprintf(stderr, "basalt: tag: not implemented yet\n");
    return 1;
}
