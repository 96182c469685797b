"""A throwaway demo checkpoint built in seconds, for tests and benchmarks of the app.

`make_demo_checkpoint(out)` runs the real pipeline at toy size: a few slmlab.world stories
spoken by espeak-ng voices, a small built-in tokenizer (64 units by default) trained on that
audio, a corpus in slmlab.corpus's format, and `slmlab.train.train()` for a few steps of the
`tiny` preset. It then writes what the demo reads next to the weights:

    out/config.json, model.safetensors, slmlab.json   (the checkpoint train() wrote, + trained_on)
    out/tokenizer/                                    (the built-in tokenizer)
    out/reference/aligned.jsonl                       (aligned sentence pairs: the map's set)

It is not a model of anything; it exercises every code path of the app with real components.

    python tests/standins.py OUT          (used by benchmarks/bench_app.py)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from slmlab.constants import LANGS
from slmlab.interleave import SequenceConfig
from slmlab.speech import synthesize, voices
from slmlab.tokenizers.units import train_builtin
from slmlab.train import TrainConfig, train
from slmlab.world import generate_stories

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: find fakes.py
from fakes import write_corpus  # noqa: E402


def spoken_rows(n_stories: int, split: str, seed: int) -> tuple[list[dict], list[np.ndarray]]:
    """Corpus rows (units empty for now) and their audio, float32 [T] each, one train voice
    per story and language."""
    rows, wavs = [], []
    for k, story in enumerate(generate_stories(n_stories, seed=seed, split=split)):
        for lang in LANGS:
            voice = voices(lang, "train")[k % 4]
            for i, text in enumerate(story.sentences[lang]):
                rows.append({"story_id": story.story_id, "sentence_idx": i, "lang": lang,
                             "voice": voice.name, "text": text, "units": [], "split": split})
                wavs.append(synthesize(text, voice))
    return rows, wavs


def make_demo_checkpoint(out: str | Path, n_units: int = 64, n_stories: int = 3,
                         train_steps: int = 5, seed: int = 0, n_pairs: int | None = None) -> Path:
    """Write a stand-in checkpoint dir (see the module docstring) and return its path.

    n_pairs: aligned pairs in the reference set (default: every sentence of the stories)."""
    out = Path(out)
    work = Path(tempfile.mkdtemp(prefix="standin-"))
    try:
        train_rows, train_wavs = spoken_rows(n_stories, "train", seed)
        held_rows, held_wavs = spoken_rows(1, "heldout", seed)
        rows, wavs = train_rows + held_rows, train_wavs + held_wavs
        tok = train_builtin(wavs, n_units=n_units, seed=seed, iters=5)
        tok.save(work / "corpus" / "tokenizer")
        for r, w in zip(rows, wavs):
            r["units"] = tok.encode_np(w).astype(int).tolist()
        meta_tok = {"kind": "builtin", "name": tok.name, "frame_rate": tok.frame_rate,
                    "vocab_size": tok.vocab_size, "checksum": tok.checksum(), "path": "tokenizer"}
        corpus = write_corpus(work / "corpus", rows, meta_tok, {"standin": True, "seed": seed})
        cfg = TrainConfig(corpus=corpus, out=work / "run", preset="tiny", steps=train_steps,
                          sequence=SequenceConfig(mode="mixed", context=128, seed=seed),
                          batch_size=4, lr=3e-3, warmup=0, log_every=max(1, train_steps),
                          eval_batches=0, seed=seed, device="cpu", compile="off", stage="standin")
        ckpt = train(cfg)
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(ckpt, out, ignore=shutil.ignore_patterns("trainer_state*"))
        shutil.copytree(corpus / "tokenizer", out / "tokenizer")
        _write_reference(out / "reference" / "aligned.jsonl", train_rows, n_pairs)
        info = json.loads((out / "slmlab.json").read_text())
        info["tokenizer"] = {**meta_tok, "path": "tokenizer"}
        info["trained_on"] = (f"stand-in: tiny model, {train_steps} steps of slmlab.train on "
                              f"{n_stories} espeak-ng stories (tests only)")
        (out / "slmlab.json").write_text(json.dumps(info, indent=1) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _write_reference(path: Path, rows: list[dict], n_pairs: int | None) -> None:
    """aligned.jsonl rows {pair_id, en_text, fr_text, en, fr} from the corpus rows."""
    by_key = {(r["story_id"], r["sentence_idx"], r["lang"]): r for r in rows}
    pairs = []
    for (sid, i, lang), en in by_key.items():
        if lang == "en" and (sid, i, "fr") in by_key:
            fr = by_key[(sid, i, "fr")]
            pairs.append({"pair_id": f"{sid}-{i}", "en_text": en["text"], "fr_text": fr["text"],
                          "en": en["units"], "fr": fr["units"]})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs[:n_pairs]))


if __name__ == "__main__":
    print(make_demo_checkpoint(sys.argv[1] if len(sys.argv) > 1 else "runs/demo-standin"))
