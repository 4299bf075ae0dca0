# fish completion for kubectl-nublado.  Every candidate comes from the binary
# itself (`kubectl-nublado __complete WORD... CURRENT', cobra's protocol), so
# this never drifts from the commands and options it has.

# Sets $__kubectl_nublado_comp to the candidates (`value<TAB>description');
# false when fish should complete file names instead.
function __kubectl_nublado_prepare
    set -g __kubectl_nublado_comp
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] $cur 2>/dev/null)
    or return 0
    string match -qr '^:[0-9]+$' -- $out[-1]
    or return 0
    set -l directive (string sub -s 2 -- $out[-1])
    set -e out[-1]

    # Bits: 1 error, 2 no space, 4 no file completion, 8 filter by extension,
    # 16 directories only, 32 keep order (the binary's order is kept always).
    if test (math "bitand($directive, 1)") -ne 0
        return 0
    end
    if test (math "bitand($directive, 24)") -ne 0
        # --opt=DIR: complete DIR, keep the --opt= in front
        set -l lead (string match -r -- '^--[^=]*=' $cur; or echo '')
        set -l dir (string replace -r -- '^--[^=]*=' '' $cur)
        for d in (__fish_complete_directories $dir '' | string replace -r '\t.*' '')
            set -a __kubectl_nublado_comp $lead$d
        end
        return 0
    end
    set -g __kubectl_nublado_comp $out
    if test (count $out) -eq 0; and test (math "bitand($directive, 4)") -eq 0
        return 1
    end
    return 0
end

complete -c kubectl-nublado -e
complete -c kubectl-nublado -k -f -n __kubectl_nublado_prepare -a '$__kubectl_nublado_comp'
