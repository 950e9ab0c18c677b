#!/bin/sh
# virtune-firstboot (the helper of virtune-firstboot.service) on temp roots: it applies, writes
# the stamp, stops on a bad policy without a stamp, and decides on a reboot only when the
# policy says if-needed and a command-line change is pending (never rebooting a --root).
set -u
helper=$VT_BUILD/units/virtune-firstboot
fail=0
ok() { echo "ok: $1"; }
no() { echo "FAIL: $1"; fail=1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VIRTUNE

root=$work/plain
mkdir -p "$root/etc/virtune/virtune.conf.d"
printf '[bootloader]\nreboot = if-needed\n' >"$root/etc/virtune/virtune.conf.d/50-image.conf"
out=$(sh "$helper" --root "$root" 2>&1); rc=$?
[ "$rc" -eq 0 ] && ok "applies on a root: exit 0" || no "exit $rc: $out"
[ -e "$root/var/lib/virtune/firstboot.done" ] && ok "stamp written" || no "no stamp"
[ -s "$root/var/lib/virtune/journal.json" ] && ok "apply journal written" || no "no journal"
echo "$out" | grep -q 'would reboot\|rebooting' && no "talks of a reboot with nothing pending: $out" || ok "no reboot when nothing is pending"

root=$work/bad
mkdir -p "$root/etc/virtune/virtune.conf.d"
printf '[bootloader]\nreboot = always\n' >"$root/etc/virtune/virtune.conf.d/50-image.conf"
sh "$helper" --root "$root" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$root/var/lib/virtune/firstboot.done" ] && ok "bad policy: exit 2, no stamp" ||
        no "bad policy: exit $rc"

sh "$helper" --frobnicate >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && ok "usage error: exit 2" || no "usage error: exit $rc"

# An image's kernel that shows it knows nopvspin (x86, 6.1, PV spinlocks built in): virtune
# adds a token only with that evidence.
add_kernel() {
        mkdir -p "$1/boot" "$1/proc/sys/kernel" "$1/lib/modules/6.1.0-57-cloud-amd64"
        printf 'CONFIG_X86_64=y\nCONFIG_PARAVIRT_SPINLOCKS=y\n' >"$1/boot/config-6.1.0-57-cloud-amd64"
        : >"$1/boot/vmlinuz-6.1.0-57-cloud-amd64"
        echo 6.1.0-57-cloud-amd64 >"$1/proc/sys/kernel/osrelease"
        echo x86_64 >"$1/proc/sys/kernel/arch"
}

# A command-line change (pvspin = no adds nopvspin) in a root with /etc/default/grub.
root=$work/grub
mkdir -p "$root/etc/virtune/virtune.conf.d" "$root/etc/default"
add_kernel "$root"
printf 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n' >"$root/etc/default/grub"
printf '[pvspin]\nenable = no\n\n[bootloader]\nreboot = if-needed\n' >"$root/etc/virtune/virtune.conf.d/50-image.conf"
out=$(sh "$helper" --root "$root" 2>&1); rc=$?
if echo "$out" | grep -q 'would reboot'; then
        ok "if-needed with a pending command-line change: would reboot"
elif echo "$out" | grep -q 'bootloader support not available'; then
        echo "SKIP (part): the reboot decision needs the bootloader backend, not in this build yet"
else
        no "pending command-line change: exit $rc: $out"
fi
sed -i 's/if-needed/never/' "$root/etc/virtune/virtune.conf.d/50-image.conf"
rm -f "$root/var/lib/virtune/firstboot.done"
out=$(sh "$helper" --root "$root" 2>&1)
echo "$out" | grep -q 'would reboot' && no "reboot = never, yet: $out" || ok "reboot = never: no reboot"
# The whole path on a copy of a captured Debian 12 cloud image's boot tree, the reboot command
# injected: reboot_needed in the JSON, one reboot, none once the kernel runs the new command line.
root=$work/debian12
cp -a "$VT_FIXTURES/boot-debian12-cloud/root" "$root"
add_kernel "$root"
mkdir -p "$root/etc/virtune/virtune.conf.d"
printf '[pvspin]\nenable = no\n\n[bootloader]\nreboot = if-needed\n' >"$root/etc/virtune/virtune.conf.d/50-image.conf"
printf '#!/bin/sh\necho "$*" >>%s/reboots\n' "$work" >"$work/fake-reboot"
chmod +x "$work/fake-reboot"
applied=$("$VIRTUNE" apply --json --root "$root" 2>&1)
printf '%s\n' "$applied" | grep -q '"reboot_needed": true' && ok "apply --json: reboot_needed true" ||
        no "apply --json lacks reboot_needed true: $applied"
rm -f "$root/var/lib/virtune/firstboot.done"
# One program and nothing else: virtune apply once (its result has the policy's reboot and
# reboot_needed), no mkdir/touch/awk, no second virtune (status): PATH leads nowhere, so any
# other exec fails. Under TCG each cost the first boot a second or more.
printf '#!/bin/sh\necho "$*" >>%s/virtune-runs\nexec %s "$@"\n' "$work" "$VIRTUNE" >"$work/virtune-count"
chmod +x "$work/virtune-count"
out=$(PATH=/nonexistent VIRTUNE=$work/virtune-count VIRTUNE_REBOOT=$work/fake-reboot /bin/sh "$helper" --root "$root" 2>&1); rc=$?
[ "$rc" -eq 0 ] && [ "$(cat "$work/reboots" 2>/dev/null)" = "" ] && [ -e "$work/reboots" ] &&
        ok "debian12 fixture: rebooted once through the injected command" ||
        no "debian12 fixture: exit $rc, reboots '$(cat "$work/reboots" 2>/dev/null)': $out"
[ "$(cat "$work/virtune-runs" 2>/dev/null)" = "apply --first-boot --root $root" ] &&
        ok "one program run: virtune apply --first-boot, no other exec" ||
        no "programs run: '$(cat "$work/virtune-runs" 2>/dev/null)' (one apply expected): $out"
[ -e "$root/var/lib/virtune/firstboot.done" ] && ok "stamp written without PATH" || no "no stamp without PATH"
grep -q 'nopvspin' "$root/etc/default/grub" "$root"/etc/default/grub.d/* 2>/dev/null &&
        ok "nopvspin written to the boot config" || no "nopvspin not in the boot config"
# After that reboot the running kernel has the token: no second reboot.
sed -i 's/$/ nopvspin/' "$root/proc/cmdline"
rm -f "$work/reboots" "$root/var/lib/virtune/firstboot.done"
status=$("$VIRTUNE" status --json --root "$root" 2>&1)
printf '%s\n' "$status" | grep -q '"reboot_needed": false' && ok "status after the reboot: reboot_needed false" ||
        no "status after the reboot: $status"
out=$(VIRTUNE_REBOOT=$work/fake-reboot sh "$helper" --root "$root" 2>&1); rc=$?
[ "$rc" -eq 0 ] && [ ! -e "$work/reboots" ] && ok "booted with the new command line: no reboot" ||
        no "booted with the new command line: exit $rc, reboots: $out"
# The unit runs virtune itself: no shell before the apply at the first boot.
grep -qx 'ExecStart=.*/virtune apply --first-boot' "$VT_BUILD/units/virtune-firstboot.service" &&
        ok "the unit execs virtune apply --first-boot directly" ||
        no "the unit's ExecStart: $(grep ExecStart= "$VT_BUILD/units/virtune-firstboot.service")"
# Without the helper: the same stamp and the same reboot decision from virtune alone.
root=$work/direct
cp -a "$VT_FIXTURES/boot-debian12-cloud/root" "$root"
add_kernel "$root"
mkdir -p "$root/etc/virtune/virtune.conf.d"
printf '[pvspin]\nenable = no\n\n[bootloader]\nreboot = if-needed\n' >"$root/etc/virtune/virtune.conf.d/50-image.conf"
out=$("$VIRTUNE" apply --first-boot --root "$root" 2>&1); rc=$?
[ "$rc" -eq 0 ] && [ -e "$root/var/lib/virtune/firstboot.done" ] &&
        echo "$out" | grep -q 'would reboot' && ok "apply --first-boot: stamp and reboot decision" ||
        no "apply --first-boot: exit $rc: $out"
exit $fail
