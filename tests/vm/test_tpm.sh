#!/bin/bash
# TPM end to end: virtuned in the vtvm guest (tpm-crb on swtpm, SeaBIOS event log) quotes over
# the channel; virtune-host verifies signature, nonce, PCR digest and the event log replay here,
# pins the AK on first use, verifies the same from saved files (--from-files), and the guest's
# own `virtune pcrs` agrees with what the host got.
set -u
# shellcheck source=tests/vm/lib.sh
# shellcheck source=tests/vm/lib.sh
. "${VT_SOURCE:-$(dirname "$0")/../..}/tests/vm/lib.sh"

cat >"$tmp/daemon.sh" <<'G'
virtuned --no-apply >/tmp/virtuned.log 2>&1 &
G
vm_start --bin "$VIRTUNED" --bin "$(dirname "$VIRTUNED")/virtuned-worker" --bin "$VIRTUNE" --script "$tmp/daemon.sh" --timeout 180
host() { "$VIRTUNE_HOST" --socket "$VTVM_AGENT_SOCK" --timeout 30 "$@"; }

# the first verify pins the AK, the second must find the same key
if host --json verify --random --ak "$tmp/ak.pem" >"$tmp/v1.json"; then
        ok "verify over the channel passes (signature, nonce, selection, digest, log replay)"
else
        bad "verify failed: $(cat "$tmp/v1.json")"
fi
for check in ak ak-pin signature attest-type nonce pcr-selection pcr-digest eventlog-replay; do
        python3 - "$tmp/v1.json" "$check" <<'P' || bad "check $check did not pass"
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if any(c["name"] == sys.argv[2] and c["ok"] for c in r["checks"]) else 1)
P
done
grep -q 'first use' "$tmp/v1.json" && ok "the AK was pinned on first use" || bad "no first-use pin"
host --json verify --random --ak "$tmp/ak.pem" >"$tmp/v2.json" &&
        grep -q 'AK matches' "$tmp/v2.json" && ok "the second verify finds the pinned AK" ||
        bad "second verify: $(cat "$tmp/v2.json")"

# a pinned key from elsewhere (another swtpm's AK, from the captured fixture) is refused
python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ak"]["pem"], end="")' \
        "$VT_SOURCE/tests/fixtures/tpm-seabios-vm/quote.json" >"$tmp/ak.pem"
if host --json verify --random --ak "$tmp/ak.pem" >"$tmp/v3.json"; then
        bad "verify passed with a different pinned AK"
else
        ok "verify fails when the AK differs from the pin"
fi

# the guest's CLI and the channel read the same PCRs
host --json pcrs >"$tmp/host-pcrs.json" || bad "virtune-host pcrs"
"$vtvm" exec "$dir" 'virtune pcrs --json --no-policy' >"$tmp/guest-pcrs.json" || bad "virtune pcrs"
python3 - "$tmp/host-pcrs.json" "$tmp/guest-pcrs.json" <<'P' && ok "PCRs over the channel = virtune pcrs in the guest (4 banks x 24)" || bad "PCRs differ"
import json, sys
a, b = (json.load(open(f))["banks"] for f in sys.argv[1:])
assert a == b and len(a) == 4 and all(len(v) == 24 for v in a.values()), (a, b)
P
# one text layout on both sides: tpm2_pcrread's (tests/tpm checks virtune pcrs against it)
host pcrs >"$tmp/host-pcrs.txt" || bad "virtune-host pcrs (text)"
"$vtvm" exec "$dir" 'virtune pcrs --no-policy' >"$tmp/guest-pcrs.txt" || bad "virtune pcrs (text)"
cmp -s "$tmp/host-pcrs.txt" "$tmp/guest-pcrs.txt" && grep -q '^  sha256:$' "$tmp/host-pcrs.txt" &&
        ok "virtune-host pcrs prints what virtune pcrs prints in the guest, byte for byte" ||
        bad "PCR text differs: $(diff "$tmp/host-pcrs.txt" "$tmp/guest-pcrs.txt" | head -5)"
# the event log over the channel is the one securityfs has, byte for byte
host eventlog --output "$tmp/log.bin" >/dev/null || bad "virtune-host eventlog"
"$vtvm" exec "$dir" 'wc -c </sys/kernel/security/tpm0/binary_bios_measurements' >"$tmp/size"
[ "$(stat -c %s "$tmp/log.bin")" = "$(tr -d ' \n' <"$tmp/size")" ] &&
        ok "eventlog over the channel has the size securityfs reports ($(cat "$tmp/size" | tr -d ' \n') bytes)" ||
        bad "eventlog size differs"

# saved and verified later: the quote and log to files, then verify --from-files, no socket
nonce=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
host --json quote --nonce "$nonce" --pcrs sha1:0-9+sha256:0-9 >"$tmp/q.json" || bad "virtune-host quote"
"$VIRTUNE_HOST" --json verify --from-files --nonce "$nonce" --pcrs sha1:0-9+sha256:0-9 \
        "$tmp/q.json" "$tmp/log.bin" >"$tmp/vf.json" &&
        grep -q '"eventlog-replay"' "$tmp/vf.json" &&
        ok "verify --from-files passes on the saved quote and event log" ||
        bad "verify --from-files: $(cat "$tmp/vf.json")"
if "$VIRTUNE_HOST" -q verify --from-files --nonce "${nonce%??}00" "$tmp/q.json" "$tmp/log.bin" \
        >/dev/null; then
        bad "verify --from-files passed with another nonce"
else
        ok "verify --from-files fails with another nonce"
fi
exit $fail
