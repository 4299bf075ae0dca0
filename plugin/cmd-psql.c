/* cmd-psql.c: Run psql in the hub pod against the JupyterHub database */
#include "cmd.h"

const struct cmd_entry cmd_psql_entry = {
	.name = "psql",
	.summary = "Run psql in the hub pod against the JupyterHub database",
	.usage = "",
	.flags = CMD_UNIMPLEMENTED,
};
