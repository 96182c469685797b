"""`slmlab train` (one run) and `slmlab stages` (the 3-stage recipe).

Several GPUs: `torchrun --nproc_per_node=N -m slmlab.train_cli [train flags]` or
`torchrun --nproc_per_node=N -m slmlab.train_cli stages [stages flags]`.
A run whose --out already holds a checkpoint resumes from it (same data order).
"""

from __future__ import annotations

import argparse
import os
import sys

STAGE_MODES = {"1": ("mono", "en"), "2": ("interleave", "en"), "3": ("mixed", "en")}


def _budget(p: argparse.ArgumentParser, what: str) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--steps", type=int, help=f"{what} in optimizer steps")
    g.add_argument("--tokens", type=float, help=f"{what} in training tokens (e.g. 2e8)")


def _tokens(args: argparse.Namespace) -> int:
    """--tokens as a whole number (it is parsed as a float so 2e8 works)."""
    from slmlab.config import check_positive

    check_positive("tokens", args.tokens)  # inf / nan / <= 0 end here, not in int()
    return int(args.tokens)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, help="corpus dir (from `slmlab corpus`)")
    p.add_argument("--preset", default="tiny", help="tiny | small | 360m | 1b (default tiny)")
    p.add_argument("--p", type=float, default=0.5, help="probability of French (default 0.5)")
    p.add_argument("--context", type=int, default=1024, help="tokens per window (default 1024)")
    p.add_argument("--batch-size", type=int, default=8, help="windows per micro-batch per GPU")
    p.add_argument("--grad-accum", type=int, default=1, help="micro-batches per step")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--warmup", type=int, default=100, help="warmup steps")
    p.add_argument("--eval-every", type=int, default=0, help="held-out loss every N steps")
    p.add_argument("--eval-batches", type=int, default=4, help="held-out micro-batches")
    p.add_argument("--log-every", type=int, default=10, help="log line every N steps")
    p.add_argument("--save-every", type=int, default=0, help="checkpoint every N steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--dtype", default="auto", help="autocast: auto | bf16 | fp32")
    p.add_argument("--param-dtype", default="fp32", help="weights: fp32 | bf16")
    p.add_argument("--compile", default="auto", help="torch.compile: auto | on | off")
    p.add_argument("--parallel", default=None, choices=("auto", "ddp", "fsdp"),
                   help="with torchrun: auto (fsdp for 1b, else ddp) | ddp | fsdp")
    p.add_argument("--fsdp", choices=("auto", "on", "off"), help=argparse.SUPPRESS)  # old name
    p.add_argument("--activation-checkpointing", action="store_true",
                   help="recompute layers in the backward pass (less memory, ~1/3 more compute)")
    p.add_argument("--progress", action="store_true", help="tqdm progress bar")
    p.add_argument("--allow-change", default="",
                   help="on resume, settings that may differ from the checkpoint's, e.g. "
                        "lr,batch_size (corpus, tokenizer, lr, batch_size, grad_accum)")


def _parallel(args: argparse.Namespace) -> str:
    """--parallel, or the old --fsdp on|off|auto mapped onto it."""
    from slmlab.parallel import from_legacy

    if args.parallel is not None:
        return args.parallel
    return from_legacy(args.fsdp)


def _train_kwargs(args: argparse.Namespace) -> dict:
    return dict(preset=args.preset, batch_size=args.batch_size, grad_accum=args.grad_accum,
                lr=args.lr, warmup=args.warmup, eval_every=args.eval_every,
                eval_batches=args.eval_batches, log_every=args.log_every,
                save_every=args.save_every, seed=args.seed, device=args.device,
                dtype=args.dtype, param_dtype=args.param_dtype, compile=args.compile,
                parallel=_parallel(args), progress=args.progress,
                activation_checkpointing=args.activation_checkpointing,
                allow_change=tuple(s.strip() for s in args.allow_change.split(",") if s.strip()))


def run_train(args: argparse.Namespace) -> int:
    from slmlab.checkpoint import latest_checkpoint
    from slmlab.interleave import SequenceConfig
    from slmlab.train import TrainConfig, train

    mode, lang = STAGE_MODES.get(args.stage, ("interleave", "en"))
    seq = SequenceConfig(mode=args.mode or mode, lang=args.lang or lang, p=args.p,
                         context=args.context, seed=args.seed)
    budget = {"steps": args.steps} if args.steps is not None else {"tokens": _tokens(args)}
    cfg = TrainConfig(corpus=args.corpus, out=args.out, sequence=seq, stage=args.stage,
                      init_from=args.init_from, stop_after=args.stop_after, **budget,
                      **_train_kwargs(args))
    if args.resume and latest_checkpoint(cfg.out) is None:
        raise FileNotFoundError(f"--resume: no checkpoint in {cfg.out}; drop --resume to start")
    path = train(cfg)
    if os.environ.get("RANK", "0") == "0":
        print(f"checkpoint: {path}")
    return 0


def run_stages(args: argparse.Namespace) -> int:
    from slmlab.stages import Recipe, run_recipe

    ratios = tuple(float(r) for r in args.ratios.split(","))
    budget = ({"total_steps": args.steps} if args.steps is not None
              else {"total_tokens": _tokens(args)})
    train_kw = _train_kwargs(args)
    recipe = Recipe(corpus=args.corpus, out=args.out, preset=train_kw.pop("preset"),
                    ratios=ratios, p=args.p, context=args.context, seed=train_kw.pop("seed"),
                    train=train_kw, **budget)
    only = tuple(s.strip() for s in args.only.split(","))
    for stage, path in run_recipe(recipe, only=only).items():
        if os.environ.get("RANK", "0") == "0":
            print(f"stage {stage}: {path}")
    return 0


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train one stage / arm (resumes an existing --out)",
                       description="Train a speech LM on a corpus. An --out that holds a "
                                   "checkpoint is resumed with the same data order.")
    _common(p)
    p.add_argument("--out", required=True, help="run dir (checkpoints, metrics.jsonl, tb/)")
    p.add_argument("--stage", default="custom", choices=("1", "2", "3", "custom"),
                   help="sets the default mode: 1 mono EN, 2 interleave, 3 mixed")
    p.add_argument("--mode", help="mono | mixed | interleave | alternate | spans")
    p.add_argument("--lang", help="language of mode mono: en | fr")
    _budget(p, "budget")
    p.add_argument("--init-from", help="slmlab checkpoint/run dir, or a local text LM dir")
    p.add_argument("--resume", action="store_true", help="require a checkpoint to resume")
    p.add_argument("--stop-after", type=int, help="stop (and save) after N steps this call")
    p.set_defaults(func=run_train)


def _add_stages(sub) -> None:
    p = sub.add_parser("stages", help="the 3-stage recipe: EN-only, interleave, bilingual FT",
                       description="Run stages 1-3 under --out/stage{1,2,3}; re-running "
                                   "resumes or skips finished stages.")
    _common(p)
    p.add_argument("--out", required=True, help="recipe root, e.g. runs/<run>/ckpt")
    _budget(p, "total budget of the three stages")
    p.add_argument("--ratios", default="50,20,15", help="stage budget ratios (default 50,20,15)")
    p.add_argument("--only", default="1,2,3", help="stages to run, e.g. 2,3")
    p.set_defaults(func=run_stages)


def add_cli(subparsers) -> None:
    _add_train(subparsers)
    _add_stages(subparsers)


def main(argv: list[str] | None = None) -> int:
    """`python -m slmlab.train_cli [stages] ...` (torchrun's entry point)."""
    from slmlab.cli import main as slmlab_main

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("train", "stages"):
        argv = ["train", *argv]
    return slmlab_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
