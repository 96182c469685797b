"""`slmlab quickstart`: the whole pipeline on the embedded offline world, at CPU size.

stories -> speech -> built-in tokenizer -> corpus (+ eval set) -> stage 1 (EN) -> arms at a
matched budget (EN+FR mixed baseline vs. interleaving + bilingual fine-tuning, the paper's
method) -> evaluation (cloze in 4 language conditions, minimal pairs) -> probing (alignment gap
per layer) -> results table + figures. Everything lands under one run directory; the time of
each stage goes to `timings.json` (benchmarks/bench_quickstart.py prints it). The sizes and
the stage configs are `slmlab.recipes.quickstart`.

Target: at most 10 minutes on a 2-core CPU with the defaults.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path

from slmlab.config import to_dict
from slmlab.corpus import build_corpus
from slmlab.experiment import run_experiment
from slmlab.recipes import QuickstartConfig, quickstart

__all__ = ["QuickstartConfig", "Timer", "report", "run_quickstart"]


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
    """Run every stage of `recipes.quickstart(cfg)`; returns {'results', 'timings', 'out'}."""
    plan = quickstart(cfg)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "quickstart.json").write_text(json.dumps(to_dict(cfg), indent=1))
    timer = Timer()
    with timer.stage("corpus (stories, speech, tokenizer, units, eval set)"):
        build_corpus(plan.corpus)
    with timer.stage("training + evaluation + probing of the arms"):
        results = run_experiment(plan.steps["experiment"].config())
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
