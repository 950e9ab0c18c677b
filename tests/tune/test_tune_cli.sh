#!/bin/sh
# virtune plan/apply/verify/revert/status through the binary, on temp roots only: exit codes,
# file:line config errors with nothing changed, the journal's round trip, the not-root message.
set -u
fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/virtune-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
say() { echo "$*"; }
bad() { echo "FAIL: $*"; fail=1; }
check() { # expected-exit description command...
        want=$1; shift; what=$1; shift
        "$@" >"$T/out" 2>"$T/err"; got=$?
        if [ "$got" -ne "$want" ]; then bad "$what: exit $got, want $want"; cat "$T/err"; else say "ok: $what"; fi
}

for c in plan apply verify revert status; do
        check 0 "$c --help" "$VIRTUNE" "$c" --help
        check 2 "$c stray argument" "$VIRTUNE" "$c" --root "$T" extra
done
grep -q -- '--no-bootloader' "$T/out" 2>/dev/null || "$VIRTUNE" apply --help | grep -q -- '--no-bootloader' ||
        bad "apply --help lists --no-bootloader"
check 2 "apply --only unknown module" "$VIRTUNE" apply --root "$T" --only frobnicate
# One error, one message: the option's own reason, not a second generic line after it.
[ "$(grep -c . "$T/err")" -eq 1 ] && grep -q "unknown module 'frobnicate' for --only" "$T/err" ||
        { bad "apply --only unknown module says it once"; cat "$T/err"; }
check 2 "eventlog --offset not a number" "$VIRTUNE" eventlog --offset 12x
[ "$(grep -c . "$T/err")" -eq 1 ] && grep -q -e "--offset '12x'" "$T/err" ||
        { bad "eventlog --offset says what is wrong once"; cat "$T/err"; }

# A bad config: exit 2, "file:line: message", and nothing written (no journal either).
R="$T/bad"; mkdir -p "$R/etc/virtune"
printf '[iosched]\nvirtio = noop\n' >"$R/etc/virtune/virtune.conf"
check 2 "apply with an unknown scheduler" "$VIRTUNE" apply --root "$R"
grep -q '/etc/virtune/virtune.conf:2: iosched.virtio = noop' "$T/err" || bad "scheduler error names file:line"
printf '[qga]\nblock-rpcs = guest-exec,guest-file-opne\n' >"$R/etc/virtune/virtune.conf"
check 2 "apply with a misspelled qemu-ga command" "$VIRTUNE" apply --root "$R"
grep -q "virtune.conf:2: qga.block-rpcs: unknown qemu-ga command 'guest-file-opne'" "$T/err" ||
        bad "qga error names file:line and the command"
printf '[haltpoll]\nenabled = yes\n' >"$R/etc/virtune/virtune.conf"
check 2 "plan with an unknown key" "$VIRTUNE" plan --root "$R"
grep -q "virtune.conf:2: unknown key 'enabled' in \[haltpoll\]" "$T/err" || bad "unknown key names file:line"
[ "$(find "$R" | wc -l)" -eq 4 ] || { bad "a refused config wrote files:"; find "$R"; }

# Offline root: plan, apply, verify 0, apply again no-op, revert removes what virtune wrote.
R="$T/image"; mkdir -p "$R"
check 0 "plan on an image" "$VIRTUNE" plan --root "$R" --json
grep -q '"live": false' "$T/out" || bad "plan says the image is not live"
check 0 "apply --dry-run" "$VIRTUNE" apply --root "$R" --dry-run
[ -z "$(ls -A "$R")" ] || bad "--dry-run wrote into the root"
check 0 "apply on an image" "$VIRTUNE" apply --root "$R"
[ -f "$R/etc/udev/rules.d/60-virtune-iosched.rules" ] || bad "apply wrote the udev rule"
[ -f "$R/var/lib/virtune/journal.json" ] || bad "apply wrote the journal"
check 0 "verify after apply" "$VIRTUNE" verify --root "$R"
check 0 "second apply" "$VIRTUNE" apply --root "$R" --json
grep -q '"status": "no-op"' "$T/out" || bad "second apply is a no-op"
check 0 "status" "$VIRTUNE" status --root "$R" --json
grep -q '"last_apply": {' "$T/out" || bad "status shows the last apply"
check 0 "revert" "$VIRTUNE" revert --root "$R"
[ ! -e "$R/etc" ] || { bad "revert left files virtune wrote:"; find "$R/etc"; }
check 1 "verify after revert reports drift" "$VIRTUNE" verify --root "$R"

# Not root on the running system: one clear message, nothing attempted.
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
        check 1 "apply as non-root" setpriv --reuid=65534 --regid=65534 --clear-groups "$VIRTUNE" apply
        grep -q 'needs root' "$T/err" || bad "non-root apply says it needs root"
        [ "$(wc -l <"$T/err")" -eq 1 ] || { bad "non-root apply prints one line"; cat "$T/err"; }
fi
exit $fail
