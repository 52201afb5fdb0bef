#!/usr/bin/env python3
"""The kind of script dashspec replaces: the origin's precompute job, in plain
Python stdlib. For every item of the compiled plan it runs the query, turns the
rows into JSON with json.dumps (a list of row objects, as the Node job did) and
upserts it into dashboard_cache with one TTL, then prints the origin's summary.

Used by bench/bench.py as baseline (b); it reads the SQL from dashspec_plan so
both run exactly the same queries.

usage: origin_job.py DB NOW
"""
import json
import sqlite3
import sys
import time


def main():
    db, now = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 5000")
    plan = con.execute("SELECT key, kind, sql, params FROM dashspec_plan ORDER BY key").fetchall()
    metrics, charts, total = {}, {}, 0
    for key, kind, sql, params in plan:
        args = json.loads(params) if params else {}
        args["now"] = now
        cur = con.execute(sql, args)
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        value = json.dumps(rows)
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO dashboard_cache (cache_key, cache_value, created_at, expires_at)"
            " VALUES (?, ?, ?, datetime(?, '+15 minutes'))"
            " ON CONFLICT(cache_key) DO UPDATE SET cache_value = excluded.cache_value,"
            " created_at = excluded.created_at, expires_at = excluded.expires_at",
            (key, value, now, now))
        con.execute("COMMIT")
        (metrics if kind == "metric" else charts)[key] = len(rows)
        total += len(rows)
    ms = int((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "summary": f"Pre-computed {total} cache entries in {ms}ms",
        "details": {"metrics_cached": metrics, "charts_cached": charts,
                    "cache_expiration_minutes": 15, "duration_ms": ms},
        "metrics": {"entries_cached": total, "metrics_entries": sum(metrics.values()),
                    "chart_points": sum(charts.values()), "cache_ttl_minutes": 15}}))


if __name__ == "__main__":
    main()
