#!/bin/bash
# iosched, rng, qga and tpm facts inside a QEMU guest (tests/vm/vtvm) agree with the guest's
# own sysfs, and a running qemu-ga is found with its argv, block list and version.
set -u
vtvm=${VT_SOURCE:-$(dirname "$0")/../..}/tests/vm/vtvm
command -v qemu-system-x86_64 >/dev/null || {
        echo "SKIP: qemu-system-x86_64 is not installed"
        exit 77
}
fail=0
expect() { # description want got
        if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: got '$3', want '$2'"; fail=1; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The guest's disk: a GPT with an EFI system partition (FAT) and an ext4 one, so the live
# libblkid probe of /dev/vda has partitions to read (there is no udev in the guest).
export PATH=$PATH:/sbin:/usr/sbin
for t in sfdisk mkfs.vfat mkfs.ext4; do
        command -v $t >/dev/null || { echo "FAIL: $t is missing (packaging/deps/detect-dev.txt)"; exit 1; }
done
truncate -s 96M "$tmp/disk.img"
printf 'label: gpt\nstart=2048, size=65536, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=67584, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' |
        sfdisk -q "$tmp/disk.img" || exit 1
mkfs.vfat -i 0x7a3c19e2 --offset 2048 "$tmp/disk.img" 32768 >/dev/null 2>&1 || exit 1
mkfs.ext4 -q -F -U 1031dde5-b9b3-4336-b592-f8f2676a6fef -E offset=$((67584 * 512)) \
        "$tmp/disk.img" 63000k || exit 1

cat >"$tmp/guest.sh" <<'EOF'
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 \
        -b guest-exec,guest-file-open --block-rpcs=guest-shutdown &
ga=$!
i=0
while [ "$(cat /proc/$ga/comm 2>/dev/null)" != qemu-ga ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
done
virtune detect --json >/tmp/facts.json || echo "detect failed: $?"
cat /tmp/facts.json
echo "---"
echo "pid $ga"
echo "sched $(sed 's/.*\[\(.*\)\].*/\1/' /sys/block/vda/queue/scheduler)"
echo "banks $(cd /sys/class/tpm/tpm0 && ls -d pcr-* | sed 's/pcr-//' | tr '\n' ' ')"
echo "rng $(cat /sys/class/misc/hw_random/rng_current)"
echo "gaversion $(qemu-ga --version | sed -n 's/.*Agent \([^ ]*\).*/\1/p')"
kill $ga
EOF
out=$("$vtvm" run --disk "$tmp/disk.img" --bin "$VIRTUNE" --script "$tmp/guest.sh" --timeout 180 2>"$tmp/err")
rc=$?
[ "$rc" = 77 ] && exit 77
expect "guest script ran" 0 "$rc"
facts=$(printf '%s\n' "$out" | sed '/^---$/,$d')
truth=$(printf '%s\n' "$out" | sed '1,/^---$/d')
get() { printf '%s\n' "$truth" | sed -n "s/^$1 //p"; }
q() { printf '%s' "$facts" | jq -c "$1" 2>&1; }
pid=$(get pid)

expect "qga runs, found by its comm" true "$(q .qga.running)"
expect "qga pid" "$pid" "$(q .qga.pid)"
expect "qga argv is the process's" \
        '["qemu-ga","-m","virtio-serial","-p","/dev/virtio-ports/org.qemu.guest_agent.0","-b","guest-exec,guest-file-open","--block-rpcs=guest-shutdown"]' \
        "$(q .qga.argv)"
expect "qga block list from -b and --block-rpcs" '["guest-exec","guest-file-open","guest-shutdown"]' \
        "$(q .qga.block_rpcs)"
expect "qga block source" "\"/proc/$pid/cmdline\"" "$(q .qga.block_source)"
expect "qga binary" '"/usr/bin/qemu-ga"' "$(q .qga.binary)"
expect "qga version from qemu-ga --version (no dpkg in the guest)" "\"$(get gaversion)\"" \
        "$(q .qga.version)"
expect "vda is virtio-blk" '"virtio-blk"' "$(q '.iosched.disks[] | select(.name == "vda") | .kind')"
expect "vda scheduler as sysfs says" "\"$(get sched)\"" \
        "$(q '.iosched.disks[] | select(.name == "vda") | .scheduler')"
expect "vda's partitions from libblkid on /dev/vda" \
        '[["vda1",1,33554432,"vfat","7A3C-19E2","c12a7328-f81f-11d2-ba4b-00a0c93ec93b",true],["vda2",2,65011712,"ext4","1031dde5-b9b3-4336-b592-f8f2676a6fef","0fc63daf-8483-4772-8e79-3d69d8477de4",false]]' \
        "$(q '[.iosched.disks[] | select(.name == "vda") | .partitions[] | [.name, .number, .size_bytes, .fstype, .uuid, .parttype, .esp]]')"
expect "tpm0 on tpm_crb with its event log" '["tpm_crb",true,"/dev/tpmrm0"]' \
        "$(q '.tpm.devices[0] | [.driver, .eventlog, .rm_dev]')"
expect "tpm banks as sysfs lists them" "$(get banks)" "$(q '.tpm.devices[0].banks | join(" ")' | tr -d '"') "
expect "securityfs mounted" true "$(q .tpm.securityfs)"
expect "hw_random current" "\"$(get rng)\"" "$(q .rng.current)"
expect "no read errors" '[[],[],[],[]]' "$(q '[.iosched.errors, .rng.errors, .qga.errors, .tpm.errors]')"
[ "$fail" = 0 ] || { echo "--- guest output"; printf '%s\n' "$out"; cat "$tmp/err"; }
exit "$fail"
