#!/bin/sh
# The boot configuration of an image and of its first boot, on copies of the Debian 12 cloud
# fixture with a kernel: the image's kernel found under --root, the drop-in and grub.cfg written
# by the bake, a command line left for first boot generated then, and revert undoing it all.
set -u
fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/virtune-image-boot.XXXXXX")
trap 'rm -rf "$T"' EXIT
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
K=6.1.0-13-cloud-amd64
# image DIR: the fixture as an unbooted image (no /proc) with its kernel's config and modules.
image() {
        cp -a "$VT_FIXTURES/boot-debian12-cloud/root" "$1"
        rm -rf "$1/proc"
        : >"$1/boot/vmlinuz-$K"
        printf 'CONFIG_HALTPOLL_CPUIDLE=y\nCONFIG_PARAVIRT_SPINLOCKS=y\n' >"$1/boot/config-$K"
        mkdir -p "$1/lib/modules/$K" "$1/etc/virtune"
        printf 'kernel/drivers/cpuidle/cpuidle-haltpoll.ko\n' >"$1/lib/modules/$K/modules.builtin"
        printf '[haltpoll]\nenable = yes\n' >"$1/etc/virtune/virtune.conf"
}

# 1. The image's kernel, said where it came from.
R=$T/img; image "$R"
: >"$R/boot/vmlinuz-6.1.0-9-cloud-amd64" # older, not the default entry
"$VIRTUNE" detect --root "$R" --json >"$T/facts.json" || bad "detect --root image"
python3 - "$T/facts.json" "$K" <<'PY' && ok "kernel of the image: grub.cfg's default entry, with modules and config" || bad "kernel of the image"
import json, sys
f = json.load(open(sys.argv[1]))
v = f['virt']
assert v['kernel_release'] == sys.argv[2], v
assert v['kernel_release_source'] == 'boot-entry', v
assert v['kernel_release_why'] == ('the first menu entry of /boot/grub/grub.cfg boots /boot/vmlinuz-%s; '
        '/lib/modules/%s present; /boot/config-%s present' % ((sys.argv[2],) * 3)), v
assert f['cpuidle']['haltpoll']['driver'] == 'builtin', f['cpuidle']
PY
R2=$T/nogrub; image "$R2"; rm -rf "$R2/boot/grub"
: >"$R2/boot/vmlinuz-6.1.0-9-cloud-amd64"
"$VIRTUNE" detect --root "$R2" --json >"$T/facts2.json"
python3 - "$T/facts2.json" "$K" <<'PY' && ok "no boot menu: the newest /boot/vmlinuz-*" || bad "newest vmlinuz"
import json, sys
v = json.load(open(sys.argv[1]))['virt']
assert v['kernel_release'] == sys.argv[2] and v['kernel_release_source'] == 'newest-vmlinuz', v
PY

# 2. The bake: apply --root writes the command line into the image's boot configuration.
"$VIRTUNE" plan --root "$R" >"$T/plan.out" 2>&1
grep -q 'no cpuidle-haltpoll driver' "$T/plan.out" && bad "plan says the image's kernel has no haltpoll driver"
"$VIRTUNE" apply --root "$R" >"$T/apply.out" 2>&1 || { cat "$T/apply.out"; bad "apply --root image"; }
grep -q '^GRUB_CMDLINE_LINUX_DEFAULT=".*cpuidle_haltpoll.force=Y"$' "$R/etc/default/grub.d/90-virtune.cfg" 2>/dev/null &&
        ok "apply --root writes the grub.d drop-in" || bad "no cpuidle_haltpoll.force=Y in the grub.d drop-in"
exit $fail
