#!/bin/sh
# virtune(8) stays true to the program: every subcommand of `virtune --help` and every option
# of each `virtune COMMAND --help` is in it; every man/*.[1-8] page renders without warnings.
set -u
fail=0
page=$VT_SOURCE/man/virtune.8
text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page")
cmds=$("$VIRTUNE" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && $1 != "Commands:" {print $1}')
[ -n "$cmds" ] || { echo "FAIL: no commands in virtune --help"; exit 1; }
for c in $cmds; do
        # a COMMANDS entry: ".TP" then a line naming the command first
        if printf '%s\n' "$text" | grep -A1 -x '.TP' | grep -Eq "^\.BR? $c( |\$)"; then
                echo "ok: virtune.8 describes '$c'"
        else
                echo "FAIL: virtune.8 has no COMMANDS entry for '$c'"; fail=1
        fi
        for opt in $("$VIRTUNE" "$c" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
                printf '%s\n' "$text" | grep -q -- "$opt\\b" ||
                        { echo "FAIL: virtune.8 lacks '$c $opt'"; fail=1; }
        done
done
if command -v groff >/dev/null; then
        for p in "$VT_SOURCE"/man/*.[1-8]; do
                out=$(groff -man -ww -z "$p" 2>&1)
                [ -z "$out" ] && echo "ok: $(basename "$p") renders cleanly" ||
                        { echo "FAIL: $(basename "$p"): $out"; fail=1; }
        done
else
        echo "note: groff missing (Debian package groff-base): rendering not checked"
fi
exit $fail
