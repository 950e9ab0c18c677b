#!/bin/sh
# TPM benchmark against a private swtpm: virtune's PCR read vs tpm2_pcrread, quote+verify.
# Usage: bench/tpm.sh BUILD_DIR [ROUNDS]   (CI's quick mode: ROUNDS=20)
set -eu
build=${1:?usage: bench/tpm.sh BUILD_DIR [ROUNDS]}
rounds=${2:-200}
for p in swtpm tpm2_pcrread; do
        command -v $p >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }
done
dir=$(mktemp -d)
swtpm=$(dirname "$0")/../tests/lib/vtswtpm
trap '"$swtpm" stop "$dir"; rm -rf "$dir"' EXIT
tcti=$("$swtpm" start "$dir")
"$build/bench/tpm_bench" -t "$tcti" -n "$rounds" \
        -V "$build/agent/virtune"
