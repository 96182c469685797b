"""Load benchmark of the live demo: `slmlab app` in a subprocess, rounds of concurrent clients.

Each round, CLIENTS gradio_client clients make REQUESTS requests each (a 1 s continuation of a
typed EN/FR sentence, or a projection), all at once over loopback. After every round: errors,
the server's resident memory (from /proc, the server process only) and the size of Gradio's
file cache (GRADIO_TEMP_DIR, a fresh dir). After the last round it waits for the file TTL and
measures the cache again.

    python benchmarks/bench_app_load.py [--model app/model] [--out runs/bench/app_load.json]

Targets (issue 15): 0 errors; RSS growth after the first round <= 50 MB; file cache bounded
(back under one round's worth once files are older than the TTL).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the load-test client and helpers live with the tests

from helpers import free_port  # noqa: E402
from load import dir_bytes, one_client, rss_mb, start_server, wait_up  # noqa: E402


def run_round(url: str, clients: int, requests: int, n_layers: int, work: Path, r: int) -> dict:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda i: one_client(url, i, requests, n_layers,
                                                     work / f"dl{r}-{i}"), range(clients)))
    errors = [e for res in results for e in res]
    return {"round": r + 1, "seconds": round(time.perf_counter() - t0, 1), "errors": len(errors),
            "first_errors": errors[:3]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint dir (default app/model)")
    ap.add_argument("--out", default=str(ROOT / "runs" / "bench" / "app_load.json"))
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--file-ttl", type=int, default=30, help="the server's file cache TTL (s)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-app-load-"))
    cache = work / "gradio"
    env = {**os.environ, "GRADIO_TEMP_DIR": str(cache), "GRADIO_ANALYTICS_ENABLED": "False",
           "SLMLAB_CACHE": str(work / "slmlab-cache")}
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = start_server(args.model, port, env, work / "app.log", args.file_ttl)
    try:
        wait_up(proc, url)
        n_layers = 2  # projections alternate layers 0 and 1 (every model has them)
        rounds = []
        for r in range(args.rounds):
            row = run_round(url, args.clients, args.requests, n_layers, work, r)
            row.update(rss_mb=round(rss_mb(proc.pid), 1), file_cache_mb=round(dir_bytes(cache) / 1e6, 2))
            rounds.append(row)
            print(json.dumps(row), flush=True)
        time.sleep(args.file_ttl * 1.6)  # the cleaner runs every TTL / 2 s
        after = round(dir_bytes(cache) / 1e6, 2)
        final_rss = round(rss_mb(proc.pid), 1)
    finally:
        proc.terminate()
        proc.wait(30)
    growth = max(r["rss_mb"] for r in rounds[1:]) - rounds[0]["rss_mb"] if len(rounds) > 1 else 0.0
    result = {"model": args.model or "app/model", "clients": args.clients, "requests": args.requests,
              "rounds": rounds, "errors": sum(r["errors"] for r in rounds),
              "rss_growth_after_round1_mb": round(growth, 1), "rss_after_wait_mb": final_rss,
              "file_cache_after_ttl_mb": after, "file_ttl_s": args.file_ttl,
              "cpu_count": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.rounds} rounds x {args.clients} clients x {args.requests} requests: "
          f"{result['errors']} errors (target 0), RSS growth after round 1 {growth:.1f} MB "
          f"(target <= 50), file cache {max(r['file_cache_mb'] for r in rounds):.1f} MB at most, "
          f"{after:.1f} MB after the TTL; JSON: {args.out}")


if __name__ == "__main__":
    main()
