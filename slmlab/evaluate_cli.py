"""`slmlab evaluate`: cloze + minimal pairs of one checkpoint, printed as a markdown table."""

from __future__ import annotations

import argparse


def add_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="StoryCloze/TopicCloze (4 conditions) + minimal pairs "
                       "with bootstrap CIs",
                       description="Score a checkpoint on <corpus>/eval; writes "
                       "eval_results.{json,md} next to the checkpoint (or at --out).")
    p.add_argument("--ckpt", required=True, help="checkpoint dir (or a run dir with `latest`)")
    p.add_argument("--eval", required=True, help="eval dir (<corpus>/eval) or the corpus dir")
    p.add_argument("--out", default=None, help="results .json path (default: next to ckpt)")
    p.add_argument("--limit", type=int, default=None, help="first N items per condition")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")
    p.add_argument("--batch-tokens", type=int, default=None,
                   help="tokens per scoring batch (default 65536 on GPU, 8192 on CPU)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from slmlab.evaluate import evaluate_checkpoint, markdown_table

    res = evaluate_checkpoint(args.ckpt, args.eval, out=args.out, limit=args.limit,
                              device=args.device, n_resamples=args.resamples,
                              batch_tokens=args.batch_tokens)
    print(markdown_table(res["tasks"]))
    return 0
