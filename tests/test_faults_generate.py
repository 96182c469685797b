"""`slmlab generate` under bad input: every case is one line, exit 2, before the model loads;
the shared limits; the shipped model's relative tokenizer path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from faults_support import run_cli
from slmlab import generate as gen
from slmlab.config import ConfigError
from slmlab.constants import SAMPLE_RATE
from helpers import tiny_llama
from test_generate import N_UNITS, tokenizer  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, tokenizer):  # noqa: F811
    """A checkpoint whose slmlab.json records its tokenizer as a path relative to itself."""
    from slmlab.interleave import Vocab

    root = tmp_path_factory.mktemp("gen")
    ckpt = root / "model"
    tiny_llama(N_UNITS + 3).save_pretrained(ckpt)
    tokenizer.save(ckpt / "tokenizer")
    (ckpt / "slmlab.json").write_text(json.dumps({
        "vocab": Vocab(N_UNITS).to_dict(),
        "tokenizer": {"path": "tokenizer", "checksum": tokenizer.checksum()}}))
    sf.write(root / "prompt.wav", 0.1 * np.sin(np.arange(SAMPLE_RATE) / 5.0), SAMPLE_RATE)
    sf.write(root / "long.wav", 0.1 * np.sin(np.arange(31 * SAMPLE_RATE) / 5.0), SAMPLE_RATE)
    return ckpt


@pytest.fixture
def no_model_load(monkeypatch):
    """Any attempt to load the model fails the test: bad input must be caught before."""
    import slmlab.model

    def refuse(*a, **k):
        raise AssertionError("the model was loaded before the input was checked")

    monkeypatch.setattr(slmlab.model, "load_checkpoint", refuse)


CASES = [
    (["--top-k", "-1"], "top_k must be a whole number >= 0"),
    (["--temperature", "nan"], "temperature must be in [0.0, 5.0]; got nan"),
    (["--temperature", "inf"], "temperature must be in [0.0, 5.0]; got inf"),
    (["--temperature", "-1"], "temperature must be in [0.0, 5.0]; got -1.0"),
    (["--seconds", "inf"], "seconds must be a finite number > 0; got inf"),
    (["--seconds", "0"], "seconds must be a finite number > 0; got 0.0"),
    (["--seconds", "-1"], "seconds must be a finite number > 0; got -1.0"),
    (["--seconds", "1e6"], "seconds must be at most 20; got 1000000.0"),
    (["--seed", str(2**64)], "seed must be a whole number in [0, 2**63 - 1]"),
    (["--seed", "-3"], "seed must be a whole number in [0, 2**63 - 1]"),
    (["--device", "bogus"], "--device must be cpu, cuda or cuda:N; got 'bogus'"),
    (["-o", "{tmp}"], "is a directory; give a file name"),
    (["-o", "{tmp}/noext"], "unknown audio extension (none); use .wav, .flac or .ogg"),
    (["-o", "{tmp}/out.mp4"], "unknown audio extension .mp4"),
]


@pytest.mark.parametrize("extra, needle", CASES)
def test_bad_settings_fail_fast_in_one_line(ckpt, tmp_path, capsys, no_model_load, extra, needle):
    argv = ["generate", "--ckpt", ckpt, "--prompt", ckpt.parent / "prompt.wav",
            "-o", tmp_path / "o.wav"] + [a.format(tmp=tmp_path) for a in extra]
    code, err = run_cli(argv, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert needle in err
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("source, needle", [
    (["--text", "a" * 10_000], "the text is too long (10000 characters, limit 600)"),
    (["--text", "   "], "the text is empty"),
    (["--prompt", "{root}/long.wav"], "too long (31.0 s, limit 30 s)"),
    (["--prompt", "{root}/missing.wav"], "no audio file at"),
])
def test_bad_prompts_fail_before_the_model_loads(ckpt, tmp_path, capsys, no_model_load,
                                                 source, needle):
    argv = ["generate", "--ckpt", ckpt, "-o", tmp_path / "o.wav",
            *[a.format(root=ckpt.parent) for a in source]]
    code, err = run_cli(argv, capsys)
    assert code == 2 and err.count("\n") == 1 and needle in err


def test_missing_checkpoint_and_foreign_tokenizer(ckpt, tmp_path, capsys, no_model_load):
    from slmlab.tokenizers import train_builtin

    code, err = run_cli(["generate", "--ckpt", tmp_path / "nope", "--text", "hi"], capsys)
    assert code == 2 and "no checkpoint at" in err
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    other = train_builtin([(0.3 * np.sin(2 * np.pi * 97 * t)).astype(np.float32)] * 2,
                          n_units=N_UNITS, iters=2, seed=5)
    other.save(tmp_path / "other")
    code, err = run_cli(["generate", "--ckpt", ckpt, "--tokenizer", tmp_path / "other",
                         "--prompt", ckpt.parent / "prompt.wav", "-o", tmp_path / "o.wav"], capsys)
    assert code == 2 and "is not the one the checkpoint was trained with" in err


def test_relative_tokenizer_resolved_against_the_checkpoint(ckpt, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not where the checkpoint is
    code, err = run_cli(["generate", "--ckpt", ckpt, "--prompt", ckpt.parent / "prompt.wav",
                         "--seconds", "0.5", "--seed", "1", "-o", "out.flac"], capsys)
    assert code == 0, err
    audio, sr = sf.read(tmp_path / "out.flac")
    assert sr == SAMPLE_RATE and len(audio) > SAMPLE_RATE


@pytest.mark.skipif(not (REPO / "app" / "model" / "config.json").exists(),
                    reason="the shipped demo model is not in this checkout")
def test_shipped_model_from_the_repo_root(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    code, err = run_cli(["generate", "--ckpt", "app/model", "--text", "The cat sleeps.",
                         "--seconds", "0.5", "--seed", "0", "--device", "cpu",
                         "-o", tmp_path / "c.wav"], capsys)
    assert code == 0, err
    assert sf.info(tmp_path / "c.wav").duration > 0.5


def test_shared_limits_and_library_checks():
    assert (gen.MAX_PROMPT_SECONDS, gen.MAX_CONTINUATION_SECONDS, gen.MAX_TEXT_CHARS) == \
        (30.0, 20.0, 600)
    assert gen.check_text("  hello ") == "hello"
    with pytest.raises(ConfigError, match="seconds must be at most 20"):
        gen.SamplingConfig(seconds=21)
    with pytest.raises(ConfigError, match="top_k"):
        gen.SamplingConfig(top_k=2.5)
    # the library call applies the same limits as the CLI (the app calls it too)
    with pytest.raises(ConfigError, match="temperature"):
        gen.continue_speech(tiny_llama(N_UNITS + 3), None, np.zeros(10, np.float32), temperature=-1)


def test_recorded_tokenizer_spec(tmp_path):
    """A checkpoint's tokenizer spec: shipped names as is, recorded paths found beside the
    checkpoint (even one whose name starts with 'mimi'), Mimi by kind falls back to the cache."""
    from slmlab.tokenizers import recorded_tokenizer

    ckpt = tmp_path / "ckpt"
    (ckpt / "mimi_copy").mkdir(parents=True)
    assert recorded_tokenizer({"tokenizer": {"path": "neural"}}, ckpt) == "neural"
    assert recorded_tokenizer({"tokenizer": {"path": "mimi_copy"}}, ckpt) == str(ckpt / "mimi_copy")
    assert recorded_tokenizer({"tokenizer": {"kind": "mimi", "path": "gone"}}, ckpt) == "mimi"
    with pytest.raises(FileNotFoundError, match="pass --tokenizer"):
        recorded_tokenizer({"tokenizer": {"kind": "builtin", "path": "gone"}}, ckpt)
