"""Package a trained checkpoint as a self-contained model dir (the demo's default model).

    python scripts/export_model.py --ckpt runs/X/ckpt/stage3 --corpus runs/X/corpus \
        --out app/model --card "tiny, 3 stages, synthetic espeak-ng voices only"

Writes the weights in bf16 (half the bytes; slmlab loads them back as fp32), slmlab.json with
the tokenizer (a copy of a corpus-trained built-in one, or the name of a shipped one), the first
`--pairs` aligned EN/FR reference sentences of its eval set, and MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

from slmlab.evaluate import markdown_table
from slmlab.model import load_checkpoint, read_info, resolve_checkpoint


def fail(message: str) -> None:
    """One line on stderr and exit code 2, as the slmlab CLI does for input errors."""
    print(f"export_model: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_inputs(ckpt: str, corpus: Path, out: Path) -> bool:
    """Refuse what would fail halfway or delete the wrong thing; True when the checkpoint's
    tokenizer was trained on the corpus (built-in), so the model must carry a copy of it."""
    try:
        tok = read_info(resolve_checkpoint(ckpt)).get("tokenizer", {})
    except FileNotFoundError as e:
        fail(str(e))
    copy = tok.get("kind", "builtin") == "builtin"
    needs = [corpus / "tokenizer"] * copy + [corpus / "eval" / "aligned.jsonl"]
    for need in needs:
        if not need.exists():
            fail(f"{need} is missing: --corpus must be the corpus the checkpoint was trained on")
    if out.exists() and any(out.iterdir()) and not (out / "config.json").exists():
        fail(f"{out} exists and is not an exported model: give an empty or new --out")
    return copy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt", required=True, help="checkpoint dir or run dir with `latest`")
    ap.add_argument("--corpus", required=True, help="the corpus it was trained on")
    ap.add_argument("--out", required=True)
    ap.add_argument("--card", required=True, help="one paragraph: what it was trained on")
    ap.add_argument("--pairs", type=int, default=60, help="aligned reference pairs to copy")
    ap.add_argument("--extra", default=None, help="JSON file whose content goes into the card")
    args = ap.parse_args()
    out, corpus = Path(args.out), Path(args.corpus)
    copy_tokenizer = check_inputs(args.ckpt, corpus, out)
    model, info = load_checkpoint(args.ckpt)
    shutil.rmtree(out, ignore_errors=True)
    model.to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    info = {k: v for k, v in info.items() if k != "path"}
    if copy_tokenizer:  # trained on this corpus: the model carries a copy
        shutil.copytree(corpus / "tokenizer", out / "tokenizer")
        info["tokenizer"] = {**info.get("tokenizer", {}), "path": "tokenizer"}
        origin = "built-in, trained on the corpus audio"
    else:  # a shipped tokenizer (e.g. `neural`): referenced by name, not copied
        origin = f"shipped with slmlab, loaded as `{info.get('tokenizer', {}).get('path')}`"
    info["trained_on"] = args.card
    (out / "slmlab.json").write_text(json.dumps(info, indent=1))
    aligned = (corpus / "eval" / "aligned.jsonl").read_text().splitlines()[: args.pairs]
    (out / "aligned.jsonl").write_text("\n".join(aligned) + "\n")
    extra = json.loads(Path(args.extra).read_text()) if args.extra else {}
    card = ["# slmlab demo model", "", args.card, "",
            f"- preset: {info.get('config', {}).get('preset')}, stage {info.get('stage')}, "
            f"{int(info.get('tokens_seen', 0)):,} tokens seen, {info.get('n_params', 0):,} parameters",
            f"- tokenizer: {info['tokenizer'].get('name')} ({origin})",
            "- weights stored in bf16 (loaded as fp32)"]
    if "tasks" in extra:  # an evaluation result: its table, controls included
        card += ["", "## Evaluation (held-out voices, counterbalanced items)", "",
                 markdown_table(extra["tasks"])]
    else:
        card += [f"- {k}: {v}" for k, v in extra.items()]
    (out / "MODEL_CARD.md").write_text("\n".join(card) + "\n")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
