# bash completion for kubectl-nublado                      -*- shell-script -*-
#
# Every candidate comes from the binary itself (`kubectl-nublado __complete
# WORD... CURRENT', cobra's protocol), so this never drifts from the commands
# and options it has.  Installed as .../bash-completion/completions/kubectl-nublado
# for bash-completion to load on first use.  `kubectl nublado <TAB>' goes
# through kubectl's own completion and kubectl_complete-nublado instead.

_comp_cmd_kubectl_nublado()
{
    local cur prev words cword comp_args
    if declare -F _comp_initialize >/dev/null; then
        _comp_initialize -n =: -- "$@" || return
    else
        _init_completion -n =: || return
    fi

    local prog=${words[0]} out
    [[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
    out=$("$prog" __complete "${words[@]:1:cword-1}" "$cur" 2>/dev/null) || return

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
        [[ $line == "$cur"* ]] && COMPREPLY+=("$line")
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
    if [[ -n $brk && $cur == *["$brk"]* ]]; then
        local lead=${cur%"${cur##*["$brk"]}"}
        COMPREPLY=("${COMPREPLY[@]#"$lead"}")
    fi
} &&
    complete -F _comp_cmd_kubectl_nublado kubectl-nublado

# ex: filetype=sh
