"""Run the CPU benchmarks one after another; each prints its figure and writes JSON.

    python benchmarks/run_all.py [--only world,speech,...] [--out-dir runs/bench]

GPU benchmarks (bench_train --device cuda, bench_mimi, bench_eval) are run on a GPU machine:
their commands, devices, dates and figures are in results/gpu/README.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (script, extra arguments); each target is in the script's docstring
BENCHES = {
    "world": ("bench_world.py", []),  # stories/s on one core (thousands)
    "speech": ("bench_speech.py", []),  # synthesis + built-in units, x real time (>= 300)
    "train": ("bench_train.py", ["--preset", "tiny", "--device", "cpu", "--batch", "8",
                                 "--context", "512", "--steps", "20", "--warmup", "3",
                                 "--variants", "ours,ours-fp32"]),  # tiny on CPU (>= 8k tok/s)
    "corpus": ("bench_corpus.py", []),  # quickstart corpus build (<= 180 s)
    "app": ("bench_app.py", []),  # demo latency: warm <= 2 s, cold <= 30 s
    "quickstart": ("bench_quickstart.py", []),  # whole main job (<= 600 s)
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset")
    ap.add_argument("--out-dir", default="runs/bench")
    args = ap.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in args.only.split(","):
        script, extra = BENCHES[name]
        cmd = [sys.executable, str(HERE / script), *extra, "--out", str(out_dir / f"{name}.json")]
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.time()
        if subprocess.run(cmd).returncode != 0:
            failed.append(name)
        print(f"== {name}: {time.time() - t0:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
