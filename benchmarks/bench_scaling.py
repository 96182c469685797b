"""Scaling of `slmlab train` over several GPUs: tokens/s, MFU, peak memory, efficiency.

Three sub-commands:
- `measure`: one configuration in this (torchrun) job: `slmlab.train.Trainer.train_step` as
  `slmlab train` runs it (DDP or FSDP2 by `--parallel`, bf16 autocast, fused AdamW,
  torch.compile on GPU) on random units, warmup steps untimed, then timed steps until
  `--steps` or `--time-cap`. Writes one JSON: global tokens/s, per-GPU tokens/s, MFU per GPU
  (against 989 TFLOP/s dense bf16, 6 N + 12 * layers * hidden * context FLOPs per token),
  peak memory (the largest rank's), loss.
- `table`: reads `measure` JSONs and writes the summary JSON + a markdown table: speedup and
  scaling efficiency (tokens/s on N GPUs / (N x tokens/s on 1 GPU)) against the 1-GPU run of
  the same preset; every (preset, GPUs) of the plan without a measurement is listed as
  "not run".
- `sweep`: `measure` under torchrun for each GPU count (as many as are visible), then `table`.

Weak scaling: the micro-batch per GPU is fixed, the global batch grows with the GPU count
(each rank reads its slice of the global batch). One GPU runs the plain module (no DDP/FSDP).

    # all of it on a 2-GPU host (1b with FSDP2, 360m with DDP; ~10 min):
    python benchmarks/bench_scaling.py sweep --presets 360m,1b --gpus 1,2 --out-dir results/gpu
    # one configuration by hand:
    torchrun --standalone --nproc_per_node=2 benchmarks/bench_scaling.py measure --preset 1b \\
        --parallel fsdp --batch 16 --out results/gpu/bench_scaling_1b_fsdp_x2.json
    # CPU proof that it works (gloo, tiny preset, ~1 min):
    python benchmarks/bench_scaling.py sweep --presets tiny --gpus 1,2 --device cpu \\
        --batch 4 --context 256 --steps 6 --warmup 2 --out-dir /tmp/scaling
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_train: corpus and clock
from bench_train import random_corpus, timed_steps  # noqa: E402

from slmlab.interleave import SequenceConfig  # noqa: E402
from slmlab.train import PEAK_FLOPS, Trainer, TrainConfig  # noqa: E402

# what the plan covers, and each preset's defaults (batch per GPU as tuned on one H200)
PLAN_PRESETS, PLAN_GPUS = ("360m", "1b"), (1, 2, 4, 8)
DEFAULTS = {"360m": {"batch": 32, "parallel": "ddp"}, "1b": {"batch": 16, "parallel": "fsdp"},
            "small": {"batch": 32, "parallel": "ddp"}, "tiny": {"batch": 8, "parallel": "fsdp"}}


# ---------------------------------------------------------------- measure (one torchrun job)


def peak_memory_gb(device: torch.device) -> tuple[str, float]:
    """("peak_mem_gb", allocated by torch) on GPU, ("peak_rss_gb", process RSS) on CPU."""
    if device.type == "cuda":
        return "peak_mem_gb", torch.cuda.max_memory_allocated(device) / 2**30
    return "peak_rss_gb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _max_over_ranks(value: float, device: torch.device) -> float:
    if not torch.distributed.is_initialized():
        return value
    t = torch.tensor([value], dtype=torch.float64,
                     device=device if device.type == "cuda" else "cpu")
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return float(t.item())


def measure(args: argparse.Namespace) -> dict:
    """Time train_step of one configuration; every rank runs this, rank 0 reports."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-scaling-"))
    gpu = args.device.startswith("cuda")
    corpus = random_corpus(tmp / "corpus", tokens=max(args.batch * args.context * world * 8,
                                                      2_000_000 if gpu else 100_000))
    cfg = TrainConfig(corpus=corpus, out=tmp / "run", preset=args.preset, steps=10**6,
                      batch_size=args.batch, grad_accum=args.accum, device=args.device,
                      sequence=SequenceConfig(mode="mono", context=args.context),
                      param_dtype=args.param_dtype, compile=args.compile,
                      parallel=args.parallel, activation_checkpointing=args.activation_checkpointing,
                      eval_batches=0, warmup=10, lr=3e-4)
    t = Trainer(cfg)
    tokens = args.batch * args.accum * args.context * world
    stats = timed_steps(t.train_step, t.device, args.warmup, args.steps, args.time_cap, tokens)
    key, peak = peak_memory_gb(t.device)
    stats.update(params=t.n_params, flops_per_token=t.flops_tok, parallel=t.parallel,
                 loss=float(t.train_step()), compiled=t.net is not t.model,
                 tokens_per_s_per_gpu=stats["tokens_per_s"] / world)
    stats[key] = round(_max_over_ranks(peak, t.device), 2)
    if gpu:
        stats["mfu"] = stats["tokens_per_s"] * t.flops_tok / (PEAK_FLOPS * world)
    del t
    shutil.rmtree(tmp, ignore_errors=True)
    return stats


def describe_device(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def run_measure(args: argparse.Namespace) -> int:
    for name, value in DEFAULTS.get(args.preset, DEFAULTS["1b"]).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    stats = measure(args)
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    if rank == 0:
        row = {"device": describe_device(args.device), "world_size": world,
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "command": " ".join(["torchrun", f"--nproc_per_node={world}", *sys.argv]),
               "torch": torch.__version__, "args": vars(args) | {"func": None},
               "result": stats}
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(row, indent=1, default=str))
        mfu = f" | mfu/GPU {stats['mfu']:.1%}" if "mfu" in stats else ""
        print(f"{args.preset} {stats['parallel']} x{world}: {stats['tokens_per_s'] / 1e3:.1f}k "
              f"tok/s{mfu} ({stats['timed_steps']} steps) -> {args.out}", flush=True)
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return 0


# ---------------------------------------------------------------- table


def summarise(rows: list[dict], presets, gpus) -> list[dict]:
    """One entry per (preset, GPUs) of the plan and per measurement, with speedup and
    efficiency against the 1-GPU row of the same preset."""
    by_key = {(r["args"]["preset"], r["world_size"]): r for r in rows}
    presets = list(dict.fromkeys([*presets, *(p for p, _ in by_key)]))
    out = []
    for preset in presets:
        base = by_key.get((preset, 1))
        counts = sorted(set(gpus) | {n for p, n in by_key if p == preset})
        for n in counts:
            r = by_key.get((preset, n))
            if r is None:
                plan = DEFAULTS.get(preset, {})
                out.append({"preset": preset, "gpus": n, "status": "not run",
                            "parallel": plan.get("parallel", "?") if n > 1 else "single",
                            "batch_per_gpu": plan.get("batch")})
                continue
            res = r["result"]
            entry = {"preset": preset, "gpus": n, "status": "measured",
                     "parallel": res["parallel"], "batch_per_gpu": r["args"]["batch"],
                     "context": r["args"]["context"], "tokens_per_s": res["tokens_per_s"],
                     "tokens_per_s_per_gpu": res["tokens_per_s_per_gpu"],
                     "mfu_per_gpu": res.get("mfu"),
                     "peak_mem_gb": res.get("peak_mem_gb", res.get("peak_rss_gb")),
                     "peak_mem_kind": "cuda allocated" if "peak_mem_gb" in res else "CPU RSS",
                     "device": r["device"], "date": r["date"], "command": r["command"]}
            if base is not None:
                speedup = res["tokens_per_s"] / base["result"]["tokens_per_s"]
                entry.update(speedup=speedup, scaling_efficiency=speedup / n)
            out.append(entry)
    return out


def _fmt(value, spec: str, missing: str = "—") -> str:
    return missing if value is None else format(value, spec)


def markdown(entries: list[dict]) -> str:
    head = ("| preset | GPUs | parallel | batch/GPU | tokens/s | tokens/s per GPU | MFU/GPU | "
            "peak mem/GPU (GiB) | speedup vs 1 | scaling efficiency |\n"
            "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    lines = []
    for e in entries:
        if e["status"] != "measured":
            lines.append(f"| {e['preset']} | {e['gpus']} | {e['parallel']} | "
                         f"{_fmt(e['batch_per_gpu'], 'd')} | not run | — | — | — | — | — |")
            continue
        lines.append(
            f"| {e['preset']} | {e['gpus']} | {e['parallel']} | {e['batch_per_gpu']} | "
            f"{e['tokens_per_s'] / 1e3:.1f}k | {e['tokens_per_s_per_gpu'] / 1e3:.1f}k | "
            f"{_fmt(e['mfu_per_gpu'], '.1%')} | {_fmt(e['peak_mem_gb'], '.1f')} | "
            f"{_fmt(e.get('speedup'), '.2f')}× | {_fmt(e.get('scaling_efficiency'), '.0%')} |")
    measured = [e for e in entries if e["status"] == "measured"]
    notes = sorted({f"- {e['preset']} x{e['gpus']}: `{e['command']}` ({e['device']}, "
                    f"{e['date']})" for e in measured})
    return (head + "\n".join(lines) + "\n\n" + target_line(entries) + "\n\nMeasured with:\n"
            + "\n".join(notes or ["- nothing yet"]) + "\n")


def target_line(entries: list[dict]) -> str:
    """Issue 16's targets: FSDP2 1b on 2 GPUs >= 1.85x one GPU and >= 45% MFU per GPU."""
    row = next((e for e in entries if e["preset"] == "1b" and e["gpus"] == 2), None)
    if row is None or row["status"] != "measured" or row.get("speedup") is None:
        return "Targets (1b, FSDP2, 2 GPUs: ≥ 1.85× one GPU, MFU/GPU ≥ 45%): not run."
    fast, mfu = row["speedup"] >= 1.85, (row["mfu_per_gpu"] or 0) >= 0.45
    return (f"Targets (1b, FSDP2, 2 GPUs): speedup {row['speedup']:.2f}× (≥ 1.85×: "
            f"{'met' if fast else 'not met'}), MFU/GPU {row['mfu_per_gpu'] or 0:.1%} "
            f"(≥ 45%: {'met' if mfu else 'not met'}).")


def run_table(args: argparse.Namespace) -> int:
    rows = [json.loads(Path(p).read_text()) for p in args.inputs]
    entries = summarise(rows, args.presets.split(","), [int(g) for g in args.gpus.split(",")])
    summary = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "peak_flops_per_gpu": PEAK_FLOPS, "inputs": [str(p) for p in args.inputs],
               "rows": entries}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(summary, indent=1))
    Path(args.md).write_text(markdown(entries))
    print(markdown(entries), end="")
    return 0


# ---------------------------------------------------------------- sweep


def run_sweep(args: argparse.Namespace) -> int:
    """`measure` under torchrun for each preset and GPU count, then `table`."""
    out_dir = Path(args.out_dir)
    visible = torch.cuda.device_count() if args.device.startswith("cuda") else 64
    inputs = []
    for preset in args.presets.split(","):
        for n in (int(g) for g in args.gpus.split(",")):
            if n > visible:
                print(f"{preset} x{n}: only {visible} GPU(s) visible; listed as not run")
                continue
            tag = "cpu" if args.device == "cpu" else "h200" if "H200" in describe_device(
                args.device) else "gpu"
            out = out_dir / f"bench_scaling_{preset}_x{n}_{tag}.json"
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc_per_node={n}", os.path.relpath(Path(__file__).resolve()), "measure",
                   "--preset", preset, "--device", args.device, "--out", str(out),
                   "--context", str(args.context), "--steps", str(args.steps),
                   "--warmup", str(args.warmup), "--time-cap", str(args.time_cap),
                   "--compile", args.compile, "--param-dtype", args.param_dtype]
            for name in ("batch", "parallel"):
                if getattr(args, name) is not None:
                    cmd += [f"--{name}", str(getattr(args, name))]
            if args.activation_checkpointing:
                cmd.append("--activation-checkpointing")
            env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
            done = subprocess.run(cmd, env=env)
            if done.returncode == 0:
                inputs.append(out)
            else:
                print(f"{preset} x{n}: failed (exit {done.returncode}); listed as not run")
    table = argparse.Namespace(inputs=inputs, presets=args.presets, gpus=args.gpus,
                               json=str(out_dir / f"bench_scaling{args.suffix}.json"),
                               md=str(out_dir / f"bench_scaling{args.suffix}.md"))
    return run_table(table)


def _config_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch", type=int, default=None, help="windows per micro-batch per GPU "
                   "(default per preset: 360m 32, 1b 16)")
    p.add_argument("--accum", type=int, default=1)
    p.add_argument("--context", type=int, default=1024)
    p.add_argument("--parallel", default=None, choices=("ddp", "fsdp"),
                   help="default per preset: 1b fsdp, 360m ddp")
    p.add_argument("--param-dtype", default="fp32", help="master weights: fp32 | bf16")
    p.add_argument("--compile", default="auto", help="torch.compile: auto (GPU) | on | off")
    p.add_argument("--activation-checkpointing", action="store_true")
    p.add_argument("--steps", type=int, default=30, help="timed steps (at most)")
    p.add_argument("--warmup", type=int, default=8, help="untimed steps (compilation)")
    p.add_argument("--time-cap", type=float, default=60.0, help="timed seconds (at most)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure", help="one configuration (run it under torchrun)")
    m.add_argument("--preset", default="1b")
    _config_flags(m)
    m.add_argument("--out", required=True, help="JSON to write")
    m.set_defaults(func=run_measure)
    t = sub.add_parser("table", help="summary JSON + markdown table from measure JSONs")
    t.add_argument("inputs", nargs="*", help="measure JSONs")
    t.add_argument("--presets", default=",".join(PLAN_PRESETS))
    t.add_argument("--gpus", default=",".join(map(str, PLAN_GPUS)))
    t.add_argument("--json", default="results/gpu/bench_scaling.json")
    t.add_argument("--md", default="results/gpu/bench_scaling.md")
    t.set_defaults(func=run_table)
    s = sub.add_parser("sweep", help="measure each GPU count under torchrun, then table")
    s.add_argument("--presets", default=",".join(PLAN_PRESETS))
    s.add_argument("--gpus", default=",".join(map(str, PLAN_GPUS)))
    _config_flags(s)
    s.add_argument("--out-dir", default="results/gpu")
    s.add_argument("--suffix", default="", help="added to bench_scaling{suffix}.json/.md")
    s.set_defaults(func=run_sweep)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
