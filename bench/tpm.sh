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
# a port P with P+1 free too (swtpm's control channel)
port=$(python3 -c '
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    try:
        b = socket.socket(); b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass')
swtpm socket --tpm2 --server type=tcp,port=$port,bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --tpmstate dir="$dir" \
        --flags not-need-init,startup-clear --pid file="$dir/pid" --daemon
trap 'kill "$(cat "$dir/pid")"; rm -rf "$dir"' EXIT
"$build/bench/tpm_bench" -t "swtpm:host=127.0.0.1,port=$port" -n "$rounds" \
        -V "$build/agent/virtune"
