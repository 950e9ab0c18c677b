#!/bin/bash
# suite image, flows 3, 4, 5 and 8 of issue 11 in one booted image with the installed packages:
# virtuned under its shipped unit (READY=1, the sandbox scores, every channel command, apply
# and revert over the channel), udev for real (a hot-added disk, the port re-attached), qemu-ga
# under Debian's unit refusing and allowing its RPCs, and the purge of the package after an
# apply leaving the boot configuration and every path virtune writes as before virtune.
set -u
# shellcheck source=tests/image/lib.sh
# shellcheck source=tests/image/lib.sh
. "$(dirname "$0")/lib.sh"

img_new
vm_boot
sock=$D/agent.sock
h() { "$host" --socket "$sock" --timeout 300 "$@"; }

# One request to the guest's qemu-ga after a guest-sync-delimited: prints its reply.
qga() { "${VT_SOURCE:-$(dirname "$0")/../..}/tests/lib/qga-ask" "$D/qga.sock" 60 "$1"; }
# qga_check allows|refuses WHEN: guest-exec and guest-file-open answer with a return, or with
# an error; guest-ping answers either way.
# The restart of qemu-ga may still be under way when the command returns: up to 120 s, said.
qga_check() {
        local want=$1 when=$2 r rpc t
        for rpc in 'guest-exec {"path":"/bin/true"}' 'guest-file-open {"path":"/etc/hostname"}'; do
                for t in $(seq 0 60); do
                        r=$(qga "{\"execute\":\"${rpc%% *}\",\"arguments\":${rpc#* }}" 2>&1)
                        case $want:$r in
                        allows:*'"return"'* | refuses:*'"CommandNotFound"'*) break ;;
                        esac
                        sleep 2
                done
                case $want:$r in
                allows:*'"return"'* | refuses:*'"CommandNotFound"'*)
                        ok "flow 5: $when qemu-ga $want ${rpc%% *}$([ "$t" -gt 0 ] && echo " (after $((t * 2))s: the restart was still under way)")" ;;
                *) bad "flow 5: $when qemu-ga should have $want ${rpc%% *}: $r" ;;
                esac
        done
        r=$(qga '{"execute":"guest-ping"}' 2>&1)
        [[ "$r" == *'"return"'* ]] && ok "flow 5: $when guest-ping answers" || bad "flow 5: $when guest-ping: $r"
}

# --- flow 3: virtuned under its shipped unit ------------------------------------------------
show=$(g 'systemctl show -p Type,ActiveState,SubState,NRestarts,ExecMainStatus virtuned.service')
echo "$show" | tr '\n' ' '
echo
[[ "$show" == *"Type=notify"* && "$show" == *"ActiveState=active"* && "$show" == *"SubState=running"* ]] &&
        ok "flow 3: virtuned (Type=notify) is active: READY=1 reached" || bad "flow 3: virtuned: $show"
[[ "$show" == *"NRestarts=0"* ]] && ok "flow 3: virtuned started once" ||
        bad "flow 3: virtuned restarted at boot: $(g 'journalctl -b -u virtuned -o cat | head -n 5')"
exposure() { g "systemd-analyze security $1" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'; }
e=$(exposure virtuned.service)
awk -v e="$e" 'BEGIN { exit !(e != "" && e <= 2.0) }' && ok "flow 3: systemd-analyze security virtuned: $e <= 2.0" ||
        bad "flow 3: systemd-analyze security virtuned: '$e' (want <= 2.0)"
e=$(exposure virtune-firstboot.service)
awk -v e="$e" 'BEGIN { exit !(e != "" && e <= 5.0) }' && ok "flow 3: systemd-analyze security virtune-firstboot: $e <= 5.0" ||
        bad "flow 3: systemd-analyze security virtune-firstboot: '$e' (want <= 5.0)"
for c in ping info facts status plan pcrs eventlog "quote --random" "verify --random"; do
        # shellcheck disable=SC2086
        h $c >"$tmp/c.out" 2>&1
        rc=$?
        [ "$rc" = 0 ] && ok "flow 3: virtune-host $c answers" || { head -n 5 "$tmp/c.out"; bad "flow 3: virtune-host $c: exit $rc"; }
done

# --- flow 4: udev for real, with the rule of the first boot's apply ----------------------
truncate -s 64M "$tmp/hot.img"
"$vtimage" qmp "$D" "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"hot0\",\"file\":{\"driver\":\"file\",\"filename\":\"$tmp/hot.img\"}}}" >/dev/null &&
        "$vtimage" qmp "$D" '{"execute":"device_add","arguments":{"driver":"virtio-blk-pci","drive":"hot0","id":"hotdisk","num-queues":1}}' >/dev/null ||
        bad "flow 4: QMP hot-add of a virtio disk"
sched=$(g 'for i in $(seq 120); do [ -e /sys/block/vdb ] && break; sleep 0.5; done; udevadm settle; cat /sys/block/vdb/queue/scheduler')
[[ "$sched" == *"[none]"* ]] && ok "flow 4: the hot-added virtio disk's scheduler is none under udevd ($sched)" ||
        bad "flow 4: the hot-added disk's scheduler: $sched"
g 'systemctl stop virtuned.service'
"$vtimage" qmp "$D" '{"execute":"device_del","arguments":{"id":"org.virtune.agent.0"}}' >/dev/null ||
        bad "flow 4: QMP device_del of the agent port"
g 'for i in $(seq 60); do [ -e /dev/virtio-ports/org.virtune.agent.0 ] || break; sleep 0.5; done'
"$vtimage" qmp "$D" '{"execute":"device_add","arguments":{"driver":"virtserialport","bus":"vser0.0","chardev":"port1","name":"org.virtune.agent.0","id":"org.virtune.agent.0"}}' >/dev/null ||
        bad "flow 4: QMP device_add of the agent port"
st=$(g 'for i in $(seq 120); do systemctl -q is-active virtuned.service && break; sleep 0.5; done; systemctl is-active virtuned.service')
[ "$st" = active ] && ok "flow 4: re-attaching the port started virtuned (SYSTEMD_WANTS)" || bad "flow 4: virtuned after re-attaching the port: $st"
h ping >/dev/null 2>&1 && ok "flow 4: virtuned answers on the re-attached port" || bad "flow 4: no answer on the re-attached port"

# --- flow 5 (first half): qemu-ga after the first boot's apply, then after a revert ---------
g 'systemctl status --no-pager -n 20 virtune-firstboot.service qemu-guest-agent.service; cat /etc/qemu/qemu-ga.conf' >"$tmp/fb.out" 2>&1
sed 's/^/  | /' "$tmp/fb.out"
qga_check refuses "after the first boot's apply,"
g 'virtune revert' >"$tmp/revert.out" 2>&1 || { cat "$tmp/revert.out"; bad "flow 5: virtune revert"; }
# The first boot applied before qemu-ga started (virtune-firstboot is ordered before it): its
# try-restart did nothing then, and is what makes this revert restart the qemu-ga started since.
grep -A4 'module: qga' "$tmp/revert.out" | grep 'kind:\|target:' | sed 's/^/  revert: /'
qga_check allows "after virtune revert,"

# --- flow 3: apply over the channel ---------------------------------------------------------
h apply >"$tmp/apply.out" 2>&1
rc=$?
[ "$rc" = 1 ] && ok "flow 3: virtune-host apply with allow-apply = no: exit 1" ||
        { cat "$tmp/apply.out"; bad "flow 3: virtune-host apply refused by the guest should exit 1, not $rc"; }
g 'printf "[channel]\nallow-apply = yes\n" >/etc/virtune/virtune.conf.d/60-channel.conf && systemctl restart virtuned.service' ||
        { g 'systemctl status --no-pager -n 20 virtuned.service' | sed 's/^/  | /'; bad "flow 3: virtuned did not restart with allow-apply = yes"; }
h apply >"$tmp/apply.out" 2>&1
rc=$?
cat "$tmp/apply.out"
if [ "$rc" = 0 ] && grep -q 'status: applied' "$tmp/apply.out"; then
        ok "flow 3: virtune-host apply with allow-apply = yes: applied under the sandbox (virtune-apply@)"
        qga_check refuses "after virtune-host apply,"
else
        bad "flow 3: virtune-host apply with allow-apply = yes: exit $rc (above)"
fi

# --- flow 3 and 5: revert over the channel --------------------------------------------------
h revert >"$tmp/revert.out" 2>&1
rc=$?
cat "$tmp/revert.out"
if [ "$rc" = 0 ] && grep -q 'status: reverted' "$tmp/revert.out"; then
        ok "flow 3: virtune-host revert: reverted under the sandbox"
        qga_check allows "after virtune-host revert,"
else
        bad "flow 3: virtune-host revert: exit $rc (above)"
fi
g 'rm -f /etc/virtune/virtune.conf.d/60-channel.conf'

# --- virtune-firstboot run again by hand while qemu-ga runs ---------------------------------
# Its apply restarts qemu-ga, which is ordered after virtune-firstboot: a restart job that kept
# that order would wait for firstboot's own start job, which waits for the apply (a deadlock).
g 'rm -f /var/lib/virtune/firstboot.done; timeout 600 systemctl restart virtune-firstboot.service; echo "rc=$?"' >"$tmp/fb2.out" 2>&1
if grep -q '^rc=0$' "$tmp/fb2.out"; then
        ok "virtune-firstboot run again by hand while qemu-ga runs: it ends (no wait on its own job)"
        qga_check refuses "after virtune-firstboot run again,"
else
        sed 's/^/  | /' "$tmp/fb2.out"
        g 'systemctl list-jobs --no-pager' | sed 's/^/  jobs: /'
        bad "virtune-firstboot run again by hand while qemu-ga runs did not end"
fi
# --- qemu-ga's start limit: applies and reverts back to back ----------------------------------
# systemd refuses a sixth start of a unit within 10 s (Debian's qemu-guest-agent.service keeps
# the default StartLimitBurst=5): six apply/revert rounds as fast as they go come closer together
# than that. The restart that hits the limit is reset and started once more (sdbus.c), so
# qemu-ga is never left down by virtune's own restarts; the last command's state (revert: RPCs
# allowed) is the one in force.
burst='virtune revert 2>&1 || echo "burst-fail: revert 0: exit $?"; t0=$(date +%s%N);'
burst+=' for i in 1 2 3 4 5 6; do virtune apply --only qga 2>&1 || echo "burst-fail: apply $i: exit $?";'
burst+=' virtune revert 2>&1 || echo "burst-fail: revert $i: exit $?"; done;'
burst+=' echo "burst: $(( ($(date +%s%N) - t0) / 1000000 )) ms for 6 rounds"'
g "$burst" >"$tmp/burst.out" 2>&1
grep -E "start limit|^burst|status:|error" "$tmp/burst.out" | sed 's/^/  | /'
hits=$(grep -c "hit systemd's start limit" "$tmp/burst.out")
if grep -q '^burst-fail' "$tmp/burst.out"; then
        bad "apply/revert burst: a command failed (above)"
else
        ok "apply/revert burst: 13 commands, each restarting qemu-ga, each exit 0 (start limit hit and reset $hits times$([ "$hits" = 0 ] && echo ': this run was too slow to reach it'))"
fi
st=$(g 'systemctl show -p ActiveState,SubState,Result qemu-guest-agent.service' | tr '\n' ' ')
[[ "$st" == *"ActiveState=active"* ]] && ok "apply/revert burst: qemu-ga is active afterwards ($st)" ||
        { g 'systemctl status --no-pager -n 20 qemu-guest-agent.service' | sed 's/^/  | /'; bad "apply/revert burst: qemu-ga after the burst: $st"; }
qga_check allows "after the apply/revert burst (revert last),"

# --- a restart that fails: the apply rolls back and qemu-ga runs again, with its old config ---
# A drop-in (in /run, the test's own) makes qemu-ga refuse to start while its config blocks RPCs:
# the apply's restart fails with the agent down; the rollback restores the config and must start
# the agent (a try-restart would leave it down).
dropin=/run/systemd/system/qemu-guest-agent.service.d/vt-test-refuse.conf
g "mkdir -p ${dropin%/*} && echo '[Service]' >$dropin && echo 'ExecStartPre=/bin/sh -c \"! grep -qs ^block-rpcs /etc/qemu/qemu-ga.conf\"' >>$dropin && systemctl daemon-reload && systemctl restart qemu-guest-agent.service" ||
        bad "rollback: cannot install the refusing drop-in"
g 'virtune apply --no-bootloader --only qga; echo "rc=$?"' >"$tmp/rb.out" 2>&1
grep -E 'status:|result:|error|^rc=' "$tmp/rb.out" | sed 's/^/  | /'
grep -q '^rc=1$' "$tmp/rb.out" && grep -q 'status: rolled-back' "$tmp/rb.out" &&
        ok "rollback: qemu-ga's restart failed under the new config: exit 1, rolled back" ||
        bad "rollback: the failed restart should roll the apply back (above)"
st=$(g 'for i in $(seq 60); do systemctl is-active --quiet qemu-guest-agent.service && break; sleep 1; done; systemctl show -p ActiveState -p Result qemu-guest-agent.service | tr "\n" " "')
[[ "$st" == *"ActiveState=active"* ]] && ok "rollback: qemu-ga runs again after the rollback ($st)" ||
        { g 'systemctl status --no-pager -n 20 qemu-guest-agent.service' | sed 's/^/  | /'; bad "rollback: qemu-ga is down after the rollback: $st"; }
qga_check allows "after the rolled-back apply,"
g "rm -rf ${dropin%/*} && systemctl daemon-reload && systemctl reset-failed qemu-guest-agent.service; systemctl restart qemu-guest-agent.service" ||
        bad "rollback: cannot remove the refusing drop-in"

# --- flow 8: purge after an apply -----------------------------------------------------------
g 'printf "[haltpoll]\nenable = yes\n" >/etc/virtune/virtune.conf.d/50-image.conf && virtune apply' >"$tmp/apply2.out" 2>&1 ||
        { cat "$tmp/apply2.out"; bad "flow 8: virtune apply before the purge"; }
g "grep -c 'cpuidle_haltpoll.force=Y' /boot/grub/grub.cfg" >/dev/null && ok "flow 8: the apply changed grub.cfg" ||
        bad "flow 8: the apply did not change grub.cfg"
g 'dpkg -P virtune' >"$tmp/purge.out" 2>&1 || { cat "$tmp/purge.out"; bad "flow 8: dpkg -P virtune"; }
cat "$tmp/purge.out"
g 'cat /var/lib/vtimage/before' >"$tmp/before"
g '/usr/local/sbin/vt-manifest' >"$tmp/after"
if diff "$tmp/before" "$tmp/after" >"$tmp/diff"; then
        ok "flow 8: after dpkg -P, the boot configuration and every path virtune writes are as before virtune"
else
        cat "$tmp/diff"
        bad "flow 8: after dpkg -P, files differ from before virtune (above)"
fi
left=$(g 'ls -d /var/lib/virtune /etc/virtune /lib/systemd/system/virtune* /etc/systemd/system/*/virtune* 2>/dev/null')
[ -z "$left" ] && ok "flow 8: no state, configuration or unit of virtune's left" || bad "flow 8: left after purge: $left"
g 'test -x /usr/bin/virtune-host' && ok "flow 8: virtune-host (its own package) stays" || bad "flow 8: virtune-host went with virtune"
exit $fail
