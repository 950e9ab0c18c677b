#!/bin/sh
# A stand-in for grubby, which Debian does not package: installed as <root>/usr/sbin/grubby by
# test_bootcfg_tools, it records its argv in <root>/grubby.argv and edits the options line of
# every BLS entry (rescue ones too, as grubby --update-kernel=ALL does): --args tokens replace
# the tokens with the same key and go at the end, --remove-args drops KEY or KEY=VALUE tokens.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
printf '%s\n' "$@" >"$root/grubby.argv"
args=
rm=
for a in "$@"; do
        case $a in
        --update-kernel=ALL) ;;
        --args=*) args=${a#--args=} ;;
        --remove-args=*) rm=${a#--remove-args=} ;;
        *)
                echo "grubby stand-in: $a is not modelled" >&2
                exit 1
                ;;
        esac
done
for f in "$root"/boot/loader/entries/*.conf; do
        awk -v args="$args" -v rm="$rm" '
        function key(t) { sub(/=.*/, "", t); return t }
        /^options[ \t]/ {
                n = split($0, tok, /[ \t]+/)
                nr = split(rm, r, " ")
                na = split(args, a, " ")
                line = "options"
                for (i = 2; i <= n; i++) {
                        drop = 0
                        for (j = 1; j <= nr; j++)
                                if (tok[i] == r[j] || (index(r[j], "=") == 0 && key(tok[i]) == r[j]))
                                        drop = 1
                        for (j = 1; j <= na; j++)
                                if (key(tok[i]) == key(a[j]))
                                        drop = 1
                        if (!drop)
                                line = line " " tok[i]
                }
                for (j = 1; j <= na; j++)
                        line = line " " a[j]
                print line
                next
        }
        { print }' "$f" >"$f.new"
        mv "$f.new" "$f"
done
