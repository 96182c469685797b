"""Speech + built-in tokenizer: throughput (x real time) and how phonetic the units are.

    python benchmarks/bench_speech.py --out runs/bench_speech.json            # throughput
    python benchmarks/bench_speech.py --pnmi --out runs/bench_pnmi.json       # unit quality

Throughput: synthesis (espeak-ng, 24 kHz) + built-in tokenization (2048 units, 12.5 Hz) of
sentences, with 1 and 2 worker processes; prints seconds of audio per wall second.
Unit quality: tokenizers trained on sentences spoken by train voices, scored on other
sentences spoken by held-out voices against espeak-ng phone labels (PNMI, purity, unit->phone
accuracy; see slmlab.speech.phones).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slmlab.speech import synthesize, voice_for_story, voices  # noqa: E402
from slmlab.speech.phones import (labelled_utterance, phone_purity, pnmi,  # noqa: E402
                                  shuffled, unit_phone_accuracy)
from slmlab.tokenizers import BuiltinTokenizer, load_tokenizer, train_builtin  # noqa: E402

_EN = (["the little cat", "a brave girl", "the old dog", "my brother", "the tall farmer",
        "a small bird", "the happy baker", "her sister"],
       ["finds", "paints", "carries", "watches", "loses", "opens", "cleans", "sells"],
       ["a red box", "the green door", "a heavy basket", "the blue boat", "an old map",
        "the yellow kite", "a warm blanket", "the wooden chair"],
       ["in the garden", "near the river", "at the market", "under the bridge",
        "in the kitchen", "behind the school", "on the hill", "by the sea"])
_FR = (["le petit chat", "une fille courageuse", "le vieux chien", "mon frère",
        "le grand fermier", "un petit oiseau", "le boulanger joyeux", "sa sœur"],
       ["trouve", "peint", "porte", "regarde", "perd", "ouvre", "nettoie", "vend"],
       ["une boîte rouge", "la porte verte", "un panier lourd", "le bateau bleu",
        "une vieille carte", "le cerf-volant jaune", "une couverture chaude",
        "la chaise en bois"],
       ["dans le jardin", "près de la rivière", "au marché", "sous le pont", "dans la cuisine",
        "derrière l'école", "sur la colline", "au bord de la mer"])


def sentences(n: int, seed: int) -> list[tuple[str, str]]:
    """n (lang, text) pairs, half EN half FR, from the world generator when it exists."""
    try:
        from slmlab.world import generate_stories

        out = []
        for s in generate_stories(max(1, n // 8), seed=seed, split="train"):
            for lang in ("en", "fr"):
                out += [(lang, t) for t in s.sentences[lang]]
        if len(out) >= n:
            return random.Random(seed).sample(out, n)
    except ImportError:
        pass
    rng, out = random.Random(seed), []
    combos = list(itertools.product(range(8), repeat=4))
    for i in range(n):
        lang, parts = ("en", _EN) if i % 2 == 0 else ("fr", _FR)
        a, b, c, d = rng.choice(combos)
        out.append((lang, f"{parts[0][a]} {parts[1][b]} {parts[2][c]} {parts[3][d]}.".capitalize()))
    return out


# -- throughput --------------------------------------------------------------------------
_TOK: BuiltinTokenizer | None = None


def _init_worker(tok_dir: str) -> None:
    global _TOK
    torch.set_num_threads(1)  # one core per process: processes are the parallelism
    _TOK = load_tokenizer(tok_dir)


def _work(item: tuple[int, str, str]) -> tuple[float, float, float, float]:
    """-> (audio seconds, synthesis seconds, tokenization seconds, CPU seconds used)."""
    i, lang, text = item
    c0, t0 = time.process_time(), time.perf_counter()
    wav = synthesize(text, voice_for_story(f"s{i}", lang))
    t1 = time.perf_counter()
    _TOK.encode_np(wav)
    return len(wav) / 24000, t1 - t0, time.perf_counter() - t1, time.process_time() - c0


def throughput(tok_dir: str, items, procs: int) -> dict:
    t0 = time.perf_counter()
    if procs == 1:
        _init_worker(tok_dir)
        res = [_work(it) for it in items]
    else:
        with mp.get_context("fork").Pool(procs, _init_worker, (tok_dir,)) as pool:
            res = pool.map(_work, items, chunksize=16)
    wall = time.perf_counter() - t0
    audio = sum(r[0] for r in res)
    return {"procs": procs, "sentences": len(items), "audio_s": round(audio, 1),
            "wall_s": round(wall, 2), "x_realtime": round(audio / wall, 1),
            "synth_x_realtime_per_proc": round(audio / sum(r[1] for r in res), 1),
            "tokenize_x_realtime_per_proc": round(audio / sum(r[2] for r in res), 1),
            # audio per CPU second: what one free core gives, whatever else runs here
            "x_realtime_per_cpu_s": round(audio / sum(r[3] for r in res), 1),
            "load_avg_1min": round(os.getloadavg()[0], 2)}


def run_throughput(args) -> dict:
    tok_dir = Path(args.workdir) / "tok-2048"
    if not (tok_dir / "tokenizer.json").exists():
        wavs = [synthesize(t, voice_for_story(f"t{i}", lang))
                for i, (lang, t) in enumerate(sentences(args.train_sentences, seed=1))]
        train_builtin(wavs, n_units=2048, seed=0, iters=args.iters).save(tok_dir)
    items = [(i, lang, t) for i, (lang, t) in enumerate(sentences(args.sentences, seed=2))]
    out = {"cpu_count": os.cpu_count(), "runs": []}
    for procs in (1, 2):
        r = throughput(str(tok_dir), items, procs)
        print(f"{procs} process(es): {r['x_realtime']}x real time "
              f"({r['audio_s']} s of audio in {r['wall_s']} s; {r['x_realtime_per_cpu_s']}x per "
              f"CPU second; load average {r['load_avg_1min']})", flush=True)
        out["runs"].append(r)
    return out


# -- unit quality ------------------------------------------------------------------------
def _labelled(pairs, split: str, hop: int, seed: int):
    wavs, labels = [], []
    for i, (lang, text) in enumerate(pairs):
        wav, lab = labelled_utterance(text, voice_for_story(f"{split}{seed}-{i}", lang, split), hop)
        wavs.append(wav)
        labels.append(lab)
    return wavs, labels


def run_pnmi(args) -> dict:
    train_pairs = sentences(args.train_sentences, seed=1)
    test_pairs = sentences(args.test_sentences, seed=99)
    rows = []
    grid = [tuple(float(x) if i == 0 else int(x) for i, x in enumerate(g.split(":")))
            for g in args.grid.split(",")]  # "12.5:2048:1" = frame rate, units, context
    for frame_rate in sorted({g[0] for g in grid}):
        hop = int(24000 / frame_rate)
        tr_w, tr_l = _labelled(train_pairs, "train", hop, 0)
        te_w, te_l = _labelled(test_pairs, "test", hop, 0)
        tr_l, te_l = sum(tr_l, []), sum(te_l, [])
        for n_units, context in [(g[1], bool(g[2])) for g in grid if g[0] == frame_rate]:
            t0 = time.perf_counter()
            tok = train_builtin(tr_w, n_units=n_units, frame_rate=frame_rate, seed=0,
                                iters=args.iters, context=context)
            train_s = time.perf_counter() - t0
            tr_u = np.concatenate([tok.encode_np(w) for w in tr_w])
            te_u = np.concatenate([tok.encode_np(w) for w in te_w])
            row = {"frame_rate": frame_rate, "n_units": n_units, "context": context,
                   "train_frames": len(tr_u), "test_frames": len(te_u),
                   "pnmi": round(pnmi(te_u, te_l), 4),
                   "pnmi_chance": round(pnmi(te_u, shuffled(te_l)), 4),
                   "purity": round(phone_purity(te_u, te_l), 4),
                   "purity_chance": round(phone_purity(te_u, shuffled(te_l)), 4),
                   "unit_phone_acc": round(unit_phone_accuracy(tr_u, tr_l, te_u, te_l), 4),
                   "units_used_test": int(len(set(te_u.tolist()))),
                   "train_s": round(train_s, 1)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return {"train_sentences": len(train_pairs), "test_sentences": len(test_pairs),
            "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pnmi", action="store_true", help="measure unit quality, not speed")
    ap.add_argument("--sentences", type=int, default=600, help="sentences for throughput")
    ap.add_argument("--train-sentences", type=int, default=3000)
    ap.add_argument("--test-sentences", type=int, default=600)
    ap.add_argument("--grid", default="12.5:512:1,12.5:1024:1,12.5:2048:1,12.5:2048:0,"
                    "25:512:1,25:1024:1,25:2048:1",
                    help="settings to compare: frame_rate:n_units:context, comma-separated")
    ap.add_argument("--iters", type=int, default=10, help="k-means iterations")
    ap.add_argument("--workdir", default="runs/bench_speech")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    res = run_pnmi(args) if args.pnmi else run_throughput(args)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
