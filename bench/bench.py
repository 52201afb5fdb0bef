#!/usr/bin/env python3
"""dashspec benchmarks: side by side with the floor (the sqlite3 CLI running
exactly the same SQL, output discarded) and the script dashspec replaces.

For each scale it builds the example database once (bench/work/, kept between
runs), compiles specs/ into it, then measures medians of --runs runs:

  (a) floor      sqlite3 CLI, every plan query with its parameters bound
  (b) python     bench/origin_job.py: run, json.dumps, upsert (the origin's job)
  (c) run        dashspec run --force --jobs 1
  (d) run -j2    dashspec run --force --jobs 2
  (e) no-op      dashspec run with nothing due
  (f) get        dashspec get of one key
  (g) check      dashspec check of 1,000 generated spec files against the schema

and prints a table with ratios to (a), also written to bench/results.md with
the machine's description. Peak RSS of (c) is compared with its goal:
2 x the largest cached value + 8 MiB. Standard library only.

usage: bench/bench.py [--scales medium,large] [--runs 5] [--out bench/results.md]
"""
import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")
BIN = os.path.join(ROOT, "build", "dashspec")
REF = "2026-02-12 10:00:00"
SCALES = {"small": 1, "medium": 12, "large": 62}   # ~100k, ~1M, ~5M rows


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, env=None, stdin=None):
    """Wall time (s) and peak RSS (KiB) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         stdin=open(stdin) if stdin else subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode not in (0,):
        raise SystemExit(f"bench: {' '.join(cmd)} exited {p.returncode}: {err}")
    return dt, ru.ru_maxrss


def median_of(n, cmd, before=None, stdin=None):
    times, rss = [], 0
    for _ in range(n):
        if before:
            before()
        dt, r = timed(cmd, stdin=stdin)
        times.append(dt)
        rss = max(rss, r)
    return statistics.median(times), rss


def sql_literal(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def floor_script(db, path):
    """The plan's queries as a sqlite3 CLI script, parameters bound."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT key, sql, params FROM dashspec_plan ORDER BY key").fetchall()
    con.close()
    with open(path, "w") as f:
        for key, sql, params in rows:
            f.write(".parameter clear\n")
            f.write(f".parameter set :now {sql_literal(REF)}\n")
            for name, v in (json.loads(params) if params else {}).items():
                f.write(f".parameter set :{name} {sql_literal(v)}\n")
            f.write(sql.strip().rstrip(";") + ";\n")
    return len(rows)


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
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
            f"{mem:.0f} GiB RAM, sqlite3 CLI {sqlite_v}, Python {platform.python_version()}")


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
    con.close()
    script = os.path.join(WORK, f"{name}-floor.sql")
    nitems = floor_script(db, script)
    run = [BIN, "run", "--db", db, "--now", REF, "--quiet"]
    res = {}
    # One warm-up of each so the page cache holds the database for all of them.
    timed(["sqlite3", db], stdin=script)
    res["a"] = median_of(runs, ["sqlite3", db], stdin=script)
    res["b"] = median_of(runs, [sys.executable, os.path.join(ROOT, "bench", "origin_job.py"), db, REF])
    res["c"] = median_of(runs, run + ["--force", "--jobs", "1"])
    res["d"] = median_of(runs, run + ["--force", "--jobs", "2"])
    res["e"] = median_of(max(runs, 20), run)
    con = sqlite3.connect(db)
    key, biggest = con.execute(
        "SELECT cache_key, (SELECT max(length(cache_value)) FROM dashboard_cache) FROM dashboard_cache "
        "ORDER BY cache_key LIMIT 1").fetchone()
    con.close()
    res["f"] = median_of(max(runs, 20), [BIN, "get", "--db", db, "--now", REF, key])
    return db, nrows, nitems, biggest, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="medium,large")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results.md"))
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    if not os.access(BIN, os.X_OK):
        raise SystemExit("bench: build/dashspec is missing; run make first")

    specs1000 = os.path.join(WORK, "specs1000")
    gen_specs(1000, specs1000)
    mig = os.path.join(ROOT, "examples", "migrations")
    check = median_of(a.runs, [BIN, "check", "--migrations", mig, "--specs", specs1000])
    tmpdb = os.path.join(WORK, "compile1000.db")

    def fresh_db():
        if os.path.exists(tmpdb):
            os.remove(tmpdb)
        sh(["sh", "-c", f"cat {mig}/*.sql | sqlite3 {tmpdb}"])
    compile_ = median_of(a.runs, [BIN, "compile", "--db", tmpdb, "--specs", specs1000], before=fresh_db)

    lines = [f"# dashspec benchmarks", "",
             f"Machine: {machine()}", "",
             f"Command: `make bench` (bench/bench.py --scales {a.scales} --runs {a.runs}); "
             f"medians of {a.runs} runs (20 for no-op and get), wall time of the whole process.", ""]
    goals_ok = True
    for name in a.scales.split(","):
        db, nrows, nitems, biggest, r = bench_scale(name, a.runs)
        floor = r["a"][0]
        lines += [f"## {name}: {nrows:,} rows, {nitems} items", "",
                  "| | what | median | ratio to (a) | goal |",
                  "|---|---|---:|---:|---|"]

        def row(k, what, goal="", ratio=True):
            t = r[k][0]
            rt = f"{t / floor:.2f}x" if ratio else ""
            lines.append(f"| ({k}) | {what} | {t * 1000:.1f} ms | {rt} | {goal} |")
        row("a", "sqlite3 CLI, same SQL, output discarded (floor)")
        row("b", "Python stdlib script doing the origin's job")
        ok_c = r["c"][0] <= 1.05 * floor
        ok_d = r["d"][0] <= 0.65 * floor
        ok_e = r["e"][0] <= 0.005
        ok_f = r["f"][0] <= 0.002
        row("c", "dashspec run --force --jobs 1", f"<= 1.05x: {'met' if ok_c else 'NOT met'}")
        row("d", "dashspec run --force --jobs 2", f"<= 0.65x: {'met' if ok_d else 'NOT met'}")
        row("e", "dashspec run, nothing due", f"<= 5 ms: {'met' if ok_e else 'NOT met'}", ratio=False)
        row("f", "dashspec get KEY", f"<= 2 ms: {'met' if ok_f else 'NOT met'}", ratio=False)
        rss_kib = r["c"][1]
        rss_goal = (2 * biggest + 8 * 2**20) / 1024
        ok_rss = rss_kib <= rss_goal
        lines += ["", f"Peak RSS of (c): {rss_kib / 1024:.1f} MiB; largest cached value {biggest / 1024:.1f} KiB; "
                  f"goal <= 2 x largest + 8 MiB = {rss_goal / 1024:.1f} MiB: {'met' if ok_rss else 'NOT met'}.", ""]
        goals_ok &= ok_c and ok_d and ok_e and ok_f and ok_rss
    ok_g = check[0] <= 0.150
    lines += ["## check and compile of 1,000 generated spec files", "",
              "| | what | median | goal |", "|---|---|---:|---|",
              f"| (g) | dashspec check --migrations examples/migrations (1,000 files) | {check[0] * 1000:.1f} ms | "
              f"<= 150 ms: {'met' if ok_g else 'NOT met'} |",
              f"| | dashspec compile into a fresh database (1,000 files) | {compile_[0] * 1000:.1f} ms | |", ""]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(a.out, "w") as f:
        f.write(text)
    print(f"written to {os.path.relpath(a.out, ROOT)}; goals {'all met' if goals_ok and ok_g else 'not all met'}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
