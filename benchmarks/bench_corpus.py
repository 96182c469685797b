"""Corpus build time for the quickstart corpus (built-in tokenizer trained on corpus audio).

    python benchmarks/bench_corpus.py --stories 1500 --eval-items 200 --out bench_corpus.json

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
    ap.add_argument("--dir", default=None, help="build here (kept) instead of a temp dir")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args(argv)

    from slmlab.corpus import CorpusConfig, build_corpus, load_corpus

    tmp = None if args.dir else tempfile.mkdtemp(prefix="bench_corpus_")
    where = Path(args.dir or tmp) / "corpus"
    cfg = CorpusConfig(out=str(where), n_stories=args.stories, eval_items=args.eval_items,
                       aligned_pairs=args.aligned_pairs, n_units=args.units,
                       tokenizer=args.tokenizer, workers=args.workers,
                       shard_size=args.shard_size, progress=False)
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
        "target_s": 180, "meets_target": wall <= 180,
    }
    print(json.dumps(report, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


if __name__ == "__main__":
    main()
