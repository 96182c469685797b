"""Time `slmlab quickstart` stage by stage (target: whole run <= 10 minutes on 2 CPU cores).

    python benchmarks/bench_quickstart.py --out runs/bench/quickstart.json

Runs the quickstart with its defaults into a fresh directory and prints the seconds of each
stage (corpus build; training, evaluation and probing of the arms) and the total.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import time
from pathlib import Path

from slmlab.quickstart import QuickstartConfig, run_quickstart


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run-dir", default="runs/bench/quickstart-run")
    ap.add_argument("--out", default="runs/bench/quickstart.json")
    args = ap.parse_args()
    shutil.rmtree(args.run_dir, ignore_errors=True)
    t0 = time.time()
    run = run_quickstart(QuickstartConfig(out=args.run_dir, progress=False))
    wall = time.time() - t0
    record = {"stages_s": run["timings"], "wall_s": round(wall, 1), "target_s": 600,
              "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
              "date": datetime.date.today().isoformat()}
    for name, sec in run["timings"].items():
        print(f"{name:60s} {sec:8.1f} s")
    print(f"quickstart wall time: {wall:.1f} s (target <= 600 s)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
