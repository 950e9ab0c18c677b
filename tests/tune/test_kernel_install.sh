#!/bin/bash
# Kernels installed later get virtune's tokens on a BLS system: apply on a copy of a RHEL 9 BLS
# root (pvspin = no adds nopvspin, its kernel shows it knows it) keeps /etc/kernel/cmdline,
# GRUB_CMDLINE_LINUX and the entries in step and installs the kernel-install plugin; then
# systemd's own kernel-install (Debian 12: systemd 252, its 90-loaderentry.install) adds a kernel
# to that root and the new entry has the token, also when /etc/kernel/cmdline lacks it; revert
# takes the plugin and the ownership record back.
set -u
command -v kernel-install >/dev/null && [ -x /usr/lib/kernel/install.d/90-loaderentry.install ] || {
        echo "SKIP: systemd's kernel-install is not installed (packaging/deps/ship.txt: systemd)"
        exit 77
}
fail=0
ok() { echo "ok: $1"; }
bad() {
        echo "FAIL: $1"
        fail=1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
cp -a "$VT_FIXTURES/boot-rhel9-bls/root" "$root"
rel=5.14.0-362.8.1.el9_3.x86_64 mid=3f6a9c1e2b7d4e8f9a0b1c2d3e4f5a6b
mkdir -p "$root/proc/sys/kernel" "$root/lib/modules/$rel" "$root/etc/virtune/virtune.conf.d"
printf 'CONFIG_X86_64=y\nCONFIG_PARAVIRT_SPINLOCKS=y\n' >"$root/boot/config-$rel"
echo "$rel" >"$root/proc/sys/kernel/osrelease"
echo x86_64 >"$root/proc/sys/kernel/arch"
printf '[pvspin]\nenable = no\n' >"$root/etc/virtune/virtune.conf.d/50-test.conf"

"$VIRTUNE" apply --root "$root" >"$tmp/apply.out" 2>&1 || bad "apply: $(cat "$tmp/apply.out")"
plugin=$root/etc/kernel/install.d/95-virtune.install
[ -x "$plugin" ] && ok "apply installed the kernel-install plugin, executable" || bad "no executable $plugin"
grep -qx nopvspin "$root/var/lib/virtune/cmdline-owned" 2>/dev/null &&
        ok "the token is recorded as virtune's" || bad "cmdline-owned: $(cat "$root/var/lib/virtune/cmdline-owned" 2>&1)"
grep -qw nopvspin "$root/etc/kernel/cmdline" && ok "/etc/kernel/cmdline has the token" ||
        bad "/etc/kernel/cmdline: $(cat "$root/etc/kernel/cmdline")"
grep -q '^GRUB_CMDLINE_LINUX=.*nopvspin' "$root/etc/default/grub" && ok "GRUB_CMDLINE_LINUX has the token" ||
        bad "/etc/default/grub: $(grep CMDLINE "$root/etc/default/grub")"
grep -qw nopvspin "$root/boot/loader/entries/$mid-$rel.conf" && ok "the existing entry has the token" ||
        bad "entry: $(grep options "$root/boot/loader/entries/$mid-$rel.conf")"

# kernel-install as a package's scriptlet runs it, pointed at the root: its config, boot root
# and plugins there (90-loaderentry.install is systemd's own, 95-virtune.install the root's).
mkdir -p "$root/boot/$mid" # the BLS layout: an entry-token directory in the boot root
kinstall() { # VERSION
        printf 'not a kernel\n' >"$tmp/vmlinuz-$1"
        KERNEL_INSTALL_CONF_ROOT=$root/etc/kernel BOOT_ROOT=$root/boot MACHINE_ID=$mid \
                KERNEL_INSTALL_PLUGINS="/usr/lib/kernel/install.d/90-loaderentry.install $plugin" \
                VIRTUNE_CMDLINE_OWNED=$root/var/lib/virtune/cmdline-owned \
                kernel-install add "$1" "$tmp/vmlinuz-$1" >"$tmp/ki.out" 2>&1 ||
                bad "kernel-install add $1: $(cat "$tmp/ki.out")"
}
kinstall 5.14.0-400.el9.x86_64
entry=$root/boot/loader/entries/$mid-5.14.0-400.el9.x86_64.conf
[ -f "$entry" ] || bad "kernel-install wrote no $entry: $(cat "$tmp/ki.out")"
opts=$(sed -n 's/^options *//p' "$entry")
[ "$(echo "$opts" | tr ' ' '\n' | grep -cx nopvspin)" = 1 ] &&
        echo "$opts" | grep -q 'console=ttyS0,115200n8' &&
        ok "the new kernel's entry has the token once, beside /etc/kernel/cmdline's options" ||
        bad "new entry's options: $opts"
# A source out of step (no /etc/kernel/cmdline: kernel-install then has no options of its own):
# the plugin still puts the token on the entry.
mv "$root/etc/kernel/cmdline" "$tmp/cmdline.saved"
kinstall 5.14.0-401.el9.x86_64
opts=$(sed -n 's/^options *//p' "$root/boot/loader/entries/$mid-5.14.0-401.el9.x86_64.conf")
echo "$opts" | tr ' ' '\n' | grep -qx nopvspin && ok "without /etc/kernel/cmdline the plugin adds the token" ||
        bad "options without /etc/kernel/cmdline: $opts"
mv "$tmp/cmdline.saved" "$root/etc/kernel/cmdline"

"$VIRTUNE" revert --root "$root" >"$tmp/revert.out" 2>&1 || bad "revert: $(cat "$tmp/revert.out")"
[ ! -e "$plugin" ] && [ ! -e "$root/var/lib/virtune/cmdline-owned" ] &&
        ok "revert removed the plugin and the ownership record" || bad "after revert: $(ls "$root/etc/kernel/install.d" "$root/var/lib/virtune" 2>&1)"
grep -qw nopvspin "$root/etc/kernel/cmdline" "$root/etc/default/grub" && bad "revert left nopvspin" ||
        ok "revert took the token out of /etc/kernel/cmdline and GRUB_CMDLINE_LINUX"
exit $fail
