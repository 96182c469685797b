"""Training sequences from the corpus: mono | mixed | interleaved, packed to a fixed length.

Token layout (`Vocab`): unit ids `0..n_units-1`, then `BOS = n_units`, `EOS = n_units + 1`,
`SEP = n_units + 2`; `size = n_units + 3`.

A story becomes `BOS s_1 s_2 ... s_n EOS`, where `s_i` are the units of sentence i in the
language chosen for it (sentences are concatenated directly, as in the paper; set
`sentence_sep=True` to put `SEP` between sentences). Stories are then joined into one stream
(story order shuffled per epoch) and the stream is cut into consecutive windows of `context`
tokens: a long story continues into the next window, nothing is padded and no token is
dropped. The stream is endless: epoch e+1 (a new shuffle, new language draws) follows epoch e.

Modes (`p` is always the probability of French, the second language):
- `mono`: every story in `lang` only (EN-only or FR-only training).
- `mixed`: each whole story in FR with probability p, else EN (bilingual, no interleaving).
- `interleave`: each sentence in FR with probability p, independently (the paper, p = 0.5).
- `alternate`: languages alternate sentence by sentence; the first is FR with probability p.
- `spans`: runs of sentences with geometric lengths (mean `span_mean` sentences), each run's
  language FR with probability p (so the FR fraction is still p on average).

Every token carries a language record (int8): 0 = en, 1 = fr, -1 = special token.
All random draws come from `default_rng([seed, epoch, story_position])`, so a window is a pure
function of (seed, epoch, offset): `PackedDataset.position` is all that resuming needs.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from slmlab.config import ConfigError, check_choice, check_positive, check_range
from slmlab.constants import LANGS, N_UNITS
from slmlab.corpus import load_corpus

MODES = ("mono", "mixed", "interleave", "alternate", "spans")
LANG_ID = {lang: i for i, lang in enumerate(LANGS)}  # per-token language record values
SPECIAL = -1  # language record of BOS / EOS / SEP


@dataclass(frozen=True)
class Vocab:
    """Speech units plus three specials; ids of units are the tokenizer's unit ids."""

    n_units: int = N_UNITS

    @property
    def bos(self) -> int:
        return self.n_units

    @property
    def eos(self) -> int:
        return self.n_units + 1

    @property
    def sep(self) -> int:
        return self.n_units + 2

    @property
    def size(self) -> int:
        return self.n_units + 3

    def to_dict(self) -> dict:
        return {"n_units": self.n_units, "bos": self.bos, "eos": self.eos, "sep": self.sep,
                "size": self.size}


@dataclass
class SequenceConfig:
    """How stories become training windows."""

    mode: str = "interleave"  # one of MODES
    p: float = 0.5  # probability of French (per sentence, story or span, by mode)
    context: int = 1024  # tokens per training window (L)
    seed: int = 0  # data order and language draws
    lang: str = "en"  # the language of mode "mono"
    span_mean: float = 3.0  # mean run length in sentences for mode "spans" (>= 1)
    sentence_sep: bool = False  # put SEP between sentences inside a story
    shuffle: bool = True  # shuffle story order each epoch

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, MODES)
        check_range("p", self.p, 0.0, 1.0)
        check_positive("context", self.context)
        if not isinstance(self.context, int) or self.context < 2:
            raise ConfigError(f"context must be an integer >= 2; got {self.context!r}")
        check_choice("lang", self.lang, LANGS)
        check_range("span_mean", self.span_mean, 1.0, 1e6)


@dataclass
class StoryUnits:
    """One story's units: `sentences[lang][i]` is an int array [n_frames] for sentence i."""

    story_id: str
    sentences: dict[str, list[np.ndarray]]

    def n_sentences(self) -> int:
        return max((len(v) for v in self.sentences.values()), default=0)


# ---------------------------------------------------------------- corpus -> stories


def load_corpus_dir(path: str | Path) -> tuple[Any, dict]:
    """(dataset, meta) of a corpus dir, via `slmlab.corpus.load_corpus`.

    Falls back to `datasets.load_from_disk(path)` (a Dataset, or a DatasetDict keyed by split)
    plus `meta.json` for a dataset saved directly.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"corpus dir {path} does not exist; build one with `slmlab corpus`")
    if (path / "shards").is_dir():
        return load_corpus(path)
    import datasets

    meta_path = path / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return datasets.load_from_disk(str(path)), meta


def corpus_vocab(meta: dict) -> Vocab:
    """The Vocab of a corpus from its meta.json (tokenizer.vocab_size, else N_UNITS)."""
    return Vocab(int(meta.get("tokenizer", {}).get("vocab_size", N_UNITS)))


def _split_table(dataset: Any, split: str):
    """The pyarrow table of one split of a Dataset / DatasetDict (None when absent)."""
    import pyarrow.compute as pc

    if isinstance(dataset, dict):  # DatasetDict keyed by split
        if split not in dataset:
            return None
        dataset = dataset[split]
    if getattr(dataset, "_indices", None) is not None:  # a filtered/selected view
        dataset = dataset.flatten_indices()
    table = dataset.data.table if hasattr(dataset, "data") else dataset
    if "split" in table.column_names:
        table = table.filter(pc.equal(table["split"], split))
    return table


def stories_from_corpus(dataset: Any, split: str = "train",
                        langs: Sequence[str] = LANGS) -> list[StoryUnits]:
    """Group corpus rows into stories, sentences in order, working on arrow columns.

    dataset: a `datasets.Dataset` (with a `split` column) or a DatasetDict keyed by split.
    Returns stories sorted by story_id; a story lacks a language only if the corpus does.
    """
    table = _split_table(dataset, split)
    if table is None or table.num_rows == 0:
        return []
    story = np.asarray(table["story_id"].to_numpy(zero_copy_only=False)).astype(str)
    lang = np.asarray(table["lang"].to_numpy(zero_copy_only=False)).astype(str)
    sidx = table["sentence_idx"].to_numpy()
    units_col = table["units"].combine_chunks()
    offsets = units_col.offsets.to_numpy()
    flat = units_col.values.to_numpy(zero_copy_only=False).astype(np.int32)
    keep = np.isin(lang, list(langs))
    order = np.lexsort((sidx, lang, story))
    order = order[keep[order]]
    stories: list[StoryUnits] = []
    current: StoryUnits | None = None
    story_l, lang_l = story.tolist(), lang.tolist()  # python str keys, not np.str_
    for row in order.tolist():  # one cheap slice per row; the sort did the grouping
        sid = story_l[row]
        if current is None or current.story_id != sid:
            current = StoryUnits(sid, {})
            stories.append(current)
        current.sentences.setdefault(lang_l[row], []).append(flat[offsets[row]:offsets[row + 1]])
    return stories


# ---------------------------------------------------------------- one story -> tokens


def _sentence_langs(n: int, cfg: SequenceConfig, rng: np.random.Generator) -> np.ndarray:
    """Language index (0 en, 1 fr) per sentence [n] for the configured mode."""
    if cfg.mode == "mono":
        return np.full(n, LANG_ID[cfg.lang], dtype=np.int8)
    if cfg.mode == "mixed":
        return np.full(n, int(rng.random() < cfg.p), dtype=np.int8)
    if cfg.mode == "interleave":
        return (rng.random(n) < cfg.p).astype(np.int8)
    if cfg.mode == "alternate":
        first = int(rng.random() < cfg.p)
        return ((np.arange(n) + first) % 2).astype(np.int8)
    out = np.empty(n, dtype=np.int8)  # spans
    i = 0
    while i < n:
        length = int(rng.geometric(1.0 / cfg.span_mean))
        out[i:i + length] = int(rng.random() < cfg.p)
        i += length
    return out


def build_story(story: StoryUnits, cfg: SequenceConfig, vocab: Vocab,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(tokens int32 [T], langs int8 [T]) of `BOS s_1 .. s_n EOS` with per-sentence languages.

    A sentence whose chosen language is missing from the story falls back to the other one
    (so an FR-less corpus still trains in mode "interleave" as EN-only).
    """
    choice = _sentence_langs(story.n_sentences(), cfg, rng)
    toks: list[np.ndarray] = [np.array([vocab.bos], np.int32)]
    lang_rec: list[np.ndarray] = [np.array([SPECIAL], np.int8)]
    for i, li in enumerate(choice):
        lang = LANGS[li]
        if lang not in story.sentences or i >= len(story.sentences[lang]):
            lang = next(k for k, v in story.sentences.items() if i < len(v))
        units = story.sentences[lang][i]
        if cfg.sentence_sep and i > 0:
            toks.append(np.array([vocab.sep], np.int32))
            lang_rec.append(np.array([SPECIAL], np.int8))
        toks.append(units.astype(np.int32, copy=False))
        lang_rec.append(np.full(len(units), LANG_ID[lang], np.int8))
    toks.append(np.array([vocab.eos], np.int32))
    lang_rec.append(np.array([SPECIAL], np.int8))
    return np.concatenate(toks), np.concatenate(lang_rec)


def build_epoch(stories: Sequence[StoryUnits], cfg: SequenceConfig, vocab: Vocab,
                epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """The whole token stream of one epoch: (tokens int32 [T], langs int8 [T])."""
    if not stories:
        raise ValueError("no stories to build sequences from; is the corpus split empty?")
    order = np.arange(len(stories))
    if cfg.shuffle:
        order = np.random.default_rng([cfg.seed, epoch, 1 << 30]).permutation(len(stories))
    parts = [build_story(stories[j], cfg, vocab, np.random.default_rng([cfg.seed, epoch, int(j)]))
             for j in order]
    return np.concatenate([t for t, _ in parts]), np.concatenate([l for _, l in parts])


# ---------------------------------------------------------------- packing


@dataclass(frozen=True)
class Position:
    """Where the next window starts: token `offset` inside the stream of `epoch`."""

    epoch: int = 0
    offset: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class PackedDataset:
    """Endless fixed-length windows over the story stream, resumable from a `Position`.

    `next_batch(n)` -> (tokens int64 [n, L], langs int8 [n, L]); concatenating the windows
    in order gives back the stream exactly (epoch after epoch).
    """

    def __init__(self, stories: Sequence[StoryUnits], cfg: SequenceConfig, vocab: Vocab,
                 position: Position | None = None):
        self.stories, self.cfg, self.vocab = list(stories), cfg, vocab
        self.position = position or Position()
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def epoch_stream(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        if epoch not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k >= epoch - 1}
            self._cache[epoch] = build_epoch(self.stories, self.cfg, self.vocab, epoch)
        return self._cache[epoch]

    def epoch_tokens(self) -> int:
        """Tokens in one epoch (language draws change lengths little; this is epoch 0)."""
        return len(self.epoch_stream(0)[0])

    def next_window(self) -> tuple[np.ndarray, np.ndarray]:
        """One window (tokens int32 [L], langs int8 [L]); advances the position."""
        need, epoch, offset = self.cfg.context, self.position.epoch, self.position.offset
        toks, langs = [], []
        while need > 0:
            t, l = self.epoch_stream(epoch)
            take = min(need, len(t) - offset)
            toks.append(t[offset:offset + take])
            langs.append(l[offset:offset + take])
            need -= take
            offset += take
            if offset >= len(t):
                epoch, offset = epoch + 1, 0
        self.position = Position(epoch, offset)
        return np.concatenate(toks), np.concatenate(langs)

    def next_batch(self, n: int, skip_before: int = 0, skip_after: int = 0):
        """`n` windows as (tokens int64 [n, L], langs int8 [n, L]).

        skip_before/skip_after: windows consumed but not returned around the batch; data
        parallel ranks use them to read disjoint slices of one global batch.
        """
        for _ in range(skip_before):
            self.next_window()
        pairs = [self.next_window() for _ in range(n)]
        for _ in range(skip_after):
            self.next_window()
        return (np.stack([t for t, _ in pairs]).astype(np.int64),
                np.stack([l for _, l in pairs]))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while True:
            yield self.next_window()


# ---------------------------------------------------------------- plots


def plot_sequence(tokens: np.ndarray, langs: np.ndarray, title: str = "training sequence"):
    """A plotly figure of one sequence [L]: token id over position, coloured by language."""
    import plotly.graph_objects as go

    tokens, langs = np.asarray(tokens), np.asarray(langs)
    colours = {0: "#1f77b4", 1: "#d62728", SPECIAL: "#7f7f7f"}
    names = {0: "en", 1: "fr", SPECIAL: "special"}
    fig = go.Figure()
    pos = np.arange(len(tokens))
    for value, name in names.items():
        mask = langs == value
        if mask.any():
            fig.add_trace(go.Scatter(x=pos[mask], y=tokens[mask], mode="markers", name=name,
                                     marker=dict(color=colours[value], size=4)))
    fig.update_layout(title=title, height=260, xaxis_title="position", yaxis_title="token id",
                      legend_title="language")
    return fig
