/* test-base64.c: base64 both ways; decoding keeps the kubeconfig data fields' acceptance rules */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../src/util/base64.h"

Test(base64, decode_as_kubeconfig_data)
{
	char *out;
	size_t len;

	cr_assert_eq(base64_decode("aGVsbG8=", &out, &len), 0);
	cr_assert_eq(len, 5);
	cr_assert_str_eq(out, "hello");
	free(out);
	cr_assert_eq(base64_decode("aGVsbG8", &out, &len), 0, "padding is optional");
	cr_assert_str_eq(out, "hello");
	free(out);
	cr_assert_eq(base64_decode(" aGVs\n bG8=\r\n", &out, &len), 0, "whitespace is ignored");
	cr_assert_str_eq(out, "hello");
	free(out);
	cr_assert_eq(base64_decode("", &out, &len), 0);
	cr_assert_eq(len, 0);
	free(out);
	cr_assert_eq(base64_decode("aGV*bG8=", &out, &len), -1, "bad character");
	cr_assert_null(out);
	cr_assert_eq(base64_decode("aGVs=bG8", &out, &len), -1, "data after padding");
	cr_assert_eq(base64_decode("aGVsb", &out, &len), -1, "a lone leftover character");
	cr_assert_eq(base64_decode("aGVsbG8===", &out, &len), -1, "too much padding");
	cr_assert_eq(base64_decode("aGVsbA-_", &out, &len), -1, "url alphabet");
}

Test(base64, encode)
{
	static const char *const want[] = { "", "YQ==", "YWI=", "YWJj", "YWJjZA==" };
	char *out;

	for (size_t n = 0; n < sizeof want / sizeof want[0]; n++) {
		out = base64_encode("abcd", n);
		cr_assert_str_eq(out, want[n]);
		free(out);
	}
	out = base64_encode("\xff\xfe\x00", 3);
	cr_assert_str_eq(out, "//4A");
	free(out);
}

Test(base64, trailing_dashes_are_not_an_end_marker)
{
	char *out;
	size_t len;

	/* libcrypto takes trailing '-' for a PEM block's end; here it is a bad byte */
	cr_assert_eq(base64_decode("g/g+----", &out, &len), -1);
	cr_assert_null(out);
	cr_assert_eq(base64_decode("YWJj\n----\n", &out, &len), -1);
}
