"""Speech continuation with a tiny model and a real (tiny) built-in tokenizer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import tiny_llama

from slmlab import generate as gen
from slmlab.constants import HOP, SAMPLE_RATE

N_UNITS = 16


@pytest.fixture(scope="module")
def tokenizer():
    from slmlab.tokenizers import train_builtin

    rng = np.random.default_rng(0)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    wavs = [(0.3 * np.sin(2 * np.pi * f * t) + 0.01 * rng.normal(size=t.size)).astype(np.float32)
            for f in (150, 300, 600, 1200)]
    return train_builtin(wavs, n_units=N_UNITS, iters=3)


def test_continue_speech_units_in_range_and_audio_length(tokenizer):
    model = tiny_llama(N_UNITS + 3)
    wav = np.random.default_rng(1).normal(scale=0.1, size=int(1.5 * SAMPLE_RATE)).astype(np.float32)
    prompt, new, audio = gen.continue_speech(model, tokenizer, wav, seconds=1.0, seed=0)
    assert len(prompt) == int(np.ceil(len(wav) / HOP))
    assert 0 < len(new) <= 13 and new.min() >= 0 and new.max() < N_UNITS
    assert audio.dtype == np.float32 and audio.shape == (len(new) * HOP,)
    _, new2, full = gen.continue_speech(model, tokenizer, wav, seconds=1.0, seed=0,
                                        include_prompt=True)
    np.testing.assert_array_equal(new, new2)  # same seed, same continuation
    assert full.shape == ((len(prompt) + len(new)) * HOP,)


class Biased(torch.nn.Module):
    """A tiny model whose logits get a fixed bias [V] (to force preferences)."""

    def __init__(self, bias: torch.Tensor):
        super().__init__()
        self.inner, self.bias = tiny_llama(N_UNITS + 3), bias

    def forward(self, **kw):
        out = self.inner(**kw)
        out.logits = out.logits + self.bias
        return out


def test_special_tokens_masked_except_eos():
    """A model that always prefers BOS/SEP must still emit units; one preferring EOS stops."""
    bias = torch.zeros(N_UNITS + 3)
    bias[[N_UNITS, N_UNITS + 2]] = 100.0  # BOS, SEP
    bias[N_UNITS + 1] = -100.0  # EOS never
    units = gen.sample_units(Biased(bias), [1, 2, 3], n_units=N_UNITS, max_new=10,
                             temperature=1.0, top_k=None, seed=0)
    assert len(units) == 10 and all(0 <= u < N_UNITS for u in units)
    bias[N_UNITS + 1] = 200.0
    assert gen.sample_units(Biased(bias), [1, 2], n_units=N_UNITS, max_new=10, temperature=0) == []


def no_eos_model():
    bias = torch.zeros(N_UNITS + 3)
    bias[N_UNITS + 1] = -100.0
    return Biased(bias)


def test_kv_cache_matches_full_recompute():
    model = no_eos_model()
    a = gen.sample_units(model, [3, 4, 5], n_units=N_UNITS, max_new=12, temperature=0)
    b = gen.sample_units(model, [3, 4, 5], n_units=N_UNITS, max_new=12, temperature=0,
                         use_cache=False)
    assert a == b and len(a) == 12
    s1 = gen.sample_units(model, [3], n_units=N_UNITS, max_new=12, seed=7)
    assert s1 == gen.sample_units(model, [3], n_units=N_UNITS, max_new=12, seed=7)


def test_tokenizer_model_mismatch_is_a_clear_error(tokenizer):
    with pytest.raises(ValueError, match="tokenizer has 16 units"):
        gen.continue_speech(tiny_llama(vocab=10), tokenizer, np.zeros(HOP, np.float32))


def test_generate_cli_writes_wav(tmp_path, tokenizer, capsys):
    import json

    import soundfile as sf

    from slmlab.cli import main
    from slmlab.interleave import Vocab

    ckpt = tmp_path / "ckpt"
    tiny_llama(N_UNITS + 3).save_pretrained(ckpt)
    tok_dir = tmp_path / "tok"
    tokenizer.save(tok_dir)
    (ckpt / "slmlab.json").write_text(json.dumps({"vocab": Vocab(N_UNITS).to_dict(),
                                                  "tokenizer": {"path": str(tok_dir)}}))
    prompt = tmp_path / "prompt.wav"
    sf.write(prompt, np.zeros(SAMPLE_RATE // 2, np.float32) + 0.01, SAMPLE_RATE)
    out = tmp_path / "out.wav"
    assert main(["generate", "--ckpt", str(ckpt), "--prompt", str(prompt), "--seconds", "0.5",
                 "--seed", "0", "--only-new", "-o", str(out)]) == 0
    audio, sr = sf.read(out)
    assert sr == SAMPLE_RATE and len(audio) % HOP == 0 and 0 < len(audio) <= 7 * HOP
    assert "continuation" in capsys.readouterr().out
