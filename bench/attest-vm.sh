#!/bin/bash
# One whole attestation over the channel (EK certificate, MakeCredential here and
# ActivateCredential in the guest, quote over a fresh nonce, event-log replay, counters), with
# the vtvm guest's vTPM provisioned as libvirt does, against what tpm2-tools need for the same
# proof as whole processes in the same guest: tpm2_createek, tpm2_createak, tpm2_makecredential
# (software, -T none), tpm2_startauthsession + tpm2_policysecret + tpm2_activatecredential,
# tpm2_quote and tpm2_checkquote.
# Usage: bench/attest-vm.sh BUILD_DIR [ROUNDS]
set -eu
build=$(cd "${1:?usage: bench/attest-vm.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
vtvm=$src/tests/vm/vtvm
tmp=$(mktemp -d)
dir=""
trap '[ -n "$dir" ] && "$vtvm" stop "$dir"; rm -rf "$tmp"' EXIT
"$src/tests/tpm/provision-vtpm" "$tmp/tpm" "$tmp/ca" >/dev/null
# the tpm2-tools sequence, whole processes, in the guest (a file there: vtvm exec takes one
# line); /proc/uptime over all rounds (busybox date has no %N); transient objects flushed as
# they go (no resource manager before the TPM)
cat >"$tmp/tools.sh" <<'G'
export TPM2TOOLS_TCTI=device:/dev/tpmrm0
cd /tmp
one() {
        tpm2 createek -c ek.ctx -G rsa -u ek.pub >/dev/null &&
        tpm2 createak -C ek.ctx -c ak.ctx -u ak.pub -n ak.name >/dev/null &&
        head -c 32 /dev/urandom >secret &&
        tpm2 makecredential -T none -u ek.pub -s secret -n "$(od -An -tx1 -v ak.name | tr -d ' \n')" -o cred >/dev/null 2>&1 &&
        tpm2 startauthsession --policy-session -S s.ctx &&
        tpm2 policysecret -S s.ctx -c e >/dev/null &&
        tpm2 activatecredential -c ak.ctx -C ek.ctx -i cred -o out -P session:s.ctx >/dev/null &&
        tpm2 flushcontext s.ctx &&
        head -c 32 /dev/urandom >nonce &&
        tpm2 quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7,8,9 -q "$(od -An -tx1 -v nonce | tr -d ' \n')" -m q.msg -s q.sig -o q.pcrs >/dev/null &&
        tpm2 checkquote -u ak.pub -m q.msg -s q.sig -f q.pcrs -q "$(od -An -tx1 -v nonce | tr -d ' \n')" >/dev/null &&
        tpm2 flushcontext -t
}
one || { echo fail; exit 1; }
read a _ </proc/uptime
i=0
while [ $i -lt ROUNDS ]; do one || exit 1; i=$((i + 1)); done
read b _ </proc/uptime
echo $a $b
G
sed -i "s/ROUNDS/$rounds/" "$tmp/tools.sh"
cat >"$tmp/guest.sh" <<'G'
virtuned --no-apply >/tmp/virtuned.log 2>&1 &
G
export VT_BUILD=$build
eval "$("$vtvm" start --tpmstate "$tmp/tpm" --bin "$build/agent/virtuned" \
        --bin "$build/agent/virtuned-worker" --bin /usr/bin/tpm2 --file "$tmp/tools.sh:/root/tools.sh" \
        --script "$tmp/guest.sh" --timeout 180)"
dir=$VTVM_DIR
host=("$build/agent/virtune-host" --socket "$VTVM_AGENT_SOCK" --timeout 60 --json attest
      --ek-ca "$tmp/ca/issuercert.pem" --ek-ca "$tmp/ca/swtpm-localca-rootca-cert.pem"
      --state "$tmp/state" --guest-id bench)
"${host[@]}" >/dev/null || { echo "attest-vm: the first attestation failed" >&2; exit 1; }
python3 - "$rounds" "${host[@]}" <<'P' >"$tmp/host"
import statistics, subprocess, sys, time
n = int(sys.argv[1]); cmd = sys.argv[2:]
ts = []
for _ in range(n):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    ts.append((time.perf_counter() - t0) * 1e3)
print(f"{statistics.median(ts):.1f}")
P
# it prints only at the end: the exec waits for the whole loop
exec_timeout=$((rounds * 60 + 120)) "$vtvm" exec "$dir" "sh /root/tools.sh" >"$tmp/guest" || { echo "attest-vm: tpm2-tools sequence failed: $(cat "$tmp/guest")" >&2; exit 1; }
g=$(awk -v n="$rounds" '{printf "%.1f", ($2 - $1) * 1000 / n}' "$tmp/guest")
h=$(cat "$tmp/host")
echo "Attestation over the channel, $rounds rounds (vtvm guest: TCG, tpm-crb on a libvirt-style provisioned swtpm)"
printf '  %-60s %8s ms\n' "virtune-host attest, whole host process (median)" "$h"
printf '  %-60s %8s ms\n' "tpm2-tools (8 tools, 11 processes) in the guest (mean)" "$g"
printf '  %-60s %8s   (goal <= 0.3)\n' "ratio" "$(awk -v a="$h" -v b="$g" 'BEGIN {printf "%.3f", a / b}')"
