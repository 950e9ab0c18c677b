#!/bin/bash
# `virtune detect --json` inside a QEMU guest agrees with the guest's own sysfs: every virtio
# device's id and driver, the serial ports' names, each disk's schedulers, cpuidle, rng, the TPM.
# usage: test_detect.sh [--arch aarch64 [--uefi]]: the arm64 guest (cross-built virtune), booted
# with QEMU's device tree (no DMI) or through UEFI (ACPI, DMI).
set -u
vm_arch=x86_64 uefi=""
[ "${1:-}" = --arch ] && vm_arch=$2
[ "${3:-}" = --uefi ] && uefi=--uefi
# shellcheck source=tests/vm/lib.sh
# shellcheck source=tests/vm/lib.sh
. "${VT_SOURCE:-$(dirname "$0")/../..}/tests/vm/lib.sh"
command -v jq >/dev/null || {
        echo "FAIL: jq is needed (packaging/deps/vm.txt)"
        exit 1
}
[ "$vm_arch" = aarch64 ] && arm64_build

# The guest prints the facts, then what plain reads of its sysfs say, one thing a line.
cat >"$tmp/guest.sh" <<'EOF'
virtune detect --json >/tmp/facts.json
echo "status $?"
s=/sys
for d in $s/bus/virtio/devices/*; do
        echo "virtio ${d##*/} $(($(cat $d/device))) $(basename "$(readlink $d/driver)")"
done
for p in $s/class/virtio-ports/*; do echo "port ${p##*/} $(cat $p/name)"; done
for b in $s/block/*; do
        [ -e $b/queue/scheduler ] || continue
        echo "disk ${b##*/} $(cat $b/queue/rotational) $(cat $b/queue/scheduler)"
done
c=$s/devices/system/cpu/cpuidle
echo "cpuidle $(cat $c/current_driver) $(cat $c/current_governor 2>/dev/null || cat $c/current_governor_ro)"
h=$s/class/misc/hw_random
echo "rng $(cat $h/rng_current) $(cat $h/rng_quality 2>/dev/null || echo -) $(cat $h/rng_available)"
for t in $s/class/tpm/tpm*; do
        [ -e "$t" ] || continue
        n=${t##*/}
        log=no
        [ "$(wc -c <$s/kernel/security/$n/binary_bios_measurements 2>/dev/null)" -gt 0 ] 2>/dev/null && log=yes
        banks=$(ls -d $t/pcr-* 2>/dev/null | sed 's/.*pcr-//' | tr '\n' ' ')
        echo "tpm $n $(cat $t/tpm_version_major) $(basename "$(readlink $t/device/driver)") $log $banks"
done
echo "kernel $(uname -r) $(uname -m)"
echo "vcpus $(grep -c ^processor /proc/cpuinfo)"
echo "dmi $(cat $s/class/dmi/id/sys_vendor 2>/dev/null)"
echo "qga $(qemu-ga --version 2>/dev/null | sed -n '1s/.* \([0-9][0-9.]*\)$/\1/p')"
echo "@@facts"
cat /tmp/facts.json
EOF
out=$("$vtvm" run --arch "$vm_arch" $uefi --bin "$VIRTUNE" --script "$tmp/guest.sh" --timeout 300 2>"$tmp/err")
rc=$?
[ "$rc" = 77 ] && exit 77
if [ "$rc" != 0 ]; then
        echo "FAIL: vtvm run: exit $rc"
        cat "$tmp/err"
        exit 1
fi
printf '%s\n' "$out" | sed '1,/^@@facts$/d' >"$tmp/facts.json"
printf '%s\n' "$out" | sed '/^@@facts$/,$d' >"$tmp/sysfs"

# What differs between the guests: x86_64 (SeaBIOS, tpm-crb, qemu-ga beside, CPUID says TCG,
# cpuidle-haltpoll built in) and aarch64 (a virtio console carries the output: one more port,
# tpm-tis-device, no qemu-ga, no CPUID, no haltpoll driver; the device tree or UEFI's DMI).
if [ "$vm_arch" = x86_64 ]; then
        want_ports=3 want_tpm="1 2 tpm_crb yes" want_haltpoll="false no-kvm-para"
        want_hv="tcg cpuid"
else
        want_ports=4 want_tpm="1 2 tpm_tis no" want_haltpoll="false module-absent"
        want_hv="qemu devicetree"
        [ -n "$uefi" ] && want_hv="qemu dmi" want_tpm="1 2 tpm_tis yes"
fi

expect() { # description want got
        if [ "$2" = "$3" ]; then
                echo "ok: $1"
        else
                echo "FAIL: $1: detect says '$3', sysfs says '$2'"
                fail=1
        fi
}
q() { jq -r "$@" "$tmp/facts.json"; }

jq -e . "$tmp/facts.json" >/dev/null || {
        echo "FAIL: detect printed no JSON"
        cat "$tmp/facts.json"
        exit 1
}
expect "detect exits 0" "status 0" "$(grep '^status' "$tmp/sysfs")"
for m in virt virtio haltpoll pvspin iosched rng qga tpm memory; do
        expect "facts.$m has no errors" 0 "$(q ".$m.errors | length")"
done

n=0
while read -r _ name id driver; do
        n=$((n + 1))
        expect "virtio $name device id" "$id" "$(q --arg n "$name" '.virtio.devices[] | select(.name == $n) | .device_id')"
        expect "virtio $name driver" "$driver" "$(q --arg n "$name" '.virtio.devices[] | select(.name == $n) | .driver')"
done < <(grep '^virtio ' "$tmp/sysfs")
expect "virtio devices: console, rng, block" 3 "$n"
expect "every virtio device is listed" "$n" "$(q '.virtio.devices | length')"

n=0
while read -r _ dev name; do
        n=$((n + 1))
        expect "port $dev name" "$name" "$(q --arg d "$dev" '.virtio.ports[] | select(.device == $d) | .name // ""')"
done < <(grep '^port ' "$tmp/sysfs")
expect "the harness's ports" "$want_ports" "$n"
expect "every port is listed" "$n" "$(q '.virtio.ports | length')"

n=0
while read -r _ disk rot scheds; do
        n=$((n + 1))
        cur=$(echo "$scheds" | sed -n 's/.*\[\([^]]*\)\].*/\1/p')
        all=$(echo "$scheds" | tr -d '[]' | xargs)
        sel=".iosched.disks[] | select(.name == \"$disk\")"
        expect "disk $disk scheduler" "$cur" "$(q "$sel | .scheduler")"
        expect "disk $disk schedulers" "$all" "$(q "$sel | .schedulers | join(\" \")")"
        expect "disk $disk rotational" "$([ "$rot" = 1 ] && echo true || echo false)" "$(q "$sel | .rotational")"
done < <(grep '^disk ' "$tmp/sysfs")
expect "one disk, vda" 1 "$n"
expect "vda is virtio-blk" virtio-blk "$(q '.iosched.disks[] | select(.name == "vda") | .kind')"

read -r _ drv gov < <(grep '^cpuidle ' "$tmp/sysfs")
expect "cpuidle driver" "$drv" "$(q .haltpoll.driver)"
expect "cpuidle governor" "$gov" "$(q .haltpoll.governor)"
# x86 under TCG: no KVM para interface, haltpoll is built in but cannot be active. arm64:
# mainline's cpuidle-haltpoll is x86-only, Debian's arm64 kernel has none.
expect "haltpoll is not active" "$want_haltpoll" "$(q '"\(.haltpoll.haltpoll.active) \(.haltpoll.haltpoll.reason)"')"

read -r _ cur quality avail < <(grep '^rng ' "$tmp/sysfs")
expect "rng current" "$cur" "$(q .rng.current)"
expect "rng available" "$avail" "$(q '.rng.available | join(" ")')"
[ "$quality" != - ] && expect "rng quality" "$quality" "$(q .rng.quality)"

n=0
while read -r _ name major driver log banks; do
        n=$((n + 1))
        sel=".tpm.devices[] | select(.name == \"$name\")"
        expect "$name version" "$major" "$(q "$sel | .version_major")"
        expect "$name driver" "$driver" "$(q "$sel | .driver")"
        expect "$name event log" "$([ "$log" = yes ] && echo true || echo false)" "$(q "$sel | .eventlog")"
        expect "$name banks" "$(echo "$banks" | xargs)" "$(q "$sel | .banks | join(\" \")")"
done < <(grep '^tpm ' "$tmp/sysfs")
expect "one TPM 2.0 ($want_tpm)" "$want_tpm" \
        "$n $(grep '^tpm ' "$tmp/sysfs" | cut -d' ' -f3-5)"
expect "tpm present" true "$(q .tpm.present)"

read -r _ rel arch < <(grep '^kernel ' "$tmp/sysfs")
expect "kernel release" "$rel" "$(q .virt.kernel_release)"
expect "architecture" "$arch" "$(q .virt.arch)"
expect "vCPUs" "$(grep '^vcpus ' "$tmp/sysfs" | cut -d' ' -f2)" "$(q .virt.vcpus)"
expect "DMI vendor" "$(grep '^dmi ' "$tmp/sysfs" | cut -d' ' -f2-)" "$(q '.virt.dmi.sys_vendor // ""')"
expect "hypervisor and its source" "$want_hv" "$(q '"\(.virt.hypervisor) \(.virt.hypervisor_source)"')"
expect "qemu-ga version" "$(grep '^qga ' "$tmp/sysfs" | cut -d' ' -f2)" "$(q '.qga.version // ""')"
[ "$fail" = 0 ] || { echo "--- facts"; cat "$tmp/facts.json"; echo "--- sysfs"; cat "$tmp/sysfs"; }
exit $fail
