"""The live demo's engine: a checkpoint, its tokenizer and a reference set, loaded once.

`DemoSession(model_dir)` is what the widgets (`ui.py`, `actions.py`) call:
- `prompt_from_text(text, lang)` / `prompt_from_audio(src)` -> float32 [T] at 24 kHz (a
  recording is trimmed to speech and loudness-normalised first: slmlab.speech.prompt);
- `continue_speech(wav, seconds, ...)` -> `Continuation`: prompt units, new units, the prompt
  as the model heard it (its units decoded) and the continuation (slmlab.generate);
- `cloze(...)` / `cloze_controls(...)` -> `ClozeResult`s: mean log-likelihood per token of
  `[BOS] + context + ending` (slmlab.evaluate's scoring), with the true context, no context
  and another story's context, so one sees whether the model uses the story;
- `project(units, layer)` -> `Projection` on the reference map (app/reference.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from app.reference import LayerMaps, load_reference
from slmlab import generate
from slmlab.config import cache_dir
from slmlab.constants import LANGS
from slmlab.evaluate import token_logprobs, vocab_n_units
from slmlab.generate import MAX_PROMPT_SECONDS, SamplingConfig, check_text
from slmlab.model import count_params, load_checkpoint, resolve_checkpoint
from slmlab.probe import aligned_states, alignment_by_layer, embed_units
from slmlab.speech import AudioError, load_audio, synthesize, voices
from slmlab.speech.prompt import prepare_prompt
from slmlab.tokenizers import load_tokenizer, recorded_tokenizer
from slmlab.world import CONDITIONS, generate_stories
from slmlab.world.benchmark import story_cloze

log = logging.getLogger("slmlab.app")

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"  # the committed default model
# the limits on prompts and continuations are the CLI's: slmlab.generate holds them for both
REFERENCE_PAIRS = 60  # aligned EN/FR pairs in the map: 120 points, UMAP fits in ~1 s once compiled
NEIGHBOURS = 3  # nearest reference sentences shown per language
SPEECH_CACHE_BYTES = 64 << 20  # synthesised prompts kept in memory (LRU by bytes)
SMALL_MODEL = 50_000_000  # parameters; below this one CPU thread is as fast as several
HOW_TO_GET_A_MODEL = (
    "Train one on this machine with `slmlab quickstart` (CPU, ~10 min), then start the demo "
    "with `slmlab app --model runs/quickstart/ckpt/<stage>` (any checkpoint dir or a run dir "
    "with a `latest` file). The repository's default model lives in app/model/.")


class ModelNotFoundError(FileNotFoundError):
    """No usable checkpoint where the demo looked; the message says how to get one."""


@dataclass
class Continuation:
    """One speech continuation: units at the tokenizer's frame rate, audio at 24 kHz."""

    prompt_audio: np.ndarray  # float32 [T] the prompt after preparation (24 kHz)
    prompt_units: np.ndarray  # int64 [P]
    heard: np.ndarray  # float32 [P * hop] the prompt's units decoded: what the model heard
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


class ByteLRU:
    """A thread-safe LRU dict of numpy arrays bounded by their total bytes (not their count:
    one 40 s prompt weighs as much as a hundred short ones)."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes = int(max_bytes), 0
        self._d: OrderedDict[Any, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> np.ndarray | None:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        return None

    def put(self, key: Any, value: np.ndarray) -> None:
        if value.nbytes > self.max_bytes:
            return
        with self._lock:
            if key in self._d:
                self.bytes -= self._d.pop(key).nbytes
            self._d[key] = value
            self.bytes += value.nbytes
            while self.bytes > self.max_bytes:
                self.bytes -= self._d.popitem(last=False)[1].nbytes

    def __len__(self) -> int:
        return len(self._d)


# ----------------------------------------------------------------------------- loading


def find_checkpoint(path: str | Path | None) -> Path:
    """The checkpoint dir to serve (default app/model/), or ModelNotFoundError saying how."""
    p = Path(path) if path else DEFAULT_MODEL_DIR
    try:
        return resolve_checkpoint(p)
    except FileNotFoundError:
        what = "the default model dir" if path is None else "the --model path"
        raise ModelNotFoundError(f"no slmlab checkpoint at {p} ({what}: no config.json or "
                                 f"`latest` file). {HOW_TO_GET_A_MODEL}") from None


def find_tokenizer(ckpt: Path, info: dict):
    """The checkpoint's tokenizer (slmlab.tokenizers.recorded_tokenizer: a shipped name, a
    path recorded in slmlab.json, or a `tokenizer/` dir beside the checkpoint)."""
    try:
        spec = recorded_tokenizer(info, ckpt)
    except FileNotFoundError as e:
        raise ModelNotFoundError(f"{e}; or put it in {ckpt / 'tokenizer'}") from None
    return load_tokenizer(spec)


def describe_model(ckpt: Path, info: dict, model: Any, tok: Any) -> str:
    """A few plain lines (markdown) on what is loaded and what it was trained on."""
    cfg, n = model.config, count_params(model)
    size = f"{n / 1e6:.1f}M" if n < 1e9 else f"{n / 1e9:.2f}B"
    lines = [f"**Model**: `{ckpt}` — {size} parameters, {cfg.num_hidden_layers} layers, "
             f"hidden {cfg.hidden_size}; tokenizer `{tok.name}` "
             f"({tok.vocab_size} units at {tok.frame_rate} Hz)."]
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


def cache_key(ckpt: Path, tok: Any, n_pairs: int) -> str:
    """Changes when the weights, the tokenizer or the reference size change."""
    parts = [str(ckpt.resolve()), tok.name, str(n_pairs), tok.checksum()]
    for f in sorted(ckpt.glob("*.safetensors")) + sorted(ckpt.glob("*.bin")):
        st = f.stat()
        parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def limit_threads(model: Any, single_thread: bool | None = None) -> None:
    """Use one torch CPU thread (process-wide) for small models on CPU.

    Measured on the 2-core dev machine under load: a 4M-parameter forward of 44 tokens takes
    ~0.03 s with 1 thread and 0.5-1.6 s with 2 (OpenMP threads spin while other processes
    hold the cores); a live server also runs requests side by side, so one thread each is the
    better split. Big models on CPU keep torch's default."""
    on_cpu = next(model.parameters()).device.type == "cpu"
    if single_thread is None:
        single_thread = on_cpu and count_params(model) < SMALL_MODEL
    if single_thread:
        torch.set_num_threads(1)


# ----------------------------------------------------------------------------- the session


class DemoSession:
    """Model, tokenizer and reference set of one checkpoint, loaded once; thread-safe actions.

    model_dir: a checkpoint dir (or a run dir with `latest`); None -> app/model/.
    reference_pairs: aligned EN/FR pairs in the map. umap: fit UMAP in the background (False:
    PCA only). cache: where synthesised references and fitted maps go (default
    cache_dir()/demo/<key>). single_thread: see `limit_threads` (None: small models only)."""

    def __init__(self, model_dir: str | Path | None = None, *, reference_pairs: int = REFERENCE_PAIRS,
                 umap: bool = True, cache: str | Path | None = None, device: str = "cpu",
                 single_thread: bool | None = None):
        t0 = time.perf_counter()
        self.ckpt = find_checkpoint(model_dir)
        self.model, self.info = load_checkpoint(self.ckpt, device=device)
        limit_threads(self.model, single_thread)
        self.tokenizer = find_tokenizer(self.ckpt, self.info)
        self.n_units = vocab_n_units(self.info, self.model)
        self.bos = self.n_units
        self.frame_rate = float(self.tokenizer.frame_rate)
        self.card = describe_model(self.ckpt, self.info, self.model, self.tokenizer)
        self.model_lock = threading.Lock()  # one forward pass at a time (2 cores)
        self.speech_cache = ByteLRU(SPEECH_CACHE_BYTES)
        self.cache = Path(cache) if cache else cache_dir() / "demo" / cache_key(
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
        self._cloze_items = cloze_items(8)
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
        text = check_text(text)
        wav = self.speech_cache.get((text, lang))
        if wav is None:
            wav = synthesize(text, voices(lang, "test")[0])  # shared: callers never write to it
            self.speech_cache.put((text, lang), wav)
        return wav

    def prompt_from_audio(self, src: Any) -> np.ndarray:
        """A path, bytes or (sample_rate, array) -> float32 [T] at 24 kHz, trimmed to speech
        and loudness-normalised (what a microphone gives is rarely what the model was fed);
        AudioError with a user-facing message if unusable."""
        if src is None:
            raise AudioError("no audio: record with the microphone or upload a file first")
        try:
            return prepare_prompt(load_audio(src, max_seconds=MAX_PROMPT_SECONDS))
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
        """Encode the prompt, sample about `seconds` of new units (fewer if the model emits
        EOS), decode prompt and continuation together (slmlab.generate) -> Continuation."""
        SamplingConfig(seconds, temperature, int(top_k), int(seed))  # the CLI's checks
        t0 = time.perf_counter()
        with self.model_lock:
            prompt, new, audio = generate.continue_speech(
                self.model, self.tokenizer, wav, seconds=seconds, temperature=temperature,
                top_k=int(top_k) or None, seed=int(seed), n_units=self.n_units, include_prompt=True)
        cut = len(prompt) * self.tokenizer.hop  # audio: [(P + N) * hop], prompt first
        return Continuation(wav, np.asarray(prompt, np.int64), audio[:cut],
                            np.asarray(new, np.int64), audio[cut:], self.frame_rate,
                            time.perf_counter() - t0)

    def score_units(self, context: Sequence[int], endings: dict[str, Sequence[int]]) -> ClozeResult:
        """Mean log-likelihood per token of `[BOS] + context + ending` for each ending."""
        names = list(endings)
        seqs = [[self.bos, *map(int, context), *map(int, endings[k])] for k in names]
        with self.model_lock:
            lps = token_logprobs(self.model, seqs, progress=False)
        n_ctx = len(context)
        scores = {k: float(lp.mean()) for k, lp in zip(names, lps)}
        ends = {k: float(lp[n_ctx:].mean()) for k, lp in zip(names, lps)}
        best = max(names, key=lambda k: scores[k])
        return ClozeResult(scores, ends, {k: len(s) - 1 for k, s in zip(names, seqs)}, best)

    def units_of(self, text: str, lang: str) -> list[int]:
        """Units of `text` spoken by the first held-out voice of `lang`."""
        return self.encode(self.prompt_from_text(text, lang)).tolist()

    def cloze(self, context: str, ending_a: str, ending_b: str, context_lang: str = "en",
              ending_lang: str = "en") -> ClozeResult:
        """Speak a story context and two endings (text, either language) and score them."""
        return self.cloze_controls(context, ending_a, ending_b, context_lang, ending_lang,
                                   controls=False)["story"]

    def cloze_controls(self, context: str, ending_a: str, ending_b: str, context_lang: str = "en",
                       ending_lang: str = "en", other_context: str | None = None,
                       controls: bool = True) -> dict[str, ClozeResult]:
        """{"story": the true context, "none": no context, "other": another story's context}.

        If the model uses the story, its preference follows the context: it should change
        (or weaken) when the story is removed or swapped. `other_context` defaults to the
        context of a benchmark item that differs from `context` (same language)."""
        if not (context or "").strip():
            raise ValueError("type a story context (or pick a benchmark item)")
        if not (ending_a or "").strip() or not (ending_b or "").strip():
            raise ValueError("give both endings (A and B)")
        ends = {"A": self.units_of(ending_a, ending_lang), "B": self.units_of(ending_b, ending_lang)}
        out = {"story": self.score_units(self.units_of(context, context_lang), ends)}
        if controls:
            other = other_context or self.other_context(context, context_lang)
            out["none"] = self.score_units([], ends)
            out["other"] = self.score_units(self.units_of(other, context_lang), ends)
        return out

    def other_context(self, context: str, lang: str) -> str:
        """The first benchmark item's context (in `lang`) that is not `context`."""
        return next(it["contexts"][lang] for it in self._cloze_items
                    if it["contexts"][lang].strip() != context.strip())

    def project(self, units: Sequence[int] | None, layer: int, label: str = "your prompt") -> Projection:
        """The reference map at `layer` with `units` (if any) placed in it as a star."""
        if not 0 <= int(layer) < self.n_layers:
            raise ValueError(f"layer must be in 0..{self.n_layers - 1}; got {layer}")
        layer = int(layer)
        proj = self.maps.get(layer)
        title = f"layer {layer} ({proj.method.upper()}), {len(self.reference)} EN/FR pairs"
        if units is None or len(units) == 0:
            return Projection(layer, proj.method, proj.figure(self.maps.pair_ids, title=title))
        with self.model_lock:
            state = embed_units(self.model, list(units), bos=self.bos, layer=layer)
        fig = proj.figure(self.maps.pair_ids, extra=state[None], extra_labels=[label], title=title)
        xy = np.array([[fig.data[-1].x[0], fig.data[-1].y[0]]])
        return Projection(layer, proj.method, fig, proj.nearest(state, NEIGHBOURS), xy)

    # -- examples -------------------------------------------------------------------------
    def examples(self, per_lang: int = 2) -> dict[str, list[str]]:
        """Prompt texts per language: first sentences of held-out stories."""
        stories = generate_stories(per_lang, seed=7, split="heldout")
        return {lang: [s.sentences[lang][0] for s in stories] for lang in LANGS}

    def cloze_items(self) -> list[dict]:
        """Benchmark story-cloze items in the four conditions (see `cloze_items`)."""
        return self._cloze_items


def cloze_items(n: int) -> list[dict]:
    """n StoryCloze items of held-out stories, one condition each in turn, as texts:
    [{label, context, ending_a, ending_b, context_lang, ending_lang, right, contexts}]
    (`contexts`: the context in both languages, for the mismatched-context control)."""
    items = story_cloze(max(n, 8), seed=0)[:n]  # counterbalanced: twins come in pairs
    out = []
    for i, it in enumerate(items):
        c, e = CONDITIONS[i % len(CONDITIONS)].split("-")
        right, wrong = it.right[e], it.wrong[e]
        a, b, r = (right, wrong, "A") if i % 2 == 0 else (wrong, right, "B")
        out.append({"label": f"{it.item_id} ({c}→{e}, {it.topic})", "context": " ".join(it.context[c]),
                    "ending_a": a, "ending_b": b, "context_lang": c, "ending_lang": e, "right": r,
                    "contexts": {lang: " ".join(it.context[lang]) for lang in LANGS}})
    return out
