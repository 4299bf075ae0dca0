/* cmd-db-url.c: Show the JupyterHub database URL (from the cluster or Phalanx values) */
#include "cmd.h"

const struct cmd_entry cmd_db_url_entry = {
	.name = "db-url",
	.summary = "Show the JupyterHub database URL (from the cluster or Phalanx values)",
	.usage = "",
	.flags = CMD_UNIMPLEMENTED,
};
