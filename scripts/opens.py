#!/usr/bin/env python3
"""Count, per process, how often each SQLite database file is opened.

Reads the output of `strace -f -e trace=%file,%process -o FILE`
(one file, pids on each line) and groups thread ids into processes: a clone
with CLONE_THREAD makes a thread of the caller's process, any other clone
(fork, vfork, clone for exec) a new process. The first pid in the trace is
the supervisor. Prints one line per process and database file:
    <role> <pid> <count> <path>
Used to check issue 8's "opens the config database once" by hand; see
README "Architecture".
"""
import re, sys, collections

proc = {}        # tid -> process id (its leader)
opens = collections.defaultdict(collections.Counter)
first = None
clone_re = re.compile(r'^(\d+)\s+(clone3?|vfork|fork)\((.*)\)\s+=\s+(\d+)')
resumed_re = re.compile(r'^(\d+)\s+<\.\.\. (clone3?|vfork|fork) resumed>(.*)\)\s+=\s+(\d+)')
unfinished = {}  # tid -> args so far
# modernc's SQLite calls open(2); other code openat(2).
open_re = re.compile(r'^(\d+)\s+(?:open|openat\([^,]+,)\(?"([^"]+\.sqlite)"')
for line in open(sys.argv[1]):
    m = re.match(r'^(\d+)\s', line)
    if not m:
        continue
    tid = int(m.group(1))
    if first is None:
        first = tid
        proc[tid] = tid
    proc.setdefault(tid, tid)
    if ' <unfinished ...>' in line and re.match(r'^\d+\s+(clone3?|vfork|fork)\(', line):
        unfinished[tid] = line
        continue
    m = clone_re.match(line) or resumed_re.match(line)
    if m:
        args = m.group(3) + unfinished.pop(tid, '')
        child = int(m.group(4))
        proc[child] = proc[tid] if 'CLONE_THREAD' in args else child
        continue
    m = open_re.match(line)
    if m:
        opens[proc[tid]][m.group(2)] += 1
for pid, files in opens.items():
    role = 'supervisor' if pid == first else 'worker'
    for path, n in sorted(files.items()):
        print(role, pid, n, path)
