#!/usr/bin/zsh -f
# zsh-complete.zsh FPATH_DIR LINE: complete LINE<TAB> in a real interactive zsh
# (on a pseudo-terminal, compinit, the completion function found on $fpath) and
# print the matches zsh's completion system produced, one a line.
emulate -L zsh
zmodload zsh/zpty || exit 2
local dir=$1 line=$2 out=${TMPDIR:-/tmp}/zsh-complete.$$
: >| $out

zpty z zsh -f -i
zpty -w z "PROMPT=''; RPROMPT=''; unsetopt zle_bracketed_paste 2>/dev/null; fpath=(${(q)dir} \$fpath)"
zpty -w z "autoload -Uz compinit && compinit -u -D"
# Record what each completion function adds, after zsh's own matching (-A).
zpty -w z "compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a __hits; builtin compadd -A __hits \"\$@\"; (( \$#__hits )) && print -rl -- \"\${__hits[@]}\" >> ${(q)out}; builtin compadd \"\$@\"; }"
zpty -w z "comppostfuncs=( __done ); __done() { print -r -- '<<done>>' >> ${(q)out}; }"
zpty -w z "bindkey '^I' complete-word"
zpty -w -n z "$line"$'\t'

local i
for i in {1..100}; do
  grep -q '^<<done>>$' $out 2>/dev/null && break
  sleep 0.1
done
zpty -d z
if ! grep -q '^<<done>>$' $out; then
  print -u2 "zsh-complete: no completion happened for '$line'"
  rm -f $out
  exit 1
fi
grep -v '^<<done>>$' $out
rm -f $out
