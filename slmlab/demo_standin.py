"""A throwaway demo checkpoint built in seconds, for tests and benchmarks of the app.

`make_demo_checkpoint(out)` speaks a handful of aligned EN/FR sentences with espeak-ng, trains
a small built-in tokenizer on them (64 units by default), builds the `tiny` model preset over
that vocabulary and trains it for a few steps on the sentences, then writes what a real
checkpoint dir holds for the demo:

    out/config.json, model.safetensors   (transformers save_pretrained)
    out/slmlab.json                      (vocab, tokenizer path, stage, trained_on)
    out/tokenizer/                       (the built-in tokenizer)
    out/reference/aligned.jsonl          (the sentence pairs with their units: the map's set)

It is not a model of anything; it exercises every code path of the app with real components.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

# aligned sentence pairs of the embedded world's style (used when slmlab.world is unavailable)
PAIRS = [
    ("The little cat finds a red ball in the garden.", "Le petit chat trouve une balle rouge dans le jardin."),
    ("Tom goes to the beach with his dog.", "Tom va à la plage avec son chien."),
    ("The girl eats a green apple in the kitchen.", "La fille mange une pomme verte dans la cuisine."),
    ("It is snowing and the children build a snowman.", "Il neige et les enfants font un bonhomme de neige."),
    ("The farmer feeds the cows in the morning.", "Le fermier nourrit les vaches le matin."),
    ("A big rocket flies to the moon.", "Une grande fusée vole vers la lune."),
    ("Anna reads a book at school.", "Anna lit un livre à l'école."),
    ("The old man walks in the forest.", "Le vieil homme marche dans la forêt."),
]


def sentence_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """n aligned (en, fr) sentences: from slmlab.world stories if importable, else PAIRS."""
    try:
        from slmlab.world import generate_stories

        out = []
        for s in generate_stories(max(1, n // 3 + 1), seed=seed, split="train"):
            out += list(zip(s.sentences["en"], s.sentences["fr"]))
        if len(out) >= n:
            return out[:n]
    except Exception:  # world not built (yet): the fixed pairs are enough for a stand-in
        pass
    return [PAIRS[i % len(PAIRS)] for i in range(n)]


def make_demo_checkpoint(out: str | Path, n_units: int = 64, n_pairs: int = 8,
                         train_steps: int = 5, seed: int = 0) -> Path:
    """Write a stand-in checkpoint dir (see the module docstring) and return its path."""
    from slmlab.interleave import Vocab
    from slmlab.model import build_model
    from slmlab.speech import synthesize, voices
    from slmlab.tokenizers.units import train_builtin

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = sentence_pairs(n_pairs, seed)
    wavs = {lang: [synthesize(p[k], voices(lang, "train")[i % 4]) for i, p in enumerate(pairs)]
            for k, lang in enumerate(("en", "fr"))}
    tok = train_builtin(wavs["en"] + wavs["fr"], n_units=n_units, seed=seed, iters=5)
    tok.save(out / "tokenizer")
    units = {lang: [tok.encode_np(w).astype(int).tolist() for w in wavs[lang]] for lang in wavs}
    rows = [{"pair_id": i, "en_text": en, "fr_text": fr, "en": units["en"][i], "fr": units["fr"][i]}
            for i, (en, fr) in enumerate(pairs)]
    (out / "reference").mkdir(exist_ok=True)
    (out / "reference" / "aligned.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    vocab = Vocab(n_units)
    torch.manual_seed(seed)
    model = build_model("tiny", vocab)
    seqs = [[vocab.bos, *u] for lang in units for u in units[lang]]
    _train_few_steps(model, seqs, train_steps, pad=vocab.eos)
    model.eval().save_pretrained(str(out))
    info = {"vocab": vocab.to_dict(), "tokenizer": {"kind": "builtin", "name": tok.name,
                                                    "path": "tokenizer", "checksum": tok.checksum()},
            "stage": "standin", "tokens_seen": int(train_steps * sum(map(len, seqs))), "step": train_steps,
            "seed": seed, "trained_on": f"stand-in: tiny model, {train_steps} steps on {len(seqs)} "
                                        "espeak-ng sentences (tests only)"}
    (out / "slmlab.json").write_text(json.dumps(info, indent=2) + "\n")
    return out


def _train_few_steps(model: torch.nn.Module, seqs: list[list[int]], steps: int, pad: int) -> None:
    """Full-batch AdamW on the padded sequences (labels -100 on padding)."""
    if steps <= 0:
        return
    longest = max(map(len, seqs))
    ids = torch.full((len(seqs), longest), pad, dtype=torch.long)
    labels = torch.full_like(ids, -100)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.as_tensor(s)
        labels[i, :len(s)] = torch.as_tensor(s)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def _main() -> None:  # python -m slmlab.demo_standin OUT
    import sys

    print(make_demo_checkpoint(sys.argv[1] if len(sys.argv) > 1 else "runs/demo-standin"))


if __name__ == "__main__":
    _main()
