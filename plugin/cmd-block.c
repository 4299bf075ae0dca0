/* cmd-block.c: Block user access: remove the GafaelfawrIngresses routing to the hub */
#include "cmd.h"

const struct cmd_entry cmd_block_entry = {
	.name = "block",
	.summary = "Block user access: remove the GafaelfawrIngresses routing to the hub",
	.usage = "",
	.flags = CMD_DESTRUCTIVE | CMD_UNIMPLEMENTED,
};
