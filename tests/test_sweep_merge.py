"""scripts/sweep_merge.py: a p sweep trained in separate processes -> one table and figure."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "sweep_merge.py"
CLOZE = [f"{k}:{c}" for k in ("story", "topic") for c in ("en-en", "fr-fr", "en-fr", "fr-en")]


def _results(path: Path, p: float, sweep: list[float], acc: dict[float, float], seeds=("0",),
             ratios=(50, 20, 15), interleave: float | None = None) -> Path:
    """A results.json with the fields sweep_merge reads: each p's arm scores `acc[p]` everywhere
    (and the `interleave` arm `interleave`, when given)."""
    def arm(a: float) -> dict:
        task = {"acc": a, "ci": [a - 0.01, a + 0.01], "acc_mismatched": 0.5}
        return {"seeds": {s: {"tasks": {k: task for k in CLOZE}} for s in seeds}}
    arms = {"interleave+finetune": arm(acc[p])} if p in acc else {}
    arms.update({f"interleave+finetune p={q:g}": arm(acc[q]) for q in sweep})
    if interleave is not None:
        arms["interleave"] = arm(interleave)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"config": {"p": p, "sweep_p": sweep, "ratios": list(ratios)},
                                "arms": arms}))
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          cwd=ROOT)


def test_points_from_several_runs_make_one_table_in_p_order(tmp_path):
    acc = {0.1: 0.55, 0.5: 0.65, 0.9: 0.6, 0.3: 0.62}
    files = [_results(tmp_path / "main/results.json", 0.5, [], acc),
             _results(tmp_path / "a/results.json", 0.5, [0.9, 0.1], {q: acc[q] for q in (0.9, 0.1)}),
             _results(tmp_path / "b/results.json", 0.5, [0.3], {0.3: acc[0.3]})]
    r = _run("--out", str(tmp_path / "out"), *map(str, files))
    assert r.returncode == 0, r.stderr
    rows = [l for l in (tmp_path / "out/sweep_p.md").read_text().splitlines() if l[:3] == "| 0"]
    assert [float(l.split("|")[1]) for l in rows] == [0.1, 0.3, 0.5, 0.9]
    # cross-lingual mean and control: the last two columns
    assert [l.split("|")[-3].strip() for l in rows] == ["55.0", "62.0", "65.0", "60.0"]
    assert all(l.split("|")[-2].strip() == "50.0" for l in rows)
    assert (tmp_path / "out/sweep_p.html").stat().st_size > 1000


def test_the_fine_tuning_share_axis_reads_interleave_and_the_ratios(tmp_path):
    main = _results(tmp_path / "main/results.json", 0.5, [0.9], {0.5: 0.64, 0.9: 0.58}, interleave=0.7)
    ft30 = _results(tmp_path / "ft/results.json", 0.5, [], {0.5: 0.58}, ratios=(50, 5, 30))
    r = _run("--out", str(tmp_path / "out"), "--axis", "share", str(main), str(ft30))
    assert r.returncode == 0, r.stderr
    rows = [l.split("|") for l in (tmp_path / "out/sweep_share.md").read_text().splitlines()
            if l[:3] == "| 0"]
    # share 0 = interleave; 15/85 and 30/85 = interleave+finetune at the run's own p (not p=0.9)
    assert [(r[1].strip(), r[-3].strip()) for r in rows] == [("0", "70.0"), ("0.1765", "64.0"),
                                                            ("0.3529", "58.0")]
    assert "fine-tuning share" in (tmp_path / "out/sweep_share.html").read_text()


def test_a_p_given_twice_or_a_missing_seed_is_one_line(tmp_path):
    f1 = _results(tmp_path / "a/results.json", 0.5, [0.1], {0.5: 0.6, 0.1: 0.5})
    f2 = _results(tmp_path / "b/results.json", 0.5, [0.1], {0.1: 0.5})
    r = _run("--out", str(tmp_path / "out"), str(f1), str(f2))
    assert r.returncode != 0 and "p=0.1 appears twice" in r.stderr
    r = _run("--out", str(tmp_path / "out"), "--seed", "3", str(f1))
    assert r.returncode != 0 and "no arm on the p axis for seed 3" in r.stderr
    assert not (tmp_path / "out").exists()
