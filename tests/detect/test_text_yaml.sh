#!/bin/bash
# `virtune detect`'s text is YAML that reads back as its --json document (plus the summary):
# every fixture tree and the live machine, parsed with python3-yaml.
set -u
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is not installed"; exit 77; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
check() { # NAME ARGS...
        local name=$1
        shift
        "$VIRTUNE" detect "$@" >"$t/text" 2>/dev/null || { echo "FAIL: $name: detect"; fail=1; return; }
        "$VIRTUNE" detect --json "$@" >"$t/json" 2>/dev/null || { echo "FAIL: $name: detect --json"; fail=1; return; }
        if python3 - "$t/text" "$t/json" <<'P'; then echo "ok: $name"; else echo "FAIL: $name"; fail=1; fi
import json, sys, yaml
text, doc = yaml.safe_load(open(sys.argv[1])), json.load(open(sys.argv[2]))
summary = text.pop("summary")
assert set(summary) == {"hypervisor", "virtio", "haltpoll", "pvspin"}, summary
# Live counters move between the two runs: compare everything else.
for d in (text, doc):
        d.get("virt", {}).pop("steal", None)
if text != doc:
        def diff(a, b, p=""):
                if type(a) != type(b) or not isinstance(a, (dict, list)):
                        if a != b:
                                print(f"{p}: text {a!r:.80} json {b!r:.80}")
                elif isinstance(a, dict):
                        for k in sorted(set(a) | set(b)):
                                diff(a.get(k), b.get(k), f"{p}/{k}")
                else:
                        for i, (x, y) in enumerate(zip(a, b)):
                                diff(x, y, f"{p}[{i}]")
                        if len(a) != len(b):
                                print(f"{p}: {len(a)} items in text, {len(b)} in json")
        diff(text, doc)
        sys.exit(1)
P
}
for d in "$VT_FIXTURES"/*/; do
        [ -d "$d/root" ] || continue
        args=(--root "$d/root")
        [ -f "$d/cpuid" ] && args+=(--cpuid "$d/cpuid")
        check "$(basename "$d")" "${args[@]}"
done
check "this machine"
exit $fail
