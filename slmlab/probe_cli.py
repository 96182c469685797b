"""`slmlab probe`: cross-lingual alignment per layer, retrieval, and a 2-D map (HTML)."""

from __future__ import annotations

import argparse


def add_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="hidden-state alignment of translations per layer + UMAP/PCA map",
                       description="Mean-pooled hidden states of <eval>/aligned.jsonl sentences: "
                       "translation vs. random cosine per layer (the alignment gap), EN<->FR "
                       "retrieval, and a 2-D map. Writes probe.json and HTML figures to --out.")
    p.add_argument("--ckpt", required=True, help="checkpoint dir (or a run dir with `latest`)")
    p.add_argument("--eval", required=True, help="eval dir (<corpus>/eval) or the corpus dir")
    p.add_argument("--out", required=True, help="output dir for probe.json and figures")
    p.add_argument("--method", default="umap", choices=("umap", "pca"), help="2-D map method")
    p.add_argument("--layer", type=int, default=None,
                   help="layer of the map (0 = embeddings; default: the largest gap)")
    p.add_argument("--pool", default="mean", choices=("mean", "last"), help="frame pooling")
    p.add_argument("--limit", type=int, default=500, help="first N sentence pairs")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from slmlab.probe import probe_checkpoint

    res = probe_checkpoint(args.ckpt, args.eval, out=args.out, method=args.method,
                           layer=args.layer, limit=args.limit, pool=args.pool, device=args.device)
    print("| layer | cos pairs | cos random | gap | gap 95% CI | EN->FR | FR->EN |")
    print("|---:|---:|---:|---:|---|---:|---:|")
    for r in res["layers"]:
        lo, hi = r["gap_ci"]
        print(f"| {r['layer']} | {r['cos_pairs']:.3f} | {r['cos_random']:.3f} | {r['gap']:.3f} | "
              f"[{lo:.3f}, {hi:.3f}] | {100 * r['retrieval_en_fr']:.1f} | "
              f"{100 * r['retrieval_fr_en']:.1f} |")
    print(f"map at layer {res['map_layer']} ({res['method']}) in {args.out}")
    return 0
