#!/usr/bin/env python3
"""dashspec on PostgreSQL against its floor (make bench-postgres).

Starts a throwaway server (tests/pg/cluster.sh: a temp directory, a Unix
socket, fsync off), loads the example application's data
(examples/postgres/load.sh at --scale), compiles examples/postgres/specs,
then measures medians of --runs rounds, the commands of one round
interleaved so that a busy neighbour weighs on all of them alike:

  (a) floor     one psql process running every plan query (the SQL of each
                spec with its parameters substituted as typed literals, in
                key order, after the session settings dashspec's connection
                makes), output discarded
  (b) run       dashspec run --force --jobs 1
  (c) 2 runners two `dashspec run --force` processes started together
                (default --jobs), meant to share the items through the claims
                (FOR UPDATE SKIP LOCKED); wall time until both exit, and how
                many items each ran
  (d) run -j2   dashspec run --force --jobs 2, for comparison with (c)

The server is stopped and removed whatever happens. Figures are printed and
written as the "PostgreSQL" section of bench/results.md (replacing an
earlier one). Standard library only.

usage: bench/bench_postgres.py [--scale 12] [--runs 5] [--out bench/results.md]
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "dashspec")
CLUSTER = os.path.join(ROOT, "tests", "pg", "cluster.sh")
SPECS = os.path.join(ROOT, "examples", "postgres", "specs")
REF = "2026-02-12 10:00:00"
BEGIN = "<!-- postgres: written by make bench-postgres (bench/bench_postgres.py) -->"
END = "<!-- /postgres -->"
# The session dashspec's connection sets up (engine/postgres/pg_conn.c).
SESSION = ("SELECT set_config('jit', 'off', false) FROM pg_settings WHERE name = 'jit' AND source = 'default';\n"
           "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
           " SET extra_float_digits = 1; SET client_encoding = 'UTF8';\n")
# Skipped over when substituting: string literals, quoted identifiers,
# comments and `::` casts; what is left as `:name` is a parameter.
TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|::|:([A-Za-z_][A-Za-z0-9_]*)", re.S)


def literal(v):
    """A parameter as a typed literal: the types dashspec binds it with."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v}::bigint"
    if isinstance(v, float):
        return f"{v!r}::double precision"
    return "'" + str(v).replace("'", "''") + "'::text"


def substitute(sql, params):
    values = dict(params)
    values_sql = {k: literal(v) for k, v in values.items()}
    values_sql["now"] = f"'{REF}+00'::timestamptz"

    def repl(m):
        if m.group(1) is None:
            return m.group(0)
        if m.group(1) not in values_sql:
            raise SystemExit(f"bench-postgres: no value for :{m.group(1)}")
        return values_sql[m.group(1)]
    return TOKEN.sub(repl, sql)


def psql(db, sql):
    return subprocess.run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", db, "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def floor_script(db, path):
    """The plan's queries as one psql script; returns the keys."""
    rows = json.loads(psql(db, "SELECT json_agg(json_build_array(key, sql, params) ORDER BY key COLLATE \"C\")"
                               " FROM dashspec_plan"))
    with open(path, "w") as f:
        f.write("\\set ON_ERROR_STOP 1\n" + SESSION)
        for key, sql, params in rows:
            f.write(substitute(sql.strip().rstrip(";"), json.loads(params) if params else {}) + ";\n")
    return [r[0] for r in rows]


def timed(cmds):
    """Wall seconds from starting every command of cmds at once until the
    last exits; each must exit 0 (output discarded)."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in cmds]
    for p, c in zip(procs, cmds):
        err = p.communicate()[1]
        if p.returncode != 0:
            raise SystemExit(f"bench-postgres: {' '.join(c)} exited {p.returncode}: {err}")
    return time.perf_counter() - t0


def loadavg():
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except OSError:
        return float("nan")


def machine(db):
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    server = psql(db, "SHOW server_version").strip()
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, "
            f"PostgreSQL {server} (throwaway cluster, Unix socket, fsync off), Python {platform.python_version()}")


def measure(db, runs, workdir):
    script = os.path.join(workdir, "floor.sql")
    keys = floor_script(db, script)
    floor = ["psql", "-X", "-q", "-o", os.devnull, "-f", script, db]
    run = [BIN, "run", "--db", db, "--now", REF, "--quiet", "--force"]
    cmds = {"a": [floor], "b": [run + ["--jobs", "1"]], "c": [run, run], "d": [run + ["--jobs", "2"]]}
    for k in "abcd":                      # warm the server's buffers for all of them
        timed(cmds[k])
    times = {k: [] for k in cmds}
    loads, splits = [], []
    for i in range(runs):
        loads.append(loadavg())
        for k in "abcd":
            times[k].append(timed(cmds[k]))
            if k == "c":    # how the two runners split the items (their dashspec_runs rows)
                splits.append(sorted(int(x) for x in psql(
                    db, "SELECT items_run FROM dashspec_runs ORDER BY id DESC LIMIT 2").split()))
        print(f"round {i + 1}: floor {times['a'][-1] * 1000:.0f} ms, run {times['b'][-1] * 1000:.0f} ms, "
              f"2 runners {times['c'][-1] * 1000:.0f} ms (items {splits[-1]}), "
              f"run -j2 {times['d'][-1] * 1000:.0f} ms (load {loads[-1]:.2f})", file=sys.stderr)
    loads.append(loadavg())
    return keys, {k: statistics.median(v) for k, v in times.items()}, times, loads, splits


def report(args, keys, med, times, loads, nrows, mach, splits):
    fl = med["a"]

    def row(name, k, goal):
        ratio = med[k] / fl
        verdict = "" if goal is None else (f"≤ {goal:.2f}×: " + ("met" if ratio <= goal else "**NOT met**"))
        each = ", ".join(f"{t * 1000:.0f}" for t in times[k])
        return f"| {name} | {med[k] * 1000:.1f} ms | {ratio:.2f}× | {verdict} | {each} |"
    lines = [
        BEGIN,
        "## PostgreSQL",
        "",
        f"`make bench-postgres PG_BENCH_SCALE={args.scale} PG_BENCH_RUNS={args.runs}` "
        f"(bench/bench_postgres.py): the example data at scale {args.scale} ({nrows:,} rows) "
        f"on a throwaway server, the {len(keys)} items of examples/postgres/specs, --now '{REF}'. "
        f"Medians of {args.runs} interleaved rounds after one warm-up round.",
        "",
        f"Machine: {mach}. Load average (1 min) during the rounds: "
        f"{min(loads):.2f}–{max(loads):.2f}.",
        "",
        "| command | median | vs floor | goal (issue 10) | each round (ms) |",
        "|---|---:|---:|---|---|",
        row("floor: one `psql -f` running the same SQL, output discarded", "a", None),
        row("`dashspec run --force --jobs 1`", "b", 1.10),
        row("two `dashspec run --force` processes at once (default --jobs)", "c", 0.65),
        row("for comparison: one `dashspec run --force --jobs 2`", "d", None),
        "",
        f"How the two runners split the {len(keys)} items in each round (items_run of their "
        f"dashspec_runs rows): {', '.join('+'.join(str(x) for x in sp) for sp in splits)}. "
        f"A runner claims an item only when one of its workers is about to compute it "
        f"(runtime/ds_sched.c), so two runners started together divide the items; each "
        f"runs with the default --jobs (the online CPUs, here {os.cpu_count()}). The floor "
        f"is psql with the session settings dashspec makes (UTC, ISO dates, JIT off unless configured), each parameter "
        f"substituted as the typed literal dashspec binds (`bigint`, `double precision`, "
        f"`text`, `:now` as `timestamptz`); dashspec additionally wraps each item in "
        f"`BEGIN READ ONLY` / `SET LOCAL statement_timeout` / `ROLLBACK`, shapes the JSON and "
        f"writes value, state and history. Two runners can beat the floor only when the "
        f"machine has a second core to give them (the server runs one backend per runner).",
        END,
    ]
    return "\n".join(lines) + "\n"


def write(out, section):
    text = open(out).read() if os.path.exists(out) else "# Benchmarks\n"
    if BEGIN in text and END in text:
        a = text.index(BEGIN)
        b = text.index(END) + len(END)
        text = text[:a] + section.rstrip("\n") + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(out, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", default="12")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results.md"))
    args = ap.parse_args()
    out = subprocess.run(["sh", CLUSTER, "start"], check=True, capture_output=True, text=True).stdout.splitlines()
    cdir, db = out[0], out[1]
    try:
        print(f"bench-postgres: loading the example at scale {args.scale}...", file=sys.stderr)
        subprocess.run(["sh", os.path.join(ROOT, "examples", "postgres", "load.sh"), db, args.scale],
                       check=True, env=dict(os.environ, REF=REF), stdout=subprocess.DEVNULL)
        subprocess.run([BIN, "compile", "--db", db, "--specs", SPECS], check=True, stdout=subprocess.DEVNULL)
        nrows = int(psql(db, "SELECT sum(n_live_tup) FROM pg_stat_user_tables"
                             " WHERE relname NOT LIKE 'dashspec%' AND relname <> 'dashboard_cache'").strip() or 0)
        work = tempfile.mkdtemp(prefix="dspg-bench.")
        try:
            keys, med, times, loads, splits = measure(db, args.runs, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        section = report(args, keys, med, times, loads, nrows, machine(db), splits)
    finally:
        subprocess.run(["sh", CLUSTER, "stop", cdir])
    print(section)
    write(args.out, section)


if __name__ == "__main__":
    main()
