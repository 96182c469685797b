"""Synthetic stand-ins shared by tests: a corpus with the real schema, random units.

`fake_corpus(dir)` writes what `slmlab.corpus` writes (shards/shard-NNNNN/ `datasets` dirs with
rows `story_id, sentence_idx, lang, voice, text, units (int16 list), split`, plus meta.json),
so tests of later stages need not synthesise speech. EN and FR sentence i of one story are
aligned (same index); their units differ (random, FR ids drawn from the upper half of the
vocabulary so a test can tell the languages apart from the units alone).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def fake_rows(n_stories: int, split: str, n_units: int, seed: int,
              sentences=(3, 7), frames=(4, 15)) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    half = n_units // 2
    for s in range(n_stories):
        sid = f"{split}-{s:04d}"
        for i in range(int(rng.integers(*sentences))):
            for lang in ("en", "fr"):
                n = int(rng.integers(*frames))
                lo, hi = (0, half) if lang == "en" else (half, n_units)
                rows.append({"story_id": sid, "sentence_idx": i, "lang": lang,
                             "voice": f"{lang}+m1", "text": f"{lang} sentence {i} of {sid}",
                             "units": rng.integers(lo, hi, n).astype(np.int16).tolist(),
                             "split": split})
    return rows


def fake_corpus(path: str | Path, n_train: int = 24, n_heldout: int = 6, n_units: int = 64,
                seed: int = 0, stories_per_shard: int = 10) -> Path:
    """Write a synthetic corpus dir in slmlab.corpus's layout; returns the path.

    shards/shard-NNNNN/ (one `datasets` dataset each, train stories first, then heldout) and
    meta.json (tokenizer.vocab_size = n_units, counts.shards), so `load_corpus` reads it.
    """
    rows = (fake_rows(n_train, "train", n_units, seed)
            + fake_rows(n_heldout, "heldout", n_units, seed + 1))
    tokenizer = {"kind": "fake", "name": "fake-units", "frame_rate": 12.5,
                 "vocab_size": n_units, "checksum": f"fake-{seed}", "path": ""}
    return write_corpus(path, rows, tokenizer, {"n_train": n_train, "n_heldout": n_heldout,
                                                "seed": seed}, stories_per_shard)


def write_corpus(path: str | Path, rows: list[dict], tokenizer: dict, config: dict,
                 stories_per_shard: int = 10) -> Path:
    """Rows (the corpus schema) -> shards/shard-NNNNN/ `datasets` dirs + meta.json naming
    `tokenizer` ({kind, name, frame_rate, vocab_size, checksum, path}) and `config`."""
    import datasets

    datasets.disable_progress_bars()
    path = Path(path)
    features = datasets.Features({
        "story_id": datasets.Value("string"), "sentence_idx": datasets.Value("int32"),
        "lang": datasets.Value("string"), "voice": datasets.Value("string"),
        "text": datasets.Value("string"), "units": datasets.Sequence(datasets.Value("int16")),
        "split": datasets.Value("string")})
    story_ids = list(dict.fromkeys(r["story_id"] for r in rows))
    shard_of = {sid: i // stories_per_shard for i, sid in enumerate(story_ids)}
    n_shards = max(shard_of.values()) + 1
    for k in range(n_shards):
        shard_rows = [r for r in rows if shard_of[r["story_id"]] == k]
        datasets.Dataset.from_list(shard_rows, features=features).save_to_disk(
            str(path / "shards" / f"shard-{k:05d}"))
    meta = {"tokenizer": tokenizer, "config": config, "counts": {"shards": n_shards}}
    (path / "meta.json").write_text(json.dumps(meta, indent=1))
    return path
