#!/bin/bash
# The installed tree end to end: `meson install --destdir` of a /usr build, unpacked over the
# vtvm guest's / (binaries, /etc/virtune, units, udev rule, tmpfiles.d, sysusers.d); virtuned
# started exactly as the installed virtuned.service says (tests/vm/unitctl: the guest has no
# systemd), ready by sd_notify; then, as a host would, virtune-host reads facts and status and
# verifies a quote against the guest's swtpm; last, the installed virtune-firstboot runs once.
# usage: test_installed.sh VT-NOTIFY-LISTEN
set -u
notify_listen=$1
# shellcheck source=tests/vm/lib.sh
# shellcheck source=tests/vm/lib.sh
. "$VT_SOURCE/tests/vm/lib.sh"

# --- the installed tree -------------------------------------------------------------------
# Installed paths are compiled in (the worker's libexec directory) and virtune reads
# /etc/virtune: the tree comes from a build configured like a distribution's, kept beside the
# test's build and rebuilt incrementally.
b=$VT_BUILD/vm-installed
exec {lock}>"$VT_BUILD/vm-installed.lock"
flock "$lock"
if [ ! -f "$b/build.ninja" ]; then
        meson setup "$b" "$VT_SOURCE" --prefix /usr --sysconfdir /etc --localstatedir /var \
                -Dunitdir=/usr/lib/systemd/system -Dudevdir=/usr/lib/udev -Dvm_tests=disabled \
                >"$tmp/setup.log" 2>&1 || {
                cat "$tmp/setup.log"
                echo "FAIL: meson setup of the /usr build"
                exit 1
        }
fi
# Only what `meson install` installs (and the generated policy), not the tests and benchmarks.
mapfile -t targets < <(meson introspect --targets "$b" | python3 -c '
import json, os, sys
src = os.environ["VT_SOURCE"]
for t in json.load(sys.stdin):
    if t["installed"] or t["name"] == "virtune.conf":
        d = os.path.relpath(os.path.dirname(t["defined_in"]), src)
        print(t["name"] if d == "." else d + "/" + t["name"])')
meson compile -C "$b" "${targets[@]}" >"$tmp/compile.log" 2>&1 || {
        cat "$tmp/compile.log"
        echo "FAIL: meson compile of the /usr build"
        exit 1
}
dest=$tmp/dest
meson install -C "$b" --no-rebuild --quiet --destdir "$dest" >"$tmp/install.log" 2>&1 || {
        cat "$tmp/install.log"
        echo "FAIL: meson install --destdir"
        exit 1
}
flock -u "$lock"
unit=$dest/usr/lib/systemd/system/virtuned.service
for f in usr/sbin/virtune usr/sbin/virtuned usr/libexec/virtune/virtuned-worker \
        usr/libexec/virtune/virtune-firstboot usr/bin/virtune-host etc/virtune/virtune.conf \
        usr/lib/systemd/system/virtuned.service usr/lib/udev/rules.d/60-virtune.rules \
        usr/lib/tmpfiles.d/virtune.conf usr/lib/sysusers.d/virtune.conf; do
        [ -e "$dest/$f" ] || bad "meson install did not install /$f"
done
# As a package would unpack it: owned by root.
(cd "$dest" && tar --owner=0 --group=0 --numeric-owner -cf "$tmp/virtune.tar" -- *) ||
        bad "tar of the installed tree"

# The guest needs the libraries of every installed program, linked or dlopened.
libs=()
while IFS= read -r -d '' f; do
        head -c4 "$f" | grep -q ELF && libs+=(--libs "$f")
done < <(find "$dest" -type f -perm -u+x -print0)

# What the guest needs for the first-boot run: a policy drop-in that changes the kernel command
# line (pvspin = no adds nopvspin) and asks for a reboot if needed, /etc/kernel/cmdline as the
# boot configuration, and the reboot command injected through a unit drop-in.
mkdir -p "$tmp/fb"
printf '[pvspin]\nenable = no\n\n[bootloader]\nreboot = if-needed\n' >"$tmp/fb/50-firstboot.conf"
printf '[Service]\nEnvironment=VIRTUNE_REBOOT=/usr/local/sbin/vt-fake-reboot\n' >"$tmp/fb/50-reboot.conf"
printf '#!/bin/sh\necho "reboot${*:+ $*}" >>/run/vt-reboots\n' >"$tmp/fb/vt-fake-reboot"
chmod 755 "$tmp/fb/vt-fake-reboot"

# --- the guest ----------------------------------------------------------------------------
cat >"$tmp/guest.sh" <<'G'
set -e
tar -xf /vtvm/virtune.tar -C /
unitctl sysusers
unitctl tmpfiles
# Another scheduler than the policy's: the apply at start has something to do.
echo mq-deadline >/sys/block/vda/queue/scheduler
echo "scheduler before virtuned: $(cat /sys/block/vda/queue/scheduler)"
unitctl start virtuned.service
# READY=1 does not wait for the start-up tuning: the checks below want it done.
i=0
while ! grep -q 'Start-up detection and tuning' /run/unitctl/virtuned.service.log && [ $i -lt 1200 ]; do
        i=$((i + 1))
        usleep 100000
done
grep 'Start-up detection and tuning' /run/unitctl/virtuned.service.log
G
vm_start "${libs[@]}" --bin "$notify_listen" --file "$VT_SOURCE/tests/vm/unitctl:/usr/bin/unitctl" \
        --file "$tmp/virtune.tar:/vtvm/virtune.tar" --file "$tmp/fb:/vtvm/fb" \
        --script "$tmp/guest.sh" --timeout 240
cat "$VTVM_OUTPUT"
guest() { "$vtvm" exec "$dir" "$1"; }
host() { "$VIRTUNE_HOST" --socket "$VTVM_AGENT_SOCK" --timeout 60 "$@"; }
if [ "$VTVM_SCRIPT_STATUS" = 0 ] && grep -q '^unitctl: virtuned.service: READY=1 after' "$VTVM_OUTPUT"; then
        ok "the installed tree unpacked; virtuned started from its unit and said READY=1 on \$NOTIFY_SOCKET"
else
        bad "the guest script failed (status $VTVM_SCRIPT_STATUS)"
fi

# --- virtuned runs as the installed unit says ----------------------------------------------
want=$(sed -n 's/^ExecStart=//p' "$unit")
pid=$(guest 'unitctl pid virtuned.service')
got=$(guest "tr '\\0' ' ' </proc/$pid/cmdline")
[ -n "$want" ] && [ "${got% }" = "$want" ] && ok "the running virtuned's command line is the unit's ExecStart=$want" ||
        bad "virtuned runs as '$got', the unit says ExecStart=$want"
exe=$(guest "readlink /proc/$pid/exe")
[ "$exe" = /usr/sbin/virtuned ] && ok "it is the installed /usr/sbin/virtuned" || bad "virtuned is $exe"
guest "tr '\\0' '\\n' </proc/$pid/environ" >"$tmp/environ"
grep -qx 'NOTIFY_SOCKET=/run/unitctl/virtuned.service.notify' "$tmp/environ" &&
        ok "virtuned got NOTIFY_SOCKET (as from systemd)" || bad "environment: $(cat "$tmp/environ")"
guest 'ls -ld /var/lib/virtune' | grep -q '^drwxr-x--- .* root *root ' &&
        ok "/var/lib/virtune made 0750 root:root, as tmpfiles.d and StateDirectory= say" ||
        bad "/var/lib/virtune: $(guest 'ls -ld /var/lib/virtune')"

# --- the host: facts -----------------------------------------------------------------------
host --json facts >"$tmp/facts.json" || bad "virtune-host facts: $(cat "$tmp/facts.json")"
# One line each: `vtvm exec` takes one command line.
snap=(
        'echo "kernel_release=$(uname -r)"' 'echo "vcpus=$(nproc)"'
        'echo "scheduler=$(cat /sys/block/vda/queue/scheduler)"'
        'echo "serial=$(cat /sys/block/vda/serial)"' 'echo "sectors=$(cat /sys/block/vda/size)"'
        'echo "rng_current=$(cat /sys/class/misc/hw_random/rng_current)"'
        'echo "rng_available=$(cat /sys/class/misc/hw_random/rng_available)"'
        'echo "cpuidle_driver=$(cat /sys/devices/system/cpu/cpuidle/current_driver)"'
        'echo "virtio=$(ls /sys/bus/virtio/devices | tr "\n" " ")"')
(IFS=';' && guest "${snap[*]}") >"$tmp/sysfs" 2>&1 || bad "reading the guest's sysfs: $(cat "$tmp/sysfs")"
python3 - "$tmp/facts.json" "$tmp/sysfs" <<'P' || bad "facts over the channel differ from the guest's sysfs"
import json, sys
f = json.load(open(sys.argv[1]))
s = dict(l.split("=", 1) for l in open(sys.argv[2]).read().splitlines() if "=" in l)
vda = next(d for d in f["iosched"]["disks"] if d["name"] == "vda")
sched = s["scheduler"].split()
pairs = [
    ("virt.kernel_release", f["virt"]["kernel_release"], s["kernel_release"]),
    ("virt.vcpus", f["virt"]["vcpus"], int(s["vcpus"])),
    ("iosched vda scheduler", vda["scheduler"], next(x[1:-1] for x in sched if x.startswith("["))),
    ("iosched vda schedulers", vda["schedulers"], [x.strip("[]") for x in sched]),
    ("iosched vda serial", vda["serial"], s["serial"]),
    ("iosched vda size_bytes", vda["size_bytes"], int(s["sectors"]) * 512),
    ("rng.current", f["rng"]["current"], s["rng_current"]),
    ("rng.available", f["rng"]["available"], s["rng_available"].split()),
    ("haltpoll.driver", f["haltpoll"]["driver"], s["cpuidle_driver"]),
    ("virtio devices", sorted(d["name"] for d in f["virtio"]["devices"]), sorted(s["virtio"].split())),
]
bad = [p for p in pairs if p[1] != p[2]]
for p in bad:
    print("  %s: facts %r, sysfs %r" % p)
print("  compared: " + ", ".join("%s=%s" % (p[0], p[2]) for p in pairs))
sys.exit(1 if bad else 0)
P
[ $? = 0 ] && ok "facts over the channel match the guest's sysfs"

# --- the host: status (the installed policy, the apply at start) ---------------------------
host --json status >"$tmp/status.json" || bad "virtune-host status: $(cat "$tmp/status.json")"
guest 'cat /sys/block/vda/queue/scheduler' >"$tmp/sched"
guest 'cat /var/lib/virtune/journal.json' >"$tmp/journal.json"
python3 - "$tmp/status.json" "$dest/etc/virtune/virtune.conf" "$tmp/sched" "$tmp/journal.json" <<'P' || fail=1
import json, re, sys
st = json.load(open(sys.argv[1]))
conf = open(sys.argv[2]).read()
sched = open(sys.argv[3]).read().split()
journal = json.load(open(sys.argv[4]))
rc = 0
def check(cond, what):
    global rc
    print(("ok: " if cond else "FAIL: ") + what)
    rc |= not cond
check(st["policy_files"] == ["/etc/virtune/virtune.conf"], "status: the policy comes from the installed /etc/virtune/virtune.conf alone (%s)" % st["policy_files"])
# The installed file documents every default as a commented-out "#key = value".
sect, defaults = None, {}
for line in conf.splitlines():
    m = re.match(r"^\[(.+)\]$", line) or re.match(r"^#([a-z_.-]+) = (.+)$", line)
    if m and line.startswith("["):
        sect = m.group(1)
    elif m:
        defaults[(sect, m.group(1))] = m.group(2)
diff = {k: (v, st["policy"].get(k[0], {}).get(k[1])) for k, v in defaults.items() if st["policy"].get(k[0], {}).get(k[1]) != v}
check(defaults and not diff, "status: the policy in force is the installed file's (%d defaults compared%s)" % (len(defaults), ", differ: %s" % diff if diff else ""))
want = st["policy"]["iosched"]["virtio"]
cur = next(x[1:-1] for x in sched if x.startswith("["))
check(cur == want, "the virtio disk's scheduler in the guest's sysfs is the policy's: %s" % cur)
re_ = st.get("last_reapply") or {}
entries = [e for e in journal["entries"] if e["action"] == "reapply"]
vda = [c for e in entries for c in e["changes"] if c["target"] == "/sys/block/vda/queue/scheduler" and c["result"] == "applied"]
check(re_.get("changes", 0) >= 1 and entries and re_.get("time") == entries[-1]["time"],
      "status: last_reapply is virtuned's start-up apply (%s)" % re_)
check(len(vda) == 1 and vda[0]["from"] == "mq-deadline" and vda[0]["to"] == want,
      "the start-up apply changed vda's scheduler mq-deadline -> %s, in the journal" % want)
check(st["last_apply"] is None, "status: no last_apply yet (nothing for revert: the daemon only re-applies)")
sys.exit(rc)
P

# --- the host: a verified quote from the guest's swtpm -------------------------------------
if host --json verify --random --ak "$tmp/ak.pem" >"$tmp/verify.json"; then
        python3 - "$tmp/verify.json" <<'P' && ok "verify --random --ak PIN: every check passes ($(python3 -c 'import json,sys; print(" ".join(c["name"] for c in json.load(open(sys.argv[1]))["checks"]))' "$tmp/verify.json"))" || bad "verify: a check failed: $(cat "$tmp/verify.json")"
import json, sys
c = json.load(open(sys.argv[1]))["checks"]
sys.exit(0 if c and all(x["ok"] for x in c) else 1)
P
else
        bad "virtune-host verify: $(cat "$tmp/verify.json")"
fi
[ -s "$tmp/ak.pem" ] && ok "the AK was pinned to PIN on first use" || bad "no AK pin written"
guest 'virtune pcrs --json --no-policy' >"$tmp/pcrs.json" && ok "the installed virtune reads the PCRs (tss2 libraries present)" ||
        bad "virtune pcrs in the guest: $(cat "$tmp/pcrs.json")"
# A library dlopen()ed on first use and missing from the guest shows up as "libX.so.N not installed".
if grep -hoE 'lib[A-Za-z0-9_.+-]+\.so\.[0-9]+ (not installed|is too old)' "$tmp"/*.json; then
        bad "a library the installed programs load at run time is missing in the guest"
else
        ok "no library the installed programs dlopen() is missing (facts, status, verify, pcrs)"
fi
echo "figure: virtuned VmRSS $(guest "grep VmRSS /proc/$pid/status" | tr -s ' \t' ' ' | cut -d' ' -f2-)"

# --- the installed virtune-firstboot, once, as its unit says -------------------------------
guest 'mkdir -p /etc/systemd/system/virtune-firstboot.service.d /usr/local/sbin /etc/kernel && cp /vtvm/fb/50-reboot.conf /etc/systemd/system/virtune-firstboot.service.d/ && cp /vtvm/fb/vt-fake-reboot /usr/local/sbin/ && cp /vtvm/fb/50-firstboot.conf /etc/virtune/virtune.conf.d/ && cat /proc/cmdline >/etc/kernel/cmdline' >"$tmp/fb.log" 2>&1 || bad "first-boot setup: $(cat "$tmp/fb.log")"
guest 'unitctl start virtune-firstboot.service' >"$tmp/fb.log" 2>&1 || bad "virtune-firstboot.service failed: $(cat "$tmp/fb.log")"
cat "$tmp/fb.log"
want=$(sed -n 's/^ExecStart=//p' "$dest/usr/lib/systemd/system/virtune-firstboot.service")
grep -qxF "unitctl: virtune-firstboot.service: ExecStart=$want" "$tmp/fb.log" &&
        ok "virtune-firstboot ran as its unit says: $want" || bad "virtune-firstboot did not run as ExecStart=$want"
guest 'test -f /var/lib/virtune/firstboot.done' && ok "stamp /var/lib/virtune/firstboot.done written" ||
        bad "no first-boot stamp"
[ "$(guest 'cat /run/vt-reboots')" = reboot ] && ok "the injected reboot ran once (nopvspin waits for a reboot)" ||
        bad "reboots: $(guest 'cat /run/vt-reboots 2>&1')"
guest 'cat /etc/kernel/cmdline' | grep -qw nopvspin && ok "the boot command line got nopvspin" ||
        bad "/etc/kernel/cmdline: $(guest 'cat /etc/kernel/cmdline')"
guest 'unitctl start virtune-firstboot.service' | grep -q 'ConditionPathExists=!/var/lib/virtune/firstboot.done failed: skipped' &&
        ok "a second start is skipped by the unit's condition" || bad "the second start was not skipped"
[ "$(guest 'cat /run/vt-reboots')" = reboot ] || bad "a second reboot was asked for"
guest 'virtune status --json' >"$tmp/status2.json" || bad "virtune status in the guest"
python3 - "$tmp/status2.json" <<'P' && ok "after first boot: last_apply set, reboot_needed, nopvspin pending" || bad "status after first boot: $(cat "$tmp/status2.json")"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["last_apply"] and st["reboot_needed"] is True, st
assert any("nopvspin" in json.dumps(p) for p in st["pending_reboot"]), st["pending_reboot"]
P
guest "kill -0 $pid" && ok "virtuned still runs" || bad "virtuned is gone: $(guest 'cat /run/unitctl/virtuned.service.log')"
exit $fail
