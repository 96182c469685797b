"""slmlab.world: the embedded bilingual (EN/FR) story world and its benchmark items.

Contract names (ARCHITECTURE.md):
- `Story(story_id, topic, split, sentences: {lang: [str]})`,
  `generate_stories(n, seed=0, split="train"|"heldout") -> list[Story]`, `TOPICS`.
- `ClozeItem(item_id, kind story|topic, topic, context, right, wrong, pair_id, fact)`
  (context/right/wrong {lang: ...}; items come in counterbalanced pairs sharing `pair_id`,
  the twin's right ending being this one's wrong one; `fact` is what the ending tests),
  `CONDITIONS = ("en-en", "fr-fr", "en-fr", "fr-en")`, `MinimalPair(item_id, kind
  lexical|syntactic, lang, good, bad)`, `make_benchmark(n_items=1000, seed=0) -> Benchmark(
  story_cloze, topic_cloze, lexical, syntactic)` (n_items per cloze kind, rounded up to whole
  pairs, and per language for minimal pairs), built from held-out stories and their twins.
- I/O: `save_jsonl(stories_or_dicts, path)`, `load_stories(path)` (validated),
  `save_benchmark(bench, path)`, `load_benchmark(path)`, `stories_to_dataset(stories)` (HF
  dataset, one row per story, a list[str] column per language), `load_parallel(path)`: ingest
  a real aligned corpus (.jsonl, .csv, or a HF dataset saved with save_to_disk); see
  `slmlab.world.ingest` for the formats and `IngestError`.
- Plans and counts: `generate_plans`, `count_plans(split)`, `lemma_counts()`; how many lemmas
  occur in generated text: `slmlab.world.usage.lemma_usage({lang: [sentences]})`.

Layout: lexicon.py + topics.py (bilingual vocabulary), planner.py (language-neutral plans, the
"lost" arc), arcs.py (seven more arcs, declared as slots: drawn and counted from one
declaration), templates.py (their bilingual sentence templates and 18 endings with their
StoryCloze perturbations), grammar.py (helpers the grammars share: template filling, roles),
grammar_en.py / grammar_fr.py (realisers), realise.py (the per-language interface and its
registry), stories.py, benchmark.py (items) + pairs.py (counterbalanced twins) + nonwords.py
(non-words that are not words: realwords.txt, blocklist.txt), audit.py (the bias audit:
ending-only classifier, word lists, homophones), ingest.py (ingest and `load_stories`),
usage.py (lemma counts and use). Each table has one owner: NOUNS/VERBS/ADJS lexicon.py,
TOPIC_DATA topics.py, TEMPLATES/ENDINGS templates.py, ARCS arcs.py. `slmlab world` is in
slmlab.cli.data.
"""

from slmlab.world.benchmark import (CONDITIONS, Benchmark, ClozeItem, MinimalPair, load_benchmark,
                                    make_benchmark, save_benchmark)
from slmlab.world.ingest import IngestError, load_parallel, load_stories
from slmlab.world.lexicon import TOPICS
from slmlab.world.planner import count_plans
from slmlab.world.stories import Story, generate_plans, generate_stories, save_jsonl, stories_to_dataset
from slmlab.world.usage import lemma_counts

__all__ = ["CONDITIONS", "Benchmark", "ClozeItem", "MinimalPair", "Story", "TOPICS",
           "IngestError", "count_plans", "generate_plans", "generate_stories", "lemma_counts",
           "load_benchmark", "load_parallel", "load_stories", "make_benchmark", "save_benchmark",
           "save_jsonl", "stories_to_dataset"]
