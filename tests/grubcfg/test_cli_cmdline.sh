#!/bin/sh
# virtune cmdline on a copy of a fixture: exact diff, --dry-run writes nothing, exit codes.
set -u
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$VT_FIXTURES/boot-sles15-sp5/root" "$tmp/root"
say() { echo "$1: $2"; [ "$1" = ok ] || fail=1; }

out=$("$VIRTUNE" cmdline set cpuidle_haltpoll.force=Y --root "$tmp/root" --dry-run 2>/dev/null)
[ $? -eq 0 ] && say ok "set --dry-run exits 0" || say FAIL "set --dry-run exit"
want='--- a/etc/default/grub
+++ b/etc/default/grub
@@ -9,7 +9,7 @@'
[ "$(printf '%s\n' "$out" | head -3)" = "$want" ] && say ok "dry-run diff header" || say FAIL "dry-run diff: $out"
printf '%s\n' "$out" | grep -qx '+GRUB_CMDLINE_LINUX="cpuidle_haltpoll.force=Y"' && say ok "dry-run + line" || say FAIL "dry-run + line"
cmp -s "$tmp/root/etc/default/grub" "$VT_FIXTURES/boot-sles15-sp5/root/etc/default/grub" && say ok "dry-run wrote nothing" || say FAIL "dry-run wrote"

out2=$("$VIRTUNE" cmdline set cpuidle_haltpoll.force=Y --root "$tmp/root" 2>/dev/null)
[ "$out2" = "$out" ] && say ok "set prints the same diff it applies" || say FAIL "set diff differs"
grep -qx 'GRUB_CMDLINE_LINUX="cpuidle_haltpoll.force=Y"' "$tmp/root/etc/default/grub" && say ok "set wrote" || say FAIL "set wrote"
[ -z "$("$VIRTUNE" cmdline set cpuidle_haltpoll.force=Y --root "$tmp/root" 2>/dev/null)" ] && say ok "second set: no diff" || say FAIL "second set diff"
"$VIRTUNE" cmdline show --root "$tmp/root" --json | grep -q '"pending"' && say ok "show --json" || say FAIL "show --json"
"$VIRTUNE" cmdline remove cpuidle_haltpoll.force --root "$tmp/root" >/dev/null 2>&1
cmp -s "$tmp/root/etc/default/grub" "$VT_FIXTURES/boot-sles15-sp5/root/etc/default/grub" && say ok "remove undoes set" || say FAIL "remove"

printf 'GRUB_CMDLINE_LINUX="ro\n' > "$tmp/root/etc/default/grub"
err=$("$VIRTUNE" cmdline set a=b --root "$tmp/root" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && say ok "refusal exits 1" || say FAIL "refusal exit $rc"
case "$err" in *"/etc/default/grub:1: unbalanced double quote; nothing was changed"*) say ok "refusal names file:line" ;; *) say FAIL "refusal message: $err" ;; esac

# Each case is split into words on purpose; the \" in the third is a literal character of an
# argument (a quote in a key), not shell quoting.
# shellcheck disable=SC2089
for bad in "set" "frob x" "set a\"b=c" "show extra"; do
        # shellcheck disable=SC2086,SC2090
        "$VIRTUNE" cmdline $bad --root "$tmp/root" >/dev/null 2>&1; rc=$?
        [ $rc -eq 2 ] && say ok "usage: cmdline $bad" || say FAIL "usage: cmdline $bad exit $rc"
done
"$VIRTUNE" cmdline --help | grep -q -- '--dry-run' && say ok "--help lists --dry-run" || say FAIL "--help"
exit $fail
