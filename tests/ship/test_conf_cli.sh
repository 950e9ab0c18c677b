#!/bin/sh
# The shipped default policy through the real command line: `virtune status --root` on a root
# holding it shows the same policy as a root without one, and a bad drop-in beside it is
# refused with exit 2 and file:line.
set -u
fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/empty" "$work/shipped/etc/virtune/virtune.conf.d"
cp "$VT_BUILD/units/virtune.conf" "$work/shipped/etc/virtune/virtune.conf"
"$VIRTUNE" status --root "$work/empty" --json >"$work/empty.json" || { echo "FAIL: status on an empty root"; fail=1; }
"$VIRTUNE" status --root "$work/shipped" --json >"$work/shipped.json"
rc=$?
[ "$rc" -eq 0 ] && echo "ok: virtune status --root with the shipped virtune.conf" || { echo "FAIL: exit $rc"; fail=1; }
python3 - "$work/empty.json" "$work/shipped.json" <<'PY' && echo "ok: same policy as the built-in defaults" || fail=1
import json, sys
a, b = (json.load(open(p))['policy'] for p in sys.argv[1:3])
if a != b:
    print('FAIL: policy differs:', a, b)
    sys.exit(1)
PY
printf '[bootloader]\nreboot = always\n' >"$work/shipped/etc/virtune/virtune.conf.d/50-x.conf"
"$VIRTUNE" status --root "$work/shipped" >/dev/null 2>"$work/err"
rc=$?
want="error: /etc/virtune/virtune.conf.d/50-x.conf:2: bootloader.reboot = 'always': not one of the allowed values"
if [ "$rc" -eq 2 ] && [ "$(cat "$work/err")" = "$want" ]; then echo "ok: bad drop-in: exit 2, file:line"
else echo "FAIL: bad drop-in: exit $rc: $(cat "$work/err")"; fail=1; fi
exit $fail
