/* base64.h: standard base64 (RFC 4648 section 4), both ways, by libcrypto */
#ifndef NUB_BASE64_H
#define NUB_BASE64_H

#include <stddef.h>

/* Encode n bytes, padded, on one line; NUL-terminated, caller frees. */
char *base64_encode(const void *p, size_t n);
/*
 * Decode as client-go reads kubeconfig and Secret data: standard alphabet,
 * padding optional (but never more than a quantum needs, and nothing after
 * it), spaces, tabs, CR and LF ignored anywhere.  *out is NUL-terminated,
 * *outlen excludes the NUL.  Returns 0, or -1 (*out NULL) for anything else.
 */
int base64_decode(const char *in, char **out, size_t *outlen);

#endif
