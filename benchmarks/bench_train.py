"""Training throughput of slmlab's loop vs a stock transformers `Trainer`, same model and data.

Random units (vocab 2048 + 3 specials = 2051) in a throwaway corpus on disk, windows of
`--context` tokens. Variants, run one after another in this process:
- `ours`: `slmlab.train.Trainer.train_step` as `slmlab train` runs it (fp32 weights, bf16
  autocast on GPU, fused AdamW, torch.compile on GPU), reading packed windows.
- `ours-bf16`: the same with bf16 weights and optimizer state (`--param-dtype bf16`).
- `ours-fp32` (CPU): no autocast, to compare with bf16 autocast on CPU.
- `trainer`: `transformers.Trainer(bf16=True)`, same batch, same windows, default optimizer.
Warmup steps (compilation included) are excluded; every timed step ends in a synchronize;
each variant stops at `--time-cap` seconds of timed steps. MFU is against 989 TFLOP/s per GPU
(6 N + 12 * layers * hidden * context FLOPs per token).

    # one H100 (80 GB), ~4 min:
    python benchmarks/bench_train.py --preset 360m --device cuda --batch 16 --accum 1 --out bench_train_360m.json
    python benchmarks/bench_train.py --preset 1b --device cuda --batch 8 --accum 1 --out bench_train_1b.json
    # scaling, ours only (each rank a slice of the global batch):
    torchrun --nproc_per_node=8 benchmarks/bench_train.py --preset 360m --device cuda --batch 16 --variants ours --out bench_train_360m_x8.json
    # CPU:
    python benchmarks/bench_train.py --preset tiny --device cpu --batch 8 --context 512 --out /tmp/bench_train_cpu.json
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from slmlab.interleave import SequenceConfig, Vocab
from slmlab.model import build_model, count_params, flops_per_token
from slmlab.train import PEAK_FLOPS, Trainer, TrainConfig

N_UNITS = 2048


def random_corpus(path: Path, tokens: int, seed: int = 0) -> Path:
    """A corpus dir (slmlab.corpus layout) of ~`tokens` random EN units in 40-frame sentences."""
    import datasets

    datasets.disable_progress_bars()
    rng = np.random.default_rng(seed)
    n_sent, per_story = max(1, tokens // 40), 20
    units = rng.integers(0, N_UNITS, (n_sent, 40)).astype(np.int16)
    cols = {"story_id": [f"s{i // per_story:06d}" for i in range(n_sent)],
            "sentence_idx": [i % per_story for i in range(n_sent)], "lang": ["en"] * n_sent,
            "voice": ["en"] * n_sent, "text": [""] * n_sent, "units": list(units),
            "split": ["train"] * n_sent}
    datasets.Dataset.from_dict(cols).save_to_disk(str(path / "shards" / "shard-00000"))
    meta = {"tokenizer": {"kind": "random", "vocab_size": N_UNITS}, "counts": {"shards": 1}}
    (path / "meta.json").write_text(json.dumps(meta))
    return path


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed_steps(step_fn, device, warmup: int, steps: int, cap: float, tokens_per_step: int):
    """Run warmup untimed, then up to `steps` timed steps or `cap` seconds; returns stats."""
    t0 = time.perf_counter()
    for _ in range(warmup):
        step_fn()
    sync(device)
    warm_s = time.perf_counter() - t0
    t0, done = time.perf_counter(), 0
    while done < steps and time.perf_counter() - t0 < cap:
        step_fn()
        sync(device)
        done += 1
    dt = time.perf_counter() - t0
    return {"warmup_s": round(warm_s, 2), "timed_steps": done, "seconds": round(dt, 3),
            "tokens_per_s": tokens_per_step * done / dt}


def run_ours(args, corpus: Path, param_dtype: str, dtype: str, world: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-ours-"))
    cfg = TrainConfig(corpus=corpus, out=out, preset=args.preset, steps=10**6,
                      batch_size=args.batch, grad_accum=args.accum, device=args.device,
                      sequence=SequenceConfig(mode="mono", context=args.context),
                      param_dtype=param_dtype, dtype=dtype, compile=args.compile,
                      eval_batches=0, warmup=10, lr=3e-4)
    t = Trainer(cfg)
    tokens = args.batch * args.accum * args.context * world
    stats = timed_steps(t.train_step, t.device, args.warmup, args.steps, args.time_cap, tokens)
    stats.update(params=t.n_params, flops_per_token=t.flops_tok,
                 loss=float(t.train_step()), compiled=t.net is not t.model)
    if t.device.type == "cuda":
        stats["peak_mem_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    del t
    shutil.rmtree(out, ignore_errors=True)
    return stats


def run_trainer(args, world: int) -> dict:
    """Stock transformers Trainer, bf16=True, same model shape, batch and windows."""
    from transformers import Trainer as HFTrainer, TrainerCallback, TrainingArguments

    device = torch.device(args.device if args.device != "cuda" else "cuda")
    vocab = Vocab(N_UNITS)
    torch.manual_seed(0)
    model = build_model(args.preset, vocab)
    n = (args.warmup + args.steps + 2) * args.batch * args.accum * world
    data = torch.randint(0, N_UNITS, (n, args.context))

    class Windows(torch.utils.data.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            return {"input_ids": data[i], "labels": data[i]}

    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, targs, state, control, **kwargs):
            sync(device)
            times.append(time.perf_counter())
            if len(times) > args.warmup and times[-1] - times[args.warmup - 1] > args.time_cap:
                control.should_training_stop = True

    targs = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="bench-hf-"), per_device_train_batch_size=args.batch,
        gradient_accumulation_steps=args.accum, max_steps=args.warmup + args.steps,
        bf16=True, learning_rate=3e-4, logging_steps=10**6, save_strategy="no",
        report_to="none", disable_tqdm=True, use_cpu=device.type == "cpu",
        dataloader_num_workers=0)
    trainer = HFTrainer(model=model, args=targs, train_dataset=Windows(), callbacks=[Clock()])
    trainer.train()
    timed = len(times) - args.warmup
    dt = times[-1] - times[args.warmup - 1]
    tokens = args.batch * args.accum * args.context * world
    stats = {"timed_steps": timed, "seconds": round(dt, 3), "tokens_per_s": tokens * timed / dt,
             "params": count_params(model), "flops_per_token": flops_per_token(model, args.context),
             "optim": str(targs.optim)}
    if device.type == "cuda":
        stats["peak_mem_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    shutil.rmtree(targs.output_dir, ignore_errors=True)
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=16, help="windows per micro-batch per GPU")
    ap.add_argument("--accum", type=int, default=1)
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=30, help="timed steps per variant (at most)")
    ap.add_argument("--warmup", type=int, default=8, help="untimed steps (compilation)")
    ap.add_argument("--time-cap", type=float, default=60.0, help="timed seconds per variant")
    ap.add_argument("--compile", default="auto", help="auto | on | off (ours)")
    ap.add_argument("--variants", default=None,
                    help="comma list of ours, ours-bf16, ours-fp32, trainer (default: GPU "
                         "ours,ours-bf16,trainer; CPU ours-fp32,ours,trainer)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    ap.add_argument("--out", default="bench_train.json")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    gpu = args.device.startswith("cuda")
    variants = (args.variants or ("ours,ours-bf16,trainer" if gpu else "ours-fp32,ours,trainer")).split(",")
    corpus_dir = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
    corpus = random_corpus(corpus_dir, tokens=max(2_000_000 if gpu else 200_000,
                                                  args.batch * args.context * 4))
    results = {}
    for v in variants:
        if v == "trainer":
            results[v] = run_trainer(args, world)
        else:
            param, dtype = {"ours": ("fp32", "bf16"), "ours-bf16": ("bf16", "bf16"),
                            "ours-fp32": ("fp32", "fp32")}[v]
            results[v] = run_ours(args, corpus, param, dtype, world)
        r = results[v]
        if gpu:
            r["mfu"] = r["tokens_per_s"] * r["flops_per_token"] / (PEAK_FLOPS * world)
        if rank == 0:
            mfu = f" | mfu {r['mfu']:.1%}" if "mfu" in r else ""
            print(f"{v:10s} {r['tokens_per_s'] / 1e3:8.1f}k tok/s{mfu} ({r['timed_steps']} steps)",
                  flush=True)
        gc.collect()
        if gpu:
            torch._dynamo.reset()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
    if "trainer" in results:
        for v in results:
            if v != "trainer":
                results[v]["vs_trainer"] = results[v]["tokens_per_s"] / results["trainer"]["tokens_per_s"]
                if rank == 0:
                    print(f"{v} / trainer: {results[v]['vs_trainer']:.2f}x")
    shutil.rmtree(corpus_dir, ignore_errors=True)
    if rank == 0:
        device_name = torch.cuda.get_device_name() if gpu else platform.processor() or "cpu"
        report = {"device": device_name, "world_size": world, "threads": torch.get_num_threads(),
                  "date": datetime.datetime.now().isoformat(timespec="seconds"),
                  "command": " ".join(sys.argv), "torch": torch.__version__,
                  "args": vars(args), "results": results}
        Path(args.out).write_text(json.dumps(report, indent=1))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
