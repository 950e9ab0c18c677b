# shellcheck shell=bash
# The variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034
# What the tests/vm scripts share: the harness's path, the skip without QEMU, ok/bad, a temp
# directory and `vm_start`, which boots a guest that the EXIT trap stops. Source it first.
# A test of an arm64 guest sets vm_arch=aarch64 before sourcing: it then skips without
# qemu-system-aarch64, and arm64_build gives it the guest's binaries.
vtvm=${VT_SOURCE:-$(dirname "$0")/../..}/tests/vm/vtvm
vm_qemu=qemu-system-x86_64
[ "${vm_arch:-x86_64}" = aarch64 ] && vm_qemu=qemu-system-aarch64
command -v "$vm_qemu" >/dev/null || {
        echo "SKIP: $vm_qemu is not installed"
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

# arm64_build: cross-builds the programs for an arm64 guest (packaging/cross, no tests) into
# $VT_BUILD/arm64, or uses $VT_ARM64_BUILD when set, and points VIRTUNE, VIRTUNED and
# VIRTUNED_WORKER there. Skips (77) without the cross compiler, and under sanitizers: the
# cross build has none, so that pass would repeat the plain one.
arm64_build() {
        local b=${VT_ARM64_BUILD:-$VT_BUILD/arm64} src=${VT_SOURCE:-$(dirname "$0")/../..}
        if [ "${VT_SANITIZE:-none}" != none ]; then
                echo "SKIP: the arm64 guest runs in the plain pass only (cross build: no sanitizers)"
                exit 77
        fi
        command -v aarch64-linux-gnu-gcc >/dev/null || {
                echo "SKIP: aarch64-linux-gnu-gcc is not installed (packaging/deps/cross.txt)"
                exit 77
        }
        if [ -z "${VT_ARM64_BUILD:-}" ]; then
                # Tests run in parallel: one builds, the others wait.
                mkdir -p "$b"
                exec {arm64_lock}>"$b.lock"
                flock "$arm64_lock"
                if [ ! -e "$b/build.ninja" ]; then
                        meson setup --cross-file "$src/packaging/cross/aarch64-linux-gnu.ini" \
                                "$b" "$src" >"$tmp/arm64-setup.log" 2>&1 ||
                                { cat "$tmp/arm64-setup.log"; echo "FAIL: meson setup (arm64)"; exit 1; }
                fi
                nice meson compile -C "$b" >"$tmp/arm64-build.log" 2>&1 ||
                        { tail -n 30 "$tmp/arm64-build.log"; echo "FAIL: meson compile (arm64)"; exit 1; }
                flock -u "$arm64_lock"
        fi
        VIRTUNE=$b/agent/virtune
        VIRTUNED=$b/agent/virtuned
        VIRTUNED_WORKER=$b/agent/virtuned-worker
        readelf -h "$VIRTUNE" 2>/dev/null | grep -q 'Machine:.*AArch64' || { echo "FAIL: $VIRTUNE is not an arm64 binary"; exit 1; }
}
