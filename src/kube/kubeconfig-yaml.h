/* kubeconfig-yaml.h: a kubeconfig file read as YAML (private to src/kube) */
#ifndef NUB_KUBECONFIG_YAML_H
#define NUB_KUBECONFIG_YAML_H

#include <stdbool.h>

#include "../util/err.h"
#include "../util/yaml.h"

/* Larger than any sane kubeconfig or certificate bundle; keeps a stray file from eating memory. */
#define KCFG_MAX_FILE	(16 * 1024 * 1024)

/*
 * Read and parse `path' (yaml_parse), its directory kept in f->dir.
 * Returns 1 when loaded, 0 when the file does not exist and `must_exist'
 * is false, -1 on error.
 */
int kcfg_yaml_load(const char *path, bool must_exist, struct yaml_file **out, struct err *e);
/* A path made absolute against `dir' (returned as a new string); NULL in, NULL out. */
char *kcfg_resolve_path(const char *dir, const char *path);

#endif
