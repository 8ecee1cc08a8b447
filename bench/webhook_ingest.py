#!/usr/bin/env python3
"""Webhook ingest rate: signed Stripe events posted from a separate process.

Starts nothing itself: point it at a running Patronage configured with Stripe
(STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET; STRIPE_API_BASE at anything on
loopback). Events use a type we store and ignore, so no Stripe call is made and
what is measured is verify + store + classify. GET /healthz from the same client
is the baseline, so figures are comparable as a ratio.

  python3 bench/webhook_ingest.py --url http://127.0.0.1:8095 --secret whsec_bench --events 5000 --concurrency 16
"""
import argparse
import hashlib
import hmac
import http.client
import json
import threading
import time
import urllib.parse
import uuid


def run(url, n, concurrency, make_request):
    parsed = urllib.parse.urlparse(url)
    per_thread = n // concurrency
    errors = [0]
    latencies = []
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        mine = []
        for _ in range(per_thread):
            method, path, body, headers = make_request()
            t0 = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - t0)
            if resp.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    done = len(latencies)
    return {
        "requests": done,
        "per_second": done / elapsed,
        "p50_ms": latencies[done // 2] * 1000,
        "p99_ms": latencies[int(done * 0.99) - 1] * 1000,
        "errors": errors[0],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()

    def healthz():
        return "GET", "/healthz", None, {}

    def event():
        body = json.dumps({
            "id": "evt_bench" + uuid.uuid4().hex, "object": "event", "api_version": None,
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "bench.thing_happened", "data": {"object": {"id": "thing_1", "object": "thing"}},
        })
        t = int(time.time())
        sig = hmac.new(args.secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
        return "POST", "/webhooks/stripe", body, {"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={sig}"}

    base = run(args.url, args.events, args.concurrency, healthz)
    ingest = run(args.url, args.events, args.concurrency, event)
    print("| scenario | requests | req/s | p50 ms | p99 ms | errors | ratio to /healthz |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, r in (("GET /healthz (baseline)", base), ("POST /webhooks/stripe (signed, stored)", ingest)):
        print(f"| {name} | {r['requests']} | {r['per_second']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | {r['per_second'] / base['per_second']:.2f} |")


if __name__ == "__main__":
    main()
