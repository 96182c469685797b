"""The demo's reference set (aligned EN/FR sentences as units) and its 2-D maps per layer.

Reference set: the checkpoint's own `aligned.jsonl` (next to it, or in the eval set of a
corpus its slmlab.json names), else sentences of held-out stories of slmlab.world spoken by
test voices and tokenized here, cached as `<cache>/reference.jsonl`.

Maps: PCA at once for every layer; UMAP fitted per layer in one background thread (numba
compiles on first use, ~15-30 s on 2 cores). Only arrays are cached on disk
(`<cache>/umap-layer<l>.npz`: the fitted 2-D coordinates and a hash of the states they were
fitted on), never a pickled reducer: a prompt is placed on a UMAP map by interpolating the
coordinates of its nearest reference sentences (cosine in the full hidden space), which is
how UMAP's own `transform` initialises a new point before refining it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from slmlab.constants import LANGS
from slmlab.files import read_jsonl, write_jsonl
from slmlab.probe import Projector
from slmlab.speech import synthesize, voice_for_story
from slmlab.world import generate_stories

log = logging.getLogger("slmlab.app")

PLACE_NEIGHBOURS = 5  # reference points whose 2-D positions place a new state on a UMAP map


# ----------------------------------------------------------------------------- reference set


def _strings(obj: Any):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)


def find_aligned(ckpt: Path, info: dict) -> Path | None:
    """An aligned.jsonl made with this checkpoint's tokenizer: next to the checkpoint, or in
    the eval set of a corpus dir named anywhere in slmlab.json."""
    for d in (ckpt, ckpt / "eval", ckpt / "reference"):
        if (d / "aligned.jsonl").is_file():
            return d / "aligned.jsonl"
    for s in _strings(info):
        if len(s) > 300 or "/" not in s:  # paths only (not texts or checksums)
            continue
        for base in (Path(s), ckpt / s):
            for f in (base / "eval" / "aligned.jsonl", base / "aligned.jsonl"):
                if f.is_file():
                    return f
    return None


def synthesize_reference(tok: Any, n_pairs: int, seed: int = 0) -> list[dict]:
    """aligned.jsonl-style rows from held-out stories of slmlab.world, spoken by test voices
    and tokenized with `tok`: [{pair_id, en_text, fr_text, en: [int], fr: [int]}]."""
    rows: list[dict] = []
    n_stories = max(2, n_pairs // 4 + 1)
    for story in generate_stories(n_stories, seed=seed, split="heldout"):
        voices = {lang: voice_for_story(story.story_id, lang, split="test") for lang in LANGS}
        for i, (en, fr) in enumerate(zip(story.sentences["en"], story.sentences["fr"])):
            units = {lang: tok.encode_np(synthesize(text, voices[lang])).astype(int).tolist()
                     for lang, text in (("en", en), ("fr", fr))}
            rows.append({"pair_id": f"{story.story_id}-{i}", "en_text": en, "fr_text": fr, **units})
            if len(rows) >= n_pairs:
                return rows
    return rows


def load_reference(ckpt: Path, info: dict, tok: Any, n_pairs: int, cache: Path) -> tuple[list[dict], str]:
    """(rows, where they came from): the checkpoint's aligned.jsonl, else a cached or freshly
    synthesised set (written to `cache/reference.jsonl`)."""
    found = find_aligned(ckpt, info)
    if found is not None:
        rows = [r for r in read_jsonl(found) if r.get("en") and r.get("fr")]
        if len(rows) >= 4:
            return _spread(rows, n_pairs), str(found)
    cached = cache / "reference.jsonl"
    if cached.is_file():
        return read_jsonl(cached)[:n_pairs], f"{cached} (synthesised earlier)"
    rows = synthesize_reference(tok, n_pairs)
    write_jsonl(rows, cached)
    return rows, f"{cached} (synthesised from slmlab.world held-out stories)"


def _spread(rows: list[dict], n: int) -> list[dict]:
    """n rows spread over the file (eval sets are ordered by story: keep variety)."""
    if len(rows) <= n:
        return rows
    idx = np.linspace(0, len(rows) - 1, n).round().astype(int)
    return [rows[i] for i in idx]


# ----------------------------------------------------------------------------- the 2-D maps


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


class FittedMap(Projector):
    """A 2-D map held as arrays: reference states [N, H] and their coordinates [N, 2].

    New states are placed at the inverse-distance-weighted mean of the coordinates of their
    PLACE_NEIGHBOURS nearest reference states (cosine after removing the reference mean: raw
    hidden states all point the same way), so no fitted reducer is kept or unpickled and a
    reference state lands on its own point; `nearest` and `figure` are Projector's."""

    def __init__(self, ref: np.ndarray, labels: Sequence[str], texts: Sequence[str],
                 coords: np.ndarray, method: str = "umap"):
        super().__init__("pca")
        super().fit(ref, labels, texts)  # sets ref, labels, texts (PCA basis: unused)
        if coords.shape != (len(ref), 2):
            raise ValueError(f"coords must be [{len(ref)}, 2]; got {coords.shape}")
        self.method, self.coords = method, np.asarray(coords, dtype=np.float32)
        self._center = self.ref.mean(0)
        self._unit_ref = _unit_rows(self.ref - self._center)  # [N, H]

    def transform(self, states: np.ndarray) -> np.ndarray:
        """[M, H] -> [M, 2]."""
        x = _unit_rows(np.atleast_2d(states) - self._center)
        sim = x @ self._unit_ref.T  # [M, N]
        k = min(PLACE_NEIGHBOURS, sim.shape[1])
        idx = np.argsort(-sim, axis=1)[:, :k]  # [M, k]
        w = 1.0 / (1.0 - np.take_along_axis(sim, idx, 1) + 1e-6)  # [M, k]
        w /= w.sum(1, keepdims=True)
        return (w[..., None] * self.coords[idx]).sum(1).astype(np.float32)


def states_hash(states: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(states, dtype=np.float32).tobytes()).hexdigest()[:16]


class LayerMaps:
    """One map per layer over the reference states: PCA at once, UMAP when fitted.

    en, fr: float32 [L+1, N, H] states of the aligned reference pairs. UMAP fits run in one
    background thread (best layer first); until a layer's fit is ready its map is PCA, so no
    request ever waits for numba. A failed fit is logged with its traceback and leaves PCA."""

    def __init__(self, en: np.ndarray, fr: np.ndarray, texts: tuple[list[str], list[str]],
                 cache: Path | None, use_umap: bool = True):
        self.en, self.fr, self.cache, self.use_umap = en, fr, cache, use_umap
        n = en.shape[1]
        self.labels, self.texts = ["en"] * n + ["fr"] * n, texts[0] + texts[1]
        self.pair_ids = list(range(n)) * 2
        self.pca: dict[int, Projector] = {}
        self.umap: dict[int, FittedMap] = {}
        self.lock = threading.Lock()  # guards the dicts
        self.thread: threading.Thread | None = None
        self.umap_error: str | None = None

    def states(self, layer: int) -> np.ndarray:
        return np.concatenate([self.en[layer], self.fr[layer]])  # [2N, H]

    def get(self, layer: int) -> Projector:
        """The best map ready for `layer`: UMAP if fitted, else PCA (fitted now, ~ms)."""
        with self.lock:
            if layer in self.umap:
                return self.umap[layer]
            if layer not in self.pca:
                self.pca[layer] = Projector("pca").fit(self.states(layer), self.labels, self.texts)
            return self.pca[layer]

    def start(self, order: Sequence[int]) -> None:
        """Fit UMAP for `order` layers in a daemon thread (no-op without UMAP)."""
        if not self.use_umap or self.thread is not None:
            return
        self.thread = threading.Thread(target=self._fit_all, args=(list(order),), daemon=True,
                                       name="slmlab-umap")
        self.thread.start()

    def _fit_all(self, order: list[int]) -> None:
        try:
            for layer in order:
                fitted = self.load_or_fit(layer)
                with self.lock:
                    self.umap[layer] = fitted
        except Exception as e:  # a background thread has no caller: log it, PCA keeps serving
            self.umap_error = f"{type(e).__name__}: {e}"
            log.exception("UMAP fitting failed; maps stay PCA")

    def cache_file(self, layer: int) -> Path | None:
        return self.cache / f"umap-layer{layer}.npz" if self.cache else None

    def load_or_fit(self, layer: int) -> FittedMap:
        """The UMAP map of `layer`: its cached coordinates when fitted on these very states,
        else a new fit (whose coordinates are then cached)."""
        states = self.states(layer)
        key = states_hash(states)
        f = self.cache_file(layer)
        if f is not None and f.is_file():
            with np.load(f, allow_pickle=False) as z:
                if str(z["key"]) == key and z["coords"].shape == (len(states), 2):
                    return FittedMap(states, self.labels, self.texts, z["coords"])
            log.info("UMAP cache %s was fitted on other states: refitting", f)
        coords = Projector("umap").fit(states, self.labels, self.texts).coords
        if f is not None:
            try:
                f.parent.mkdir(parents=True, exist_ok=True)
                tmp = f.with_name(f"{f.stem}.tmp{threading.get_ident()}.npz")
                np.savez(tmp, coords=np.asarray(coords, np.float32), key=np.array(key))
                tmp.replace(f)
            except OSError as e:  # a read-only cache only costs the next start a refit
                log.warning("could not cache the UMAP map in %s: %s", f.parent, e)
        return FittedMap(states, self.labels, self.texts, coords)
