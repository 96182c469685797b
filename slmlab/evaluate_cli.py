"""`slmlab evaluate`: cloze (with context controls) + minimal pairs of one checkpoint, printed
as a markdown table; `--baseline` adds paired differences against a second checkpoint."""

from __future__ import annotations

import argparse


def add_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="StoryCloze/TopicCloze (4 conditions, with no-context and "
                       "mismatched-context controls) + minimal pairs with bootstrap CIs",
                       description="Score a checkpoint on <corpus>/eval; writes "
                       "eval_results.{json,md} next to the checkpoint (or at --out).")
    p.add_argument("--ckpt", required=True, help="checkpoint dir (or a run dir with `latest`)")
    p.add_argument("--eval", required=True, help="eval dir (<corpus>/eval) or the corpus dir")
    p.add_argument("--baseline", default=None,
                   help="a second checkpoint: also print ckpt - baseline per task (paired "
                   "bootstrap over the same items)")
    p.add_argument("--out", default=None, help="results .json path (default: next to ckpt)")
    p.add_argument("--limit", type=int, default=None, help="first N items per condition")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")
    p.add_argument("--batch-tokens", type=int, default=None,
                   help="tokens per scoring batch (default 65536 on GPU, 8192 on CPU)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from slmlab.evaluate import (compare_tasks, evaluate_checkpoint, markdown_differences,
                                 markdown_table, write_results)

    from slmlab.config import check_positive

    check_positive("resamples", args.resamples)  # before minutes of scoring, not after
    kw = dict(limit=args.limit, device=args.device, n_resamples=args.resamples,
              batch_tokens=args.batch_tokens, keep_outcomes=args.baseline is not None)
    res = evaluate_checkpoint(args.ckpt, args.eval, out=args.out, **kw)
    print(markdown_table(_public(res["tasks"])))
    if args.baseline:  # the eval dir again (not the loaded items): its tokenizer is checked
        base = evaluate_checkpoint(args.baseline, args.eval, out=False, **kw)
        name = f"{Path(args.ckpt).name} - {Path(args.baseline).name}"
        res["differences"] = {name: compare_tasks(res["tasks"], base["tasks"],
                                                  n_resamples=args.resamples)}
        res["baseline"] = str(args.baseline)
        print("\nPaired differences (points) [95% CI]:\n")
        print(markdown_differences(res["differences"]))
        res["tasks"] = _public(res["tasks"])
        write_results(res, res["results_file"])
    return 0


def _public(tasks: dict) -> dict:
    """Tasks without their per-item lists (those stay in memory)."""
    from slmlab.evaluate import PER_ITEM_KEYS

    return {k: {f: v for f, v in t.items() if f not in PER_ITEM_KEYS} for k, t in tasks.items()}
