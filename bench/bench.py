#!/usr/bin/env python3
"""dashspec benchmarks: side by side with the floor (the sqlite3 CLI running
exactly the same SQL, output discarded) and the script dashspec replaces.

For each scale it builds the example database once (bench/work/, kept between
runs), compiles specs/ into it, then measures medians of --runs runs, the
commands of one round interleaved so that a busy neighbour on the machine
weighs on all of them alike:

  (a) floor      sqlite3 CLI, every plan query with its parameters bound
  (b) python     bench/origin_job.py: run, json.dumps, upsert (the origin's job)
  (c) run        dashspec run --force --jobs 1
  (d) run -j2    dashspec run --force --jobs 2
  (e) no-op      dashspec run with nothing due
  (f) get        dashspec get of one key
  (g) check      dashspec check of 1,000 generated spec files against the schema

Times and memory come from build/bench-rss (bench/rss.c), a small C helper
that forks and execs one command: wall time from fork to reap, and the
command's own peak RSS (VmHWM read at its exit under ptrace). Measuring from
Python would add Python's own ~10 MiB, which Linux carries into the child's
ru_maxrss across exec.

Also: per-item times (the floor's `.timer` per statement, dashspec's
dashspec_state.last_duration_ms), the machine's parallel capacity while (d)
ran (two CPU-bound processes at once vs one: 2.0 = two idle cores), and large
values (a `rows` item of 10k/100k/1M rows). Everything is printed and written
to bench/results.md; a section written there by `make profile`
(bench/profile.py) is kept. Standard library only.

usage: bench/bench.py [--scales medium,large] [--runs 5] [--out bench/results.md]
                      [--no-values]
"""
import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")
BIN = os.path.join(ROOT, "build", "dashspec")
RSS = os.path.join(ROOT, "build", "bench-rss")
REF = "2026-02-12 10:00:00"
SCALES = {"small": 1, "medium": 12, "large": 62}   # ~100k, ~1M, ~5M rows
MiB = 1024 * 1024
PROFILE_BEGIN = "<!-- profile: written by make profile (bench/profile.py) -->"
PROFILE_END = "<!-- /profile -->"
FRESH_BEGIN = "<!-- freshness: written by make bench-freshness (bench/freshness.py) -->"
FRESH_END = "<!-- /freshness -->"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def stopwatch(cmd, stdin=None, mem=False, ok=(0,), cpu=None, out=None):
    """(seconds, peak KiB) of one run of cmd, stdout discarded (or, when out
    is a list, appended to it). Peak is VmHWM with mem (the process's own),
    else wait4's ru_maxrss. The CPU seconds (user + system) are appended to
    the list cpu when given."""
    args = [RSS] + ([] if out is not None else ["-q"]) + (["-m"] if mem else []) + ["--"] + cmd
    with open(stdin) if stdin else open(os.devnull) as f:
        p = subprocess.run(args, stdin=f, capture_output=True, text=True)
    text, _, last = p.stdout.rstrip("\n").rpartition("\n")
    if out is not None:
        out.append(text)
    m = dict(kv.split("=") for kv in last.split())
    if p.returncode != 0 or int(m.get("status", -1)) not in ok:
        raise SystemExit(f"bench: {' '.join(cmd)} exited {m.get('status')}: {p.stderr}")
    peak = int(m["hwm_kib"]) if mem and int(m["hwm_kib"]) else int(m["maxrss_kib"])
    if cpu is not None:
        cpu.append(int(m["cpu_us"]) / 1e6)
    return int(m["wall_ns"]) / 1e9, peak


class Series:
    """Times of one command over several runs, and its peak memory."""
    def __init__(self, cmd, stdin=None, before=None):
        self.cmd, self.stdin, self.before = cmd, stdin, before
        self.times, self.cpus, self.peak = [], [], 0

    def once(self):
        if self.before:
            self.before()
        t, _ = stopwatch(self.cmd, self.stdin, cpu=self.cpus)
        self.times.append(t)
        return t

    def measure_memory(self, n=2):
        for _ in range(n):
            if self.before:
                self.before()
            _, k = stopwatch(self.cmd, self.stdin, mem=True)
            self.peak = max(self.peak, k)

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def cpu(self):
        return statistics.median(self.cpus)


def sql_literal(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def floor_script(db, path, timer=False):
    """The plan's queries as a sqlite3 CLI script, parameters bound, in key
    order. Returns the keys."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT key, sql, params FROM dashspec_plan ORDER BY key").fetchall()
    con.close()
    with open(path, "w") as f:
        if timer:
            f.write(".timer on\n")
        for key, sql, params in rows:
            f.write(".parameter clear\n")
            f.write(f".parameter set :now {sql_literal(REF)}\n")
            for name, v in (json.loads(params) if params else {}).items():
                f.write(f".parameter set :{name} {sql_literal(v)}\n")
            f.write(sql.strip().rstrip(";") + ";\n")
    return [r[0] for r in rows]


def timer_lines(out, keys):
    """{key: seconds} from the CLI's .timer lines, one per statement."""
    times = [float(x) for x in re.findall(r"^Run Time: real ([0-9.]+)", out, re.M)]
    if len(times) != len(keys):
        raise SystemExit(f"bench: {len(times)} timings for {len(keys)} statements")
    return dict(zip(keys, times))


def item_state(db):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT cache_key, last_duration_ms, entries, value_bytes FROM dashspec_state").fetchall()
    con.close()
    return {k: (d, e, b) for k, d, e, b in rows}


def gen_specs(n, dirpath):
    if os.path.isdir(dirpath) and len(os.listdir(dirpath)) == n:
        return
    shutil.rmtree(dirpath, ignore_errors=True)
    os.makedirs(dirpath)
    shapes = [
        ("scalar", "SELECT count(*) FROM sites WHERE status = :status"),
        ("map", "SELECT status, count(*) FROM sites WHERE created_at >= datetime(:now, '-1 day') GROUP BY status"),
        ("rows", "SELECT id, domain, status FROM sites WHERE id > :status_min ORDER BY id LIMIT 10"),
    ]
    for i in range(n):
        shape, q = shapes[i % 3]
        params = "{ status: found }" if ":status" in q and ":status_min" not in q else \
                 "{ status_min: 5 }" if ":status_min" in q else "{}"
        body = (f"version: 1\n"
                f"defaults:\n  ttl: 15m\n  group: bench\n"
                f"metrics:\n"
                f"  - key: bench_item_{i:04d}\n"
                f"    description: generated item {i}\n"
                f"    shape: {shape}\n"
                f"    params: {params}\n"
                f"    query: |\n      {q}\n")
        with open(os.path.join(dirpath, f"spec_{i:04d}.yaml"), "w") as f:
            f.write(body)


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    sqlite_v = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]
    fs = subprocess.run(["df", "-T", WORK], capture_output=True, text=True).stdout.splitlines()[-1].split()[1]
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
            f"{mem:.0f} GiB RAM, {fs} file system, sqlite3 CLI and libsqlite3 {sqlite_v}, "
            f"Python {platform.python_version()}")


SPIN = ["sqlite3", ":memory:",
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 2000000) SELECT count(*) FROM c"]


def parallel_capacity(tries=2):
    """How many cores this process tree gets right now: 2 x the time of one
    CPU-bound process / the time of two at once (2.0 = two idle cores,
    1.0 = one, e.g. when a neighbour keeps the other busy)."""
    alone = min(stopwatch(SPIN)[0] for _ in range(tries))
    pair = []
    for _ in range(tries):
        procs = [subprocess.Popen([RSS, "-q", "--"] + SPIN, stdout=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate()[0] for p in procs]
        pair.append(max(int(dict(kv.split("=") for kv in o.split())["wall_ns"]) for o in outs) / 1e9)
    return 2 * alone / min(pair)


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def ms(t):
    return f"{t * 1000:.1f} ms"


def met(ok):
    return "met" if ok else "**NOT met**"


def bench_scale(name, runs):
    db = os.path.join(WORK, f"{name}.db")
    if not os.path.exists(db):
        print(f"building {db} (scale {SCALES[name]})...", file=sys.stderr)
        sh(["sh", os.path.join(ROOT, "examples", "make-db.sh"), db, str(SCALES[name])],
           env=dict(os.environ, REF=REF), stdout=subprocess.DEVNULL)
    sh([BIN, "compile", "--db", db, "--specs", os.path.join(ROOT, "specs")], stdout=subprocess.DEVNULL)
    con = sqlite3.connect(db)
    nrows = sum(con.execute(f"SELECT count(*) FROM \"{t}\"").fetchone()[0] for (t,) in con.execute(
        "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'dashspec_%' "
        "AND name NOT LIKE 'sqlite_%' AND name <> 'dashboard_cache'").fetchall())
    journal = con.execute("PRAGMA journal_mode").fetchone()[0]
    con.close()
    # The floor runs with .timer on: its total is the floor, its lines the
    # floor of each item (a timer line costs one getrusage per statement).
    script = os.path.join(WORK, f"{name}-floor.sql")
    keys = floor_script(db, script, timer=True)
    run = [BIN, "run", "--db", db, "--now", REF, "--quiet"]
    s = {
        "a": Series(["sqlite3", db], stdin=script),
        "b": Series([sys.executable, os.path.join(ROOT, "bench", "origin_job.py"), db, REF]),
        "c": Series(run + ["--force", "--jobs", "1"]),
        "d": Series(run + ["--force", "--jobs", "2"]),
        "e": Series(run),
        "f": None,
    }
    print(f"{name}: warming up", file=sys.stderr)
    for k in "abcd":          # the page cache holds the database for all of them
        s[k].once()
        s[k].times.clear()
        s[k].cpus.clear()
    # Rounds of (a)-(d) with the machine's parallel capacity measured around
    # each; the medians are over the `runs` rounds where it was highest (up
    # to 2 x runs rounds are tried until `runs` of them find it >= 1.6), so a
    # neighbour's burst of work weighs on none of the commands.
    rounds = []
    while len(rounds) < 2 * runs and (len(rounds) < runs or
                                      sum(1 for r in rounds if r["cap"] >= 1.6) < runs):
        c0 = parallel_capacity(1)
        r = {"t": {}, "cpu": {}}
        for k in "abcd":
            cpu, out = [], []
            t, _ = stopwatch(s[k].cmd, s[k].stdin, cpu=cpu, out=out if k == "a" else None)
            r["t"][k], r["cpu"][k] = t, cpu[0]
            if k == "a":
                r["floor"] = timer_lines(out[0], keys)
            if k == "c":
                r["items"] = {key: v[0] for key, v in item_state(db).items()}
        r["cap"] = min(c0, parallel_capacity(1))
        rounds.append(r)
        print(f"{name}: round {len(rounds)} (load {loadavg()}, capacity {r['cap']:.2f})", file=sys.stderr)
    chosen = sorted(rounds, key=lambda r: -r["cap"])[:runs]
    for k in "abcd":
        s[k].times = [r["t"][k] for r in chosen]
        s[k].cpus = [r["cpu"][k] for r in chosen]
    per_c = {k: [r["items"][k] for r in chosen] for k in keys}
    floor_items = {k: statistics.median(r["floor"][k] for r in chosen) for k in keys}
    cap = [min(r["cap"] for r in chosen), max(r["cap"] for r in chosen), len(rounds)]
    # (d) last wrote every value: nothing is due for the no-op runs. Beside
    # them, what one small write transaction costs on this disk right now
    # (a no-op run writes one: its dashspec_runs row).
    cdb = os.path.join(WORK, "commit.db")
    if not os.path.exists(cdb):
        sh(["sqlite3", cdb, "CREATE TABLE t (x)"])
    ins = Series(["sqlite3", cdb, "INSERT INTO t VALUES (1)"])
    sel = Series(["sqlite3", cdb, "SELECT 1"])
    for _ in range(max(runs, 20)):
        s["e"].once()
        ins.once()
        sel.once()
    commit = max(0.0, ins.median - sel.median)
    con = sqlite3.connect(db)
    key, biggest = con.execute(
        "SELECT cache_key, (SELECT max(length(cache_value)) FROM dashboard_cache) FROM dashboard_cache "
        "ORDER BY cache_key LIMIT 1").fetchone()
    con.close()
    s["f"] = Series([BIN, "get", "--db", db, "--now", REF, key])
    # The machine's floors for (e) and (f): the sqlite3 CLI doing the same
    # kind of work (start, open, one small write transaction; start, open,
    # read one cache row), and exec of a program that does nothing.
    getf = Series(["sqlite3", db, f"SELECT cache_value FROM dashboard_cache WHERE cache_key = '{key}'"])
    true = Series(["/bin/true"])
    for _ in range(max(runs, 20)):
        s["f"].once()
        getf.once()
        true.once()
    print(f"{name}: peak memory", file=sys.stderr)
    for k in "abcdef":
        s[k].measure_memory()
    s["e"].once()
    st = item_state(db)
    items = [(k, floor_items[k], statistics.median(per_c[k]), st[k][1], st[k][2]) for k in keys]
    return dict(db=db, nrows=nrows, keys=keys, biggest=biggest, s=s, cap=cap, items=items, journal=journal,
                commit=commit, ins=ins.median, getf=getf.median, true=true.median)


# ---------------------------------------------------------------- large values

VALUE_ROWS = [10_000, 100_000, 1_000_000]
VALUE_QUERY = "SELECT id, name, score, n, created_at FROM t ORDER BY id LIMIT :n"


def values_db():
    db = os.path.join(WORK, "values.db")
    specs = os.path.join(WORK, "values-specs")
    if not os.path.exists(db):
        tmp = db + ".tmp"
        if os.path.exists(tmp):
            os.remove(tmp)
        sh(["sqlite3", tmp,
            "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, n INTEGER, created_at TEXT);"
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000000) "
            "INSERT INTO t SELECT i, 'name-' || i || ' ' || printf('%08x', (i * 2654435761) % 4294967296), "
            "i * 0.25, i % 1000, datetime('2026-01-01', '+' || (i % 86400) || ' seconds') FROM c;"])
        os.rename(tmp, db)
    os.makedirs(specs, exist_ok=True)
    body = "version: 1\ndefaults: { ttl: 1h, max_rows: 1000000, max_bytes: 268435456 }\nmetrics:\n"
    for n in VALUE_ROWS:
        body += f"  - {{ key: rows_{n}, shape: rows, params: {{ n: {n} }}, query: \"{VALUE_QUERY}\" }}\n"
    with open(os.path.join(specs, "values.yaml"), "w") as f:
        f.write(body)
    sh([BIN, "compile", "--db", db, "--specs", specs], stdout=subprocess.DEVNULL)
    return db


def bench_values(runs):
    """Each N measured with only its own value in the cache (the others'
    overflow pages would be walked by every run: see noop below). Returns
    the rows and (seconds, MiB cached) of a run with nothing due while the
    largest value is cached."""
    db = values_db()
    out = []
    for n in VALUE_ROWS:
        key = f"rows_{n}"
        sh([BIN, "clear", "--db", db], stdout=subprocess.DEVNULL)
        q = VALUE_QUERY.replace(":n", str(n))
        run = Series([BIN, "run", "--db", db, "--now", REF, "--quiet", "--force", "--jobs", "1", "--only", key])
        flo = Series(["sqlite3", "-json", db, q])
        k = max(3, runs if n < 1_000_000 else 3)
        run.once(); flo.once()
        run.times.clear(); flo.times.clear()
        for _ in range(k):
            run.once()
            flo.once()
        run.measure_memory(1)
        flo.measure_memory(1)
        con = sqlite3.connect(db)
        size = con.execute("SELECT length(cache_value) FROM dashboard_cache WHERE cache_key = ?", (key,)).fetchone()[0]
        ms_item = con.execute("SELECT last_duration_ms FROM dashspec_state WHERE cache_key = ?", (key,)).fetchone()[0]
        con.close()
        out.append(dict(n=n, size=size, run=run, floor=flo, item_ms=ms_item))
    noop = Series([BIN, "run", "--db", db, "--now", REF, "--quiet", "--only", f"rows_{VALUE_ROWS[-1]}"])
    for _ in range(max(runs, 5)):
        noop.once()
    return out, (noop.median, out[-1]["size"] / MiB)


# ---------------------------------------------------------------- report

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="medium,large")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results.md"))
    ap.add_argument("--no-values", action="store_true", help="skip the large-value measurements")
    a = ap.parse_args()
    if a.runs < 1:
        raise SystemExit("bench: --runs must be at least 1")
    os.makedirs(WORK, exist_ok=True)
    for f in (BIN, RSS):
        if not os.access(f, os.X_OK):
            raise SystemExit(f"bench: {os.path.relpath(f, ROOT)} is missing; run make bench")

    specs1000 = os.path.join(WORK, "specs1000")
    gen_specs(1000, specs1000)
    mig = os.path.join(ROOT, "examples", "migrations")
    check = Series([BIN, "check", "--migrations", mig, "--specs", specs1000])
    tmpdb = os.path.join(WORK, "compile1000.db")

    def fresh_db():
        if os.path.exists(tmpdb):
            os.remove(tmpdb)
        sh(["sh", "-c", f"cat {mig}/*.sql | sqlite3 {tmpdb}"])
    compile_ = Series([BIN, "compile", "--db", tmpdb, "--specs", specs1000], before=fresh_db)
    for _ in range(a.runs):
        check.once()
        compile_.once()

    results = [(name, bench_scale(name, a.runs)) for name in a.scales.split(",")]
    values, vnoop = ([], None) if a.no_values else bench_values(a.runs)

    goals = []          # (what, goal, figure, ok)
    body = []
    for name, R in results:
        s, floor = R["s"], R["s"]["a"].median
        biggest = R["biggest"]
        rss_goal = (2 * biggest + 8 * MiB) / 1024
        gl = [
            ("(c) run --jobs 1 vs floor", "<= 1.05x", f"{s['c'].median / floor:.2f}x", s["c"].median <= 1.05 * floor),
            ("(d) run --jobs 2 vs floor", "<= 0.65x", f"{s['d'].median / floor:.2f}x", s["d"].median <= 0.65 * floor),
            ("(e) no-op run", "<= 5 ms",
             f"{ms(s['e'].median)} ({s['e'].median / R['ins']:.2f}x sqlite3's one-row INSERT)", s["e"].median <= 0.005),
            ("(f) get", "<= 2 ms",
             f"{ms(s['f'].median)} ({s['f'].median / R['getf']:.2f}x sqlite3's SELECT of the row)", s["f"].median <= 0.002),
            ("peak RSS of (c)", f"<= 2 x largest value + 8 MiB = {rss_goal / 1024:.1f} MiB",
             f"{s['c'].peak / 1024:.1f} MiB", s["c"].peak <= rss_goal),
        ]
        goals += [(f"{name}: {w}", g, f, ok) for w, g, f, ok in gl]
        body += [f"## {name}: {R['nrows']:,} rows, {len(R['keys'])} items, journal_mode={R['journal']}", "",
                 "| | what | median | ratio to (a) | CPU | peak RSS | goal |",
                 "|---|---|---:|---:|---:|---:|---|"]

        def row(k, what, goal="", ratio=True):
            t = s[k].median
            rt = f"{t / floor:.2f}x" if ratio else ""
            body.append(f"| ({k}) | {what} | {ms(t)} | {rt} | {ms(s[k].cpu)} | {s[k].peak / 1024:.1f} MiB | {goal} |")
        row("a", "sqlite3 CLI, same SQL, output discarded (floor)")
        row("b", "Python stdlib script doing the origin's job")
        row("c", "dashspec run --force --jobs 1", f"<= 1.05x: {met(gl[0][3])}; RSS <= {rss_goal / 1024:.1f} MiB: {met(gl[4][3])}")
        row("d", "dashspec run --force --jobs 2", f"<= 0.65x: {met(gl[1][3])}")
        row("e", "dashspec run, nothing due", f"<= 5 ms: {met(gl[2][3])}", ratio=False)
        row("f", "dashspec get KEY", f"<= 2 ms: {met(gl[3][3])}", ratio=False)
        items = R["items"]
        tot_f = sum(i[1] for i in items)
        tot_c = sum(i[2] for i in items) / 1000
        longest = max(items, key=lambda i: i[2])
        bound = max(longest[2] / 1000, tot_c / 2)
        body += ["",
                 f"(e) spends {ms(s['e'].cpu)} of CPU; the rest of its {ms(s['e'].median)} is waiting, mostly for "
                 f"the fsyncs of its one write transaction (the dashspec_runs row): the sqlite3 CLI's one-row "
                 f"INSERT costs {ms(R['commit'])} more than its SELECT 1 on this disk right now.",
                 "",
                 f"The machine's floor for (e) and (f), measured beside them: starting any program "
                 f"(`/bin/true`) takes {ms(R['true'])}; the sqlite3 CLI inserting one row into a one-table "
                 f"database (start, open, one write transaction, as (e)) {ms(R['ins'])}, so (e) is "
                 f"{s['e'].median / R['ins']:.2f}x that; the sqlite3 CLI selecting the cache row `get` prints "
                 f"from this database {ms(R['getf'])}, so (f) is {s['f'].median / R['getf']:.2f}x that. Where "
                 f"these floors exceed the 5 ms and 2 ms goals, the goals cannot be met on this machine by any "
                 f"program that links SQLite.",
                 "",
                 f"Largest cached value: {biggest / 1024:.1f} KiB. Parallel capacity of the machine around the "
                 f"{a.runs} rounds of (a)-(d) used, of {R['cap'][2]} run: {R['cap'][0]:.2f} to {R['cap'][1]:.2f} "
                 f"(2.00 = two idle cores; a neighbour's CPU-bound process takes one and makes it ~1.0, and then "
                 f"(d) cannot beat (c)).",
                 "",
                 f"What bounds (d): with 2 workers a run cannot be shorter than its longest item "
                 f"({longest[0]}, {longest[2]:.0f} ms) nor half the items' total ({tot_c * 1000:.0f} ms / 2); "
                 f"that is {bound * 1000:.0f} ms = {bound / floor:.2f}x of the floor, before process start, "
                 f"state load and writes.",
                 "",
                 "Per item (medians over the same rounds): the floor is the sqlite3 CLI's `.timer` for that "
                 "statement in (a); dashspec's is `dashspec_state.last_duration_ms` of (c) (prepare, bind, step, "
                 "shape; the write is not in it).",
                 "",
                 "| item | floor | dashspec (c) | ratio | entries | value bytes |",
                 "|---|---:|---:|---:|---:|---:|"]
        for k, f, c, e, b in sorted(items, key=lambda i: -i[1]):
            rt = f"{c / 1000 / f:.2f}x" if f >= 0.005 else ""
            body.append(f"| {k} | {f * 1000:.0f} ms | {c:.0f} ms | {rt} | {e} | {b} |")
        body.append(f"| **total** | {tot_f * 1000:.0f} ms | {tot_c * 1000:.0f} ms | {tot_c / tot_f:.2f}x | | |")
        body.append("")

    g = check.median
    goals.append(("(g) check of 1,000 spec files", "<= 150 ms", ms(g), g <= 0.150))
    body += ["## check and compile of 1,000 generated spec files", "",
             "| | what | median | peak RSS | goal |", "|---|---|---:|---:|---|"]
    check.measure_memory(1)
    compile_.measure_memory(1)
    body += [f"| (g) | dashspec check --migrations examples/migrations (1,000 files) | {ms(g)} | "
             f"{check.peak / 1024:.1f} MiB | <= 150 ms: {met(g <= 0.150)} |",
             f"| | dashspec compile into a fresh database (1,000 files) | {ms(compile_.median)} | "
             f"{compile_.peak / 1024:.1f} MiB | |", ""]

    if values:
        body += ["## Large values: one `rows` item of N rows", "",
                 f"`{VALUE_QUERY}` over a 1M-row table (bench/work/values.db), max_rows 1000000, max_bytes 256 MiB; "
                 "`dashspec run --force --jobs 1 --only rows_N` (whole process: start, query, shaping, one "
                 "write of the value) against `sqlite3 -json` printing the same rows to /dev/null. "
                 "Each N with only its own value in the cache. Medians; peak RSS is the process's own (VmHWM).", "",
                 "| rows | value | dashspec | per row | sqlite3 -json | ratio | peak RSS | 2 x value + 8 MiB | sqlite3 -json RSS |",
                 "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for v in values:
            t, f = v["run"].median, v["floor"].median
            lim = (2 * v["size"] + 8 * MiB) / MiB
            ok = v["run"].peak / 1024 <= lim
            goals.append((f"large value {v['n']:,} rows: peak RSS", f"<= 2 x value + 8 MiB = {lim:.1f} MiB",
                          f"{v['run'].peak / 1024:.1f} MiB", ok))
            body.append(f"| {v['n']:,} | {v['size'] / MiB:.1f} MiB | {ms(t)} | {t / v['n'] * 1e6:.2f} µs | {ms(f)} | "
                        f"{t / f:.2f}x | {v['run'].peak / 1024:.1f} MiB | {lim:.1f} MiB ({met(ok)}) | "
                        f"{v['floor'].peak / 1024:.1f} MiB |")
        body += ["", f"Time per row stays flat from 100k to 1M rows (the 10k row also carries the process's "
                 f"start and a write of {values[0]['size'] / MiB:.1f} MiB). The one cost that grows with what "
                 f"is cached rather than with what runs: with the {VALUE_ROWS[-1]:,}-row value "
                 f"({vnoop[1]:.0f} MiB) in the cache, a run with nothing due takes {ms(vnoop[0])}, because "
                 "deciding what is due reads created_at and expires_at, which follow cache_value in "
                 "dashboard_cache's rows, and SQLite reaches them by walking the value's overflow pages "
                 "(docs/run.md, Performance).", ""]

    head = ["# dashspec benchmarks", "",
            f"Machine: {machine()}.", "",
            f"Command: `make bench` (bench/bench.py --scales {a.scales} --runs {a.runs}); (a)-(d): medians of "
            f"{a.runs} interleaved rounds, those with the most idle machine of up to {2 * a.runs} (see each "
            f"scale's parallel capacity); {max(a.runs, 20)} runs for no-op and get; wall time of the whole process "
            "from fork to exit (build/bench-rss); CPU is its user + system time, all threads (wall - CPU is "
            "waiting for the disk's fsyncs or for a core); peak RSS the process's own VmHWM (max of 2 runs).", "",
            "## Goals", "",
            "| goal | target | measured | |", "|---|---|---:|---|"]
    for w, tgt, fig, ok in goals:
        head.append(f"| {w} | {tgt} | {fig} | {met(ok)} |")
    head.append("")
    text = "\n".join(head + body) + "\n"

    # Keep the sections make profile and make bench-freshness wrote.
    try:
        old = open(a.out).read()
        for begin, end in ((PROFILE_BEGIN, PROFILE_END), (FRESH_BEGIN, FRESH_END)):
            i, j = old.find(begin), old.find(end)
            if i >= 0 and j > i:
                text += "\n" + old[i:j + len(end)] + "\n"
    except OSError:
        pass
    print(text)
    with open(a.out, "w") as f:
        f.write(text)
    nbad = sum(1 for g_ in goals if not g_[3])
    print(f"written to {os.path.relpath(a.out, ROOT)}; "
          f"{'all goals met' if not nbad else f'{nbad} of {len(goals)} goals not met'}", file=sys.stderr)


if __name__ == "__main__":
    main()
