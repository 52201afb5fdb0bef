#!/usr/bin/env python3
"""The freshness benchmark (issue 13 item 4): what keeping the example's
dashboard fresh for one simulated hour costs, in CPU-seconds.

The example database (examples/make-db.sh, bench/work/fresh-scaleN.db, kept
between runs) is copied once per configuration:

  (1) plain     dashspec run --now T every minute, the bundled specs (specs/)
  (2) fresh     the same with bench/specs-fresh/ (specs/ plus refresh_key and
                incremental where they fit)
  (3) origin    bench/origin_job.py every 10 minutes (the origin's cron job)

Each copy is compiled and primed with one run at the reference time
2026-02-12 10:00:00 (not counted: a cold start, every item computed in full).
Then for each minute 10:01 .. 11:00 the "application" appends the same rows to
every copy (sites, messages, conversations, llm_usage, errors, cron_job_logs,
system_metrics; deterministic; not timed), and each configuration's command
for that minute runs, the three interleaved so that a busy neighbour weighs
on all alike. CPU is user + system of each command's process from os.wait4.

Staleness: after each run the age of every value (now − the later of
dashboard_cache.created_at and dashspec_state.confirmed_at) is read; just
before the next tick it is one minute (for the origin, ten minutes) older.
The goal is age ≤ the item's refresh + 1 minute for every value at every
minute.

Everything is printed and written into bench/results.md as the section
"Freshness: one simulated hour" (replaced on each run; the rest of the file
is kept). Standard library only.

usage: bench/freshness.py [--scale 10] [--minutes 60] [--out bench/results.md]
"""
import argparse
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")
BIN = os.path.join(ROOT, "build", "dashspec")
REF = "2026-02-12 10:00:00"
INCREMENTAL = ("http_errors_30d", "llm_daily_costs_30d", "llm_cost_by_stage_30d", "hourly_throughput_48h",
               "cron_daily_history_7d")
BEGIN = "<!-- freshness: written by make bench-freshness (bench/freshness.py) -->"
END = "<!-- /freshness -->"
CONFIGS = [
    ("plain", "dashspec, specs/ (no refresh_key, no incremental)", "specs"),
    ("fresh", "dashspec, bench/specs-fresh/ (refresh_key + incremental)", os.path.join("bench", "specs-fresh")),
    ("origin", "origin job (bench/origin_job.py) every 10 minutes", "specs"),
]


def ts(t):
    return t.strftime("%Y-%m-%d %H:%M:%S")


def parse(s):
    return datetime.datetime.strptime(s[:19], "%Y-%m-%d %H:%M:%S")


def cpu_of(cmd):
    """Runs cmd (stdout discarded); returns its CPU seconds (user + sys)."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"freshness: {' '.join(cmd)} exited {status}: {err}")
    return ru.ru_utime + ru.ru_stime


def append_rows(con, now, minute):
    """The application's writes of one minute, ending at now: a few rows in
    each table the specs read, the same for every copy (derived from the
    minute only). created_at lies inside the minute, before now."""
    base = now - datetime.timedelta(seconds=55)
    at = lambda i: ts(base + datetime.timedelta(seconds=5 * i))
    con.execute("BEGIN IMMEDIATE")
    for i in range(2):                                   # 2 new sites a minute
        con.execute("INSERT INTO sites (domain, status, score, created_at, updated_at)"
                    " VALUES (?, 'discovered', NULL, ?, ?)",
                    (f"fresh-{minute}-{i}.example", at(i), at(i)))
    site = con.execute("SELECT max(id) FROM sites").fetchone()[0]
    channels = ("email", "form", "sms", "linkedin")
    if minute % 5 == 0:                                  # a conversation every 5 minutes
        con.execute("INSERT INTO conversations (site_id, channel, status, started_at, last_message_at,"
                    " message_count) VALUES (?, ?, 'open', ?, ?, 1)",
                    (site, channels[minute % 4], at(1), at(1)))
    conv = con.execute("SELECT max(id) FROM conversations").fetchone()[0]
    for i in range(5):                                   # 4 outbound, 1 inbound
        inbound = i == 4
        con.execute("INSERT INTO messages (site_id, conversation_id, channel, direction, status, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (site, conv if inbound else None, channels[(minute + i) % 4],
                     "inbound" if inbound else "outbound",
                     "received" if inbound else ("sent", "delivered", "opened")[(minute + i) % 3], at(2 + i)))
    stages = ("analyze", "score", "draft", "reply")
    for i in range(3):                                   # 3 LLM calls
        p, c = 800 + 37 * ((minute + i) % 11), 150 + 13 * ((minute * 3 + i) % 7)
        con.execute("INSERT INTO llm_usage (site_id, stage, model, prompt_tokens, completion_tokens, tokens,"
                    " cost_usd, created_at) VALUES (?, ?, 'gpt-4o-mini', ?, ?, ?, ?, ?)",
                    (site, stages[(minute + i) % 4], p, c, p + c, round((p + 4 * c) * 1.5e-7, 6), at(3 + i)))
    if minute % 2 == 0:                                  # an error every 2 minutes
        kinds = ("http", "timeout", "dns", "http", "parse", "llm")
        kind = kinds[minute // 2 % 6]
        con.execute("INSERT INTO errors (site_id, stage, kind, http_code, message, resolved, created_at)"
                    " VALUES (?, 'discover', ?, ?, 'benchmark', 0, ?)",
                    (site, kind, (403, 404, 500, 503)[minute % 4] if kind == "http" else None, at(6)))
    if minute % 5 == 0:                                  # a sample every 5 minutes
        con.execute("INSERT INTO system_metrics (sampled_at, cpu_pct, memory_pct, disk_pct, load_1m)"
                    " VALUES (?, ?, ?, 71.5, ?)", (ts(now - datetime.timedelta(seconds=1)),
                                                   20 + minute % 30, 55 + minute % 7, 0.5 + minute % 3 / 10))
    if minute % 10 == 0:                                 # a scheduled job every 10 minutes
        con.execute("INSERT INTO cron_job_logs (job_name, started_at, finished_at, status, items_processed)"
                    " VALUES ('discover_sites', ?, ?, 'success', 40)", (at(0), at(8)))
    con.execute("COMMIT")


def ages(con, now):
    """{key: (age seconds, refresh seconds)} of every planned item."""
    out = {}
    for key, refresh, created, confirmed in con.execute(
            "SELECT p.key, p.refresh, c.created_at, s.confirmed_at FROM dashspec_plan p"
            " LEFT JOIN dashboard_cache c ON c.cache_key = p.key"
            " LEFT JOIN dashspec_state s ON s.cache_key = p.key"):
        if created is None:
            out[key] = (float("inf"), refresh)
            continue
        last = max(parse(created), parse(confirmed)) if confirmed else parse(created)
        out[key] = ((now - last).total_seconds(), refresh)
    return out


def computed(con, now):
    """{key: duration ms} of the items this run computed (not confirmed)."""
    n = ts(now)
    return {k: d or 0 for k, d, c in con.execute(
        "SELECT cache_key, last_duration_ms, confirmed_at FROM dashspec_state WHERE last_success = ?", (n,))
        if c != n}


def confirmed(con, now):
    n = ts(now)
    return [k for (k,) in con.execute("SELECT cache_key FROM dashspec_state WHERE confirmed_at = ?", (n,))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default=os.environ.get("FRESH_SCALE", "10"))
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results.md"))
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    base = os.path.join(WORK, f"fresh-scale{a.scale}.db")
    gen_s = None
    if not os.path.exists(base):
        print(f"building {base} (scale {a.scale})...", file=sys.stderr)
        t0 = time.monotonic()
        subprocess.run(["sh", os.path.join(ROOT, "examples", "make-db.sh"), base, str(a.scale)],
                       check=True, env=dict(os.environ, REF=REF), stdout=subprocess.DEVNULL)
        gen_s = time.monotonic() - t0
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    ref = parse(REF)
    dbs, cons, prime, cpu, worst, work, nconf, times = {}, {}, {}, {}, {}, {}, {}, {}
    same, diff = [0], []      # values (1) and (2) both made this minute: equal / differing
    for name, _, specs in CONFIGS:
        db = dbs[name] = os.path.join(WORK, f"fresh-scale{a.scale}-{name}.db")
        for f in (db, db + "-journal", db + "-wal", db + "-shm"):
            if os.path.exists(f):
                os.remove(f)
        shutil.copyfile(base, db)
        subprocess.run([BIN, "compile", "--db", db, "--specs", os.path.join(ROOT, specs)],
                       check=True, stdout=subprocess.DEVNULL)
        cons[name] = sqlite3.connect(db, isolation_level=None)
        cons[name].execute("PRAGMA busy_timeout = 5000")
        prime[name] = cpu_of(command(name, db, REF))
        cpu[name], worst[name], work[name], nconf[name], times[name] = 0.0, (0.0, ""), {}, 0, {}
    nrows = sum(cons["plain"].execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in (
        "sites", "excluded_sites", "messages", "conversations", "llm_usage", "errors",
        "cron_job_logs", "system_metrics"))
    for m in range(1, a.minutes + 1):
        now = ref + datetime.timedelta(minutes=m)
        for name, _, _ in CONFIGS:
            append_rows(cons[name], now, m)
        for name, _, _ in CONFIGS:
            if name == "origin" and m % 10:
                continue
            cpu[name] += cpu_of(command(name, dbs[name], ts(now)))
            con = cons[name]
            if name != "origin":
                for k, d in computed(con, now).items():
                    work[name][k] = work[name].get(k, 0) + d
                    times[name][k] = times[name].get(k, 0) + 1
                nconf[name] += len(confirmed(con, now))
            # age just before the next tick: + 1 minute (origin: + 10 minutes)
            gap = 600 if name == "origin" else 60
            for k, (age, refresh) in ages(con, now).items():
                over = age + gap - refresh
                if over > worst[name][0] or not worst[name][1]:
                    worst[name] = (over, k)
        same[0] += compare(cons["plain"], cons["fresh"], now, diff)
    # The floor of a cron tick: a run at the last minute again, nothing due.
    last = ts(ref + datetime.timedelta(minutes=a.minutes))
    idle = sorted(cpu_of(command("plain", dbs["plain"], last)) for _ in range(5))[2]
    mid = ts(ref + datetime.timedelta(minutes=a.minutes // 2))
    qcpu = query_cpu(cons["fresh"], mid, times["fresh"])
    load_after = os.getloadavg()
    for c in cons.values():
        c.close()
    report(a, nrows, gen_s, started, load_before, load_after, prime, cpu, worst, work, nconf,
           same[0], diff, idle, qcpu, mid)


def query_cpu(con, now, times):
    """{key: (CPU seconds of one run of its query, times computed in the
    hour)} for the items (2) computed: each query run in this process
    (Python's sqlite3, the same SQLite library as dashspec) on a new
    connection, so with SQLite's page cache cold as in a cron tick, at the
    middle of the hour; the median of 5. An incremental item's query runs
    with :since = now - window, as on its incremental runs; refresh_key
    checks are not counted (they are a few ms an hour)."""
    db = con.execute("PRAGMA database_list").fetchone()[2]
    plan = con.execute("SELECT key, sql, params, options FROM dashspec_plan").fetchall()
    out = {}
    for key, sql, params, options in plan:
        if key not in times:
            continue
        p = dict(json.loads(params), now=now)
        inc = json.loads(options).get("incremental")
        if inc:
            p["since"] = ts(parse(now) - datetime.timedelta(seconds=int(inc.split()[0])))
        runs = []
        for _ in range(5):
            c = sqlite3.connect(db)
            t0 = time.process_time()
            c.execute(sql, p).fetchall()
            runs.append(time.process_time() - t0)
            c.close()
        out[key] = (sorted(runs)[2], times[key])
    return out


def compare(plain, fresh, now, diff):
    """Counts the values that (1) computed at now and (2) computed or
    confirmed at now, and that are byte for byte equal; the differing keys
    are appended to diff as (minute, key)."""
    n = ts(now)
    mine = dict(plain.execute("SELECT cache_key, cache_value FROM dashboard_cache WHERE created_at = ?", (n,)))
    equal = 0
    for k, v in fresh.execute(
            "SELECT c.cache_key, c.cache_value FROM dashboard_cache c JOIN dashspec_state s"
            " ON s.cache_key = c.cache_key WHERE c.created_at = ? OR s.confirmed_at = ?", (n, n)):
        if k in mine:
            if mine[k] == v:
                equal += 1
            else:
                diff.append((n[11:16], k))
    return equal


def command(name, db, now):
    if name == "origin":
        return [sys.executable, os.path.join(ROOT, "bench", "origin_job.py"), db, now]
    return [BIN, "run", "--db", db, "--now", now, "--jobs", "1", "--quiet"]


def top(work, n=4):
    items = sorted(work.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v / 1000:.2f} s" for k, v in items)


def report(a, nrows, gen_s, started, lb, la, prime, cpu, worst, work, nconf, same, diff, idle, qcpu, mid):
    hour = 60 / a.minutes
    per = {k: v * hour for k, v in cpu.items()}
    r_origin = per["fresh"] / per["origin"] if per["origin"] else float("nan")
    r_plain = per["fresh"] / per["plain"] if per["plain"] else float("nan")
    ok = lambda b: "met" if b else "**not met**"
    cmd = f"make bench-freshness FRESH_SCALE={a.scale}"
    lines = [BEGIN, "", "## Freshness: one simulated hour", "",
             f"`{cmd}` (bench/freshness.py), {started.strftime('%Y-%m-%d %H:%M')} UTC; "
             f"example database at SCALE={a.scale} ({nrows:,} rows"
             + (f", generated in {gen_s:.0f} s" if gen_s is not None else "") + "); "
             f"machine load (os.getloadavg 1/5/15 min) before {lb[0]:.2f}/{lb[1]:.2f}/{lb[2]:.2f}, "
             f"after {la[0]:.2f}/{la[1]:.2f}/{la[2]:.2f} (2 cores, shared).", "",
             f"Cron every minute from 10:01 to {10 + a.minutes // 60}:{a.minutes % 60:02d} "
             "(`dashspec run --now T --jobs 1`, T stepped a minute at a time) after one priming run "
             "at 10:00 (not counted); the application appends ~11 rows a minute (2 sites, 5 messages, "
             "3 LLM calls, an error every 2 minutes, a conversation and a metrics sample every 5, a job "
             "run every 10; not timed). CPU = user + system of the command's process (os.wait4), "
             "summed over the hour. Staleness = the largest (age of a value just before the next tick "
             "− its item's refresh), age counted from `created_at` or `confirmed_at`; goal ≤ 60 s.", "",
             "| configuration | CPU-s per hour | query wall time (sum of last_duration_ms) | priming run (CPU-s) | worst age − refresh | items dominating (query time over the hour) |",
             "|---|---|---|---|---|---|"]
    for name, what, _ in CONFIGS:
        over, key = worst[name]
        dom = top(work[name]) if work[name] else "every item, 6 times"
        if name == "fresh":
            dom += f"; {nconf[name]} confirmations"
        q = f"{sum(work[name].values()) / 1000 * hour:.2f}" if work[name] else "–"
        lines.append(f"| ({CONFIGS.index((name, what, _)) + 1}) {what} | {per[name]:.2f} | {q} | {prime[name]:.2f} | "
                     f"{over:+.0f} s ({key}) | {dom} |")
    lines += ["", f"- (2)/(3) = {r_origin:.2f} (goal ≤ 0.5: {ok(r_origin <= 0.5)})",
              f"- (2)/(1) = {r_plain:.2f} (goal ≤ 0.5: {ok(r_plain <= 0.5)})",
              f"- staleness of (2): worst {worst['fresh'][0]:+.0f} s over refresh "
              f"(goal ≤ +60 s: {ok(worst['fresh'][0] <= 60)}); (1): {worst['plain'][0]:+.0f} s; "
              f"(3): {worst['origin'][0]:+.0f} s",
              f"- a dashspec run with nothing due costs {idle * 1000:.0f} ms CPU (median of 5): "
              f"{idle * 60:.2f} CPU-s of each dashspec figure per hour is the floor of 60 cron ticks",
              "- query wall time of the items made incremental in (2): " + "; ".join(
                  f"{k} {work['plain'].get(k, 0) / 1000 * hour:.2f} s → {work['fresh'].get(k, 0) / 1000 * hour:.2f} s"
                  for k in INCREMENTAL) + f"; excluded_sites (refresh_key) "
              f"{work['plain'].get('excluded_sites', 0) / 1000 * hour:.2f} s → "
              f"{work['fresh'].get('excluded_sites', 0) / 1000 * hour:.2f} s",
              f"- values (1) and (2) both computed (or (2) confirmed) at the same minute: {same} byte for "
              f"byte equal, {len(diff)} differ" + (": " + ", ".join(f"{m} {k}" for m, k in diff[:8]) if diff else "")]
    q = sorted(((c * n * hour, k, c, n) for k, (c, n) in qcpu.items()), reverse=True)
    qsum = sum(x[0] for x in q)
    lines += ["", "Where (2)'s CPU goes: each query it computed, run in the bench's process (Python's sqlite3, "
              f"the same SQLite library, a new connection each time as in a cron tick, at {mid[11:16]}, median of 5) × "
              f"the times (2) computed it. Queries {qsum:.2f} CPU-s per hour; the rest of (2), "
              f"{per['fresh'] - qsum:.2f} CPU-s, is the process (start, plan and state load, the value and "
              f"run transactions; {idle * 60:.2f} s of it the 60 ticks' floor).", "",
              "| item | CPU per run (ms) | runs in the hour | CPU-s per hour | share of (2) |", "|---|---|---|---|---|"]
    for tot, k, c, n in q[:10]:
        lines.append(f"| {k} | {c * 1000:.1f} | {n} | {tot:.2f} | {100 * tot / per['fresh']:.0f}% |")
    rest = q[10:]
    if rest:
        lines.append(f"| {len(rest)} others | | {sum(x[3] for x in rest)} | {sum(x[0] for x in rest):.2f} | "
                     f"{100 * sum(x[0] for x in rest) / per['fresh']:.0f}% |")
    lines += ["", END]
    text = "\n".join(lines) + "\n"
    print(text)
    old = open(a.out).read() if os.path.exists(a.out) else "# dashspec benchmarks\n"
    if BEGIN in old and END in old:
        head, _, rest = old.partition(BEGIN)
        _, _, tail = rest.partition(END + "\n")
        new = head + text + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(a.out, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main()
