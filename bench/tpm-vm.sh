#!/bin/bash
# TPM over the channel: every PCR of every bank through virtuned in the vtvm guest (tpm-crb on
# swtpm), against tpm2_pcrread run in the same guest on the same TPM.
# Usage: bench/tpm-vm.sh BUILD_DIR [ROUNDS]
set -eu
build=$(cd "${1:?usage: bench/tpm-vm.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-50}
src=$(cd "$(dirname "$0")/.." && pwd)
vtvm=$src/tests/vm/vtvm
tmp=$(mktemp -d)
dir=""
trap '[ -n "$dir" ] && "$vtvm" stop "$dir"; rm -rf "$tmp"' EXIT
cat >"$tmp/guest.sh" <<'G'
virtuned --no-apply >/tmp/virtuned.log 2>&1 &
G
export VT_BUILD=$build
eval "$("$vtvm" start --bin "$build/agent/virtuned" --bin "$build/agent/virtuned-worker" --bin /usr/bin/tpm2 --script "$tmp/guest.sh" --timeout 180)"
dir=$VTVM_DIR
host="$build/agent/virtune-host --socket $VTVM_AGENT_SOCK --timeout 30"
$host pcrs --json >/dev/null # first call: the daemon's TCTI and the TPM warm up
# host side: one whole virtune-host process per round (connect, sync, virtune-pcr-read)
python3 - "$rounds" $host <<'P' >"$tmp/host"
import subprocess, sys, time
n = int(sys.argv[1]); cmd = sys.argv[2:] + ["pcrs", "--json"]
t0 = time.perf_counter()
for _ in range(n):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
print(f"{(time.perf_counter() - t0) * 1e3 / n:.2f}")
P
# guest side: tpm2_pcrread (all banks) as a whole process; busybox date has no %N, so the
# mean over all rounds from /proc/uptime (10 ms resolution over the whole loop)
"$vtvm" exec "$dir" "export TPM2TOOLS_TCTI=device:/dev/tpmrm0; tpm2 pcrread >/dev/null || exit 1; read a _ </proc/uptime; i=0; while [ \$i -lt $rounds ]; do tpm2 pcrread >/dev/null; i=\$((i + 1)); done; read b _ </proc/uptime; echo \$a \$b" >"$tmp/guest"
g=$(awk -v n="$rounds" '{printf "%.2f", ($2 - $1) * 1000 / n}' "$tmp/guest")
h=$(cat "$tmp/host")
echo "TPM over the channel, $rounds rounds (vtvm guest: TCG, tpm-crb on swtpm, 4 banks x 24 PCRs)"
printf '  %-52s %8s ms\n' "virtune-host pcrs, whole host process (mean)" "$h"
printf '  %-52s %8s ms\n' "tpm2_pcrread in the guest, whole process (mean)" "$g"
printf '  %-52s %8s   (goal <= 0.5)\n' "ratio" "$(awk -v a="$h" -v b="$g" 'BEGIN {printf "%.3f", a / b}')"
