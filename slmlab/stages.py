"""The paper's three-stage recipe and the experiment arms, as configs derived from configs.

1. `stage1(base)`: English-only pretraining (mode mono, lang en).
2. `stage2(prev)`: cross-lingual interleaving (each sentence FR with p = 0.5), initialised
   from stage 1's final checkpoint.
3. `stage3(prev)`: bilingual fine-tuning without interleaving (whole stories EN or FR).

The paper runs 50k / 20k / 15k steps; `Recipe` splits a total budget (steps or tokens) by
`ratios` (50, 20, 15 by default). Each stage writes `<root>/stage<N>/` under the recipe's
`out` (e.g. runs/<run>/ckpt/stage1/step-N/), and `run_recipe` skips or resumes finished and
interrupted stages, so re-running a killed recipe continues where it stopped.

Arms (`arm_configs`): continuations of one stage-1 checkpoint at a matched budget (that of
stages 2 + 3), for comparing what the second phase's data does: en-only, fr-only, mixed
(EN+FR without interleaving), interleave, interleave+finetune (= stages 2 and 3).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slmlab.config import ConfigError, check_positive
from slmlab.interleave import SequenceConfig
from slmlab.train import TrainConfig, train

STAGES = ("1", "2", "3")
# stage -> (sequence mode, mono language): the one definition stage1..3 and `--stage` share
STAGE_MODES = {"1": ("mono", "en"), "2": ("interleave", "en"), "3": ("mixed", "en")}
# arm name -> phases (mode, lang, share of the matched budget given by stage ratios 2 and 3)
ARMS: dict[str, list[tuple[str, str, str]]] = {
    "en-only": [("mono", "en", "23")],
    "fr-only": [("mono", "fr", "23")],
    "mixed": [("mixed", "en", "23")],
    "interleave": [("interleave", "en", "23")],
    "interleave+finetune": [("interleave", "en", "2"), ("mixed", "en", "3")],
}


def _derive(cfg: TrainConfig, stage: str, out: Path, mode: str, lang: str = "en",
            p: float | None = None, init_from: str | None = None, **budget: Any) -> TrainConfig:
    """A copy of cfg for another phase: new sequence mode, out dir, init and budget."""
    seq = dataclasses.replace(cfg.sequence, mode=mode, lang=lang,
                              p=cfg.sequence.p if p is None else p)
    if budget:  # exactly one of steps / tokens replaces the template's budget
        budget = {"steps": budget.get("steps"), "tokens": budget.get("tokens")}
    return dataclasses.replace(cfg, stage=stage, out=out, sequence=seq, init_from=init_from,
                               stop_after=None, **budget)


def stage1(base: TrainConfig, **budget: Any) -> TrainConfig:
    """English-only pretraining; `base.out` is the recipe root (stage dirs go under it)."""
    return _derive(base, "1", Path(base.out) / "stage1", *STAGE_MODES["1"],
                   init_from=base.init_from, **budget)


def stage2(prev: TrainConfig, p: float = 0.5, **budget: Any) -> TrainConfig:
    """Cross-lingual interleaving with probability p, from stage 1's final checkpoint."""
    return _derive(prev, "2", Path(prev.out).parent / "stage2", STAGE_MODES["2"][0], p=p,
                   init_from=str(prev.out), **budget)


def stage3(prev: TrainConfig, p: float = 0.5, **budget: Any) -> TrainConfig:
    """Bilingual fine-tuning, whole stories in EN or FR (FR with probability p)."""
    return _derive(prev, "3", Path(prev.out).parent / "stage3", STAGE_MODES["3"][0], p=p,
                   init_from=str(prev.out), **budget)


def split_budget(total: int, ratios: tuple[float, ...]) -> list[int]:
    """Integer budgets proportional to ratios, summing to total, each at least 1."""
    if total < len(ratios):
        raise ConfigError(f"a budget of {total} cannot give each of the {len(ratios)} stages "
                          f"at least 1; give at least {len(ratios)}")
    s = float(sum(ratios))
    parts = [max(1, int(total * r / s)) for r in ratios]
    parts[0] += total - sum(parts)  # rounding goes to the longest (first) stage
    return parts


@dataclass
class Recipe:
    """The 3-stage recipe: a template config plus a total budget split by ratios."""

    corpus: str | Path  # corpus dir
    out: str | Path  # recipe root: stage1/, stage2/, stage3/ go under it
    preset: str = "tiny"  # model preset
    total_steps: int | None = None  # total optimizer steps over the three stages
    total_tokens: int | None = None  # or a total token budget
    ratios: tuple[float, float, float] = (50, 20, 15)  # stage budgets, the paper's 50k:20k:15k
    p: float = 0.5  # stage 2's interleaving probability (and stage 3's FR share)
    context: int = 1024  # window length
    seed: int = 0  # model init and data order
    train: dict = field(default_factory=dict)  # other TrainConfig fields (batch_size, lr, ...)

    def __post_init__(self) -> None:
        if (self.total_steps is None) == (self.total_tokens is None):
            raise ConfigError("total_steps/total_tokens: give exactly one budget")
        name = "total_steps" if self.total_steps is not None else "total_tokens"
        total = self.total_steps if self.total_steps is not None else self.total_tokens
        check_positive(name, total)
        if total < 3:
            raise ConfigError(f"{name} must be at least 3 (one per stage); got {total!r}")
        if len(self.ratios) != 3 or any(r <= 0 for r in self.ratios):
            raise ConfigError(f"ratios must be three positive numbers; got {self.ratios!r}")
        self.ratios = tuple(self.ratios)

    def budgets(self) -> list[dict]:
        key = "steps" if self.total_steps else "tokens"
        total = self.total_steps or self.total_tokens
        return [{key: n} for n in split_budget(total, self.ratios)]

    def base(self) -> TrainConfig:
        seq = SequenceConfig(context=self.context, seed=self.seed, p=self.p)
        return TrainConfig(corpus=self.corpus, out=self.out, preset=self.preset, sequence=seq,
                           seed=self.seed, **self.budgets()[0], **self.train)

    def configs(self) -> dict[str, TrainConfig]:
        b1, b2, b3 = self.budgets()
        c1 = stage1(self.base(), **b1)
        c2 = stage2(c1, p=self.p, **b2)
        return {"1": c1, "2": c2, "3": stage3(c2, p=self.p, **b3)}


def run_recipe(recipe: Recipe, only: tuple[str, ...] = STAGES) -> dict[str, Path]:
    """Train the stages in order; returns {stage: final checkpoint dir}."""
    unknown = [s for s in only if s not in STAGES]
    if unknown or not only:
        raise ConfigError(f"only must name stages among {', '.join(STAGES)}; got "
                          f"{','.join(only) or 'nothing'}")
    return {name: train(cfg) for name, cfg in recipe.configs().items() if name in only}


def arm_configs(stage1_cfg: TrainConfig, arm: str, root: str | Path, p: float = 0.5,
                ratios: tuple[float, float, float] = (50, 20, 15), **budget: Any
                ) -> list[TrainConfig]:
    """The phases of one experiment arm after stage 1, at the budget of stages 2 + 3.

    stage1_cfg: stage 1's config (its out dir holds the shared starting checkpoint).
    budget: steps=N or tokens=N for the whole arm; default: stage 1's budget * (r2+r3)/r1.
    Each phase writes `<root>/<arm>/<phase>/`.
    """
    if arm not in ARMS:
        raise ConfigError(f"arm must be one of {', '.join(ARMS)}; got {arm!r}")
    key = "steps" if stage1_cfg.steps is not None else "tokens"
    if budget:
        key = next(iter(budget))
        total = budget[key]
    else:
        total = round(getattr(stage1_cfg, key) * (ratios[1] + ratios[2]) / ratios[0])
    b2, b3 = split_budget(total, (ratios[1], ratios[2]))
    shares = {"23": total, "2": b2, "3": b3}
    configs, init = [], str(stage1_cfg.out)
    for i, (mode, lang, share) in enumerate(ARMS[arm]):
        phase = _derive(stage1_cfg, arm, Path(root) / arm / f"phase{i + 1}", mode, lang, p=p,
                        init_from=init, **{key: shares[share]})
        configs.append(phase)
        init = str(phase.out)
    return configs


def run_arm(stage1_cfg: TrainConfig, arm: str, root: str | Path, **kwargs: Any) -> Path:
    """Train one arm's phases in order; returns its final checkpoint dir."""
    path = None
    for cfg in arm_configs(stage1_cfg, arm, root, **kwargs):
        path = train(cfg)
    return path
