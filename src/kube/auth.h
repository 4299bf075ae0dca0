/* auth.h: credentials for a request: static ones and exec credential plugins */
#ifndef NUB_AUTH_H
#define NUB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../util/err.h"
#include "kubeconfig.h"

/* What to put on a request right now. */
struct auth_creds {
	const char *token;	/* Bearer token, or NULL */
	const char *username;	/* basic auth, or NULL */
	const char *password;
	const char *cert_pem;	/* client certificate and key, or NULL */
	size_t cert_len;
	const char *key_pem;
	size_t key_len;
};

struct auth;

/* The kcfg must outlive the auth. */
struct auth *auth_new(const struct kcfg *cfg);
void auth_free(struct auth *a);

/*
 * Credentials for the next request.  Runs the exec plugin when there is one
 * and no cached credential is still valid (cached until its
 * expirationTimestamp), and re-reads tokenFile.  The pointers stay valid
 * until the next auth_get/auth_invalidate/auth_free.
 */
int auth_get(struct auth *a, struct auth_creds *out, struct err *e);

/*
 * The server answered 401: drop cached exec credentials so the next
 * auth_get runs the plugin again.  Returns true when retrying can help
 * (there is a plugin or a token file that may have changed).
 */
bool auth_invalidate(struct auth *a);

/* Whether these credentials may be sent over plain http (never for tokens or basic auth). */
bool auth_creds_need_tls(const struct auth_creds *c);

#endif
