#!/bin/bash
# virtune-host on a real libvirt: a private libvirtd runs a TCG domain booting the vtvm guest with
# virtuned; the channel is added by `virtune-host setup`; -d NAME|UUID, scan by name and UUID,
# labels that survive destroy/start, promtool, node_exporter's textfile collector, and
# `virsh qemu-agent-command` against a virtuned on the qemu-ga port. See README.md here.
set -u
# shellcheck source=tests/vm/lib.sh
# shellcheck source=tests/vm/lib.sh
. "$VT_SOURCE/tests/vm/lib.sh" # vtvm, the skip without QEMU, ok, $tmp
H=$VIRTUNE_HOST
skip() {
        echo "SKIP: $*"
        exit 77
}
for p in libvirtd virsh setpriv python3; do
        command -v "$p" >/dev/null || skip "$p is not installed (packaging/deps/libvirt.txt)"
done
# libvirt's own test driver answers in-process: a virtune-host that can use libvirt at all.
"$H" -c test:///default scan --json >/dev/null 2>&1 || skip "virtune-host was built without libvirt"
[ "$(id -u)" = 0 ] || skip "needs root (the daemon runs as nobody in a private directory)"
# LeakSanitizer's tracer can crash stopping libvirt's own threads at exit (tests/channel/
# test_host.sh saw "Tracer caught signal 11"); ASan's memory checks stay on.
case ${VT_SANITIZE:-none} in none | "") ;; *) export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 ;; esac

# Everything lives under $T; the daemon, QEMU and node_exporter are ours and stopped on exit.
T=$tmp/lv
mkdir -p "$T"/{home,run,dom,img,prom}
chmod 0755 "$tmp" "$T"
chown -R nobody: "$T/home" "$T/run" "$T/dom"
chmod 0700 "$T/run"
URI="qemu+unix:///session?socket=$T/run/libvirt/libvirt-sock"
# -t 60 on every virtune-host call: a TCG guest under a sanitizer build on a loaded machine
# answers facts in seconds; the timeout is not what this test checks.
DOM=vtlv1
daemon_pid="" exporter_pid="" loop_pid=""
virsh_() { virsh -q -c "$URI" "$@"; }
cleanup() {
        local f pid
        if [ -n "$daemon_pid" ]; then
                for d in $DOM vtlv2; do virsh_ destroy "$d" >/dev/null 2>&1; done
                kill "$daemon_pid" 2>/dev/null
                wait "$daemon_pid" 2>/dev/null
        fi
        # QEMU outlives a killed daemon: its pid files name it.
        for f in "$T"/run/libvirt/qemu/run/*.pid "$T"/home/.config/libvirt/qemu/run/*.pid; do
                [ -s "$f" ] || continue
                pid=$(cat "$f")
                tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q qemu && kill "$pid"
        done
        [ -n "$exporter_pid" ] && kill "$exporter_pid" 2>/dev/null && wait "$exporter_pid" 2>/dev/null
        [ -n "$loop_pid" ] && kill "$loop_pid" 2>/dev/null && wait "$loop_pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
        echo "FAIL: $*"
        [ -f "$T/dom/console.log" ] && tail -n 20 "$T/dom/console.log"
        [ -f "$T/libvirtd.log" ] && grep -v ' info : ' "$T/libvirtd.log" | tail -n 20
        exit 1
}
expect_rc() { # expect_rc RC CMD...: runs CMD, output in $T/last
        local want=$1
        shift
        "$@" >"$T/last" 2>&1
        local rc=$?
        [ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/last")"
}

# The guest: the vtvm initramfs (busybox, virtuned) and Debian's kernel, booted by libvirt.
# One virtuned on its own port, a second on the qemu-ga port (qemu-agent-command below).
cat >"$tmp/guest.sh" <<'G'
virtuned --no-apply -v >/run/virtuned.log 2>&1 &
virtuned --no-apply --port org.qemu.guest_agent.0 >/run/virtuned-qga.log 2>&1 &
i=0
while ! grep -q ' ready$' /run/virtuned.log; do
        i=$((i + 1))
        [ $i -gt 1200 ] && exit 1
        usleep 100000
done
G
"$vtvm" image --dir "$T/img" --bin "$VIRTUNED" --bin "$(dirname "$VIRTUNED")/virtuned-worker" \
        --script "$tmp/guest.sh" >"$T/img.env" || fail "vtvm image"
# shellcheck disable=SC1091
. "$T/img.env"
chmod -R a+rX "$T/img"
truncate -s 16M "$T/dom/disk.img"
chown nobody: "$T/dom/disk.img"

# The private daemon: session mode as nobody, its socket and state under $T (nothing of the
# machine's libvirt is touched). QEMU's stdio goes to files, so no virtlogd is needed.
mkdir -p "$T/home/.config/libvirt" "$T/home/.cache/libvirt/qemu/log"
echo 'stdio_handler = "file"' >"$T/home/.config/libvirt/qemu.conf"
chown -R nobody: "$T/home"
start_daemon() {
        setpriv --reuid=nobody --regid=nogroup --clear-groups \
                env -i HOME="$T/home" XDG_RUNTIME_DIR="$T/run" XDG_CONFIG_HOME="$T/home/.config" \
                XDG_CACHE_HOME="$T/home/.cache" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                libvirtd >>"$T/libvirtd.log" 2>&1 &
        daemon_pid=$!
        for _ in $(seq 100); do
                virsh_ version >/dev/null 2>&1 && break
                sleep 0.1
        done
        virsh_ version >/dev/null 2>&1 || fail "the private libvirtd did not come up"
}
start_daemon
ok "private libvirtd (session, as nobody) at $URI"

domain_xml() { # NAME
        cat <<X
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$VTVM_KERNEL</kernel>
    <initrd>$VTVM_INITRD</initrd>
    <cmdline>$VTVM_CMDLINE</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$T/dom/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='$T/dom/console-$1.log'/><target port='0'/></serial>
    <serial type='file'><source path='$T/dom/output-$1'/><target port='1'/></serial>
    <channel type='unix'>
      <source mode='bind' path='$T/dom/ctl-$1.sock'/>
      <target type='virtio' name='org.virtune.vtvm.0'/>
    </channel>
    <channel type='unix'>
      <source mode='bind'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
X
}
domain_xml $DOM >"$T/dom.xml"
domain_xml vtlv2 >"$T/dom2.xml"
virsh_ define "$T/dom.xml" >/dev/null || fail "virsh define"
virsh_ define "$T/dom2.xml" >/dev/null || fail "virsh define vtlv2"
UUID=$(virsh_ domuuid $DOM)

# setup: the channel into the definition, once; a second run changes nothing.
expect_rc 0 "$H" -t 60 -c "$URI" -d $DOM setup
grep -q "Added the org.virtune.agent.0 channel to $DOM" "$T/last" || fail "setup: $(cat "$T/last")"
expect_rc 0 "$H" -t 60 -c "$URI" -d $DOM setup --config
grep -q "already has" "$T/last" || fail "setup twice: $(cat "$T/last")"
[ "$(virsh_ dumpxml --inactive $DOM | grep -c "name='org.virtune.agent.0'")" = 1 ] ||
        fail "the definition does not hold exactly one channel"
ok "setup adds the channel to the definition, idempotent"
expect_rc 3 "$H" -t 60 -c "$URI" -d $DOM setup --live
grep -q "not running" "$T/last" || fail "setup --live on a stopped domain: $(cat "$T/last")"

boot() { # [NAME]: starts it, waits for the guest script's end on the console
        local d=${1:-$DOM}
        ln -sf "console-$d.log" "$T/dom/console.log"
        rm -f "$T/dom/console-$d.log" # QEMU (as nobody) makes it afresh
        virsh_ start "$d" >/dev/null || fail "virsh start $d"
        for _ in $(seq 1800); do
                tr -d '\r' <"$T/dom/console-$d.log" 2>/dev/null | grep -q '^vtvm: ready$' && break
                sleep 0.1
        done
        tr -d '\r' <"$T/dom/console-$d.log" | grep -q '^vtvm: exit status 0$' ||
                fail "the guest $d did not get ready"
}
boot
ok "domain $DOM ($UUID) started by libvirt"
expect_rc 0 "$H" -t 60 -c "$URI" -d $DOM setup --live
grep -q "already has" "$T/last" || fail "setup --live on a domain that has it: $(cat "$T/last")"

expect_rc 0 "$H" -t 60 -c "$URI" -d $DOM ping
grep -q "The agent on $DOM answered" "$T/last" || fail "ping: $(cat "$T/last")"
expect_rc 0 "$H" -t 60 -c "$URI" -d "$UUID" ping
expect_rc 0 "$H" -t 60 -c "$URI" -d $DOM --json facts
grep -q '"virtio"' "$T/last" || fail "facts: $(head -c 300 "$T/last")"
expect_rc 0 "$H" -t 60 -c "$URI" -d $DOM --json status
grep -q '"drift"' "$T/last" || fail "status: $(head -c 300 "$T/last")"
ok "-d NAME|UUID ping, facts, status"
expect_rc 2 "$H" -t 60 -c "$URI" -d no-such-domain ping
expect_rc 3 "$H" -t 60 -c "$URI" -d vtlv2 ping
grep -q "vtlv2 is not running" "$T/last" || fail "a stopped domain: $(cat "$T/last")"
expect_rc 4 "$H" -c "qemu+unix:///session?socket=$T/nothing" scan
grep -q "cannot connect to libvirt" "$T/last" || fail "no libvirt: $(cat "$T/last")"
ok "exit codes: no such domain 2, not running 3, no libvirt 4"

expect_rc 0 "$H" -t 60 -c "$URI" scan --json
python3 - "$T/last" "$DOM" "$UUID" <<'P' || fail "scan --json: $(cat "$T/last")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1, rows
r = rows[0]
assert r["domain"] == sys.argv[2] and r["uuid"] == sys.argv[3] and r["up"] is True, r
assert r["socket"].endswith("/org.virtune.agent.0"), r
P
sock1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["socket"])' "$T/last")
# The qemu driver named the socket DIR/domain-ID-NAME/PORT, as virtune-host expects of it when
# it takes a socket at that path without the domain's XML (agent/host/host_libvirt.c).
id=$(virsh_ domid $DOM)
expect_rc 0 "$H" -v -t 60 -c "$URI" scan --json
grep -q "libvirt: channels named under ${sock1%/domain-$id-$DOM/org.virtune.agent.0} ($DOM's XML)" "$T/last" ||
        fail "libvirt named the socket $sock1, not .../domain-$id-$DOM/org.virtune.agent.0: $(cat "$T/last")"
expect_rc 0 "$H" -t 60 -c "$URI" scan --table
grep -q "^$DOM  *yes " "$T/last" || fail "scan --table: $(cat "$T/last")"
ok "scan lists $DOM by name and UUID (JSON lines, table)"

prom() { # FILE: the scan's exposition, checked by promtool
        expect_rc 0 "$H" -t 60 -c "$URI" scan --prometheus-file "$1"
        grep -q "^virtune_up{domain=\"$DOM\",uuid=\"$UUID\"} 1$" "$1" || fail "series: $(cat "$1")"
        if command -v promtool >/dev/null; then
                promtool check metrics <"$1" >"$T/promtool" 2>&1 || fail "promtool: $(cat "$T/promtool")"
        fi
}
prom "$T/prom/virtune.prom"
grep '^virtune_' "$T/prom/virtune.prom" | grep -v '^virtune_rtt_seconds\|^virtune_scan_duration' |
        cut -d' ' -f1 >"$T/series.1"
ok "exposition with domain/uuid labels$(command -v promtool >/dev/null && echo ', promtool check metrics passes')"

# virsh qemu-agent-command: libvirt's own agent client talks to virtuned on the qemu-ga port.
virsh_ qemu-agent-command $DOM '{"execute":"guest-info"}' >"$T/qga" 2>&1 ||
        fail "virsh qemu-agent-command: $(cat "$T/qga")"
grep -q '"virtune-facts"' "$T/qga" || fail "qemu-agent-command guest-info: $(cat "$T/qga")"
virsh_ qemu-agent-command $DOM '{"execute":"guest-ping"}' | grep -q '"return":{}' ||
        fail "qemu-agent-command guest-ping"
ok "virsh qemu-agent-command accepts virtuned's framing"

# node_exporter's textfile collector, on a loopback port of our own.
if command -v prometheus-node-exporter >/dev/null; then
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        prometheus-node-exporter --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
                --collector.textfile --collector.textfile.directory="$T/prom" >"$T/exporter.log" 2>&1 &
        exporter_pid=$!
        python3 - "$port" "$DOM" "$UUID" <<'P' >"$T/scrape" 2>&1 || fail "node_exporter: $(cat "$T/scrape"; tail "$T/exporter.log")"
import sys, time, urllib.request
port, dom, uuid = sys.argv[1:]
for _ in range(100):
        try:
                m = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                break
        except OSError:
                time.sleep(0.1)
else:
        raise SystemExit("node_exporter did not answer")
lines = m.splitlines()
assert "node_textfile_scrape_error 0" in lines, [l for l in lines if "textfile" in l]
assert f'virtune_up{{domain="{dom}",uuid="{uuid}"}} 1' in lines, [l for l in lines if "virtune" in l]
P
        kill "$exporter_pid"
        wait "$exporter_pid" 2>/dev/null
        exporter_pid=""
        ok "node_exporter scrapes the file: node_textfile_scrape_error 0"
fi

# destroy/start: a new socket path (libvirt's per-start domain id), the same series; the last
# scan's socket (XDG_RUNTIME_DIR) is gone, the new one comes from libvirt.
mkdir -m 0700 "$T/xdg"
XDG_RUNTIME_DIR=$T/xdg expect_rc 0 "$H" -t 60 -c "$URI" scan --json
virsh_ destroy $DOM >/dev/null || fail "virsh destroy"
expect_rc 0 "$H" -t 60 -c "$URI" scan --json
[ ! -s "$T/last" ] || fail "scan of no running domain printed $(cat "$T/last")"
boot
XDG_RUNTIME_DIR=$T/xdg expect_rc 0 "$H" -t 60 -c "$URI" scan --json
sock2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["socket"])' "$T/last")
[ "$(grep -c " $sock2\$" "$T"/xdg/virtune-host/scan-*)" = 1 ] && [ "$(grep -c '^[0-9a-f]\{32\} ' "$T"/xdg/virtune-host/scan-*)" = 1 ] ||
        fail "the last scan's socket: $(cat "$T"/xdg/virtune-host/scan-*)"
prom "$T/prom/virtune.prom"
grep '^virtune_' "$T/prom/virtune.prom" | grep -v '^virtune_rtt_seconds\|^virtune_scan_duration' |
        cut -d' ' -f1 >"$T/series.2"
diff -u "$T/series.1" "$T/series.2" || fail "the series changed across destroy/start"
[ "$sock1" != "$sock2" ] || echo "note: libvirt kept the socket path ($sock1)"
ok "destroy/start: socket $sock1 -> $sock2, same series ($(wc -l <"$T/series.2"))"
s0=$(date +%s%N)
"$H" -t 60 -c "$URI" scan --json >"$T/last" || fail "scan"
echo "scan of one TCG guest through libvirt: $((($(date +%s%N) - s0) / 1000000)) ms," \
        "rtt $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rtt_ms"])' "$T/last") ms"

# scan --interval on the real daemon: one process over a destroy/start (the new socket found, the
# same series) and over libvirtd stopped and started again (the loop reconnects and goes on).
wait_for() { # SECONDS CMD...: until CMD succeeds (CMD may read the caller's $n)
        local tries=$(($1 * 10))
        shift
        for _ in $(seq "$tries"); do
                "$@" && return 0
                sleep 0.1
        done
        return 1
}
rounds() { grep -c '^scan: round [0-9]* in' "$T/loop.err"; }
up_in_file() { grep -q "^virtune_up{domain=\"$DOM\",uuid=\"$UUID\"} 1$" "$T/prom/loop.prom" 2>/dev/null; }
"$H" -v -t 20 -c "$URI" scan --interval 1 --json --prometheus-file "$T/prom/loop.prom" \
        >"$T/loop.out" 2>"$T/loop.err" &
loop_pid=$!
wait_for 120 up_in_file || fail "scan --interval: no series for $DOM: $(cat "$T/loop.err")"
grep '^virtune_' "$T/prom/loop.prom" | grep -v '^virtune_rtt_seconds\|^virtune_scan_duration' |
        cut -d' ' -f1 | diff -u "$T/series.1" - || fail "scan --interval: other series than a scan's"
virsh_ destroy $DOM >/dev/null || fail "virsh destroy"
n=$(rounds)
wait_for 60 eval '[ "$(rounds)" -gt $((n + 1)) ]' || fail "no rounds after destroy: $(tail "$T/loop.err")"
! up_in_file || fail "a destroyed domain still has its series"
boot
wait_for 120 up_in_file || fail "scan --interval: $DOM not back after start: $(tail "$T/loop.err")"
sock3=$(tail -n 1 "$T/loop.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["socket"])')
[ "$sock3" != "$sock2" ] || echo "note: libvirt kept the socket path ($sock2)"
grep '^virtune_' "$T/prom/loop.prom" | grep -v '^virtune_rtt_seconds\|^virtune_scan_duration' |
        cut -d' ' -f1 | diff -u "$T/series.1" - || fail "the series changed across destroy/start in the loop"
ok "scan --interval: destroy/start between rounds: socket $sock2 -> $sock3, the same series"
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=""
wait_for 60 grep -q "libvirt: the connection to .* was lost" "$T/loop.err" ||
        fail "the loop did not see libvirtd go: $(tail "$T/loop.err")"
# shellcheck disable=SC2034 # n is read by the eval'd test
n=$(rounds)
wait_for 30 eval '[ "$(rounds)" -gt $((n + 1)) ]' || fail "the loop stopped without libvirtd: $(tail "$T/loop.err")"
kill -0 "$loop_pid" || fail "the loop ended without libvirtd: $(tail "$T/loop.err")"
start_daemon
wait_for 60 grep -q "libvirt: connected to .* again" "$T/loop.err" ||
        fail "the loop did not reconnect: $(tail "$T/loop.err")"
rm -f "$T/prom/loop.prom"
wait_for 60 up_in_file || fail "no series after the reconnection: $(tail "$T/loop.err")"
kill -TERM "$loop_pid"
wait "$loop_pid"
rc=$?
loop_pid=""
[ "$rc" = 0 ] || fail "scan --interval: SIGTERM: exit $rc: $(tail "$T/loop.err")"
if command -v promtool >/dev/null; then
        promtool check metrics <"$T/prom/loop.prom" >"$T/promtool" 2>&1 || fail "promtool: $(cat "$T/promtool")"
fi
ok "scan --interval: libvirtd stopped and started: '$(grep -m1 'was lost' "$T/loop.err" | cut -c1-120)', reconnected, reporting; SIGTERM: 0"

# setup --live: hot-plugged into a running domain that lacks it (the definition untouched);
# virtuned in the guest opens the new port and answers.
virsh_ destroy $DOM >/dev/null
boot vtlv2
expect_rc 3 "$H" -t 60 -c "$URI" -d vtlv2 ping
expect_rc 0 "$H" -t 60 -c "$URI" -d vtlv2 setup --live
grep -q "Added the org.virtune.agent.0 channel to vtlv2 (live)" "$T/last" || fail "setup --live: $(cat "$T/last")"
virsh_ dumpxml vtlv2 | grep -q "name='org.virtune.agent.0'" || fail "not in the live XML"
! virsh_ dumpxml --inactive vtlv2 | grep -q "name='org.virtune.agent.0'" || fail "--live changed the definition"
for i in $(seq 40); do
        "$H" -t 3 -c "$URI" -d vtlv2 ping >"$T/last" 2>&1 && break
        [ "$i" = 40 ] && fail "no answer on the hot-plugged channel: $(cat "$T/last")"
        sleep 0.2
done
expect_rc 0 "$H" -t 60 -c "$URI" -d vtlv2 setup --live
grep -q "already has" "$T/last" || fail "setup --live twice: $(cat "$T/last")"
ok "setup --live hot-plugs the channel into running vtlv2; virtuned answers on it"
exit $fail
