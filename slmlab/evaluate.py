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
- Every accuracy comes with a percentile bootstrap confidence interval (1000 resamples, 95%).

Scoring is batched: sequences are sorted by length, packed into batches under a token budget,
padded on the right with an attention mask, and token log-probs are gathered from one forward
pass (bf16 autocast on CUDA). Items in `<corpus>/eval/` follow ARCHITECTURE.md.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch

CLOZE_KINDS = ("story", "topic")
PAIR_KINDS = ("lexical", "syntactic")
CONDITIONS = ("en-en", "fr-fr", "en-fr", "fr-en")  # context language - ending language
RESULTS_NAME = "eval_results"  # <ckpt>/eval_results.{json,md}


@dataclass
class EvalSet:
    """The eval items of one corpus (rows as in ARCHITECTURE.md, unit lists as ints)."""

    cloze: list[dict] = field(default_factory=list)  # {kind, item_id, condition, context, right, wrong}
    pairs: list[dict] = field(default_factory=list)  # {kind, item_id, lang, good, bad}
    aligned: list[dict] = field(default_factory=list)  # {pair_id, en_text, fr_text, en, fr}


class EvalDataError(ValueError):
    """The eval directory is missing or malformed."""


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSONL file, one JSON object per line; [] when the file does not exist."""
    if not path.exists():
        return []
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def load_eval(eval_dir: str | Path, limit: int | None = None) -> EvalSet:
    """Read `<eval_dir>/{cloze,pairs,aligned}.jsonl`; `limit` keeps the first N items per
    (kind, condition) group (and per language for pairs), to make quick runs."""
    eval_dir = Path(eval_dir)
    if eval_dir.is_dir() and (eval_dir / "eval").is_dir() and not (eval_dir / "cloze.jsonl").exists():
        eval_dir = eval_dir / "eval"  # a corpus dir was given
    if not eval_dir.is_dir():
        raise EvalDataError(f"eval dir {eval_dir} not found: build a corpus first (slmlab corpus)")
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
    counts: dict[Any, int] = {}
    out = []
    for r in rows:
        k = key(r)
        if counts.get(k, 0) < n:
            counts[k] = counts.get(k, 0) + 1
            out.append(r)
    return out


# ----------------------------------------------------------------------------- scoring


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _batches(lengths: Sequence[int], batch_tokens: int, max_batch: int) -> list[list[int]]:
    """Indices grouped so that (count * longest) <= batch_tokens; longest sequences first."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    groups: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        longest = lengths[cur[0]] if cur else lengths[i]
        if cur and ((len(cur) + 1) * longest > batch_tokens or len(cur) >= max_batch):
            groups.append(cur)
            cur = []
        cur.append(i)
    if cur:
        groups.append(cur)
    return groups


def progress_bar(total: int, desc: str, progress: bool | None):
    """A tqdm bar, shown only on a TTY unless `progress` forces it."""
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else not progress
    return tqdm(total=total, desc=desc, disable=disable, leave=False)


@torch.no_grad()
def token_logprobs(model: Any, seqs: Sequence[Sequence[int]], *, batch_tokens: int | None = None,
                   max_batch: int = 512, device: torch.device | str | None = None,
                   progress: bool | None = None, desc: str = "scoring") -> list[np.ndarray]:
    """log p(x_t | x_<t) for t = 1..L-1 of every sequence.

    `model(input_ids [B, L], attention_mask [B, L])` must return `.logits [B, L, V]` (any
    transformers causal LM). Returns one float32 array [L_i - 1] per sequence, in input order.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    if batch_tokens is None:  # logits are [B, L, V] floats: keep that under ~1 GB on GPU
        batch_tokens = 65536 if device.type == "cuda" else 8192
    lengths = [len(s) for s in seqs]
    if any(n < 2 for n in lengths):
        raise ValueError("every scored sequence needs at least 2 tokens (BOS + one unit)")
    out: list[np.ndarray | None] = [None] * len(seqs)
    use_bf16 = device.type == "cuda"
    with progress_bar(sum(lengths), desc, progress) as bar:
        for group in _batches(lengths, batch_tokens, max_batch):
            longest = lengths[group[0]]
            ids = torch.zeros(len(group), longest, dtype=torch.long)
            mask = torch.zeros(len(group), longest, dtype=torch.long)
            for row, i in enumerate(group):
                ids[row, : lengths[i]] = torch.as_tensor(seqs[i], dtype=torch.long)
                mask[row, : lengths[i]] = 1
            ids, mask = ids.to(device), mask.to(device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
                logits = _logits(model(input_ids=ids, attention_mask=mask))
            logits = logits[:, :-1].float()  # [B, L-1, V] predicts ids[:, 1:]
            lp = logits.gather(-1, ids[:, 1:, None])[..., 0] - torch.logsumexp(logits, -1)
            lp = lp.cpu().numpy()
            for row, i in enumerate(group):
                out[i] = lp[row, : lengths[i] - 1].copy()
            bar.update(sum(lengths[i] for i in group))
    return out  # type: ignore[return-value]


def _logits(output: Any) -> torch.Tensor:
    return output.logits if hasattr(output, "logits") else output


def _model_device(model: Any) -> torch.device:
    try:
        return next(model.parameters()).device
    except (AttributeError, StopIteration):
        return torch.device("cpu")


def pair_outcomes(score_a: np.ndarray, score_b: np.ndarray) -> np.ndarray:
    """1 where a > b, 0.5 on a tie, 0 where a < b: [N] float."""
    return np.where(score_a > score_b, 1.0, np.where(score_a == score_b, 0.5, 0.0))


def bootstrap_ci(outcomes: np.ndarray, n_resamples: int = 1000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of `outcomes` [N] (resampling items)."""
    outcomes = np.asarray(outcomes, dtype=np.float64)
    if outcomes.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, outcomes.size, size=(n_resamples, outcomes.size))
    means = outcomes[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def summarize(outcomes: np.ndarray, n_resamples: int = 1000, seed: int = 0) -> dict:
    """{acc, ci: [lo, hi], n} for one condition."""
    lo, hi = bootstrap_ci(outcomes, n_resamples, seed=seed)
    return {"acc": float(np.mean(outcomes)) if len(outcomes) else math.nan, "ci": [lo, hi],
            "n": int(len(outcomes))}


# ----------------------------------------------------------------------------- the suite


def cloze_sequences(item: dict, bos: int) -> tuple[list[int], list[int], int]:
    """(right sequence, wrong sequence, context length incl. BOS) of one cloze item."""
    ctx = [bos] + list(item["context"])
    return ctx + list(item["right"]), ctx + list(item["wrong"]), len(ctx)


def evaluate_items(model: Any, es: EvalSet, *, bos: int, n_resamples: int = 1000,
                   seed: int = 0, progress: bool | None = None, keep_outcomes: bool = False,
                   **score_kw) -> dict:
    """Score every cloze item and minimal pair of `es` in one batched pass.

    Returns {"<kind>:<condition or lang>": {acc, ci, n, acc_sum, ci_sum}} in a stable order:
    story and topic cloze per condition, then lexical and syntactic pairs per language.
    `keep_outcomes` adds `outcomes` (per item 1 / 0.5 / 0, mean LL) for pooling over seeds.
    """
    seqs: list[list[int]] = []
    for it in es.cloze:
        right, wrong, _ = cloze_sequences(it, bos)
        seqs += [right, wrong]
    for it in es.pairs:
        seqs += [[bos] + list(it["good"]), [bos] + list(it["bad"])]
    lps = token_logprobs(model, seqs, progress=progress, **score_kw)
    groups: dict[str, list[tuple[float, float, float, float]]] = {}
    for j, it in enumerate(es.cloze):
        a, b = lps[2 * j], lps[2 * j + 1]
        n_ctx = len(it["context"])  # lp[t] predicts token t+1; ending tokens start at 1+n_ctx
        groups.setdefault(f"{it['kind']}:{it['condition']}", []).append(
            (a.mean(), b.mean(), a[n_ctx:].sum(), b[n_ctx:].sum()))
    off = 2 * len(es.cloze)
    for j, it in enumerate(es.pairs):
        a, b = lps[off + 2 * j], lps[off + 2 * j + 1]
        groups.setdefault(f"{it['kind']}:{it['lang']}", []).append(
            (a.mean(), b.mean(), a.sum(), b.sum()))
    results = {}
    for key in sorted(groups, key=_task_order):
        s = np.asarray(groups[key], dtype=np.float64)  # [N, 4]
        main = summarize(pair_outcomes(s[:, 0], s[:, 1]), n_resamples, seed)
        alt = summarize(pair_outcomes(s[:, 2], s[:, 3]), n_resamples, seed)
        results[key] = {**main, "acc_sum": alt["acc"], "ci_sum": alt["ci"]}
        if keep_outcomes:
            results[key]["outcomes"] = pair_outcomes(s[:, 0], s[:, 1]).tolist()
    return results


def _task_order(key: str) -> tuple[int, int]:
    kind, cond = key.split(":")
    kinds = CLOZE_KINDS + PAIR_KINDS
    conds = CONDITIONS + ("en", "fr")
    return (kinds.index(kind) if kind in kinds else 99, conds.index(cond) if cond in conds else 99)


def resolve_model(ckpt_or_model: Any, n_units: int | None = None) -> tuple[Any, dict, int]:
    """(model, info, n_units) from a checkpoint dir or an already-built model."""
    if isinstance(ckpt_or_model, (str, Path)):
        from slmlab.model import load_checkpoint

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
    """
    model, info, n_units = resolve_model(ckpt_or_model, n_units)
    dev = torch.device(device) if device else default_device()
    model.to(dev).eval()
    from slmlab.corpus_eval import check_eval_set  # another tokenizer, a malformed line: 1 line
    check_eval_set(eval_dir, info, n_units)
    es = eval_dir if isinstance(eval_dir, EvalSet) else load_eval(eval_dir, limit)
    if not (es.cloze or es.pairs):
        raise EvalDataError("the eval set has no cloze items or minimal pairs")
    tasks = evaluate_items(model, es, bos=n_units, n_resamples=n_resamples, seed=seed,
                           progress=progress, device=dev, **score_kw)
    outcomes = {k: t.pop("outcomes") for k, t in tasks.items() if "outcomes" in t}
    result = {
        "checkpoint": str(ckpt_or_model) if isinstance(ckpt_or_model, (str, Path)) else None,
        "eval_dir": None if isinstance(eval_dir, EvalSet) else str(eval_dir),
        "stage": info.get("stage"), "tokens_seen": info.get("tokens_seen"),
        "scoring": {"sequence": "BOS + context + ending (no EOS)", "primary": "mean token LL",
                    "secondary": "summed ending LL", "tie": 0.5,
                    "ci": f"percentile bootstrap, {n_resamples} resamples, 95%"},
        "tasks": tasks,
    }
    if out is None and isinstance(ckpt_or_model, (str, Path)):
        out = Path(info.get("path", ckpt_or_model)) / f"{RESULTS_NAME}.json"
    if out:
        from slmlab.config import writable_path  # a read-only run dir: written beside, not lost
        write_results(result, writable_path(out))
    for k, o in outcomes.items():  # returned (for seed pooling), not written
        tasks[k]["outcomes"] = o
    return result


def write_results(result: dict, path: str | Path) -> Path:
    """Write results JSON at `path` and the markdown table next to it (.md)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    path.with_suffix(".md").write_text(markdown_table(result["tasks"]) + "\n")
    return path


def _pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def markdown_table(tasks: dict) -> str:
    """One row per task:condition: accuracy [95% CI] by mean LL, by summed LL, n."""
    lines = ["| task | condition | acc (mean LL) | 95% CI | acc (sum LL) | n |",
             "|---|---|---:|---|---:|---:|"]
    for key, r in tasks.items():
        kind, cond = key.split(":")
        lines.append(f"| {kind} | {cond} | {_pct(r['acc'])} | [{_pct(r['ci'][0])}, "
                     f"{_pct(r['ci'][1])}] | {_pct(r.get('acc_sum'))} | {r['n']} |")
    return "\n".join(lines)


def synthetic_eval_set(n_items: int, n_units: int = 2048, seed: int = 0, ctx_sentences: int = 4,
                       sentence_frames: int = 30, pairs: bool = True,
                       aligned: int = 0) -> EvalSet:
    """Random unit sequences with the eval set's shapes (for benchmarks and smoke tests)."""
    rng = np.random.default_rng(seed)

    def sent() -> list[int]:
        n = max(2, int(rng.normal(sentence_frames, sentence_frames / 5)))
        return rng.integers(0, n_units, n).tolist()

    es = EvalSet()
    for kind in CLOZE_KINDS:
        for cond in CONDITIONS:
            for i in range(n_items):
                ctx = sum((sent() for _ in range(ctx_sentences)), [])
                es.cloze.append({"kind": kind, "item_id": f"{kind}-{i}", "condition": cond,
                                 "context": ctx, "right": sent(), "wrong": sent()})
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
        rows = getattr(es, name)
        (eval_dir / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return eval_dir


def iter_tasks(results: dict) -> Iterable[tuple[str, dict]]:
    """(key, {acc, ci, n, ...}) of a results dict or of its `tasks` entry."""
    return (results.get("tasks", results)).items()
