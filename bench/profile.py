#!/usr/bin/env python3
"""Where a run's instructions go: callgrind of dashspec against the sqlite3 CLI.

For each item of the plan (bench/work/SCALE.db, specs/ compiled into it) it
runs, under valgrind --tool=callgrind,

  dashspec run --force --only KEY --jobs 1     (one item: no threads)
  sqlite3 DB < that item's floor script        (the same SQL, bound the same way)

and splits dashspec's instructions (Ir) by who spends them, from the call
graph (inclusive costs of call edges):

  start      the dynamic loader and libc before main and after it returns
  open       opening the connections (ds_db_open, ds_exec_new: schema reads)
  plan       migrations check, plan and state loads, the writer's statements
  query      SQLite preparing and running the item's SQL (every call from
             ds_exec.c into libsqlite3 but the connection's open)
  shape      the shaper: rows -> JSON (ds_shaper_*, ds_json_*)
  exec       ds_exec.c's own code around the query (cells, binding, limits)
  write      writing the value and its state (ds_cache_put, ds_cache_batch_*)
  record     the summary JSON and the dashspec_runs row
  other      the rest (option parsing, freeing, the summary's printing)

and the same run of the whole plan (--jobs 1) and of a run with nothing due.
"non-SQLite" is shape + exec: what dashspec adds to an item's query itself.
Writes bench/profile.md and the section of bench/results.md between the
profile markers. Standard library only; needs valgrind.

usage: bench/profile.py [--scale medium] [--keys k1,k2] [--out bench/profile.md]
"""
import argparse
import collections
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")
BIN = os.path.join(ROOT, "build", "dashspec")
REF = "2026-02-12 10:00:00"
BEGIN = "<!-- profile: written by make profile (bench/profile.py) -->"
END = "<!-- /profile -->"
CATS = ["start", "open", "plan", "query", "shape", "exec", "write", "record", "other"]


# ---------------------------------------------------------------- callgrind's format

def parse_callgrind(path):
    """(total Ir, self cost per function, {(caller, callee): inclusive Ir}).
    A function is (object basename, file basename, name)."""
    names = {"ob": {}, "fl": {}, "fn": {}}
    space = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl", "cfl": "fl", "cfi": "fl",
             "fn": "fn", "cfn": "fn"}

    def name(kind, v):
        m = re.match(r"\((\d+)\)(?: (.*))?$", v)
        if not m:
            return v
        tab = names[space[kind]]
        if m.group(2) is not None:
            tab[m.group(1)] = m.group(2)
        return tab.get(m.group(1), "?")

    selfc = collections.Counter()
    edges = collections.Counter()
    total = 0
    ob = fl = fn = None
    cob = cfl = cfn = None
    in_call = False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if in_call:
                    callee = (os.path.basename(cob or ob), os.path.basename(cfl or fl), cfn)
                    edges[((os.path.basename(ob), os.path.basename(fl), fn), callee)] += cost
                    in_call = False
                    cob = cfl = None
                else:
                    selfc[(os.path.basename(ob), os.path.basename(fl), fn)] += cost
                continue
            key, _, val = line.partition("=")
            if key == "ob":
                ob = name("ob", val)
            elif key in ("fl",):
                fl = name("fl", val)
            elif key in ("fi", "fe"):
                name(key, val)          # inlined code: keep the function's file
            elif key == "fn":
                fn = name("fn", val)
                cob = cfl = None
            elif key == "cob":
                cob = name("cob", val)
            elif key in ("cfl", "cfi"):
                cfl = name(key, val)
            elif key == "cfn":
                cfn = name("cfn", val)
            elif key == "calls":
                in_call = True
            elif line.startswith("totals:") or line.startswith("summary:"):
                total = max(total, int(line.split(":")[1].split()[0]))
    return total, selfc, edges


def callgrind(cmd, stdin=None):
    with tempfile.NamedTemporaryFile(prefix="cg.", suffix=".out", delete=False) as t:
        out = t.name
    try:
        with open(stdin) if stdin else open(os.devnull) as f:
            p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--"] + cmd,
                               stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise SystemExit(f"profile: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-2000:]}")
        return parse_callgrind(out)
    finally:
        os.remove(out)


def split(prof):
    """dashspec's instructions by category (see the top of this file)."""
    total, selfc, edges = prof
    into = collections.Counter()            # inclusive cost of calls into a function, by name
    for (caller, callee), c in edges.items():
        # ds_exec_new opens its connection with ds_db_open: count it once.
        if caller[2] != callee[2] and not (caller[2] == "ds_exec_new" and callee[2] == "ds_db_open"):
            into[callee[2]] += c
    r = dict.fromkeys(CATS, 0)
    # Everything under main and under the worker threads' function (work).
    r["start"] = total - into["main"] - into["work"]
    r["open"] = into["ds_db_open"] + into["ds_exec_new"]
    r["plan"] = sum(into[f] for f in ("ds_db_migrate", "ds_plan_load", "ds_compile_db", "ds_state_load",
                                      "ds_writer_new"))
    exec_fns = {"ds_exec_item", "statement", "bind_named", "only_blank", "step_error", "ensure_cells"}
    q = s = 0
    for (caller, callee), c in edges.items():
        if caller[1] != "ds_exec.c" or caller[2] not in exec_fns:
            continue
        if "libsqlite3" in callee[0]:
            q += c
        elif callee[1] in ("ds_shape.c", "ds_json.c"):
            s += c
    r["query"], r["shape"] = q, s
    r["exec"] = into["ds_exec_item"] - q - s
    r["write"] = sum(into[f] for f in ("ds_cache_put", "ds_cache_fail_timed", "ds_cache_batch_begin",
                                       "ds_cache_batch_commit", "ds_cache_batch_abort"))
    r["record"] = into["ds_cache_record_run"] + into["summary_json"]
    r["other"] = total - sum(r[k] for k in CATS if k != "other")
    r["total"] = total
    return r


# ---------------------------------------------------------------- the runs

def sql_literal(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def item_script(sql, params, path):
    with open(path, "w") as f:
        f.write(f".parameter set :now {sql_literal(REF)}\n")
        for name, v in (json.loads(params) if params else {}).items():
            f.write(f".parameter set :{name} {sql_literal(v)}\n")
        f.write(sql.strip().rstrip(";") + ";\n")


def mi(n):
    return f"{n / 1e6:.2f}"


def pct(a, b):
    return f"{100 * a / b:.1f}%" if b else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--keys", default="", help="only these items (comma-separated)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "profile.md"))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "results.md"))
    a = ap.parse_args()
    db = os.path.join(WORK, f"{a.scale}.db")
    if not os.path.exists(db):
        raise SystemExit(f"profile: {os.path.relpath(db, ROOT)} is missing: run make bench first")
    subprocess.run([BIN, "compile", "--db", db, "--specs", os.path.join(ROOT, "specs")], check=True,
                   stdout=subprocess.DEVNULL)
    con = sqlite3.connect(db)
    plan = con.execute("SELECT key, sql, params FROM dashspec_plan ORDER BY key").fetchall()
    con.close()
    if a.keys:
        want = set(a.keys.split(","))
        plan = [p for p in plan if p[0] in want]
    run = [BIN, "run", "--db", db, "--now", REF, "--quiet", "--jobs", "1"]
    rows = []
    script = os.path.join(WORK, "profile-item.sql")
    for key, sql, params in plan:
        print(f"profile: {key}", file=sys.stderr)
        d = split(callgrind(run + ["--force", "--only", key]))
        item_script(sql, params, script)
        fl = callgrind(["sqlite3", db], stdin=script)[0]
        rows.append((key, d, fl))
    os.remove(script)
    print("profile: whole plan, and nothing due", file=sys.stderr)
    whole = split(callgrind(run + ["--force"]))
    noop = split(callgrind(run))

    L = [BEGIN, "", f"## Where the instructions go (callgrind, {a.scale})", "",
         f"`make profile PROFILE_SCALE={a.scale}` (bench/profile.py): instruction counts (Ir, millions) "
         "under `valgrind --tool=callgrind`, which are exact and do not depend on the machine's load. "
         "Per item: `dashspec run --force --only KEY --jobs 1` against the sqlite3 CLI running that "
         "item's SQL with the same parameters (output to /dev/null). Categories: start = loader and libc "
         "outside main; open = the two connections (schema read); plan = migrations check, plan, state, "
         "writer's statements; query = SQLite preparing and running the item's SQL; shape = rows to JSON; "
         "exec = ds_exec.c's own code per row; write = the value and its state row; record = summary and "
         "dashspec_runs row. **non-SQLite** = shape + exec, what dashspec adds to the query itself, as a "
         "share of query.", "",
         "| item | dashspec total | start | open | plan | query | shape | exec | write | record | other "
         "| non-SQLite / query | sqlite3 CLI total | dashspec / CLI |",
         "|---|" + "---:|" * 13]
    for key, d, fl in sorted(rows, key=lambda r: -r[1]["query"]):
        L.append(f"| {key} | {mi(d['total'])} | {mi(d['start'])} | {mi(d['open'])} | {mi(d['plan'])} | "
                 f"{mi(d['query'])} | {mi(d['shape'])} | {mi(d['exec'])} | {mi(d['write'])} | {mi(d['record'])} | "
                 f"{mi(d['other'])} | {pct(d['shape'] + d['exec'], d['query'])} | {mi(fl)} | "
                 f"{d['total'] / fl:.2f}x |")
    if rows:
        tq = sum(r[1]["query"] for r in rows)
        tn = sum(r[1]["shape"] + r[1]["exec"] for r in rows)
        L += ["", f"Over all items: non-SQLite work is {pct(tn, tq)} of SQLite's work on the queries "
              f"({mi(tn)} M of {mi(tq)} M Ir)."]
    L += ["", "Whole runs:", "",
          "| run | total | start | open | plan | query | shape | exec | write | record | other |",
          "|---|" + "---:|" * 10]
    for what, d in (("--force, every item (--jobs 1)", whole), ("nothing due (no-op)", noop)):
        L.append(f"| {what} | {mi(d['total'])} | {mi(d['start'])} | {mi(d['open'])} | {mi(d['plan'])} | "
                 f"{mi(d['query'])} | {mi(d['shape'])} | {mi(d['exec'])} | {mi(d['write'])} | {mi(d['record'])} | "
                 f"{mi(d['other'])} |")
    L += ["", END]
    section = "\n".join(L) + "\n"
    with open(a.out, "w") as f:
        f.write("# dashspec profile\n\n" + section)
    try:
        old = open(a.results).read()
    except OSError:
        old = "# dashspec benchmarks\n"
    i, j = old.find(BEGIN), old.find(END)
    new = old[:i] + section.rstrip("\n") + old[j + len(END):] if i >= 0 and j > i else old.rstrip("\n") + "\n\n" + section
    with open(a.results, "w") as f:
        f.write(new)
    print(section)
    print(f"written to {os.path.relpath(a.out, ROOT)} and {os.path.relpath(a.results, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
