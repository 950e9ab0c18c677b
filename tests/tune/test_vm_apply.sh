#!/bin/bash
# In a QEMU guest (tests/vm/vtvm): `virtune apply` sets the virtio disk's scheduler and keeps the
# virtio-rng as rng_current, `verify` agrees afterwards, a second apply is a no-op, and `revert`
# puts the scheduler back. Then the memory concern on the guest's real kernel: swappiness and
# the THP mode change, and revert gives the kernel's values back. Suite vm; skips (77) only when
# qemu is missing.
set -u
vtvm=$VT_SOURCE/tests/vm/vtvm
command -v qemu-system-x86_64 >/dev/null || {
        echo "SKIP: qemu-system-x86_64 is not installed"
        exit 77
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/guest.sh" <<'EOF'
# Start from what virtune must change. (6.1 refuses "none" for rng_current, and virtio_rng.0 is
# the guest's only hw RNG, so the kernel has already picked it: apply must keep it.)
echo mq-deadline >/sys/block/vda/queue/scheduler
sched() { echo $(cat /sys/block/vda/queue/scheduler); }
echo "before vda=$(sched) rng=$(cat /sys/class/misc/hw_random/rng_current)"
virtune apply >/tmp/apply.txt 2>&1; echo "apply=$?"
echo "after vda=$(sched) rng=$(cat /sys/class/misc/hw_random/rng_current)"
echo "rule $(grep -c 'ATTR{queue/scheduler}="none"' /etc/udev/rules.d/60-virtune-iosched.rules)"
virtune verify >/tmp/verify.txt 2>&1; echo "verify=$?"
virtune apply --json | grep -q '"status": "no-op"' && echo "second apply no-op"
virtune revert >/tmp/revert.txt 2>&1; echo "revert=$?"
echo "reverted vda=$(sched) rule=$(test -e /etc/udev/rules.d/60-virtune-iosched.rules && echo present || echo gone)"
for f in apply verify revert; do sed "s/^/$f: /" /tmp/$f.txt; done
mem() { echo "swp=$(cat /proc/sys/vm/swappiness) thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled)"; }
m0=$(mem)
mkdir -p /etc/virtune
printf '[memory]\nswappiness = 10\nthp = never\n' >/etc/virtune/virtune.conf
virtune apply --only memory >/tmp/mem.txt 2>&1; echo "mem apply=$?"
echo "mem after $(mem) sysctl=$(cat /etc/sysctl.d/90-virtune-memory.conf | grep -c '^vm.swappiness = 10$')"
virtune revert >>/tmp/mem.txt 2>&1; echo "mem revert=$?"
[ "$(mem)" = "$m0" ] && echo "mem reverted to the kernel's values"
test -e /etc/sysctl.d/90-virtune-memory.conf || echo "mem sysctl file gone"
rm /etc/virtune/virtune.conf
sed "s/^/mem: /" /tmp/mem.txt
EOF
out=$("$vtvm" run --bin "$VIRTUNE" --script "$tmp/guest.sh" --timeout 120)
st=$?
echo "$out"
[ $st -eq 77 ] && exit 77
fail=0
want() { grep -qxF -- "$1" <<<"$out" && echo "ok: $1" || { echo "FAIL: want '$1'"; fail=1; }; }
want "before vda=[mq-deadline] none rng=virtio_rng.0"
want "apply=0"
want "after vda=[none] mq-deadline rng=virtio_rng.0"
want "rule 2" # virtio-blk and virtio-scsi lines
want "verify=0"
want "second apply no-op"
want "revert=0"
want "reverted vda=[mq-deadline] none rule=gone"
want "mem apply=0"
want "mem after swp=10 thp=always madvise [never] sysctl=1"
want "mem revert=0"
want "mem reverted to the kernel's values"
want "mem sysctl file gone"
exit $fail
