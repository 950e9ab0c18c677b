#!/bin/sh
# The capture script re-captures a fixture tree (-s SRC) so that detect gives the same facts:
# links stay links, the directories they point to exist, files are copied with cat.
# Runs under busybox sh too when it is installed (the VM captures with it).
set -eu
: "${VT_SOURCE:?run through meson test}" "${VIRTUNE:?}" "${VT_FIXTURES:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for shell in sh busybox; do
        if [ "$shell" = busybox ]; then
                command -v busybox >/dev/null 2>&1 || { echo "busybox not installed: sh only"; continue; }
                run="busybox sh"
        else
                run="sh"
        fi
        for fx in openeuler-aarch64 kvm-buildhost; do
                src=$VT_FIXTURES/$fx/root
                out=$tmp/$shell-$fx
                $run "$VT_SOURCE/tests/fixtures/capture" -s "$src" -m virt -m virtio -m haltpoll -m pvspin "$out" >/dev/null
                [ -L "$out/root/sys/bus/virtio/devices/virtio0" ] || { echo "FAIL $shell $fx: virtio0 is not a link"; fail=1; }
                for m in virt virtio haltpoll pvspin; do
                        a=$("$VIRTUNE" detect --json --root "$src" | sed -n "/^  \"$m\": {/,/^  }/p")
                        b=$("$VIRTUNE" detect --json --root "$out/root" | sed -n "/^  \"$m\": {/,/^  }/p")
                        if [ -z "$a" ] || [ "$a" != "$b" ]; then
                                echo "FAIL $shell $fx: $m facts differ after re-capture"
                                printf '%s\n' "$a" >"$tmp/a"; printf '%s\n' "$b" >"$tmp/b"
                                diff "$tmp/a" "$tmp/b" | head -20
                                fail=1
                        fi
                done
                echo "ok $shell $fx"
        done
done
exit $fail
