/* cli/cmd_mv.c: `basalt mv [-r] SOURCE... TARGET`: cp (cmd_cp.c), then each source removed. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_mv(int argc, char **argv)
{
    return cp_main(argc, argv, true);
}
