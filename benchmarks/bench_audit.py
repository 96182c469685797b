"""Bias audit of the generated benchmark, and its card.

Prints the figures (ending-only classifier accuracy per cloze kind x language, non-word
dictionary and blocklist hits, homophone minimal pairs, items per type), writes them to
`results/benchmark/audit.json` and the benchmark card `results/benchmark/README.md`.
`--before REV` also measures the generator of git revision REV with the same classifier
(its `slmlab/` is unpacked into a temporary directory and run in a subprocess).

    .venv/bin/python benchmarks/bench_audit.py --before 932de31
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AUDIT_PY = ROOT / "slmlab" / "world" / "audit.py"


def _audit_module():
    """slmlab.world.audit loaded from this checkout's file (also when an old slmlab is first
    on sys.path, for --before)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("slmlab_audit_now", AUDIT_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def measure(n_items: int, n_nonwords: int, seed: int) -> dict:
    """The audit figures of the slmlab importable now (this checkout, or an old one)."""
    from slmlab.world import make_benchmark
    from slmlab.world.benchmark import lexical_pairs

    audit = _audit_module()
    t0 = time.perf_counter()
    bench = make_benchmark(n_items, seed)
    build_s = time.perf_counter() - t0
    out = {"n_items": n_items, "build_s": round(build_s, 2), "ending_only": {}, "nonwords": {}}
    for kind, items in (("story", bench.story_cloze), ("topic", bench.topic_cloze)):
        for lang in ("en", "fr"):
            out["ending_only"][f"{kind}-{lang}"] = {
                "kfold": round(audit.ending_only_accuracy(items, lang), 4),
                "grouped": round(audit.ending_only_accuracy(items, lang, grouped=True), 4)}
        out[f"{kind}_violations"] = len(audit.counterbalance_violations(items))
    lex = lexical_pairs(n_nonwords, seed)
    blocklist = audit.load_blocklist()
    for lang in ("en", "fr"):
        bad = [p.bad for p in lex if p.lang == lang]
        words = audit.load_wordlist(lang)
        hits = audit.dictionary_hits(bad, words) if words is not None else None
        out["nonwords"][lang] = {
            "n": len(bad), "distinct": len(set(bad)),
            "dictionary_hits": None if hits is None else sum(w.lower() in words for w in bad),
            "examples": (hits or [])[:12],
            "blocklisted": sum(audit.blocked(w, blocklist) for w in bad)}
    return out


def describe(n_items: int, seed: int) -> dict:
    """Counts per item type and the example items of the card (this checkout only)."""
    from slmlab.world import make_benchmark
    from slmlab.world.audit import homophones

    bench = make_benchmark(n_items, seed)
    return {
        "story_facts": dict(Counter(it.fact for it in bench.story_cloze[::2])),
        "topic_items": dict(Counter(it.topic for it in bench.topic_cloze)),
        "syntactic": dict(Counter(f"{p.lang}:{p.item_id.split('-')[2]}" for p in bench.syntactic)),
        "homophones": {"syntactic": len(homophones(bench.syntactic)),
                       "lexical": len(homophones(bench.lexical))},
        "bench": bench,
    }


def measure_before(rev: str, n_items: int, n_nonwords: int, seed: int) -> dict:
    """`measure` on the slmlab of git revision `rev`, in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "slmlab"], check=True,
                             capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=tar, check=True)
        code = (f"import sys, json; sys.path.insert(0, {tmp!r}); sys.path.insert(1, {str(ROOT / 'benchmarks')!r});"
                f"import bench_audit as b; print(json.dumps(b.measure({n_items}, {n_nonwords}, {seed})))")
        res = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                             cwd=tmp)
    return {"rev": rev, **json.loads(res.stdout.strip().splitlines()[-1])}

FACT_TEXT = {
    "object": "which object the story is about (lost, given, made, found on a trip, or the animal feared)",
    "winner": "who won the race or the contest",
    "feeling": "how the hero felt, given who won the contest or whether the lost object came back (both polarities)",
    "pet": "which pet ran away (another name, same kind of pet)",
    "weather": "which change of weather came (rain or wind)",
    "place": "where the trip or the walk with the pet took place",
}


DISTRACTORS = [
    "- **StoryCloze, counterbalanced.** Every item has a twin (same `pair_id`). Story B is "
    "story A's plan with exactly one fact changed, the one the ending states (the table "
    "above); ending a is A's real ending and B's wrong one, ending b the other way round. "
    "The ending template is drawn among those that state the fact, and each fact type gets "
    "the same number of pairs. The changed value is one the story does not already mention.",
    "- **TopicCloze, counterbalanced.** Story B is a held-out story of another topic with "
    "the same arc and ending template, recast with A's characters: the two endings differ "
    "only in their topic nouns (an object, a place, an activity, an animal), and neither "
    "names a noun of the other story's topic.",
    "- Consequence: whatever a score of the ending alone prefers, it is right for exactly "
    "one item of each pair (tested for several scorers in `tests/test_world_bench.py`). "
    "The corpus speaks both items of a pair with the same voice, so this holds for the "
    "audio too.",
    "- **Lexical.** A word of the lexicon with one consonant before a vowel swapped for "
    "another; never a word of either lexicon, of Debian's `wamerican-large`/`wbritish`/"
    "`wfrench` (`slmlab/world/realwords.txt`), or of the offensive-word blocklist "
    "(`slmlab/world/blocklist.txt`).",
    "- **Syntactic.** The realiser's own sentence with one audible agreement, auxiliary, "
    "contraction, case or word-order error; pairs that espeak-ng pronounces identically "
    "(\"un nouvel ours\" / \"un nouvelle ours\") are not made.",
]


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _audit_table(report: dict) -> list[str]:
    after, before = report["after"], report.get("before")
    rows = ["| kind | language | before (item folds) | now (item folds) | now (pairs kept whole) |",
            "|---|---|---|---|---|"]
    for key, v in after["ending_only"].items():
        kind, lang = key.split("-")
        was = _pct(before["ending_only"][key]["kfold"]) if before else "n/a"
        rows.append(f"| {'StoryCloze' if kind == 'story' else 'TopicCloze'} | {lang.upper()} | {was} | "
                    f"{_pct(v['kfold'])} | {_pct(v['grouped'])} |")
    rows += ["", "| non-words | before: dictionary hits | before: blocklisted | now: dictionary hits | now: blocklisted |",
             "|---|---|---|---|---|"]
    for lang, v in after["nonwords"].items():
        b = before["nonwords"][lang] if before else None
        bh = f"{b['dictionary_hits']} / {b['n']} ({b['dictionary_hits'] / b['n']:.1%})" if b else "n/a"
        rows.append(f"| {lang.upper()} | {bh} | {b['blocklisted'] if b else 'n/a'} | "
                    f"{v['dictionary_hits']} / {v['n']} | {v['blocklisted']} / {v['n']} |")
    if before:
        ex = {lang: ", ".join(before["nonwords"][lang]["examples"][:8]) for lang in ("en", "fr")}
        rows += ["", f"Real words the old generator called non-words: EN {ex['en']}; FR {ex['fr']}."]
    return rows


def _cloze_examples(items, per_fact: bool) -> list[str]:
    pairs, seen = [], set()
    for a, b in zip(items[::2], items[1::2]):
        if per_fact and a.fact in seen:
            continue
        seen.add(a.fact)
        pairs.append((a, b))
        if len(pairs) == (6 if per_fact else 5):
            break
    lines = []
    for a, b in pairs:
        lines += [f"#### pair {a.pair_id} ({a.fact}: {a.topic} / {b.topic})", "",
                  "| item | | English | Français |", "|---|---|---|---|"]
        for it in (a, b):
            lines += [f"| {it.item_id} | story | {' '.join(it.context['en'])} | {' '.join(it.context['fr'])} |",
                      f"| | right | {it.right['en']} | {it.right['fr']} |",
                      f"| | wrong | {it.wrong['en']} | {it.wrong['fr']} |"]
        lines.append("")
    return lines


def _pair_examples(items) -> list[str]:
    en = [p for p in items if p.lang == "en"][:10]
    fr = [p for p in items if p.lang == "fr"][:10]
    lines = ["| EN good | EN bad | FR good | FR bad |", "|---|---|---|---|"]
    lines += [f"| {e.good} | {e.bad} | {f.good} | {f.bad} |" for e, f in zip(en, fr)]
    return lines + [""]


def _types_table(report: dict, bench) -> list[str]:
    """One row per item type with its counts."""
    facts, syn = report["story_facts"], report["syntactic"]
    lines = ["| kind | type | what the ending tests | pairs | items |", "|---|---|---|---|---|"]
    for fact, text in FACT_TEXT.items():
        n = facts.get(fact, 0)
        lines.append(f"| StoryCloze | {fact} | {text} | {n} | {2 * n} |")
    n_tc = len(bench.topic_cloze)
    lines.append(f"| TopicCloze | topic | which of two topics the story is about | {n_tc // 2} | {n_tc} |")
    for lang in ("en", "fr"):
        lex = len([p for p in bench.lexical if p.lang == lang])
        lines.append(f"| lexical ({lang.upper()}) | word vs non-word | is it a word of the language "
                     f"| {lex} | {lex} |")
        kinds = ", ".join(f"{k.split(':')[1]} {v}" for k, v in sorted(syn.items()) if k.startswith(lang))
        lines.append(f"| syntactic ({lang.upper()}) | {kinds} | grammatical vs one audible error | "
                     f"{sum(v for k, v in syn.items() if k.startswith(lang))} | same |")
    per_topic = ", ".join(f"{k} {v}" for k, v in sorted(report["topic_items"].items()))
    return lines + ["", f"TopicCloze items per topic: {per_topic}.", ""]


def write_card(path: Path, report: dict, bench, args) -> None:
    after = report["after"]
    rev = (report.get("before") or {}).get("rev")
    lines = [
        "# The slmlab cloze benchmark: card", "",
        f"Generated by `benchmarks/bench_audit.py{' --before ' + rev if rev else ''}` "
        f"({args.items} cloze items per kind, {args.nonwords} non-words per language, seed "
        f"{args.seed}); the figures are in `audit.json`. The same audit runs in the tests "
        "(`tests/test_bench_audit.py`).", "",
        "## Item types", "",
        "All items come from held-out stories of `slmlab.world` (hero names reserved per topic "
        "for held-out stories) and their twins. Each cloze item exists in both languages, so "
        "it is scored in four conditions: EN→EN, FR→FR, EN→FR, FR→EN (context language → "
        "ending language).", ""]
    lines += _types_table(report, bench)
    lines += ["## How the distractors are built", ""] + DISTRACTORS + ["", "## Audit", ""]
    lines += [
        "Ending-only classifier: bag of words of each ending plus their lengths (ending 1 minus "
        "ending 2, logistic regression without intercept, endings in random order), 5-fold "
        "cross-validation. *Item folds* is the protocol of the audit that found the biases "
        "(issue 11): folds over items. On counterbalanced items it leaks the twin's answer with "
        "the opposite label and lands below 50%, so *pairs kept whole* (grouped folds) is the "
        "honest figure: exactly 50% when nothing but the story decides. *Before* is the "
        f"generator of revision {rev or 'n/a'} measured by this script with the same classifier "
        "(issue 11 reported 68% for StoryCloze and 57-59% for TopicCloze on 1,500 items, and "
        "7.7% / 4.4% of English / French non-words in dictionaries).", ""]
    lines += _audit_table(report)
    h = report["homophones"]
    lines += ["", f"Homophone minimal pairs (same espeak-ng phonemes): syntactic {h['syntactic']}, "
              f"lexical {h['lexical']}. Counterbalance violations: StoryCloze "
              f"{after['story_violations']}, TopicCloze {after['topic_violations']}. Build time of "
              f"the benchmark ({args.items} items per kind): {after['build_s']} s.", "",
              "## Examples", "", "### StoryCloze (one pair per type)", ""]
    lines += _cloze_examples(bench.story_cloze, True)
    lines += ["### TopicCloze", ""] + _cloze_examples(bench.topic_cloze, False)
    lines += ["### Lexical pairs", ""] + _pair_examples(bench.lexical)
    lines += ["### Syntactic pairs", ""] + _pair_examples(bench.syntactic)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=2000, help="cloze items per kind")
    ap.add_argument("--nonwords", type=int, default=5000, help="lexical pairs per language")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--before", default=None, help="git revision to measure as 'before'")
    ap.add_argument("--out", default=str(ROOT / "results" / "benchmark"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    now = measure(args.items, args.nonwords, args.seed)
    desc = describe(args.items, args.seed)
    before = measure_before(args.before, args.items, args.nonwords, args.seed) if args.before else None
    if before is None and (out / "audit.json").exists():
        before = json.loads((out / "audit.json").read_text()).get("before")
    report = {"after": now, "before": before,
              **{k: v for k, v in desc.items() if k != "bench"}}
    (out / "audit.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    write_card(out / "README.md", report, desc["bench"], args)
    for key, v in now["ending_only"].items():
        was = f" (before {before['ending_only'][key]['kfold']:.1%})" if before else ""
        print(f"ending-only {key}: {v['grouped']:.1%} pairs kept whole, {v['kfold']:.1%} "
              f"item-level folds{was}")
    for lang, v in now["nonwords"].items():
        print(f"non-words {lang}: {v['dictionary_hits']} dictionary hits, {v['blocklisted']} "
              f"blocklisted among {v['n']}")
    print(f"wrote {out / 'audit.json'} and {out / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
