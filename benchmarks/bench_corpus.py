"""Corpus build time for the quickstart corpus (built-in tokenizer trained on corpus audio).

    python benchmarks/bench_corpus.py --stories 1500 --eval-items 200 --out bench_corpus.json
    python benchmarks/bench_corpus.py --tokenizer neural --stories 2000 --shard-size 100 \
        --device cuda --out bench_corpus_gpu.json   # the GPU machine: workers encode there

Builds from scratch into a temporary dir (or --dir) and reports the wall time of each step
(tokenizer training, shards, eval set), rows, hours of audio, units/s and sentences/s.
Target: at most 180 s for the quickstart corpus on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stories", type=int, default=1500)
    ap.add_argument("--eval-items", type=int, default=200)
    ap.add_argument("--aligned-pairs", type=int, default=300)
    ap.add_argument("--units", type=int, default=2048)
    ap.add_argument("--tokenizer", default="builtin")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--shard-size", type=int, default=50)
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="where the neural tokenizer encodes (auto: a GPU when visible)")
    ap.add_argument("--agreement", type=int, default=0, metavar="N",
                    help="also encode N corpus sentences one by one on the CPU and in padded "
                         "batches where the build encoded, and report how many units agree")
    ap.add_argument("--dir", default=None, help="build here (kept) instead of a temp dir")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args(argv)

    from slmlab.corpus import CorpusConfig, build_corpus, load_corpus

    tmp = None if args.dir else tempfile.mkdtemp(prefix="bench_corpus_")
    where = Path(args.dir or tmp) / "corpus"
    cfg = CorpusConfig(out=str(where), n_stories=args.stories, eval_items=args.eval_items,
                       aligned_pairs=args.aligned_pairs, n_units=args.units,
                       tokenizer=args.tokenizer, workers=args.workers,
                       shard_size=args.shard_size, device=args.device, progress=False)
    t0 = time.perf_counter()
    build_corpus(cfg)
    wall = time.perf_counter() - t0
    _, meta = load_corpus(where)
    b, c = meta["build"], meta["counts"]
    ev = meta.get("eval") or {}
    report = {
        "cores": os.cpu_count(), "workers": args.workers or os.cpu_count(),
        "stories": args.stories, "eval_items": args.eval_items, "wall_s": round(wall, 1),
        "tokenizer_s": b.get("tokenizer_s"), "shards_s": b.get("shards_s"),
        "eval_s": round(wall - b.get("tokenizer_s", 0) - b.get("shards_s", 0), 1),
        "rows": c["rows"], "hours": meta["hours"], "units": c["units"],
        "units_per_s": round(c["units"] / wall, 1),
        "audio_s_per_s": round(meta["hours"] * 3600 / wall, 1),
        "eval_sentences": ev.get("sentences"), "tokenizer": meta["tokenizer"]["name"],
        "encode_device": b.get("encode_device"), "stories_per_s": round(
            sum(c["stories_by_split"].values()) / max(b.get("shards_s") or wall, 1e-9), 2),
        "target_s": 180, "meets_target": wall <= 180,
    }
    if args.agreement:
        report["agreement"] = agreement(where, meta, args.agreement)
    print(json.dumps(report, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def agreement(corpus: Path, meta: dict, n: int) -> dict:
    """Units of `n` corpus sentences (synthesized again here): one by one on the CPU vs the
    padded batches of `encode_list` on the build's encode device (the GPU's are the corpus's)."""
    import numpy as np

    from slmlab.corpus import load_corpus
    from slmlab.corpus import worker as W
    from slmlab.tokenizers import load_tokenizer

    ds, _ = load_corpus(corpus)
    rows = [ds[i] for i in range(min(n, len(ds)))]
    wavs = W.synthesize_rows(rows)
    path = meta["tokenizer"]["path"]
    cpu, dev = load_tokenizer(path), load_tokenizer(path, device=meta["build"]["encode_device"])
    W.encode_wavs(dev, wavs[:2])  # warm-up: a GPU's first call initialises CUDA and cuDNN
    t0 = time.perf_counter()
    alone = [cpu.encode_np(w) for w in wavs]
    t1 = time.perf_counter()
    batched = W.encode_wavs(dev, wavs)
    t2 = time.perf_counter()
    same = sum(int((a == b).sum()) for a, b in zip(alone, batched))
    total = sum(len(a) for a in alone)
    return {"sentences": len(rows), "device": meta["build"]["encode_device"],
            "units_equal": round(same / max(total, 1), 5),
            "lengths_equal": all(len(a) == len(b) for a, b in zip(alone, batched)),
            "cpu_one_by_one_s": round(t1 - t0, 3), "batched_s": round(t2 - t1, 3),
            "units_per_s_batched": round(total / max(t2 - t1, 1e-9), 1),
            "mean_units": round(float(np.mean([len(a) for a in alone])), 1)}


if __name__ == "__main__":
    main()
