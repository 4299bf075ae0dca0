/* cmd-restart-hub.c: Restart the hub Deployment and wait until the new hub is Ready */
#include "cmd.h"

const struct cmd_entry cmd_restart_hub_entry = {
	.name = "restart-hub",
	.summary = "Restart the hub Deployment and wait until the new hub is Ready",
	.usage = "",
	.flags = CMD_DESTRUCTIVE | CMD_UNIMPLEMENTED,
};
