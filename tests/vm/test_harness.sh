#!/bin/bash
# The vtvm harness itself: a booted guest has the devices the end-to-end tests rely on, the
# script's output and exit status come back exactly, and start/exec/stop drive a running guest.
set -u
# shellcheck source=tests/vm/lib.sh
# shellcheck source=tests/vm/lib.sh
. "${VT_SOURCE:-$(dirname "$0")/../..}/tests/vm/lib.sh"
expect() { # description want got
        if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$3', want '$2'"; fi
}

# --- run: devices, files, output and exit status -----------------------------------------
printf 'payload\n' >"$tmp/payload"
cat >"$tmp/guest.sh" <<'EOF'
for p in org.virtune.agent.0 org.qemu.guest_agent.0; do
        l=$(readlink /dev/virtio-ports/$p) && echo "port $p $(cat /sys/class/virtio-ports/${l##*/}/name)"
done
echo "tpm0 $(basename "$(readlink /sys/class/tpm/tpm0/device/driver)")"
# securityfs reports size 0: count the bytes.
s=$(wc -c </sys/kernel/security/tpm0/binary_bios_measurements 2>/dev/null)
[ "${s:-0}" -gt 0 ] && echo "eventlog yes"
echo "rng $(cat /sys/class/misc/hw_random/rng_available)"
echo "vda $(cat /sys/block/vda/queue/scheduler)"
echo "vda-driver $(basename "$(readlink /sys/block/vda/device/driver)")"
echo "file $(cat /opt/payload)"
echo "qemu-ga $(command -v qemu-ga)"
qemu-ga --version >/dev/null 2>&1 && echo "qemu-ga runs"
echo "to-stderr" >&2
exit 7
EOF
out=$("$vtvm" run --file "$tmp/payload:/opt/payload" --script "$tmp/guest.sh" --timeout 120 2>"$tmp/err")
rc=$?
[ "$rc" = 77 ] && exit 77
expect "run returns the guest script's exit status" 7 "$rc"
want="port org.virtune.agent.0 org.virtune.agent.0
port org.qemu.guest_agent.0 org.qemu.guest_agent.0
tpm0 tpm_crb
eventlog yes
rng virtio_rng.0 
vda [none] mq-deadline 
vda-driver virtio_blk
file payload
qemu-ga /usr/bin/qemu-ga
qemu-ga runs
to-stderr"
expect "run prints the guest's devices, files and output exactly" "$want" "$out"
[ "$rc" = 7 ] || cat "$tmp/err"

# --- start / exec / stop ------------------------------------------------------------------
cat >"$tmp/daemon.sh" <<'EOF'
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -d
echo started
EOF
if "$vtvm" start --script "$tmp/daemon.sh" --timeout 120 >"$tmp/env" 2>"$tmp/err"; then
        # shellcheck disable=SC1091
        . "$tmp/env"
        expect "start reports the script's status" 0 "$VTVM_SCRIPT_STATUS"
        [ -S "$VTVM_QGA_SOCK" ] && ok "start exposes the qemu-ga socket" || bad "no $VTVM_QGA_SOCK"
        [ -S "$VTVM_AGENT_SOCK" ] && ok "start exposes the agent socket" || bad "no $VTVM_AGENT_SOCK"
        out=$("$vtvm" exec "$VTVM_DIR" 'pidof qemu-ga >/dev/null && echo running; exit 5')
        rc=$?
        expect "exec prints the command's output" running "$out"
        expect "exec returns the command's status" 5 "$rc"
        out=$("$vtvm" exec "$VTVM_DIR" 'echo again')
        expect "exec works twice on one guest" again "$out"
        # qemu-ga answers guest-sync-delimited through the host socket: 0xFF then the reply.
        out=$("${VT_SOURCE:-$(dirname "$0")/../..}/tests/lib/qga-ask" "$VTVM_QGA_SOCK" 30)
        expect "qemu-ga in the guest answers on the host socket" '{"return": 7}' "$out"
        "$vtvm" stop "$VTVM_DIR"
        [ -e "$VTVM_DIR" ] && bad "stop leaves $VTVM_DIR" || ok "stop removes the VM directory"
else
        bad "start failed: $(cat "$tmp/err")"
fi
exit $fail
