/* test-termsafe.c: no escape sequence from a server or a database reaches the terminal */
#include <string.h>

#include <criterion/criterion.h>

#include "../../src/util/termsafe.h"

/* The filter's output for s fed in pieces of `piece' bytes (0: whole). */
static char *
filtered(const char *s, size_t n, size_t piece)
{
	struct termsafe st = { 0 };
	struct buf out = BUF_INIT;

	if (piece == 0)
		piece = n ? n : 1;
	for (size_t i = 0; i < n; i += piece)
		termsafe_feed(&st, s + i, n - i < piece ? n - i : piece, &out);
	termsafe_finish(&st, &out);
	return buf_detach(&out);
}

static void
same_in_any_pieces(const char *in, const char *want)
{
	for (size_t piece = 0; piece <= 5; piece++) {
		char *got = filtered(in, strlen(in), piece);

		cr_assert_str_eq(got, want, "pieces of %zu", piece);
		free(got);
	}
}

Test(termsafe, hostile_sequences_become_question_marks)
{
	/* A view named to clear the line and print a fake verdict. */
	same_in_any_pieces("view \"\033[2K\033[1Aok: nothing else owned\"",
	    "view \"?[2K?[1Aok: nothing else owned\"");
	/* OSC 52 (clipboard), OSC 0 (window title), ST/BEL ended. */
	same_in_any_pieces("\033]52;c;cm0gLXJmIH4=\007x", "?]52;c;cm0gLXJmIH4=?x");
	same_in_any_pieces("\033]0;pwned\033\\", "?]0;pwned?\\");
	/* A lone carriage return would let a name overwrite the start of its line. */
	same_in_any_pieces("nublado-x\rall good", "nublado-x?all good");
	/* C1 CSI, as UTF-8 and as a raw byte; DEL; a backspace. */
	same_in_any_pieces("a\xc2\x9b" "2Jb\x9b" "c\x7f\b", "a??2Jb?c??");
	/* Colours that are not ours (conceal, black on black). */
	same_in_any_pieces("\033[8mhidden\033[30;40m", "?[8mhidden?[30;40m");
}

Test(termsafe, our_own_sequences_and_text_pass)
{
	same_in_any_pieces("\033[1;31merror: \033[0mx\n\033[2mhint: y\033[0m\n",
	    "\033[1;31merror: \033[0mx\n\033[2mhint: y\033[0m\n");
	same_in_any_pieces("\r\033[Kdeleting labs [##  ] 1/2\r\033[K",
	    "\r\033[Kdeleting labs [##  ] 1/2\r\033[K");
	/* UTF-8 whose continuation bytes fall in 0x80..0x9f stays intact. */
	same_in_any_pieces("Dvo\xc5\x99\xc3\xa1k \xe2\x80\x94 \xf0\x9f\x98\x80\ttab\n",
	    "Dvo\xc5\x99\xc3\xa1k \xe2\x80\x94 \xf0\x9f\x98\x80\ttab\n");
	/* A held prefix at the end comes out made safe. */
	same_in_any_pieces("end\033[1", "end?[1");
}
