"""Plotly figures and markdown for the demo's results (inputs are app.session result objects)."""

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


CONTROL_NAMES = {"story": "with the story", "none": "no context", "other": "another story"}


def cloze_plot(results: dict, right: str | None = None) -> go.Figure:
    """Grouped bars of mean log-likelihood per unit for endings A and B under each context
    condition (`results`: {"story" | "none" | "other": ClozeResult}); higher = preferred."""
    conds = [c for c in CONTROL_NAMES if c in results]
    all_scores = [v for c in conds for v in results[c].scores.values()]
    lo, hi = min(all_scores), max(all_scores)
    pad = max(0.05, (hi - lo) * 0.3)
    floor = lo - pad  # log-likelihoods are negative: bars rise from a floor, not hang from 0
    fig = go.Figure()
    for name, color in (("A", NEW_COLOR), ("B", PROMPT_COLOR)):
        ys = [results[c].scores[name] for c in conds]
        fig.add_trace(go.Bar(x=[CONTROL_NAMES[c] for c in conds], y=[y - floor for y in ys],
                             base=floor, name=f"ending {name}" + (" (right)" if name == right else ""),
                             marker_color=color, text=[f"{y:.3f}" for y in ys],
                             textposition="outside", hoverinfo="text+name"))
    fig.update_layout(title="mean log-likelihood per unit (context + ending)", barmode="group",
                      yaxis=dict(range=[floor, hi + pad], title="log p per unit"),
                      height=340, margin=dict(l=40, r=10, t=40, b=40))
    return fig


def verdict_markdown(results: dict, right: str | None) -> str:
    """Which ending the model prefers under each context condition, and what that says."""
    story = results["story"]
    other = next(n for n in story.scores if n != story.preferred)
    gap = story.scores[story.preferred] - story.scores[other]
    text = f"The model prefers **ending {story.preferred}** (by {gap:.3f} log p per unit)."
    if right:
        text += " That is the right ending." if right == story.preferred else \
            f" The right ending was {right}."
    if len(results) == 1:
        return text
    lines = [text, "", "| context | preferred | A − B |", "|---|---|---:|"]
    for c, name in CONTROL_NAMES.items():
        if c in results:
            r = results[c]
            lines.append(f"| {name} | {r.preferred} | {r.scores['A'] - r.scores['B']:+.3f} |")
    same = all(results[c].preferred == story.preferred for c in results)
    lines.append("")
    lines.append("The preference is the same without the story and with another story's: "
                 "here the model decides from the endings alone, not from the story." if same else
                 "The preference changes when the story is removed or swapped: here the model "
                 "uses the story.")
    return "\n".join(lines)


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
