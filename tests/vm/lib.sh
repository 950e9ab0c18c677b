# shellcheck shell=bash
# What the tests/vm scripts share: the harness's path, the skip without QEMU, ok/bad, a temp
# directory and `vm_start`, which boots a guest that the EXIT trap stops. Source it first.
vtvm=${VT_SOURCE:-$(dirname "$0")/../..}/tests/vm/vtvm
command -v qemu-system-x86_64 >/dev/null || {
        echo "SKIP: qemu-system-x86_64 is not installed"
        exit 77
}
fail=0
ok() { echo "ok: $1"; }
bad() {
        echo "FAIL: $1"
        fail=1
}
tmp=$(mktemp -d)
dir=""
trap '[ -n "$dir" ] && "$vtvm" stop "$dir"; rm -rf "$tmp"' EXIT

# vm_start VTVM-START-ARGS...: boots the guest, sets VTVM_* (see README.md) and $dir; a failed
# start ends the test (77 when vtvm skips).
vm_start() {
        local rc=0
        "$vtvm" start "$@" >"$tmp/env" 2>"$tmp/err" || rc=$?
        [ "$rc" = 77 ] && exit 77
        if [ "$rc" != 0 ]; then
                cat "$tmp/err"
                echo "FAIL: vtvm start"
                exit 1
        fi
        # shellcheck disable=SC1091
        . "$tmp/env"
        dir=$VTVM_DIR
}
