/* cmd-kill-labs.c: Delete every user lab namespace (or one user's with --user) */
#include "cmd.h"

const struct cmd_entry cmd_kill_labs_entry = {
	.name = "kill-labs",
	.summary = "Delete every user lab namespace (or one user's with --user)",
	.usage = "",
	.flags = CMD_DESTRUCTIVE | CMD_UNIMPLEMENTED,
};
