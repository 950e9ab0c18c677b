#!/bin/bash
# Hotplug in a real guest (tests/vm/vtvm, QMP): a virtio-blk disk added while virtuned runs gets
# the policy's I/O scheduler, and the agent port added after start is opened and answers the host.
# The guest has no udevd, so this also pins that virtuned listens to the kernel's uevents there.
set -u
# shellcheck source=tests/vm/lib.sh
# shellcheck source=tests/vm/lib.sh
. "$VT_SOURCE/tests/vm/lib.sh" # vtvm, the skip without QEMU, ok, $tmp, $dir, stop on exit
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
H=$VIRTUNE_HOST
t=$tmp
fail() { echo "FAIL: $*"; [ -n "$dir" ] && "$vtvm" exec "$dir" 'cat /run/virtuned.log'; exit 1; }
gexec() { "$vtvm" exec "$dir" "$1"; }
qmp() { "$vtvm" qmp "$dir" "$1" >/dev/null || fail "QMP: $1"; }

# The kernel gives a multi-queue virtio disk "none"; the policy asks for mq-deadline.
mkdir -p "$t/etc"
printf '[iosched]\nvirtio = mq-deadline\n' >"$t/etc/virtune.conf"
cat >"$t/guest.sh" <<'G'
virtuned -vv >/run/virtuned.log 2>&1 &
echo $! >/run/virtuned.pid
# Ready once the port is open (the start-up tuning goes on in its worker meanwhile).
i=0
while ! grep -q ' ready$' /run/virtuned.log; do
        i=$((i + 1))
        [ $i -gt 1200 ] && exit 1
        usleep 100000
done
G
"$vtvm" start --bin "$VIRTUNED" --bin "$(dirname "$VIRTUNED")/virtuned-worker" \
        --file "$t/etc/virtune.conf:/etc/virtune/virtune.conf" --no-port org.virtune.agent.0 \
        --script "$t/guest.sh" --timeout 180 >"$t/env" || fail "vtvm start"
# shellcheck disable=SC1090
. "$t/env"
dir=$VTVM_DIR
[ "$VTVM_SCRIPT_STATUS" = 0 ] || fail "virtuned did not become ready within 120 s"

gexec '[ ! -e /run/udev/control ]' >/dev/null || fail "the guest unexpectedly runs udevd"
gexec 'kill -0 $(cat /run/virtuned.pid)' >/dev/null || fail "virtuned is not running"
gexec '[ ! -e /sys/block/vdb ]' >/dev/null || fail "vdb exists before the hotplug"
gexec 'grep -q "org.virtune.agent.0 not present yet" /run/virtuned.log' >/dev/null ||
        fail "virtuned did not start without its port"
ok "virtuned runs without udevd and without its port"

# A disk: a small raw file as a block node, then a virtio-blk device on it.
truncate -s 8M "$t/hot.img"
qmp '{"execute":"blockdev-add","arguments":{"driver":"raw","node-name":"hot0","file":{"driver":"file","filename":"'"$t/hot.img"'"}}}'
qmp '{"execute":"device_add","arguments":{"driver":"virtio-blk-pci","id":"hotdisk","drive":"hot0","serial":"hot0"}}'
sched=""
for _ in $(seq 150); do
        sched=$(gexec 'cat /sys/block/vdb/queue/scheduler 2>/dev/null') || true
        case $sched in *"[mq-deadline]"*) break ;; esac
        sleep 0.2
done
case $sched in
*"[mq-deadline]"*) ok "hotplugged vdb got the policy's scheduler: $sched" ;;
*) fail "hotplugged vdb's scheduler is '$sched', not [mq-deadline]" ;;
esac
# The scheduler can read [mq-deadline] before virtuned's line is in its log (the kernel's own
# default may be it): the line is waited for, not read once.
seen=""
for _ in $(seq 100); do
        gexec 'grep -q "udev: add block vdb" /run/virtuned.log' >/dev/null && { seen=1; break; }
        sleep 0.2
done
[ -n "$seen" ] || fail "virtuned's log shows no uevent for vdb"
ok "virtuned saw the kernel's uevent for vdb"

# The agent port: a chardev socket on the host, then the virtserialport on the guest's bus.
sock=$dir/hot-agent.sock
qmp '{"execute":"chardev-add","arguments":{"id":"hotagent","backend":{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"'"$sock"'"}},"server":true,"wait":false}}}}'
qmp '{"execute":"device_add","arguments":{"driver":"virtserialport","bus":"vser0.0","chardev":"hotagent","name":"org.virtune.agent.0","id":"hotport"}}'
for i in $(seq 30); do
        "$H" -s "$sock" --timeout 1 ping >/dev/null 2>&1 && break
        [ "$i" = 30 ] && fail "no answer on the hotplugged port"
        sleep 0.5
done
ok "the hotplugged org.virtune.agent.0 answers the host (after $i tries)"
gexec 'ls -l /proc/$(cat /run/virtuned.pid)/fd | grep -q /dev/vport' >/dev/null ||
        fail "virtuned holds no /dev/vport* open"
"$H" -s "$sock" --json info | grep -q '"virtune-facts"' || fail "info on the hotplugged port"
ok "virtuned opened $(gexec 'ls -l /proc/$(cat /run/virtuned.pid)/fd' | grep -o '/dev/vport[0-9p]*') and answers info"

# Unplugged while virtuned holds it: closed on the remove event, not kept as a deleted node.
qmp '{"execute":"device_del","arguments":{"id":"hotport"}}'
for i in $(seq 50); do
        gexec 'grep -q "went away" /run/virtuned.log' >/dev/null && break
        [ "$i" = 50 ] && fail "virtuned did not notice the port's removal"
        sleep 0.2
done
gexec 'ls -l /proc/$(cat /run/virtuned.pid)/fd | grep -q "/dev/vport.*(deleted)"' >/dev/null &&
        fail "virtuned still holds the removed port: $(gexec 'ls -l /proc/$(cat /run/virtuned.pid)/fd')"
ok "the unplugged port is closed ($(gexec 'grep -o "The port .* went away[^;]*" /run/virtuned.log' | head -1))"
# Plugged back: a new node, opened again, answering.
qmp '{"execute":"device_add","arguments":{"driver":"virtserialport","bus":"vser0.0","chardev":"hotagent","name":"org.virtune.agent.0","id":"hotport"}}'
for i in $(seq 30); do
        "$H" -s "$sock" --timeout 1 ping >/dev/null 2>&1 && break
        [ "$i" = 30 ] && fail "no answer on the port plugged back"
        sleep 0.5
done
ok "the port plugged back answers the host (after $i tries)"

# A virtio-serial controller hot-added after boot, the port on it: opened and answering.
qmp '{"execute":"device_del","arguments":{"id":"hotport"}}'
for _ in $(seq 50); do
        [ "$(gexec 'grep -c "went away" /run/virtuned.log')" -ge 2 ] 2>/dev/null && break
        sleep 0.2
done
qmp '{"execute":"device_add","arguments":{"driver":"virtio-serial-pci","id":"vser1"}}'
sock2=$dir/hot-agent2.sock
qmp '{"execute":"chardev-add","arguments":{"id":"hotagent2","backend":{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"'"$sock2"'"}},"server":true,"wait":false}}}}'
qmp '{"execute":"device_add","arguments":{"driver":"virtserialport","bus":"vser1.0","chardev":"hotagent2","name":"org.virtune.agent.0","id":"hotport2"}}'
for i in $(seq 30); do
        "$H" -s "$sock2" --timeout 1 ping >/dev/null 2>&1 && break
        [ "$i" = 30 ] && fail "no answer on the port of the hot-added controller"
        sleep 0.5
done
ok "the port on a hot-added virtio-serial controller answers the host (after $i tries)"
