#!/usr/bin/env python3
"""Helpers for bench/run: database queries and pre-generated request files.

  bench.py sql URL QUERY               run QUERY on DATABASE_URL (SQLite or PostgreSQL),
                                       print rows tab-separated
  bench.py votes URL BASE SESSIONS OUT (cookie, topic) vote requests for the open round;
                                       prints "<requests> <sessions> <round id>"
  bench.py webhooks BASE SECRET COUNT OUT  signed Stripe events
  bench.py report RESULTS JSON K=V...  markdown tables on stdout, JSON results file
  bench.py uncache FILE                drop FILE's pages from the page cache (see bench/run)

Request files are for bench/replay.lua: one complete HTTP/1.1 request per line,
with a tab standing for each CRLF (neither bodies nor headers contain tabs), so
wrk's threads only read them; bench/run splits them round-robin into
OUT.0 .. OUT.<N-1>, one per wrk thread, so that no request is ever sent twice.
BASE is the server's URL, http://127.0.0.1:PORT (for Host and Origin).
"""
import hashlib
import hmac
import json
import os
import random
import sqlite3
import subprocess
import sys
import time


def query(url, sql):
    """Rows of `sql` as lists of strings, on the same database the server uses."""
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:").removeprefix("//").split("?")[0]
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return [["" if v is None else str(v) for v in row] for row in conn.execute(sql)]
        finally:
            conn.close()
    out = subprocess.run(
        ["psql", url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def http_request(base, method, path, headers, body):
    """One request as a line: tab for CRLF."""
    host = base.split("://", 1)[1]
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    head += [f"{name}: {value}" for name, value in headers]
    head.append(f"Content-Length: {len(body.encode())}")
    line = "\t".join(head) + "\t\t" + body
    if "\n" in line or "\r" in line:
        sys.exit("a request with a line break cannot be written")
    return line


def write_lines(lines, out):
    with open(out, "w") as f:
        for line in lines:
            f.write(line + "\n")


def votes(url, base, sessions_file, out):
    """One request per (member, topic) the member has not voted for yet in the open
    round, up to the votes the member has left: every request should be accepted (303).
    The demo patron is left out: the topics scenario shows their ballot."""
    cookies = [c.strip() for c in open(sessions_file) if c.strip()]
    owner = {row[0]: row[1] for row in query(url, "select id, member_id from sessions where member_id is not null")}
    demo = {row[0] for row in query(url, "select id from members where email = 'patron@demo.patronage.test'")}
    now = int(time.time() * 1_000_000)
    rounds = query(url, f"select id, max_votes from rounds where closed_at is null and opens_at <= {now} and closes_at > {now}")
    if len(rounds) != 1:
        sys.exit(f"expected one open round, found {len(rounds)}")
    round_id, max_votes = rounds[0][0], int(rounds[0][1])
    ballot = [r[0] for r in query(url, f"select topic_id from round_topics where round_id = '{round_id}' order by position")]
    voted = {}
    for member, topic in query(url, f"select member_id, topic_id from votes where round_id = '{round_id}'"):
        voted.setdefault(member, set()).add(topic)
    rng = random.Random(1)
    pairs = []
    for cookie in cookies:
        member = owner.get(hashlib.sha256(cookie.encode()).hexdigest())
        if member is None:
            sys.exit("a cookie in the sessions file has no session")
        if member in demo:
            continue
        mine = voted.get(member, set())
        left = [t for t in ballot if t not in mine]
        rng.shuffle(left)
        for topic in left[: max(0, max_votes - len(mine))]:
            pairs.append((cookie, topic))
    # Interleave so a member's votes are spread over time and threads (some land concurrently).
    rng.shuffle(pairs)
    # What a browser sends when submitting the ballot form on one of our pages.
    lines = [
        http_request(base, "POST", f"/rounds/{round_id}/vote", [
            ("Cookie", f"patronage_session={cookie}"),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", base),
            ("Sec-Fetch-Site", "same-origin"),
        ], f"topic={topic}")
        for cookie, topic in pairs
    ]
    write_lines(lines, out)
    print(f"{len(pairs)} {len(cookies)} {round_id}")


# A real event type our Stripe types read and the app stores and ignores (no call
# to Stripe is made): verify + parse + store + classify. (An invented type would
# also add the Stripe library's warning about an unknown type to every request.)
PRODUCT = {
    "id": "prod_bench", "object": "product", "active": True, "created": 1700000000, "livemode": False,
    "name": "Bench", "images": [], "marketing_features": [], "metadata": {}, "package_dimensions": None,
    "shippable": None, "updated": 1700000000, "url": None, "type": "service", "attributes": [],
}


def webhooks(base, secret, count, out):
    """Signed `product.created` events, each with a fresh id, signed now (Stripe's
    tolerance is 5 minutes)."""
    run = "%x" % int(time.time() * 1000)
    t = int(time.time())
    key = secret.encode()
    lines = []
    for n in range(count):
        body = json.dumps({
            "id": f"evt_bench{run}_{n}", "object": "event", "api_version": None,
            "created": t, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "product.created", "data": {"object": PRODUCT},
        })
        sig = hmac.new(key, f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
        lines.append(http_request(base, "POST", "/webhooks/stripe", [
            ("Content-Type", "application/json"),
            ("Stripe-Signature", f"t={t},v1={sig}"),
        ], body))
    write_lines(lines, out)
    print(count)


TARGETS = {
    # key: (description, test(rps, p50_ms, p99_ms, ratio))
    "landing": ("≥ 40 % of /healthz, p99 ≤ 10 ms", lambda rps, p50, p99, ratio: ratio >= 0.40 and p99 <= 10),
    "topics": ("≥ 10,000 req/s", lambda rps, p50, p99, ratio: rps >= 10_000),
    "topics_many": ("≥ 10,000 req/s", lambda rps, p50, p99, ratio: rps >= 10_000),
    "votes": ("≥ 5,000 accepted/s", lambda rps, p50, p99, ratio: rps >= 5_000),
    "webhooks": ("≥ 2,000 events/s", lambda rps, p50, p99, ratio: rps >= 2_000),
    # Reader pages (issue 16): each at least half of /healthz.
    "account": ("≥ 50 % of /healthz", lambda rps, p50, p99, ratio: ratio >= 0.50),
    "commissioned": ("≥ 50 % of /healthz", lambda rps, p50, p99, ratio: ratio >= 0.50),
    "covered": ("≥ 50 % of /healthz", lambda rps, p50, p99, ratio: ratio >= 0.50),
    "round_results": ("≥ 50 % of /healthz", lambda rps, p50, p99, ratio: ratio >= 0.50),
    "api_open_round": ("≥ 50 % of /healthz", lambda rps, p50, p99, ratio: ratio >= 0.50),
    "embed_patron": ("≥ 50 % of /healthz", lambda rps, p50, p99, ratio: ratio >= 0.50),
    "embed_poll": ("≥ 50 % of /healthz", lambda rps, p50, p99, ratio: ratio >= 0.50),
}
RSS_TARGET_KB = 30 * 1024
READY_TARGET_MS = 300


def num(v):
    try:
        return float(v)
    except ValueError:
        return float("nan")


REPORT_TARGET_MS = 50


def report(results, json_path, info):
    rows, mixed, meta, checks = [], [], {}, []
    for line in open(results):
        f = line.rstrip("\n").split("\t")
        if f[0] in ("row", "mixed"):
            r = {"key": f[1], "scenario": f[2], "req_per_s": num(f[3]), "p50_ms": num(f[4]), "p99_ms": num(f[5]),
                 "errors": int(f[6] or 0), "note": f[7].strip("; ") if len(f) > 7 else ""}
            (rows if f[0] == "row" else mixed).append(r)
        elif f[0] == "meta":
            meta[f[1]] = f[2]
        elif f[0] == "check":
            checks.append({"check": f[1], "result": f[2], "detail": f[3]})
    base = next((r["req_per_s"] for r in rows if r["key"] == "healthz"), float("nan"))
    mark = lambda ok: "pass" if ok else "**FAIL**"
    dirty = int(info.get("dirty_files", "0"))
    commit = info["commit"] + (f" (+{dirty} uncommitted files in the app)" if dirty else "")
    print()
    print(f"Patronage benchmark{' (quick)' if info.get('quick') else ''}: {info['date']}, commit {commit}, "
          f"{info['cores']} cores, {info['backend']}, {int(info['members']):,} members over {info['months']} months, "
          f"{info['duration_s']} s per scenario, wrk {info['threads']} threads × {info['connections']} connections")
    print()
    print("| scenario | req/s | p50 | p99 | errors | ratio to /healthz | target | pass |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        r["ratio"] = r["req_per_s"] / base if base else float("nan")
        target = TARGETS.get(r["key"])
        r["target"] = target[0] if target else None
        r["pass"] = target[1](r["req_per_s"], r["p50_ms"], r["p99_ms"], r["ratio"]) if target else None
        print(f"| {r['scenario']} | {r['req_per_s']:,.0f} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {r['errors']} "
              f"| {r['ratio']:.2f} | {r['target'] or ''} | {'' if r['pass'] is None else mark(r['pass'])} |")
    print()
    print(f"Mixed load: all of these at once for {info['mixed_duration_s']} s on a freshly started server, "
          f"64 connections in all, one wrk thread each.")
    print()
    print("| client | req/s | p50 | p99 | errors |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in mixed:
        print(f"| {r['scenario']} | {r['req_per_s']:,.0f} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {r['errors']} |")
    ready = int(meta["start_to_ready_ms"])
    peak = int(meta["rss_peak_kb"])
    measures = [
        {"measure": "start to ready, migrated database (median of 3)", "value": f"{ready} ms ({meta['start_to_ready_all_ms']})",
         "target": f"≤ {READY_TARGET_MS} ms", "pass": ready <= READY_TARGET_MS},
        {"measure": "peak RSS (VmHWM) under mixed load, server started for it", "value": f"{peak / 1024:.1f} MB",
         "target": "≤ 30 MB", "pass": peak <= RSS_TARGET_KB},
        {"measure": "RSS after the mixed load: anonymous (heap) + file-backed (mostly the program's code)",
         "value": f"{int(meta.get('rss_anon_kb', 0)) / 1024:.1f} MB + {int(meta.get('rss_file_kb', 0)) / 1024:.1f} MB",
         "target": "", "pass": None},
        {"measure": "peak RSS (VmHWM) of the server that ran the single scenarios",
         "value": f"{int(meta['rss_run_kb']) / 1024:.1f} MB", "target": "", "pass": None},
        {"measure": "its peak so far after each scenario",
         "value": ", ".join(f"{k[len('rss_after_'):-len('_kb')]} {int(v) / 1024:.1f} MB"
                            for k, v in meta.items() if k.startswith("rss_after_")) or "?",
         "target": "", "pass": None},
        {"measure": "demo-data generation (incl. gifts and sessions)",
         "value": f"{meta['demo_data_s']} s ({int(meta.get('ledger_rows', 0)):,} ledger rows)", "target": "", "pass": None},
        {"measure": "after the mixed load, until every webhook event stored is applied (the backlog of both servers)",
         "value": f"{meta.get('webhooks_drain_s', '?')} s", "target": "", "pass": None},
        *[{"measure": f"{name}: first request after start (cold) / median of 20 (warm), time to first byte",
           "value": f"{meta.get(f't_{key}_cold_ms', '?')} ms / {meta.get(f't_{key}_warm_ms', '?')} ms",
           "target": f"≤ {REPORT_TARGET_MS} ms each",
           "pass": max(num(meta.get(f't_{key}_cold_ms', 'nan')), num(meta.get(f't_{key}_warm_ms', 'nan'))) <= REPORT_TARGET_MS}
          for key, name in [("admin", "GET /admin (dashboard)"), ("report_mrr", "GET /admin/reports/mrr?range=all"),
                            ("report_revenue", "GET /admin/reports/revenue?range=all"),
                            ("report_tiers", "GET /admin/reports/tiers?range=all"),
                            ("report_donations", "GET /admin/reports/donations?range=all")]],
        {"measure": "vote requests prepared (distinct member × topic)",
         "value": f"{int(meta['vote_pairs']):,} from {int(meta['sessions']):,} sessions; votes ran {meta['vote_seconds']} s",
         "target": "", "pass": None},
        {"measure": "votes per batch (mean), vote scenario", "value": meta.get("vote_batch_mean") or "?", "target": "", "pass": None},
        {"measure": "ERROR / WARN lines in the server log",
         "value": f"{meta.get('server_log_errors', '?')} / {meta.get('server_log_warnings', '?')}", "target": "", "pass": None},
        {"measure": "harness run time (after the build)", "value": f"{int(meta['elapsed_s']) // 60} min {int(meta['elapsed_s']) % 60} s",
         "target": "", "pass": None},
    ]
    print()
    print("| measure | value | target | pass |")
    print("| --- | --- | --- | --- |")
    for m in measures:
        print(f"| {m['measure']} | {m['value']} | {m['target']} | {'' if m['pass'] is None else mark(m['pass'])} |")
    print()
    print("| check | result | detail |")
    print("| --- | --- | --- |")
    for c in checks:
        print(f"| {c['check']} | {'ok' if c['result'] == 'ok' else '**FAIL**'} | {c['detail']} |")
    notes = [r for r in rows + mixed if r["note"]]
    if notes or meta.get("server_log_sample"):
        print()
        for r in notes:
            print(f"- {r['scenario']}: {r['note']}")
        if meta.get("server_log_sample"):
            print(f"- server log ERROR and WARN lines (count, most frequent first): {meta['server_log_sample']}")
    out = {k: int(v) if v.isdigit() else v for k, v in info.items()}
    out["quick"] = bool(info.get("quick"))
    out.update({"scenarios": rows, "mixed": mixed, "measures": measures, "checks": checks, "meta": meta})
    with open(json_path, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print()
    print(f"Written to {json_path}")
    return 0 if all(c["result"] == "ok" for c in checks) else 1


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "sql":
        for row in query(args[0], args[1]):
            print("\t".join(row))
    elif cmd == "votes":
        votes(args[0], args[1], args[2], args[3])
    elif cmd == "webhooks":
        webhooks(args[0], args[1], int(args[2]), args[3])
    elif cmd == "uncache":
        try:
            fd = os.open(args[0], os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
        except (OSError, AttributeError) as e:
            print(f"bench.py uncache: {e}; the binary stays in the page cache", file=sys.stderr)
    elif cmd == "report":
        sys.exit(report(args[0], args[1], dict(a.split("=", 1) for a in args[2:])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
