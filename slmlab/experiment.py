"""`slmlab experiment`: the paper's comparison at matched token budgets, evaluated end to end.

Per seed, one English-only stage-1 run is trained (the recipe's first share of the budget),
then every arm continues from that same checkpoint with the remaining share (stages 2 + 3 of
the recipe, so all arms see the same number of tokens; `slmlab.stages.ARMS`):
en-only, fr-only, mixed (EN+FR, no interleaving), interleave, interleave+finetune (the
paper's method: interleaving, then bilingual fine-tuning). `--sweep-p` adds
interleave+finetune arms at other French probabilities p.

Every final checkpoint is evaluated (cloze with its no-context and mismatched-context
controls, minimal pairs: slmlab.evaluate) and probed (alignment gap and retrieval per layer,
slmlab.probe). Every arm is compared with `mixed` (the EN+FR baseline) on the same items.
Written to --out: `results.json` (per seed, pooled over seeds, and `differences`),
`results.md` (tables), `accuracy.html` (controls drawn on the bars), `gain.html`,
`differences.html`, `alignment.html`, `losses.html`, `sweep_p.html` (with --sweep-p), PNGs
when kaleido exists. Training runs resume: re-running a killed experiment continues where it
stopped.

Pooling over seeds: the items are the same for every seed, so each item's outcome is averaged
over seeds and the CIs bootstrap items (or counterbalanced pairs) of that average; `sd` is
the spread of the per-seed accuracies (seed variance, which the item CI does not include).
Paired differences "<arm> - mixed" average each item over the seeds both arms have (seed s
of an arm continues the same stage 1 as seed s of mixed) and bootstrap the items; the
alignment gap differences do the same over sentence pairs, per layer.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from slmlab import plots
from slmlab.config import ConfigError, check_positive, check_range, to_dict
from slmlab.corpus.eval_set import eval_dir_of
from slmlab.evaluate import (OUTCOME_KEYS, PER_ITEM_KEYS, _ci, _pct, _signed, compare_tasks,
                             evaluate_checkpoint, markdown_differences,
                             paired_difference, task_summary)
from slmlab.checkpoint import latest_checkpoint
from slmlab.files import read_jsonl, write_json_atomic
from slmlab.model import read_info
from slmlab.probe import PAIR_KEYS, pair_cis, probe_checkpoint
from slmlab.stages import ARMS, Recipe, arm_configs
from slmlab.train import finished_run, train

DEFAULT_ARMS = ("en-only", "mixed", "interleave", "interleave+finetune")
METHOD_ARM = "interleave+finetune"


@dataclass
class ExperimentConfig:
    """Arms x seeds at one total token budget per seed (stage 1 + arm)."""

    corpus: str | Path  # corpus dir (its eval/ is the eval set unless eval_dir is given)
    out: str | Path  # experiment dir: seed<N>/{stage1,arms,sweep}/, results.*
    budget_tokens: int  # tokens per seed: stage 1 share + each arm's (matched) share
    preset: str = "tiny"  # model preset
    seeds: tuple[int, ...] = (0,)  # one stage-1 run and one run per arm for each seed
    arms: tuple[str, ...] = DEFAULT_ARMS  # names from slmlab.stages.ARMS; "none": only --sweep-p
    sweep_p: tuple[float, ...] = ()  # extra interleave+finetune arms at these p
    p: float = 0.5  # probability of French in the arms (the paper: 0.5)
    ratios: tuple[float, float, float] = (50, 20, 15)  # stage 1 : stage 2 : stage 3 budgets
    context: int = 1024  # training window length
    eval_dir: str | Path | None = None  # default <corpus>/eval
    eval_limit: int | None = None  # first N items per condition (None = all)
    probe_limit: int = 500  # aligned sentence pairs probed
    train: dict = field(default_factory=dict)  # other TrainConfig fields (batch_size, lr, ...)
    progress: bool = False  # progress bars
    stage1_from: str | Path | None = None  # another experiment dir: continue its finished
    # seed<N>/stage1 instead of training one (same budget and stage-1 share; fr-only, the p
    # sweep and the fine-tuning share then reuse the main run's stage 1)
    stage1_wait: float = 0.0  # seconds to wait for --stage1-from's stage 1 to finish (another
    # process still training it: the extras then start beside the main run, not after it)

    def __post_init__(self) -> None:
        self.corpus, self.out = Path(self.corpus), Path(self.out)
        check_positive("budget_tokens", self.budget_tokens)
        if self.budget_tokens < 3:  # stage 1 and the arms' two phases each need a share
            raise ConfigError(f"budget_tokens must be at least 3 (one per stage); got {self.budget_tokens}")
        self.seeds, self.arms = tuple(int(s) for s in self.seeds), tuple(self.arms)
        self.arms = () if self.arms == ("none",) else self.arms
        self.sweep_p, self.ratios = tuple(float(p) for p in self.sweep_p), tuple(self.ratios)
        if not self.seeds:
            raise ConfigError("seeds: give at least one seed")
        if not (self.arms or self.sweep_p):
            raise ConfigError("arms: give at least one arm (or --sweep-p)")
        for arm in self.arms:
            if arm not in ARMS:
                raise ConfigError(f"arms must be among {', '.join(ARMS)}; got {arm!r}")
        for p in (self.p, *self.sweep_p):
            check_range("p", p, 0.0, 1.0)
        if len(self.ratios) != 3 or min(self.ratios) <= 0:
            raise ConfigError(f"ratios must be three positive numbers; got {self.ratios!r}")
        self.eval_dir = Path(self.eval_dir) if self.eval_dir else self.corpus / "eval"
        self.stage1_from = Path(self.stage1_from) if self.stage1_from else None
        check_positive("stage1_wait", self.stage1_wait, allow_zero=True)
        if self.stage1_from is not None and self.stage1_from.resolve() == self.out.resolve():
            raise ConfigError("stage1_from must be another experiment dir than out")
        if not self.eval_dir.is_dir():
            raise ConfigError(f"eval_dir: {self.eval_dir} not found; build the corpus with its "
                              "eval set (slmlab corpus) or pass --eval DIR")


def arm_label(arm: str, p: float | None = None) -> str:
    return arm if p is None else f"{arm} p={p:g}"


# ----------------------------------------------------------------------------- running


def train_seed(cfg: ExperimentConfig, seed: int) -> dict[str, tuple[Path, int]]:
    """Stage 1 and every arm for one seed: {label: (final checkpoint dir, tokens trained)}.

    An arm's tokens sum its phases (each phase rounds its budget up to whole steps)."""

    root = cfg.out / f"seed{seed}"
    recipe = Recipe(corpus=cfg.corpus, out=root, preset=cfg.preset, total_tokens=cfg.budget_tokens,
                    ratios=cfg.ratios, p=cfg.p, context=cfg.context, seed=seed,
                    train={"progress": cfg.progress, **cfg.train})
    c1 = recipe.configs()["1"]
    if cfg.stage1_from is not None:
        c1 = shared_stage1(cfg.stage1_from / f"seed{seed}" / "stage1", c1, cfg.stage1_wait)
    runs = {"stage1": _train_phases([c1])}
    for arm in cfg.arms:
        runs[arm] = _train_phases(_arm(c1, arm, root / "arms", cfg.p, cfg))
    for p in cfg.sweep_p:
        runs[arm_label(METHOD_ARM, p)] = _train_phases(_arm(c1, METHOD_ARM,
                                                            root / "sweep" / f"p{p:g}", p, cfg))
    return runs


def shared_stage1(out: Path, c1: Any, wait: float = 0.0, poll: float = 10.0) -> Any:
    """`c1` moved to `out`, once `out` is checked to hold `c1`'s finished stage 1 (same budget
    and settings: train.finished_run): train() would otherwise go on training (or restart)
    another experiment's run. Up to `wait` seconds are given to a run still training there."""
    shared = replace(c1, out=out)
    deadline = time.monotonic() + wait
    done = finished_run(shared)
    if done is None and wait:
        print(f"experiment: waiting up to {wait:g} s for the stage 1 training at {out}", flush=True)
    while done is None and time.monotonic() < deadline:
        time.sleep(min(poll, max(deadline - time.monotonic(), 0.0)))
        done = finished_run(shared)
    if done is not None:
        return shared
    last = latest_checkpoint(out)
    if last is None:
        raise ConfigError(f"stage1_from: {out} holds no checkpoint; train that experiment first")
    seen = int(read_info(last).get("tokens_seen") or 0)
    raise ConfigError(f"stage1_from: {out} trained {seen:,} tokens, this experiment's stage 1 "
                      f"is {c1.tokens:,}; give the same corpus, --budget-tokens, stage-1 "
                      "ratio and training settings, and let that stage 1 finish"
                      + (f" (waited {wait:g} s)" if wait else ""))


def _arm(c1: Any, arm: str, root: Path, p: float, cfg: ExperimentConfig) -> list:
    return arm_configs(c1, arm, root, p=p, ratios=cfg.ratios)


def _train_phases(configs: list) -> tuple[Path, int]:
    tokens, path = 0, None
    for c in configs:
        path = finished_run(c) or train(c)
        tokens += int(read_info(path).get("tokens_seen") or 0)
    return Path(path), tokens


def assess(ckpt: Path, cfg: ExperimentConfig) -> dict:
    """Evaluation (with per-item outcomes) and alignment per layer (with per-pair values) of
    one checkpoint."""

    cache, key = Path(ckpt) / ASSESS_FILE, assess_key(cfg)
    if cache.exists():
        stored = json.loads(cache.read_text())
        if stored.get("key") == key:
            return stored["result"]
    # the eval dir (not loaded items) goes in: evaluate and probe check its tokenizer
    ev = evaluate_checkpoint(ckpt, cfg.eval_dir, limit=cfg.eval_limit, keep_outcomes=True,
                             out=Path(ckpt) / "eval_results.json", progress=cfg.progress)
    res = {"ckpt": str(ckpt), "tasks": ev["tasks"]}
    if len(read_jsonl(eval_dir_of(cfg.eval_dir) / "aligned.jsonl")) >= 2:  # probing needs 2
        res["alignment"] = probe_checkpoint(ckpt, cfg.eval_dir, limit=cfg.probe_limit,
                                            progress=cfg.progress, keep_pairs=True)["layers"]
    write_json_atomic(cache, {"key": key, "result": res}, indent=None)
    return res


ASSESS_FILE = "assess.json"  # per checkpoint: assess()'s result, reused while its key holds


def assess_key(cfg: ExperimentConfig) -> dict:
    """What an assessment depends on besides the checkpoint: the eval set's identity (its
    files' sizes and, when built by slmlab corpus, eval.json's key and counts, so a rebuilt
    set is scored again) and the limits."""
    d = eval_dir_of(cfg.eval_dir)
    ident = {f.name: f.stat().st_size for f in sorted(d.glob("*.jsonl"))}
    if (d / "eval.json").exists():
        info = json.loads((d / "eval.json").read_text())
        ident.update({k: info.get(k) for k in ("key", "counts")})
    return {"eval": ident, "eval_limit": cfg.eval_limit, "probe_limit": cfg.probe_limit}


def mean_over_seeds(per_seed: dict[int, dict], seeds: list[int] | None = None) -> dict:
    """Per-item outcomes and per-pair alignment values averaged over `seeds` (default: all).

    The items are the same for every seed, so averaging item by item keeps the seed pairing:
    a bootstrap over items of these averages pools seeds without mixing items."""

    seeds = sorted(per_seed) if seeds is None else seeds
    first = per_seed[seeds[0]]
    tasks = {}
    for key, t in first["tasks"].items():
        rows = [per_seed[s]["tasks"][key] for s in seeds]
        tasks[key] = {f: np.mean([r[f] for r in rows], axis=0)
                      for f in OUTCOME_KEYS if all(f in r for r in rows)}
        tasks[key].update(item_ids=t.get("item_ids"), groups=t.get("groups"))
    layers = []
    for i in range(len(first.get("alignment", []))):
        rows = [per_seed[s]["alignment"][i] for s in seeds]
        layers.append({k: np.mean([r[k] for r in rows], axis=0)
                       for k in PAIR_KEYS if all(k in r for r in rows)})
    return {"tasks": tasks, "alignment": layers}


def pool_seeds(per_seed: dict[int, dict]) -> dict:
    """{seed: assess() result} -> pooled {tasks: {key: {acc, ci, n, sd, per_seed, acc_sum,
    acc_no_ctx, acc_mismatched, gain, ci_gain, ...}}, alignment: [{layer, gap, gap_ci, ...}]}."""

    seeds = sorted(per_seed)
    first = per_seed[seeds[0]]
    avg = mean_over_seeds(per_seed, seeds)
    tasks = {}
    for key in first["tasks"]:
        rows = [per_seed[s]["tasks"][key] for s in seeds]
        accs = [r["acc"] for r in rows]
        tasks[key] = {"acc_sum": float(np.mean([r["acc_sum"] for r in rows])),
                      **task_summary(avg["tasks"][key], avg["tasks"][key].get("groups")),
                      "sd": float(np.std(accs)), "per_seed": accs}
        if "gain" in rows[0]:
            tasks[key]["gain_per_seed"] = [r["gain"] for r in rows]
    pooled: dict[str, Any] = {"tasks": tasks}
    if "alignment" in first:
        layers = []
        for i, row in enumerate(first["alignment"]):
            vals = {k: [per_seed[s]["alignment"][i][k] for s in seeds] for k in SCALARS if k in row}
            entry = {"layer": row["layer"], **{k: float(np.mean(v)) for k, v in vals.items()}}
            entry["gap_lo"], entry["gap_hi"] = float(min(vals["gap"])), float(max(vals["gap"]))
            entry.update(pair_cis(avg["alignment"][i]))  # CIs over pairs of the seed means
            layers.append(entry)
        pooled["alignment"] = layers
    return pooled


SCALARS = ("cos_pairs", "cos_random", "gap", "retrieval_en_fr", "retrieval_fr_en")  # per layer


def arm_differences(per_arm: dict[str, dict[int, dict]], baseline: str = "mixed") -> dict:
    """Paired differences "<arm> - <baseline>" for every trained arm (not stage 1), on the
    seeds both have: per task {diff, ci, n, gain_diff, ci_gain_diff} (slmlab.evaluate.
    compare_tasks) and per layer the alignment gap difference {layer, diff, ci, n}."""

    if baseline not in per_arm:
        return {}
    out = {}
    for label, per_seed in per_arm.items():
        if label in (baseline, "stage1"):
            continue
        seeds = sorted(set(per_seed) & set(per_arm[baseline]))
        if not seeds:
            continue
        a, b = mean_over_seeds(per_seed, seeds), mean_over_seeds(per_arm[baseline], seeds)
        layers = [{"layer": i, **paired_difference(la["pair_gaps"], lb["pair_gaps"])}
                  for i, (la, lb) in enumerate(zip(a["alignment"], b["alignment"]))
                  if "pair_gaps" in la and "pair_gaps" in lb]
        out[f"{label} - {baseline}"] = {"seeds": seeds,
                                        "tasks": compare_tasks(a["tasks"], b["tasks"]),
                                        "alignment": layers}
    return out


def training_stats(ckpt: Path) -> dict:
    """The run that ended in `ckpt` (an arm's last phase): its last logged training loss,
    its held-out loss at the end (nats; a large gap = memorised training stories), and the
    median tokens/s and MFU of its log windows, the first (compile, warm-up) left out."""
    rows = [r for r in read_jsonl(Path(ckpt).parent / "metrics.jsonl") if "loss" in r]
    steady = rows[1:] or rows

    def median(key: str) -> float | None:
        vals = [r[key] for r in steady if r.get(key) is not None]
        return float(np.median(vals)) if vals else None

    return {"loss": rows[-1]["loss"] if rows else None,
            "heldout_loss": read_info(ckpt).get("heldout_loss"),
            "tokens_per_s": median("tokens_per_s"), "mfu": median("mfu")}


def _drop_per_item(result: dict) -> None:
    """Per-item outcomes and per-pair values live in the pooled numbers, not in the file."""

    for t in result["tasks"].values():
        for k in PER_ITEM_KEYS:
            t.pop(k, None)
    for row in result.get("alignment", []):
        for k in PAIR_KEYS:
            row.pop(k, None)


def run_experiment(cfg: ExperimentConfig) -> dict:
    """Train, evaluate and probe every arm for every seed; write results and figures."""
    per_arm: dict[str, dict[int, dict]] = {}
    for seed in cfg.seeds:
        for label, (ckpt, tokens) in train_seed(cfg, seed).items():
            print(f"experiment: evaluating {label} (seed {seed})", flush=True)
            per_arm.setdefault(label, {})[seed] = {**assess(ckpt, cfg), "tokens": tokens,
                                                   "training": training_stats(ckpt)}
    results = {"config": to_dict(cfg), "arms": {}, "differences": arm_differences(per_arm)}
    for label, per_seed in per_arm.items():
        pooled = pool_seeds(per_seed)
        for r in per_seed.values():
            _drop_per_item(r)
        results["arms"][label] = {"pooled": pooled,
                                  "seeds": {str(s): r for s, r in per_seed.items()}}
    write_outputs(results, cfg)
    return results


# ----------------------------------------------------------------------------- reporting


def acc_cell(t: dict) -> str:
    """`acc [CI]` in percent, with `±sd` over seeds when the entry has one."""
    s = f"{100 * t['acc']:.1f} [{100 * t['ci'][0]:.1f}, {100 * t['ci'][1]:.1f}]"
    return s + (f" ±{100 * t['sd']:.1f}" if t.get("sd") else "")


def markdown(results: dict) -> str:
    """Tables: accuracy (pooled, then per seed), context controls per arm, paired differences
    against `mixed`, alignment summary, gap per layer with CIs, paired gap differences."""
    arms = results["arms"]
    names = list(arms)
    keys = list(next(iter(arms.values()))["pooled"]["tasks"])
    seeds = list(next(iter(arms.values()))["seeds"])
    head = "| task:condition | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names)
    out = [f"# Experiment: {results['config']['preset']}, {results['config']['budget_tokens']:,} "
           f"tokens per seed, seeds {', '.join(seeds)}", "",
           "## Accuracy (%), mean over seeds [95% bootstrap CI over items] ±sd over seeds", "", head]
    out += [f"| {k} | " + " | ".join(acc_cell(arms[a]["pooled"]["tasks"][k]) for a in names) + " |"
            for k in keys]
    out.append("| tokens trained (after stage 1; stage1 = the shared start) | " + " | ".join(
        f"{int(np.mean([arms[a]['seeds'][s].get('tokens', 0) for s in seeds])):,}" for a in names)
        + " |")
    out += _training_md(arms, seeds)
    out += _controls_md(arms) + _differences_md(results.get("differences") or {})
    for s in seeds:
        out += ["", f"## Accuracy (%), seed {s}", "", head]
        out += [f"| {k} | " + " | ".join(f"{100 * arms[a]['seeds'][s]['tasks'][k]['acc']:.1f}"
                                         for a in names) + " |" for k in keys]
    if all("alignment" in arms[a]["pooled"] for a in names):
        out += _alignment_md(arms, results.get("differences") or {})
    return "\n".join(out) + "\n"


def _training_md(arms: dict, seeds: list[str]) -> list[str]:
    """Per arm (its last phase), means over seeds: final training vs held-out loss, and speed."""

    def mean(arm: str, key: str) -> float | None:
        vals = [arms[arm]["seeds"][s].get("training", {}).get(key) for s in seeds]
        vals = [v for v in vals if v is not None]
        return float(np.mean(vals)) if vals else None

    def fmt(v: float | None, spec: str) -> str:
        return "—" if v is None else format(v, spec)

    if not any(arms[a]["seeds"][s].get("training") for a in arms for s in seeds):
        return []  # results written before training stats were recorded
    rows = []
    for a in arms:
        loss, held = mean(a, "loss"), mean(a, "heldout_loss")
        gap = None if loss is None or held is None else held - loss
        tps, mfu = mean(a, "tokens_per_s"), mean(a, "mfu")
        rows.append(f"| {a} | {fmt(loss, '.3f')} | {fmt(held, '.3f')} | {fmt(gap, '+.3f')} | "
                    f"{fmt(None if tps is None else tps / 1e3, ',.0f')} | "
                    f"{fmt(None if mfu is None else 100 * mfu, '.1f')} |")
    return ["", "## Training: final loss vs held-out loss (nats), speed (mean over seeds)", "",
            "Last phase of each arm. Held-out: held-out stories in held-out voices; a gap far "
            "above 0 means the model memorised its training stories (grow the corpus before "
            "the budget). Speed: median over log windows, compile left out.", "",
            "| arm | train loss | held-out loss | gap | k tokens/s | MFU % |",
            "|---|---:|---:|---:|---:|---:|", *rows]


def _controls_md(arms: dict) -> list[str]:
    """Per arm: accuracy with the true context [CI], with no context, with a mismatched
    context, and the context gain [paired CI] (cloze tasks, seeds pooled)."""

    out = ["", "## Context controls (%), mean over seeds", "",
           "acc: true context; no ctx: BOS + ending only; mismatched: another pair's context "
           "(same condition); gain = acc - mismatched, 95% CI paired over items. A model that "
           "uses the story has a gain whose CI excludes 0."]
    for arm, r in arms.items():
        tasks = {k: t for k, t in r["pooled"]["tasks"].items() if "gain" in t}
        if not tasks:
            continue
        out += ["", f"### {arm}", "", "| task:condition | acc [95% CI] | no ctx | mismatched | "
                "gain [95% CI] |", "|---|---:|---:|---:|---:|"]
        out += [f"| {k} | {_pct(t['acc'])} {_ci(t['ci'])} | {_pct(t.get('acc_no_ctx'))} | "
                f"{_pct(t['acc_mismatched'])} | {_signed(t['gain'], t['ci_gain'])} |"
                for k, t in tasks.items()]
    return out


def _differences_md(diffs: dict) -> list[str]:
    if not diffs:
        return []
    seeds = ", ".join(str(s) for s in next(iter(diffs.values()))["seeds"])
    return ["", f"## Paired differences between arms (points; items paired, seeds {seeds} pooled)",
            "", "acc: difference in accuracy [95% CI]; gain: difference in context gain [95% CI].",
            "", markdown_differences({n: d["tasks"] for n, d in diffs.items()})]


def _alignment_md(arms: dict, diffs: dict) -> list[str]:
    names = list(arms)
    out = ["", "## Cross-lingual alignment (mean over seeds)", "",
           "| arm | best layer | gap (best) [95% CI] | gap (mean over layers) | cos pairs (best) | "
           "EN->FR (best) [95% CI] | FR->EN (best) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for a in names:
        lay = arms[a]["pooled"]["alignment"]
        b = max(lay, key=lambda r: r["gap"])
        out.append(f"| {a} | {b['layer']} | {b['gap']:.3f} {_ci3(b.get('gap_ci'))} | "
                   f"{np.mean([r['gap'] for r in lay]):.3f} | {b['cos_pairs']:.3f} | "
                   f"{100 * b['retrieval_en_fr']:.1f} {_ci_pct(b.get('retrieval_en_fr_ci'))} | "
                   f"{100 * b['retrieval_fr_en']:.1f} |")
    out += ["", "## Alignment gap per layer [95% CI over sentence pairs]", "",
            "| layer | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    n_layers = len(arms[names[0]]["pooled"]["alignment"])
    out += [f"| {i} | " + " | ".join(
        f"{arms[a]['pooled']['alignment'][i]['gap']:.3f} "
        f"{_ci3(arms[a]['pooled']['alignment'][i].get('gap_ci'))}" for a in names) + " |"
        for i in range(n_layers)]
    with_layers = {n: d["alignment"] for n, d in diffs.items() if d.get("alignment")}
    if with_layers:
        out += ["", "## Alignment gap differences per layer (paired over sentence pairs)", "",
                "| layer | " + " | ".join(with_layers) + " |",
                "|---:|" + "---:|" * len(with_layers)]
        out += [f"| {i} | " + " | ".join(f"{d[i]['diff']:+.3f} [{d[i]['ci'][0]:+.3f}, "
                                         f"{d[i]['ci'][1]:+.3f}]" for d in with_layers.values())
                + " |" for i in range(min(len(d) for d in with_layers.values()))]
    return out


def _ci3(ci: list | None) -> str:
    return "" if not ci else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _ci_pct(ci: list | None) -> str:
    return "" if not ci else f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def write_outputs(results: dict, cfg: ExperimentConfig) -> None:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "results.md").write_text(markdown(results))
    arms = results["arms"]
    tasks = {a: r["pooled"]["tasks"] for a, r in arms.items()}
    figs = {"accuracy": plots.accuracy_figure(tasks)}
    if any(t.get("gain") is not None for ts in tasks.values() for t in ts.values()):
        figs["gain"] = plots.gain_figure(tasks)
    if results.get("differences"):
        figs["differences"] = plots.difference_figure(
            {n: d["tasks"] for n, d in results["differences"].items()})
    if all("alignment" in r["pooled"] for r in arms.values()):
        figs["alignment"] = plots.alignment_figure({a: r["pooled"]["alignment"] for a, r in arms.items()})
    figs["losses"] = plots.loss_figure(_metrics_files(out / f"seed{cfg.seeds[0]}"),
                                       title=f"training loss (seed {cfg.seeds[0]})")
    if cfg.sweep_p:
        figs["sweep_p"] = plots.sweep_figure({p: arms[arm_label(METHOD_ARM, p)]["pooled"]["tasks"]
                                              for p in cfg.sweep_p})
    for name, fig in figs.items():
        plots.save_html(fig, out / f"{name}.html", offline=True)
        plots.save_png(fig, out / f"{name}.png")


def _metrics_files(root: Path) -> dict[str, Path]:
    """{run name: metrics.jsonl} under one seed's dir, stage 1 first."""
    files = sorted(root.rglob("metrics.jsonl"), key=lambda p: (p.parent.name != "stage1", str(p)))
    return {str(p.parent.relative_to(root)): p for p in files}
