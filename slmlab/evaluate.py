"""Zero-shot spoken benchmarks: StoryCloze / TopicCloze (4 conditions) and minimal pairs.

Scoring convention (the peers'; used everywhere in slmlab):
- A spoken sequence is scored as `[BOS] + context units + ending units`, with **no EOS**: the
  eval items are sentence fragments cut from longer stories, so asking the model to also predict
  "end of story" would add noise that does not depend on the ending's content.
  A minimal pair is `[BOS] + units`.
- The primary score is the **mean log-likelihood per predicted token over the whole sequence**
  (every token after BOS); the higher of the two sequences wins and a tie counts half.
- The secondary score (`acc_sum`) sums log-likelihood over the ending only (for minimal pairs,
  over the whole sequence): it ignores the shared context and does not normalise for length.

Controls (every cloze task): the same endings are also scored with **no context**
(`[BOS] + ending`, `acc_no_ctx`) and with a **mismatched context** (`acc_mismatched`: the
context of another item of the same kind and condition, from another counterbalanced pair,
by a seeded derangement). The **context gain** `acc - acc_mismatched` says how much the
story itself helps; a model that only judges endings gets a gain near 0.

Every accuracy and gain comes with a percentile bootstrap 95% CI (1000 resamples) over items,
or over counterbalanced pairs when items carry a `pair_id` (twins are resampled together).
Two checkpoints are compared on the same items by a paired bootstrap (`compare_tasks`).

Scoring (slmlab.scoring) is batched, and each distinct context runs once: its key/value cache
serves all the endings heard after it (right, wrong, another item's, in two conditions).
Items in `<corpus>/eval/` follow ARCHITECTURE.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from slmlab.config import writable_path
from slmlab.corpus.eval_set import check_eval_set, eval_dir_of, read_checked
from slmlab.files import read_jsonl, write_jsonl
from slmlab.model import load_checkpoint
from slmlab.scoring import (  # noqa: F401  (re-exported: the app, probe and notebooks use them)
    _batches, _model_device, default_device, prefix_logprobs, progress_bar, supports_prefix_cache,
    token_logprobs)
from slmlab.world import CONDITIONS

CLOZE_KINDS = ("story", "topic")
PAIR_KINDS = ("lexical", "syntactic")
RESULTS_NAME = "eval_results"  # <ckpt>/eval_results.{json,md}


@dataclass
class EvalSet:
    """The eval items of one corpus (rows as in ARCHITECTURE.md, unit lists as ints)."""

    # {kind, item_id, condition, context, right, wrong[, pair_id]}
    cloze: list[dict] = field(default_factory=list)
    pairs: list[dict] = field(default_factory=list)  # {kind, item_id, lang, good, bad}
    aligned: list[dict] = field(default_factory=list)  # {pair_id, en_text, fr_text, en, fr}


class EvalDataError(ValueError):
    """The eval directory is missing or malformed."""


def load_eval(eval_dir: str | Path, limit: int | None = None, *, info: dict | None = None,
              n_units: int | None = None) -> EvalSet:
    """Read `<eval_dir>/{cloze,pairs,aligned}.jsonl`; `limit` keeps the first N items per
    (kind, condition) group (and per language for pairs), to make quick runs. Given a
    checkpoint's `info` and `n_units`, the files are checked for it as they are read
    (slmlab.corpus.eval_set.read_checked: same tokenizer, unit ids in range, rows complete)."""
    eval_dir = eval_dir_of(eval_dir)  # a corpus dir may be given
    if not eval_dir.is_dir():
        raise EvalDataError(f"eval dir {eval_dir} not found: build a corpus first (slmlab corpus)")
    if info is not None and n_units is not None:
        files = read_checked(eval_dir, info, n_units)
        es = EvalSet(files["cloze.jsonl"], files["pairs.jsonl"], files["aligned.jsonl"])
    else:
        es = EvalSet(read_jsonl(eval_dir / "cloze.jsonl"), read_jsonl(eval_dir / "pairs.jsonl"),
                     read_jsonl(eval_dir / "aligned.jsonl"))
    if not (es.cloze or es.pairs or es.aligned):
        raise EvalDataError(f"{eval_dir} holds no cloze.jsonl, pairs.jsonl or aligned.jsonl")
    if limit is not None:
        es.cloze = _limit(es.cloze, lambda r: (r["kind"], r["condition"]), limit)
        es.pairs = _limit(es.pairs, lambda r: (r["kind"], r["lang"]), limit)
        es.aligned = es.aligned[:limit]
    return es


def _limit(rows: list[dict], key: Callable[[dict], Any], n: int) -> list[dict]:
    """The first n rows per key; a row whose `pair_id` was already taken is kept too, so
    counterbalanced twins stay together (a group may end up with n + 1 rows)."""
    counts: dict[Any, int] = {}
    taken: set = set()
    out = []
    for r in rows:
        k = key(r)
        twin = r.get("pair_id") and (k, r["pair_id"]) in taken
        if twin or counts.get(k, 0) < n:
            counts[k] = counts.get(k, 0) + 1
            taken.add((k, r.get("pair_id")))
            out.append(r)
    return out


# ----------------------------------------------------------------------------- statistics


def pair_outcomes(score_a: np.ndarray, score_b: np.ndarray) -> np.ndarray:
    """1 where a > b, 0.5 on a tie, 0 where a < b: [N] float."""
    return np.where(score_a > score_b, 1.0, np.where(score_a == score_b, 0.5, 0.0))


def _group_codes(groups: Sequence[Any] | None, n: int) -> np.ndarray:
    """[N] int codes of `groups` (every item its own group when None)."""
    if groups is None:
        return np.arange(n)
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} entries for {n} outcomes")
    return np.unique(np.asarray([str(g) for g in groups]), return_inverse=True)[1]


def bootstrap_ci(outcomes: np.ndarray, n_resamples: int = 1000, level: float = 0.95,
                 seed: int = 0, groups: Sequence[Any] | None = None) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of `outcomes` [N].

    Items are resampled, or whole groups when `groups` [N] is given (the two twins of a
    counterbalanced pair share a group: their outcomes are not independent, and an
    ending-only preference cancels within a pair, which resampling pairs keeps)."""
    outcomes = np.asarray(outcomes, dtype=np.float64)
    if outcomes.size == 0:
        return (math.nan, math.nan)
    codes = _group_codes(groups, outcomes.size)
    sums = np.bincount(codes, weights=outcomes)  # [G]
    counts = np.bincount(codes).astype(np.float64)  # [G]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, sums.size, size=(n_resamples, sums.size))
    means = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def summarize(outcomes: np.ndarray, n_resamples: int = 1000, seed: int = 0,
              groups: Sequence[Any] | None = None) -> dict:
    """{acc, ci: [lo, hi], n} for one condition."""
    lo, hi = bootstrap_ci(outcomes, n_resamples, seed=seed, groups=groups)
    return {"acc": float(np.mean(outcomes)) if len(outcomes) else math.nan, "ci": [lo, hi],
            "n": int(len(outcomes))}


def paired_difference(a: np.ndarray, b: np.ndarray, groups: Sequence[Any] | None = None,
                      n_resamples: int = 1000, seed: int = 0) -> dict:
    """Mean of a - b over the same items [N], with a bootstrap CI resampling items (or
    groups): {diff, ci: [lo, hi], n}. Pairing removes the items' own difficulty from the CI."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    lo, hi = bootstrap_ci(d, n_resamples, seed=seed, groups=groups)
    return {"diff": float(d.mean()) if d.size else math.nan, "ci": [lo, hi], "n": int(d.size)}


def mismatch_index(groups: Sequence[Any], seed: int | Sequence[int] = 0) -> np.ndarray | None:
    """A seeded derangement across groups: src [N] with groups[src[i]] != groups[i].

    Item i is heard with item src[i]'s context (the mismatched-context control); a twin
    (same pair_id) is never used, since its context is the one that flips the answer.
    Groups are laid out in random order as blocks and rotated by at least the largest block,
    so no item lands in its own block. None when no such derangement exists (one group
    holding half of the items or more)."""
    codes = _group_codes(groups, len(groups))
    n = len(codes)
    size = int(np.bincount(codes).max()) if n else 0
    if n < 2 or n < 2 * size:
        return None
    rng = np.random.default_rng(seed)
    order = rng.permutation(codes.max() + 1)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    layout = np.lexsort((rng.random(n), rank[codes]))  # items grouped in blocks, shuffled
    shift = int(rng.integers(size, n - size + 1))
    src = np.empty(n, dtype=np.int64)
    src[layout] = layout[(np.arange(n) + shift) % n]
    return src


# ----------------------------------------------------------------------------- the suite

CONTROLS = ("no_ctx", "mismatched")  # besides the true context; see the module docstring


def cloze_sequences(item: dict, bos: int) -> tuple[list[int], list[int], int]:
    """(right sequence, wrong sequence, context length incl. BOS) of one cloze item."""
    ctx = [bos] + list(item["context"])
    return ctx + list(item["right"]), ctx + list(item["wrong"]), len(ctx)


def item_group(item: dict) -> str:
    """The resampling unit of an item: its counterbalanced pair, else the item itself."""
    return str(item.get("pair_id") or item["item_id"])


class _Jobs:
    """Distinct prefixes, endings and (prefix, ending) sequences to score, each kept once."""

    def __init__(self) -> None:
        self.prefixes: dict[tuple, int] = {}
        self.endings: dict[tuple, int] = {}
        self.jobs: dict[tuple[int, int], int] = {}

    def add(self, prefix: Sequence[int], ending: Sequence[int]) -> int:
        p = self.prefixes.setdefault(tuple(prefix), len(self.prefixes))
        e = self.endings.setdefault(tuple(ending), len(self.endings))
        return self.jobs.setdefault((p, e), len(self.jobs))

    def pair(self, prefix: Sequence[int], a: Sequence[int], b: Sequence[int]) -> tuple[int, int]:
        return self.add(prefix, a), self.add(prefix, b)

    def score(self, model: Any, **kw) -> tuple[np.ndarray, np.ndarray]:
        """Per job: (mean LL per token of the whole sequence after BOS, summed ending LL)."""
        jobs = list(self.jobs)
        plp, elp = prefix_logprobs(model, list(self.prefixes), list(self.endings), jobs, **kw)
        psum = np.array([x.sum(dtype=np.float64) for x in plp])
        plen = np.array([len(x) for x in plp])
        esum = np.array([x.sum(dtype=np.float64) for x in elp])
        elen = np.array([len(x) for x in elp])
        p_of = np.array([p for p, _ in jobs], dtype=np.int64)
        return (psum[p_of] + esum) / (plen[p_of] + elen), esum


def _plan_cloze(jobs: _Jobs, items: list[dict], bos: int, controls: bool, seed: Any) -> dict:
    """Job indices [N, 2] (right, wrong) per scoring of one task's items."""
    plan: dict[str, list] = {"true": [jobs.pair([bos] + list(it["context"]), it["right"],
                                                it["wrong"]) for it in items]}
    if controls:
        plan["no_ctx"] = [jobs.pair([bos], it["right"], it["wrong"]) for it in items]
        src = mismatch_index([item_group(it) for it in items], seed)
        if src is not None:
            plan["mismatched"] = [jobs.pair([bos] + list(items[s]["context"]), it["right"],
                                            it["wrong"]) for it, s in zip(items, src)]
    return {k: np.asarray(v, dtype=np.int64) for k, v in plan.items()}


def task_summary(outcomes: dict[str, np.ndarray], groups: Sequence[Any] | None = None,
                 n_resamples: int = 1000, seed: int = 0) -> dict:
    """One task's numbers from its per-item outcomes [N] (keys: outcomes, outcomes_sum and,
    when scored, outcomes_no_ctx, outcomes_mismatched).

    {acc, ci, n, acc_sum, ci_sum} and with the controls {acc_no_ctx, ci_no_ctx,
    acc_mismatched, ci_mismatched, gain, ci_gain}: gain = acc - acc_mismatched, its CI from
    a paired bootstrap over items (or pairs)."""
    res = summarize(outcomes["outcomes"], n_resamples, seed, groups)
    if "outcomes_sum" in outcomes:
        alt = summarize(outcomes["outcomes_sum"], n_resamples, seed, groups)
        res.update(acc_sum=alt["acc"], ci_sum=alt["ci"])
    for name in CONTROLS:
        if f"outcomes_{name}" in outcomes:
            c = summarize(outcomes[f"outcomes_{name}"], n_resamples, seed, groups)
            res.update({f"acc_{name}": c["acc"], f"ci_{name}": c["ci"]})
    if "outcomes_mismatched" in outcomes:
        g = paired_difference(outcomes["outcomes"], outcomes["outcomes_mismatched"], groups,
                              n_resamples, seed)
        res.update(gain=g["diff"], ci_gain=g["ci"])
    return res


def evaluate_items(model: Any, es: EvalSet, *, bos: int, n_resamples: int = 1000,
                   seed: int = 0, progress: bool | None = None, keep_outcomes: bool = False,
                   controls: bool = True, **score_kw) -> dict:
    """Score every cloze item (with its controls) and minimal pair of `es` in one batched pass.

    Returns {"<kind>:<condition or lang>": task_summary(...)} in a stable order: story and
    topic cloze per condition, then lexical and syntactic pairs per language. `keep_outcomes`
    adds the per-item outcomes (1 / 0.5 / 0: `outcomes`, `outcomes_sum`, `outcomes_no_ctx`,
    `outcomes_mismatched`), `item_ids` and `groups`, for pooling seeds and pairing checkpoints.
    """
    jobs = _Jobs()
    tasks: dict[str, tuple[list[dict], dict]] = {}
    for key, items in _by_task(es.cloze, lambda r: f"{r['kind']}:{r['condition']}").items():
        tasks[key] = (items, _plan_cloze(jobs, items, bos, controls, [seed, *key.encode()]))
    for key, items in _by_task(es.pairs, lambda r: f"{r['kind']}:{r['lang']}").items():
        tasks[key] = (items, {"true": np.asarray([jobs.pair([bos], it["good"], it["bad"])
                                                  for it in items], dtype=np.int64)})
    mean, esum = jobs.score(model, progress=progress, **score_kw) if jobs.jobs else ([], [])
    results = {}
    for key in sorted(tasks, key=_task_order):
        items, plan = tasks[key]
        out = {f"outcomes_{k}" if k != "true" else "outcomes": pair_outcomes(mean[j[:, 0]],
                                                                             mean[j[:, 1]])
               for k, j in plan.items()}
        out["outcomes_sum"] = pair_outcomes(esum[plan["true"][:, 0]], esum[plan["true"][:, 1]])
        groups = [item_group(it) for it in items]
        results[key] = task_summary(out, groups, n_resamples, seed)
        if keep_outcomes:
            results[key].update({k: v.tolist() for k, v in out.items()})
            results[key].update(item_ids=[str(it["item_id"]) for it in items], groups=groups)
    return results


def item_controls(model: Any, item: dict, *, bos: int, other_context: Sequence[int] | None = None,
                  **score_kw) -> dict:
    """One cloze item's scores with its story, with no story and (if given) with another
    story's units: {condition: {right, wrong, correct}} where right/wrong are the mean LL per
    token of each whole sequence and correct is 1 / 0.5 / 0 (for the app's cloze panel)."""
    jobs = _Jobs()
    contexts = {"true": [bos] + list(item["context"]), "no_ctx": [bos]}
    if other_context is not None:
        contexts["mismatched"] = [bos] + list(other_context)
    idx = {k: jobs.pair(ctx, item["right"], item["wrong"]) for k, ctx in contexts.items()}
    mean, _ = jobs.score(model, progress=False, **score_kw)
    return {k: {"right": float(mean[r]), "wrong": float(mean[w]),
                "correct": float(pair_outcomes(mean[r], mean[w]))} for k, (r, w) in idx.items()}


def _by_task(rows: list[dict], key: Callable[[dict], str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return out


def _task_order(key: str) -> tuple[int, int]:
    kind, cond = key.split(":")
    kinds = CLOZE_KINDS + PAIR_KINDS
    conds = CONDITIONS + ("en", "fr")
    return (kinds.index(kind) if kind in kinds else 99, conds.index(cond) if cond in conds else 99)


OUTCOME_KEYS = ("outcomes", "outcomes_sum") + tuple(f"outcomes_{c}" for c in CONTROLS)
PER_ITEM_KEYS = OUTCOME_KEYS + ("item_ids", "groups")  # kept in memory, not written


def compare_tasks(tasks_a: dict, tasks_b: dict, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Paired differences A - B on the same items, per task both have outcomes for.

    `tasks_*` are `evaluate_items(..., keep_outcomes=True)` results (or seed-averaged ones).
    Returns {key: {diff, ci, n}} (accuracy, true context) plus {gain_diff, ci_gain_diff} when
    both carry the mismatched control. Identical inputs give exactly 0 with CI [0, 0]."""
    out = {}
    for key, a in tasks_a.items():
        b = tasks_b.get(key)
        if b is None or "outcomes" not in a or "outcomes" not in b:
            continue
        if a.get("item_ids") != b.get("item_ids"):
            raise ValueError(f"{key}: the two results were scored on different items; "
                             "evaluate both checkpoints on the same eval set")
        groups = a.get("groups")
        res = paired_difference(a["outcomes"], b["outcomes"], groups, n_resamples, seed)
        if "outcomes_mismatched" in a and "outcomes_mismatched" in b:
            ga = np.subtract(a["outcomes"], a["outcomes_mismatched"])
            gb = np.subtract(b["outcomes"], b["outcomes_mismatched"])
            g = paired_difference(ga, gb, groups, n_resamples, seed)
            res.update(gain_diff=g["diff"], ci_gain_diff=g["ci"])
        out[key] = res
    return out


# ----------------------------------------------------------------------------- checkpoints


def resolve_model(ckpt_or_model: Any, n_units: int | None = None) -> tuple[Any, dict, int]:
    """(model, info, n_units) from a checkpoint dir or an already-built model."""
    if isinstance(ckpt_or_model, (str, Path)):
        model, info = load_checkpoint(ckpt_or_model)
    else:
        model, info = ckpt_or_model, {}
    if n_units is None:
        n_units = vocab_n_units(info, model)
    return model, info, n_units


def vocab_n_units(info: dict, model: Any = None) -> int:
    """Number of unit ids (BOS = n_units) from a checkpoint's slmlab.json `vocab` entry."""
    vocab = info.get("vocab") if isinstance(info, dict) else None
    if isinstance(vocab, dict) and "n_units" in vocab:
        return int(vocab["n_units"])
    if vocab is not None and hasattr(vocab, "n_units"):
        return int(vocab.n_units)
    if model is not None and hasattr(model, "config"):
        return int(model.config.vocab_size) - 3  # contract: vocab_size = n_units + 3 (unpadded)
    raise ValueError("cannot tell the number of units: pass n_units= or a checkpoint with slmlab.json")


def evaluate_checkpoint(ckpt_or_model: Any, eval_dir: str | Path | EvalSet, *,
                        n_units: int | None = None, limit: int | None = None,
                        device: str | None = None, n_resamples: int = 1000, seed: int = 0,
                        out: str | Path | None = None, progress: bool | None = None,
                        **score_kw) -> dict:
    """Evaluate a checkpoint dir (or a model) on an eval dir; returns the results dict.

    Results are written to `out` (a .json path; the .md table goes next to it), by default
    `<ckpt>/eval_results.json` when a checkpoint dir was given. Pass `out=False` to skip.
    With `keep_outcomes=True` the returned tasks keep their per-item outcomes (not written).
    """
    model, info, n_units = resolve_model(ckpt_or_model, n_units)
    dev = torch.device(device) if device else default_device()
    model.to(dev).eval()
    if isinstance(eval_dir, EvalSet):
        check_eval_set(eval_dir, info, n_units)
        es = eval_dir
    else:  # read once, checked on the way
        es = load_eval(eval_dir, limit, info=info, n_units=n_units)
    if not (es.cloze or es.pairs):
        raise EvalDataError("the eval set has no cloze items or minimal pairs")
    tasks = evaluate_items(model, es, bos=n_units, n_resamples=n_resamples, seed=seed,
                           progress=progress, device=dev, **score_kw)
    per_item = {k: {f: t.pop(f) for f in PER_ITEM_KEYS if f in t} for k, t in tasks.items()}
    result = {
        "checkpoint": str(ckpt_or_model) if isinstance(ckpt_or_model, (str, Path)) else None,
        "eval_dir": None if isinstance(eval_dir, EvalSet) else str(eval_dir),
        "stage": info.get("stage"), "tokens_seen": info.get("tokens_seen"),
        "scoring": SCORING | {"ci": f"percentile bootstrap over items (pairs when counterbalanced),"
                                    f" {n_resamples} resamples, 95%"},
        "tasks": tasks,
    }
    if out is None and isinstance(ckpt_or_model, (str, Path)):
        out = Path(info.get("path", ckpt_or_model)) / f"{RESULTS_NAME}.json"
    if out:
        result["results_file"] = str(writable_path(out))
        write_results(result, result["results_file"])
    for k, extra in per_item.items():  # returned (for seed pooling and pairing), not written
        tasks[k].update(extra)
    return result


SCORING = {"sequence": "BOS + context + ending (no EOS)", "primary": "mean token LL",
           "secondary": "summed ending LL", "tie": 0.5,
           "controls": "no_ctx: BOS + ending; mismatched: another pair's context, same "
                       "condition (seeded derangement); gain = acc - acc_mismatched"}


def write_results(result: dict, path: str | Path) -> Path:
    """Write results JSON at `path` and the markdown table next to it (.md)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    md = markdown_table(result["tasks"])
    if result.get("differences"):
        md += "\n\n" + markdown_differences(result["differences"])
    path.with_suffix(".md").write_text(md + "\n")
    return path


def _pct(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def _ci(ci: Sequence[float] | None) -> str:
    return "—" if not ci else f"[{_pct(ci[0])}, {_pct(ci[1])}]"


def _signed(x: float | None, ci: Sequence[float] | None) -> str:
    if x is None or math.isnan(x):
        return "—"
    return f"{100 * x:+.1f} [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]"


def markdown_table(tasks: dict) -> str:
    """One row per task:condition: accuracy [95% CI] with the true context, the controls
    (no context, mismatched context), the context gain [95% CI], summed-LL accuracy, n."""
    lines = ["| task | condition | acc (mean LL) | 95% CI | no ctx | mismatched | gain | "
             "gain 95% CI | acc (sum LL) | n |", "|---|---|---:|---|---:|---:|---:|---|---:|---:|"]
    for key, r in tasks.items():
        kind, cond = key.split(":")
        gain = r.get("gain")
        lines.append(f"| {kind} | {cond} | {_pct(r['acc'])} | {_ci(r['ci'])} | "
                     f"{_pct(r.get('acc_no_ctx'))} | {_pct(r.get('acc_mismatched'))} | "
                     f"{'—' if gain is None else f'{100 * gain:+.1f}'} | "
                     f"{_ci(r.get('ci_gain'))} | "
                     f"{_pct(r.get('acc_sum'))} | {r['n']} |")
    return "\n".join(lines)


def control_rows(tasks_by_arm: dict[str, dict]) -> list[dict]:
    """One row per (arm, cloze task) with printed numbers (%): accuracy [CI], no context,
    mismatched context, gain [CI] (for notebook and app tables; tasks without controls skipped)."""
    return [{"arm": arm, "task": key, "acc [95% CI]": f"{_pct(t['acc'])} {_ci(t['ci'])}",
             "no ctx": _pct(t.get("acc_no_ctx")), "mismatched": _pct(t["acc_mismatched"]),
             "gain [95% CI]": _signed(t["gain"], t["ci_gain"])}
            for arm, tasks in tasks_by_arm.items() for key, t in tasks.items()
            if t.get("gain") is not None]


def markdown_differences(comparisons: dict[str, dict]) -> str:
    """Paired differences (points) per task:condition, one column per comparison "A - B":
    accuracy difference [95% CI], and the difference in context gain [95% CI]."""
    names = list(comparisons)
    keys = list(dict.fromkeys(k for c in comparisons.values() for k in c))
    lines = ["| task:condition | " + " | ".join(f"{n} (acc) | {n} (gain)" for n in names) + " |",
             "|---|" + "---:|---:|" * len(names)]
    for k in keys:
        cells = []
        for n in names:
            d = comparisons[n].get(k, {})
            cells += [_signed(d.get("diff"), d.get("ci")),
                      _signed(d.get("gain_diff"), d.get("ci_gain_diff"))]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def synthetic_eval_set(n_items: int, n_units: int = 2048, seed: int = 0, ctx_sentences: int = 4,
                       sentence_frames: int = 30, pairs: bool = True,
                       aligned: int = 0) -> EvalSet:
    """Random unit sequences shaped like a corpus eval set (for benchmarks and smoke tests).

    As in the corpus: items come in counterbalanced twins (`pair_id`; the twin swaps right
    and wrong and has its own context), and a story's context and endings are the same
    units in every condition that uses their language."""
    rng = np.random.default_rng(seed)

    def sent() -> list[int]:
        n = max(2, int(rng.normal(sentence_frames, sentence_frames / 5)))
        return rng.integers(0, n_units, n).tolist()

    es = EvalSet()
    for kind in CLOZE_KINDS:
        stories = [{lang: (sum((sent() for _ in range(ctx_sentences)), []), sent())
                    for lang in ("en", "fr")} for _ in range(n_items)]
        for cond in CONDITIONS:
            cl, el = cond.split("-")
            for i, st in enumerate(stories):
                twin = stories[i ^ 1] if (i ^ 1) < n_items else {el: (None, sent())}
                es.cloze.append({"kind": kind, "item_id": f"{kind}-{i}", "condition": cond,
                                 "pair_id": f"{kind}-p{i // 2}", "context": st[cl][0],
                                 "right": st[el][1], "wrong": twin[el][1]})
    for kind in PAIR_KINDS if pairs else ():
        for lang in ("en", "fr"):
            for i in range(n_items):
                es.pairs.append({"kind": kind, "item_id": f"{kind}-{i}", "lang": lang,
                                 "good": sent(), "bad": sent()})
    for i in range(aligned):
        es.aligned.append({"pair_id": f"p{i}", "en_text": f"en {i}", "fr_text": f"fr {i}",
                           "en": sent(), "fr": sent()})
    return es


def write_eval_set(es: EvalSet, eval_dir: str | Path) -> Path:
    """Write an EvalSet as `<eval_dir>/{cloze,pairs,aligned}.jsonl` (the corpus format)."""
    eval_dir = Path(eval_dir)
    eval_dir.mkdir(parents=True, exist_ok=True)
    for name in ("cloze", "pairs", "aligned"):
        write_jsonl(getattr(es, name), eval_dir / f"{name}.jsonl", compact=True)
    return eval_dir
