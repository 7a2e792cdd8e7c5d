#!/usr/bin/env python3
"""Run a command as /usr/bin/time -f '%e %U %S %M' does, and also sample the
command's own peak resident set size (VmHWM in /proc/PID/status) every 5 ms
while it runs.

GNU time's %M (and wait4's ru_maxrss) is the largest peak of the process and
of every descendant it waited for: for the supervisor, the max of its own and
of its biggest worker. VmHWM is the process's own high-water mark, so the
last value read before it exits is the supervisor alone (it can miss growth
in its last 5 ms).

Usage: hwm.py OUTFILE COMMAND [ARG...]; OUTFILE gets one line
"wall user sys maxrss_kib exit_code vmhwm_kib". The command's stdout and
stderr are this program's.
"""
import os
import subprocess
import sys
import time


def vmhwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    out, cmd = sys.argv[1], sys.argv[2:]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd)
    hwm = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        v = vmhwm(p.pid)
        if v is not None:
            hwm = max(hwm, v)
        time.sleep(0.005)
    wall = time.monotonic() - t0
    rc = os.waitstatus_to_exitcode(status)
    with open(out, "w") as f:
        f.write(f"{wall:.2f} {ru.ru_utime:.2f} {ru.ru_stime:.2f} {ru.ru_maxrss} {rc} {hwm}\n")


if __name__ == "__main__":
    main()
