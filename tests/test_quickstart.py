"""`slmlab quickstart` end to end at toy size, as a user runs it (a subprocess, its flags).

The real pipeline runs: stories, espeak-ng speech, the tokenizer, the corpus and eval set,
stage 1, the matched arms, evaluation and probing; the test checks what the user is promised:
exit code 0, the results table with every arm as a column, the stage times, and the files
(timings.json, results.{json,md}, the HTML figures, the checkpoints).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_quickstart_runs_end_to_end_at_toy_size(tmp_path):
    out = tmp_path / "qs"
    cmd = [sys.executable, "-m", "slmlab", "quickstart", "--out", str(out), "--stories", "16",
           "--eval-items", "6", "--units", "64", "--budget-tokens", "12000", "--workers", "1",
           "--no-progress"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=850)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    header = next(line for line in r.stdout.splitlines() if line.startswith("| task"))
    for arm in ("stage1", "mixed", "interleave+finetune"):
        assert arm in header, header
    rows = [line for line in r.stdout.splitlines() if line.startswith("| story:")]
    assert {"story:en-en", "story:fr-en"} <= {line.split("|")[1].strip() for line in rows}
    assert "Times: " in r.stdout and "Figures (open in a browser): " in r.stdout
    timings = json.loads((out / "timings.json").read_text())
    assert timings["total"] > 0 and len(timings) >= 3
    exp = out / "experiment"
    results = json.loads((exp / "results.json").read_text())
    assert results and "| task" in (exp / "results.md").read_text()
    assert {"accuracy.html", "alignment.html", "losses.html"} <= {p.name for p in exp.glob("*.html")}
    assert (out / "corpus" / "meta.json").is_file() and (out / "corpus" / "eval").is_dir()
    assert list(exp.rglob("slmlab.json")), "no checkpoint was written"
