"""Benchmark the live demo as a user meets it: `slmlab app` in a subprocess, gradio_client calls.

Measures
- cold start: process start -> first continuation answered (PCA map), and -> UMAP map ready
  (polling /project until its text says UMAP), first with an empty cache, then again with the
  fitted reducers cached on disk (the usual second start);
- warm latency: a 5 s spoken prompt (uploaded wav) -> 5 s continuation, then the projection of
  the prompt on the map (UMAP), end to end through HTTP; median and max over --repeats.

    python benchmarks/bench_app.py [--model app/model] [--out runs/bench/app.json]

Without --model and without app/model/, a stand-in checkpoint (tiny preset, 128 units,
60 reference pairs) is built once under runs/bench/app-standin/.
Targets (2-core CPU): warm <= 2 s, cold start <= 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the stand-in checkpoint and free_port live with the tests

from helpers import free_port  # noqa: E402


def model_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if (ROOT / "app" / "model" / "config.json").exists():
        return ROOT / "app" / "model"
    out = ROOT / "runs" / "bench" / "app-standin"
    if not (out / "config.json").exists():
        from standins import make_demo_checkpoint

        print(f"building a stand-in checkpoint in {out} ...", flush=True)
        make_demo_checkpoint(out, n_units=128, n_stories=12, train_steps=2, n_pairs=60)
    return out


def prompt_wav(seconds: float, path: Path) -> Path:
    """About `seconds` of English speech (espeak-ng, test voice) as a 48 kHz wav."""
    import numpy as np
    import soundfile as sf

    from slmlab.speech import resample, synthesize, voices

    text = ("The little cat finds a red ball in the garden. Then she runs to the house "
            "and shows it to her brother.")
    wav = synthesize(text, voices("en", "test")[0])
    wav = np.tile(wav, int(np.ceil(seconds * 24000 / len(wav))))[: int(seconds * 24000)]
    sf.write(str(path), resample(wav, 24000, 48000), 48000, subtype="PCM_16")
    return path


class Server:
    """`python -m slmlab app` in a subprocess (its own process group, stopped by its pid)."""

    def __init__(self, model: Path, cache: Path, log: Path):
        self.port = free_port()
        env = {**os.environ, "SLMLAB_CACHE": str(cache), "GRADIO_ANALYTICS_ENABLED": "False"}
        self.t0 = time.perf_counter()
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "slmlab", "app", "--model", str(model), "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}/"

    def wait_up(self, timeout: float = 300) -> float:
        import httpx

        while time.perf_counter() - self.t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return time.perf_counter() - self.t0
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError("the app did not come up")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def continue_and_project(cl, wav: Path, seconds: float, layer: int) -> tuple[float, float, str]:
    from gradio_client import handle_file

    t0 = time.perf_counter()
    out = cl.predict(handle_file(str(wav)), seconds, 0.8, 50, 0, api_name="/continue_audio")
    t1 = time.perf_counter()
    _, text = cl.predict(layer, api_name="/project")
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, text + " | " + out[3]


def map_method(text: str) -> str:
    m = re.search(r"map: (UMAP|PCA)", text)
    return m.group(1) if m else "?"


def cold_start(model: Path, cache: Path, wav: Path, layer: int, log: Path, umap_timeout: float):
    """Start the app; time to serving, to the first continuation, to the UMAP map."""
    from gradio_client import Client

    srv = Server(model, cache, log)
    try:
        up = srv.wait_up()
        cl = Client(srv.url, verbose=False, analytics_enabled=False)
        continue_and_project(cl, wav, 5.0, layer)
        first = time.perf_counter() - srv.t0
        umap = None
        while time.perf_counter() - srv.t0 < umap_timeout:
            if map_method(cl.predict(layer, api_name="/project")[1]) == "UMAP":
                umap = time.perf_counter() - srv.t0
                break
            time.sleep(0.5)
        return srv, cl, {"serving_s": round(up, 2), "first_continuation_s": round(first, 2),
                         "umap_ready_s": None if umap is None else round(umap, 2)}
    except BaseException:
        srv.stop()
        raise


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint dir (default app/model or a stand-in)")
    ap.add_argument("--out", default=str(ROOT / "runs" / "bench" / "app.json"))
    ap.add_argument("--prompt-seconds", type=float, default=5.0)
    ap.add_argument("--seconds", type=float, default=5.0, help="continuation length")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--umap-timeout", type=float, default=240.0)
    args = ap.parse_args()

    from slmlab.model import read_info, resolve_checkpoint

    model = resolve_checkpoint(model_dir(args.model))
    work = Path(tempfile.mkdtemp(prefix="bench-app-"))
    wav = prompt_wav(args.prompt_seconds, work / "prompt.wav")
    layer = 1  # any layer works; every layer's UMAP is fitted in the background
    load = os.getloadavg()
    result: dict = {"model": str(model), "stage": read_info(model).get("stage"),
                    "prompt_seconds": args.prompt_seconds, "continuation_seconds": args.seconds,
                    "cpu_count": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in load]}
    cache = work / "cache"
    # 1) cold start, empty cache (numba compiles, UMAP fits)
    srv, _, result["cold_empty_cache"] = cold_start(model, cache, wav, layer, work / "app1.log",
                                                     args.umap_timeout)
    srv.stop()
    # 2) cold start, reducers cached on disk: then the warm measurements on that server
    srv, cl, result["cold_cached"] = cold_start(model, cache, wav, layer, work / "app2.log",
                                                args.umap_timeout)
    try:
        runs = [continue_and_project(cl, wav, args.seconds, layer) for _ in range(args.repeats)]
    finally:
        srv.stop()
    total = [a + b for a, b, _ in runs]
    result["warm"] = {"continue_s": [round(a, 3) for a, _, _ in runs],
                      "project_s": [round(b, 3) for _, b, _ in runs],
                      "total_median_s": round(statistics.median(total), 3),
                      "total_max_s": round(max(total), 3),
                      "map": map_method(runs[-1][2]), "status": runs[-1][2].split(" | ")[-1]}
    result["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    w, c1, c2 = result["warm"], result["cold_empty_cache"], result["cold_cached"]
    print(f"warm: {args.prompt_seconds:g} s prompt -> {args.seconds:g} s continuation + projection "
          f"({w['map']}): median {w['total_median_s']:.2f} s, max {w['total_max_s']:.2f} s "
          f"(target <= 2 s)")
    for name, c in (("cold, empty cache", c1), ("cold, cached UMAP", c2)):
        print(f"{name}: serving {c['serving_s']} s, first continuation {c['first_continuation_s']} s,"
              f" UMAP map ready {c['umap_ready_s']} s (target <= 30 s)")
    print(f"load average {result['loadavg_at_start']} -> {result['loadavg_at_end']} on "
          f"{result['cpu_count']} CPUs; JSON: {args.out}")


if __name__ == "__main__":
    main()
