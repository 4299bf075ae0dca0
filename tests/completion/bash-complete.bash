#!/bin/bash
# bash-complete.bash LINE: complete LINE<TAB> (cursor at the end) in bash with
# bash-completion, the way readline calls a completion function: COMP_LINE,
# COMP_POINT, and COMP_WORDS split at blanks and at COMP_WORDBREAKS characters.
# The function is found as bash-completion finds it (__load_completion, on
# XDG_DATA_DIRS / BASH_COMPLETION_USER_DIR); prints COMPREPLY one a line.
set -u
line=$1

# shellcheck source=/dev/null
. /usr/share/bash-completion/bash_completion

COMP_LINE=$line
COMP_POINT=${#line}
COMP_WORDS=()
word=
brk=${COMP_WORDBREAKS//[[:space:]]/}
for ((i = 0; i < ${#line}; i++)); do
	c=${line:i:1}
	if [[ $c == [[:space:]] ]]; then
		[[ -n $word ]] && COMP_WORDS+=("$word")
		word=
	elif [[ $brk == *"$c"* && $c != [\"\'] ]]; then
		# a run of break characters is a word of its own
		if [[ -n $word && $brk == *"${word: -1}"* ]]; then
			word+=$c
		else
			[[ -n $word ]] && COMP_WORDS+=("$word")
			word=$c
		fi
	else
		if [[ -n $word && $brk == *"${word: -1}"* && $word != *[!$brk]* ]]; then
			COMP_WORDS+=("$word")
			word=
		fi
		word+=$c
	fi
done
COMP_WORDS+=("$word")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_TYPE=9
COMP_KEY=9

cmd=${COMP_WORDS[0]}
__load_completion "$cmd" || { echo "bash-complete: no completion for $cmd" >&2; exit 2; }
spec=$(complete -p "$cmd") || exit 2
func=$(sed -n 's/.*-F \([^ ]*\) .*/\1/p' <<<"$spec")
[[ -n $func ]] || { echo "bash-complete: not a function: $spec" >&2; exit 2; }

COMPREPLY=()
prev=
((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
"$func" "$cmd" "${COMP_WORDS[COMP_CWORD]}" "$prev"
((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}"
exit 0
