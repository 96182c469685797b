"""Hidden-state probing: cross-lingual alignment per layer, retrieval, 2-D maps.

A sentence's representation at layer l is the mean of the model's hidden states over the
sentence's unit frames (the BOS position is excluded; `pool="last"` takes the last frame).
Layer 0 is the embedding output, layer L the last block (`output_hidden_states=True`).

- Alignment (the paper's measure): mean cosine of translation pairs (EN_i, FR_i) against the
  mean cosine of mismatched pairs (EN_i, FR_j, i != j, all of them); the difference is the
  **alignment gap**. Raw hidden states are very anisotropic (every cosine is high), so the gap
  is the quantity to compare across arms, not the raw cosine.
- Retrieval: EN->FR accuracy is how often the FR nearest neighbour (cosine) of EN_i is FR_i,
  and the reverse for FR->EN.
- Both come with 95% bootstrap CIs over sentence pairs (`gap_ci`, `retrieval_*_ci`).
- `Projector`: fits a 2-D map (UMAP, or PCA) on reference sentences and places new
  utterances (the demo's microphone) into it, with nearest neighbours per language.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from slmlab import plots
from slmlab.config import writable_dir
from slmlab.corpus.eval_set import check_eval_set
from slmlab.evaluate import (EvalSet, _batches, _model_device, bootstrap_ci, default_device,
                             load_eval, progress_bar, resolve_model)


@torch.no_grad()
def hidden_states(model: Any, units: Sequence[Sequence[int]], *, bos: int, pool: str = "mean",
                  batch_tokens: int | None = None, device: Any = None,
                  progress: bool | None = None) -> np.ndarray:
    """Pooled hidden states of `[BOS] + units` for every sequence: float32 [L+1, N, H]."""
    if pool not in ("mean", "last"):
        raise ValueError(f"pool must be 'mean' or 'last'; got {pool!r}")
    device = torch.device(device) if device is not None else _model_device(model)
    batch_tokens = batch_tokens or (65536 if device.type == "cuda" else 8192)
    seqs = [[bos] + list(u) for u in units]
    if any(len(s) < 2 for s in seqs):
        raise ValueError("every probed sentence needs at least one unit")
    lengths = [len(s) for s in seqs]
    out: np.ndarray | None = None
    with progress_bar(len(seqs), "hidden states", progress) as bar:
        for group in _batches(lengths, batch_tokens, 512):
            longest = lengths[group[0]]
            ids = torch.zeros(len(group), longest, dtype=torch.long)
            mask = torch.zeros(len(group), longest, dtype=torch.long)
            for row, i in enumerate(group):
                ids[row, : lengths[i]] = torch.as_tensor(seqs[i])
                mask[row, : lengths[i]] = 1
            with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
                hs = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                           output_hidden_states=True).hidden_states  # (L+1) x [B, T, H]
            h = torch.stack(hs).float()  # [L+1, B, T, H]
            pooled = _pool(h, mask.to(device), pool)  # [L+1, B, H]
            if out is None:
                out = np.zeros((h.shape[0], len(seqs), h.shape[-1]), dtype=np.float32)
            out[:, group] = pooled.cpu().numpy()
            bar.update(len(group))
    assert out is not None, "no sequences to probe"
    return out


def _pool(h: torch.Tensor, mask: torch.Tensor, pool: str) -> torch.Tensor:
    """h [L+1, B, T, H], mask [B, T] (1 on real tokens, BOS at 0) -> [L+1, B, H]."""
    m = mask.clone().float()
    m[:, 0] = 0  # the BOS state is the same for every sentence: leave it out
    if pool == "last":
        last = mask.sum(1) - 1  # [B]
        return h[:, torch.arange(h.shape[1]), last]
    return (h * m[None, :, :, None]).sum(2) / m.sum(1)[None, :, None]


def _unit(x: np.ndarray, center: bool = False) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if center:
        x = x - x.mean(axis=-2, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


PAIR_KEYS = ("pair_gaps", "hits_en_fr", "hits_fr_en")  # per-pair values behind the means


def alignment(en: np.ndarray, fr: np.ndarray, center: bool = False, n_resamples: int = 1000,
              seed: int = 0, keep_pairs: bool = False) -> dict:
    """Cosine of translation pairs vs. mismatched pairs for one layer: en, fr [N, H].

    Pair i's own gap is cos(EN_i, FR_i) minus the mean cosine of EN_i and of FR_i with every
    other sentence; these [N] average exactly to the gap, and a bootstrap over pairs gives
    `gap_ci` (the mismatched baseline of each pair is held fixed). Retrieval hits per pair give
    `retrieval_*_ci` the same way. `keep_pairs` adds the per-pair values (`PAIR_KEYS`), so seeds
    can be pooled and arms compared pair by pair."""
    n = len(en)
    if n < 2 or fr.shape != en.shape:
        raise ValueError(f"need >= 2 aligned pairs of equal shape; got {en.shape}, {fr.shape}")
    sim = _unit(en, center) @ _unit(fr, center).T  # [N, N]
    diag = np.diag(sim)
    others = (sim.sum(1) - diag + sim.sum(0) - diag) / (2 * (n - 1))  # [N]
    pair = {"pair_gaps": diag - others, "hits_en_fr": (sim.argmax(1) == np.arange(n)) * 1.0,
            "hits_fr_en": (sim.argmax(0) == np.arange(n)) * 1.0}
    res = {"cos_pairs": float(diag.mean()),
           "cos_random": float((sim.sum() - diag.sum()) / (n * (n - 1))),
           "gap": float(pair["pair_gaps"].mean()),
           "retrieval_en_fr": float(pair["hits_en_fr"].mean()),
           "retrieval_fr_en": float(pair["hits_fr_en"].mean())}
    res.update(pair_cis(pair, n_resamples, seed))
    if keep_pairs:
        res.update({k: v.tolist() for k, v in pair.items()})
    return res


def pair_cis(pair: dict, n_resamples: int = 1000, seed: int = 0) -> dict:
    """{gap_ci, retrieval_en_fr_ci, retrieval_fr_en_ci} from per-pair values [N] (PAIR_KEYS)."""
    names = {"pair_gaps": "gap_ci", "hits_en_fr": "retrieval_en_fr_ci",
             "hits_fr_en": "retrieval_fr_en_ci"}
    return {names[k]: list(bootstrap_ci(np.asarray(pair[k]), n_resamples, seed=seed))
            for k in PAIR_KEYS if k in pair}


def alignment_by_layer(en_states: np.ndarray, fr_states: np.ndarray, center: bool = False,
                       keep_pairs: bool = False) -> list[dict]:
    """`alignment` for every layer of [L+1, N, H] states: a list of L+1 dicts with `layer`."""
    return [{"layer": i, **alignment(en_states[i], fr_states[i], center, keep_pairs=keep_pairs)}
            for i in range(en_states.shape[0])]


def retrieval_accuracy(src: np.ndarray, tgt: np.ndarray) -> float:
    """Fraction of rows i of src [N, H] whose cosine nearest neighbour in tgt [N, H] is row i."""
    sim = _unit(src) @ _unit(tgt).T
    return float(np.mean(sim.argmax(1) == np.arange(len(src))))


# ----------------------------------------------------------------------------- 2-D maps


class Projector:
    """A 2-D map fitted on reference states; places new states and finds their neighbours.

    `fit(ref_states [N, H], labels [N] (language), texts [N])`, then `transform(states [M, H])
    -> [M, 2]` (UMAP's transform, or the PCA basis) and `nearest(state [H], k)` by cosine in
    the full hidden space (not in 2-D, which distorts distances), per language.
    """

    def __init__(self, method: str = "umap", seed: int = 0, n_neighbors: int = 15):
        if method not in ("umap", "pca"):
            raise ValueError(f"method must be 'umap' or 'pca'; got {method!r}")
        self.method, self.seed, self.n_neighbors = method, seed, n_neighbors
        self.coords: np.ndarray | None = None

    def fit(self, ref_states: np.ndarray, labels: Sequence[str], texts: Sequence[str]) -> "Projector":
        x = np.asarray(ref_states, dtype=np.float32)
        if not len(x) == len(labels) == len(texts):
            raise ValueError("ref_states, labels and texts must have the same length")
        self.ref, self.labels, self.texts = x, list(labels), list(texts)
        self._ref_unit = _unit(x)
        if self.method == "umap" and len(x) > 3:
            import umap  # slow first import (numba): only when asked for

            self.model = umap.UMAP(n_components=2, n_neighbors=min(self.n_neighbors, len(x) - 1),
                                   metric="cosine", random_state=self.seed)
            with warnings.catch_warnings():  # "n_jobs overridden by random_state": expected
                warnings.simplefilter("ignore", UserWarning)
                self.coords = self.model.fit_transform(x)
        else:
            self.method = "pca"  # UMAP needs a few points; PCA always works
            self.mean = x.mean(0)
            _, _, vt = np.linalg.svd(x - self.mean, full_matrices=False)
            self.basis = vt[:2].T  # [H, 2]
            self.coords = (x - self.mean) @ self.basis
        return self

    def transform(self, states: np.ndarray) -> np.ndarray:
        """[M, H] -> [M, 2] in the fitted map."""
        if self.coords is None:
            raise ValueError("call Projector.fit first")
        x = np.atleast_2d(np.asarray(states, dtype=np.float32))
        if self.method == "umap":
            return self.model.transform(x)
        return (x - self.mean) @ self.basis

    def nearest(self, state: np.ndarray, k: int = 5) -> dict[str, list[dict]]:
        """{lang: [{index, text, cosine}, ...k]} for one state [H], best first."""
        sim = self._ref_unit @ _unit(np.asarray(state, dtype=np.float64).reshape(1, -1))[0]
        out: dict[str, list[dict]] = {}
        for lang in dict.fromkeys(self.labels):
            idx = [i for i in np.argsort(-sim) if self.labels[i] == lang][:k]
            out[lang] = [{"index": int(i), "text": self.texts[i], "cosine": float(sim[i])} for i in idx]
        return out

    def figure(self, pair_ids: Sequence[Any] | None = None, extra: np.ndarray | None = None,
               extra_labels: Sequence[str] | None = None, title: str = ""):
        """The reference map (plotly), translations joined by lines, `extra` [M, H] as stars."""
        fig = plots.projection_figure(self.coords, self.labels, self.texts, pair_ids, title=title)
        if extra is not None:
            import plotly.graph_objects as go

            xy = self.transform(extra)
            fig.add_trace(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers+text", name="you",
                                     text=list(extra_labels or ["you"] * len(xy)),
                                     marker=dict(symbol="star", size=16, color="black")))
        return fig


def project_pairs(en: np.ndarray, fr: np.ndarray, en_texts: Sequence[str], fr_texts: Sequence[str],
                  method: str = "umap", seed: int = 0, title: str = "") -> tuple[Projector, Any]:
    """Fit a map on EN and FR states [N, H] of aligned sentences: (projector, plotly figure)."""
    n = len(en)
    proj = Projector(method, seed).fit(np.concatenate([en, fr]), ["en"] * n + ["fr"] * n,
                                       list(en_texts) + list(fr_texts))
    return proj, proj.figure(pair_ids=list(range(n)) * 2, title=title)


# ----------------------------------------------------------------------------- entry points


def embed_units(model: Any, units: Sequence[int], *, bos: int, layer: int, pool: str = "mean") -> np.ndarray:
    """One utterance's pooled state [H] at `layer` (e.g. units from a tokenizer's encode)."""
    return hidden_states(model, [list(units)], bos=bos, pool=pool, progress=False)[layer, 0]


def aligned_states(model: Any, aligned: list[dict], *, bos: int, pool: str = "mean",
                   progress: bool | None = None, **kw) -> tuple[np.ndarray, np.ndarray]:
    """EN and FR states [L+1, N, H] of aligned.jsonl rows (one batched pass for both)."""
    n = len(aligned)
    states = hidden_states(model, [r["en"] for r in aligned] + [r["fr"] for r in aligned],
                           bos=bos, pool=pool, progress=progress, **kw)
    return states[:, :n], states[:, n:]


def probe_checkpoint(ckpt_or_model: Any, eval_dir: Any, *, out: str | Path | None = None,
                     method: str = "pca", layer: int | None = None, limit: int | None = 500,
                     n_units: int | None = None, pool: str = "mean", device: str | None = None,
                     progress: bool | None = None, keep_pairs: bool = False) -> dict:
    """Alignment + retrieval per layer on aligned.jsonl; writes probe.json and HTML figures.

    The map is drawn at `layer` (default: the layer with the largest alignment gap).
    `keep_pairs` returns the per-pair values of every layer too (not written to probe.json).
    """
    model, info, n_units = resolve_model(ckpt_or_model, n_units)
    dev = torch.device(device) if device else default_device()
    model.to(dev).eval()
    if isinstance(eval_dir, EvalSet):
        check_eval_set(eval_dir, info, n_units)
        es = eval_dir
    else:  # read once, checked on the way
        es = load_eval(eval_dir, info=info, n_units=n_units)
    rows = es.aligned[:limit] if limit else es.aligned
    if len(rows) < 2:
        raise ValueError("probing needs aligned.jsonl with at least 2 sentence pairs")
    en, fr = aligned_states(model, rows, bos=n_units, pool=pool, progress=progress, device=dev)
    layers = alignment_by_layer(en, fr, keep_pairs=True)
    per_pair = [{k: r.pop(k) for k in PAIR_KEYS} for r in layers]
    best = max(layers, key=lambda r: r["gap"])["layer"]
    layer = best if layer is None else layer
    if not 0 <= layer < len(layers):
        raise ValueError(f"layer must be in 0..{len(layers) - 1}; got {layer}")
    result = {"n_pairs": len(rows), "pool": pool, "layers": layers, "best_layer": best,
              "map_layer": layer, "method": method, "stage": info.get("stage")}
    if out:
        out = writable_dir(Path(out))
        out.mkdir(parents=True, exist_ok=True)
        (out / "probe.json").write_text(json.dumps(result, indent=2))
        plots.save_html(plots.alignment_figure({"model": layers}), out / "alignment.html")
        _, fig = project_pairs(en[layer], fr[layer], [r["en_text"] for r in rows],
                               [r["fr_text"] for r in rows], method=method,
                               title=f"layer {layer} ({method})")
        plots.save_html(fig, out / f"map_layer{layer}_{method}.html")
    if keep_pairs:
        for r, extra in zip(layers, per_pair):
            r.update(extra)
    return result
