#!/usr/bin/env python3
"""Writes fuzz_sdbus seeds for the start-limit retry: the manager's side, marshalled after the D-Bus specification."""
import hashlib
import os
import struct
import sys

MGR = "/org/freedesktop/systemd1"


class W:
    def __init__(self):
        self.b = bytearray()

    def pad(self, n):
        while len(self.b) % n:
            self.b.append(0)

    def u32(self, v):
        self.pad(4)
        self.b += struct.pack("<I", v)

    def s(self, v):
        self.u32(len(v))
        self.b += v.encode() + b"\0"

    def g(self, v):
        self.b += bytes([len(v)]) + v.encode() + b"\0"


def body(*items):
    w = W()
    for t, v in items:
        if t == "u":
            w.u32(v)
        elif t in "so":
            w.s(v)
        elif t == "v":  # a variant holding a string
            w.g("s")
            w.s(v)
    return bytes(w.b), "".join(t for t, _ in items)


def msg(kind, serial, fields, payload=(b"", "")):
    data, sig = payload
    w = W()
    w.b += b"l" + bytes([kind, 1, 1])
    w.u32(len(data))
    w.u32(serial)
    f = W()
    for code, t, v in fields + ([(8, "g", sig)] if sig else []):
        f.pad(8)
        f.b.append(code)
        f.g(t)
        if t == "u":
            f.u32(v)
        elif t == "g":
            f.g(v)
        else:
            f.s(v)
    w.u32(len(f.b))
    w.b += f.b
    w.pad(8)
    return bytes(w.b) + data


def ret(serial, reply_to, payload=(b"", "")):
    return msg(2, serial, [(5, "u", reply_to)], payload)


def job_removed(serial, job, result, unit="qemu-guest-agent.service"):
    return msg(4, serial, [(1, "o", MGR), (2, "s", MGR.replace("/", ".")[1:] + ".Manager"),
                           (3, "s", "JobRemoved")],
               body(("u", job), ("o", f"{MGR}/job/{job}"), ("s", unit), ("s", result)))


AUTH = b"OK 0123456789abcdef0123456789abcdef\r\n"
job = lambda n: body(("o", f"{MGR}/job/{n}"))
seeds = {
    # TryRestartUnit's job fails, Result says start-limit-hit, the reset, RestartUnit's job done
    "start-limit": [ret(1, 1, job(7)), job_removed(2, 7, "failed"),
                    ret(3, 2, body(("v", "start-limit-hit"))), ret(4, 3), ret(5, 4, job(8)),
                    job_removed(6, 8, "done")],
    # the same with the second job failing too
    "start-limit-again": [ret(1, 1, job(7)), job_removed(2, 7, "failed"),
                          ret(3, 2, body(("v", "start-limit-hit"))), ret(4, 3),
                          ret(5, 4, job(8)), job_removed(6, 8, "failed")],
    # a stale second answer to call 1 before the Get's own
    "stale-answer": [ret(1, 1, job(7)), job_removed(2, 7, "failed"), ret(3, 1, job(9)),
                     ret(4, 2, body(("v", "start-limit-hit"))), ret(5, 3), ret(6, 4, job(8)),
                     job_removed(7, 8, "done")],
    # a real failure: Result exit-code
    "exit-code": [ret(1, 1, job(7)), job_removed(2, 7, "failed"), ret(3, 2, body(("v", "exit-code")))],
    # RestartUnit's job ends before its answer
    "restart-signal-first": [ret(1, 1, job(7)), job_removed(2, 7, "failed"),
                             ret(3, 2, body(("v", "start-limit-hit"))), ret(4, 3),
                             job_removed(5, 8, "done"), ret(6, 4, job(8))],
}
out = sys.argv[1]
for name, parts in seeds.items():
    data = b"\0" + AUTH + b"".join(parts)  # byte 0 even: TryRestartUnit
    path = os.path.join(out, hashlib.sha1(data).hexdigest())
    with open(path, "wb") as fh:
        fh.write(data)
    print(name, path)
