#!/bin/bash
# The tests that talk to a swtpm, or stand in for one, under a TIME-WAIT storm on loopback (what
# bench/attest-fleet's fake guests left behind: ~47k client sockets in TIME-WAIT, which made
# every probe for two neighbouring free ports fail), in a private network namespace so nothing
# else on the machine sees the storm. They use unix sockets: the storm must not matter.
set -u
if [ "${1:-}" != --inside ]; then
        command -v unshare >/dev/null || { echo "SKIP: unshare (util-linux) is not installed"; exit 77; }
        unshare -n true 2>/dev/null || { echo "SKIP: cannot make a network namespace (not root?)"; exit 77; }
        exec unshare -n "$0" --inside
fi
fail() { echo "FAIL: $*"; exit 1; }
# Loopback up, then 20000 connections the client closes first: TIME-WAIT on its ephemeral ports.
python3 - <<'P' || fail "making the TIME-WAIT storm"
import fcntl, socket, struct
s = socket.socket()
flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH", b"lo", 0)))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", flags | 1))  # SIOCSIFFLAGS: IFF_UP
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(512)
for _ in range(20000):
    c = socket.create_connection(srv.getsockname())
    a, _ = srv.accept()
    c.close()
    a.close()
P
tw=$(grep -c ' 06 ' /proc/net/tcp) # st 06: TIME_WAIT
[ "$tw" -ge 10000 ] || fail "only $tw sockets in TIME-WAIT: no storm to test under"
echo "ok: $tw sockets in TIME-WAIT on loopback"
# each binary with the tests that use a TPM socket (test_daemon: its two stalling-TPM tests)
rc=0
for t in tpm/test_swtpm tpm/test_tpm_cli \
        "channel/test_daemon test_daemon_answers_error_when_worker_dies_mid_job" \
        "channel/test_daemon test_daemon_sighup_ends_the_worker_after_its_job"; do
        read -r bin filter <<<"$t"
        log=$VT_BUILD/tests/$bin.time-wait.log
        if "$VT_BUILD/tests/$bin" ${filter:+"$filter"} >"$log" 2>&1; then
                echo "ok: tests/$t passes under the storm"
        else
                echo "FAIL: tests/$t under the storm ($log):"
                grep -E 'FAILED|ERROR' "$log"
                rc=1
        fi
done
exit $rc
