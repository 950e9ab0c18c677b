#!/bin/bash
# Attestation end to end over the real channel: the vtvm guest's vTPM is provisioned as libvirt
# does (tests/tpm/provision-vtpm: EK certificate from a local CA), virtuned answers virtune-ek
# and virtune-activate, and virtune-host attest proves the AK, checks the quote, the SeaBIOS
# log, the TPM counters and a recorded reference; the second attestation uses the binding the
# first recorded (--reactivate not); a foreign CA and a second guest id with the same vTPM (a
# clone) are refused for their own reasons.
set -u
# shellcheck source=tests/vm/lib.sh
# shellcheck source=tests/vm/lib.sh
. "${VT_SOURCE:-$(dirname "$0")/../..}/tests/vm/lib.sh"
command -v swtpm_setup >/dev/null || { echo "SKIP: swtpm_setup (swtpm-tools) missing"; exit 77; }

prov=$VT_SOURCE/tests/tpm/provision-vtpm
"$prov" "$tmp/tpm" "$tmp/ca" || { echo "FAIL: provisioning the vTPM"; exit 1; }
"$prov" "$tmp/other-tpm" "$tmp/other-ca" || { echo "FAIL: provisioning a second CA"; exit 1; }
cat >"$tmp/daemon.sh" <<'G'
virtuned --no-apply >/tmp/virtuned.log 2>&1 &
G
vm_start --tpmstate "$tmp/tpm" --bin "$VIRTUNED" --bin "$(dirname "$VIRTUNED")/virtuned-worker" \
        --script "$tmp/daemon.sh" --timeout 180
cas=(--ek-ca "$tmp/ca/issuercert.pem" --ek-ca "$tmp/ca/swtpm-localca-rootca-cert.pem")
attest() { "$VIRTUNE_HOST" --socket "$VTVM_AGENT_SOCK" --timeout 60 --json attest \
        --state "$tmp/state" "$@"; }
reason() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reason"])' "$1"; }

if attest "${cas[@]}" --guest-id vm1 --record "$tmp/ref.json" >"$tmp/a1.json"; then
        ok "attest over the channel: EK certificate, activation, quote, log ($(reason "$tmp/a1.json"))"
else
        bad "attest failed: $(cat "$tmp/a1.json")"
fi
python3 - "$tmp/a1.json" <<'P' || bad "not every step of the chain ran and passed"
import json, sys
r = json.load(open(sys.argv[1]))
need = ["ek-certificate", "ek-duplicate", "ak-attributes", "activation", "ak-match", "signature",
        "nonce", "pcr-selection", "pcr-digest", "eventlog-replay"]
got = {c["name"]: c["ok"] for c in r["checks"]}
assert all(got.get(n) for n in need), got
assert r["trust"] == "ek-certificate"
assert r["binding"] == "activated", r.get("binding")
P
[ -s "$tmp/ref.json" ] && ok "a reference state was recorded" || bad "no reference written"
attest "${cas[@]}" --guest-id vm1 --reference "$tmp/ref.json" >"$tmp/a2.json" &&
        ok "the second attestation matches the recorded reference, counters unchanged" ||
        bad "second attest: $(cat "$tmp/a2.json")"
grep -q '"binding": *"recorded"' "$tmp/a2.json" &&
        ok "the second attestation used the binding the first recorded (no reactivation)" ||
        bad "second attest did not use the recorded binding: $(cat "$tmp/a2.json")"
attest "${cas[@]}" --guest-id vm1 --reactivate >"$tmp/a2r.json" &&
        grep -q '"binding": *"activated"' "$tmp/a2r.json" &&
        ok "--reactivate runs the certificate check and the activation again" ||
        bad "--reactivate: $(cat "$tmp/a2r.json")"

attest --ek-ca "$tmp/other-ca/issuercert.pem" --guest-id vm1 >"$tmp/a3.json"
rc=$?
[ "$rc" = 1 ] && [ "$(reason "$tmp/a3.json")" = ek-certificate ] &&
        ok "an EK certificate from another CA is refused (ek-certificate, exit 1)" ||
        bad "foreign CA: exit $rc, $(cat "$tmp/a3.json")"

attest "${cas[@]}" --guest-id vm2-clone >"$tmp/a4.json"
[ "$(reason "$tmp/a4.json")" = ek-duplicate ] &&
        ok "a second guest presenting the same EK is flagged (ek-duplicate)" ||
        bad "clone not flagged: $(cat "$tmp/a4.json")"
exit $fail
