# bash completion for kubectl-nublado                      -*- shell-script -*-
#
# Every candidate comes from the binary itself (`kubectl-nublado __complete
# WORD... CURRENT', cobra's protocol), so this never drifts from the commands
# and options it has.  Installed as .../bash-completion/completions/kubectl-nublado
# for bash-completion to load on first use.  `kubectl nublado <TAB>' goes
# through kubectl's own completion and kubectl_complete-nublado instead.

# The word as the command will see it, without running anything (no eval):
# quotes and backslashes removed, a leading ~/ expanded.
_comp_cmd_kubectl_nublado__dequote()
{
    local s=$1 c q= i
    REPLY=
    [[ $s == "~/"* ]] && s=$HOME/${s#"~/"}
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        if [[ $c == \\ && $q != "'" ]]; then
            ((i++))
            REPLY+=${s:i:1}
        elif [[ -z $q && ($c == "'" || $c == '"') ]]; then
            q=$c
        elif [[ -n $q && $c == "$q" ]]; then
            q=
        else
            REPLY+=$c
        fi
    done
}

_comp_cmd_kubectl_nublado()
{
    local cur prev words cword comp_args
    if declare -F _comp_initialize >/dev/null; then
        _comp_initialize -n =: -- "$@" || return
    else
        _init_completion -n =: || return
    fi

    local -a args=()
    local i out word
    for ((i = 0; i <= cword; i++)); do
        _comp_cmd_kubectl_nublado__dequote "${words[i]}"
        args+=("$REPLY")
    done
    word=${args[cword]}
    out=$("${args[0]}" __complete "${args[@]:1}" 2>/dev/null) || return

    # The last line is `:DIRECTIVE'; the others `value[<TAB>description]'.
    local -a lines cands=()
    local line directive
    mapfile -t lines <<<"$out"
    line=${lines[${#lines[@]}-1]}
    [[ $line =~ ^:[0-9]+$ ]] || return
    directive=${line#:}
    unset 'lines[${#lines[@]}-1]'
    for line in "${lines[@]}"; do
        [[ -n $line ]] && cands+=("${line%%$'\t'*}")
    done

    # Bits: 1 error, 2 no space, 4 no file completion, 8 filter by extension,
    # 16 directories only, 32 keep order.
    ((directive & 1)) && return
    if ((directive & (8 | 16))); then
        # The value of --opt=VALUE is the part of the word after the `='.
        [[ $cur == --*=* ]] && cur=${cur#*=}
        if ((directive & 8)); then
            local IFS='|'
            _filedir "@(${cands[*]})"
        else
            _filedir -d
        fi
        return
    fi

    COMPREPLY=()
    for line in "${cands[@]}"; do
        [[ $line == "$word"* ]] && COMPREPLY+=("$line")
    done
    if ((${#COMPREPLY[@]} == 0)); then
        if ! ((directive & 4)); then
            [[ $cur == --*=* ]] && cur=${cur#*=}
            _filedir
        fi
        return
    fi
    ((directive & 2)) && compopt -o nospace
    ((directive & 32)) && compopt -o nosort 2>/dev/null

    # Readline replaces only what follows the last `=' or `:' in the word
    # (COMP_WORDBREAKS): hand back just that part, as __ltrim_colon_completions does.
    local brk=
    [[ $COMP_WORDBREAKS == *=* ]] && brk+='='
    [[ $COMP_WORDBREAKS == *:* ]] && brk+=':'
    if [[ -n $brk && $word == *["$brk"]* ]]; then
        local lead=${word%"${word##*["$brk"]}"}
        COMPREPLY=("${COMPREPLY[@]#"$lead"}")
    fi
    # Quote what the shell would split or expand, unless the word opened a quote.
    if [[ $cur != [\"\']* ]]; then
        for i in "${!COMPREPLY[@]}"; do
            [[ ${COMPREPLY[i]} == *[^A-Za-z0-9_./:=@%+,-]* ]] &&
                printf -v 'COMPREPLY[i]' %q "${COMPREPLY[i]}"
        done
    fi
} &&
    complete -F _comp_cmd_kubectl_nublado kubectl-nublado

# ex: filetype=sh
