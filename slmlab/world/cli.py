"""`slmlab world`: generate stories + benchmark, preview them, or ingest a real corpus.

    slmlab world --n 5000 --seed 0 --out runs/demo/world     # stories.jsonl + bench.jsonl
    slmlab world --preview 3                                 # EN | FR side by side
    slmlab world --preview-bench story                       # story|topic|lexical|syntactic
    slmlab world --ingest corpus.csv --out runs/real/world   # validate + convert
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

_KINDS = ("story", "topic", "lexical", "syntactic")


def add_cli(sub) -> None:
    p = sub.add_parser("world", help="generate aligned EN/FR stories and benchmark items",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=5000, help="train stories to write (default 5000)")
    p.add_argument("--heldout", type=int, default=None,
                   help="held-out stories to write (default: --bench-items, the benchmark's own)")
    p.add_argument("--bench-items", type=int, default=1000,
                   help="items per cloze kind and per language for minimal pairs (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    p.add_argument("--out", type=Path, default=None, help="output directory")
    p.add_argument("--hf", action="store_true", help="also save stories as a HF dataset (out/hf)")
    p.add_argument("--preview", type=int, metavar="K", help="print K stories, EN | FR")
    p.add_argument("--preview-bench", choices=_KINDS, help="print 5 benchmark items of a kind")
    p.add_argument("--ingest", type=Path, metavar="FILE",
                   help="validate a parallel corpus (.jsonl, .csv, HF dir) and write stories.jsonl")
    p.set_defaults(func=run)


def side_by_side(left: str, right: str, width: int = 58) -> str:
    a, b = textwrap.wrap(left, width) or [""], textwrap.wrap(right, width) or [""]
    a += [""] * (len(b) - len(a))
    b += [""] * (len(a) - len(b))
    return "\n".join(f"  {x:<{width}} | {y}" for x, y in zip(a, b))


def format_story(story, langs=("en", "fr")) -> str:
    head = f"[{story.story_id}] topic={story.topic} split={story.split}"
    rows = [side_by_side(*(story.sentences[lang][i] for lang in langs))
            for i in range(len(story.sentences[langs[0]]))]
    return "\n".join([head] + rows)


def format_item(item) -> str:
    if item.kind in ("story", "topic"):
        lines = [f"[{item.item_id}] {item.kind} cloze, topic={item.topic}, tests: {item.fact}, "
                 f"pair {item.pair_id} (its twin has the endings swapped)"]
        lines += [side_by_side(e, f) for e, f in zip(item.context["en"], item.context["fr"])]
        lines.append(side_by_side("RIGHT: " + item.right["en"], "RIGHT: " + item.right["fr"]))
        lines.append(side_by_side("WRONG: " + item.wrong["en"], "WRONG: " + item.wrong["fr"]))
        return "\n".join(lines)
    return f"[{item.item_id}] {item.lang}  good: {item.good}\n{'':{len(item.item_id) + 6}}bad:  {item.bad}"


def run(args) -> int:
    from slmlab.world import (generate_stories, load_parallel, make_benchmark, save_benchmark,
                              save_jsonl, stories_to_dataset)

    if args.preview:
        print("\n\n".join(format_story(s) for s in generate_stories(args.preview, args.seed)))
        return 0
    if args.preview_bench:
        bench = make_benchmark(6, args.seed)  # three counterbalanced pairs
        attr = {"story": "story_cloze", "topic": "topic_cloze"}.get(args.preview_bench, args.preview_bench)
        print("\n\n".join(format_item(x) for x in getattr(bench, attr)))
        return 0
    if args.out is None:
        raise ValueError("--out DIR is required to write stories (or use --preview K)")
    if args.ingest:
        stories = load_parallel(args.ingest)
        save_jsonl(stories, args.out / "stories.jsonl")
        print(f"ingested {len(stories)} stories -> {args.out / 'stories.jsonl'}")
    else:
        held = args.bench_items if args.heldout is None else args.heldout
        stories = generate_stories(args.n, args.seed, "train") + generate_stories(held, args.seed, "heldout")
        save_jsonl(stories, args.out / "stories.jsonl")
        bench = make_benchmark(args.bench_items, args.seed)
        save_benchmark(bench, args.out / "bench.jsonl")
        print(f"{args.n} train + {held} heldout stories -> {args.out / 'stories.jsonl'}; "
              f"{len(bench.items())} benchmark items -> {args.out / 'bench.jsonl'}")
    if args.hf:
        stories_to_dataset(stories).save_to_disk(str(args.out / "hf"))
        print(f"HF dataset -> {args.out / 'hf'}")
    return 0
