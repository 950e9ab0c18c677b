#!/bin/bash
# bench/agents --quick produces a line of figures for qemu-ga and for virtuned: the channel
# anchor and its client keep working against both agents. --build is given relative, as people
# type it (it once came out doubled).
set -u
command -v qemu-system-x86_64 >/dev/null || {
        echo "SKIP: qemu-system-x86_64 is not installed"
        exit 77
}
out=$(cd "$VT_BUILD/.." && "$VT_SOURCE/bench/agents" --quick --build "$(basename "$VT_BUILD")" --virtuned "$VIRTUNED")
rc=$?
echo "$out"
[ "$rc" = 0 ] || { echo "FAIL: bench/agents exit $rc"; exit 1; }
fail=0
for agent in qemu-ga virtuned; do
        re="^$agent +pings=100 min_ms=[0-9.]+ median_ms=[0-9.]+ p99_ms=[0-9.]+ rss_kb_after_1000=[1-9][0-9]* rss_kb_after_5000=[1-9][0-9]* rss_kb_after_10000=[1-9][0-9]* ctxsw_per_2s_idle=[0-9]+ connects=10 first_min_ms=[0-9.]+ first_median_ms=[0-9.]+ first_max_ms=[0-9.]+\$"
        if echo "$out" | grep -Eq "$re"; then
                echo "ok: bench/agents measures $agent"
        else
                echo "FAIL: no $agent line matching $re"
                fail=1
        fi
done
exit $fail
