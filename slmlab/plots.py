"""One-line plotly helpers for notebooks, the app and experiment reports (plotly only).

Every function returns a `plotly.graph_objects.Figure`; `save_html` writes it. Offline HTML
(`offline=True`) puts one shared `plotly.min.js` (~4.7 MB) next to the pages instead of inlining
it in every file; the default loads plotly from its CDN (small files, needs the internet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from slmlab.constants import FRAME_RATE, SAMPLE_RATE
from slmlab.files import read_jsonl


class _LazyPlotly:
    """plotly.graph_objects, imported on first use: a command that draws nothing (a corpus
    build on a GPU machine that lacks plotly) must not need it."""

    def __getattr__(self, name: str):
        import plotly.graph_objects as module

        return getattr(module, name)


go = _LazyPlotly()

LANG_COLORS = {"en": "#1f77b4", "fr": "#d62728"}
PAIR_LINE = "rgba(120,120,120,0.35)"


def save_html(fig: go.Figure, path: str | Path, offline: bool = False) -> Path:
    """Write `fig` as HTML; offline -> a shared plotly.min.js in the same directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(str(path), include_plotlyjs="directory" if offline else "cdn")
    return path


def save_png(fig: go.Figure, path: str | Path) -> Path | None:
    """PNG through kaleido when it is installed; None (nothing written) otherwise."""
    try:
        fig.write_image(str(path))
    except (ImportError, ValueError, RuntimeError):  # kaleido missing or without a browser
        return None
    return Path(path)


CONTROL_MARKERS = {"acc_no_ctx": ("no context", "circle-open"),
                   "acc_mismatched": ("mismatched context", "x-thin-open")}


def accuracy_figure(results: Mapping[str, Mapping[str, Mapping[str, Any]]],
                    title: str = "accuracy per condition (95% CI)", chance: float = 0.5,
                    controls: bool = True) -> go.Figure:
    """Grouped bars: x = task:condition, one bar per arm, CI error bars; on each bar, markers
    for the controls (accuracy with no context: an open circle; with a mismatched context: a cross).

    `results` = {arm: {"story:en-fr": {"acc": a, "ci": [lo, hi], "acc_no_ctx": ...,
    "acc_mismatched": ...}, ...}} (evaluate's `tasks`); tasks without controls get no markers.
    """
    fig = go.Figure()
    for i, (arm, tasks) in enumerate(results.items()):
        keys = list(tasks)
        acc, lo, hi = (np.array([_get(tasks[k], f) for k in keys]) for f in ("acc", "ci0", "ci1"))
        color = _color(i)
        fig.add_trace(go.Bar(name=arm, x=keys, y=100 * acc, offsetgroup=arm, legendgroup=arm,
                             marker_color=color,
                             error_y=dict(type="data", symmetric=False, array=100 * (hi - acc),
                                          arrayminus=100 * (acc - lo))))
        for field, (label, symbol) in CONTROL_MARKERS.items():
            y = np.array([_get(tasks[k], field) for k in keys])
            if not controls or np.isnan(y).all():
                continue
            fig.add_trace(go.Scatter(
                name=f"{arm}: {label}", x=keys, y=100 * y, mode="markers", offsetgroup=arm,
                legendgroup=arm, marker=dict(symbol=symbol, size=14, color="black",
                                             line=dict(width=2, color="black")),
                hovertemplate=f"{arm}, {label}: %{{y:.1f}}%<extra></extra>"))
    if chance is not None:
        fig.add_hline(y=100 * chance, line_dash="dot", line_color="gray", annotation_text="chance")
    fig.update_layout(barmode="group", scattermode="group", title=title,
                      yaxis_title="accuracy (%)", xaxis_title="task:condition", legend_title="arm")
    return fig


def _get(task: Mapping[str, Any], field: str) -> float:
    """A task's number, NaN when absent; ci0/ci1 are the CI's bounds."""
    if field in ("ci0", "ci1"):
        return float(task["ci"][int(field[-1])])
    v = task.get(field)
    return float("nan") if v is None else float(v)


def _color(i: int) -> str:
    import plotly.colors

    palette = plotly.colors.qualitative.Plotly
    return palette[i % len(palette)]


def gain_figure(results: Mapping[str, Mapping[str, Mapping[str, Any]]],
                title: str = "context gain: accuracy with the story minus with another story "
                             "(95% CI)") -> go.Figure:
    """Grouped bars of the context gain (points) per cloze task:condition and arm, with the
    paired CI; 0 = the model does not use the story. Tasks without a gain are left out."""
    fig = go.Figure()
    for i, (arm, tasks) in enumerate(results.items()):
        keys = [k for k, t in tasks.items() if t.get("gain") is not None]
        g = np.array([tasks[k]["gain"] for k in keys], dtype=float)
        lo = np.array([tasks[k]["ci_gain"][0] for k in keys], dtype=float)
        hi = np.array([tasks[k]["ci_gain"][1] for k in keys], dtype=float)
        fig.add_trace(go.Bar(name=arm, x=keys, y=100 * g, marker_color=_color(i),
                             error_y=_ci_bars(g, lo, hi)))
    fig.add_hline(y=0, line_color="gray")
    fig.update_layout(barmode="group", title=title, yaxis_title="gain (points)",
                      xaxis_title="task:condition", legend_title="arm")
    return fig


def _ci_bars(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict:
    """plotly error bars (in points) from values and their CI bounds (fractions), [N] each."""
    return dict(type="data", symmetric=False, array=100 * (hi - v), arrayminus=100 * (v - lo))


def difference_figure(differences: Mapping[str, Mapping[str, Mapping[str, Any]]],
                      title: str = "paired difference in accuracy between arms (95% CI)"
                      ) -> go.Figure:
    """Points with CIs: one trace per comparison ("interleave+finetune - mixed": {task: {diff,
    ci}}), x = task:condition; 0 = no difference."""
    fig = go.Figure()
    for i, (name, tasks) in enumerate(differences.items()):
        keys = list(tasks)
        d = np.array([tasks[k]["diff"] for k in keys], dtype=float)
        lo = np.array([tasks[k]["ci"][0] for k in keys], dtype=float)
        hi = np.array([tasks[k]["ci"][1] for k in keys], dtype=float)
        fig.add_trace(go.Scatter(name=name, x=keys, y=100 * d, mode="markers", offsetgroup=name,
                                 marker=dict(size=10, color=_color(i)),
                                 error_y=_ci_bars(d, lo, hi)))
    fig.add_hline(y=0, line_color="gray")
    fig.update_layout(scattermode="group", title=title, yaxis_title="difference (points)",
                      xaxis_title="task:condition", legend_title="comparison")
    return fig


def alignment_figure(layers_by_arm: Mapping[str, Sequence[Mapping[str, float]]],
                     metric: str = "gap", title: str | None = None) -> go.Figure:
    """Lines: alignment `metric` (gap | cos_pairs | cos_random | retrieval_*) per layer per arm.

    `layers_by_arm` = {arm: [{"layer": i, "gap": g, ...}, ...]} (probe.alignment_by_layer);
    error bars show the gap's `gap_ci` (bootstrap over sentence pairs) when present, else
    `<metric>_lo`/`<metric>_hi` (spread over seeds).
    """
    fig = go.Figure()
    for arm, layers in layers_by_arm.items():
        x = [r["layer"] for r in layers]
        y = [r[metric] for r in layers]
        err = None
        if metric == "gap" and "gap_ci" in layers[0]:  # CI over sentence pairs
            err = dict(type="data", symmetric=False,
                       array=[r["gap_ci"][1] - r["gap"] for r in layers],
                       arrayminus=[r["gap"] - r["gap_ci"][0] for r in layers])
        elif f"{metric}_lo" in layers[0]:
            err = dict(type="data", symmetric=False,
                       array=[r[f"{metric}_hi"] - r[metric] for r in layers],
                       arrayminus=[r[metric] - r[f"{metric}_lo"] for r in layers])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=arm, error_y=err))
    fig.update_layout(title=title or f"cross-lingual alignment ({metric}) per layer",
                      xaxis_title="layer (0 = embeddings)", yaxis_title=metric, legend_title="arm")
    fig.update_xaxes(dtick=1)  # layers are whole numbers
    return fig


def loss_figure(metrics: Mapping[str, str | Path | Sequence[dict]], key: str = "loss",
                title: str = "training loss per stage") -> go.Figure:
    """Loss curves, one per stage: {stage: metrics.jsonl path or rows}; x = tokens seen if
    logged (stages then line up on one axis), else step."""
    fig = go.Figure()
    xname = "step"
    for stage, rows in metrics.items():
        rows = read_jsonl(rows) if isinstance(rows, (str, Path)) else list(rows)
        rows = [r for r in rows if key in r]
        if not rows:
            continue
        xname = next((k for k in ("tokens_seen", "tokens", "step") if k in rows[0]), "step")
        fig.add_trace(go.Scatter(x=[r.get(xname) for r in rows], y=[r[key] for r in rows],
                                 mode="lines", name=str(stage)))
    fig.update_layout(title=title, xaxis_title=xname, yaxis_title=key, legend_title="stage")
    return fig


def units_figure(units: Sequence[int] | np.ndarray, langs: Sequence[Any] | None = None,
                 frame_rate: float = FRAME_RATE, title: str = "units over time") -> go.Figure:
    """Scatter of unit id per frame [T] (x in seconds); coloured by per-frame language if given.
    A 2-D array [B, T] is drawn as a heatmap (one row per utterance)."""
    u = np.asarray(units)
    if u.ndim == 2:
        fig = go.Figure(go.Heatmap(z=u, x=np.arange(u.shape[1]) / frame_rate, colorscale="Viridis",
                                   colorbar=dict(title="unit")))
        fig.update_layout(title=title, xaxis_title="time (s)", yaxis_title="utterance")
        return fig
    t = np.arange(len(u)) / frame_rate
    fig = go.Figure()
    groups = [("units", np.ones(len(u), bool), None)]
    if langs is not None:
        langs = np.asarray([str(x) for x in langs])
        groups = [(g, langs == g, LANG_COLORS.get(g)) for g in dict.fromkeys(langs.tolist())]
    for name, sel, color in groups:
        fig.add_trace(go.Scatter(x=t[sel], y=u[sel], mode="markers", name=name,
                                 marker=dict(size=5, color=color)))
    fig.update_layout(title=title, xaxis_title="time (s)", yaxis_title="unit id")
    return fig


def spectrogram_figure(wav: np.ndarray, sample_rate: int = SAMPLE_RATE, n_fft: int = 1024,
                       hop: int = 256, title: str = "spectrogram") -> go.Figure:
    """Log-magnitude STFT heatmap (dB) of a mono waveform [T]."""
    import torch

    x = torch.as_tensor(np.asarray(wav, dtype=np.float32))
    if len(x) < n_fft:
        x = torch.nn.functional.pad(x, (0, n_fft - len(x)))
    spec = torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft), return_complex=True).abs()
    db = 20 * torch.log10(spec.clamp_min(1e-5)).numpy()  # [F, frames]
    fig = go.Figure(go.Heatmap(z=db, x=np.arange(db.shape[1]) * hop / sample_rate,
                               y=np.fft.rfftfreq(n_fft, 1 / sample_rate), colorscale="Magma",
                               zmin=db.max() - 80, colorbar=dict(title="dB")))
    fig.update_layout(title=title, xaxis_title="time (s)", yaxis_title="frequency (Hz)")
    return fig


def projection_figure(coords: np.ndarray, labels: Sequence[str], texts: Sequence[str],
                      pair_ids: Sequence[Any] | None = None, title: str = "") -> go.Figure:
    """2-D map [N, 2]: one marker trace per language (hover = sentence text), and one line
    trace joining points that share a pair id (translations)."""
    coords = np.asarray(coords, dtype=float)
    labels = [str(x) for x in labels]
    fig = go.Figure()
    if pair_ids is not None:
        by_pair: dict[Any, list[int]] = {}
        for i, p in enumerate(pair_ids):
            by_pair.setdefault(p, []).append(i)
        xs: list[float | None] = []
        ys: list[float | None] = []
        for idx in by_pair.values():
            if len(idx) > 1:
                xs += [*coords[idx, 0].tolist(), None]
                ys += [*coords[idx, 1].tolist(), None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="translations",
                                 line=dict(color=PAIR_LINE, width=1), hoverinfo="skip"))
    for lang in dict.fromkeys(labels):
        sel = [i for i, l in enumerate(labels) if l == lang]
        fig.add_trace(go.Scatter(x=coords[sel, 0], y=coords[sel, 1], mode="markers", name=lang,
                                 text=[texts[i] for i in sel], hovertemplate="%{text}<extra></extra>",
                                 marker=dict(size=7, color=LANG_COLORS.get(lang))))
    fig.update_layout(title=title, xaxis_title="dim 1", yaxis_title="dim 2", legend_title="language")
    return fig


def sweep_figure(tasks_by_p: Mapping[float, Mapping[str, Mapping[str, Any]]],
                 keys: Sequence[str] | None = None, title: str = "accuracy vs. p (French share)",
                 x_title: str = "p (probability of French)") -> go.Figure:
    """Lines over p (or another swept setting, named by `x_title`): one per task:condition
    (default: the cloze ones), CI error bars.

    `tasks_by_p` = {p: evaluate `tasks` dict of the arm trained with that p}."""
    ps = sorted(tasks_by_p)
    first = tasks_by_p[ps[0]]
    keys = list(keys or [k for k in first if k.startswith(("story:", "topic:"))] or first)
    fig = go.Figure()
    for k in keys:
        acc = np.array([tasks_by_p[p][k]["acc"] for p in ps])
        lo = np.array([tasks_by_p[p][k]["ci"][0] for p in ps])
        hi = np.array([tasks_by_p[p][k]["ci"][1] for p in ps])
        fig.add_trace(go.Scatter(x=ps, y=100 * acc, mode="lines+markers", name=k,
                                 error_y=dict(type="data", symmetric=False, array=100 * (hi - acc),
                                              arrayminus=100 * (acc - lo))))
    fig.update_layout(title=title, xaxis_title=x_title,
                      yaxis_title="accuracy (%)", legend_title="task:condition")
    return fig
