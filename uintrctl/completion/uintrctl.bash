# bash completion for uintrctl(1)
# installed as share/bash-completion/completions/uintrctl

_uintrctl_domains()
{
    # domain names through virsh, on the URI given with -c/--connect
    local uri=$1
    command -v virsh >/dev/null 2>&1 || return
    if [ -n "$uri" ]; then
        virsh -q -c "$uri" list --all --name 2>/dev/null
    else
        virsh -q list --all --name 2>/dev/null
    fi
}

_uintrctl()
{
    local cur prev words cword
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="cpuid check show help"
    local opts="--connect --qmp --timeout --expect --interval --inactive
                --json --pretty --help --version"
    local i uri="" qmp="" cmd=""

    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -c | --connect) uri=${COMP_WORDS[i + 1]}; ((i++)) ;;
        -q | --qmp) qmp=${COMP_WORDS[i + 1]}; ((i++)) ;;
        -t | --timeout | -e | --expect | -n | --interval) ((i++)) ;;
        -*) ;;
        *) [ -z "$cmd" ] && cmd=${COMP_WORDS[i]} ;;
        esac
    done

    case $prev in
    -c | --connect)
        COMPREPLY=($(compgen -W "qemu:///system qemu:///session" -- "$cur"))
        return ;;
    -q | --qmp)
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    -e | --expect)
        COMPREPLY=($(compgen -W "on off" -- "$cur"))
        return ;;
    -t | --timeout | -n | --interval)
        return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        return
    fi
    case $cmd in
    cpuid | check | show)
        [ -n "$qmp" ] && return
        COMPREPLY=($(compgen -W "$(_uintrctl_domains "$uri")" -- "$cur"))
        ;;
    esac
}
complete -F _uintrctl uintrctl
