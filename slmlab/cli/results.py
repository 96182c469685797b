"""Commands that read a checkpoint: `slmlab evaluate`, `slmlab probe`, `slmlab generate`.

Flags come from the dataclasses below and from slmlab.generate.SamplingConfig (slmlab.cli_args).
Everything a user can get wrong in `generate` (sampling settings, output path, device, prompt
audio or text, tokenizer) is checked before the model is loaded, so a mistake costs
milliseconds and one line.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slmlab.cli_args import add_config_args, config_kwargs
from slmlab.config import check_choice, check_device, check_positive
from slmlab.constants import SAMPLE_RATE
from slmlab.evaluate import (PER_ITEM_KEYS, compare_tasks, default_device, evaluate_checkpoint,
                             markdown_differences, markdown_table, vocab_n_units, write_results)
from slmlab.generate import (MAX_CONTINUATION_SECONDS, MAX_PROMPT_SECONDS, MAX_TEXT_CHARS,
                             SamplingConfig, check_text, continue_speech, write_wav)
from slmlab.model import load_checkpoint, read_info, resolve_checkpoint
from slmlab.probe import probe_checkpoint
from slmlab.speech import load_audio, synthesize, validate, voices
from slmlab.tokenizers import load_tokenizer, recorded_tokenizer


@dataclass
class EvaluateArgs:
    """`slmlab evaluate`: which checkpoint on which items, and how the CIs are drawn."""

    ckpt: str  # checkpoint dir (or a run dir with `latest`)
    eval: str  # eval dir (<corpus>/eval) or the corpus dir
    baseline: str | None = None  # a second checkpoint: also print ckpt - baseline per task (paired bootstrap over the same items)
    out: str | None = None  # results .json path (default: next to ckpt)
    limit: int | None = None  # first N items per condition
    device: str | None = None  # cpu | cuda (default: cuda if available)
    batch_tokens: int | None = None  # tokens per scoring batch (default 65536 on GPU, 8192 on CPU)
    resamples: int = 1000  # bootstrap resamples

    def __post_init__(self) -> None:
        check_positive("resamples", self.resamples)  # before minutes of scoring, not after


@dataclass
class ProbeArgs:
    """`slmlab probe`: alignment per layer, retrieval and a 2-D map of one checkpoint."""

    ckpt: str  # checkpoint dir (or a run dir with `latest`)
    eval: str  # eval dir (<corpus>/eval) or the corpus dir
    out: str  # output dir for probe.json and figures
    method: str = "umap"  # 2-D map method: umap | pca
    layer: int | None = None  # layer of the map (0 = embeddings; default: the largest gap)
    pool: str = "mean"  # frame pooling: mean | last
    limit: int = 500  # first N sentence pairs
    device: str | None = None  # cpu | cuda (default: cuda if available)

    def __post_init__(self) -> None:
        check_choice("method", self.method, ("umap", "pca"))
        check_choice("pool", self.pool, ("mean", "last"))


@dataclass
class GenerateArgs:
    """`slmlab generate`: the prompt, the checkpoint and where the audio goes."""

    ckpt: str  # checkpoint dir (or a run dir with `latest`)
    tokenizer: str | None = None  # tokenizer dir / Mimi path (default: the one recorded in the checkpoint)
    prompt: str | None = None  # prompt audio file (wav/flac/...)
    text: str | None = None  # prompt text, spoken with a held-out espeak-ng voice
    lang: str = "en"  # language of --text: en | fr
    output: str = "continuation.wav"  # output .wav/.flac/.ogg
    only_new: bool = False  # write the continuation only (default: prompt + continuation)
    device: str | None = None  # cpu | cuda | cuda:N (default: cuda if available)


def add_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="StoryCloze/TopicCloze (4 conditions, with no-context and "
                       "mismatched-context controls) + minimal pairs with bootstrap CIs",
                       description="Score a checkpoint on <corpus>/eval; writes "
                       "eval_results.{json,md} next to the checkpoint (or at --out).")
    add_config_args(p, EvaluateArgs)
    p.set_defaults(func=run_evaluate)
    p = sub.add_parser("probe", help="hidden-state alignment of translations per layer + UMAP/PCA map",
                       description="Mean-pooled hidden states of <eval>/aligned.jsonl sentences: "
                       "translation vs. random cosine per layer (the alignment gap), EN<->FR "
                       "retrieval, and a 2-D map. Writes probe.json and HTML figures to --out.")
    add_config_args(p, ProbeArgs)
    p.set_defaults(func=run_probe)
    _add_generate(sub)


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="continue a speech prompt and write a wav",
                       description="Encode the prompt to units, sample a continuation "
                       "(temperature, top-k), decode to 24 kHz audio.")
    add_config_args(p, GenerateArgs, skip=("prompt", "text", "output"))
    src = p.add_mutually_exclusive_group(required=True)
    add_config_args(p, GenerateArgs, only=("prompt", "text"), group=src, helps={
        "prompt": f"prompt audio file (wav/flac/..., up to {MAX_PROMPT_SECONDS:g} s)",
        "text": f"prompt text (up to {MAX_TEXT_CHARS} characters), spoken with a held-out "
                "espeak-ng voice"})
    add_config_args(p, GenerateArgs, only=("output",), flags={"output": ("-o", "--output")})
    add_config_args(p, SamplingConfig, helps={
        "seconds": f"length of the continuation (up to {MAX_CONTINUATION_SECONDS:g})"})
    p.set_defaults(func=run_generate)


def run_evaluate(args: argparse.Namespace) -> int:
    a = EvaluateArgs(**config_kwargs(EvaluateArgs, args))
    kw = dict(limit=a.limit, device=a.device, n_resamples=a.resamples,
              batch_tokens=a.batch_tokens, keep_outcomes=a.baseline is not None)
    res = evaluate_checkpoint(a.ckpt, a.eval, out=a.out, **kw)
    print(markdown_table(_public(res["tasks"])))
    if a.baseline:  # the eval dir again (not the loaded items): its tokenizer is checked
        base = evaluate_checkpoint(a.baseline, a.eval, out=False, **kw)
        name = f"{Path(a.ckpt).name} - {Path(a.baseline).name}"
        res["differences"] = {name: compare_tasks(res["tasks"], base["tasks"],
                                                  n_resamples=a.resamples)}
        res["baseline"] = str(a.baseline)
        print("\nPaired differences (points) [95% CI]:\n")
        print(markdown_differences(res["differences"]))
        res["tasks"] = _public(res["tasks"])
        write_results(res, res["results_file"])
    return 0


def _public(tasks: dict) -> dict:
    """Tasks without their per-item lists (those stay in memory)."""

    return {k: {f: v for f, v in t.items() if f not in PER_ITEM_KEYS} for k, t in tasks.items()}


def run_probe(args: argparse.Namespace) -> int:
    a = ProbeArgs(**config_kwargs(ProbeArgs, args))
    res = probe_checkpoint(a.ckpt, a.eval, out=a.out, method=a.method, layer=a.layer,
                           limit=a.limit, pool=a.pool, device=a.device)
    print("| layer | cos pairs | cos random | gap | gap 95% CI | EN->FR | FR->EN |")
    print("|---:|---:|---:|---:|---|---:|---:|")
    for r in res["layers"]:
        lo, hi = r["gap_ci"]
        print(f"| {r['layer']} | {r['cos_pairs']:.3f} | {r['cos_random']:.3f} | {r['gap']:.3f} | "
              f"[{lo:.3f}, {hi:.3f}] | {100 * r['retrieval_en_fr']:.1f} | "
              f"{100 * r['retrieval_fr_en']:.1f} |")
    print(f"map at layer {res['map_layer']} ({res['method']}) in {a.out}")
    return 0


def output_path(path: str) -> Path:
    """The output file, checked: not a directory, an extension soundfile can write."""

    out = Path(path)
    if out.is_dir():
        raise ValueError(f"-o {out} is a directory; give a file name such as {out / 'out.wav'}")
    import soundfile as sf  # here, not at the top: train/experiment need no audio library

    formats = {k.lower() for k in sf.available_formats()}
    ext = out.suffix.lower().lstrip(".")
    if ext not in formats:
        raise ValueError(f"-o {out}: unknown audio extension {out.suffix or '(none)'}; use "
                         ".wav, .flac or .ogg")
    return out


def tokenizer_path(given: str | None, info: dict, ckpt: Path) -> str:
    """--tokenizer, else the checkpoint's recorded one (slmlab.tokenizers.recorded_tokenizer)."""
    return given or recorded_tokenizer(info, ckpt)


def _prompt(args: argparse.Namespace):
    if args.prompt:

        return load_audio(args.prompt, max_seconds=MAX_PROMPT_SECONDS)

    wav = synthesize(check_text(args.text), voices(args.lang, "test")[0])
    return validate(wav, SAMPLE_RATE, max_seconds=MAX_PROMPT_SECONDS)


def _check_tokenizer(tok, info: dict, path: str) -> None:
    """The tokenizer must be the one the model was trained with (same checksum when known)."""
    want = (info.get("tokenizer") or {}).get("checksum")
    have = tok.checksum() if hasattr(tok, "checksum") else None
    if want and have and want != have:
        raise ValueError(f"tokenizer {path} (checksum {have}) is not the one the checkpoint was "
                         f"trained with ({want}); pass the matching --tokenizer")


def run_generate(args: argparse.Namespace) -> int:
    sampling = SamplingConfig(**config_kwargs(SamplingConfig, args))
    check_choice("lang", args.lang, ("en", "fr"))
    out_path = output_path(args.output)
    device = check_device("--device", args.device)
    ckpt = resolve_checkpoint(args.ckpt)  # a run dir: its newest intact checkpoint
    info = read_info(ckpt)
    tok_path = tokenizer_path(args.tokenizer, info, ckpt)
    wav = _prompt(args)  # audio / text problems end here, before the model loads


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
