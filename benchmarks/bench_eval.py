"""Time the whole evaluation suite (cloze story+topic x 4 conditions + minimal pairs).

Without --eval, items are synthetic with realistic lengths: context ~4 sentences x ~30 frames,
endings and pair sentences ~30 frames (2.4 s at 12.5 Hz). The model is an untrained preset
(timing does not depend on the weights). Sweeps scoring batch sizes (tokens per batch) and
weight precision (fp32 weights + bf16 autocast vs. bf16 weights) on GPU.

GPU (target: 1000 items per condition, 360m, <= 2 min on one H100):
    python benchmarks/bench_eval.py --preset 360m --items 1000 --out bench_eval.json
CPU smoke:
    python benchmarks/bench_eval.py --preset tiny --items 10 --batch-tokens 4096
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slmlab import evaluate as ev  # noqa: E402
from slmlab.constants import N_UNITS  # noqa: E402


def build(preset: str, n_units: int, device: torch.device, bf16_weights: bool):
    from slmlab.interleave import Vocab
    from slmlab.model import build_model, count_params

    model = build_model(preset, Vocab(n_units)).to(device).eval()
    if bf16_weights:
        model = model.to(torch.bfloat16)
    return model, count_params(model)


def n_tokens(es: ev.EvalSet) -> int:
    cloze = sum(2 * (1 + len(r["context"])) + len(r["right"]) + len(r["wrong"]) for r in es.cloze)
    return cloze + sum(2 + len(r["good"]) + len(r["bad"]) for r in es.pairs)


def time_suite(model, es: ev.EvalSet, n_units: int, batch_tokens: int, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    ev.evaluate_items(model, es, bos=n_units, batch_tokens=batch_tokens, device=device,
                      progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="360m")
    ap.add_argument("--items", type=int, default=1000, help="items per condition")
    ap.add_argument("--eval", default=None, help="a real eval dir instead of synthetic items")
    ap.add_argument("--n-units", type=int, default=N_UNITS)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch-tokens", type=int, nargs="+", default=None,
                    help="tokens per batch to try (default GPU: 32k 64k 128k; CPU: 8192)")
    ap.add_argument("--out", default=None, help="write the measurements as JSON here")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    es = (ev.load_eval(args.eval, limit=args.items) if args.eval
          else ev.synthetic_eval_set(args.items, n_units=args.n_units))
    tokens = n_tokens(es)
    n_items = len(es.cloze) + len(es.pairs)
    sizes = args.batch_tokens or ([32768, 65536, 131072] if device.type == "cuda" else [8192])
    precisions = [False, True] if device.type == "cuda" else [False]
    rows = []
    print(f"{n_items} items ({len(es.cloze)} cloze, {len(es.pairs)} pairs), {tokens / 1e6:.2f}M "
          f"tokens, preset {args.preset}, device {device}", flush=True)
    for bf16_w in precisions:
        model, n_params = build(args.preset, args.n_units, device, bf16_w)
        warm = ev.EvalSet(cloze=es.cloze[:64], pairs=es.pairs[:64])
        time_suite(model, warm, args.n_units, sizes[0], device)  # kernels, allocator
        for bt in sizes:
            sec = time_suite(model, es, args.n_units, bt, device)
            row = {"preset": args.preset, "params": n_params, "device": str(device),
                   "weights": "bf16" if bf16_w else "fp32+autocast" if device.type == "cuda"
                   else "fp32", "batch_tokens": bt, "seconds": sec, "items": n_items,
                   "tokens": tokens, "tokens_per_s": tokens / sec}
            if device.type == "cuda":
                row["peak_mem_gb"] = torch.cuda.max_memory_allocated() / 2**30
                torch.cuda.reset_peak_memory_stats()
            rows.append(row)
            print(f"weights {row['weights']:>14} | batch_tokens {bt:>6} | {sec:7.1f} s | "
                  f"{tokens / sec / 1e3:8.1f}k tok/s | {n_items / sec:7.1f} items/s", flush=True)
        del model
    best = min(rows, key=lambda r: r["seconds"])
    print(f"best: {best['seconds']:.1f} s for the whole suite ({best['weights']}, "
          f"batch_tokens {best['batch_tokens']})")
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": rows, "best": best}, indent=2))


if __name__ == "__main__":
    main()
