"""Data commands: `slmlab world`, `corpus build|from-audio`, `tokenizer train`, `tokenize`,
`resynth`. Flags come from the config dataclasses (slmlab.cli_args)."""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from slmlab.cli_args import add_config_args, config_kwargs
from slmlab.constants import FRAME_RATE
from slmlab.corpus import (CorpusConfig, build_corpus, build_corpus_from_audio, load_corpus,
                           make_stories, read_manifest, synthesize_parallel,
                           tokenizer_training_rows)
from slmlab.speech import load_audio
from slmlab.tokenizers import load_tokenizer
from slmlab.tokenizers.neural_train import NeuralTrainConfig, train_neural
from slmlab.tokenizers.units import train_builtin
from slmlab.world import (generate_stories, load_parallel, make_benchmark, save_benchmark,
                          save_jsonl, stories_to_dataset)

BENCH_KINDS = ("story", "topic", "lexical", "syntactic")


@dataclass
class WorldArgs:
    """`slmlab world`: generate, preview or ingest stories (no library config: the world is
    a pure function of n and seed)."""

    n: int = 5000  # train stories to write
    heldout: int | None = None  # held-out stories to write (default: --bench-items)
    bench_items: int = 1000  # items per cloze kind and per language for minimal pairs
    seed: int = 0  # world seed
    out: Path | None = None  # output directory
    hf: bool = False  # also save stories as a HF dataset (out/hf)
    preview: int | None = None  # print K stories, EN | FR
    preview_bench: str | None = None  # print 5 benchmark items of a kind: story|topic|lexical|syntactic
    ingest: Path | None = None  # validate a parallel corpus (.jsonl, .csv, HF dir), write stories.jsonl


@dataclass
class AudioArgs:
    """`slmlab tokenize` / `slmlab resynth`: one audio file through a tokenizer."""

    audio: str  # audio file (wav, flac, ogg, ...), any rate, mono or stereo
    tokenizer: str  # built-in tokenizer dir, Mimi weights, or 'mimi'


@dataclass
class BuiltinTokenizerArgs:
    """`slmlab tokenizer train --kind builtin`: what the k-means units are trained on."""

    kind: str = "builtin"  # 'builtin': log-mel k-means; 'neural': speaker-invariant encoder + canonical-voice decoder
    corpus_audio: str | None = None  # a folder of audio files or a JSONL manifest (path)
    stories: int = 200  # synthesize sentences of N generated stories
    sentences: int = 400  # sentences to train on (synthesized)
    frame_rate: float = FRAME_RATE  # unit frames per second


# CorpusConfig field -> the flag names users know (the first is shown in help)
CORPUS_FLAGS = {"n_stories": ("--stories", "--n-stories"),
                "keep_audio_sample": ("--keep-audio", "--keep-audio-sample"),
                "n_units": ("--units", "--n-units")}


def add_cli(sub) -> None:
    _add_world(sub)
    _add_corpus(sub)
    _add_tokenizer(sub)
    p = sub.add_parser("tokenize", help="print the units of an audio file")
    _add_audio(p)
    p.set_defaults(func=_tokenize)
    p = sub.add_parser("resynth", help="audio -> units -> audio, to hear what the units keep")
    _add_audio(p)
    p.add_argument("-o", "--output", required=True, help="output wav (24 kHz)")
    p.set_defaults(func=_resynth)


def _add_audio(p) -> None:
    p.add_argument("audio", help="audio file (wav, flac, ogg, ...), any rate, mono or stereo")
    add_config_args(p, AudioArgs, only=("tokenizer",))


def _add_world(sub) -> None:
    p = sub.add_parser("world", help="generate aligned EN/FR stories and benchmark items",
                       description=WORLD_USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(p, WorldArgs, flags={"preview": ("--preview",), "ingest": ("--ingest",)})
    p.set_defaults(func=_world)


def _add_corpus(sub) -> None:
    p = sub.add_parser("corpus", help="build the speech-unit corpus (HF dataset + eval set)")
    csub = p.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)
    b = csub.add_parser("build", help="stories -> speech -> units, sharded and resumable")
    add_config_args(b, CorpusConfig, flags=CORPUS_FLAGS, required=("out",))
    b.set_defaults(func=_corpus_build)
    a = csub.add_parser("from-audio", help="tokenize your own audio (JSONL manifest) into a corpus")
    a.add_argument("manifest", help="JSONL: story_id, sentence_idx, lang, path, text per line")
    add_config_args(a, CorpusConfig, only=("out", "tokenizer", "progress"), required=("out",))
    a.set_defaults(func=_corpus_from_audio)


def _add_tokenizer(sub) -> None:
    p = sub.add_parser("tokenizer", help="train a tokenizer (built-in k-means or neural)")
    tsub = p.add_subparsers(dest="tokenizer_command", metavar="ACTION", required=True)
    t = tsub.add_parser("train", help="train units: k-means over log-mel, or the neural encoder")
    add_config_args(t, NeuralTrainConfig, only=("out", "units", "seed", "workers"))
    add_config_args(t, BuiltinTokenizerArgs, only=("kind", "sentences", "frame_rate"))
    src = t.add_mutually_exclusive_group()
    add_config_args(t, BuiltinTokenizerArgs, only=("corpus_audio", "stories"), group=src)
    n = t.add_argument_group("neural (--kind neural)")
    add_config_args(t, NeuralTrainConfig, skip=("out", "units", "seed", "workers"), group=n)
    t.set_defaults(func=_tokenizer_train)


def _corpus_build(args) -> int:
    out = build_corpus(CorpusConfig(**config_kwargs(CorpusConfig, args)))
    print(summary(out, load_corpus(out)[1]))
    return 0


def summary(out, meta: dict) -> str:
    c, b, t = meta["counts"], meta["build"], meta["tokenizer"]
    ev = meta.get("eval") or {}
    lines = [f"corpus: {out}",
             f"  rows {c['rows']} ({', '.join(f'{k} {v}' for k, v in c['rows_by_split'].items())}), "
             f"{meta['hours']:.2f} h of audio, {c['units']} units",
             f"  tokenizer {t['name']} ({t['checksum']}) at {t['path']}",
             f"  built in {b.get('total_s', 0):.1f} s ({b.get('units_per_s', 0):.0f} units/s, "
             f"{b.get('shards_built', 0)} of {c['shards']} shards this run)"]
    if ev:
        lines.append(f"  eval: {ev.get('cloze', 0)} cloze rows, {ev.get('pairs', 0)} pairs, "
                     f"{ev.get('aligned', 0)} aligned pairs in {Path(out) / 'eval'}")
    return "\n".join(lines)


def _corpus_from_audio(args) -> int:
    out = build_corpus_from_audio(args.manifest, args.tokenizer, args.out,
                                  progress=args.progress)
    print(summary(out, load_corpus(out)[1]))
    return 0


def _tokenizer_train(args) -> int:
    if args.kind == "neural":
        train_neural(NeuralTrainConfig(**config_kwargs(NeuralTrainConfig, args)))
        return 0
    if args.kind != "builtin":
        raise ValueError(f"--kind must be builtin or neural; got {args.kind!r}")

    t0 = time.time()
    wavs = _training_audio(args)
    tok = train_builtin(wavs, n_units=args.units, frame_rate=args.frame_rate, seed=args.seed,
                        progress=sys.stderr.isatty())
    tok.save(args.out)
    secs = sum(len(w) for w in wavs) / 24000
    print(f"tokenizer {tok.name} ({tok.checksum()}) trained on {len(wavs)} clips "
          f"({secs / 60:.1f} min of audio) in {time.time() - t0:.1f} s -> {args.out}")
    return 0


def _training_audio(args) -> list:
    if args.corpus_audio:
        src = Path(args.corpus_audio)
        if src.is_file() and src.suffix == ".jsonl":
            paths = [e["path"] for e in read_manifest(src)]
        elif src.is_dir():
            paths = sorted(str(p) for p in src.rglob("*")
                           if p.suffix.lower() in (".wav", ".flac", ".ogg", ".mp3"))
        else:
            raise FileNotFoundError(f"--corpus-audio {src}: give a folder of audio files or a "
                                    "JSONL manifest")
        if not paths:
            raise ValueError(f"no audio files (wav, flac, ogg, mp3) under {src}")
        return [load_audio(p) for p in paths]

    cfg = CorpusConfig(out="-", n_stories=args.stories, heldout_fraction=0.0, seed=args.seed,
                       tokenizer_sentences=args.sentences, workers=args.workers)
    return synthesize_parallel(tokenizer_training_rows(cfg, make_stories(cfg)), cfg)


def _load(args):
    wav = load_audio(args.audio)  # AudioError (a ValueError): one line, exit 2
    return wav, load_tokenizer(args.tokenizer)


def _tokenize(args) -> int:
    wav, tok = _load(args)
    print(" ".join(str(int(u)) for u in tok.encode_np(wav)))
    return 0


def _resynth(args) -> int:
    wav, tok = _load(args)
    units = torch.as_tensor(tok.encode_np(wav).astype("int64"))[None]
    audio = tok.decode(units)[0].detach().cpu().float().numpy()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    import soundfile as sf  # here, not at the top: train/experiment need no audio library

    sf.write(out, audio, tok.sample_rate)
    print(f"{args.audio}: {units.shape[1]} units ({tok.name}) -> {out} "
          f"({len(audio) / tok.sample_rate:.2f} s)")
    return 0


WORLD_USAGE = """`slmlab world`: generate stories + benchmark, preview them, or ingest a real corpus.

    slmlab world --n 5000 --seed 0 --out runs/demo/world     # stories.jsonl + bench.jsonl
    slmlab world --preview 3                                 # EN | FR side by side
    slmlab world --preview-bench story                       # story|topic|lexical|syntactic
    slmlab world --ingest corpus.csv --out runs/real/world   # validate + convert
"""


def side_by_side(left: str, right: str, width: int = 58) -> str:
    a, b = textwrap.wrap(left, width) or [""], textwrap.wrap(right, width) or [""]
    a += [""] * (len(b) - len(a))
    b += [""] * (len(a) - len(b))
    return "\n".join(f"  {x:<{width}} | {y}" for x, y in zip(a, b))


def format_story(story, langs=("en", "fr")) -> str:
    head = f"[{story.story_id}] topic={story.topic} split={story.split}"
    rows = [side_by_side(*(story.sentences[lang][i] for lang in langs))
            for i in range(len(story.sentences[langs[0]]))]
    return "\n".join([head] + rows)


def format_item(item) -> str:
    if item.kind in ("story", "topic"):
        lines = [f"[{item.item_id}] {item.kind} cloze, topic={item.topic}, tests: {item.fact}, "
                 f"pair {item.pair_id} (its twin has the endings swapped)"]
        lines += [side_by_side(e, f) for e, f in zip(item.context["en"], item.context["fr"])]
        lines.append(side_by_side("RIGHT: " + item.right["en"], "RIGHT: " + item.right["fr"]))
        lines.append(side_by_side("WRONG: " + item.wrong["en"], "WRONG: " + item.wrong["fr"]))
        return "\n".join(lines)
    return f"[{item.item_id}] {item.lang}  good: {item.good}\n{'':{len(item.item_id) + 6}}bad:  {item.bad}"


def _world(args) -> int:
    if args.preview:
        print("\n\n".join(format_story(s) for s in generate_stories(args.preview, args.seed)))
        return 0
    if args.preview_bench:
        if args.preview_bench not in BENCH_KINDS:
            raise ValueError(f"--preview-bench must be one of {', '.join(BENCH_KINDS)}; got "
                             f"{args.preview_bench!r}")
        bench = make_benchmark(6, args.seed)  # three counterbalanced pairs
        attr = {"story": "story_cloze", "topic": "topic_cloze"}.get(args.preview_bench,
                                                                     args.preview_bench)
        print("\n\n".join(format_item(x) for x in getattr(bench, attr)))
        return 0
    if args.out is None:
        raise ValueError("--out DIR is required to write stories (or use --preview K)")
    out = Path(args.out)
    if args.ingest:
        stories = load_parallel(args.ingest)
        save_jsonl(stories, out / "stories.jsonl")
        print(f"ingested {len(stories)} stories -> {out / 'stories.jsonl'}")
    else:
        held = args.bench_items if args.heldout is None else args.heldout
        stories = (generate_stories(args.n, args.seed, "train")
                   + generate_stories(held, args.seed, "heldout"))
        save_jsonl(stories, out / "stories.jsonl")
        bench = make_benchmark(args.bench_items, args.seed)
        save_benchmark(bench, out / "bench.jsonl")
        print(f"{args.n} train + {held} heldout stories -> {out / 'stories.jsonl'}; "
              f"{len(bench.items())} benchmark items -> {out / 'bench.jsonl'}")
    if args.hf:
        stories_to_dataset(stories).save_to_disk(str(out / "hf"))
        print(f"HF dataset -> {out / 'hf'}")
    return 0
