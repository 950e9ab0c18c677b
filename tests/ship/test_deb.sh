#!/bin/sh
# suite slow: packaging/debian builds a .deb with dpkg-buildpackage in a copy of the tree; the
# package holds every file in its place, the config as a conffile, and enables virtuned.
set -u
for tool in dpkg-buildpackage dh fakeroot; do
        command -v $tool >/dev/null || { echo "SKIP: $tool missing (see packaging/deps/ship.txt)"; exit 77; }
done
fail=0
ok() { echo "ok: $1"; }
no() { echo "FAIL: $1"; fail=1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$(dirname "$0")/copy-source.sh" "$VT_SOURCE" "$work/virtune"
cp -r "$VT_SOURCE/packaging/debian" "$work/virtune/debian"
# parallel=2: this machine's cores. nocheck: the suites run on their own in CI; here the
# recipe is under test (a real package build keeps its check step).
if (cd "$work/virtune" && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
        ok "dpkg-buildpackage -us -uc -b"
else
        tail -n 60 "$work/build.log"
        no "dpkg-buildpackage"
        exit 1
fi
deb=$(ls "$work"/virtune_*.deb)
echo "built $(basename "$deb"), $(stat -c %s "$deb") bytes"
mkdir -p "$VT_BUILD/ship-cache" && cp "$deb" "$VT_BUILD/ship-cache/"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/files"
for f in /usr/sbin/virtune /usr/sbin/virtuned /usr/bin/virtune-host \
        /lib/systemd/system/virtuned.service /lib/systemd/system/virtune-firstboot.service \
        /lib/udev/rules.d/60-virtune.rules /usr/lib/tmpfiles.d/virtune.conf \
        /usr/lib/sysusers.d/virtune.conf /etc/virtune/virtune.conf /etc/virtune/virtune.conf.d/ \
        /usr/share/man/man8/virtune.8.gz /usr/share/virtune/cloud-init/virtune.cfg \
        /usr/share/virtune/cloud-init/per-instance-virtune; do
        grep -qx "$f" "$work/files" && ok "package has $f" || no "package lacks $f"
done
# Each unit's ExecStart is a file of the package.
for u in virtuned.service virtune-firstboot.service; do
        exe=$(sed -n 's/^ExecStart=//p' "$work/virtune/debian/virtune/lib/systemd/system/$u")
        grep -qx "$exe" "$work/files" && ok "$u runs $exe, in the package" || no "$u: ExecStart=$exe not packaged"
done
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/virtune/virtune.conf "$work/control/conffiles" && ok "conffile /etc/virtune/virtune.conf" ||
        no "conffiles: $(cat "$work/control/conffiles" 2>/dev/null)"
grep -q "deb-systemd-helper enable 'virtuned.service'\|deb-systemd-helper.*enable.*virtuned.service" "$work/control/postinst" &&
        ok "postinst enables virtuned.service" || no "postinst does not enable virtuned.service"
grep -q "virtune-firstboot.service" "$work/control/postinst" && ok "postinst enables virtune-firstboot.service" ||
        no "postinst and virtune-firstboot.service"
if grep -q "start.*virtune-firstboot" "$work/control/postinst"; then no "postinst starts virtune-firstboot"; else ok "postinst never starts virtune-firstboot"; fi
grep -q "systemd-sysusers.*virtune.conf" "$work/control/postinst" && ok "postinst creates the tss group" || no "postinst tss group"
dpkg-deb -f "$deb" Depends | tee "$work/depends" | grep -q libjson-c && ok "Depends: $(cat "$work/depends")" || no "shlibs Depends"
exit $fail
