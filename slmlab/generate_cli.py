"""`slmlab generate`: continue a spoken prompt (audio file, or text spoken by espeak-ng)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="continue a speech prompt and write a wav",
                       description="Encode the prompt to units, sample a continuation "
                       "(temperature, top-k), decode to 24 kHz audio.")
    p.add_argument("--ckpt", required=True, help="checkpoint dir (or a run dir with `latest`)")
    p.add_argument("--tokenizer", default=None,
                   help="tokenizer dir / Mimi path (default: the one recorded in the checkpoint)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", help="prompt audio file (wav/flac/...)")
    src.add_argument("--text", help="prompt text, spoken with a held-out espeak-ng voice")
    p.add_argument("--lang", default="en", choices=("en", "fr"), help="language of --text")
    p.add_argument("-o", "--output", default="continuation.wav", help="output wav")
    p.add_argument("--seconds", type=float, default=5.0, help="length of the continuation")
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    p.add_argument("--top-k", type=int, default=50, help="0 = no top-k")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--only-new", action="store_true",
                   help="write the continuation only (default: prompt + continuation)")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")
    p.set_defaults(func=run)


def _tokenizer_path(args: argparse.Namespace, info: dict) -> str:
    if args.tokenizer:
        return args.tokenizer
    path = (info.get("tokenizer") or {}).get("path") if isinstance(info.get("tokenizer"), dict) else None
    if not path:
        raise ValueError("the checkpoint does not record its tokenizer path: pass --tokenizer DIR")
    return path


def _prompt(args: argparse.Namespace):
    if args.prompt:
        from slmlab.speech import load_audio

        return load_audio(args.prompt)
    from slmlab.speech import synthesize, voices

    return synthesize(args.text, voices(args.lang, "test")[0])


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from slmlab.evaluate import default_device, vocab_n_units
    from slmlab.generate import continue_speech, write_wav
    from slmlab.model import load_checkpoint
    from slmlab.tokenizers import load_tokenizer

    model, info = load_checkpoint(args.ckpt, device=args.device or default_device())
    tok = load_tokenizer(_tokenizer_path(args, info))
    wav = _prompt(args)
    prompt, new, audio = continue_speech(model, tok, wav, seconds=args.seconds,
                                         temperature=args.temperature, top_k=args.top_k or None,
                                         seed=args.seed, n_units=vocab_n_units(info, model))
    out = audio if args.only_new else np.concatenate([wav, audio])
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    write_wav(args.output, out)
    print(f"prompt {len(prompt)} frames, continuation {len(new)} frames "
          f"({len(audio) / tok.sample_rate:.2f} s) -> {args.output}")
    return 0
