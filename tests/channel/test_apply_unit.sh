#!/bin/bash
# apply and revert from the host when virtuned hands them to virtune-apply@.service (its own
# sandbox cannot write /etc): the real virtuned and worker on a test root, virtune-host through
# a chardev relay, and a stand-in for systemd's socket activation (apply-unit-standin.py; no
# systemd runs here). virtune-host exits 1 when the guest did not apply, saying why.
set -u
H=$VIRTUNE_HOST
FG=$VT_BUILD/tests/channel/fake_guests
W=$(dirname "$VIRTUNED")/virtuned-worker
t=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
start() { # start NAME CMD...: runs CMD in the background, waits for its "ready" line
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
R=$t/root
mkdir -p "$R/etc/virtune"
printf '[channel]\nallow-apply = yes\n' >"$R/etc/virtune/virtune.conf"
start relay "$FG" relay "$t/port.sock" "$t/host.sock"
start unit python3 "$VT_SOURCE/tests/channel/apply-unit-standin.py" "$W" "$R"
"$VIRTUNED" --root "$R" --port-path "$t/port.sock" --no-apply -q & pids+=($!)

rule=$R/etc/udev/rules.d/60-virtune-iosched.rules
expect_rc 0 "$H" -s "$t/host.sock" --timeout 30 apply
[ -f "$rule" ] || fail "apply through the unit wrote no udev rule"
# the stand-in logs the job when the service has exited, just after it answered
for _ in $(seq 100); do grep -q 'rc=' "$t/apply-unit.log" 2>/dev/null && break; sleep 0.1; done
[ "$(grep -c 'rc=0' "$t/apply-unit.log")" = 1 ] || fail "the apply unit ran: $(cat "$t/apply-unit.log")"
ok "virtune-host apply: the job ran in the apply unit and wrote the rule (exit 0)"
expect_rc 0 "$H" -s "$t/host.sock" --timeout 30 --json revert
tr -d ' ' <"$t/last" | grep -q '"status":"reverted"' || fail "revert: $(cat "$t/last")"
[ ! -e "$rule" ] || fail "revert through the unit left the rule"
ok "virtune-host revert: undone in the apply unit (exit 0)"

# Without the apply unit, under a read-only /etc (what ProtectSystem=strict gives virtuned, in a
# private mount namespace here): the apply rolls back, and virtune-host exits 1 saying why.
if unshare -m true 2>/dev/null; then
        start relay2 "$FG" relay "$t/port2.sock" "$t/host2.sock"
        mv "$R/run/virtune/apply.sock" "$t/apply.sock.away"
        unshare -m sh -c 'mount --make-rprivate / && mount --bind "$1/etc" "$1/etc" &&
                mount -o remount,ro,bind "$1/etc" && exec "$2" --root "$1" --port-path "$3" --no-apply -q' \
                sh "$R" "$VIRTUNED" "$t/port2.sock" & pids+=($!)
        expect_rc 1 "$H" -s "$t/host2.sock" --timeout 30 apply
        grep -q "the guest did not apply (status rolled-back): /etc/udev/rules.d/60-virtune-iosched.rules: Read-only file system" "$t/last" ||
                fail "a rolled-back apply does not say why: $(cat "$t/last")"
        ok "virtune-host apply exits 1 for a rolled-back apply, naming the file and the error"
        mv "$t/apply.sock.away" "$R/run/virtune/apply.sock"
else
        echo "SKIP (part): no private mount namespace here (unshare -m), the read-only case is not run"
fi

# The unit's side takes typed jobs only, and reads the policy itself.
job() { # job JSON: one frame to the apply socket, the reply's JSON on stdout
        python3 - "$R/run/virtune/apply.sock" "$1" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
b = sys.argv[2].encode(); s.sendall(struct.pack("=I", len(b)) + b)
n = struct.unpack("=I", s.recv(4, socket.MSG_WAITALL))[0]
print(s.recv(n, socket.MSG_WAITALL).decode())
PY
}
job '{"job": "apply", "exec": "/bin/sh"}' | grep -q '"rc":-22' || fail "an unknown field is run"
job '{"job": "apply", "only": ["../etc"]}' | grep -q '"rc":-22' || fail "an unknown module name is run"
printf '[channel]\nallow-apply = no\n' >"$R/etc/virtune/virtune.conf"
job '{"job": "apply", "dry-run": true}' | grep -q '"rc":-1,' || fail "the unit ran a job its policy refuses"
[ ! -e "$rule" ] || fail "a refused job wrote"
ok "the apply unit refuses unknown fields, unknown modules and a policy without allow-apply"
