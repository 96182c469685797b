"""Whole runs as named functions: every size of a run in one place, as the stage configs.

A recipe returns a `Plan`: the corpus to build, then named steps (the settings of an
`ExperimentConfig` or of a three-stage `Recipe`, made into configs once the corpus exists:
an experiment checks its eval set at construction) that `run_plan` carries out in order,
each resuming what exists. The CLI
(`slmlab quickstart`, `slmlab recipe NAME`), the notebooks (`notebooks/lab.py`) and the GPU
script (`scripts/gpu_experiment.sh`, whose flags mirror `gpu_reproduction`) start from these:

- `quickstart(cfg)`: the whole pipeline on the offline world at CPU size (~10 min, 2 cores);
- `notebook_world(run_dir, world)`: the small world the six teaching notebooks share;
- `gpu_reproduction(run, ...)`: the paper's comparison on one GPU (arms x seeds; fr-only, p sweep and
  fine-tuning share continuing the first seed's stage 1);
- `demo_model(run, ...)`: the demo's default model (tiny preset, the paper's three stages).

`slmlab recipe NAME --print` shows a plan's configs as JSON without running anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from slmlab.config import ConfigError, check_positive, check_range, runs_dir, to_dict
from slmlab.corpus import META_FILE, CorpusConfig, build_corpus
from slmlab.evaluate import evaluate_checkpoint
from slmlab.experiment import ExperimentConfig, run_experiment
from slmlab.stages import Recipe, run_recipe


STEP_KINDS = {"experiment": ExperimentConfig, "stages": Recipe}


@dataclass
class Step:
    """One training step of a plan: `kind` (experiment | stages) and its config's settings."""

    kind: str
    settings: dict

    def config(self) -> ExperimentConfig | Recipe:
        """The validated config (an experiment needs its corpus's eval set to exist)."""
        return STEP_KINDS[self.kind](**self.settings)


@dataclass
class Plan:
    """A whole run: the corpus, then named steps in order."""

    name: str
    corpus: CorpusConfig
    steps: dict[str, Step] = field(default_factory=dict)
    eval_limit: int | None = None  # a stages step is evaluated on this many items (None: all)

    def to_dict(self) -> dict:
        steps = {k: {"kind": v.kind, **json.loads(json.dumps(v.settings, default=str))}
                 for k, v in self.steps.items()}
        return {"name": self.name, "corpus": to_dict(self.corpus), "eval_limit": self.eval_limit,
                "steps": steps}


# ------------------------------------------------------------------ quickstart


@dataclass
class QuickstartConfig:
    """Sizes of the quickstart run; the defaults fit 10 minutes on 2 CPU cores."""

    out: str | Path = ""  # run directory (default: <runs>/quickstart)
    n_stories: int = 1500  # training stories (held-out ones are added by the corpus)
    eval_items: int = 200  # benchmark items per kind (each in 4 language conditions)
    tokenizer: str = "neural"  # the shipped speaker-invariant tokenizer; 'builtin': k-means here
    n_units: int = 256  # units of a 'builtin' tokenizer trained here (too few stories for 2048)
    budget_tokens: int = 900_000  # training tokens per arm incl. the shared stage 1
    arms: tuple[str, ...] = ("mixed", "interleave+finetune")  # compared at matched budgets
    context: int = 512  # training window
    batch_size: int = 16  # windows per step
    lr: float = 2e-3  # peak learning rate (tiny model)
    warmup: int = 20  # warmup steps (the runs are a few hundred steps)
    aligned_pairs: int = 200  # held-out EN/FR sentence pairs built and probed
    seed: int = 0  # stories, voices, model init
    workers: int = 0  # corpus processes (0: one per core)
    progress: bool = True  # progress bars on a terminal

    def __post_init__(self) -> None:
        self.out = Path(self.out) if str(self.out) else runs_dir() / "quickstart"
        for name in ("n_stories", "eval_items", "n_units", "budget_tokens", "context",
                     "batch_size", "lr", "aligned_pairs"):
            check_positive(name, getattr(self, name))
        if self.n_units < 16:
            raise ConfigError(f"n_units must be at least 16; got {self.n_units}")


def quickstart(cfg: QuickstartConfig | None = None) -> Plan:
    """Corpus + one experiment (stage 1, then the arms) on the CPU, under cfg.out."""
    cfg = cfg or QuickstartConfig()
    out = Path(cfg.out)
    corpus = CorpusConfig(out=str(out / "corpus"), n_stories=cfg.n_stories,
                          eval_items=cfg.eval_items, tokenizer=cfg.tokenizer, n_units=cfg.n_units,
                          seed=cfg.seed, workers=cfg.workers, progress=cfg.progress,
                          aligned_pairs=cfg.aligned_pairs)
    exp = Step("experiment", dict(
        corpus=corpus.out, out=out / "experiment", budget_tokens=cfg.budget_tokens,
        preset="tiny", seeds=(cfg.seed,), arms=cfg.arms, context=cfg.context,
        probe_limit=cfg.aligned_pairs, progress=cfg.progress,
        train=dict(batch_size=cfg.batch_size, lr=cfg.lr, warmup=cfg.warmup, log_every=25,
                   device="cpu", compile="off")))
    return Plan("quickstart", corpus, {"experiment": exp})


# ------------------------------------------------------------------ the notebooks' world


@dataclass
class NotebookWorld:
    """Sizes of the notebooks' shared run (seconds of CPU, not a real experiment)."""

    n_stories: int = 96  # train stories (held-out ones: heldout_fraction of that)
    heldout_fraction: float = 0.25  # held-out stories feed the eval set and the held-out loss
    n_units: int = 256  # built-in tokenizer units (Mimi has 2048; fewer suit a tiny corpus)
    tokenizer_sentences: int = 200  # sentences of corpus audio the tokenizer is trained on
    eval_items: int = 30  # benchmark items per kind (x4 conditions for the cloze tasks)
    aligned_pairs: int = 48  # held-out EN/FR sentence pairs for probing
    preset: str = "tiny"  # model preset
    total_steps: int = 120  # optimizer steps over the three stages (split 50:20:15)
    context: int = 256  # tokens per training window
    batch_size: int = 4  # windows per step
    lr: float = 2e-3  # peak learning rate (tiny models like it high)
    seed: int = 0  # stories, voices, model init
    arms: tuple[str, ...] = ("mixed",)  # baselines trained besides the recipe
    train_extra: dict = field(default_factory=dict)  # other TrainConfig fields

    def __post_init__(self) -> None:
        for name in ("n_stories", "n_units", "tokenizer_sentences", "total_steps", "context",
                     "batch_size", "lr"):
            check_positive(name, getattr(self, name))
        check_range("heldout_fraction", self.heldout_fraction, 0.05, 0.5)
        self.arms = tuple(self.arms)


def notebook_world(run_dir: str | Path, world: NotebookWorld | None = None) -> Plan:
    """The small corpus under run_dir/corpus and the three-stage recipe under run_dir/ckpt.

    One corpus worker: synthesis is fast, and worker processes would compete with the kernel."""
    w = world or NotebookWorld()
    run_dir = Path(run_dir)
    corpus = CorpusConfig(out=str(run_dir / "corpus"), n_stories=w.n_stories,
                          heldout_fraction=w.heldout_fraction, n_units=w.n_units,
                          tokenizer_sentences=w.tokenizer_sentences, eval_items=w.eval_items,
                          aligned_pairs=w.aligned_pairs, workers=1, shard_size=20, seed=w.seed,
                          device="cpu", progress=False)
    train = {"batch_size": w.batch_size, "lr": w.lr, "warmup": 5, "log_every": 5,
             "eval_every": 10, "eval_batches": 2, "device": "cpu", "compile": "off",
             "progress": False, **w.train_extra}
    recipe = Step("stages", dict(corpus=corpus.out, out=str(run_dir / "ckpt"), preset=w.preset,
                                 total_steps=w.total_steps, context=w.context, seed=w.seed,
                                 train=train))
    return Plan("notebook-world", corpus, {"stages": recipe})


# ------------------------------------------------------------------ GPU runs


def _gpu_train(device: str) -> dict:
    """TrainConfig fields of the GPU runs (compiled; batch 32 of 1024-token windows)."""
    return {"batch_size": 32, "lr": 1e-3, "warmup": 100, "log_every": 100, "device": device,
            "compile": "on"}


def _gpu_corpus(run: Path, stories: int, eval_items: int, tokenizer: str,
                workers: int) -> CorpusConfig:
    # shards of 200 stories: each is a fresh worker process, which on a GPU machine starts CUDA
    return CorpusConfig(out=str(run / "corpus"), n_stories=stories, eval_items=eval_items,
                        aligned_pairs=500, tokenizer=tokenizer, workers=workers, shard_size=200,
                        progress=False)


def gpu_reproduction(run: str | Path = "runs/gpu", stories: int = 100_000,
                     budget_tokens: int = 100_000_000, seeds: Iterable[int] = (0, 1, 2),
                     preset: str = "small", device: str = "cuda", eval_items: int = 2400,
                     sweep_p: Iterable[float] = (0.1, 0.3, 0.7, 0.9), tokenizer: str = "neural",
                     workers: int = 0) -> Plan:
    """The paper's comparison on one GPU: four arms x seeds; then, for the first seed and
    continuing its stage 1, fr-only, the French-probability sweep of interleave+finetune and
    the fine-tuning share 30/85 (scripts/gpu_experiment.sh's corpus, exp and extras steps)."""
    run, seeds = Path(run), tuple(seeds)
    corpus = _gpu_corpus(run, stories, eval_items, tokenizer, workers)
    main = run / f"exp-{preset}"

    def exp(out: Path, seeds: tuple[int, ...], arms: tuple[str, ...], **more) -> Step:
        return Step("experiment", dict(
            corpus=corpus.out, out=str(out), budget_tokens=budget_tokens, preset=preset,
            seeds=seeds, arms=arms, context=1024, eval_limit=eval_items, probe_limit=500,
            train=_gpu_train(device), **more))

    extra = dict(stage1_from=str(main))
    steps = {"exp": exp(main, seeds, ("en-only", "mixed", "interleave", "interleave+finetune")),
             "exp-fr": exp(run / f"exp-{preset}-fr", seeds[:1], ("fr-only",), **extra),
             "sweep": exp(run / f"sweep-{preset}", seeds[:1], ("interleave+finetune",),
                          sweep_p=tuple(sweep_p), **extra),
             "ft30": exp(run / f"ft30-{preset}", seeds[:1], ("interleave+finetune",),
                         ratios=(50, 5, 30), **extra)}
    return Plan("gpu-reproduction", corpus, steps)


def demo_model(run: str | Path = "runs/gpu", total_tokens: int = 100_000_000,
               device: str = "cuda", stories: int = 100_000, eval_items: int = 2400,
               tokenizer: str = "neural", workers: int = 0) -> Plan:
    """The demo's default model: the tiny preset through the paper's three stages under
    run/app-ckpt, evaluated on `eval_items` items (scripts/export_model.py then packages
    run/app-ckpt/stage3 for app/model/)."""
    run = Path(run)
    corpus = _gpu_corpus(run, stories, eval_items, tokenizer, workers)
    recipe = Step("stages", dict(corpus=corpus.out, out=str(run / "app-ckpt"), preset="tiny",
                                 total_tokens=total_tokens, context=1024,
                                 train={**_gpu_train(device), "log_every": 200}))
    return Plan("demo-model", corpus, {"stages": recipe}, eval_limit=eval_items)


RECIPES = {"quickstart": lambda out: quickstart(QuickstartConfig(out=out or "")),
           "notebook-world": lambda out: notebook_world(out or runs_dir() / "notebooks"),
           "gpu-reproduction": lambda out: gpu_reproduction(out or "runs/gpu"),
           "demo-model": lambda out: demo_model(out or "runs/gpu")}


# ------------------------------------------------------------------ running a plan


def ensure_corpus(plan: Plan) -> Path:
    """The plan's corpus dir, built (or resumed) when its meta.json is missing."""
    out = Path(plan.corpus.out)
    return out if (out / META_FILE).exists() else build_corpus(plan.corpus)


def run_plan(plan: Plan, only: Iterable[str] | None = None) -> dict[str, Any]:
    """Build the corpus, then run the steps (all, or those named in `only`) in order;
    {step: its results (experiment) or {stage: checkpoint} (stages)}."""
    only = None if only is None else tuple(only)
    unknown = sorted(set(only or ()) - set(plan.steps))
    if unknown:
        raise ConfigError(f"steps of {plan.name}: {', '.join(plan.steps)}; got {unknown}")
    ensure_corpus(plan)
    done: dict[str, Any] = {}
    for name, step in plan.steps.items():
        if only is not None and name not in only:
            continue
        cfg = step.config()
        if isinstance(cfg, ExperimentConfig):
            done[name] = run_experiment(cfg)
        else:
            done[name] = run_recipe(cfg)
            if plan.eval_limit is not None:
                last = done[name][max(done[name])]
                evaluate_checkpoint(last, Path(plan.corpus.out) / "eval", limit=plan.eval_limit)
    return done
