"""The committed demo model (app/model/): it loads, continues a spoken prompt, and scores a few
fixed unit sequences exactly as recorded in tests/golden/app_model_scores.json, so a silent
change in loading, scoring or the weights shows.

The golden file is keyed by the weights' checksum. After retraining app/model, regenerate it
with one command:

    .venv/bin/python tests/test_app_model.py --regenerate
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "app" / "model"
GOLDEN = Path(__file__).resolve().parent / "golden" / "app_model_scores.json"
N_PAIRS = 6  # first aligned pairs of app/model/aligned.jsonl


def weights_checksum() -> str:
    return hashlib.sha256((MODEL / "model.safetensors").read_bytes()).hexdigest()[:16]


def scores() -> dict:
    """Mean log-likelihood per token (slmlab.evaluate.token_logprobs) of fixed unit sequences
    from the model's own aligned.jsonl: each EN and FR sentence alone, and a cross-lingual
    cloze (EN sentence i as context; FR sentence i vs FR sentence i+1 as endings)."""
    from slmlab.evaluate import token_logprobs, vocab_n_units
    from slmlab.files import read_jsonl
    from slmlab.model import load_checkpoint

    model, info = load_checkpoint(MODEL)
    bos = vocab_n_units(info, model)
    rows = read_jsonl(MODEL / "aligned.jsonl")[: N_PAIRS + 1]
    seqs, names = [], []
    for i, r in enumerate(rows[:N_PAIRS]):
        nxt = rows[i + 1]
        for name, seq in ((f"{i}:en", r["en"]), (f"{i}:fr", r["fr"]),
                          (f"{i}:cloze-right", r["en"] + r["fr"]),
                          (f"{i}:cloze-wrong", r["en"] + nxt["fr"])):
            names.append(name)
            seqs.append([bos, *seq])
    lps = token_logprobs(model, seqs, progress=False)
    return {n: round(float(lp.mean()), 5) for n, lp in zip(names, lps)}


def regenerate() -> None:
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps({"weights_sha256_16": weights_checksum(), "scores": scores()},
                                 indent=1) + "\n")
    print(f"wrote {GOLDEN}")


def test_committed_model_scores_match_the_golden_file():
    golden = json.loads(GOLDEN.read_text())
    assert golden["weights_sha256_16"] == weights_checksum(), (
        "app/model/model.safetensors changed: if on purpose, regenerate the golden file with "
        "`.venv/bin/python tests/test_app_model.py --regenerate`")
    got = scores()
    assert got.keys() == golden["scores"].keys()
    for name, want in golden["scores"].items():
        assert got[name] == pytest.approx(want, abs=2e-4), name


def test_committed_model_loads_and_continues_a_prompt(tmp_path):
    from app.session import DEFAULT_MODEL_DIR, DemoSession

    assert DEFAULT_MODEL_DIR == MODEL
    s = DemoSession(None, umap=False, cache=tmp_path, reference_pairs=8)  # the default model
    assert s.tokenizer.vocab_size == s.n_units == 2048 and "**Trained on**" in s.card
    wav = s.prompt_from_text("The little cat finds a red ball in the garden.", "en")
    c = s.continue_speech(wav, seconds=2.0, temperature=0.8, top_k=50, seed=0)
    hop = s.tokenizer.hop
    assert len(c.prompt_units) == int(np.ceil(len(wav) / hop))
    assert 0 < len(c.new_units) <= 25 and c.new_units.max() < 2048 and c.new_units.min() >= 0
    assert len(c.audio) == len(c.new_units) * hop and np.isfinite(c.audio).all()
    assert len(c.heard) == len(c.prompt_units) * hop and np.abs(c.heard).max() > 0.01
    again = s.continue_speech(wav, seconds=2.0, temperature=0.8, top_k=50, seed=0)
    assert np.array_equal(again.new_units, c.new_units)  # a seed gives one continuation
    proj = s.project(c.prompt_units, s.default_layer)
    assert proj.xy.shape == (1, 2) and set(proj.nearest) == {"en", "fr"}


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        regenerate()
    else:
        print(__doc__)
