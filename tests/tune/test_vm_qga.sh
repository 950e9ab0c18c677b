#!/bin/bash
# In a QEMU guest (tests/vm/vtvm) with a real qemu-ga 7.2: `virtune apply` writes the block list
# where that qemu-ga reads it; once restarted, qemu-ga refuses a real guest-exec from the host
# with its own error; `virtune revert` and another restart let guest-exec run again. Then, with
# a systemd stand-in (Debian's unit file, /run/systemd/system and a systemctl that logs its calls and
# restarts qemu-ga: no systemd runs in this guest), apply and revert restart qemu-ga themselves:
# a config-only change restarts without a daemon-reload, and revert restarts after the files
# are back.
# Suite vm; skips (77) only when qemu is missing.
set -u
vtvm=$VT_SOURCE/tests/vm/vtvm
command -v qemu-system-x86_64 >/dev/null || {
        echo "SKIP: qemu-system-x86_64 is not installed"
        exit 77
}
tmp=$(mktemp -d)
dir=
trap '[ -n "$dir" ] && "$vtvm" stop "$dir"; rm -rf "$tmp"' EXIT
cat >"$tmp/daemon.sh" <<'EOF'
mkdir -p /etc/qemu # Debian's qemu-guest-agent ships the directory: qemu-ga.conf is the place
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -d
echo started
EOF
# qemu-ga read its files at start: stop it, wait until it is gone, start it again.
restart='pid=$(pidof qemu-ga); kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.1; done; qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -d; echo restarted'
# One request through the host's socket after a guest-sync-delimited: prints qemu-ga's reply.
ask() { "$VT_SOURCE/tests/lib/qga-ask" "$VTVM_QGA_SOCK" 30 "$1"; }
exec_req='{"execute":"guest-exec","arguments":{"path":"/bin/true"}}'
printf '[Unit]\nDescription=QEMU Guest Agent\n[Service]\nExecStart=/usr/sbin/qemu-ga\n' >"$tmp/qga.service"
cat >"$tmp/systemctl" <<SH
#!/bin/sh
# systemctl stand-in: logs its arguments; try-restart of qemu-ga restarts it as above
echo "\$*" >>/run/systemctl.log
case "\$1" in try-restart) $restart >/dev/null ;; esac
SH
chmod +x "$tmp/systemctl"
out=$("$vtvm" start --bin "$VIRTUNE" --script "$tmp/daemon.sh" --timeout 120 \
        --file "$tmp/systemctl:/usr/local/sbin/systemctl" \
        --file "$tmp/qga.service:/lib/systemd/system/qemu-guest-agent.service" 2>"$tmp/err")
st=$?
[ $st -eq 77 ] && exit 77
[ $st -eq 0 ] || { echo "FAIL: vtvm start: $(cat "$tmp/err")"; exit 1; }
eval "$out"
dir=$VTVM_DIR
fail=0
want() { [ "$2" = "$3" ] && echo "ok: $1" || { echo "FAIL: $1: want '$2', got '$3'"; fail=1; }; }
like() { grep -q -- "$2" <<<"$3" && echo "ok: $1" || { echo "FAIL: $1: want /$2/, got '$3'"; fail=1; }; }
g() { "$vtvm" exec "$dir" "$1" 2>&1; }

like "guest-exec runs before apply" '^{"return": {"pid": [0-9]*}}$' "$(ask "$exec_req")"
out=$(g 'virtune apply --only qga; echo "apply=$?"')
echo "$out" | sed 's/^/apply: /'
like "apply exits 0" '^apply=0$' "$out"
want "qemu-ga.conf written" \
        "# Written by virtune; \`virtune revert\` removes it. Do not edit.
[general]
block-rpcs=guest-exec,guest-exec-status,guest-file-open,guest-file-close,guest-file-read,guest-file-write,guest-file-seek,guest-file-flush,guest-set-user-password,guest-ssh-add-authorized-keys,guest-ssh-remove-authorized-keys" \
        "$(g 'cat /etc/qemu/qemu-ga.conf')"
want "qemu-ga restarted" restarted "$(g "$restart")"
want "guest-exec refused with qemu-ga's own error" \
        '{"error": {"class": "CommandNotFound", "desc": "Command guest-exec has been disabled"}}' \
        "$(ask "$exec_req")"
like "guest-ping still answers" '^{"return": {}}$' "$(ask '{"execute":"guest-ping"}')"
out=$(g 'virtune verify --json | grep -c "\"module\": \"qga\""')
want "verify sees the running qemu-ga's list: no qga drift" 0 "$out"
out=$(g 'virtune revert; echo "revert=$?"; test -e /etc/qemu/qemu-ga.conf && echo conf-left || echo conf-gone')
like "revert exits 0" '^revert=0$' "$out"
like "revert removes the owned qemu-ga.conf" '^conf-gone$' "$out"
want "qemu-ga restarted after revert" restarted "$(g "$restart")"
like "guest-exec runs again after revert" '^{"return": {"pid": [0-9]*}}$' "$(ask "$exec_req")"

# Under systemd (the stand-in): apply restarts qemu-ga itself, with no daemon-reload for a
# config file; revert restarts it after the config is gone.
g 'mkdir -p /run/systemd/system; rm -f /run/systemctl.log' >/dev/null
out=$(g 'PATH=/usr/local/sbin:$PATH virtune apply --only qga; echo "apply=$?"')
like "apply under systemd exits 0" '^apply=0$' "$out"
want "only qemu-ga.conf changed: one try-restart, no daemon-reload" \
        "try-restart qemu-guest-agent.service --job-mode=ignore-dependencies" "$(g 'cat /run/systemctl.log')"
want "guest-exec refused after apply's own restart" \
        '{"error": {"class": "CommandNotFound", "desc": "Command guest-exec has been disabled"}}' \
        "$(ask "$exec_req")"
g 'rm -f /run/systemctl.log' >/dev/null
out=$(g 'PATH=/usr/local/sbin:$PATH virtune revert; echo "revert=$?"')
like "revert under systemd exits 0" '^revert=0$' "$out"
want "revert restarts qemu-ga once, no daemon-reload" \
        "try-restart qemu-guest-agent.service --job-mode=ignore-dependencies" "$(g 'cat /run/systemctl.log')"
like "guest-exec runs after revert's own restart (the files were back first)" \
        '^{"return": {"pid": [0-9]*}}$' "$(ask "$exec_req")"
exit $fail
