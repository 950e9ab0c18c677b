#!/bin/bash
# Runs shellcheck -S warning over every shell script of the checkout (a #!/bin/sh or #!/bin/bash
# first line, or a "# shellcheck shell=" sourced library), from the top of the tree so that
# "# shellcheck source=" lines resolve (.shellcheckrc). Captured trees are left out: a fixture
# is what a real system holds (tests/fixtures/, tests/*/cases/), not our code.
# Usage: test_shellcheck.sh (VT_SOURCE: the checkout; default: this script's)
set -eu
cd "${VT_SOURCE:-$(dirname "$0")/../..}"
command -v shellcheck >/dev/null || { echo "SKIP: shellcheck is not installed (packaging/deps/build.txt)"; exit 77; }
git rev-parse --git-dir >/dev/null 2>&1 || { echo "SKIP: not a git checkout (the list is git ls-files)"; exit 77; }
files=()
while IFS= read -r -d '' f; do
        case $f in tests/fixtures/* | tests/*/cases/*) continue ;; esac
        [ -f "$f" ] && [ ! -L "$f" ] || continue
        first=
        IFS= read -r first <"$f" 2>/dev/null || true
        case $first in
        '#!/bin/sh'* | '#!/bin/bash'* | '#!/usr/bin/env sh'* | '#!/usr/bin/env bash'* | '# shellcheck shell='*)
                files+=("$f") ;;
        esac
done < <(git ls-files -z)
[ "${#files[@]}" -gt 0 ] || { echo "FAIL: no shell scripts found"; exit 1; }
if ! shellcheck -S warning -f gcc "${files[@]}"; then
        echo "FAIL: shellcheck -S warning found the warnings above (fix them, or silence a"
        echo "deliberate one with a '# shellcheck disable=SCxxxx' line that says why)"
        exit 1
fi
echo "ok: shellcheck -S warning: ${#files[@]} scripts, no warning"
