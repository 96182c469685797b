"""Ingest a real sentence-aligned corpus into `Story` objects, with errors a person can fix.

Accepted inputs (`load_parallel(path, langs=LANGS)`):
- JSONL: one story per line, `{"story_id": "s1", "sentences": {"en": [...], "fr": [...]}}`
  (`id` is accepted for `story_id`; optional `topic`, `split`, default "" and "train").
- CSV with a header `story_id,sentence_idx,lang,text` (optional `topic`, `split` columns): one
  row per sentence; sentence_idx runs 0..k-1 per story and language.
- A directory written by `datasets.Dataset.save_to_disk` with columns `story_id` and one
  list[str] column per language (what `stories_to_dataset` makes); optional `topic`, `split`.
Checks: every story has every language in `langs` and no other, the same number of sentences
in each, no empty sentence, unique story ids, a known split.
"""

from __future__ import annotations

import csv
from pathlib import Path

from slmlab.constants import LANGS
from slmlab.files import iter_jsonl
from slmlab.world.planner import SPLITS
from slmlab.world.stories import Story


class IngestError(ValueError):
    """A malformed parallel corpus; the message names the file, line and story."""


def _check(story: Story, where: str, langs: tuple) -> Story:
    sid = story.story_id
    if not sid:
        raise IngestError(f"{where}: missing story_id; give every story a non-empty id")
    unknown = sorted(set(story.sentences) - set(langs))
    if unknown:
        raise IngestError(f"{where}: story {sid!r} has unknown language code(s) "
                          f"{', '.join(unknown)}; expected {', '.join(langs)}")
    missing = [lang for lang in langs if lang not in story.sentences]
    if missing:
        raise IngestError(f"{where}: story {sid!r} has no sentences in {', '.join(missing)}")
    counts = {lang: len(story.sentences[lang]) for lang in langs}
    if len(set(counts.values())) != 1:
        raise IngestError(f"{where}: story {sid!r} has differing sentence counts {counts}; "
                          "aligned stories need one sentence per language at each position")
    if counts[langs[0]] == 0:
        raise IngestError(f"{where}: story {sid!r} has no sentences")
    for lang in langs:
        for i, s in enumerate(story.sentences[lang]):
            if not isinstance(s, str) or not s.strip():
                raise IngestError(f"{where}: story {sid!r} sentence {i} ({lang}) is empty; "
                                  "remove the story or fill in the sentence")
    if story.split not in SPLITS:
        raise IngestError(f"{where}: story {sid!r} has split {story.split!r}; "
                          f"use one of {', '.join(SPLITS)}")
    return story


def _unique(stories: list[Story], path) -> list[Story]:
    seen = set()
    for s in stories:
        if s.story_id in seen:
            raise IngestError(f"{path}: story id {s.story_id!r} appears twice; ids must be unique")
        seen.add(s.story_id)
    return stories


def _from_jsonl(path: Path, langs: tuple) -> list[Story]:
    out = []
    for n, row in iter_jsonl(path, IngestError):
        if not isinstance(row.get("sentences"), dict):
            raise IngestError(f"{path}:{n}: needs a 'sentences' object {{lang: [sentences]}}")
        sid = str(row.get("story_id", row.get("id", "")))
        story = Story(sid, row.get("topic", ""), row.get("split", "train"), row["sentences"])
        out.append(_check(story, f"{path}:{n}", langs))
    return out


def _from_csv(path: Path, langs: tuple) -> list[Story]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"story_id", "sentence_idx", "lang", "text"}
        if not need <= set(reader.fieldnames or ()):
            raise IngestError(f"{path}: CSV header must contain {', '.join(sorted(need))}; "
                              f"got {', '.join(reader.fieldnames or ())}")
        rows: dict[str, dict] = {}
        for n, row in enumerate(reader, 2):
            where = f"{path}:{n}"
            try:
                idx = int(row["sentence_idx"])
            except ValueError:
                raise IngestError(f"{where}: sentence_idx {row['sentence_idx']!r} is not an integer") from None
            st = rows.setdefault(row["story_id"], {"where": where, "topic": row.get("topic") or "",
                                                   "split": row.get("split") or "train", "s": {}})
            st["s"].setdefault(row["lang"], {})[idx] = row["text"] or ""
    out = []
    for sid, st in rows.items():
        sents = {}
        for lang, by_idx in st["s"].items():
            if sorted(by_idx) != list(range(len(by_idx))):
                raise IngestError(f"{st['where']}: story {sid!r} ({lang}) has sentence_idx "
                                  f"{sorted(by_idx)}; expected 0..{len(by_idx) - 1}")
            sents[lang] = [by_idx[i] for i in range(len(by_idx))]
        out.append(_check(Story(sid, st["topic"], st["split"], sents), st["where"], langs))
    return out


def _from_hf(path: Path, langs: tuple) -> list[Story]:
    import datasets

    ds = datasets.load_from_disk(str(path))
    if "story_id" not in ds.column_names:
        raise IngestError(f"{path}: dataset needs a story_id column; has {ds.column_names}")
    extra = {"story_id", "topic", "split"}
    out = []
    for n, row in enumerate(ds):
        sents = {k: list(v) for k, v in row.items() if k not in extra and v is not None}
        story = Story(str(row["story_id"]), row.get("topic") or "", row.get("split") or "train", sents)
        out.append(_check(story, f"{path}[row {n}]", langs))
    return out


def load_parallel(path, langs: tuple = LANGS) -> list[Story]:
    """Stories from a JSONL file, a CSV file or a saved HF dataset dir (see module doc)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_dir():
        stories = _from_hf(path, tuple(langs))
    elif path.suffix.lower() in (".jsonl", ".json"):
        stories = _from_jsonl(path, tuple(langs))
    elif path.suffix.lower() == ".csv":
        stories = _from_csv(path, tuple(langs))
    else:
        raise IngestError(f"{path}: unknown format {path.suffix!r}; use .jsonl, .csv or a "
                          "directory saved with datasets' save_to_disk")
    if not stories:
        raise IngestError(f"{path}: no stories found")
    return _unique(stories, path)


def load_stories(path) -> list[Story]:
    """Stories written by `save_jsonl` (validated like any ingested corpus)."""
    return load_parallel(path)
