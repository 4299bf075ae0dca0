/* base64.c: standard base64 both ways; libcrypto decodes, the acceptance rules are ours */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base64.h"
#include "xalloc.h"

char *
base64_encode(const void *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/*
 * EVP_DecodeBlock wants whole quanta with nothing between them and decodes
 * '=' as zero bits, so the text is checked and compacted here first: white
 * space out, padding checked, then padded to whole quanta again.
 */
int
base64_decode(const char *in, char **out, size_t *outlen)
{
	size_t n = strlen(in), count = 0, pad = 0, i;
	unsigned char *text = xmalloc(n + 4), *o;
	int got;

	*out = NULL;
	*outlen = 0;
	for (const char *p = in; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			goto bad;	/* data after the padding */
		text[count++] = (unsigned char)*p;
	}
	/* One leftover character cannot encode a byte; padding must complete a quantum. */
	if (count % 4 == 1 || pad > 2 || (pad > 0 && (count + pad) % 4 != 0))
		goto bad;
	for (pad = 0; (count + pad) % 4 != 0; pad++)
		text[count + pad] = '=';
	o = xmalloc((count + pad) / 4 * 3 + 1);
	got = EVP_DecodeBlock(o, text, (int)(count + pad));
	/*
	 * -1 for a byte outside the alphabet; fewer bytes than the quanta
	 * hold when it took trailing '-' for the end of a PEM block.
	 */
	if (got < 0 || (size_t)got != (count + pad) / 4 * 3) {
		free(o);
		goto bad;
	}
	i = (size_t)got - pad;
	o[i] = '\0';
	free(text);
	*out = (char *)o;
	*outlen = i;
	return 0;
bad:
	free(text);
	return -1;
}
