#!/bin/sh
# The command line's contract: help, version, usage errors and their exit codes.
set -u
fail=0
check() { # expected-exit description command...
        want=$1; shift; what=$1; shift
        "$@" >/dev/null 2>&1; got=$?
        if [ "$got" -ne "$want" ]; then echo "FAIL: $what: exit $got, want $want"; fail=1; else echo "ok: $what"; fi
}
check 0 "--help" "$VIRTUNE" --help
check 0 "--version" "$VIRTUNE" --version
check 2 "no command" "$VIRTUNE"
check 2 "unknown command" "$VIRTUNE" frobnicate
check 2 "unknown option" "$VIRTUNE" detect --frobnicate
check 2 "stray argument" "$VIRTUNE" detect extra
check 0 "detect --help" "$VIRTUNE" detect --help
check 2 "missing root" "$VIRTUNE" detect --root /nonexistent/virtune
"$VIRTUNE" --version | grep -q '^virtune [0-9]' || { echo "FAIL: version line"; fail=1; }
"$VIRTUNE" detect --help | grep -q -- '--root DIR' || { echo "FAIL: detect --help lists --root"; fail=1; }
exit $fail
