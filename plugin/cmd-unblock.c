/* cmd-unblock.c: Let users back in: sync the nublado Argo CD Application */
#include "cmd.h"

const struct cmd_entry cmd_unblock_entry = {
	.name = "unblock",
	.summary = "Let users back in: sync the nublado Argo CD Application",
	.usage = "",
	.flags = CMD_DESTRUCTIVE | CMD_UNIMPLEMENTED,
};
