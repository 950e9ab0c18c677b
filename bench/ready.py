#!/usr/bin/python3
"""bench/ready.py: exec to READY=1 of a Type=notify daemon, run directly with $NOTIFY_SOCKET.

usage: ready.py RUNS COMMAND...   (COMMAND is run RUNS times; each is stopped with SIGTERM)

Each run binds a fresh datagram socket, takes CLOCK_MONOTONIC, posix_spawn()s COMMAND with
NOTIFY_SOCKET pointing at it and takes the clock again when READY=1 arrives (the spawn, the
exec, the dynamic loader and the daemon's start-up up to its sd_notify). Each run is a session of
its own, ended as a whole (SIGTERM to the process group, then waiting for every member): what the
daemon started (virtuned's start-up worker) cannot run on into the next run. Prints one line per run
("ready_ms=N") and the median; no systemd is involved. Needs only python3 (the image has it).
"""
import os
import signal
import socket
import statistics
import sys
import tempfile
import time


def one(argv, tmo=120.0):
    d = tempfile.mkdtemp(prefix="vt-ready.")
    path = os.path.join(d, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(tmo)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    t0 = time.monotonic()
    pid = os.posix_spawn(argv[0], argv, env, setsid=True)
    ready = None
    try:
        while True:
            msg = s.recv(4096).decode(errors="replace")
            if "READY=1" in msg.split("\n"):
                ready = (time.monotonic() - t0) * 1000.0
                break
    except socket.timeout:
        pass
    finally:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass  # it ended by itself (systemd-notify --ready, the anchor)
        os.waitpid(pid, 0)
        # The group's other members are not our children: wait until none is left.
        for _ in range(600):
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        s.close()
        os.unlink(path)
        os.rmdir(d)
    return ready


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    runs = int(sys.argv[1])
    argv = sys.argv[2:]
    got = []
    for _ in range(runs):
        r = one(argv)
        if r is None:
            print("ready_ms=none (no READY=1 within 120 s)")
            continue
        got.append(r)
        print("ready_ms=%.2f" % r)
    if not got:
        return 1
    print("median_ms=%.2f min_ms=%.2f max_ms=%.2f runs=%d" %
          (statistics.median(got), min(got), max(got), len(got)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
