#!/usr/bin/env python3
"""Write BENCHMARKS.md from the measurements of one `make bench` run.

Usage: report.py MEASUREMENTS_DIR NOTES.md > BENCHMARKS.md

Every number in the output is computed here from what bench/run.sh recorded
in MEASUREMENTS_DIR (index.tsv, ID.times, the --report documents, the JSON
of the bench programs, gobench.txt): medians, per-product figures, ratios and
whether each target of issue 11 holds. Nothing is typed by hand but the notes
(NOTES.md, included as they are) and the targets below, which are issue 11's.
"""
import glob
import json
import os
import re
import statistics
import sys

M = sys.argv[1]
NOTES = sys.argv[2]


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            env[k] = v
    return env


ENV = read_env(os.path.join(M, "machine.env"))
ROOT, OUT = ENV.get("root", ""), ENV.get("out", "")


def shown(cmd):
    """A command as a reader reruns it: repository-relative, scratch paths
    under $BENCH_DIR."""
    cmd = cmd.replace(M + "/", "$BENCH_DIR/m/").replace(OUT + "/bin/", "$BENCH_DIR/bin/")
    cmd = cmd.replace(OUT, "$BENCH_DIR").replace(ROOT + "/", "")
    return cmd.replace("@RUN@", "N")  # run.sh's per-run file: N is the run


INDEX = {}
with open(os.path.join(M, "index.tsv")) as f:
    for line in f:
        ident, n, cmd = line.rstrip("\n").split("\t", 2)
        INDEX[ident] = (int(n), shown(cmd))


def med(xs):
    return statistics.median(xs) if xs else float("nan")


class Timed:
    """The runs of one measured command: wall and CPU (user + system of the
    process and its waited-for children), GNU time's max RSS, exit codes and,
    from hwm.py, the process's own VmHWM."""

    def __init__(self, ident):
        self.id = ident
        self.n, self.cmd = INDEX[ident]
        rows = []
        with open(os.path.join(M, ident + ".times")) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 5:
                    rows.append(parts)
        self.wall = [float(r[0]) for r in rows]
        self.cpu = [float(r[1]) + float(r[2]) for r in rows]
        self.maxrss = [int(r[3]) for r in rows]
        self.rc = [int(r[4]) for r in rows]
        self.hwm = [int(r[5]) for r in rows if len(r) > 5]
        self.docs = []
        for i in range(1, len(rows) + 1):
            p = os.path.join(M, f"{ident}.{i}.json")
            if os.path.exists(p):
                with open(p) as f:
                    self.docs.append(json.load(f))

    @property
    def failed(self):
        bad = [i + 1 for i, rc in enumerate(self.rc) if rc != 0]
        for i, d in enumerate(self.docs):
            t = d.get("totals", {})
            if t.get("ok") != t.get("products"):
                bad.append(i + 1)
        return sorted(set(bad))

    def wall_med(self):
        return med(self.wall)

    def cpu_med(self):
        return med(self.cpu)

    def per(self, v):
        return 1000 * v / self.n

    def worker_peak_mib(self):
        """The median over runs of the largest worker peak RSS of a run."""
        peaks = []
        for d in self.docs:
            peaks.append(max((p.get("peak_rss_bytes", 0) for p in d.get("products", [])), default=0) / 2**20)
        return med(peaks)


def exists(ident):
    return ident in INDEX


def fmt_s(v):
    return f"{v:.2f} s"


def fmt_ms(v):
    return f"{v:.1f} ms"


def runs_list(xs):
    return " ".join(f"{x:g}" for x in xs)


def failnote(t):
    f = t.failed
    if not f:
        return ""
    return f" **runs {', '.join(map(str, f))} of {len(t.rc)} failed** (see `$BENCH_DIR/m/{t.id}.N.err`)"


def code(cmd):
    return "`" + cmd.replace("|", "\\|") + "`"


out = []
w = out.append

# ---------------------------------------------------------------- header
quick = ENV.get("quick") == "1"
mem_gib = int(ENV.get("mem_kib", "0")) / 2**20
w("# Benchmarks")
w("")
w("<!-- Written by `make bench` (bench/run.sh measures, bench/report.py computes and writes):")
w("     do not edit by hand. The notes at the end are bench/NOTES.md; earlier hand-made")
w("     measurements are in bench/HISTORY.md. -->")
w("")
w(f"Written by `make bench` from one run{' in quick mode (`BENCH_QUICK=1`: fleets 10x smaller)' if quick else ''}: "
  "every figure below is computed from that run's measurements (bench/report.py), the notes at the end "
  "are hand-written ([bench/NOTES.md](bench/NOTES.md)); earlier measurements made by hand, with "
  "profiles, are in [bench/HISTORY.md](bench/HISTORY.md).")
w("")
w("- Reproduce: `make bench` (bench/run.sh; `BENCH_QUICK=1` for a quick try with fleets 10x smaller, "
  "`BENCH_ONLY=\"b2 b3\"` for some sections; both write `$BENCH_DIR/BENCHMARKS.md` and leave this file alone).")
w(f"- Run: {ENV.get('date')} at commit `{ENV.get('commit')}`, {ENV.get('runs')} runs of each figure "
  f"(the median is given), total {float(ENV.get('total_s', 'nan')) / 60:.1f} min.")
w(f"- Machine: {ENV.get('nproc')} cores ({ENV.get('cpu')}), {mem_gib:.1f} GiB, Linux {ENV.get('kernel')}, "
  f"{ENV.get('go')}" + (f", PostgreSQL {ENV['server']} (throwaway local cluster, fsync off: bench/pgcluster.sh)" if ENV.get("server") else "") + ".")
w(f"- Load average (1, 5, 15 min) at the start {ENV.get('load_start')}, at the end {ENV.get('load_end')}: "
  "one above about 1 means other work was running and the wall times are inflated.")
w("- Wall and CPU are those of the whole command, end to end (`/usr/bin/time -f '%e %U %S'`; CPU is user + "
  "system of the supervisor and of every worker it waited for). Setup (generating fleets, restoring them "
  "before each run) is not timed. Commands name the scratch directory `$BENCH_DIR` "
  "(default /tmp/supervisor-bench) and are run from the repository root after `make build`.")
w("")

# ---------------------------------------------------------------- data
floor = {}
for k in ("true", "empty", "version"):
    p = os.path.join(M, f"floor.{k}.json")
    if os.path.exists(p):
        with open(p) as f:
            d = json.load(f)
        floor[k] = (med(d["wall_ms"]), med(d["cpu_ms"]), len(d["wall_ms"]))

T = {i: Timed(i) for i in INDEX if os.path.exists(os.path.join(M, i + ".times"))}

logflood = []
if "b3.logflood" in T:
    for i in range(1, len(T["b3.logflood"].rc) + 1):
        p = os.path.join(M, f"b3.logflood.{i}.out")
        try:
            with open(p) as f:
                logflood.append(json.loads(f.read().strip().splitlines()[-1]))
        except (OSError, ValueError, IndexError):
            pass

# ---------------------------------------------------------------- targets
targets = []  # (what, target, measured, holds)


def target(what, want, got, holds, ok=True):
    targets.append((what, want, got if ok else got + " (runs failed)", ("yes" if holds else "**no**") if ok else "**no**"))


if "head.cleanup.clean" in T:
    t = T["head.cleanup.clean"]
    target(f"cleanup, {t.n} clean products, `-j 2`: wall per product", "≤ 5 ms", fmt_ms(t.per(t.wall_med())), t.per(t.wall_med()) <= 5, not t.failed)
    target(f"cleanup, {t.n} clean products, `-j 2`: CPU per product", "≤ 8 ms", fmt_ms(t.per(t.cpu_med())), t.per(t.cpu_med()) <= 8, not t.failed)
if "head.cleanup.sample" in T:
    t = T["head.cleanup.sample"]
    target(f"cleanup, {t.n} × product-sample, `-j 2`: wall per product", "≤ 13 ms", fmt_ms(t.per(t.wall_med())), t.per(t.wall_med()) <= 13, not t.failed)
if "head.migrate.init" in T:
    t = T["head.migrate.init"]
    target(f"migrate, {t.n} empty files, `-j 2`: wall per product", "≤ 14 ms", fmt_ms(t.per(t.wall_med())), t.per(t.wall_med()) <= 14, not t.failed)
if "b1.status.j2" in T:
    t = T["b1.status.j2"]
    target(f"status, {t.n} products, `-j 2`: wall per product", "≤ 1 ms", fmt_ms(t.per(t.wall_med())), t.per(t.wall_med()) <= 1, not t.failed)
if "b1.migrate.j2" in T:
    t = T["b1.migrate.j2"]
    target(f"migrate, nothing to do, {t.n} products, `-j 2`: wall per product", "≤ 2 ms", fmt_ms(t.per(t.wall_med())), t.per(t.wall_med()) <= 2, not t.failed)
if "version" in floor and "empty" in floor:
    # The start of the worker binary (the supervisor re-executes itself),
    # package initialisation included, before any job: a lower bound of
    # what a worker with nothing to do costs.
    r = floor["version"][0] / floor["empty"][0]
    target("a worker process with nothing to do (at least the exec of the binary: `supervisor version`) vs the exec of an empty Go binary",
           "≤ 2x", f"{r:.1f}x ({floor['version'][0]:.2f} ms vs {floor['empty'][0]:.2f} ms)", r <= 2)
if "b1.cleanup.j1" in T and "empty" in floor:
    t = T["b1.cleanup.j1"]
    r = t.per(t.wall_med()) / floor["empty"][0]
    target("a clean product in `cleanup` (B1 `-j 1`, wall per product: the read-only check, no worker started) vs the exec of an empty Go binary",
           "≤ 2x", f"{r:.1f}x ({fmt_ms(t.per(t.wall_med()))} vs {floor['empty'][0]:.2f} ms)", r <= 2, not t.failed)
if "b2.migrate.j1" in T and "b2.migrate.j2" in T:
    a, b = T["b2.migrate.j1"], T["b2.migrate.j2"]
    r = a.wall_med() / b.wall_med()
    target("B2: `-j 2` speed-up over `-j 1`", "≥ 1.8x", f"{r:.2f}x", r >= 1.8, not (a.failed or b.failed))
if "b2.migrate.j1" in T and "b2.floor" in T:
    a, b = T["b2.migrate.j1"], T["b2.floor"]
    r = a.wall_med() / b.wall_med()
    target("B2: `-j 1` over the in-process floor", "≤ 1.05x", f"{r:.2f}x", r <= 1.05, not (a.failed or b.failed))
if logflood:
    lps = med([x["lines_per_s"] for x in logflood])
    lost = max(x["lost"] for x in logflood)
    target("B3: log lines relayed per second (2 workers)", "≥ 300k", f"{lps / 1000:.0f}k", lps >= 300_000)
    target("B3: lines lost", "0", str(lost), lost == 0)
sup = [(i, med(T[i].hwm) / 1024) for i in ("b4.status.j2", "b4.cleanup.j64") if i in T and T[i].hwm]
if sup:
    worst = max(sup, key=lambda x: x[1])
    target("B4: supervisor peak RSS (its own, worst of B4)", "≤ 50 MB", f"{worst[1]:.0f} MiB ({worst[0]})", worst[1] * 1.048576 <= 50)
wk = [(i, T[i].worker_peak_mib()) for i in ("b2.migrate.j1", "b2.migrate.j2", "b4.cleanup.j64", "b5.sqlite", "b5.postgres") if i in T and T[i].docs]
if wk:
    worst = max(wk, key=lambda x: x[1])
    target("B4: worker peak RSS (worst of B2, B4, B5)", "≤ 150 MB", f"{worst[1]:.0f} MiB ({worst[0]})", worst[1] * 1.048576 <= 150)

w("## Targets (issue 11, this 2-core machine)")
w("")
w("| What | Target | Measured | Holds |")
w("|---|---|---|---|")
for row in targets:
    w("| " + " | ".join(row) + " |")
w("")
w("Where a target does not hold, the notes at the end say what the profile shows and why.")
w("")

# ---------------------------------------------------------------- extras
def extra(name, title):
    """The Markdown section another engineer's script printed (run.sh calls
    bench/NAME.sh when it exists), under a heading of ours."""
    p = os.path.join(M, f"extra.{name}.md")
    if not os.path.exists(p):
        return
    w(f"## {title}")
    w("")
    with open(os.path.join(M, f"extra.{name}.rc")) as f:
        rc = f.read().strip()
    if rc != "0":
        w(f"**bench/{name}.sh exited {rc}**: its output below may be incomplete (stderr in `$BENCH_DIR/m/extra.{name}.err`).")
        w("")
    with open(p) as f:
        body = f.read().strip()
    # Its own headings go one level down, under this one.
    body = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " " if len(m.group(1)) >= 2 else "### ", body, flags=re.M)
    w(body)
    w("")


# ---------------------------------------------------------------- floor
if floor:
    w("## The exec floor")
    w("")
    w("Starting and reaping one process, one after another (`bench/cmd/execfloor`, median of the execs; "
      "the empty Go binary is `bench/cmd/empty`, built in the run).")
    w("")
    w("| Process | Command | Wall per exec | CPU per exec |")
    w("|---|---|---|---|")
    names = {"true": "`/bin/true`", "empty": "an empty Go binary", "version": "`supervisor version`"}
    for k, (wl, cp, n) in floor.items():
        w(f"| {names[k]} | {code(INDEX['floor.' + k][1])} | {wl:.2f} ms | {cp:.2f} ms |")
    w("")


def timed_table(rows, base=None, base_label=""):
    """rows: (label, Timed). base: a per-product wall in ms to divide the
    per-product wall of the commands that start workers by (cleanup,
    migrate of missing files): how many empty-process starts one costs."""
    head = "| Case | Command | Wall (median) | per product | CPU (median) | per product | Runs: wall s |"
    sep = "|---|---|---|---|---|---|---|"
    if base:
        head += f" vs {base_label} |"
        sep += "---|"
    w(head)
    w(sep)
    for label, t in rows:
        line = (f"| {label}{failnote(t)} | {code(t.cmd)} | {fmt_s(t.wall_med())} | {fmt_ms(t.per(t.wall_med()))} | "
                f"{fmt_s(t.cpu_med())} | {fmt_ms(t.per(t.cpu_med()))} | {runs_list(t.wall)} |")
        if base:
            spawns = ".cleanup." in t.id or t.id == "head.migrate.init"
            line += f" {t.per(t.wall_med()) / base:.1f}x |" if spawns else " – (no workers) |"
        w(line)
    w("")


# ---------------------------------------------------------------- headline
head = [(l, T[i]) for l, i in (
    ("cleanup, clean products (nothing to remove), `-j 2`", "head.cleanup.clean"),
    ("cleanup, copies of product-sample (2k reports, garbage; restored before each run), `-j 2`", "head.cleanup.sample"),
    ("migrate, missing files (each initialised; deleted before each run), `-j 2`", "head.migrate.init"),
) if i in T]
if head:
    w("## The headline cases of issue 11")
    w("")
    w("The fleets of `bench/cleanup-fleet.sh` and `bench/init50.sh`. For comparison, issue 11 measured "
      "CodeChecker 6.29 on these cases (not re-run here: no PyPI on these machines): cleanup of 200 clean "
      "products 9.97 s (50 ms/product), of 50 × product-sample 6.79 s, migrate of 50 empty files 16.6 s.")
    w("")
    timed_table(head, floor.get("empty", (None,))[0], "empty Go exec")

# ---------------------------------------------------------------- B1
b1 = [(f"`{c}` `-j {j}`" + (" (nothing pending)" if c == "migrate" else " (nothing to remove)" if c == "cleanup" else ""), T[f"b1.{c}.j{j}"])
      for c in ("status", "migrate", "cleanup") for j in (1, 2) if f"b1.{c}.j{j}" in T]
if b1:
    n = b1[0][1].n
    w(f"## B1: fixed overhead, {n} up-to-date, clean SQLite products")
    w("")
    timed_table(b1, floor.get("empty", (None,))[0], "empty Go exec")
    sp = []
    for c in ("status", "migrate", "cleanup"):
        a, b = T.get(f"b1.{c}.j1"), T.get(f"b1.{c}.j2")
        if a and b:
            sp.append(f"`{c}` {a.wall_med() / b.wall_med():.2f}x")
    if sp:
        w("Speed-up of `-j 2` over `-j 1` (wall): " + ", ".join(sp) + ".")
        w("")

# ---------------------------------------------------------------- B2
if any(i in T for i in ("b2.migrate.j1", "b2.migrate.j2", "b2.floor")):
    w("## B2: scaling, the table-rebuilding migration (001 → 002) on 8 SQLite products")
    w("")
    w(f"Each run starts from a copy of the fleet at 001 (`fleetgen --products 8 --reports {int(ENV.get('b2_reports', 0)):,} --version 001`). "
      "The floor is `bench/cmd/floor`: the same packaged files applied with internal/migrate to the 8 files one "
      "after another in one process (open, lock, inspect, apply), without the supervisor or workers.")
    w("")
    w("| Case | Command | Wall (median) | CPU (median) | Runs: wall s | Worker peak RSS (median) | vs floor |")
    w("|---|---|---|---|---|---|---|")
    fl = T.get("b2.floor")
    for label, i in (("`migrate -j 1`", "b2.migrate.j1"), ("`migrate -j 2`", "b2.migrate.j2"), ("in-process floor", "b2.floor")):
        if i not in T:
            continue
        t = T[i]
        rss = f"{t.worker_peak_mib():.0f} MiB" if t.docs else "–"
        vs = f"{t.wall_med() / fl.wall_med():.2f}x" if fl else "–"
        w(f"| {label}{failnote(t)} | {code(t.cmd)} | {fmt_s(t.wall_med())} | {fmt_s(t.cpu_med())} | {runs_list(t.wall)} | {rss} | {vs} |")
    w("")
    if "b2.migrate.j1" in T and "b2.migrate.j2" in T:
        w(f"`-j 2` over `-j 1`: {T['b2.migrate.j1'].wall_med() / T['b2.migrate.j2'].wall_med():.2f}x. Worker peak RSS "
          "is each worker's getrusage maximum (the `peak_rss_bytes` of `--report`), the largest of a run.")
        w("")

# ---------------------------------------------------------------- B3
if logflood:
    t = T["b3.logflood"]
    x0 = logflood[0]
    runs_k = " ".join("%.0fk" % (x["lines_per_s"] / 1000) for x in logflood)
    w(f"## B3: logs, {x0['workers']} workers × {x0['lines_per_worker']:,} lines through the merge")
    w("")
    w("`bench/cmd/logflood` runs internal/supervise.Run with fake workers (the same binary re-executed, serving "
      "its job with internal/worker.ServeWith, logging hclog JSON lines shaped like a cleanup worker's) and "
      f"counts the lines relayed per worker by internal/logging ({x0['format']} format) into a counting writer.")
    w("")
    w("| Command | Lines/s (median) | Lines lost (worst run) | Wall (median) | CPU (median) | Runs: lines/s |")
    w("|---|---|---|---|---|---|")
    w(f"| {code(t.cmd)}{failnote(t)} | {med([x['lines_per_s'] for x in logflood]):,.0f} | {max(x['lost'] for x in logflood)} | "
      f"{fmt_s(t.wall_med())} | {fmt_s(t.cpu_med())} | {runs_k} |")
    w("")

# ---------------------------------------------------------------- B4
b4 = [(l, T[i]) for l, i in (("`status -j 2` (no workers)", "b4.status.j2"), ("`cleanup -j 64`", "b4.cleanup.j64")) if i in T]
if b4:
    w(f"## B4: memory, {b4[0][1].n} products")
    w("")
    w("The supervisor's own peak RSS is its VmHWM, sampled every 5 ms from /proc while it runs "
      "(`bench/hwm.py`, which otherwise measures as `/usr/bin/time` does). GNU time's `%M` is not the "
      "supervisor's alone: it is the largest of the process and of every child it waited for, i.e. its "
      "biggest worker when that is larger; it is given as well.")
    w("")
    w("| Case | Command | Supervisor peak RSS (median) | `%M`, max of it and its workers | Worker peak RSS (median of the largest) | Wall (median) |")
    w("|---|---|---|---|---|---|")
    for label, t in b4:
        rss = f"{t.worker_peak_mib():.0f} MiB" if t.docs else "– (no workers)"
        w(f"| {label}{failnote(t)} | {code(t.cmd)} | {med(t.hwm) / 1024:.1f} MiB | {med(t.maxrss) / 1024:.1f} MiB | {rss} | {fmt_s(t.wall_med())} |")
    w("")

# ---------------------------------------------------------------- B5
b5 = [(l, T[i]) for l, i in (("SQLite", "b5.sqlite"), ("PostgreSQL", "b5.postgres")) if i in T]
if b5:
    w(f"## B5: cleanup of 1 product, {int(ENV.get('b5_reports', 0)):,} reports, 30% garbage files")
    w("")
    w("Restored before each run (SQLite: a copy; PostgreSQL: `CREATE DATABASE ... TEMPLATE`). Routine times are the "
      "durations the worker's `routine_done` events carry (`routines[].duration_ms` of `--report`), median over runs.")
    w("")
    w("| Dialect | Command | Wall (median) | CPU (median) | Runs: wall s | Worker peak RSS (median) |")
    w("|---|---|---|---|---|---|")
    for label, t in b5:
        w(f"| {label}{failnote(t)} | {code(t.cmd)} | {fmt_s(t.wall_med())} | {fmt_s(t.cpu_med())} | {runs_list(t.wall)} | {t.worker_peak_mib():.0f} MiB |")
    w("")
    routines, per = [], {}
    for label, t in b5:
        for d in t.docs:
            for p in d.get("products", []):
                for r in (p.get("cleanup") or {}).get("routines", []):
                    name = r["routine"]
                    if name not in routines:
                        routines.append(name)
                    per.setdefault((label, name), []).append(r["duration_ms"])
                    rows = sum(v for v in r.get("rows", {}).values())
                    per.setdefault((label, name, "rows"), []).append(rows)
    if routines:
        w("| Routine | " + " | ".join(f"{l}: ms (rows changed)" for l, _ in b5) + " |")
        w("|---|" + "---|" * len(b5))
        for name in routines:
            cells = []
            for l, _ in b5:
                ms = per.get((l, name))
                cells.append(f"{med(ms):.0f} ({med(per[(l, name, 'rows')]):,.0f})" if ms else "–")
            w(f"| {name} | " + " | ".join(cells) + " |")
        w("")

extra("cleanupplans", "B5: query-plan alternatives for cleanup (bench/cleanupplans.sh)")

# ---------------------------------------------------------------- B6
b6 = [(f"`{c} -j {j}`" + (" from 001 (restored from templates before each run)" if c == "migrate" else " (up to date)"), T[f"b6.{c}.j{j}"])
      for c in ("migrate", "status") for j in (1, 2) if f"b6.{c}.j{j}" in T]
if b6:
    w(f"## B6: PostgreSQL, {b6[0][1].n} products on one server")
    w("")
    timed_table(b6)
    sp = []
    for c in ("migrate", "status"):
        a, b = T.get(f"b6.{c}.j1"), T.get(f"b6.{c}.j2")
        if a and b:
            sp.append(f"`{c}` {a.wall_med() / b.wall_med():.2f}x")
    if sp:
        w("Speed-up of `-j 2` over `-j 1` (wall): " + ", ".join(sp) + ".")
        w("")

extra("coop", "Cooperating hosts, issue 12 (bench/coop.sh)")

# ---------------------------------------------------------------- Go benchmarks
gb = os.path.join(M, "gobench.txt")
if os.path.exists(gb):
    res, order, pkg = {}, [], ""
    with open(gb) as f:
        for line in f:
            if line.startswith("pkg: "):
                pkg = line.split()[1].removeprefix("supervisor/")
            m = re.match(r"^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$", line)
            if not m:
                continue
            name = (pkg, m.group(1))
            if name not in res:
                order.append(name)
                res[name] = {}
            fields = m.group(3).split("\t")
            for fld in fields:
                parts = fld.split()
                if len(parts) == 2:
                    res[name].setdefault(parts[1], []).append(float(parts[0]))
    w("## Go benchmarks of the hot paths")
    w("")
    w(f"{code(INDEX['gobench'][1])}; the median of the runs. What each measures is said in its doc comment.")
    w("")
    w("| Package | Benchmark | ns/op | B/op | allocs/op | other |")
    w("|---|---|---|---|---|---|")
    for name in order:
        r = res[name]
        other = ", ".join(f"{med(v):g} {k}" for k, v in r.items() if k not in ("ns/op", "B/op", "allocs/op"))
        cell = lambda k: f"{med(r[k]):,.0f}" if k in r else "–"
        w(f"| {name[0]} | {name[1]} | {cell('ns/op')} | {cell('B/op')} | {cell('allocs/op')} | {other} |")
    if not order:
        w("| – | **no benchmark results: `go test -bench` failed** (see `$BENCH_DIR/m/gobench.txt`) | | | | |")
    w("")

# ---------------------------------------------------------------- sections
sp = os.path.join(M, "sections.tsv")
if os.path.exists(sp):
    w("## Time per section of this run")
    w("")
    w("| Section | Elapsed (setup included) |")
    w("|---|---|")
    with open(sp) as f:
        for line in f:
            name, a, b = line.split()
            w(f"| {name} | {float(b) - float(a):.0f} s |")
    w(f"| total | {float(ENV.get('total_s', 'nan')):.0f} s |")
    w("")

# ---------------------------------------------------------------- notes
w("## Notes")
w("")
w("<!-- bench/NOTES.md, included as it is: edit it there. -->")
w("")
with open(NOTES) as f:
    notes = f.read().strip()
notes = re.sub(r"^# .*\n+", "", notes)
notes = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", notes, flags=re.M)
w(notes)
w("")

sys.stdout.write("\n".join(out))
