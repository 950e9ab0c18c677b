#!/bin/sh
# The cloud-init files: the snippet is valid cloud-config and the per-instance script is sound.
set -u
cfg=$VT_SOURCE/units/cloud-init/virtune.cfg
script=$VT_SOURCE/units/cloud-init/per-instance-virtune
fail=0
if ! command -v cloud-init >/dev/null; then
        echo "SKIP: cloud-init is not installed (Debian package cloud-init)"
        exit 77
fi
if cloud-init schema --config-file "$cfg"; then echo "ok: schema"; else echo "FAIL: schema"; fail=1; fi
head -n1 "$cfg" | grep -qx '#cloud-config' || { echo "FAIL: first line is not #cloud-config"; fail=1; }
# The drop-in the snippet writes must be a valid policy: parse it in a temp root.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/virtune/virtune.conf.d"
python3 - "$cfg" "$root/etc/virtune/virtune.conf.d/50-cloud-init.conf" <<'PY' || fail=1
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
files = [f for f in doc['write_files'] if f['path'] == '/etc/virtune/virtune.conf.d/50-cloud-init.conf']
assert len(files) == 1, 'the snippet writes the drop-in'
open(sys.argv[2], 'w').write(files[0]['content'])
PY
if "$VIRTUNE" status --root "$root" >/dev/null; then echo "ok: drop-in parses"; else echo "FAIL: drop-in"; fail=1; fi
sh -n "$script" || { echo "FAIL: sh -n per-instance script"; fail=1; }
# Without virtune on PATH the script does nothing and succeeds (never runs a real apply here).
out=$(PATH=/nonexistent "$script" 2>&1); rc=$?
[ "$rc" -eq 0 ] && echo "$out" | grep -q 'not installed' && echo "ok: per-instance without virtune" ||
        { echo "FAIL: per-instance without virtune: $rc $out"; fail=1; }
exit $fail
