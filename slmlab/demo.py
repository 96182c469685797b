"""The live demo's engine: a checkpoint, its tokenizer and a reference set, loaded once.

`DemoSession(model_dir)` is what `app/` wires into widgets (the app holds no logic):
- `prompt_from_text(text, lang)` / `prompt_from_audio(src)` -> float32 [T] at 24 kHz;
- `continue_speech(wav, seconds, ...)` -> `Continuation` (prompt/new units, decoded audio);
- `cloze(context, ending_a, ending_b, ...)` -> `ClozeResult` (mean log-likelihood per token of
  `[BOS] + context + ending`, the scoring of slmlab.evaluate);
- `project(units, layer)` -> `Projection`: the reference map of aligned EN/FR sentences at one
  layer (UMAP when fitted, PCA until then) with the prompt placed in it and its nearest
  neighbours per language (cosine in the full hidden space).

Reference set: the checkpoint's own `aligned.jsonl` (next to it, or in the corpus its slmlab.json
names), else sentences of held-out stories of slmlab.world synthesised with test voices and
tokenized here, cached under `cache_dir()/demo/<key>/`. Hidden states of every layer are computed
once at load; UMAP is imported and fitted per layer in a background thread (numba compiles on
first use, ~15-30 s on 2 cores), and fitted reducers are cached on disk with joblib.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from slmlab.constants import LANGS

log = logging.getLogger("slmlab.demo")

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "app" / "model"
MAX_PROMPT_SECONDS = 30.0  # longer prompts are refused (units grow at 12.5 Hz; the demo is live)
MAX_CONTINUATION_SECONDS = 20.0
REFERENCE_PAIRS = 60  # aligned EN/FR pairs in the map: 120 points, UMAP fits in ~1 s once compiled
NEIGHBOURS = 3  # nearest reference sentences shown per language
HOW_TO_GET_A_MODEL = (
    "Train one on this machine with `slmlab quickstart` (CPU, ~10 min), then start the demo "
    "with `slmlab app --model runs/quickstart/ckpt/<stage>` (any checkpoint dir or a run dir "
    "with a `latest` file). The repository's default model lives in app/model/.")


class ModelNotFoundError(FileNotFoundError):
    """No usable checkpoint where the demo looked; the message says how to get one."""


# ----------------------------------------------------------------------------- results


@dataclass
class Continuation:
    """One speech continuation: units at the tokenizer's frame rate, audio at 24 kHz."""

    prompt_audio: np.ndarray  # float32 [T] what the user gave (24 kHz)
    prompt_units: np.ndarray  # int64 [F]
    new_units: np.ndarray  # int64 [N] sampled by the model
    audio: np.ndarray  # float32 [N * hop] the new units decoded
    frame_rate: float
    elapsed: float  # seconds spent (encode + sample + decode)


@dataclass
class ClozeResult:
    """Two endings scored after one context (higher mean log-likelihood per token wins)."""

    scores: dict[str, float]  # {"A": mean log p, "B": mean log p}
    ending_scores: dict[str, float]  # mean log p over the ending tokens only
    n_units: dict[str, int]  # units per sequence (context + ending)
    preferred: str  # "A" | "B"


@dataclass
class Projection:
    """The reference map at `layer` with the prompt placed in it."""

    layer: int
    method: str  # "umap" | "pca"
    figure: Any  # plotly Figure
    nearest: dict[str, list[dict]] = field(default_factory=dict)  # lang -> [{text, cosine}]
    xy: np.ndarray | None = None  # [1, 2] the prompt's position (None without a prompt)


# ----------------------------------------------------------------------------- loading


def find_checkpoint(path: str | Path | None) -> Path:
    """The checkpoint dir to serve (default app/model/), or ModelNotFoundError saying how."""
    from slmlab.model import resolve_checkpoint

    p = Path(path) if path else DEFAULT_MODEL_DIR
    try:
        return resolve_checkpoint(p)
    except FileNotFoundError:
        what = "the default model dir" if path is None else "the --model path"
        raise ModelNotFoundError(f"no slmlab checkpoint at {p} ({what}: no config.json or "
                                 f"`latest` file). {HOW_TO_GET_A_MODEL}") from None


def find_tokenizer(ckpt: Path, info: dict):
    """The checkpoint's tokenizer: `<ckpt>/tokenizer/` (or its parents'), else slmlab.json's
    `tokenizer` entry (a path, relative to the checkpoint or absolute, or 'mimi')."""
    from slmlab.tokenizers.base import load_tokenizer

    for d in (ckpt, *list(ckpt.parents)[:3]):
        if (d / "tokenizer" / "tokenizer.json").exists():
            return load_tokenizer(d / "tokenizer")
    entry = info.get("tokenizer")
    spec = entry.get("path") if isinstance(entry, dict) else entry
    kind = entry.get("kind") if isinstance(entry, dict) else None
    if spec:
        for cand in (Path(spec), ckpt / spec, Path.cwd() / spec):
            if cand.exists():
                return load_tokenizer(cand)
        if str(spec) == "mimi":
            return load_tokenizer("mimi")
    if kind == "mimi" or (isinstance(entry, str) and entry.startswith("mimi")):
        return load_tokenizer("mimi")
    raise ModelNotFoundError(f"no tokenizer for {ckpt}: put it in {ckpt / 'tokenizer'} or name "
                             f"its path in slmlab.json's `tokenizer` (found {entry!r})")


def describe_model(ckpt: Path, info: dict, model: Any, tok: Any) -> str:
    """A few plain lines (markdown) on what is loaded and what it was trained on."""
    from slmlab.model import count_params

    cfg = model.config
    n = count_params(model)
    size = f"{n / 1e6:.1f}M" if n < 1e9 else f"{n / 1e9:.2f}B"
    lines = [f"**Model**: `{ckpt}` — {size} parameters, {cfg.num_hidden_layers} layers, "
             f"hidden {cfg.hidden_size}; tokenizer `{getattr(tok, 'name', '?')}` "
             f"({getattr(tok, 'vocab_size', '?')} units at {getattr(tok, 'frame_rate', '?')} Hz)."]
    stage, seen = info.get("stage"), info.get("tokens_seen")
    if stage or seen:
        lines.append(f"**Training**: stage `{stage or '?'}`" +
                     (f", {int(seen):,} tokens seen" if seen else "") + ".")
    card = info.get("trained_on") or info.get("description") or _card_text(ckpt)
    lines.append(f"**Trained on**: {card}" if card else
                 "**Trained on**: not recorded (add `trained_on` to slmlab.json or a README.md "
                 "next to the checkpoint).")
    lines.append("Speech-only model (no text): expect speech-like continuations from a small "
                 "model, and scores that reflect what it learned from its corpus.")
    return "\n\n".join(lines)


def _card_text(ckpt: Path) -> str:
    for d in (ckpt, ckpt.parent):
        for name in ("MODEL_CARD.md", "README.md", "model_card.md"):
            f = d / name
            if f.is_file():
                text = " ".join(ln.strip() for ln in f.read_text().splitlines()
                                if ln.strip() and not ln.startswith("#"))
                return text[:600]
    return ""


def _cache_key(ckpt: Path, tok: Any, n_pairs: int) -> str:
    """Changes when the weights, the tokenizer or the reference size change."""
    parts = [str(ckpt.resolve()), getattr(tok, "name", ""), str(n_pairs)]
    for f in sorted(ckpt.glob("*.safetensors")) + sorted(ckpt.glob("*.bin")):
        st = f.stat()
        parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    try:
        parts.append(tok.checksum())
    except Exception:  # a tokenizer without a checksum still gets a usable key
        pass
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


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
        if len(s) > 300 or "/" not in s:
            continue
        for base in (Path(s), ckpt / s):
            for f in (base / "eval" / "aligned.jsonl", base / "aligned.jsonl"):
                try:
                    if f.is_file():
                        return f
                except OSError:
                    continue
    return None


# ----------------------------------------------------------------------------- reference set


def synthesize_reference(tok: Any, n_pairs: int, seed: int = 0) -> list[dict]:
    """aligned.jsonl-style rows from held-out stories of slmlab.world, spoken by test voices
    and tokenized with `tok`: [{pair_id, en_text, fr_text, en: [int], fr: [int]}]."""
    from slmlab.speech import synthesize, voice_for_story
    from slmlab.world import generate_stories

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
    from slmlab.evaluate import read_jsonl

    found = find_aligned(ckpt, info)
    if found is not None:
        rows = [r for r in read_jsonl(found) if r.get("en") and r.get("fr")]
        if len(rows) >= 4:
            return _spread(rows, n_pairs), str(found)
    cached = cache / "reference.jsonl"
    if cached.is_file():
        return read_jsonl(cached)[:n_pairs], f"{cached} (synthesised earlier)"
    rows = synthesize_reference(tok, n_pairs)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tmp.replace(cached)
    return rows, f"{cached} (synthesised from slmlab.world held-out stories)"


def _spread(rows: list[dict], n: int) -> list[dict]:
    """n rows spread over the file (eval sets are ordered by story: keep variety)."""
    if len(rows) <= n:
        return rows
    idx = np.linspace(0, len(rows) - 1, n).round().astype(int)
    return [rows[i] for i in idx]


# ----------------------------------------------------------------------------- the 2-D maps


class LayerMaps:
    """One Projector per layer over the reference states: PCA at once, UMAP when fitted.

    en, fr: float32 [L+1, N, H] states of the aligned reference pairs. UMAP fits run in one
    background thread (best layer first) and are cached on disk (`cache/umap-layer<l>.joblib`);
    until a layer's fit is ready its map is PCA, so no request ever waits for numba."""

    def __init__(self, en: np.ndarray, fr: np.ndarray, texts: tuple[list[str], list[str]],
                 cache: Path | None, use_umap: bool = True):
        self.en, self.fr, self.cache, self.use_umap = en, fr, cache, use_umap
        n = en.shape[1]
        self.labels, self.texts = ["en"] * n + ["fr"] * n, texts[0] + texts[1]
        self.pair_ids = list(range(n)) * 2
        self.pca: dict[int, Any] = {}
        self.umap: dict[int, Any] = {}
        self.lock = threading.Lock()  # guards the dicts and serialises UMAP transforms
        self.thread: threading.Thread | None = None
        self.umap_error: str | None = None

    def states(self, layer: int) -> np.ndarray:
        return np.concatenate([self.en[layer], self.fr[layer]])  # [2N, H]

    def get(self, layer: int):
        """The best map ready for `layer`: UMAP if fitted, else PCA (fitted now, ~ms)."""
        from slmlab.probe import Projector

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

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the background fits are done; True when every layer has UMAP."""
        if self.thread is not None:
            self.thread.join(timeout)
        return len(self.umap) == self.en.shape[0]

    def _fit_all(self, order: list[int]) -> None:
        try:
            for layer in order:
                proj = self._load_or_fit(layer)
                proj.transform(self.states(layer)[:1])  # compile the transform path too
                with self.lock:
                    self.umap[layer] = proj
        except Exception as e:  # UMAP missing or failing: PCA keeps serving
            self.umap_error = f"{type(e).__name__}: {e}"
            log.warning("UMAP unavailable, maps stay PCA: %s", self.umap_error)

    def _load_or_fit(self, layer: int):
        import joblib

        from slmlab.probe import Projector

        f = self.cache / f"umap-layer{layer}.joblib" if self.cache else None
        if f is not None and f.is_file():
            try:
                import umap  # noqa: F401  (unpickling needs the module)

                return joblib.load(f)
            except Exception as e:  # a stale or broken cache: fit again
                log.info("refitting UMAP for layer %d (%s)", layer, e)
        proj = Projector("umap").fit(self.states(layer), self.labels, self.texts)
        if f is not None:
            try:
                f.parent.mkdir(parents=True, exist_ok=True)
                tmp = f.with_suffix(f".tmp{threading.get_ident()}")
                joblib.dump(proj, tmp)
                tmp.replace(f)
            except OSError as e:  # a read-only cache only costs the next start a refit
                log.info("could not cache UMAP: %s", e)
        return proj


# ----------------------------------------------------------------------------- the session


FALLBACK_EXAMPLES = {
    "en": ["The little cat finds a red ball in the garden.", "Tom goes to the beach with his dog."],
    "fr": ["Le petit chat trouve une balle rouge dans le jardin.", "Tom va à la plage avec son chien."],
}


class DemoSession:
    """Model, tokenizer and reference set of one checkpoint, loaded once; thread-safe actions.

    model_dir: a checkpoint dir (or a run dir with `latest`); None -> app/model/.
    reference_pairs: aligned EN/FR pairs in the map. umap: fit UMAP in the background (False:
    PCA only). cache: where synthesised references and fitted maps go (default
    cache_dir()/demo/<key>). single_thread: see `limit_threads` (None: small models only)."""

    def __init__(self, model_dir: str | Path | None = None, *, reference_pairs: int = REFERENCE_PAIRS,
                 umap: bool = True, cache: str | Path | None = None, device: str = "cpu",
                 single_thread: bool | None = None):
        from slmlab.evaluate import vocab_n_units
        from slmlab.model import load_checkpoint
        from slmlab.probe import aligned_states, alignment_by_layer

        t0 = time.perf_counter()
        self.ckpt = find_checkpoint(model_dir)
        self.model, self.info = load_checkpoint(self.ckpt, device=device)
        limit_threads(self.model, single_thread)
        self.tokenizer = find_tokenizer(self.ckpt, self.info)
        self.n_units = vocab_n_units(self.info, self.model)
        self.bos = self.n_units
        self.frame_rate = float(self.tokenizer.frame_rate)
        self.card = describe_model(self.ckpt, self.info, self.model, self.tokenizer)
        self.model_lock = threading.Lock()  # one forward pass at a time: 2 cores, shared RNG-free
        from slmlab.config import cache_dir

        self.cache = Path(cache) if cache else cache_dir() / "demo" / _cache_key(
            self.ckpt, self.tokenizer, reference_pairs)
        rows, self.reference_source = load_reference(self.ckpt, self.info, self.tokenizer,
                                                     reference_pairs, self.cache)
        if len(rows) < 4:
            raise ValueError(f"the reference set has {len(rows)} pairs; need at least 4")
        self.reference = rows
        en, fr = aligned_states(self.model, rows, bos=self.bos, progress=False)
        self.alignment = alignment_by_layer(en, fr)
        self.default_layer = int(max(self.alignment, key=lambda r: r["gap"])["layer"])
        self.maps = LayerMaps(en, fr, ([r["en_text"] for r in rows], [r["fr_text"] for r in rows]),
                              self.cache, use_umap=umap)
        others = [i for i in range(self.n_layers) if i != self.default_layer]
        self.maps.start([self.default_layer, *others])
        self.load_seconds = time.perf_counter() - t0

    @property
    def n_layers(self) -> int:
        """Number of hidden-state layers: embeddings (0) + one per block."""
        return int(self.maps.en.shape[0])

    # -- prompts --------------------------------------------------------------------------
    def prompt_from_text(self, text: str, lang: str) -> np.ndarray:
        """Speak `text` with the first held-out voice of `lang` -> float32 [T] at 24 kHz."""
        if lang not in LANGS:
            raise ValueError(f"language must be one of {', '.join(LANGS)}; got {lang!r}")
        text = (text or "").strip()
        if not text:
            raise ValueError("type a sentence to speak first (or record / upload audio)")
        if len(text) > 600:
            raise ValueError(f"the text is too long ({len(text)} characters, limit 600)")
        return _speak(text, lang).copy()

    def prompt_from_audio(self, src: Any) -> np.ndarray:
        """A path, bytes or (sample_rate, array) -> float32 [T] at 24 kHz; AudioError if unusable."""
        from slmlab.speech import AudioError, load_audio

        if src is None:
            raise AudioError("no audio: record with the microphone or upload a file first")
        try:
            return load_audio(src, max_seconds=MAX_PROMPT_SECONDS)
        except AudioError as e:  # name the upload, not the server's temp path
            if isinstance(src, (str, Path)) and str(src) in str(e):
                raise AudioError(str(e).replace(str(src), f"'{Path(src).name}'")) from None
            raise

    def encode(self, wav: np.ndarray) -> np.ndarray:
        """float32 [T] at 24 kHz -> unit ids int64 [ceil(T / hop)]."""
        with self.model_lock:
            return np.asarray(self.tokenizer.encode_np(wav), dtype=np.int64)

    # -- actions --------------------------------------------------------------------------
    def continue_speech(self, wav: np.ndarray, seconds: float = 5.0, temperature: float = 0.8,
                        top_k: int = 50, seed: int = 0) -> Continuation:
        """Encode the prompt, sample about `seconds` of new units (slmlab.generate; fewer if the
        model emits EOS), decode them -> Continuation."""
        if not 0 < seconds <= MAX_CONTINUATION_SECONDS:
            raise ValueError(f"continuation length must be in (0, {MAX_CONTINUATION_SECONDS:g}] s")
        if not 0 <= temperature <= 5:
            raise ValueError(f"temperature must be in [0, 5]; got {temperature}")
        from slmlab import generate

        t0 = time.perf_counter()
        with self.model_lock:
            if getattr(self.tokenizer, "kind", None) == "builtin":
                # its Griffin-Lim decoder is frame-local: decoding only the new units halves
                # the decode time (~0.4 s of a 5 s + 5 s request on 2 cores)
                prompt = np.asarray(self.tokenizer.encode_np(wav), np.int64)
                new = generate.sample_units(self.model, prompt.tolist(), n_units=self.n_units,
                                            max_new=max(1, round(seconds * self.frame_rate)),
                                            temperature=temperature, top_k=int(top_k) or None,
                                            seed=int(seed))
                audio = generate.units_to_audio(self.tokenizer, new)
            else:  # codecs (Mimi) decode better with the prompt as context: slmlab.generate
                prompt, new, audio = generate.continue_speech(
                    self.model, self.tokenizer, wav, seconds=seconds, temperature=temperature,
                    top_k=int(top_k) or None, seed=int(seed), n_units=self.n_units)
        return Continuation(wav, np.asarray(prompt, np.int64), np.asarray(new, np.int64),
                            np.asarray(audio, np.float32), self.frame_rate,
                            time.perf_counter() - t0)

    def score_units(self, context: Sequence[int], endings: dict[str, Sequence[int]]) -> ClozeResult:
        """Mean log-likelihood per token of `[BOS] + context + ending` for each ending."""
        from slmlab.evaluate import token_logprobs

        names = list(endings)
        seqs = [[self.bos, *map(int, context), *map(int, endings[k])] for k in names]
        with self.model_lock:
            lps = token_logprobs(self.model, seqs, progress=False)
        n_ctx = len(context)
        scores = {k: float(lp.mean()) for k, lp in zip(names, lps)}
        ends = {k: float(lp[n_ctx:].mean()) for k, lp in zip(names, lps)}
        best = max(names, key=lambda k: scores[k])
        return ClozeResult(scores, ends, {k: len(s) - 1 for k, s in zip(names, seqs)}, best)

    def cloze(self, context: str, ending_a: str, ending_b: str, context_lang: str = "en",
              ending_lang: str = "en") -> ClozeResult:
        """Speak a story context and two endings (text, either language) and score them."""
        if not (ending_a or "").strip() or not (ending_b or "").strip():
            raise ValueError("give both endings (A and B)")
        ctx = _units_of(self, context, context_lang)
        return self.score_units(ctx, {"A": _units_of(self, ending_a, ending_lang),
                                      "B": _units_of(self, ending_b, ending_lang)})

    def project(self, units: Sequence[int] | None, layer: int, label: str = "your prompt") -> Projection:
        """The reference map at `layer` with `units` (if any) placed in it as a star."""
        from slmlab.probe import embed_units

        if not 0 <= int(layer) < self.n_layers:
            raise ValueError(f"layer must be in 0..{self.n_layers - 1}; got {layer}")
        layer = int(layer)
        proj = self.maps.get(layer)
        title = f"layer {layer} ({proj.method.upper()}), {len(self.reference)} EN/FR pairs"
        if units is None or len(units) == 0:
            return Projection(layer, proj.method, proj.figure(self.maps.pair_ids, title=title))
        with self.model_lock:
            state = embed_units(self.model, list(units), bos=self.bos, layer=layer)
        with self.maps.lock:  # UMAP's transform is not known to be thread-safe
            fig = proj.figure(self.maps.pair_ids, extra=state[None], extra_labels=[label], title=title)
        xy = np.array([[fig.data[-1].x[0], fig.data[-1].y[0]]])
        return Projection(layer, proj.method, fig, proj.nearest(state, NEIGHBOURS), xy)

    # -- examples -------------------------------------------------------------------------
    def examples(self, per_lang: int = 2) -> dict[str, list[str]]:
        """Prompt texts per language from held-out stories (fixed sentences without slmlab.world)."""
        return _examples(per_lang)

    def cloze_items(self, n: int = 6) -> list[dict]:
        """Benchmark story-cloze items in the four conditions, as texts:
        [{label, context, ending_a, ending_b, context_lang, ending_lang, right}]."""
        return _cloze_items(n)


SMALL_MODEL = 50_000_000  # parameters; below this one CPU thread is as fast as several


def limit_threads(model: Any, single_thread: bool | None = None) -> None:
    """Use one torch CPU thread (process-wide) for small models on CPU.

    Measured on the 2-core dev machine under load: a 4M-parameter forward of 44 tokens takes
    ~0.03 s with 1 thread and 0.5-1.6 s with 2 (OpenMP threads spin while other processes
    hold the cores); a live server also runs requests side by side, so one thread each is the
    better split. Big models on CPU keep torch's default."""
    from slmlab.model import count_params

    on_cpu = next(model.parameters()).device.type == "cpu"
    if single_thread is None:
        single_thread = on_cpu and count_params(model) < SMALL_MODEL
    if single_thread:
        torch.set_num_threads(1)


@lru_cache(maxsize=512)
def _speak(text: str, lang: str) -> np.ndarray:
    from slmlab.speech import synthesize, voices

    return synthesize(text, voices(lang, "test")[0])


def _units_of(session: DemoSession, text: str, lang: str) -> list[int]:
    return session.encode(session.prompt_from_text(text, lang)).tolist()


@lru_cache(maxsize=4)
def _examples(per_lang: int) -> dict[str, list[str]]:
    try:
        from slmlab.world import generate_stories

        stories = generate_stories(per_lang, seed=7, split="heldout")
        return {lang: [s.sentences[lang][0] for s in stories] for lang in LANGS}
    except Exception as e:  # the world module is optional for the demo's examples
        log.info("examples fall back to fixed sentences: %s", e)
        return {lang: FALLBACK_EXAMPLES[lang][:per_lang] for lang in LANGS}


@lru_cache(maxsize=4)
def _cloze_items(n: int) -> list[dict]:
    try:
        from slmlab.world import make_benchmark

        items = make_benchmark(n_items=max(n, 8), seed=0).story_cloze[:n]
    except Exception as e:
        log.info("cloze examples fall back to a fixed item: %s", e)
        items = []
    conds = ("en-en", "fr-fr", "en-fr", "fr-en")
    out = []
    for i, it in enumerate(items):
        c, e = conds[i % 4].split("-")
        right, wrong = it.right[e], it.wrong[e]
        a, b, r = (right, wrong, "A") if i % 2 == 0 else (wrong, right, "B")
        out.append({"label": f"{it.item_id} ({c}→{e}, {it.topic})", "context": " ".join(it.context[c]),
                    "ending_a": a, "ending_b": b, "context_lang": c, "ending_lang": e, "right": r})
    if not out:
        out.append({"label": "example (en→fr)", "context": FALLBACK_EXAMPLES["en"][1],
                    "ending_a": "Le chien court sur le sable.", "ending_b": "La fusée vole vers la lune.",
                    "context_lang": "en", "ending_lang": "fr", "right": "A"})
    return out
