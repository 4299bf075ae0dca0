/* cmd-status.c: Show access, labs, hub, database and Argo CD state on one screen */
#include "cmd.h"

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.summary = "Show access, labs, hub, database and Argo CD state on one screen",
	.usage = "",
	.flags = CMD_UNIMPLEMENTED,
};
