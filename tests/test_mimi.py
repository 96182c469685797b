"""Mimi tokenizer: both backends on untrained stand-ins with random codebooks, saved and reloaded
through `load_mimi` / `load_tokenizer`; offline `mimi` lookup fails with instructions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from slmlab.constants import HOP
from slmlab.tokenizers import mimi as M


def _wav(batch: int, n: int, seed: int = 0) -> torch.Tensor:
    """Speech-like test signal [B, T]: chirps with varying loudness plus a little noise."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n) / 24000
    f0 = 120 + 200 * torch.rand(batch, 1, generator=g)
    amp = 0.2 * (1.2 + torch.sin(5 * t + 6 * torch.rand(batch, 1, generator=g)))
    return amp * torch.sin(2 * math.pi * f0 * t * (1 + 0.5 * t)) + 0.01 * torch.randn(batch, n, generator=g)


@pytest.fixture(scope="module")
def moshi_tok():
    torch.manual_seed(0)
    model = M.build_moshi(None, "cpu")
    assert M.randomize_codebooks(model, seed=0) > 1
    return M.MimiTokenizer(model, "moshi", device="cpu")


def _tiny_transformers_tok():
    from transformers import MimiConfig, MimiModel

    torch.manual_seed(0)
    cfg = MimiConfig(num_quantizers=2, num_hidden_layers=1, hidden_size=64, num_filters=8,
                     intermediate_size=128, codebook_dim=32,
                     vector_quantization_hidden_dimension=32, upsample_groups=64,
                     num_attention_heads=2, num_key_value_heads=2)
    model = MimiModel(cfg).eval()
    assert M.randomize_codebooks(model, seed=0) == 2
    return M.MimiTokenizer(model, "transformers", device="cpu")


def test_moshi_loaders_import_and_build():
    from moshi.models import loaders

    model = loaders.get_mimi(None, device="cpu")
    assert loaders.SAMPLE_RATE == 24000 and loaders.FRAME_RATE == 12.5
    assert model.frame_size == HOP and model.cardinality == 2048


def test_untrained_codebooks_map_everything_to_one_unit():
    # why randomize_codebooks exists: an untrained Mimi gives a constant code
    tok = M.MimiTokenizer(M.build_moshi(None, "cpu"), "moshi", device="cpu")
    assert tok.encode(_wav(1, 24000)).unique().numel() == 1


@pytest.mark.parametrize("n", [24000, 24000 + 1, 1920 * 7 - 5])
def test_moshi_encode_shape_and_variety(moshi_tok, n):
    codes = moshi_tok.encode(_wav(2, n))
    assert codes.shape == (2, math.ceil(n / HOP)) and codes.dtype == torch.long
    assert codes.min() >= 0 and codes.max() < 2048
    if n >= 24000:
        assert codes.unique().numel() >= 5, codes


def test_moshi_save_reload_same_codes(moshi_tok, tmp_path):
    from slmlab.tokenizers import load_tokenizer

    wav = _wav(2, 30000, seed=3)
    codes = moshi_tok.encode(wav)
    moshi_tok.save(tmp_path / "mimi")
    for loaded in (M.load_mimi(tmp_path / "mimi", device="cpu"),
                   M.load_mimi(tmp_path / "mimi" / M.SAVED_MOSHI_FILE, backend="moshi", device="cpu"),
                   load_tokenizer(tmp_path / "mimi", device="cpu")):
        assert loaded.name == "mimi-moshi"
        assert loaded.checksum() == moshi_tok.checksum()
        assert torch.equal(loaded.encode(wav), codes)
    audio = loaded.decode(codes)
    assert audio.shape == (2, codes.shape[1] * HOP) and torch.isfinite(audio).all()
    assert np.array_equal(loaded.encode_np(wav[0].numpy()), codes[0].numpy().astype(np.int16))


def test_encode_list_matches_one_by_one(moshi_tok):
    # causal model: right-padding in a batch must not change any code
    wavs = [_wav(1, n, seed=n)[0].numpy() for n in (5000, 40000, 19200, 100)]
    batched = moshi_tok.encode_list(wavs, batch_size=3)
    for wav, codes in zip(wavs, batched):
        assert np.array_equal(codes, moshi_tok.encode(torch.from_numpy(wav)[None])[0].numpy())


def test_transformers_backend_roundtrip(tmp_path):
    from slmlab.tokenizers import load_tokenizer

    tok = _tiny_transformers_tok()
    wav = _wav(2, 24000 * 2 + 7)
    codes = tok.encode(wav)
    assert codes.shape == (2, 26) and codes.unique().numel() >= 5
    tok.save(tmp_path / "hf")
    assert (tmp_path / "hf" / "config.json").exists()
    for loaded in (M.load_mimi(tmp_path / "hf", device="cpu"),
                   load_tokenizer(tmp_path / "hf", device="cpu")):
        assert loaded.name == "mimi-transformers" and loaded.checksum() == tok.checksum()
        assert torch.equal(loaded.encode(wav), codes)
    assert loaded.decode(codes[:, :10]).shape == (2, 10 * HOP)
    with pytest.raises(ValueError, match="transformers format"):
        M.load_mimi(tmp_path / "hf", backend="moshi")


def test_missing_weights_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="huggingface-cli download kyutai/mimi"):
        M.load_mimi(tmp_path / "nothing-here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no Mimi weights"):
        M.load_mimi(tmp_path / "empty")
    assert not M.is_mimi_path(tmp_path / "empty")


def test_bad_inputs_are_value_errors(moshi_tok):
    with pytest.raises(ValueError, match="B, T"):
        moshi_tok.encode(torch.zeros(24000))
    with pytest.raises(ValueError, match="units must be"):
        moshi_tok.decode(torch.full((1, 3), 5000))
