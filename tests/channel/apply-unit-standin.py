#!/usr/bin/env python3
# A stand-in for systemd's virtune-apply.socket (Accept=yes) on a test root, where no systemd
# runs: listens on ROOT/run/virtune/apply.sock and, for each connection, runs what
# virtune-apply@.service runs (virtuned-worker --root ROOT apply-job) with the connection as its
# stdin and stdout. Each job is logged to ROOT/../apply-unit.log. Prints "ready".
import os, socket, subprocess, sys
worker, root = sys.argv[1], sys.argv[2]
path = os.path.join(root, "run/virtune/apply.sock")
os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o600)
s.listen(1)
print("ready", flush=True)
log = open(os.path.join(root, "..", "apply-unit.log"), "a")
while True:
    c, _ = s.accept()
    rc = subprocess.call([worker, "--root", root, "apply-job"], stdin=c, stdout=c)
    log.write("job rc=%d\n" % rc)
    log.flush()
    c.close()
