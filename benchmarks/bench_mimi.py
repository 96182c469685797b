"""Mimi encode throughput (first codebook): seconds of audio encoded per second of wall time.

A real-sized Mimi (untrained, `get_mimi(None)`, 79M parameters) with random codebooks fitted to
its own latents (`randomize_codebooks`), encoding a batch of speech-like signals. On a GPU it
sweeps precision (fp32, tf32, bf16 autocast), batch size and torch.compile, and reports for each
the throughput, peak memory and the share of codes equal to the fp32 codes (bf16 may flip
near-tie codes; slmlab's MimiTokenizer uses fp32 unless agreement is exact).

    python benchmarks/bench_mimi.py --device cuda --batch 16 --seconds 10 --out bench_mimi.json
    python benchmarks/bench_mimi.py --device cpu --batch 2 --seconds 2 --out /tmp/bench_mimi.json

Caveat: agreement is measured on random codebooks; with trained weights it should be checked
again (the same script works on real weights with --weights PATH).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from dataclasses import asdict, dataclass

import torch

from slmlab.constants import SAMPLE_RATE
from slmlab.tokenizers import mimi as M


@dataclass
class Setting:
    precision: str  # fp32 | tf32 | bf16 (autocast)
    batch: int
    compile: bool = False

    @property
    def label(self) -> str:
        return f"{self.precision}-b{self.batch}" + ("-compiled" if self.compile else "")


def signal(batch: int, seconds: float, seed: int = 0) -> torch.Tensor:
    """Speech-like test audio [B, T]: gliding tones, varying loudness, a little noise."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 100 + 250 * torch.rand(batch, 1, generator=g)
    amp = 0.15 * (1.2 + torch.sin(4 * t + 6 * torch.rand(batch, 1, generator=g)))
    return amp * torch.sin(2 * math.pi * f0 * t * (1 + 0.3 * torch.sin(t))) \
        + 0.01 * torch.randn(batch, t.numel(), generator=g)


def make_tokenizer(args) -> M.MimiTokenizer:
    if args.weights:
        return M.load_mimi(args.weights, device=args.device)
    torch.manual_seed(0)
    if args.backend == "moshi":
        model = M.build_moshi(None, args.device)
    else:
        from transformers import MimiConfig, MimiModel

        model = MimiModel(MimiConfig()).eval().to(args.device)
    M.randomize_codebooks(model, seed=0)
    return M.MimiTokenizer(model, args.backend, device=args.device)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_setting(tok: M.MimiTokenizer, s: Setting, wav: torch.Tensor, reference: torch.Tensor | None,
                iters: int, device: str) -> dict:
    """Time `iters` encodes of wav[:s.batch] (after warm-up) under setting `s`."""
    torch.backends.cuda.matmul.allow_tf32 = s.precision == "tf32"
    torch.backends.cudnn.allow_tf32 = s.precision == "tf32"
    tok.precision = "bf16" if s.precision == "bf16" else "fp32"
    plain_encode = tok.model.encode
    if s.compile:
        tok.model.encode = torch.compile(plain_encode)  # instance attribute shadows the method
    x = wav[: s.batch].to(device)
    try:
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        codes = tok.encode(x)  # warm-up (and compilation)
        sync(device)
        warmup_s = time.perf_counter() - t0
        tok.encode(x)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(iters):
            tok.encode(x)
        sync(device)
        elapsed = time.perf_counter() - t0
    finally:
        if s.compile:
            del tok.model.encode
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        tok.precision = "fp32"
    audio_s = s.batch * x.shape[-1] / SAMPLE_RATE * iters
    out = {**asdict(s), "label": s.label, "audio_s_per_s": round(audio_s / elapsed, 1),
           "ms_per_batch": round(1000 * elapsed / iters, 2), "warmup_s": round(warmup_s, 2),
           "frames": int(codes.shape[1]), "distinct_codes": int(codes.unique().numel())}
    if device.startswith("cuda"):
        out["peak_mem_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    if reference is not None:
        n = min(len(reference), len(codes))
        out["agreement_vs_fp32"] = round((codes[:n] == reference[:n]).float().mean().item(), 5)
    return out


def settings_for(args) -> list[Setting]:
    if not args.device.startswith("cuda"):
        return [Setting("fp32", args.batch), Setting("bf16", args.batch)]
    batches = sorted({args.batch, 2 * args.batch, 4 * args.batch})
    out = [Setting(p, b) for b in batches for p in ("fp32", "tf32", "bf16")]
    if not args.no_compile:
        out += [Setting("bf16", args.batch, compile=True), Setting("fp32", args.batch, compile=True)]
    return out


def pick_best(results: list[dict]) -> dict:
    """Fastest setting overall, and fastest whose codes equal fp32's exactly."""
    ok = [r for r in results if "error" not in r]
    exact = [r for r in ok if r.get("agreement_vs_fp32", 1.0) >= 1.0]
    fastest = max(ok, key=lambda r: r["audio_s_per_s"], default=None)
    fastest_exact = max(exact, key=lambda r: r["audio_s_per_s"], default=None)
    return {"fastest": fastest and fastest["label"],
            "fastest_exact": fastest_exact and fastest_exact["label"],
            "fastest_audio_s_per_s": fastest and fastest["audio_s_per_s"],
            "fastest_exact_audio_s_per_s": fastest_exact and fastest_exact["audio_s_per_s"]}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=16, help="base batch size (GPU also tries 2x, 4x)")
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds of audio per item")
    ap.add_argument("--iters", type=int, default=0, help="timed iterations (0: 10 GPU, 2 CPU)")
    ap.add_argument("--backend", choices=M.BACKENDS, default="moshi")
    ap.add_argument("--weights", default=None, help="real Mimi weights instead of a stand-in")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile settings")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    if args.device == "cpu":
        torch.set_num_threads(max(1, torch.get_num_threads()))
    iters = args.iters or (10 if args.device.startswith("cuda") else 2)
    tok = make_tokenizer(args)
    settings = settings_for(args)
    wav = signal(max(s.batch for s in settings), args.seconds)
    reference = tok.encode(wav.to(args.device))  # fp32 codes for every item
    results = []
    for s in settings:
        try:
            r = run_setting(tok, s, wav, reference[: s.batch], iters, args.device)
        except Exception as err:  # e.g. OOM or a compile failure: report it, keep sweeping
            r = {**asdict(s), "label": s.label, "error": f"{type(err).__name__}: {err}"[:300]}
            if args.device.startswith("cuda"):
                torch.cuda.empty_cache()
        results.append(r)
        print(json.dumps(r), flush=True)
    report = {"device": torch.cuda.get_device_name() if args.device.startswith("cuda") else
              platform.processor() or "cpu", "torch": torch.__version__, "backend": tok.name,
              "seconds_per_item": args.seconds, "iters": iters,
              "parameters_m": round(sum(p.numel() for p in tok.model.parameters()) / 1e6, 1),
              "results": results, "best": pick_best(results)}
    print(f"best: {report['best']}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    return report


if __name__ == "__main__":
    main()
