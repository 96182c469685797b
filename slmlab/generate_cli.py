"""`slmlab generate`: continue a spoken prompt (audio file, or text spoken by espeak-ng).

Everything a user can get wrong (sampling settings, output path, device, prompt audio or text,
tokenizer) is checked before the model is loaded, so a mistake costs milliseconds and one line.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_cli(sub: argparse._SubParsersAction) -> None:
    from slmlab.generate import MAX_CONTINUATION_SECONDS, MAX_PROMPT_SECONDS, MAX_TEXT_CHARS

    p = sub.add_parser("generate", help="continue a speech prompt and write a wav",
                       description="Encode the prompt to units, sample a continuation "
                       "(temperature, top-k), decode to 24 kHz audio.")
    p.add_argument("--ckpt", required=True, help="checkpoint dir (or a run dir with `latest`)")
    p.add_argument("--tokenizer", default=None,
                   help="tokenizer dir / Mimi path (default: the one recorded in the checkpoint)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", help=f"prompt audio file (wav/flac/..., up to "
                                      f"{MAX_PROMPT_SECONDS:g} s)")
    src.add_argument("--text", help=f"prompt text (up to {MAX_TEXT_CHARS} characters), spoken "
                                    "with a held-out espeak-ng voice")
    p.add_argument("--lang", default="en", choices=("en", "fr"), help="language of --text")
    p.add_argument("-o", "--output", default="continuation.wav", help="output .wav/.flac/.ogg")
    p.add_argument("--seconds", type=float, default=5.0,
                   help=f"length of the continuation (up to {MAX_CONTINUATION_SECONDS:g})")
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    p.add_argument("--top-k", type=int, default=50, help="0 = no top-k")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--only-new", action="store_true",
                   help="write the continuation only (default: prompt + continuation)")
    p.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cuda if available)")
    p.set_defaults(func=run)


def output_path(path: str) -> Path:
    """The output file, checked: not a directory, an extension soundfile can write."""
    import soundfile as sf

    out = Path(path)
    if out.is_dir():
        raise ValueError(f"-o {out} is a directory; give a file name such as {out / 'out.wav'}")
    formats = {k.lower() for k in sf.available_formats()}
    ext = out.suffix.lower().lstrip(".")
    if ext not in formats:
        raise ValueError(f"-o {out}: unknown audio extension {out.suffix or '(none)'}; use "
                         ".wav, .flac or .ogg")
    return out


def checkpoint_dir(path: str) -> Path:
    """The checkpoint dir to read: the dir itself, or a run dir's newest intact checkpoint."""
    from slmlab import checkpoint as ck

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no checkpoint at {p}")
    if (p / "config.json").exists():
        return p
    found = ck.latest_checkpoint(p, need_state=False)
    if found is None:
        raise FileNotFoundError(f"no checkpoint at {p} (neither config.json nor step-* dirs)")
    return found


def tokenizer_path(given: str | None, info: dict, ckpt: Path) -> str:
    """--tokenizer, else the checkpoint's recorded one; a relative recorded path is resolved
    against the checkpoint dir (where a shipped model keeps it), then the working dir."""
    if given:
        return given
    tok = info.get("tokenizer") if isinstance(info.get("tokenizer"), dict) else {}
    path = tok.get("path")
    if not path:
        raise ValueError("the checkpoint does not record its tokenizer path: pass --tokenizer DIR")
    p = Path(path)
    if p.is_absolute() or path == "mimi":
        return path
    for base in (ckpt, Path.cwd()):
        if (base / p).exists():
            return str(base / p)
    raise FileNotFoundError(f"the checkpoint's tokenizer {path} is neither in {ckpt} nor in "
                            f"{Path.cwd()}; pass --tokenizer DIR")


def _prompt(args: argparse.Namespace):
    from slmlab.constants import SAMPLE_RATE
    from slmlab.generate import MAX_PROMPT_SECONDS, check_text

    if args.prompt:
        from slmlab.speech import load_audio

        return load_audio(args.prompt, max_seconds=MAX_PROMPT_SECONDS)
    from slmlab.speech import synthesize, validate, voices

    wav = synthesize(check_text(args.text), voices(args.lang, "test")[0])
    return validate(wav, SAMPLE_RATE, max_seconds=MAX_PROMPT_SECONDS)


def _check_tokenizer(tok, info: dict, path: str) -> None:
    """The tokenizer must be the one the model was trained with (same checksum when known)."""
    want = (info.get("tokenizer") or {}).get("checksum")
    have = tok.checksum() if hasattr(tok, "checksum") else None
    if want and have and want != have:
        raise ValueError(f"tokenizer {path} (checksum {have}) is not the one the checkpoint was "
                         f"trained with ({want}); pass the matching --tokenizer")


def run(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from slmlab.config import check_device
    from slmlab.generate import SamplingConfig, continue_speech, write_wav

    sampling = SamplingConfig(args.seconds, args.temperature, args.top_k, args.seed)
    out_path = output_path(args.output)
    device = check_device("--device", args.device)
    ckpt = checkpoint_dir(args.ckpt)
    info = json.loads((ckpt / "slmlab.json").read_text()) if (ckpt / "slmlab.json").exists() \
        else {}
    tok_path = tokenizer_path(args.tokenizer, info, ckpt)
    wav = _prompt(args)  # audio / text problems end here, before the model loads

    from slmlab.evaluate import default_device, vocab_n_units
    from slmlab.model import load_checkpoint
    from slmlab.tokenizers import load_tokenizer

    tok = load_tokenizer(tok_path)
    _check_tokenizer(tok, info, tok_path)
    model, info = load_checkpoint(ckpt, device=device or default_device())
    prompt, new, audio = continue_speech(model, tok, wav, seconds=sampling.seconds,
                                         temperature=sampling.temperature,
                                         top_k=sampling.top_k or None, seed=sampling.seed,
                                         n_units=vocab_n_units(info, model))
    out = audio if args.only_new else np.concatenate([wav, audio])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(str(out_path), out)
    print(f"prompt {len(prompt)} frames, continuation {len(new)} frames "
          f"({len(audio) / tok.sample_rate:.2f} s) -> {out_path}")
    return 0
