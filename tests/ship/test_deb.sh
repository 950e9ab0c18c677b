#!/bin/sh
# suite slow: packaging/debian builds the source package and the .debs with dpkg-buildpackage in
# a copy of the tree: virtune (guests) holds every file in its place, the config as a conffile,
# enables its units (which start only in a VM) and reverts on removal; virtune-host (hypervisors)
# holds the client and its man page and nothing that starts; lintian reports no error.
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
hostdeb=$(ls "$work"/virtune-host_*.deb)
echo "built $(basename "$deb"), $(stat -c %s "$deb") bytes; $(basename "$hostdeb"), $(stat -c %s "$hostdeb") bytes"
mkdir -p "$VT_BUILD/ship-cache" && cp "$deb" "$hostdeb" "$VT_BUILD/ship-cache/"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/files"
dpkg-deb -c "$hostdeb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/hostfiles"
for f in /usr/bin/virtune-host /usr/share/man/man1/virtune-host.1.gz; do
        grep -qx "$f" "$work/hostfiles" && ok "virtune-host has $f" || no "virtune-host lacks $f"
        grep -qx "$f" "$work/files" && no "virtune (the guest package) has $f" || ok "virtune has no $f"
done
if grep -E '^/(lib|usr/lib|etc)/(systemd|udev)|^/etc/' "$work/hostfiles"; then no "virtune-host has units, rules or configuration (above)"; else ok "virtune-host has nothing that starts"; fi
dpkg-deb -e "$hostdeb" "$work/hostcontrol"
s=$(find "$work/hostcontrol" -mindepth 1 -maxdepth 1 -regextype egrep -regex '.*/(pre|post)(inst|rm)' -printf '%f\n')
[ -z "$s" ] && ok "virtune-host has no maintainer script" || no "virtune-host maintainer scripts: $s"
dpkg-deb -f "$hostdeb" Depends | grep -qv 'libkmod\|libtss2-esys' && ok "virtune-host does not depend on the guest engine's libraries" ||
        no "virtune-host Depends: $(dpkg-deb -f "$hostdeb" Depends)"
for f in /usr/sbin/virtune /usr/sbin/virtuned \
        /lib/systemd/system/virtuned.service /lib/systemd/system/virtune-firstboot.service \
        /lib/systemd/system/virtune-apply.socket "/lib/systemd/system/virtune-apply@.service" \
        /lib/udev/rules.d/60-virtune.rules /usr/lib/tmpfiles.d/virtune.conf \
        /usr/lib/sysusers.d/virtune.conf /etc/virtune/virtune.conf /etc/virtune/virtune.conf.d/ \
        /usr/share/man/man8/virtune.8.gz /usr/share/virtune/cloud-init/virtune.cfg \
        /usr/share/virtune/cloud-init/per-instance-virtune; do
        grep -qx "$f" "$work/files" && ok "package has $f" || no "package lacks $f"
done
# Each unit's ExecStart is a file of the package.
grep -qx 'ConditionVirtualization=vm' "$work/virtune/debian/virtune/lib/systemd/system/virtune-apply.socket" &&
        ok "virtune-apply.socket: ConditionVirtualization=vm" || no "virtune-apply.socket listens outside a VM"
for u in virtuned.service virtune-firstboot.service; do
        grep -qx 'ConditionVirtualization=vm' "$work/virtune/debian/virtune/lib/systemd/system/$u" &&
                ok "$u: ConditionVirtualization=vm" || no "$u starts outside a VM (no ConditionVirtualization=vm)"
        # the program is the line's first word (virtune-firstboot: `virtune apply --first-boot`)
        exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$work/virtune/debian/virtune/lib/systemd/system/$u")
        grep -qx "$exe" "$work/files" && ok "$u runs $exe, in the package" || no "$u: ExecStart=$exe not packaged"
done
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/virtune/virtune.conf "$work/control/conffiles" && ok "conffile /etc/virtune/virtune.conf" ||
        no "conffiles: $(cat "$work/control/conffiles" 2>/dev/null)"
grep -q "deb-systemd-helper enable 'virtuned.service'\|deb-systemd-helper.*enable.*virtuned.service" "$work/control/postinst" &&
        ok "postinst enables virtuned.service" || no "postinst does not enable virtuned.service"
grep -q "virtune-firstboot.service" "$work/control/postinst" && ok "postinst enables virtune-firstboot.service" ||
        no "postinst and virtune-firstboot.service"
grep -q "virtune-apply.socket" "$work/control/postinst" && ok "postinst enables virtune-apply.socket" ||
        no "postinst and virtune-apply.socket"
if grep -q "start.*virtune-firstboot" "$work/control/postinst"; then no "postinst starts virtune-firstboot"; else ok "postinst never starts virtune-firstboot"; fi
grep -q "systemd-sysusers.*virtune.conf" "$work/control/postinst" && ok "postinst creates the tss group" || no "postinst tss group"
grep -q 'virtune revert' "$work/control/prerm" && grep -q '"remove"' "$work/control/prerm" &&
        ok "prerm reverts on removal" || no "prerm does not revert on removal"
grep -q 'purge' "$work/control/postrm" && grep -q 'rm -rf /var/lib/virtune' "$work/control/postrm" &&
        ok "postrm purge removes the state" || no "postrm purge"
dpkg-deb -f "$deb" Depends | tee "$work/depends" | grep -q libjson-c && ok "Depends: $(cat "$work/depends")" || no "shlibs Depends"

# The source package: 3.0 (quilt) with the upstream tarball made from the same tree.
version=$(dpkg-parsechangelog -l "$VT_SOURCE/packaging/debian/changelog" -S Version)
upstream=${version%-*}
(cd "$work" && mkdir src && "$VT_SOURCE/tests/ship/copy-source.sh" "$VT_SOURCE" "src/virtune-$upstream" &&
        tar -C src -cJf "src/virtune_$upstream.orig.tar.xz" "virtune-$upstream" &&
        cp -r "$VT_SOURCE/packaging/debian" "src/virtune-$upstream/debian" &&
        cd src && dpkg-source -b "virtune-$upstream") >"$work/source.log" 2>&1 &&
        ok "dpkg-source -b: $(cd "$work/src" && ls ./*.dsc)" || { tail -n 20 "$work/source.log"; no "the source package does not build"; }

if command -v lintian >/dev/null; then
        set -- "$work"/src/*.dsc # the source package too, when there is one
        [ -e "$1" ] || set --
        lintian --tag-display-limit 0 "$deb" "$hostdeb" "$@" >"$work/lintian.out" 2>&1
        if grep '^E:' "$work/lintian.out"; then no "lintian errors (above)"; else ok "lintian: no error ($(grep -c '^W:' "$work/lintian.out") warnings)"; fi
else
        echo "SKIP (part): lintian is not installed (packaging/deps/ship.txt)"
fi
exit $fail
