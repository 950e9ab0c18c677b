#!/bin/sh
# An image is untrusted: FIFOs, devices and sockets where virtune reads a config, a boot file
# or its journal are refused at once, naming the path and the file type; nothing hangs, no
# terminal or disk is read, nothing is written. Oversized configs are named by file and line.
set -u
fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/virtune-hostile.XXXXXX")
trap 'rm -rf "$T"' EXIT
bad() { echo "FAIL: $*"; fail=1; }

BLS=boot/loader/entries/3f6a9c1e2b7d4e8f9a0b1c2d3e4f5a6b-5.14.0-362.8.1.el9_3.x86_64.conf
# case: path in the image, how to make it, the type the message names, the command
check() {
        rel=$1 make=$2 type=$3 cmd=$4
        R="$T/r"; rm -rf "$R"
        cp -a "$VT_FIXTURES/boot-rhel9-bls/root" "$R"
        "$VT_SOURCE/tests/lib/add-x86-kernel" "$R" 5.14.0-362.8.1.el9_3.x86_64 # evidence for nopvspin
        mkdir -p "$R/etc/virtune" "$R/var/lib/virtune" "$(dirname "$R/$rel")"
        printf '[pvspin]\nenable = no\n' >"$R/etc/virtune/virtune.conf"
        rm -f "$R/$rel"
        case $make in
        fifo) mkfifo "$R/$rel" ;;
        chr) mknod "$R/$rel" c 1 5 ;;   # /dev/zero
        blk) mknod "$R/$rel" b 7 0 ;;   # /dev/loop0
        esac
        find "$R" -newer "$R/etc/virtune/virtune.conf" ! -type d ! -path '*/var/lib/virtune/*' |
                sort >"$T/before"
        timeout 20 "$VIRTUNE" "$cmd" --root "$R" </dev/null >"$T/out" 2>"$T/err"
        rc=$?
        [ "$rc" -eq 124 ] && { bad "$cmd with a $make at /$rel hangs"; return; }
        [ "$rc" -ne 0 ] || { bad "$cmd with a $make at /$rel exits 0"; cat "$T/out"; }
        cat "$T/out" >>"$T/err" # a failed change says why in apply's result
        grep -q "/$rel" "$T/err" || { bad "$cmd with a $make at /$rel: the message names the path"; cat "$T/err"; }
        grep -q "is a $type, not a regular file" "$T/err" ||
                { bad "$cmd with a $make at /$rel: the message names the type"; cat "$T/err"; }
        # (a rolled-back apply is journaled: virtune's own state is not the image's files)
        find "$R" -newer "$R/etc/virtune/virtune.conf" ! -type d ! -path '*/var/lib/virtune/*' |
                sort >"$T/after"
        cmp -s "$T/before" "$T/after" || { bad "$cmd with a $make at /$rel wrote files"; diff "$T/before" "$T/after"; }
        echo "ok: $cmd refuses a $make at /$rel"
}

check etc/virtune/virtune.conf fifo FIFO plan
check etc/virtune/virtune.conf chr "character device" plan
check etc/virtune/virtune.conf.d/50-evil.conf blk "block device" plan
check etc/default/grub fifo FIFO apply
check "$BLS" fifo FIFO apply
check var/lib/virtune/journal.json fifo FIFO apply
check var/lib/virtune/journal.json fifo FIFO revert

# A 10 MB line in virtune.conf: file:line, exit 2 (a configuration error), read in no time.
R="$T/big"; rm -rf "$R"; mkdir -p "$R/etc/virtune"
{ printf '[pvspin]\nenable = no\n[iosched]\nvirtio = '; head -c 10000000 /dev/zero | tr '\0' x; echo; } \
        >"$R/etc/virtune/virtune.conf"
timeout 20 "$VIRTUNE" plan --root "$R" >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -eq 2 ] || bad "a 10 MB policy line: exit $rc, want 2"
grep -q '/etc/virtune/virtune.conf:4: line longer than 4096 bytes' "$T/err" ||
        { bad "a 10 MB policy line is named by file and line"; cat "$T/err"; }

# A 1 GB (sparse) /etc/default/grub on Debian (read by the grub.d backend): named by its path.
R="$T/huge"; rm -rf "$R"
cp -a "$VT_FIXTURES/boot-debian12-cloud/root" "$R"
"$VT_SOURCE/tests/lib/add-x86-kernel" "$R" 6.1.0-13-cloud-amd64
mkdir -p "$R/etc/virtune"; printf '[pvspin]\nenable = no\n' >"$R/etc/virtune/virtune.conf"
truncate -s 1G "$R/etc/default/grub"
timeout 20 "$VIRTUNE" apply --root "$R" >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -eq 1 ] || bad "a 1 GB /etc/default/grub: exit $rc, want 1"
# (the sparse tail is one line of NULs: named as the long line it is)
grep -Eq '/etc/default/grub(: larger than 1024 KiB|:[0-9]+: line longer than 64 KiB)' "$T/out" ||
        { bad "a 1 GB /etc/default/grub is named by its path"; cat "$T/out" "$T/err"; }
[ "$fail" -eq 0 ] && echo "ok: oversized configs named by file (and line)"

# A 10 MB line in /etc/default/grub: named by file and line.
R="$T/longline"; rm -rf "$R"
cp -a "$VT_FIXTURES/boot-rhel9-bls/root" "$R"
"$VT_SOURCE/tests/lib/add-x86-kernel" "$R" 5.14.0-362.8.1.el9_3.x86_64
mkdir -p "$R/etc/virtune"; printf '[pvspin]\nenable = no\n' >"$R/etc/virtune/virtune.conf"
{ printf 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="'; head -c 10000000 /dev/zero | tr '\0' x; echo '"'; } \
        >"$R/etc/default/grub"
timeout 20 "$VIRTUNE" apply --root "$R" >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -eq 1 ] || bad "a 10 MB line in /etc/default/grub: exit $rc, want 1"
grep -q '/etc/default/grub:2: line longer than 64 KiB' "$T/out" ||
        { bad "a 10 MB line in /etc/default/grub is named by file and line"; cat "$T/out" "$T/err"; }

# A policy value with terminal control sequences: the error quotes it escaped, never raw.
R="$T/esc"; rm -rf "$R"; mkdir -p "$R/etc/virtune"
printf '[iosched]\nvirtio = \033]0;owned\007\r\033[2J\n' >"$R/etc/virtune/virtune.conf"
"$VIRTUNE" plan --root "$R" >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -eq 2 ] || bad "a policy value with ESC: exit $rc, want 2"
grep -q 'virtune.conf:2' "$T/err" || { bad "a policy value with ESC: file:line"; cat "$T/err"; }
if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$T/err"; then
        bad "a policy value's control characters reached the terminal raw"; od -c "$T/err" | head
fi
[ "$fail" -eq 0 ] && echo "ok: policy values in errors are escaped"
exit "$fail"
