#!/bin/bash
# The arm64 guest (vtvm --arch aarch64 --uefi: Debian's cloud-arm64 kernel, tpm-tis-device on
# swtpm with the firmware's event log) with the cross-built virtune: virtuned answers on the
# channel, the PCRs it sends are tpm2_pcrread's in the guest, and the plan for
# `[haltpoll] enable = yes` on this kernel (no haltpoll driver: mainline's is x86-only) edits
# nothing and says why; arm_pvspin is not planned on a kernel without it.
set -u
vm_arch=aarch64
# shellcheck source=tests/vm/lib.sh
# shellcheck source=tests/vm/lib.sh
. "${VT_SOURCE:-$(dirname "$0")/../..}/tests/vm/lib.sh"
arm64_build

cat >"$tmp/daemon.sh" <<'G'
virtuned --no-apply >/tmp/virtuned.log 2>&1 &
G
# The policy the openEuler guide gives for AArch64 guests: haltpoll and PV spinlocks on.
printf '[haltpoll]\nenable = yes\n\n[pvspin]\nenable = yes\n' >"$tmp/50-guide.conf"
vm_start --arch aarch64 --uefi --bin "$VIRTUNED" --bin "$VIRTUNED_WORKER" --bin "$VIRTUNE" \
        --file "$tmp/50-guide.conf:/etc/virtune/virtune.conf.d/50-guide.conf" \
        --script "$tmp/daemon.sh" --timeout 240
host() { "$VIRTUNE_HOST" --socket "$VTVM_AGENT_SOCK" --timeout 60 "$@"; }
gx() { "$vtvm" exec "$dir" "$@"; }

# --- the channel
if host --json facts >"$tmp/facts.json" &&
        [ "$(jq -r '.virt.arch' "$tmp/facts.json")" = aarch64 ]; then
        ok "the channel answers: facts from the arm64 guest"
else
        bad "facts over the channel: $(head -c 400 "$tmp/facts.json")"
fi
[ "$(jq -r '"\(.virt.hypervisor) \(.virt.hypervisor_source)"' "$tmp/facts.json")" = "qemu dmi" ] &&
        ok "UEFI boot: the hypervisor from DMI" ||
        bad "hypervisor: $(jq -c '.virt | {hypervisor, hypervisor_source, dmi}' "$tmp/facts.json")"

# --- PCRs: the channel's (virtune-host pcrs) against tpm2_pcrread in the guest
host --json pcrs >"$tmp/host-pcrs.json" || bad "virtune-host pcrs: $(cat "$tmp/host-pcrs.json")"
gx 'tpm2_pcrread -T device:/dev/tpmrm0 sha1:all+sha256:all+sha384:all+sha512:all' >"$tmp/pcrread.yaml" 2>&1 ||
        bad "tpm2_pcrread in the guest: $(head -c 400 "$tmp/pcrread.yaml")"
python3 - "$tmp/host-pcrs.json" "$tmp/pcrread.yaml" <<'P' && ok "PCRs over the channel = tpm2_pcrread in the guest (4 banks x 24, firmware measured)" || bad "PCRs differ"
import json, re, sys
host = json.load(open(sys.argv[1]))["banks"]
tools, bank = {}, None
for line in open(sys.argv[2]):
    m = re.match(r"^  (sha\d+):$", line)
    if m:
        bank = tools.setdefault(m.group(1), {})
        continue
    m = re.match(r"^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)$", line)
    if m and bank is not None:
        bank[int(m.group(1))] = m.group(2).lower()
def norm(v):  # the host's banks: a list of 24 hex strings, or {index: hex}
    items = enumerate(v) if isinstance(v, list) else ((int(k), x) for k, x in v.items())
    return {i: x.lower() for i, x in items}
host = {b: norm(v) for b, v in host.items()}
assert host == tools, "differ: %s" % sorted(b for b in set(host) | set(tools) if host.get(b) != tools.get(b))
assert len(host) == 4 and all(len(v) == 24 for v in host.values())
assert any(int(x, 16) for x in host["sha256"].values()), "firmware measured nothing"
P
# --- the plan on Debian's arm64 kernel: no haltpoll driver (x86-only in mainline), no arm_pvspin
gx 'virtune plan --json' >"$tmp/plan.json" 2>"$tmp/plan.err" || bad "virtune plan: $(cat "$tmp/plan.err")"
p() { jq -r "$@" "$tmp/plan.json"; }
[ "$(p '[.changes[] | select(.kind == "cmdline")] | length')" = 0 ] &&
        ok "enable = yes on Debian's arm64 kernel: no command-line edit" ||
        bad "command-line edits planned: $(p -c '[.changes[] | select(.kind == "cmdline")]')"
p '.warnings[]' | grep -q '^haltpoll: cpuidle_haltpoll.force=Y not added: kernel .* has no cpuidle_haltpoll driver.*x86 KVM guests only' &&
        ok "the plan says why: no cpuidle_haltpoll.force in this kernel, mainline builds it for x86 only" ||
        bad "no warning about cpuidle_haltpoll.force: $(p -c .warnings)"
p '.warnings[]' | grep -q "^haltpoll: haltpoll.enable=Y not added: kernel .* is not openEuler's" &&
        ok "haltpoll.enable: not added, openEuler's kernels only" ||
        bad "no warning about haltpoll.enable: $(p -c .warnings)"
[ "$(p '[.changes[] | select(.target == "arm_pvspin")] | length')" = 0 ] &&
        p '.warnings[]' | grep -q '^pvspin: ' &&
        ok "arm_pvspin is not planned on a kernel without it, and a warning says so" ||
        bad "arm_pvspin: $(p -c .)"
exit $fail
