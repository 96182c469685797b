"""Training commands: `slmlab train` (one run), `slmlab stages` (the 3-stage recipe),
`slmlab experiment` (arms x seeds at matched budgets), `slmlab quickstart` and
`slmlab recipe NAME` (a whole named run of slmlab.recipes).

Flags come from TrainConfig, SequenceConfig, Recipe, ExperimentConfig, QuickstartConfig and
RecipeArgs (slmlab.cli_args), so each default lives in its dataclass. Several GPUs:
`torchrun --nproc_per_node=N -m slmlab train|stages [flags]`. A run whose --out already holds
a checkpoint resumes from it (same data order).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

from slmlab import experiment, quickstart
from slmlab.checkpoint import latest_checkpoint
from slmlab.cli_args import add_config_args, config_kwargs
from slmlab.config import check_choice
from slmlab.experiment import ExperimentConfig, markdown, run_experiment
from slmlab.interleave import SequenceConfig
from slmlab.parallel import from_legacy
from slmlab.quickstart import report, run_quickstart
from slmlab.recipes import RECIPES, QuickstartConfig, run_plan
from slmlab.stages import STAGE_MODES, Recipe, run_recipe
from slmlab.train import TrainConfig, train

# TrainConfig fields that the recipes set themselves (per stage / arm), not from flags
_RECIPE_SET = ("corpus", "out", "preset", "seed", "steps", "tokens", "stage", "init_from",
               "stop_after", "eval_at", "heldout_split")
_SEQUENCE_FLAGS = ("mode", "lang", "p", "context")


def _budget(p: argparse.ArgumentParser, steps: str, tokens: str, cls: type) -> None:
    """--steps / --tokens, exactly one (TrainConfig and Recipe name them differently)."""
    g = p.add_mutually_exclusive_group(required=True)
    add_config_args(p, cls, only=(steps,), flags={steps: ("--steps",)}, group=g)
    add_config_args(p, cls, only=(tokens,), flags={tokens: ("--tokens",)}, group=g)


def _train_flags(p: argparse.ArgumentParser, skip=()) -> None:
    """The TrainConfig flags shared by train, stages and experiment (+ the old --fsdp)."""
    # parallel: None unless given, so the old --fsdp can decide (see _parallel)
    add_config_args(p, TrainConfig, skip=(*_RECIPE_SET, *skip), unset=("parallel",))
    p.add_argument("--fsdp", choices=("auto", "on", "off"), help=argparse.SUPPRESS)  # old name


def _parallel(args: argparse.Namespace) -> str:
    """--parallel, else the old --fsdp on|off|auto mapped onto it (auto when neither)."""
    return args.parallel if args.parallel is not None else from_legacy(args.fsdp)


def _train_dict(args: argparse.Namespace) -> dict:
    """The TrainConfig fields a recipe passes through (`train=`), from the flags."""
    kw = config_kwargs(TrainConfig, args, skip=(*_RECIPE_SET, "sequence"))
    return {**kw, "parallel": _parallel(args)}


def run_train(args: argparse.Namespace) -> int:
    check_choice("stage", args.stage, (*STAGE_MODES, "custom"))  # arm names are the recipes'
    mode, lang = STAGE_MODES.get(args.stage, ("interleave", "en"))
    seq = SequenceConfig(**{**config_kwargs(SequenceConfig, args),
                            "mode": args.mode or mode, "lang": args.lang or lang})
    cfg = TrainConfig(**{**config_kwargs(TrainConfig, args), **_train_dict(args)}, sequence=seq)
    if args.resume and latest_checkpoint(cfg.out) is None:
        raise FileNotFoundError(f"--resume: no checkpoint in {cfg.out}; drop --resume to start")
    path = train(cfg)
    if os.environ.get("RANK", "0") == "0":
        print(f"checkpoint: {path}")
    return 0


def run_stages(args: argparse.Namespace) -> int:
    recipe = Recipe(**config_kwargs(Recipe, args), train=_train_dict(args))
    for stage, path in run_recipe(recipe, only=args.only).items():
        if os.environ.get("RANK", "0") == "0":
            print(f"stage {stage}: {path}")
    return 0


def run_experiment_cli(args: argparse.Namespace) -> int:
    cfg = ExperimentConfig(**config_kwargs(ExperimentConfig, args), train=_train_dict(args))
    results = run_experiment(cfg)
    print(markdown(results))
    print(f"results: {Path(cfg.out) / 'results.md'}")
    return 0


def run_quickstart_cli(args: argparse.Namespace) -> int:
    print(report(run_quickstart(QuickstartConfig(**config_kwargs(QuickstartConfig, args)))))
    return 0


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train one stage / arm (resumes an existing --out)",
                       description="Train a speech LM on a corpus. An --out that holds a "
                                   "checkpoint is resumed with the same data order.")
    add_config_args(p, TrainConfig, only=("corpus", "out", "preset", "seed", "init_from",
                                          "stop_after", "stage"))
    add_config_args(p, SequenceConfig, only=_SEQUENCE_FLAGS, unset=("mode", "lang"),
                    helps={"mode": "mono | mixed | interleave | alternate | spans (default: "
                                   "set by --stage)",
                           "lang": "language of mode mono: en | fr (default: set by --stage)"})
    _budget(p, "steps", "tokens", TrainConfig)
    _train_flags(p)
    p.add_argument("--resume", action="store_true", help="require a checkpoint to resume")
    p.set_defaults(func=run_train)


def _add_stages(sub) -> None:
    p = sub.add_parser("stages", help="the 3-stage recipe: EN-only, interleave, bilingual FT",
                       description="Run stages 1-3 under --out/stage{1,2,3}; re-running "
                                   "resumes or skips finished stages.")
    add_config_args(p, Recipe, skip=("total_steps", "total_tokens"))
    _budget(p, "total_steps", "total_tokens", Recipe)
    _train_flags(p)
    p.add_argument("--only", nargs="+", default=("1", "2", "3"),
                   type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
                   action=_Flatten, help="stages to run, e.g. 2,3 (default 1,2,3)")
    p.set_defaults(func=run_stages)


class _Flatten(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, tuple(v for chunk in values for v in chunk))


def _add_experiment(sub) -> None:
    p = sub.add_parser("experiment", help="train arms at matched budgets, evaluate, table + plots",
                       description=experiment.__doc__.split("\n\n")[1])
    add_config_args(p, ExperimentConfig, flags={"eval_dir": ("--eval", "--eval-dir")})
    _train_flags(p, skip=("progress",))  # ExperimentConfig has its own progress
    p.set_defaults(func=run_experiment_cli)


def _add_quickstart(sub) -> None:
    p = sub.add_parser("quickstart", help="the whole pipeline on the offline world (CPU, ~10 min)",
                       description=quickstart.__doc__.split("\n\n")[1])
    add_config_args(p, QuickstartConfig, flags={"n_stories": ("--stories", "--n-stories"),
                                                "n_units": ("--units", "--n-units")})
    p.set_defaults(func=run_quickstart_cli)


@dataclass
class RecipeArgs:
    """`slmlab recipe NAME`: run (or show) one of slmlab.recipes' whole runs."""

    out: str | None = None  # run directory (default: the recipe's own, e.g. runs/gpu)
    only: tuple[str, ...] | None = None  # steps to run (default: all; the corpus is always built)
    show: bool = False  # print the plan's configs as JSON and stop


def run_recipe_cli(args: argparse.Namespace) -> int:
    plan = RECIPES[args.recipe](args.out)
    if args.show:
        print(json.dumps(plan.to_dict(), indent=1))
        return 0
    for step in run_plan(plan, only=args.only):
        print(f"{plan.name}: {step} done")
    return 0


def _add_recipe(sub) -> None:
    p = sub.add_parser("recipe", help="a whole named run: " + ", ".join(RECIPES),
                       description="Run one of the named whole runs of slmlab.recipes (corpus, "
                                   "then its training steps; everything resumes).")
    p.add_argument("recipe", choices=tuple(RECIPES), help="which run")
    add_config_args(p, RecipeArgs, flags={"show": ("--print", "--show")})
    p.set_defaults(func=run_recipe_cli)


def add_cli(sub) -> None:
    _add_train(sub)
    _add_stages(sub)
    _add_experiment(sub)
    _add_quickstart(sub)
    _add_recipe(sub)
