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
assert f['haltpoll']['haltpoll']['driver'] == 'builtin', f['haltpoll']
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
grep -q '^	linux	/boot/vmlinuz-.* consoleblank=0 cpuidle_haltpoll.force=Y$' "$R/boot/grub/grub.cfg" &&
        ok "apply --root edits the generated grub.cfg beside it: the first boot has the line" ||
        bad "grub.cfg of the image lacks cpuidle_haltpoll.force=Y"
"$VIRTUNE" verify --root "$R" --json >"$T/verify.json"; rc=$?
[ "$rc" -eq 0 ] && grep -q '"when": "reboot-needed"' "$T/verify.json" &&
        ok "verify --root after the bake: no drift, the line waits for the boot" || bad "verify --root after the bake: exit $rc"

# 3. A command line left for first boot without grub.cfg (a hand edit, --no-generator, an
# older bake): the first boot's apply runs the generator. The stand-in for update-grub
# (grub-mkconfig cannot run on a fixture copy) rewrites the linux line from the drop-ins, as
# update-grub does, and logs its runs.
gen=$T/update-grub
cat >"$gen" <<'SH'
#!/bin/sh
root=$1; shift
echo "$*" >>"$root/../generator.log"
eval "$(grep -h '^GRUB_CMDLINE_LINUX' "$root/etc/default/grub" "$root"/etc/default/grub.d/*.cfg)"
sed -i "s|^\(	linux	[^ ]* root=[^ ]* ro\).*|\1 $GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT|" "$root/boot/grub/grub.cfg"
SH
chmod +x "$gen"
F=$T/first/root; mkdir -p "$T/first"; image "$F"
mkdir -p "$F/proc"; cp "$VT_FIXTURES/boot-debian12-cloud/root/proc/cmdline" "$F/proc/cmdline"
cp "$F/boot/grub/grub.cfg" "$T/grub.cfg.orig"
"$VIRTUNE" cmdline set --root "$F" --no-generator cpuidle_haltpoll.force=Y >/dev/null 2>&1 ||
        bad "cmdline set --root --no-generator"
cmp -s "$F/boot/grub/grub.cfg" "$T/grub.cfg.orig" || bad "--no-generator left grub.cfg alone"
VIRTUNE_BOOTCFG_GENERATOR=$gen "$VIRTUNE" apply --root "$F" --json >"$T/first.json" 2>"$T/first.err"
rc=$?
python3 - "$T/first.json" <<'PY' && ok "first boot: the line is in the drop-in, not in grub.cfg: apply runs the generator" || { cat "$T/first.json" "$T/first.err"; bad "first boot's apply"; }
import json, sys
e = json.load(open(sys.argv[1]))
c = [c for c in e['changes'] if c['kind'] == 'cmdline']
assert len(c) == 1 and c[0]['result'] == 'applied', c
assert c[0]['record']['bootcfg']['regenerated'] == ['grub.d'], c[0]
assert e['status'] == 'applied' and e['reboot_needed'] is True, e
PY
[ "$rc" -eq 0 ] || bad "first boot's apply: exit $rc"
[ "$(cat "$T/first/generator.log" 2>/dev/null)" = "/usr/sbin/update-grub" ] && ok "update-grub ran once" ||
        bad "generator runs: $(cat "$T/first/generator.log" 2>/dev/null)"
grep -q 'consoleblank=0 cpuidle_haltpoll.force=Y$' "$F/boot/grub/grub.cfg" && ok "grub.cfg now has the line" ||
        bad "grub.cfg lacks the line after the generator"
# The reboot: the kernel runs with the line; verify is clean and nothing waits any more.
sed -i 's/$/ cpuidle_haltpoll.force=Y/' "$F/proc/cmdline"
"$VIRTUNE" verify --root "$F" --json >"$T/v.json"; rc=$?
python3 - "$T/v.json" <<'PY' && [ "$rc" -eq 0 ] && ok "after the reboot: verify exit 0, nothing pending" || { cat "$T/v.json"; bad "verify after the reboot: exit $rc"; }
import json, sys
v = json.load(open(sys.argv[1]))
assert v['ok'] is True and v['pending_reboot'] == [], v
PY
VIRTUNE_BOOTCFG_GENERATOR=$gen "$VIRTUNE" apply --root "$F" --json >"$T/again.json" 2>&1
grep -q '"status": "no-op"' "$T/again.json" && [ "$(wc -l <"$T/first/generator.log")" -eq 1 ] &&
        ok "second boot: no-op, no generator run" || bad "second apply: $(cat "$T/again.json")"
# BLS (RHEL 9): the line in /etc/kernel/cmdline only (a hand edit) does not boot; the entries
# are what boots, and apply writes them.
B=$T/bls; cp -a "$VT_FIXTURES/boot-rhel9-bls/root" "$B"
BK=5.14.0-362.8.1.el9_3.x86_64
mkdir -p "$B/lib/modules/$BK" "$B/etc/virtune"
echo kernel/drivers/cpuidle/cpuidle-haltpoll.ko >"$B/lib/modules/$BK/modules.builtin"
printf '[haltpoll]\nenable = yes\n' >"$B/etc/virtune/virtune.conf"
sed -i 's/$/ cpuidle_haltpoll.force=Y/' "$B/etc/kernel/cmdline"
"$VIRTUNE" apply --root "$B" >"$T/bls.out" 2>&1 || { cat "$T/bls.out"; bad "apply on the BLS image"; }
grep -q '^options .* cpuidle_haltpoll.force=Y$' "$B/boot/loader/entries/"*"-$BK.conf" &&
        ! grep -q force=Y "$B/boot/loader/entries/"*-rescue.conf &&
        ok "BLS: the line only in /etc/kernel/cmdline: apply writes the entry (not the rescue one)" ||
        bad "BLS entry lacks the line after apply"

# `cmdline set` is journaled: one revert undoes the first boot's apply and the edit before it,
# and the generator rebuilds grub.cfg as it was.
VIRTUNE_BOOTCFG_GENERATOR=$gen "$VIRTUNE" revert --root "$F" --json >"$T/rev.json" 2>&1 ||
        { cat "$T/rev.json"; bad "revert after cmdline set + first boot"; }
[ ! -e "$F/etc/default/grub.d/90-virtune.cfg" ] && cmp -s "$F/boot/grub/grub.cfg" "$T/grub.cfg.orig" &&
        ok "revert undoes the cmdline set edit and regenerates grub.cfg as it was" ||
        bad "revert left the cmdline edit: $(ls "$F/etc/default/grub.d"); $(diff "$T/grub.cfg.orig" "$F/boot/grub/grub.cfg")"

# 4. Golden bake, then a first boot whose policy (a cloud-init drop-in) changes more: one
# revert takes the image back to before the bake; --last undoes only the newest apply.
for last in no yes; do
        G=$T/golden-$last; image "$G"; cp -a "$G" "$T/golden-orig"
        "$VIRTUNE" apply --root "$G" >/dev/null 2>&1 || bad "bake"
        mkdir -p "$G/proc" "$G/etc/virtune/virtune.conf.d"
        sed 's/$/ cpuidle_haltpoll.force=Y/' "$VT_FIXTURES/boot-debian12-cloud/root/proc/cmdline" >"$G/proc/cmdline"
        printf '[iosched]\nvirtio = mq-deadline\n' >"$G/etc/virtune/virtune.conf.d/50-cloud.conf"
        VIRTUNE_BOOTCFG_GENERATOR=$gen "$VIRTUNE" apply --root "$G" --json >"$T/fb.json" 2>&1
        grep -q '"status": "applied"' "$T/fb.json" || bad "first boot after the bake: $(cat "$T/fb.json")"
        rm -rf "$G/proc" "$G/etc/virtune/virtune.conf.d"
        if [ $last = no ]; then
                VIRTUNE_BOOTCFG_GENERATOR=$gen "$VIRTUNE" revert --root "$G" >"$T/rev.out" 2>&1 || bad "revert: $(cat "$T/rev.out")"
                # the journal (and its directories) stay: they say what was reverted
                rm -rf "${G:?}/var"
                diff -r "$T/golden-orig" "$G" >"$T/rev.diff" && ok "one revert undoes the bake and the first boot's apply" ||
                        { cat "$T/rev.diff"; bad "revert left changes of the bake or the first boot"; }
        else
                VIRTUNE_BOOTCFG_GENERATOR=$gen "$VIRTUNE" revert --root "$G" --last >"$T/rev.out" 2>&1 || bad "revert --last"
                grep -q 'ATTR{queue/scheduler}="none"' "$G/etc/udev/rules.d/60-virtune-iosched.rules" &&
                        grep -q force=Y "$G/etc/default/grub.d/90-virtune.cfg" &&
                        ok "revert --last undoes only the first boot's apply" || bad "revert --last"
        fi
        rm -rf "$T/golden-orig"
done
exit $fail
