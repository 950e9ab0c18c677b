#!/bin/sh
# suite slow: packaging/virtune.spec builds binary RPMs with rpmbuild -bb (Debian's rpm, with
# tests/ship/rpm-macros standing in for Fedora's meson and systemd macros; BuildRequires are
# not checked: --nodeps); every installed file is packaged and the config is noreplace; the
# split: virtune (guests, its units, the tss group from the sysusers file) and virtune-host
# (the client and its man page, no scriptlet).
set -u
command -v rpmbuild >/dev/null || { echo "SKIP: rpmbuild missing (Debian package rpm)"; exit 77; }
fail=0
ok() { echo "ok: $1"; }
no() { echo "FAIL: $1"; fail=1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^Version: *//p' "$VT_SOURCE/packaging/virtune.spec")
mkdir -p "$work/rpm/SOURCES" "$work/tmp"
"$(dirname "$0")/copy-source.sh" "$VT_SOURCE" "$work/virtune-$version"
tar -C "$work" -cJf "$work/rpm/SOURCES/virtune-$version.tar.xz" "virtune-$version"
cp "$VT_SOURCE/units/virtune.sysusers" "$work/rpm/SOURCES/"
rpmspec -P --load "$(dirname "$0")/rpm-macros" "$VT_SOURCE/packaging/virtune.spec" >/dev/null &&
        ok "rpmspec -P" || no "rpmspec -P"
# --nocheck: the suites run on their own in CI; here the recipe is under test.
if rpmbuild -bb --nocheck --nodeps --load "$(dirname "$0")/rpm-macros" --define "_topdir $work/rpm" --define "_tmppath $work/tmp" \
        "$VT_SOURCE/packaging/virtune.spec" >"$work/build.log" 2>&1; then
        ok "rpmbuild -bb"
else
        tail -n 60 "$work/build.log"
        no "rpmbuild -bb"
        exit 1
fi
rpm=$(ls "$work"/rpm/RPMS/*/virtune-"$version"-*.rpm)
hostrpm=$(ls "$work"/rpm/RPMS/*/virtune-host-"$version"-*.rpm)
echo "built $(basename "$rpm"), $(stat -c %s "$rpm") bytes; $(basename "$hostrpm")"
rpm -qlp "$rpm" >"$work/files"
rpm -qlp "$hostrpm" >"$work/hostfiles"
grep -qx /usr/bin/virtune-host "$work/hostfiles" && ! grep -qx /usr/bin/virtune-host "$work/files" &&
        ok "virtune-host (not virtune) has /usr/bin/virtune-host" || no "virtune-host split"
grep -q '^/usr/share/man/man1/virtune-host.1' "$work/hostfiles" && ok "virtune-host has its man page" || no "virtune-host man page"
if grep -E 'systemd|udev|^/etc' "$work/hostfiles"; then no "virtune-host has units, rules or configuration"; else ok "virtune-host has nothing that starts"; fi
[ -z "$(rpm -qp --scripts "$hostrpm")" ] && ok "virtune-host has no scriptlet" || no "virtune-host scriptlets"
rpm -qp --scripts "$rpm" | grep -q 'g tss - -' && ok "%pre creates the tss group from the sysusers file" || no "%pre sysusers"
rpm -qp --scripts "$rpm" | grep -q 'virtune revert' && ok "%preun reverts on erase" || no "%preun revert"
grep -q '%{_udevrulesdir}/60-virtune.rules' "$VT_SOURCE/packaging/virtune.spec" && ok "the spec uses %{_udevrulesdir}" || no "%{_udevrulesdir}"
for f in /usr/sbin/virtune /usr/sbin/virtuned \
        /usr/lib/systemd/system/virtuned.service /usr/lib/systemd/system/virtune-firstboot.service \
        /usr/lib/systemd/system/virtune-apply.socket "/usr/lib/systemd/system/virtune-apply@.service" \
        /usr/lib/udev/rules.d/60-virtune.rules /usr/lib/tmpfiles.d/virtune.conf \
        /usr/lib/sysusers.d/virtune.conf /etc/virtune/virtune.conf /etc/virtune/virtune.conf.d \
        /usr/share/virtune/cloud-init/virtune.cfg /var/lib/virtune; do
        grep -qx "$f" "$work/files" && ok "rpm has $f" || no "rpm lacks $f"
done
grep -q '^/usr/share/man/man8/virtune.8' "$work/files" && ok "rpm has virtune.8" || no "rpm lacks virtune.8"
rpm -qp --configfiles "$rpm" | grep -qx /etc/virtune/virtune.conf && ok "config file" || no "config file"
rpm -qp --scripts "$rpm" | grep -q 'systemd_post virtuned.service virtune-firstboot.service' &&
        ok "%post runs systemd_post for both units" || no "%post scriptlet"
exit $fail
