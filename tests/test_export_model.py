"""scripts/export_model.py: a checkpoint + its corpus -> a self-contained demo model dir."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors import safe_open

from helpers import ROOT

SCRIPT = ROOT / "scripts" / "export_model.py"


def _export(*args: str):
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def corpus(standin_ckpt, tmp_path):
    """What export reads from a corpus: its tokenizer and eval/aligned.jsonl."""
    c = tmp_path / "corpus"
    shutil.copytree(standin_ckpt / "tokenizer", c / "tokenizer")
    (c / "eval").mkdir()
    shutil.copy(standin_ckpt / "reference" / "aligned.jsonl", c / "eval" / "aligned.jsonl")
    return c


def test_export_writes_a_bf16_model_the_demo_loads(standin_ckpt, corpus, tmp_path):
    from app.session import DemoSession
    from slmlab.model import load_checkpoint

    out = tmp_path / "model"
    r = _export("--ckpt", str(standin_ckpt), "--corpus", str(corpus), "--out", str(out),
                "--card", "stand-in for the export test", "--pairs", "5")
    assert r.returncode == 0, r.stderr
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.bfloat16}
    info = json.loads((out / "slmlab.json").read_text())
    assert info["tokenizer"]["path"] == "tokenizer" and info["trained_on"].startswith("stand-in")
    assert len((out / "aligned.jsonl").read_text().splitlines()) == 5
    assert "stand-in for the export test" in (out / "MODEL_CARD.md").read_text()
    # the same model, rounded to bf16: the logits agree to bf16 precision
    src, _ = load_checkpoint(standin_ckpt)
    exp, _ = load_checkpoint(out)
    ids = torch.arange(20)[None] % 64
    with torch.no_grad():
        a, b = src(ids).logits, exp(ids).logits
    assert exp.dtype == torch.float32 and torch.allclose(a, b, atol=0.1, rtol=0.05)
    s = DemoSession(out, umap=False, cache=tmp_path / "cache")  # served as is
    assert s.reference_source == str(out / "aligned.jsonl") and len(s.reference) == 5


def test_export_refuses_bad_inputs_in_one_line(standin_ckpt, corpus, tmp_path):
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "notes.txt").write_text("not a model")
    r = _export("--ckpt", str(standin_ckpt), "--corpus", str(corpus), "--out", str(keep),
                "--card", "x")
    assert r.returncode == 2 and "not an exported model" in r.stderr
    assert (keep / "notes.txt").exists()  # nothing deleted
    r = _export("--ckpt", str(standin_ckpt), "--corpus", str(tmp_path / "nope"), "--out",
                str(tmp_path / "o"), "--card", "x")
    assert r.returncode == 2 and "tokenizer is missing" in r.stderr and "Traceback" not in r.stderr
    r = _export("--ckpt", str(tmp_path / "nothing"), "--corpus", str(corpus), "--out",
                str(tmp_path / "o"), "--card", "x")
    assert r.returncode == 2 and "no checkpoint" in r.stderr and "Traceback" not in r.stderr
