#!/bin/bash
# suite image, flow 2 of issue 11: the first boot through cloud-init. A NoCloud seed whose
# user-data is the shipped units/cloud-init/virtune.cfg (haltpoll forced on and reboot =
# if-needed, so a boot token changes under TCG); virtune-firstboot applies after cloud-init
# wrote the drop-in and before cloud-final, reboots once, the next boot verifies with exit 0 and
# does not apply or reboot again.
set -u
# shellcheck source=tests/image/lib.sh
# shellcheck source=tests/image/lib.sh
. "$(dirname "$0")/lib.sh"

img_new
img_mount
rm -f "$mnt/etc/cloud/cloud-init.disabled"
seed=$mnt/var/lib/cloud/seed/nocloud
mkdir -p "$seed"
printf 'instance-id: vtimage-firstboot-1\nlocal-hostname: vtimage\n' >"$seed/meta-data"
sed -e 's/enable = auto/enable = yes/' -e 's/reboot = never/reboot = if-needed/' \
        "$mnt/usr/share/virtune/cloud-init/virtune.cfg" >"$seed/user-data"
grep -q 'reboot = if-needed' "$seed/user-data" || bad "flow 2: could not set reboot = if-needed in virtune.cfg"
img_umount

vm_boot
# Boot 1 reboots from virtune-firstboot, before cloud-final: the control shell may have come up
# before that (it starts early), so wait for boot 2's.
if "$vtimage" wait "$D" 2; then
        ok "flow 2: the first boot rebooted (a boot token changed, reboot = if-needed)"
else
        bad "flow 2: the first boot did not reboot"
fi
g 'systemctl is-system-running --wait' >/dev/null
cmdline=$(g 'cat /proc/cmdline')
echo "second boot /proc/cmdline: $cmdline"
case " $cmdline " in
*" cpuidle_haltpoll.force=Y "*) ok "flow 2: the second boot runs with cpuidle_haltpoll.force=Y" ;;
*) bad "flow 2: the second boot's /proc/cmdline lacks the token" ;;
esac
g 'virtune verify' >"$tmp/verify.out" 2>&1
rc=$?
[ "$rc" = 0 ] && ok "flow 2: virtune verify on the second boot: exit 0" || { cat "$tmp/verify.out"; bad "flow 2: virtune verify: exit $rc"; }
grep -q 'reboot_needed: yes' "$tmp/verify.out" && bad "flow 2: verify says reboot_needed: yes after the reboot"
# Order on the first boot, from the files each step left: cloud-init's drop-in, then the
# first-boot stamp, then cloud-final's boot-finished (written on the second boot: the first one
# rebooted before cloud-final).
t=$(g 'stat -c %Y /etc/virtune/virtune.conf.d/50-cloud-init.conf /var/lib/virtune/firstboot.done /var/lib/cloud/instance/boot-finished 2>&1')
echo "mtimes (drop-in, stamp, boot-finished): $(echo $t)"
read -r a b c <<<"$(echo $t)"
[ -n "${c:-}" ] && [ "$a" -le "$b" ] && [ "$b" -le "$c" ] &&
        ok "flow 2: cloud-init's drop-in, then virtune-firstboot, then cloud-final" || bad "flow 2: order: $t"
g 'systemctl show -p ConditionResult,ActiveState virtune-firstboot.service' >"$tmp/fb"
grep -q 'ConditionResult=no' "$tmp/fb" && ok "flow 2: the second boot skips virtune-firstboot (stamp)" ||
        bad "flow 2: virtune-firstboot on the second boot: $(tr '\n' ' ' <"$tmp/fb")"
# The second boot is a no-op: the apply in cloud-final's runcmd changes nothing, no third boot.
g 'virtune status' >"$tmp/status" 2>&1
sleep 5
n=$(tr -d '\r' <"$D/marks" | grep -c '^vt-ctl: ready')
[ "$n" = 2 ] && ok "flow 2: no further reboot" || bad "flow 2: $n boots"
g 'virtune apply' >"$tmp/apply.out" 2>&1
grep -q 'status: no-op' "$tmp/apply.out" && ok "flow 2: a later apply is a no-op" || { cat "$tmp/apply.out"; bad "flow 2: a later apply changed something"; }
# The harness: the reboot above was a power cycle (QEMU -no-reboot, started again by vtimage);
# a power-off must end the VM, not start it again.
g '(sleep 1; systemctl poweroff) >/dev/null 2>&1 </dev/null &'
if "$vtimage" wait "$D" 3 2>/dev/null; then
        bad "harness: the guest came back after a power-off"
elif tail -n1 "$D/power.log" | grep -q 'last word: poweroff$' &&
        ! kill -0 "$(cat "$D/run.pid")" 2>/dev/null; then
        ok "harness: a power-off ends the VM"
else
        bad "harness: after a power-off: $(tail -n1 "$D/power.log")"
fi
exit $fail
