"""One sweep table and figure from experiments that trained its points separately.

The paper's two next checks vary one setting of interleave+finetune: the probability of French
p (`--axis p`: every interleave+finetune arm, at the run's p or a `--sweep-p` one) and the
fine-tuning share of the budget (`--axis share`: `interleave` is share 0, interleave+finetune
at the run's p has share stage3 / (stage1 + stage2 + stage3) of its `--ratios`). Run as several
`slmlab experiment` processes (to finish on a GPU in time), each gives one results.json; this
reads one seed's accuracy of each point and writes `sweep_<axis>.md` (accuracy per point with
its CI, the cross-lingual mean and its mismatched-context control) and `sweep_<axis>.html`.

    python scripts/sweep_merge.py --out results/RUN/sweep results/RUN/exp-small/results.json \
        results/RUN/sweep-small/results.json ...
"""

import argparse
import json
from pathlib import Path

from slmlab import plots
from slmlab.evaluate import CLOZE_KINDS
from slmlab.experiment import METHOD_ARM, acc_cell, arm_label
from slmlab.world.benchmark import CONDITIONS

CLOZE = [f"{k}:{c}" for k in CLOZE_KINDS for c in CONDITIONS]
CROSS = [f"{k}:{c}" for k in CLOZE_KINDS for c in CONDITIONS  # context language != ending's
         if c.split("-")[0] != c.split("-")[1]]
AXES = {"p": "p (probability of French)", "share": "fine-tuning share of the budget"}


def points(cfg: dict, axis: str) -> list[tuple[float, str]]:
    """(value on the axis, arm label) of the arms of one experiment that lie on that axis."""
    if axis == "p":
        return [(cfg["p"], METHOD_ARM)] + [(q, arm_label(METHOD_ARM, q)) for q in cfg["sweep_p"]]
    r1, r2, r3 = cfg["ratios"]
    return [(0.0, "interleave"), (round(r3 / (r1 + r2 + r3), 4), METHOD_ARM)]


def tasks_by_point(files: list[Path], seed: int, axis: str = "p") -> dict[float, dict]:
    """{value: that seed's evaluate `tasks` of the arm trained with it}."""
    out: dict[float, dict] = {}
    for f in files:
        r = json.loads(f.read_text())
        for x, label in points(r["config"], axis):
            arm = r["arms"].get(label)
            if arm is None or str(seed) not in arm["seeds"]:
                continue
            if x in out:
                raise SystemExit(f"sweep_merge: {axis}={x:g} appears twice (again in {f}); "
                                 "give each point once")
            out[x] = arm["seeds"][str(seed)]["tasks"]
    if not out:
        raise SystemExit(f"sweep_merge: no arm on the {axis} axis for seed {seed} in "
                         f"{[str(f) for f in files]}")
    return dict(sorted(out.items()))


def markdown(by_x: dict[float, dict], seed: int, axis: str) -> str:
    mean = lambda ts, key: sum(100 * t[key] for t in ts) / len(ts)
    lines = [f"# Accuracy (%) vs {AXES[axis]}, seed {seed}", "",
             "Cross-lingual: mean of the four en-fr / fr-en cloze cells; control: the same cells "
             "with another item's context (mismatched).", "",
             f"| {axis} | " + " | ".join(CLOZE) + " | cross-lingual | control |",
             "|---:|" + "---:|" * (len(CLOZE) + 2)]
    for x, tasks in by_x.items():
        cross = [tasks[k] for k in CROSS]
        lines.append(f"| {x:g} | " + " | ".join(acc_cell(tasks[k]) for k in CLOZE)
                     + f" | {mean(cross, 'acc'):.1f} | {mean(cross, 'acc_mismatched'):.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", type=Path, help="results.json files")
    ap.add_argument("--out", type=Path, required=True, help="directory for sweep_<axis>.md/.html")
    ap.add_argument("--axis", choices=sorted(AXES), default="p")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    by_x = tasks_by_point(a.results, a.seed, a.axis)
    a.out.mkdir(parents=True, exist_ok=True)
    stem = a.out / f"sweep_{a.axis}"
    stem.with_suffix(".md").write_text(markdown(by_x, a.seed, a.axis))
    fig = plots.sweep_figure(by_x, keys=CLOZE, title=f"accuracy vs {AXES[a.axis]}",
                             x_title=AXES[a.axis])
    plots.save_html(fig, stem.with_suffix(".html"))
    print(f"sweep_merge: {a.axis} = {', '.join(f'{x:g}' for x in by_x)} -> {stem}.md, .html")


if __name__ == "__main__":
    main()
