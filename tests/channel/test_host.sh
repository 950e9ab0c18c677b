#!/bin/bash
# virtune-host against the real virtuned (through a QEMU-like chardev relay) and against many
# fake guests served by one process: exit codes, stale replies, reconnects, the concurrent scan.
set -u
H=$VIRTUNE_HOST
FG=$VT_BUILD/tests/channel/fake_guests
t=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
# start NAME CMD...: runs CMD in the background, waits for its "ready" line
start() {
        local out=$t/$1.out; shift
        "$@" >"$out" 2>&1 & pids+=($!)
        for _ in $(seq 600); do grep -q ready "$out" 2>/dev/null && return 0; sleep 0.05; done
        cat "$out"; fail "$1 did not get ready"
}
expect_rc() { # expect_rc RC CMD...: runs CMD, output in $t/last
        local want=$1; shift
        "$@" >"$t/last" 2>&1; local rc=$?
        [ "$rc" = "$want" ] || { cat "$t/last"; fail "'$*' exited $rc, expected $want"; }
}

mkdir -p "$t/root/etc/virtune"
printf '[channel]\nallow-apply = no\n' >"$t/root/etc/virtune/virtune.conf"
start relay "$FG" relay "$t/port.sock" "$t/host.sock"
"$VIRTUNED" --root "$t/root" --port-path "$t/port.sock" --no-apply -q & pids+=($!)

expect_rc 0 "$H" -s "$t/host.sock" ping
grep -q "answered" "$t/last" || fail "ping output: $(cat "$t/last")"
expect_rc 0 "$H" -s "$t/host.sock" info --json
grep -q '"name":"virtune-apply"' <(tr -d ' \n' <"$t/last") || fail "info lacks virtune-apply"
expect_rc 0 "$H" -s "$t/host.sock" --json facts
grep -q '"virtune":' "$t/last" || fail "facts lack the virtune key"
expect_rc 1 "$H" -s "$t/host.sock" apply --dry-run
grep -q "PermissionDenied" "$t/last" || fail "apply not refused: $(cat "$t/last")"
expect_rc 2 "$H" -s "$t/host.sock" quote --nonce abcd
expect_rc 2 "$H" -s "$t/host.sock" quote
expect_rc 2 "$H" -s "$t/host.sock" ping --dry-run
expect_rc 2 "$H" -s "$t/host.sock" frobnicate
expect_rc 2 "$H" ping
expect_rc 3 "$H" -s "$t/nothing.sock" ping

# Host disconnects and reconnects 100 times; every time the agent answers.
for i in $(seq 100); do
        "$H" -s "$t/host.sock" ping >/dev/null 2>&1 || fail "ping $i after reconnects"
done

# A 3.5 MiB event log (4.7 MiB in base64, more than one reply carries) from the real virtuned:
# its pieces come back as the same bytes.
mkdir -p "$t/root/sys/kernel/security/tpm0"
head -c $((3584 << 10)) /dev/urandom >"$t/root/sys/kernel/security/tpm0/binary_bios_measurements"
"$H" -s "$t/host.sock" eventlog -o "$t/eventlog.bin" >"$t/last" 2>&1; rc=$?
if grep -q Unsupported "$t/last"; then
        echo "SKIP: built without the TPM stack: no event log over the channel"
else
        [ "$rc" = 0 ] || fail "eventlog of 3.5 MiB exited $rc: $(head -c 500 "$t/last")"
        cmp -s "$t/eventlog.bin" "$t/root/sys/kernel/security/tpm0/binary_bios_measurements" ||
                fail "the 3.5 MiB event log came back different"
        expect_rc 0 "$H" -s "$t/host.sock" --json eventlog
        tr -d ' \n' <"$t/last" | grep -q '"size":3670016,"offset":0,"next_offset":3670016,"complete":true' ||
                fail "eventlog --json of the whole log: $(head -c 300 "$t/last")"
        echo "ok: a 3.5 MiB event log in pieces"
fi
rm -rf "$t/root/sys"

# Stale replies from an earlier client are skipped; a guest that never answers in time is 3.
mkdir "$t/stale" "$t/slow"
start stale "$FG" serve "$t/stale" 1 0 0 1
expect_rc 0 "$H" -s "$t/stale/guest0000/org.virtune.agent.0" ping
start slow "$FG" serve "$t/slow" 1 1 3000
expect_rc 3 "$H" -t 0.5 -s "$t/slow/guest0000/org.virtune.agent.0" ping

# 1000 guests, 20 of them 1 s slow: the scan takes about the slowest (1 s), not the sum (20 s).
# A 15 s timeout per guest and a bound below the sum leave room for a loaded machine (ASan at
# load 20 took 5.7 s); bench/ measures the figure itself.
mkdir "$t/fleet"
start fleet "$FG" serve "$t/fleet" 1000 20 1000
s0=$(date +%s%N)
expect_rc 0 "$H" -t 15 scan "$t/fleet"
ms=$((($(date +%s%N) - s0) / 1000000))
n=$(grep -c '"up":true' "$t/last")
[ "$n" = 1000 ] || fail "scan: $n of 1000 guests up"
[ "$ms" -lt 15000 ] || fail "scan of 1000 took $ms ms: the guests were asked one after another"
echo "scan of 1000 guests (20 answer after 1 s): $ms ms"
expect_rc 0 "$H" -t 15 scan --prometheus "$t/fleet"
n=$(grep -c '^virtune_up{socket=".*"} 1$' "$t/last")
[ "$n" = 1000 ] || fail "prometheus: $n of 1000 up"
grep -q '^# TYPE virtune_up gauge$' "$t/last" || fail "prometheus: no TYPE line"
expect_rc 2 "$H" scan "$t/does-not-exist"
grep -q "$t/does-not-exist: no such directory" "$t/last" || fail "scan of nothing: $(cat "$t/last")"
# Written atomically beside the target (no temp file left), the fixed series with HELP/TYPE.
expect_rc 0 "$H" -t 15 scan --prometheus-file "$t/virtune.prom" "$t/fleet"
[ ! -s "$t/last" ] || fail "--prometheus-file printed $(cat "$t/last")"
n=$(grep -c '^virtune_up{socket=".*"} 1$' "$t/virtune.prom")
[ "$n" = 1000 ] || fail "prometheus file: $n of 1000 up"
! compgen -G "$t/.#*" >/dev/null || fail "a temp file was left: $(ls -A "$t")"
for m in virtune_up virtune_rtt_seconds virtune_drift_settings virtune_pending_reboot_changes \
        virtune_attestation_enabled virtune_agent_info virtune_scan_duration_seconds; do
        grep -q "^# HELP $m " "$t/virtune.prom" && grep -q "^# TYPE $m gauge$" "$t/virtune.prom" ||
                fail "no HELP/TYPE for $m"
done
expect_rc 4 "$H" scan --prometheus-file "$t/no/such/dir/virtune.prom" "$t/fleet"
grep -q "cannot write $t/no/such/dir/virtune.prom" "$t/last" || fail "write error: $(cat "$t/last")"
if command -v promtool >/dev/null; then
        promtool check metrics <"$t/virtune.prom" || fail "promtool check metrics"
        echo "ok: promtool check metrics"
fi
# scan --interval: rounds in one process; the file replaced whole each round (a new inode, never
# read half-written), the same series every round; SIGTERM ends it with 0, also in a round.
promfile_ok() { # FILE N: complete (the last series is there) with N guests up, no temp file left
        [ "$(grep -c '^virtune_up{socket=".*"} 1$' "$1")" = "$2" ] &&
                grep -q '^virtune_scan_duration_seconds [0-9.]*$' "$1"
}
expect_rc 0 "$H" -v -t 15 scan --interval 0.2 --count 3 --prometheus-file "$t/loop.prom" "$t/fleet"
[ "$(grep -c '^scan: round [123] in [0-9.]* ms$' "$t/last")" = 3 ] || fail "3 rounds: $(grep round "$t/last")"
! grep -q 'round 4' "$t/last" || fail "--count 3 ran a 4th round"
promfile_ok "$t/loop.prom" 1000 || fail "the loop's file: $(head -c 300 "$t/loop.prom")"
grep '^virtune_up' "$t/loop.prom" | cut -d' ' -f1 >"$t/loop.series"
expect_rc 2 "$H" scan --count 3 "$t/fleet"
expect_rc 2 "$H" scan --interval 0 "$t/fleet"
expect_rc 2 "$H" scan --interval 1 --prometheus "$t/fleet"
expect_rc 2 "$H" scan --interval 1 "$t/does-not-exist" # the first round's error ends it
expect_rc 4 "$H" scan --interval 1 --prometheus-file "$t/no/such/dir/v.prom" "$t/fleet"
# --json with --prometheus-file: JSON lines on stdout and the file, in one pass
expect_rc 0 "$H" -t 15 scan --json --prometheus-file "$t/both.prom" "$t/stale"
grep -q '^{"socket":".*stale/guest0000/org.virtune.agent.0","up":true' "$t/last" &&
        promfile_ok "$t/both.prom" 1 || fail "--json --prometheus-file: $(cat "$t/last")"
"$H" -v -t 15 scan --interval 0.3 --prometheus-file "$t/loop.prom" "$t/fleet" 2>"$t/loop.err" &
lp=$!
pids+=("$lp")
inodes="" reads=0
for _ in $(seq 400); do
        [ "$(grep -c '^scan: round' "$t/loop.err")" -ge 4 ] && break
        if [ -e "$t/loop.prom" ]; then
                i=$(stat -c %i "$t/loop.prom")
                cp "$t/loop.prom" "$t/loop.read" 2>/dev/null && reads=$((reads + 1)) &&
                        { promfile_ok "$t/loop.read" 1000 || fail "a round's file read half-written: $(tail -n 2 "$t/loop.read")"; }
                case " $inodes " in *" $i "*) ;; *) inodes="$inodes $i" ;; esac
        fi
        sleep 0.02
done
kill -TERM "$lp"
wait "$lp"
rc=$?
[ "$rc" = 0 ] || fail "SIGTERM between rounds: exit $rc: $(cat "$t/loop.err")"
grep -q '^scan: Terminated: stopping$' "$t/loop.err" || fail "no stop message: $(tail -n 3 "$t/loop.err")"
set -- $inodes
[ $# -ge 3 ] || fail "the file was not replaced each round (inodes:$inodes, $reads reads)"
grep '^virtune_up' "$t/loop.prom" | cut -d' ' -f1 | diff -u "$t/loop.series" - || fail "the series changed between rounds"
! compgen -G "$t/.#*" >/dev/null || fail "a temp file was left: $(ls -A "$t")"
echo "ok: scan --interval: $(grep -c '^scan: round' "$t/loop.err") rounds, the file replaced $# times, $reads reads all whole; SIGTERM: 0"
# SIGTERM in a round: a guest answers after 3 s; the loop ends without waiting for it, the file
# stays the last whole round's
mkdir "$t/mix"
start mix "$FG" serve "$t/mix" 2 1 3000
"$H" -v -t 10 scan --interval 0.5 --prometheus-file "$t/mix.prom" "$t/mix" 2>"$t/mix.err" &
lp=$!
pids+=("$lp")
for _ in $(seq 300); do grep -q '^scan: round 1 ' "$t/mix.err" && break; sleep 0.05; done
promfile_ok "$t/mix.prom" 2 || fail "round 1 of the slow guests: $(cat "$t/mix.err")"
cp "$t/mix.prom" "$t/mix.1"
sleep 1.2 # round 2 waits for the slow guest until about 3 s after it began
s0=$(date +%s%N)
kill -INT "$lp"
wait "$lp"
rc=$?
ms=$((($(date +%s%N) - s0) / 1000000))
[ "$rc" = 0 ] || fail "SIGINT in a round: exit $rc: $(cat "$t/mix.err")"
[ "$ms" -lt 1500 ] || fail "SIGINT in a round took $ms ms: it waited for the round's end"
! grep -q '^scan: round 2 ' "$t/mix.err" || fail "round 2 ended before SIGINT: $(cat "$t/mix.err")"
cmp -s "$t/mix.prom" "$t/mix.1" || fail "the file changed after a round stopped half-way"
! compgen -G "$t/.#*" >/dev/null || fail "a temp file was left: $(ls -A "$t")"
echo "ok: SIGINT in a round: exit 0 after $ms ms, the last whole round's file kept"
# libvirt's test driver (in-process, no daemon): domains by name and UUID, one without the channel.
# (sanitizer builds link libvirt into virtune-host on purpose: agent/host/meson.build says why)
progs="virtune virtuned virtuned-worker"
case ${VT_SANITIZE:-none} in none | "") progs="$progs virtune-host" ;; esac
for p in $progs; do
        ! ldd "$(dirname "$H")/$p" | grep -q 'libvirt\|libxml2' || fail "$p links libvirt or libxml2"
done
if "$H" -c test:///default scan --json >/dev/null 2>&1; then
        cat >"$t/node.xml" <<X
<node>
<domain type='test'><name>web</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e0001</uuid>
<memory>65536</memory><os><type arch='x86_64'>hvm</type></os><devices>
<channel type='unix'><source mode='bind' path='$t/stale/guest0000/org.virtune.agent.0'/>
<target type='virtio' name='org.virtune.agent.0'/></channel></devices></domain>
<domain type='test'><name>bare</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e0002</uuid>
<memory>65536</memory><os><type arch='x86_64'>hvm</type></os><devices/></domain>
<domain type='test'><name>alpha</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e0003</uuid>
<memory>65536</memory><os><type arch='x86_64'>hvm</type></os><devices>
<channel type='unix'><source mode='bind' path='$t/chan/domain-3-alpha/org.virtune.agent.0'/>
<target type='virtio' name='org.virtune.agent.0'/></channel></devices></domain>
<domain type='test'><name>beta</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e0004</uuid>
<memory>65536</memory><os><type arch='x86_64'>hvm</type></os><devices>
<channel type='unix'><source mode='bind' path='$t/chan/domain-4-beta/org.virtune.agent.0'/>
<target type='virtio' name='org.virtune.agent.0'/></channel></devices></domain>
</node>
X
        # alpha and beta where libvirt's qemu driver names a channel (DIR/domain-ID-NAME/PORT;
        # the test driver numbers the domains 1, 2, ... in the file's order)
        mkdir -p "$t/chan/domain-3-alpha" "$t/chan/domain-4-beta"
        ln -s "$t/fleet/guest0001/org.virtune.agent.0" "$t/chan/domain-3-alpha/org.virtune.agent.0"
        ln -s "$t/fleet/guest0002/org.virtune.agent.0" "$t/chan/domain-4-beta/org.virtune.agent.0"
        L=(-c "test://$t/node.xml")
        # LeakSanitizer's tracer can crash ("Tracer caught signal 11") stopping libvirt's own
        # threads at exit; ASan's memory checks stay on.
        case ${VT_SANITIZE:-none} in none | "") ;; *) export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 ;; esac
        expect_rc 0 "$H" "${L[@]}" scan --json
        grep -q '^{"domain":"bare","uuid":"6695eb01-f6a4-8304-79aa-97f2502e0002","socket":null,"up":false,.*"error":"no org.virtune.agent.0 channel' "$t/last" ||
                fail "scan of a domain without the channel: $(cat "$t/last")"
        grep -q '^{"domain":"web","uuid":"6695eb01-f6a4-8304-79aa-97f2502e0001","socket":".*guest0000/org.virtune.agent.0","up":true' "$t/last" ||
                fail "scan by domain: $(cat "$t/last")"
        # alpha's XML teaches the directory: beta is found at its path without its XML
        expect_rc 0 "$H" -v "${L[@]}" scan --json
        grep -q "libvirt: 4 running domains at test://$t/node.xml in [0-9.]* ms, 3 XML reads" "$t/last" ||
                fail "beta's XML was read: $(cat "$t/last")"
        grep -q '^{"domain":"beta","uuid":"6695eb01-f6a4-8304-79aa-97f2502e0004","socket":"'"$t"'/chan/domain-4-beta/org.virtune.agent.0","up":true' "$t/last" ||
                fail "beta by its path: $(cat "$t/last")"
        # With XDG_RUNTIME_DIR, the sockets of the last scan are asked while libvirt connects;
        # one that no domain has any more (guest0999) is asked but never reported, and forgotten.
        mkdir -m 0700 "$t/run"
        XDG_RUNTIME_DIR=$t/run expect_rc 0 "$H" "${L[@]}" scan --json
        c=$(ls "$t"/run/virtune-host/scan-*)
        [ "$(cut -d' ' -f3- "$c" | grep ^/ | sort | tr '\n' ' ')" = "$t/chan/domain-3-alpha/org.virtune.agent.0 $t/chan/domain-4-beta/org.virtune.agent.0 $t/stale/guest0000/org.virtune.agent.0 " ] &&
                grep -q '^6695eb01f6a4830479aa97f2502e0001 1 /' "$c" || fail "the last scan's sockets: $(cat "$c")"
        echo "6695eb01f6a4830479aa97f2502e0999 9 $t/fleet/guest0999/org.virtune.agent.0" >>"$c"
        XDG_RUNTIME_DIR=$t/run expect_rc 0 "$H" -v "${L[@]}" scan --json
        grep -q "scan: 4 targets known after [0-9]* ms, 3 of them asked before" "$t/last" ||
                fail "the last scan's sockets were not asked first: $(cat "$t/last")"
        # the domains (UUID and id) the last scan found have their XML not read again; bare has
        # no channel and is read
        grep -q "libvirt: 4 running domains at test://$t/node.xml in [0-9.]* ms, 1 XML reads, 3 as the last time" "$t/last" ||
                fail "the cache did not spare the XML reads: $(grep libvirt: "$t/last")"
        ! grep -q guest0999 "$t/last" "$c" || fail "a socket no domain has was reported: $(cat "$t/last")"
        [ "$(grep -c '^{"domain":' "$t/last")" = 4 ] || fail "4 domains: $(cat "$t/last")"
        grep -q '^{"domain":"web","uuid":"6695eb01-f6a4-8304-79aa-97f2502e0001","socket":".*stale/guest0000/org.virtune.agent.0","up":true' "$t/last" &&
                grep -q '^{"domain":"alpha","uuid":"6695eb01-f6a4-8304-79aa-97f2502e0003","socket":".*domain-3-alpha/org.virtune.agent.0","up":true' "$t/last" ||
                fail "labels of the guests asked first: $(cat "$t/last")"
        expect_rc 0 "$H" "${L[@]}" scan --prometheus
        grep -q '^virtune_up{domain="web",uuid="6695eb01-f6a4-8304-79aa-97f2502e0001"} 1$' "$t/last" ||
                fail "domain labels: $(cat "$t/last")"
        ! grep -q 'socket=\|domain="bare"' "$t/last" || fail "socket label or a series for bare"
        grep -q '^virtune_scan_domains_without_channel 1$' "$t/last" || fail "no-channel count"
        # --interval: one connection; from the second round only bare's XML is read again (a
        # domain without the channel may get it hot-plugged; the others have the same UUID and
        # id), the labels are the same each round
        expect_rc 0 "$H" -v "${L[@]}" scan --interval 0.1 --count 3 --json --prometheus-file "$t/lv.prom"
        [ "$(grep -c 'libvirt: 4 running domains at test://.* 1 XML reads, 3 as the last time' "$t/last")" = 2 ] ||
                fail "rounds 2 and 3 read XML: $(grep libvirt: "$t/last")"
        [ "$(grep -c '^{"domain":"web","uuid":"6695eb01-f6a4-8304-79aa-97f2502e0001",' "$t/last")" = 3 ] &&
                [ "$(grep -c '^{"domain":"bare",' "$t/last")" = 3 ] || fail "labels over 3 rounds: $(cat "$t/last")"
        grep -q '^virtune_up{domain="beta",uuid="6695eb01-f6a4-8304-79aa-97f2502e0004"} 1$' "$t/lv.prom" ||
                fail "--interval through libvirt: $(cat "$t/lv.prom")"
        if command -v promtool >/dev/null; then
                promtool check metrics <"$t/lv.prom" || fail "promtool check metrics (--interval, libvirt)"
        fi
        expect_rc 4 "$H" -c "test:///$t/nothing.xml" scan --interval 1
        expect_rc 0 "$H" "${L[@]}" -d web ping
        grep -q "The agent on web answered" "$t/last" || fail "-d web ping: $(cat "$t/last")"
        expect_rc 0 "$H" "${L[@]}" -d 6695eb01-f6a4-8304-79aa-97f2502e0001 ping
        expect_rc 3 "$H" "${L[@]}" -d bare ping
        grep -q "has no org.virtune.agent.0 channel: add it with virtune-host setup -d bare" "$t/last" ||
                fail "-d bare: $(cat "$t/last")"
        expect_rc 2 "$H" "${L[@]}" -d nosuch ping
        expect_rc 2 "$H" "${L[@]}" -d web -s "$t/host.sock" ping
        echo "ok: libvirt test driver: scan, labels, -d NAME|UUID, exit codes"
        case ${VT_SANITIZE:-none} in none | "") ;; *) export ASAN_OPTIONS=${ASAN_OPTIONS%:detect_leaks=0} ;; esac
fi
# The people's table: one row per guest under a header.
expect_rc 0 "$H" scan --table "$t/stale"
head -n1 "$t/last" | grep -q '^SOCKET .* UP .* RTT .* VERSION .* DRIFT .* PENDING REBOOT .* ATTESTATION  ERROR$' ||
        fail "table header: $(cat "$t/last")"
grep -q "^$t/stale/guest0000/org.virtune.agent.0 *yes " "$t/last" || fail "table row: $(cat "$t/last")"
S0=$t/stale/guest0000/org.virtune.agent.0
expect_rc 0 "$H" -s "$S0" plan --table
grep -q '^MODULE  *WHEN  *TARGET  *FROM  *TO  *WHY$' "$t/last" || fail "plan --table: $(cat "$t/last")"
grep -q '^iosched  *next-boot  */etc/udev/rules.d/60-virtune-iosched.rules  *-  *(3 lines)  ' "$t/last" ||
        fail "plan --table row: $(cat "$t/last")"
expect_rc 0 "$H" -s "$S0" status --table
grep -q '^DRIFT  *PENDING REBOOT  *REBOOT NEEDED  *LAST APPLY  *LAST REAPPLY$' "$t/last" &&
        grep -q '^channel  *port  *org.virtune.agent.0$' "$t/last" || fail "status --table: $(cat "$t/last")"
expect_rc 0 "$H" -s "$S0" plan
grep -q '^changes:$' "$t/last" || fail "plan to a pipe is the text rendering, not the table: $(cat "$t/last")"
expect_rc 2 "$H" -s "$S0" facts --table
# Without root, a directory that cannot be read is named, with the group to join.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
        mkdir -m 0750 "$t/private"
        chmod o+x "$t"
        setpriv --reuid=65534 --regid=65534 --clear-groups "$H" scan "$t/private" >"$t/last" 2>&1
        rc=$?
        [ "$rc" = 4 ] || fail "scan of an unreadable directory exited $rc: $(cat "$t/last")"
        grep -q "$t/private: permission denied; join the group 'root'" "$t/last" ||
                fail "permission message: $(cat "$t/last")"
fi
echo "ok"
