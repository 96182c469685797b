"""Stories: generation from plans, JSONL save/load, export to a HF dataset."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from slmlab.config import check_choice, check_positive
from slmlab.files import write_jsonl as save_jsonl  # noqa: F401  (the world's name for it)
from slmlab.world.planner import SPLITS, Plan, make_plan, plan_rng
from slmlab.world.realise import realise


@dataclass
class Story:
    """One aligned story: `sentences[lang][i]` for every lang come from the same plan event."""

    story_id: str
    topic: str
    split: str
    sentences: dict  # lang -> list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def story_id(split: str, seed: int, index: int) -> str:
    return f"{split}-s{seed}-{index:07d}"


def generate_plans(n: int, seed: int = 0, split: str = "train", start: int = 0) -> list[Plan]:
    """Plans of stories start..start+n-1 of (split, seed); story i is the same whatever n."""
    check_choice("split", split, SPLITS)
    check_positive("n", n, allow_zero=True)
    return [make_plan(plan_rng(seed, split, i), split) for i in range(start, start + n)]


def plan_to_story(plan: Plan, sid: str, split: str) -> Story:
    return Story(sid, plan.topic, split, realise(plan))


def generate_stories(n: int, seed: int = 0, split: str = "train") -> list[Story]:
    """`n` aligned EN/FR stories of `split` ("train" | "heldout"); deterministic in (n, seed)."""
    plans = generate_plans(n, seed, split)
    return [plan_to_story(p, story_id(split, seed, i), split) for i, p in enumerate(plans)]


def stories_to_dataset(stories: list[Story]):
    """A `datasets.Dataset` with one row per story: story_id, topic, split, and a list[str]
    column per language."""
    import datasets

    langs = sorted({lang for s in stories for lang in s.sentences})
    cols = {"story_id": [s.story_id for s in stories], "topic": [s.topic for s in stories],
            "split": [s.split for s in stories]}
    for lang in langs:
        cols[lang] = [s.sentences[lang] for s in stories]
    return datasets.Dataset.from_dict(cols)
