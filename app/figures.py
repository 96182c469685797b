"""Plotly figures and markdown for the demo's results (inputs are slmlab.demo result objects)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from slmlab import plots

PROMPT_COLOR, NEW_COLOR = "#7f7f7f", "#2ca02c"


def units_plot(prompt_units: np.ndarray, new_units: np.ndarray, frame_rate: float) -> go.Figure:
    """Unit id per frame over time: the prompt in grey, the model's continuation in green."""
    units = np.concatenate([prompt_units, new_units]).astype(int)
    who = ["prompt"] * len(prompt_units) + ["continuation"] * len(new_units)
    fig = plots.units_figure(units, who, frame_rate=frame_rate,
                             title=f"units over time ({frame_rate:g} per second)")
    for trace, color in zip(fig.data, (PROMPT_COLOR, NEW_COLOR)):
        trace.marker.color = color
        trace.mode = "lines+markers"
        trace.line = dict(width=1, color=color)
    fig.add_vline(x=len(prompt_units) / frame_rate, line_dash="dot", line_color="black")
    fig.update_layout(height=320, margin=dict(l=40, r=10, t=40, b=40))
    return fig


def cloze_plot(scores: dict[str, float], preferred: str, right: str | None = None) -> go.Figure:
    """Bars of mean log-likelihood per token for endings A and B (higher = preferred)."""
    names = list(scores)
    colors = [NEW_COLOR if n == preferred else PROMPT_COLOR for n in names]
    labels = [f"ending {n}" + (" (right)" if n == right else "") for n in names]
    lo, hi = min(scores.values()), max(scores.values())
    pad = max(0.05, (hi - lo) * 0.5)
    floor = lo - pad  # log-likelihoods are negative: bars rise from a floor, not hang from 0
    fig = go.Figure(go.Bar(x=labels, y=[scores[n] - floor for n in names], base=floor,
                           marker_color=colors, text=[f"{scores[n]:.3f}" for n in names],
                           textposition="outside", hoverinfo="text"))
    fig.update_layout(title="mean log-likelihood per unit (context + ending)",
                      yaxis=dict(range=[floor, hi + pad], title="log p per unit"),
                      height=320, margin=dict(l=40, r=10, t=40, b=40))
    return fig


def verdict_markdown(preferred: str, scores: dict[str, float], right: str | None) -> str:
    """One line saying which ending the model prefers (and whether that is the right one)."""
    other = next(n for n in scores if n != preferred)
    gap = scores[preferred] - scores[other]
    text = f"The model prefers **ending {preferred}** (by {gap:.3f} log p per unit)."
    if right:
        text += " That is the right ending." if right == preferred else \
            f" The right ending was {right}."
    return text


def neighbours_markdown(nearest: dict[str, list[dict]], method: str, layer: int) -> str:
    """Nearest reference sentences per language (cosine of hidden states at `layer`)."""
    if not nearest:
        return (f"Layer {layer}, {method.upper()} map. Continue a prompt (tab 1) to place it "
                "on the map and list its nearest sentences.")
    lines = [f"**Nearest reference sentences at layer {layer}** (cosine in the full hidden "
             f"space; map: {method.upper()})"]
    for lang, rows in nearest.items():
        lines.append(f"- **{lang.upper()}**: " + "; ".join(
            f"“{r['text']}” ({r['cosine']:.3f})" for r in rows))
    return "\n".join(lines)
