/* cmd-wipe-db.c: Run the whole runbook: block, kill labs, back up, drop, restart, unblock */
#include "cmd.h"

const struct cmd_entry cmd_wipe_db_entry = {
	.name = "wipe-db",
	.summary = "Run the whole runbook: block, kill labs, back up, drop, restart, unblock",
	.usage = "",
	.flags = CMD_DESTRUCTIVE | CMD_UNIMPLEMENTED,
};
