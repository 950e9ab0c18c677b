# shellcheck shell=bash
# The variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034
# What the tests/image scripts share: the harness's path, the skip without QEMU or debootstrap,
# ok/bad, a temp directory, a fresh image with the packages installed (img_new), its mount
# (img_mount/img_umount), its boot (vm_boot) and `g`, a command in the guest. The EXIT trap
# unmounts, stops the guest and removes everything. Source it first.
vtimage=${VT_SOURCE:-$(dirname "$0")/../..}/tests/image/vtimage
for t in qemu-system-x86_64 debootstrap; do
        command -v $t >/dev/null || {
                echo "SKIP: $t is not installed (packaging/deps/image.txt)"
                exit 77
        }
done
fail=0
ok() { echo "ok: $1"; }
bad() {
        echo "FAIL: $1"
        fail=1
}
# Images are 3 GiB sparse files: /var/tmp, not a tmpfs.
tmp=$(mktemp -d /var/tmp/vtimage-test.XXXXXX)
mnt="" D=""
cleanup() {
        [ -n "$mnt" ] && "$vtimage" umount "$mnt"
        if [ -n "$D" ] && [ -d "$D" ]; then
                # The guest's power-ons and how each ended (vtimage: a reboot is a power cycle).
                [ -s "$D/power.log" ] && sed 's/^vtimage: /power: /' "$D/power.log"
                if [ "$fail" != 0 ]; then
                        echo "--- console tail"
                        tr -d '\r' <"$D/console.log" | tail -n 40
                fi
                "$vtimage" stop "$D"
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT

# img_new: $tmp/disk.img, the base image with this checkout's packages installed.
img_new() {
        local rc=0
        "$vtimage" image "$tmp/disk.img" 2>"$tmp/image.err" || rc=$?
        [ "$rc" = 77 ] && exit 77
        if [ "$rc" != 0 ]; then
                cat "$tmp/image.err"
                echo "FAIL: vtimage image"
                exit 1
        fi
        # The packages, unpacked on the host too: the client, and virtune for --root.
        local debs
        debs=$("$vtimage" debs)
        mkdir -p "$tmp/pkg"
        for f in "$debs"/virtune_*.deb "$debs"/virtune-host_*.deb; do
                dpkg-deb -x "$f" "$tmp/pkg"
        done
        host=$tmp/pkg/usr/bin/virtune-host
}

img_mount() {
        mnt=$tmp/mnt
        "$vtimage" mount "$tmp/disk.img" "$mnt"
}

img_umount() {
        "$vtimage" umount "$mnt"
        mnt=""
}

# vm_boot: boots $tmp/disk.img and waits until systemd is done starting (running or degraded).
vm_boot() {
        D=$tmp/vm
        "$vtimage" start "$tmp/disk.img" "$D" "$@" || {
                echo "FAIL: vtimage start"
                exit 1
        }
        "$vtimage" wait "$D" 1 || {
                echo "FAIL: the image did not boot to its control shell"
                exit 1
        }
        g 'systemctl is-system-running --wait' >"$tmp/state" || true
        echo "booted: $(cat "$tmp/state")"
}

vm_reboot() {
        "$vtimage" reboot "$D" || {
                bad "the guest did not come back from a reboot"
                exit 1
        }
        g 'systemctl is-system-running --wait' >"$tmp/state" || true
        echo "rebooted: $(cat "$tmp/state")"
}

# g COMMAND: runs a shell command line in the guest; its output, its status.
g() { "$vtimage" exec "$D" "$*"; }
