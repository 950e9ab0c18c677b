#!/bin/sh
# suite slow: the golden-image flow of doc/golden-images.md on a real debootstrap tree
# (bookworm minbase, cached in the build dir): detect and apply work on the unbooted image
# through --root, the units enable offline, and nothing is written outside the image.
set -u
command -v debootstrap >/dev/null || { echo "SKIP: debootstrap missing (Debian package debootstrap)"; exit 77; }
command -v systemctl >/dev/null || { echo "SKIP: systemctl missing (Debian package systemd)"; exit 77; }
fail=0
ok() { echo "ok: $1"; }
no() { echo "FAIL: $1"; fail=1; }
cache=$VT_BUILD/ship-cache/bookworm-minbase
if [ ! -d "$cache" ]; then
        mkdir -p "$VT_BUILD/ship-cache"
        rm -rf "$cache.tmp"
        echo "debootstrap --variant=minbase bookworm (once; cached in $cache)"
        debootstrap --variant=minbase bookworm "$cache.tmp" http://deb.debian.org/debian \
                >"$VT_BUILD/ship-cache/debootstrap.log" 2>&1 ||
                { tail -n 20 "$VT_BUILD/ship-cache/debootstrap.log"; echo "FAIL: debootstrap"; exit 1; }
        mv "$cache.tmp" "$cache"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
img=$work/image
cp -a "$cache" "$img"

# The image: a kernel (its config and modules.builtin, as linux-image-cloud-amd64 installs them)
# and grub-pc's files (/etc/default/grub, grub.d, a generated grub.cfg; the Debian 12 cloud
# fixture's), then a policy drop-in, as an image build would add one.
K=6.1.0-13-cloud-amd64
boot=$VT_SOURCE/tests/fixtures/boot-debian12-cloud/root
mkdir -p "$img/boot/grub" "$img/lib/modules/$K" "$img/etc/default/grub.d" "$img/usr/sbin"
: >"$img/boot/vmlinuz-$K"
printf 'CONFIG_HALTPOLL_CPUIDLE=y\nCONFIG_PARAVIRT_SPINLOCKS=y\n' >"$img/boot/config-$K"
printf 'kernel/drivers/cpuidle/cpuidle-haltpoll.ko\n' >"$img/lib/modules/$K/modules.builtin"
cp "$boot/etc/default/grub" "$img/etc/default/grub"
cp "$boot/etc/default/grub.d/10_cloud.cfg" "$img/etc/default/grub.d/"
cp "$boot/boot/grub/grub.cfg" "$img/boot/grub/grub.cfg"
printf '#!/bin/sh\nexec grub-mkconfig -o /boot/grub/grub.cfg "$@"\n' >"$img/usr/sbin/update-grub"
chmod 755 "$img/usr/sbin/update-grub"
mkdir -p "$img/etc/virtune/virtune.conf.d"
printf '[haltpoll]\nenable = yes\n\n[bootloader]\nreboot = if-needed\n' \
        >"$img/etc/virtune/virtune.conf.d/50-image.conf"

"$VIRTUNE" detect --root "$img" --json >"$work/facts.json"
rc=$?
[ "$rc" -eq 0 ] && ok "virtune detect --root image" || no "virtune detect --root image: exit $rc"
python3 - "$work/facts.json" "$img" <<'PY' && ok "facts say: offline image, no sysfs" || no "facts of the image"
import json, sys
f = json.load(open(sys.argv[1]))
assert f['virtune']['root'] == sys.argv[2], f['virtune']
assert f['virtune']['live'] is False
assert f['virt']['sysfs'] is False
assert f['virt']['kernel_release'] == '6.1.0-13-cloud-amd64', f['virt']
assert f['virt']['kernel_release_source'] == 'boot-entry', f['virt']
assert f['cpuidle']['haltpoll']['driver'] == 'builtin', f['cpuidle']
PY

# The units enable offline, into the image (systemctl --root; nothing runs).
units=$img/usr/lib/systemd/system
mkdir -p "$units"
cp "$VT_BUILD/units/virtuned.service" "$VT_BUILD/units/virtune-firstboot.service" "$units/"
systemctl --root="$img" enable virtuned.service virtune-firstboot.service >/dev/null 2>&1
for u in virtuned.service virtune-firstboot.service; do
        [ -L "$img/etc/systemd/system/multi-user.target.wants/$u" ] && ok "$u enabled in the image" ||
                no "$u not enabled in the image"
done

# apply on the unbooted image: persistent settings only, recorded in the image's journal.
"$VIRTUNE" apply --root "$img" >"$work/apply.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'not available' "$work/apply.out"; then
        echo "SKIP (part): virtune apply is not available in this build yet: $(cat "$work/apply.out")"
else
        [ "$rc" -eq 0 ] && ok "virtune apply --root image" || { cat "$work/apply.out"; no "virtune apply --root image: exit $rc"; }
        [ -s "$img/var/lib/virtune/journal.json" ] && ok "journal written inside the image" ||
                no "no journal in the image"
        # The boot configuration: the drop-in update-grub reads.
        grep -q '^GRUB_CMDLINE_LINUX_DEFAULT=".*cpuidle_haltpoll.force=Y"$' \
                "$img/etc/default/grub.d/90-virtune.cfg" 2>/dev/null &&
                ok "apply --root writes cpuidle_haltpoll.force=Y into the grub.d drop-in" ||
                no "no cpuidle_haltpoll.force=Y in the image's grub.d drop-in"
        # The image has no sysfs: the other persistent change is the iosched udev rule for
        # virtio disks (policy default virtio = none).
        rule=$img/etc/udev/rules.d/60-virtune-iosched.rules
        grep -q 'ATTR{queue/scheduler}="none"' "$rule" 2>/dev/null && ok "iosched udev rule baked into the image" ||
                no "no iosched rule in the image"
        "$VIRTUNE" verify --root "$img" >"$work/verify.out" 2>&1
        rc=$?
        [ "$rc" -eq 0 ] && ok "virtune verify --root image: no drift" || { cat "$work/verify.out"; no "verify: exit $rc"; }
        "$VIRTUNE" revert --root "$img" >"$work/revert.out" 2>&1
        rc=$?
        [ "$rc" -eq 0 ] && [ ! -e "$img/etc/udev" ] && ok "virtune revert --root image removes the rule and its directories" ||
                { cat "$work/revert.out"; no "revert: exit $rc"; }
        [ ! -e "$img/etc/default/grub.d/90-virtune.cfg" ] && cmp -s "$boot/boot/grub/grub.cfg" "$img/boot/grub/grub.cfg" &&
                ok "revert --root puts the boot configuration back" || no "revert left the boot configuration changed"
fi
# The image is a copy: the cache must not have changed, and neither must this machine.
[ ! -e "$cache/var/lib/virtune" ] && ok "the cached tree is untouched" || no "the cache was written"
exit $fail
