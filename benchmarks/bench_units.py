"""Units benchmark: do the units follow the words, not the voice? -> JSON + a table row.

    python benchmarks/bench_units.py [--tokenizer neural] [--sentences 40] [--out results/units]

On held-out world sentences (EN and FR), each spoken by two voices of TRAINING families and two
of HELD-OUT families (espeak-ng variants never used to train the tokenizer), and in English by
two voices of the held-out ENGINES (flite / festival, when installed):
- PNMI against espeak-ng's frame-centre phones on held-out voices (with the shuffled-phone
  chance level), and unit->phone accuracy (map learnt on training-family voices, scored on
  held-out voices and other sentences);
- cross-voice unit edit distance (Levenshtein on run-length-deduplicated units / longer
  length): same sentence, training vs held-out family (and espeak vs held-out engine), against
  the floor (different sentences, same pairing of voices);
- round trip: units of a held-out voice -> decoder (canonical voice) -> encoder -> distance;
- perturbed copies (pitch, formant, tempo, noise) of held-out-voice utterances -> distance;
- encoding speed on this CPU (seconds of audio per second, 1 thread and all threads).

The language-model check (issue 12): `--lm-corpus DIR --lm-checkpoint DIR` scores a trained
checkpoint's mean NLL per unit on the corpus's held-out stories, re-synthesised with training
voices and with held-out voices and encoded with the corpus's own tokenizer
(`lm_check(corpus, checkpoint, n_stories)`); target: held-out / training voices <= 1.15.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slmlab.constants import SAMPLE_RATE  # noqa: E402
from slmlab.speech.phones import pnmi, shuffled, unit_edit_distance, unit_phone_accuracy  # noqa: E402
from slmlab.speech.tts import engine_voices  # noqa: E402
from slmlab.tokenizers import load_tokenizer  # noqa: E402
from slmlab.tokenizers.neural_data import (eval_item, engine_item, run_parallel,  # noqa: E402
                                           sentences)

TARGETS = {"edit_same_max": 0.5, "edit_floor_min": 0.9, "pnmi_min": 0.85, "roundtrip_max": 0.3,
           "lm_ratio_max": 1.15}


def eval_set(n: int, seed: int = 0, workers: int = 0) -> list:
    """n held-out sentences x (2 training-family + 2 held-out-family voices) + EN engines."""
    tasks, eng = [], []
    engines = engine_voices()
    for i, (lang, text) in enumerate(sentences(n, "heldout", seed)):
        tasks += [(10_000 * seed + 97 * i + j, i, lang, text, split)
                  for j, split in enumerate(("train", "train", "heldout", "heldout"))]
        if lang == "en" and engines:
            eng += [(i, text, engines[(i + k) % len(engines)]) for k in range(2)]
    utts = run_parallel(eval_item, tasks, workers)
    return utts + run_parallel(engine_item, eng, workers)


def _pairs(by: dict, keys: list, a_split: str, b_split: str, lang: str | None) -> dict:
    same, floor = [], []
    for i, s in enumerate(keys):
        nxt = keys[(i + 1) % len(keys)]
        for a in by.get((s, a_split), []):
            same += [unit_edit_distance(a, b) for b in by.get((s, b_split), [])]
            floor += [unit_edit_distance(a, b) for b in by.get((nxt, b_split), [])[:1]]
    return {"same": round(float(np.mean(same)), 4) if same else None,
            "floor": round(float(np.mean(floor)), 4) if floor else None, "pairs": len(same)}


def cross_voice(utts: list, units: list) -> dict:
    """Edit distances per language: train-family vs held-out family; EN espeak vs engine."""
    out = {}
    for lang in ("en", "fr"):
        by: dict = {}
        for u, un in zip(utts, units):
            if u.lang == lang:
                by.setdefault((u.sentence, u.split), []).append(un)
        keys = sorted({s for s, _ in by})
        out[f"{lang}_train_vs_heldout"] = _pairs(by, keys, "train", "heldout", lang)
        out[f"{lang}_train_vs_train"] = _pairs(by, keys, "train", "train", lang)
        if lang == "en" and any(u.split == "engine" for u in utts):
            eng_keys = sorted({s for s, sp in by if sp == "engine"})
            out["en_espeak_vs_engine"] = _pairs(by, eng_keys, "train", "engine", lang)
    return out


def phone_figures(utts: list, units: list) -> dict:
    def frames(split):
        pairs = [(int(x), p) for u, un in zip(utts, units) if u.split == split and u.phones
                 for x, p in zip(un, u.phones)]
        return [a for a, _ in pairs], [b for _, b in pairs]

    hu, hp = frames("heldout")
    tu, tp = frames("train")
    return {"pnmi_heldout": round(pnmi(hu, hp), 4), "pnmi_chance": round(pnmi(hu, shuffled(hp)), 4),
            "unit_phone_acc": round(unit_phone_accuracy(tu, tp, hu, hp), 4),
            "frames": len(hu)}


def round_trip(tok, utts: list, units: list, n: int = 24) -> dict:
    """encode(decode(u)) vs u for held-out-voice utterances."""
    if not hasattr(tok, "decode"):
        return {}
    d = []
    picks = [i for i, u in enumerate(utts) if u.split == "heldout"][:n]
    for i in picks:
        u = torch.as_tensor(units[i], dtype=torch.long)[None]
        back = tok.encode_np(tok.decode(u)[0].numpy())
        d.append(unit_edit_distance(units[i], back))
    return {"roundtrip_edit": round(float(np.mean(d)), 4), "roundtrip_utterances": len(d)}


PERTURBATIONS = {"pitch_x1.4": dict(pitch=1.4), "formant_x1.15": dict(formant=1.15),
                 "pitch_x0.8_formant_x0.9": dict(pitch=0.8, formant=0.9),
                 "tempo_x1.12": dict(speed=1.12), "noise_60dB": dict(snr_db=60.0),
                 "noise_30dB": dict(snr_db=30.0)}


def perturbed_copies(tok, utts: list, units: list, n: int = 16) -> dict:
    """Edit distance between an utterance's units and those of a perturbed copy of it."""
    from slmlab.speech.perturb import Perturbation, perturb

    picks = [i for i, u in enumerate(utts) if u.split == "heldout"][:n]
    return {name: round(float(np.mean([unit_edit_distance(
        units[i], tok.encode_np(perturb(utts[i].wav, Perturbation(**kw), seed=i)))
        for i in picks])), 4) for name, kw in PERTURBATIONS.items()}


def encode_speed(tok, seconds: float = 30.0) -> dict:
    wav = np.random.default_rng(0).standard_normal(int(seconds * SAMPLE_RATE)).astype(np.float32)
    out = {}
    for threads in (1, os.cpu_count() or 1):
        torch.set_num_threads(threads)
        tok.encode_np(wav[:SAMPLE_RATE])
        t0 = time.perf_counter()
        tok.encode_np(wav)
        out[f"x_realtime_{threads}_threads"] = round(seconds / (time.perf_counter() - t0), 1)
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)  # other work on the machine meanwhile
    return out


def bench(tokenizer: str, n: int, seed: int = 0, workers: int = 0) -> dict:
    tok = load_tokenizer(tokenizer)
    t0 = time.time()
    utts = eval_set(n, seed, workers)
    units = [tok.encode_np(u.wav).astype(np.int64) for u in utts]
    res = {"tokenizer": tokenizer, "name": tok.name, "checksum": tok.checksum(),
           "sentences": n, "utterances": len(utts),
           "engines": sorted({u.voice for u in utts if u.split == "engine"}),
           **phone_figures(utts, units), "edit": cross_voice(utts, units),
           **round_trip(tok, utts, units), "perturbed": perturbed_copies(tok, utts, units),
           **encode_speed(tok)}
    res["seconds"] = round(time.time() - t0, 1)
    return res


# -- the language-model check ---------------------------------------------------------------
@torch.no_grad()
def story_nll(model, vocab, stories_units: list[list[np.ndarray]], device="cpu") -> float:
    """Mean NLL per predicted unit of BOS s1 .. sn EOS sequences (the training layout)."""
    tot, cnt = 0.0, 0
    for sents in stories_units:
        ids = [vocab.bos] + [int(x) for s in sents for x in s] + [vocab.eos]
        x = torch.tensor(ids, device=device)[None]
        logits = model(x).logits[0, :-1].float()
        tot += float(torch.nn.functional.cross_entropy(logits, x[0, 1:], reduction="sum"))
        cnt += x.shape[1] - 1
    return tot / max(1, cnt)


def lm_check(corpus: str, checkpoint: str, n_stories: int = 60, lang: str = "en",
             device: str = "cpu") -> dict:
    """NLL on held-out stories of `corpus`, spoken by training voices vs held-out voices."""
    from slmlab.interleave import Vocab, load_corpus_dir
    from slmlab.model import load_checkpoint
    from slmlab.speech.tts import synthesize, voice_for_story

    ds, meta = load_corpus_dir(corpus)
    tok = load_tokenizer(meta["tokenizer"]["path"])
    model, info = load_checkpoint(checkpoint, device=device)
    vocab = Vocab(int(info["vocab"]["n_units"]))
    rows = [r for r in ds if r["split"] == "heldout" and r["lang"] == lang]
    stories: dict = {}
    for r in rows:
        stories.setdefault(r["story_id"], []).append(r)
    ids = sorted(stories)[:n_stories]
    out = {}
    for split in ("train", "test"):
        units = []
        for sid in ids:
            v = voice_for_story(sid, lang, split)
            sents = sorted(stories[sid], key=lambda r: r["sentence_idx"])
            units.append([tok.encode_np(synthesize(r["text"], v)) for r in sents])
        out[f"nll_heldout_stories_{'training' if split == 'train' else 'heldout'}_voices"] = \
            round(story_nll(model, vocab, units, device), 4)
    out["ratio"] = round(out["nll_heldout_stories_heldout_voices"]
                         / out["nll_heldout_stories_training_voices"], 4)
    out.update(stories=len(ids), lang=lang, corpus=str(corpus), checkpoint=str(checkpoint))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tokenizer", default="neural", help="'neural' (shipped), a dir, or 'mimi'")
    p.add_argument("--sentences", type=int, default=40, help="held-out sentences (EN+FR)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "results" / "units"))
    p.add_argument("--tag", default="", help="file name stem (default: the tokenizer's name)")
    p.add_argument("--lm-corpus", help="LM check: a corpus dir built with the tokenizer")
    p.add_argument("--lm-checkpoint", help="LM check: a stage-1 checkpoint trained on it")
    p.add_argument("--lm-stories", type=int, default=60)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    stamp = {"command": "python " + " ".join([Path(sys.argv[0]).name] + (argv or sys.argv[1:])),
             "device": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores",
             "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "targets": TARGETS}
    if args.lm_corpus or args.lm_checkpoint:
        if not (args.lm_corpus and args.lm_checkpoint):
            print("error: the LM check needs both --lm-corpus and --lm-checkpoint", file=sys.stderr)
            return 2
        res = {**stamp, "lm": lm_check(args.lm_corpus, args.lm_checkpoint, args.lm_stories,
                                       device=args.device)}
        tag = args.tag or "lm-check"
    else:
        res = {**stamp, **bench(args.tokenizer, args.sentences, args.seed, args.workers)}
        tag = args.tag or res["name"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{tag}.json").write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
