"""Fault injection on corpora and eval sets: kills, a full disk, damaged or replaced files,
eval sets of another tokenizer, malformed lines, read-only result dirs.

Each test asserts the message, the exit code, and that nothing written before was lost."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from faults_support import remount_readonly, run_cli, snapshot, tmpfs
from slmlab import corpus as K
from slmlab.corpus import eval_set as E
from slmlab.constants import SAMPLE_RATE

N_UNITS = 16


def _tokenizer(seed: int):
    from slmlab.tokenizers import train_builtin

    rng = np.random.default_rng(seed)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    wavs = [(0.3 * np.sin(2 * np.pi * f * t) + 0.01 * rng.normal(size=t.size)).astype(np.float32)
            for f in (150, 300, 600, 1200)]
    return train_builtin(wavs, n_units=N_UNITS, iters=3, seed=seed)


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tok") / "tokenizer"
    _tokenizer(0).save(d)
    return d


def build_args(out: Path, tok: Path, stories: int = 3) -> list[str]:
    return ["corpus", "build", "--out", str(out), "--stories", str(stories), "--shard-size", "1",
            "--tokenizer", str(tok), "--workers", "1", "--eval-items", "0", "--keep-audio", "0",
            "--heldout-fraction", "0", "--no-progress"]


@pytest.fixture(scope="module")
def reference(tok_dir, tmp_path_factory):
    """An uninterrupted 3-story corpus: the rows every resumed build must reproduce."""
    from slmlab.cli import main

    out = tmp_path_factory.mktemp("ref") / "c"
    assert main(build_args(out, tok_dir)) == 0
    return K.load_corpus(out)[0].to_list()


def cfg_for(out: Path, tok: Path, **kw) -> K.CorpusConfig:
    return K.CorpusConfig(out=str(out), n_stories=3, shard_size=1, tokenizer=str(tok),
                          workers=1, eval_items=0, keep_audio_sample=0, heldout_fraction=0.0,
                          progress=False, **kw)


# ------------------------------------------------------------------ corpus builds


def _kill_build(out: Path, tok: Path, kills: int, seed: int) -> list[str]:
    """Kill the build (not its workers: they are orphaned and may finish the same shard as the
    restarted build) at random moments, then let it finish; returns the command."""
    cmd = [sys.executable, "-m", "slmlab.cli", *build_args(out, tok)]
    rng = random.Random(seed)
    for _ in range(kills):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while not (out / "build_config.json").exists() and time.time() - t0 < 60:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.2, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return cmd


@pytest.mark.e2e  # whole CLI processes, killed
def test_sigkill_during_corpus_build_resumes_to_the_same_rows(tok_dir, reference, tmp_path):
    out = tmp_path / "c"
    _kill_build(out, tok_dir, kills=1, seed=0)
    assert K.load_corpus(out)[0].to_list() == reference


@pytest.mark.e2e  # whole CLI processes, killed
@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_corpus_build_many_times(tok_dir, reference, tmp_path, seed):
    out = tmp_path / "c"
    cmd = _kill_build(out, tok_dir, kills=3, seed=seed)
    assert K.load_corpus(out)[0].to_list() == reference
    time.sleep(1.0)  # orphans finish their task; a later run must still be clean and identical
    assert subprocess.run(cmd, capture_output=True, text=True).returncode == 0
    assert not list((out / "shards").glob(".tmp-*"))
    assert K.load_corpus(out)[0].to_list() == reference


def test_orphaned_worker_finishing_the_same_shard(tok_dir, tmp_path):
    out = tmp_path / "c"
    K.prepare_dir(cfg_for(out, tok_dir))
    rows = [{"story_id": "s", "sentence_idx": 0, "lang": "en", "voice": "v", "text": "t",
             "split": "train"}]
    wavs, units = [np.zeros(1920, np.float32)], [np.arange(3, dtype=np.int16)]
    K.write_shard(out, 0, rows, wavs, units, 0)
    before = snapshot(out / "shards")
    stats = K.write_shard(out, 0, rows, wavs, units, 0)  # the orphan's copy arrives second
    assert stats["rows"] == 1 and snapshot(out / "shards") == before
    assert not list((out / "shards").glob(".tmp-*"))
    # tmp dirs of dead writers are removed at the next start; a live writer's are kept
    dead = out / "shards" / ".tmp-shard-00001-999999999"
    live = out / "shards" / f".tmp-shard-00002-{os.getpid()}"
    dead.mkdir(), live.mkdir()
    K.prepare_dir(cfg_for(out, tok_dir))
    assert not dead.exists() and live.exists()


def test_damaged_build_config(tok_dir, tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    (out / "build_config.json").write_text("")  # a torn write by an older slmlab, no shards
    K.prepare_dir(cfg_for(out, tok_dir))
    assert json.loads((out / "build_config.json").read_text())["n_stories"] == 3
    (out / "shards" / "shard-00000").mkdir()
    (out / "build_config.json").write_text("{")
    with pytest.raises(K.CorpusError, match="damaged but shards exist"):
        K.prepare_dir(cfg_for(out, tok_dir))


def test_tokenizer_replaced_at_the_same_path(tok_dir, tmp_path, capsys):
    import shutil

    tok = tmp_path / "tok"
    shutil.copytree(tok_dir, tok)
    out = tmp_path / "c"
    assert run_cli(build_args(out, tok, stories=1), capsys)[0] == 0
    before = snapshot(out)
    shutil.rmtree(tok)
    _tokenizer(1).save(tok)  # other weights, same path
    code, err = run_cli(build_args(out, tok, stories=1), capsys)
    assert code == 2 and err.count("\n") == 1
    assert "was started with tokenizer checksum" in err and "its files changed" in err
    assert snapshot(out) == before


def test_two_builds_of_one_corpus_and_a_read_only_out(tok_dir, tmp_path, capsys):
    from slmlab.checkpoint import RunLock

    out = tmp_path / "c"
    with RunLock(out):
        code, err = run_cli(build_args(out, tok_dir, stories=1), capsys)
    assert code == 2 and "being written by another process" in err
    assert not (out / "shards").exists()
    with tmpfs(tmp_path / "ro", 1024) as mnt:
        remount_readonly(mnt)
        code, err = run_cli(build_args(mnt / "c", tok_dir, stories=1), capsys)
        assert code == 2 and err.count("\n") == 1 and "Read-only file system" in err
        assert "give a writable output path" in err


def test_disk_full_during_corpus_build(tok_dir, reference, tmp_path, capsys):
    with tmpfs(tmp_path / "small", 40) as mnt:
        out = mnt / "c"
        code, err = run_cli(build_args(out, tok_dir), capsys)
        assert code == 2 and err.count("\n") == 1 and "No space left on device" in err, err
        assert json.loads((out / "build_config.json").read_text())["n_stories"] == 3
        assert not list((out / "shards").glob(".tmp-*"))  # the failed shard cleaned up
        kept = snapshot(out / "shards")
        for d in K.shard_dirs(out):
            assert (d / "shard.json").exists()
        subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)
        code, err = run_cli(build_args(out, tok_dir), capsys)
        assert code == 0, err
        assert K.load_corpus(out)[0].to_list() == reference
        after = snapshot(out / "shards")
        assert all(after[k] == v for k, v in kept.items())  # finished shards untouched


# ------------------------------------------------------------------ eval sets


def _fake_plan(cfg):
    rows = {"cloze": [{"kind": "story", "item_id": "i", "condition": "en-en", "pair_id": "p",
                       "fact": "f", "context": [("a", "v")], "right": [("b", "v")],
                       "wrong": [("c", "v")]}], "pairs": [], "aligned": []}
    return rows, [("a", "v"), ("b", "v"), ("c", "v")]


def test_eval_rebuilt_beside_and_swapped(tmp_path, monkeypatch):
    cfg = K.CorpusConfig(out=str(tmp_path), eval_items=1, progress=False)
    monkeypatch.setattr(E, "plan_eval", _fake_plan)
    monkeypatch.setattr(E, "tokenize_keys", lambda keys, *a: {k: [1, 2] for k in keys})
    eval_dir = tmp_path / "eval"
    E.build_eval(eval_dir, "tok", cfg, tokenizer={"checksum": "aaa"})
    old = snapshot(eval_dir)

    def killed(*a):
        raise KeyboardInterrupt  # a kill midway through the rebuild for a new tokenizer

    monkeypatch.setattr(E, "tokenize_keys", killed)
    with pytest.raises(KeyboardInterrupt):
        E.build_eval(eval_dir, "tok", cfg, tokenizer={"checksum": "bbb"})
    assert snapshot(eval_dir) == old  # the corpus keeps its complete eval set
    # a kill between the two renames of the swap: the old set is put back at the next run
    os.rename(eval_dir, tmp_path / ".old-eval-123")
    assert E.build_eval(eval_dir, "tok", cfg, tokenizer={"checksum": "aaa"})["cloze"] == 1
    assert snapshot(eval_dir) == old and not list(tmp_path.glob(".old-*"))
    monkeypatch.setattr(E, "tokenize_keys", lambda keys, *a: {k: [3] for k in keys})
    E.build_eval(eval_dir, "tok", cfg, tokenizer={"checksum": "bbb"})
    info = json.loads((eval_dir / "eval.json").read_text())
    assert info["tokenizer"]["checksum"] == "bbb" and not list(tmp_path.glob(".old-*"))


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A tiny checkpoint (16 units, tokenizer checksum 'tok-a') and its eval set."""
    from slmlab.evaluate import synthetic_eval_set, write_eval_set
    from slmlab.interleave import Vocab
    from helpers import tiny_llama

    root = tmp_path_factory.mktemp("scored")
    ckpt = root / "ckpt"
    tiny_llama(N_UNITS + 3).save_pretrained(ckpt)
    (ckpt / "slmlab.json").write_text(json.dumps({
        "vocab": Vocab(N_UNITS).to_dict(), "tokenizer": {"name": "a", "checksum": "tok-a"}}))
    eval_dir = write_eval_set(synthetic_eval_set(4, n_units=N_UNITS, sentence_frames=4,
                                                 aligned=4), root / "eval")
    (eval_dir / "eval.json").write_text(json.dumps({"tokenizer": {"name": "a",
                                                                  "checksum": "tok-a"}}))
    return ckpt, eval_dir


def _variant(eval_dir: Path, tmp_path: Path, *, checksum=None, edit=None) -> Path:
    import shutil

    d = tmp_path / "ev"
    shutil.copytree(eval_dir, d)
    if checksum:
        (d / "eval.json").write_text(json.dumps({"tokenizer": {"name": "b", "checksum": checksum}}))
    if edit:
        name, fn = edit
        lines = (d / name).read_text().splitlines()
        lines[1] = fn(lines[1])
        (d / name).write_text("\n".join(lines) + "\n")
    return d


@pytest.mark.parametrize("command", ["evaluate", "probe"])
@pytest.mark.parametrize("case, needle", [
    ("other-tokenizer", "was made with tokenizer b (checksum tok-b), the checkpoint with a"),
    ("out-of-range", "unit id 40 in "),
    ("truncated-line", "line 2 is not JSON"),
    ("no-right", "cloze.jsonl line 2 lacks right"),
])
def test_eval_set_must_fit_the_checkpoint(scored, tmp_path, capsys, command, case, needle):
    ckpt, eval_dir = scored

    def out_of_range(line):
        row = json.loads(line)
        key = "en" if "en" in row else "context"
        row[key][0] = 40
        return json.dumps(row)

    name = "aligned.jsonl" if command == "probe" else "cloze.jsonl"
    d = {"other-tokenizer": lambda: _variant(eval_dir, tmp_path, checksum="tok-b"),
         "out-of-range": lambda: _variant(eval_dir, tmp_path, edit=(name, out_of_range)),
         "truncated-line": lambda: _variant(eval_dir, tmp_path,
                                            edit=(name, lambda s: s[: len(s) // 2])),
         "no-right": lambda: _variant(eval_dir, tmp_path, edit=(
             "cloze.jsonl", lambda s: json.dumps({k: v for k, v in json.loads(s).items()
                                                  if k != "right"})))}[case]()
    code, err = run_cli([command, "--ckpt", ckpt, "--eval", d, "--out", tmp_path / "res",
                         "--device", "cpu"], capsys)
    assert code == 2 and err.count("\n") == 1 and needle in err, err
    if case != "other-tokenizer":
        assert str(d) in err  # the file is named


@pytest.mark.parametrize("command", ["evaluate", "probe"])
@pytest.mark.parametrize("device, needle", [("bogus", "device string"), ("cuda", "CUDA")])
def test_eval_on_an_unusable_device(scored, tmp_path, capsys, command, device, needle):
    import torch

    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("checks the message of a CPU-only torch")
    ckpt, eval_dir = scored
    code, err = run_cli([command, "--ckpt", ckpt, "--eval", eval_dir, "--out", tmp_path / "r",
                         "--device", device], capsys)
    assert code == 2 and err.count("\n") == 1 and needle in err and "check --device" in err


def test_evaluate_resamples_zero(scored, capsys):
    ckpt, eval_dir = scored
    code, err = run_cli(["evaluate", "--ckpt", ckpt, "--eval", eval_dir, "--resamples", "0"],
                        capsys)
    assert code == 2 and err.count("\n") == 1 and "resamples must be a finite number > 0" in err


def test_evaluate_on_a_read_only_run_writes_beside(scored, tmp_path, capsys, monkeypatch):
    import shutil

    ckpt, eval_dir = scored
    with tmpfs(tmp_path / "ro", 8 * 1024) as mnt:
        shutil.copytree(ckpt, mnt / "ckpt")
        remount_readonly(mnt)
        monkeypatch.chdir(tmp_path)
        code, err = run_cli(["evaluate", "--ckpt", mnt / "ckpt", "--eval", eval_dir,
                             "--device", "cpu", "--resamples", "10"], capsys)
        assert code == 0, err
        assert "is not writable; results written to" in err
        res = tmp_path / "slmlab-results" / "ckpt" / "eval_results.json"
        assert json.loads(res.read_text())["tasks"]
    # --out an existing directory: the results go inside it, not lost after scoring
    code, err = run_cli(["evaluate", "--ckpt", ckpt, "--eval", eval_dir, "--device", "cpu",
                         "--resamples", "10", "--out", tmp_path], capsys)
    assert code == 0 and "is a directory; results written to" in err
    assert json.loads((tmp_path / "results.json").read_text())["tasks"]
