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
echo "$out" | grep -q 'reboot' && no "talks of a reboot with nothing pending: $out" || ok "no reboot when nothing is pending"

root=$work/bad
mkdir -p "$root/etc/virtune/virtune.conf.d"
printf '[bootloader]\nreboot = always\n' >"$root/etc/virtune/virtune.conf.d/50-image.conf"
sh "$helper" --root "$root" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$root/var/lib/virtune/firstboot.done" ] && ok "bad policy: exit 2, no stamp" ||
        no "bad policy: exit $rc"

sh "$helper" --frobnicate >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && ok "usage error: exit 2" || no "usage error: exit $rc"

# A command-line change (pvspin = no adds nopvspin) in a root with /etc/default/grub.
root=$work/grub
mkdir -p "$root/etc/virtune/virtune.conf.d" "$root/etc/default"
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
exit $fail
