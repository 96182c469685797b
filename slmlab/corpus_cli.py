"""CLI for the units stage: `slmlab corpus build`, `slmlab tokenizer train`, `slmlab tokenize`,
`slmlab resynth`. Heavy imports live inside the handlers so `slmlab --help` stays fast."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from slmlab.constants import FRAME_RATE, LANGS, N_UNITS


def add_cli(sub) -> None:
    _add_corpus(sub)
    _add_tokenizer(sub)
    p = sub.add_parser("tokenize", help="print the units of an audio file")
    p.add_argument("audio", help="audio file (wav, flac, ogg, ...), any rate, mono or stereo")
    p.add_argument("--tokenizer", required=True, help="built-in tokenizer dir, Mimi weights, or 'mimi'")
    p.set_defaults(func=_tokenize)
    p = sub.add_parser("resynth", help="audio -> units -> audio, to hear what the units keep")
    p.add_argument("audio", help="audio file to resynthesize")
    p.add_argument("-o", "--output", required=True, help="output wav (24 kHz)")
    p.add_argument("--tokenizer", required=True, help="built-in tokenizer dir, Mimi weights, or 'mimi'")
    p.set_defaults(func=_resynth)


def _add_corpus(sub) -> None:
    p = sub.add_parser("corpus", help="build the speech-unit corpus (HF dataset + eval set)")
    csub = p.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)
    b = csub.add_parser("build", help="stories -> speech -> units, sharded and resumable")
    b.add_argument("--out", required=True, help="corpus directory (rerun to resume)")
    b.add_argument("--stories", type=int, default=1500, help="train stories (default 1500)")
    b.add_argument("--heldout-fraction", type=float, default=0.1,
                   help="held-out stories as a fraction of --stories (default 0.1)")
    b.add_argument("--langs", default=",".join(LANGS), help="comma-separated (default en,fr)")
    b.add_argument("--tokenizer", default="neural",
                   help="'neural' (the shipped speaker-invariant tokenizer), 'builtin' (k-means "
                        "trained on this corpus), a tokenizer dir, Mimi weights, or 'mimi'")
    b.add_argument("--workers", type=int, default=0, help="CPU processes (default: all cores)")
    b.add_argument("--shard-size", type=int, default=50, help="stories per shard (default 50)")
    b.add_argument("--eval-items", type=int, default=1000, help="benchmark items per kind (0: none)")
    b.add_argument("--aligned-pairs", type=int, default=300, help="EN/FR pairs for probing")
    b.add_argument("--keep-audio", type=int, default=8, help="sentences kept as wavs in samples/")
    b.add_argument("--units", type=int, default=N_UNITS, help="built-in tokenizer: units")
    b.add_argument("--frame-rate", type=float, default=FRAME_RATE, help="built-in: frames/s")
    b.add_argument("--tokenizer-sentences", type=int, default=400,
                   help="built-in: sentences of corpus audio to train it on")
    b.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--no-progress", action="store_true", help="no progress bars")
    b.set_defaults(func=_corpus_build)
    a = csub.add_parser("from-audio", help="tokenize your own audio (JSONL manifest) into a corpus")
    a.add_argument("manifest", help="JSONL: story_id, sentence_idx, lang, path, text per line")
    a.add_argument("--out", required=True)
    a.add_argument("--tokenizer", required=True)
    a.add_argument("--no-progress", action="store_true")
    a.set_defaults(func=_corpus_from_audio)


def _add_tokenizer(sub) -> None:
    p = sub.add_parser("tokenizer", help="train the built-in tokenizer")
    tsub = p.add_subparsers(dest="tokenizer_command", metavar="ACTION", required=True)
    t = tsub.add_parser("train", help="k-means units over log-mel features")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--corpus-audio", help="a folder of audio files or a JSONL manifest (path)")
    src.add_argument("--stories", type=int, default=200,
                     help="synthesize sentences of N generated stories (default 200)")
    t.add_argument("--sentences", type=int, default=400, help="sentences to train on (synthesized)")
    t.add_argument("--units", type=int, default=N_UNITS)
    t.add_argument("--frame-rate", type=float, default=FRAME_RATE)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--workers", type=int, default=0, help="synthesis processes (default: all cores)")
    t.add_argument("--out", required=True, help="directory for the tokenizer")
    t.add_argument("--kind", choices=("builtin", "neural"), default="builtin",
                   help="'builtin': log-mel k-means; 'neural': the speaker-invariant encoder "
                        "with a canonical-voice decoder (GPU, or tiny on CPU)")
    n = t.add_argument_group("neural (--kind neural; defaults: slmlab.tokenizers.neural_train)")
    for name in ("utterances", "canonical", "eval-sentences", "width", "dim", "batch"):
        n.add_argument(f"--{name}", type=int)
    for name in ("seconds", "decoder-seconds"):
        n.add_argument(f"--{name}", type=float, help="training time per encoder / decoder")
    n.add_argument("--objectives", help="comma-separated encoders to compare (phones, "
                   "phones-perturb, spin, phones-perturb-spin)")
    n.add_argument("--device", help="auto | cpu | cuda")
    n.add_argument("--init", help="a saved neural tokenizer to fine-tune from")
    n.add_argument("--lr", type=float, help="peak learning rate")
    t.set_defaults(func=_tokenizer_train)


def _corpus_build(args) -> int:
    from slmlab.corpus import CorpusConfig, build_corpus, load_corpus

    cfg = CorpusConfig(out=args.out, n_stories=args.stories,
                       heldout_fraction=args.heldout_fraction,
                       langs=tuple(x.strip() for x in args.langs.split(",") if x.strip()),
                       tokenizer=args.tokenizer, workers=args.workers, shard_size=args.shard_size,
                       keep_audio_sample=args.keep_audio, seed=args.seed, device=args.device,
                       eval_items=args.eval_items, aligned_pairs=args.aligned_pairs,
                       tokenizer_sentences=args.tokenizer_sentences, n_units=args.units,
                       frame_rate=args.frame_rate, progress=not args.no_progress)
    out = build_corpus(cfg)
    _, meta = load_corpus(out)
    print(summary(out, meta))
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
    from slmlab.corpus import load_corpus
    from slmlab.corpus_audio import build_corpus_from_audio

    out = build_corpus_from_audio(args.manifest, args.tokenizer, args.out,
                                  progress=not args.no_progress)
    print(summary(out, load_corpus(out)[1]))
    return 0


def _tokenizer_train(args) -> int:
    if args.kind == "neural":
        from slmlab.tokenizers.neural_train import run_cli

        return run_cli(args)
    from slmlab.tokenizers.units import train_builtin

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
    from slmlab.speech import load_audio

    if args.corpus_audio:
        src = Path(args.corpus_audio)
        if src.is_file() and src.suffix == ".jsonl":
            from slmlab.corpus_audio import read_manifest

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
    from slmlab.corpus import CorpusConfig, _parallel_synth, make_stories, tokenizer_training_rows

    cfg = CorpusConfig(out="-", n_stories=args.stories, heldout_fraction=0.0, seed=args.seed,
                       tokenizer_sentences=args.sentences, workers=args.workers)
    return _parallel_synth(tokenizer_training_rows(cfg, make_stories(cfg)), cfg)


def _load(args):
    from slmlab.speech import load_audio
    from slmlab.tokenizers.base import load_tokenizer

    wav = load_audio(args.audio)  # AudioError (a ValueError): one line, exit 2
    return wav, load_tokenizer(args.tokenizer)


def _tokenize(args) -> int:
    wav, tok = _load(args)
    units = tok.encode_np(wav)
    print(" ".join(str(int(u)) for u in units))
    return 0


def _resynth(args) -> int:
    import soundfile as sf
    import torch

    wav, tok = _load(args)
    units = torch.as_tensor(tok.encode_np(wav).astype("int64"))[None]
    audio = tok.decode(units)[0].detach().cpu().float().numpy()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, audio, tok.sample_rate)
    print(f"{args.audio}: {units.shape[1]} units ({tok.name}) -> {out} "
          f"({len(audio) / tok.sample_rate:.2f} s)")
    return 0


if __name__ == "__main__":
    from slmlab.cli import main

    raise SystemExit(main(["corpus", *sys.argv[1:]]))
