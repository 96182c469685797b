"""`slmlab quickstart`: the whole pipeline on the embedded offline world, at CPU size.

stories -> speech -> built-in tokenizer -> corpus (+ eval set) -> stage 1 (EN) -> arms at a
matched budget (EN+FR mixed baseline vs. interleaving + bilingual fine-tuning, the paper's
method) -> evaluation (cloze in 4 language conditions, minimal pairs) -> probing (alignment gap
per layer) -> results table + figures. Everything lands under one run directory; the time of
each stage goes to `timings.json` (benchmarks/bench_quickstart.py prints it).

Target: at most 10 minutes on a 2-core CPU with the defaults.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from slmlab.config import ConfigError, check_positive, runs_dir, to_dict


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
    seed: int = 0  # stories, voices, model init
    workers: int = 0  # corpus processes (0: one per core)
    progress: bool = True  # progress bars on a terminal

    def __post_init__(self) -> None:
        self.out = Path(self.out) if str(self.out) else runs_dir() / "quickstart"
        for name in ("n_stories", "eval_items", "n_units", "budget_tokens", "context",
                     "batch_size", "lr"):
            check_positive(name, getattr(self, name))
        if self.n_units < 16:
            raise ConfigError(f"n_units must be at least 16; got {self.n_units}")


class Timer:
    """Wall time per named stage, printed as it goes and saved as JSON."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        print(f"quickstart: {name} ...", flush=True)
        t0 = time.time()
        yield
        self.seconds[name] = round(time.time() - t0, 1)
        print(f"quickstart: {name} done in {self.seconds[name]:.1f} s", flush=True)


def run_quickstart(cfg: QuickstartConfig) -> dict:
    """Run every stage; returns {'results': ..., 'timings': ..., 'out': ...}."""
    from slmlab.corpus import CorpusConfig, build_corpus
    from slmlab.experiment import ExperimentConfig, run_experiment

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "quickstart.json").write_text(json.dumps(to_dict(cfg), indent=1))
    timer = Timer()
    with timer.stage("corpus (stories, speech, tokenizer, units, eval set)"):
        corpus = build_corpus(CorpusConfig(
            out=str(out / "corpus"), n_stories=cfg.n_stories, eval_items=cfg.eval_items,
            tokenizer=cfg.tokenizer, n_units=cfg.n_units, seed=cfg.seed, workers=cfg.workers,
            progress=cfg.progress,
            aligned_pairs=200))
    with timer.stage("training + evaluation + probing of the arms"):
        exp = ExperimentConfig(
            corpus=corpus, out=out / "experiment", budget_tokens=cfg.budget_tokens,
            preset="tiny", seeds=(cfg.seed,), arms=cfg.arms, context=cfg.context,
            probe_limit=200, progress=cfg.progress,
            train=dict(batch_size=cfg.batch_size, lr=cfg.lr, warmup=20, log_every=25,
                       device="cpu", compile="off"))
        results = run_experiment(exp)
    timer.seconds["total"] = round(sum(timer.seconds.values()), 1)
    (out / "timings.json").write_text(json.dumps(timer.seconds, indent=1))
    return {"results": results, "timings": timer.seconds, "out": out}


def report(run: dict) -> str:
    """What the user sees at the end: the table, the timings and where everything is."""
    out = Path(run["out"])
    exp = out / "experiment"
    table = (exp / "results.md").read_text()
    figures = sorted(p.name for p in exp.glob("*.html"))
    times = ", ".join(f"{k} {v:.0f} s" for k, v in run["timings"].items())
    return (f"{table}\nTimes: {times}\n"
            f"Figures (open in a browser): {', '.join(str(exp / f) for f in figures)}\n"
            f"Corpus: {out / 'corpus'}  Checkpoints: {exp}\n")
