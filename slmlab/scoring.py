"""Log-likelihoods of unit sequences under a causal LM, batched, with shared prefixes.

Two entry points:
- `token_logprobs(model, seqs)`: log p(x_t | x_<t) of every token after the first, for whole
  sequences (sorted by length, packed under a token budget, right-padded with a mask).
- `prefix_logprobs(model, prefixes, endings, jobs)`: the same numbers for sequences written as
  `prefix + ending`, where many endings share one prefix (a cloze context is heard with its
  right and wrong ending, with other items' endings as a mismatched control, and in two
  conditions). Each distinct prefix runs once; its key/value cache is copied to every ending
  (transformers models). Models without a cache (test fakes) get each whole sequence scored
  instead: the same numbers, more work.

Both run under bf16 autocast on CUDA and fp32 on CPU.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import numpy as np
import torch

from slmlab.config import progress_bar  # noqa: F401  (re-exported: evaluate and probe use it)

KV_FACTOR = 4  # an ending batch may hold KV_FACTOR x batch_tokens cached prefix positions


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def greedy_groups(items: Sequence, fits: Callable[[list, Any], bool]) -> list[list]:
    """`items` cut in order into runs: the next item joins the current run while
    `fits(run, item)` (an empty run always takes it)."""
    groups: list[list] = []
    cur: list = []
    for item in items:
        if cur and not fits(cur, item):
            groups.append(cur)
            cur = []
        cur.append(item)
    if cur:
        groups.append(cur)
    return groups


def _batches(lengths: Sequence[int], batch_tokens: int, max_batch: int) -> list[list[int]]:
    """Indices grouped so that (count * longest) <= batch_tokens; longest sequences first."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return greedy_groups(order, lambda run, i: (len(run) + 1) * lengths[run[0]] <= batch_tokens
                         and len(run) < max_batch)


def _logits(output: Any) -> torch.Tensor:
    return output.logits if hasattr(output, "logits") else output


def _model_device(model: Any) -> torch.device:
    try:
        return next(model.parameters()).device
    except (AttributeError, StopIteration):
        return torch.device("cpu")


def _padded(seqs: Sequence[Sequence[int]], idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and mask [len(idx), longest] of the sequences `idx`."""
    longest = max(len(seqs[i]) for i in idx)
    ids = torch.zeros(len(idx), longest, dtype=torch.long)
    mask = torch.zeros(len(idx), longest, dtype=torch.long)
    for row, i in enumerate(idx):
        ids[row, : len(seqs[i])] = torch.as_tensor(list(seqs[i]), dtype=torch.long)
        mask[row, : len(seqs[i])] = 1
    return ids, mask


def _next_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log-softmax of logits [..., V] read at targets [...] -> [...] float32."""
    logits = logits.float()
    return logits.gather(-1, targets[..., None])[..., 0] - torch.logsumexp(logits, -1)


def _budget(batch_tokens: int | None, device: torch.device) -> int:
    # logits are [B, L, V] floats: keep that under ~1 GB on GPU
    return batch_tokens or (65536 if device.type == "cuda" else 8192)


@torch.no_grad()
def token_logprobs(model: Any, seqs: Sequence[Sequence[int]], *, batch_tokens: int | None = None,
                   max_batch: int = 512, device: torch.device | str | None = None,
                   progress: bool | None = None, desc: str = "scoring") -> list[np.ndarray]:
    """log p(x_t | x_<t) for t = 1..L-1 of every sequence.

    `model(input_ids [B, L], attention_mask [B, L])` must return `.logits [B, L, V]` (any
    transformers causal LM). Returns one float32 array [L_i - 1] per sequence, in input order.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    lengths = [len(s) for s in seqs]
    if any(n < 2 for n in lengths):
        raise ValueError("every scored sequence needs at least 2 tokens (BOS + one unit)")
    out: list[np.ndarray | None] = [None] * len(seqs)
    with progress_bar(sum(lengths), desc, progress) as bar:
        for group in _batches(lengths, _budget(batch_tokens, device), max_batch):
            ids, mask = _padded(seqs, group)
            ids, mask = ids.to(device), mask.to(device)
            with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
                logits = _logits(model(input_ids=ids, attention_mask=mask))
            lp = _next_logprobs(logits[:, :-1], ids[:, 1:]).cpu().numpy()  # [B, L-1]
            for row, i in enumerate(group):
                out[i] = lp[row, : lengths[i] - 1].copy()
            bar.update(sum(lengths[i] for i in group))
    return out  # type: ignore[return-value]


def _cache_arg(model: Any) -> str | None:
    """The name under which `model.forward` takes a key/value cache (transformers 5.24 says
    `cache`, earlier versions `past_key_values`), or None."""
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError, AttributeError):
        return None
    if "position_ids" not in params:
        return None
    return next((n for n in ("cache", "past_key_values") if n in params), None)


def supports_prefix_cache(model: Any) -> bool:
    """True when `model.forward` takes a key/value cache and position ids (transformers LMs)."""
    return _cache_arg(model) is not None


def _out_cache(out: Any) -> Any:
    cache = getattr(out, "cache", None)
    return cache if cache is not None else getattr(out, "past_key_values", None)


@torch.no_grad()
def prefix_logprobs(model: Any, prefixes: Sequence[Sequence[int]], endings: Sequence[Sequence[int]],
                    jobs: Sequence[tuple[int, int]], *, batch_tokens: int | None = None,
                    max_batch: int = 512, device: torch.device | str | None = None,
                    progress: bool | None = None, desc: str = "scoring"
                    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Log-probs of `prefixes[p] + endings[e]` for every job (p, e).

    Prefixes start with BOS (>= 1 token); endings have >= 1 token. Returns (prefix_lp,
    ending_lp): prefix_lp[p] is float32 [len(prefix) - 1] (tokens after BOS), ending_lp[j] is
    float32 [len(ending)] for job j (its first token is predicted from the prefix's last).
    Concatenating them gives `token_logprobs` of the whole sequence.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    if any(len(p) < 1 for p in prefixes) or any(len(e) < 1 for e in endings):
        raise ValueError("prefixes need at least BOS and endings at least one unit")
    if not supports_prefix_cache(model):
        return _prefix_logprobs_whole(model, prefixes, endings, jobs, batch_tokens=batch_tokens,
                                      max_batch=max_batch, device=device, progress=progress,
                                      desc=desc)
    budget = _budget(batch_tokens, device)
    by_prefix: dict[int, list[int]] = {}
    for j, (p, _) in enumerate(jobs):
        by_prefix.setdefault(p, []).append(j)
    prefix_lp: list[np.ndarray | None] = [None] * len(prefixes)
    ending_lp: list[np.ndarray | None] = [None] * len(jobs)
    total = sum(len(p) for p in prefixes) + sum(len(endings[e]) for _, e in jobs)
    with progress_bar(total, desc, progress) as bar:
        for group in _batches([len(p) for p in prefixes], budget, max_batch):
            last, cache, mask = _run_prefixes(model, prefixes, group, prefix_lp, device)
            bar.update(sum(len(prefixes[i]) for i in group))
            rows = [(row, j) for row, p in enumerate(group) for j in by_prefix.get(p, [])]
            rows.sort(key=lambda rj: -len(endings[jobs[rj[1]][1]]))
            for chunk in _ending_chunks(rows, [len(endings[e]) for _, e in jobs], mask.shape[1],
                                        budget, max_batch):
                _run_endings(model, endings, jobs, chunk, last, cache, mask, ending_lp, device)
                bar.update(sum(len(endings[jobs[j][1]]) for _, j in chunk))
    return prefix_lp, ending_lp  # type: ignore[return-value]


def _run_prefixes(model: Any, prefixes: Sequence[Sequence[int]], group: list[int],
                  prefix_lp: list, device: torch.device):
    """One prefix batch: fills prefix_lp; returns (log-probs of the next token [B, V],
    the key/value cache, the prefix mask [B, P])."""
    ids, mask = _padded(prefixes, group)
    ids, mask = ids.to(device), mask.to(device)
    with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
        out = model(input_ids=ids, attention_mask=mask, use_cache=True)  # the model makes one
    logits = _logits(out)
    lp = _next_logprobs(logits[:, :-1], ids[:, 1:]).cpu().numpy()  # [B, P-1]
    lengths = mask.sum(1)  # [B]
    for row, i in enumerate(group):
        prefix_lp[i] = lp[row, : len(prefixes[i]) - 1].copy()
    last = logits[torch.arange(len(group), device=device), lengths - 1].float()
    return torch.log_softmax(last, -1), _out_cache(out), mask


def _ending_chunks(rows: list[tuple[int, int]], ending_len: list[int], prefix_len: int,
                   budget: int, max_batch: int) -> list[list[tuple[int, int]]]:
    """Split (prefix row, job) pairs, longest ending first, so that a chunk's logits
    (count x longest ending) fit the token budget and its copied caches KV_FACTOR x that."""
    def fits(run: list, r: tuple[int, int]) -> bool:
        n, longest = len(run) + 1, ending_len[run[0][1]]
        return (n * longest <= budget and n * (prefix_len + longest) <= KV_FACTOR * budget
                and n <= max_batch)

    return greedy_groups(rows, fits)


def _run_endings(model: Any, endings: Sequence[Sequence[int]], jobs: Sequence[tuple[int, int]],
                 chunk: list[tuple[int, int]], last: torch.Tensor, cache: Any, mask: torch.Tensor,
                 ending_lp: list, device: torch.device) -> None:
    """Endings of one chunk on copies of their prefixes' caches; fills ending_lp."""
    from transformers import DynamicCache

    rows = torch.tensor([r for r, _ in chunk], device=device)
    job_ids = [j for _, j in chunk]
    e_ids, e_mask = _padded([endings[jobs[j][1]] for j in job_ids], range(len(chunk)))
    e_ids, e_mask = e_ids.to(device), e_mask.to(device)
    # a new cache holding each job's copy of its prefix's keys/values [J, heads, P, head_dim]
    sub = DynamicCache(ddp_cache_data=[(k[rows], v[rows]) for k, v, *_ in cache])
    # padding sits between a short prefix and its ending: the mask hides it, and the ending's
    # positions continue the prefix's own length (RoPE sees the true distances)
    attn = torch.cat([mask[rows], e_mask], dim=1)  # [J, P + E]
    pos = mask[rows].sum(1, keepdim=True) + torch.arange(e_ids.shape[1], device=device)  # [J, E]
    with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
        logits = _logits(model(input_ids=e_ids, attention_mask=attn, position_ids=pos,
                               use_cache=True, **{_cache_arg(model): sub}))
    first = last[rows].gather(-1, e_ids[:, :1])  # [J, 1]: predicted by the prefix's last token
    rest = _next_logprobs(logits[:, :-1], e_ids[:, 1:])  # [J, E-1]
    lp = torch.cat([first, rest], dim=1).cpu().numpy()  # [J, E]
    for row, j in enumerate(job_ids):
        ending_lp[j] = lp[row, : len(endings[jobs[j][1]])].copy()


def _prefix_logprobs_whole(model: Any, prefixes, endings, jobs, **kw):
    """`prefix_logprobs` for models without a cache: every job as one whole sequence."""
    seqs = [list(prefixes[p]) + list(endings[e]) for p, e in jobs]
    lonely = [p for p in range(len(prefixes)) if len(prefixes[p]) > 1
              and p not in {q for q, _ in jobs}]  # prefixes no job scores
    lps = token_logprobs(model, seqs + [prefixes[p] for p in lonely], **kw)
    prefix_lp: list[np.ndarray | None] = [np.zeros(0, np.float32) if len(p) == 1 else None
                                          for p in prefixes]
    for p, lp in zip(lonely, lps[len(seqs):]):
        prefix_lp[p] = lp
    ending_lp = []
    for (p, _), lp in zip(jobs, lps):
        n = len(prefixes[p]) - 1
        if prefix_lp[p] is None:
            prefix_lp[p] = lp[:n].copy()
        ending_lp.append(lp[n:].copy())
    return prefix_lp, ending_lp
