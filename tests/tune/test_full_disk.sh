#!/bin/sh
# apply on a full disk (a small tmpfs, every amount of free space from none to enough) and on
# read-only bind mounts: whatever fails, revert gives back the original bytes of every file.
# Runs in a private mount namespace (unshare -m): nothing is mounted on this machine's tree.
set -u
if [ "${1:-}" != "--inside" ]; then
        [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (mounts in a private namespace)"; exit 77; }
        unshare -m --propagation private true 2>/dev/null ||
                { echo "SKIP: unshare -m is not allowed here"; exit 77; }
        exec unshare -m --propagation private sh "$0" --inside
fi

fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/virtune-full.XXXXXX")
trap 'umount -R "$T/mnt" 2>/dev/null; rm -rf "$T"' EXIT
bad() { echo "FAIL: $*"; fail=1; }

# The original: a boot-line change (three boot files) and a new udev rule in new directories.
O="$T/original"
cp -a "$VT_FIXTURES/boot-rhel9-bls/root" "$O"
"$VT_SOURCE/tests/lib/add-x86-kernel" "$O" 5.14.0-362.8.1.el9_3.x86_64 # evidence for nopvspin
mkdir -p "$O/etc/virtune"
printf '[pvspin]\nenable = no\n' >"$O/etc/virtune/virtune.conf"

same() { # root: every file but virtune's state is the original's, no temp file left
        diff -r -x var "$O" "$1" >/dev/null && [ -z "$(find "$1" -name '.#*')" ]
}

# A tmpfs with `free` 4 KiB blocks left once the root is copied in.
full_root() {
        umount "$T/mnt" 2>/dev/null
        mkdir -p "$T/mnt"
        mount -t tmpfs -o size=2m,nr_inodes=4096 tmpfs "$T/mnt" || exit 1
        cp -a "$O" "$T/mnt/root"
        avail=$(stat -f -c %a "$T/mnt")
        fill=$((avail - $1))
        [ "$fill" -gt 0 ] && fallocate -l $((fill * 4096)) "$T/mnt/filler"
        R="$T/mnt/root"
}

# The change under test: apply, or a `virtune cmdline set` (journaled like one) of two tokens.
change() {
        if [ "$1" = apply ]; then
                "$VIRTUNE" apply --root "$2"
        else
                "$VIRTUNE" cmdline --root "$2" set nopvspin mitigations=off
        fi
}

for what in apply cmdline-set; do
        enospc_cases=0 enospc_failed_apply=0 enospc_second_revert=0
        for free in $(seq 0 40); do
                full_root "$free"
                change "$what" "$R" >"$T/out" 2>&1 && applied=1 || applied=0
                [ "$applied" -eq 0 ] && enospc_failed_apply=$((enospc_failed_apply + 1))
                "$VIRTUNE" revert --root "$R" >>"$T/out" 2>&1
                if ! same "$R"; then
                        # revert could not write on the full disk: once there is room, it must finish
                        rm -f "$T/mnt/filler"
                        enospc_second_revert=$((enospc_second_revert + 1))
                        "$VIRTUNE" revert --root "$R" >>"$T/out" 2>&1
                        same "$R" || { bad "$what, ENOSPC with $free blocks free: revert did not restore"; cat "$T/out"; diff -r -x var "$O" "$R"; }
                fi
                enospc_cases=$((enospc_cases + 1))
        done
        umount "$T/mnt"
        echo "$what, ENOSPC: $enospc_cases cases, $what failed in $enospc_failed_apply, a revert after freeing space needed in $enospc_second_revert"

        # Read-only bind mounts over one directory of the image at a time.
        erofs_cases=0
        for d in boot boot/loader/entries etc/default etc/kernel etc var/lib/virtune; do
                rm -rf "$T/ro"
                cp -a "$O" "$T/ro"
                R="$T/ro"
                mkdir -p "$R/$d"
                mount --bind "$R/$d" "$R/$d" && mount -o remount,bind,ro "$R/$d" || { bad "bind mount $d"; continue; }
                change "$what" "$R" >"$T/out" 2>&1
                "$VIRTUNE" revert --root "$R" >>"$T/out" 2>&1
                umount "$R/$d"
                if ! same "$R"; then
                        "$VIRTUNE" revert --root "$R" >>"$T/out" 2>&1
                        same "$R" || { bad "$what, EROFS on /$d: revert did not restore"; cat "$T/out"; diff -r -x var "$O" "$R"; }
                fi
                erofs_cases=$((erofs_cases + 1))
        done
        echo "$what, EROFS: $erofs_cases cases"
done
[ "$fail" -eq 0 ] && echo "ok: every ENOSPC and EROFS case restored by revert"
exit "$fail"
