"""One p-sweep table and figure from experiments that trained its points separately.

A sweep run as several `slmlab experiment --sweep-p` processes (to finish on a GPU in time), plus
the main run's interleave+finetune at its own p, gives one results.json per process; this reads
one seed's accuracy of every interleave+finetune arm in them and writes `sweep_p.md` (accuracy per
p with its CI, the cross-lingual mean and its mismatched-context control) and `sweep_p.html`.

    python scripts/sweep_merge.py --out results/RUN/sweep results/RUN/exp-small/results.json \
        results/RUN/sweep-small/results.json ...
"""

import argparse
import json
from pathlib import Path

from slmlab import plots
from slmlab.experiment import METHOD_ARM, arm_label

CLOZE = [f"{k}:{c}" for k in ("story", "topic") for c in ("en-en", "fr-fr", "en-fr", "fr-en")]
CROSS = [k for k in CLOZE if k.split(":")[1] in ("en-fr", "fr-en")]


def tasks_by_p(files: list[Path], seed: int) -> dict[float, dict]:
    """{p: that seed's evaluate `tasks` of the interleave+finetune arm trained with p}."""
    out: dict[float, dict] = {}
    for f in files:
        r = json.loads(f.read_text())
        cfg = r["config"]
        for p, label in [(cfg["p"], METHOD_ARM)] + [(q, arm_label(METHOD_ARM, q)) for q in cfg["sweep_p"]]:
            arm = r["arms"].get(label)
            if arm is None or str(seed) not in arm["seeds"]:
                continue
            if p in out:
                raise SystemExit(f"sweep_merge: p={p:g} appears twice (again in {f}); give each p once")
            out[p] = arm["seeds"][str(seed)]["tasks"]
    if not out:
        raise SystemExit(f"sweep_merge: no {METHOD_ARM} arm of seed {seed} in {[str(f) for f in files]}")
    return dict(sorted(out.items()))


def markdown(by_p: dict[float, dict], seed: int) -> str:
    pct = lambda t: f"{100 * t['acc']:.1f} [{100 * t['ci'][0]:.1f}, {100 * t['ci'][1]:.1f}]"
    mean = lambda ts, key: sum(100 * t[key] for t in ts) / len(ts)
    lines = [f"# {METHOD_ARM}: accuracy (%) vs p (probability of French), seed {seed}", "",
             "Cross-lingual: mean of the four en-fr / fr-en cloze cells; control: the same cells "
             "with another item's context (mismatched).", "",
             "| p | " + " | ".join(CLOZE) + " | cross-lingual | control |",
             "|---:|" + "---:|" * (len(CLOZE) + 2)]
    for p, tasks in by_p.items():
        cross = [tasks[k] for k in CROSS]
        lines.append(f"| {p:g} | " + " | ".join(pct(tasks[k]) for k in CLOZE)
                     + f" | {mean(cross, 'acc'):.1f} | {mean(cross, 'acc_mismatched'):.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", type=Path, help="results.json files")
    ap.add_argument("--out", type=Path, required=True, help="directory for sweep_p.md/.html")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    by_p = tasks_by_p(a.results, a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "sweep_p.md").write_text(markdown(by_p, a.seed))
    plots.save_html(plots.sweep_figure(by_p, keys=CLOZE), a.out / "sweep_p.html")
    print(f"sweep_merge: p = {', '.join(f'{p:g}' for p in by_p)} -> {a.out}/sweep_p.md, sweep_p.html")


if __name__ == "__main__":
    main()
