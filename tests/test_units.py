"""The built-in tokenizer on real espeak-ng speech: shapes, unit use, decoding, save/load."""

import math

import numpy as np
import pytest
import torch

from slmlab.constants import HOP
from slmlab.speech import synthesize, voices
from slmlab.tokenizers import (BuiltinTokenizer, Tokenizer, TokenizerError, load_tokenizer,
                               train_builtin)

SUBJECTS = {"en": ["The little cat", "A brave girl", "The old dog", "My brother", "The bird"],
            "fr": ["Le petit chat", "Une fille courageuse", "Le vieux chien", "Mon frère",
                   "L'oiseau"]}
ENDINGS = {"en": ["sleeps on the red mat.", "runs to the river.", "finds a key.",
                  "eats green apples."],
           "fr": ["dort sur le tapis rouge.", "court vers la rivière.", "trouve une clé.",
                  "mange des pommes vertes."]}


@pytest.fixture(scope="module")
def wavs():
    """40 real sentences (20 EN, 20 FR), several voices."""
    out = []
    for lang in ("en", "fr"):
        vs = voices(lang)
        for i, subj in enumerate(SUBJECTS[lang]):
            for j, end in enumerate(ENDINGS[lang]):
                out.append(synthesize(f"{subj} {end}", vs[(i + j) % len(vs)]))
    return out


@pytest.fixture(scope="module")
def tok(wavs):
    torch.manual_seed(0)
    return train_builtin(wavs, n_units=64, seed=0)


def test_is_a_tokenizer(tok):
    assert isinstance(tok, Tokenizer)
    assert (tok.sample_rate, tok.frame_rate, tok.hop, tok.vocab_size) == (24000, 12.5, HOP, 64)
    assert tok.name == "builtin-64-12.5hz" and len(tok.checksum()) == 12


@pytest.mark.parametrize("n", [1, HOP - 1, HOP, HOP + 1, 5 * HOP + 7, 24000])
def test_encode_gives_ceil_frames(tok, wavs, n):
    wav = torch.from_numpy(np.resize(wavs[0], n))[None]
    units = tok.encode(wav)
    assert units.shape == (1, math.ceil(n / HOP)) and units.dtype == torch.long
    assert 0 <= int(units.min()) and int(units.max()) < 64


def test_batch_encode_matches_single(tok, wavs):
    n = min(len(w) for w in wavs[:3])
    batch = torch.from_numpy(np.stack([w[:n] for w in wavs[:3]]))
    got = tok.encode(batch)
    for i in range(3):
        assert torch.equal(got[i], tok.encode(batch[i:i + 1])[0])
    np.testing.assert_array_equal(tok.encode_np(wavs[0][:n]), got[0].numpy().astype(np.int16))
    assert tok.encode_np(wavs[0]).dtype == np.int16


def test_uses_many_units(tok, wavs):
    units = np.concatenate([tok.encode_np(w) for w in wavs])
    counts = np.bincount(units, minlength=64)
    assert (counts > 0).sum() >= 48  # most of the 64 units are used, not all unit 0
    assert counts.max() < 0.25 * len(units)


def test_decode_exact_length_and_sound(tok, wavs):
    units = tok.encode(torch.from_numpy(wavs[5])[None])
    audio = tok.decode(units)
    assert audio.shape == (1, units.shape[1] * HOP) and audio.dtype == torch.float32
    assert torch.isfinite(audio).all() and 0.05 < float(audio.abs().max()) <= 1.0
    # decoded speech is heard as the same units again well above chance (1/64)
    again = tok.encode(audio)
    assert float((again == units).float().mean()) > 0.3
    two = tok.decode(torch.tensor([[0, 1, 2], [3, 4, 5]]))
    assert two.shape == (2, 3 * HOP)


def test_decode_rejects_bad_units(tok):
    with pytest.raises(ValueError, match="units must be in \\[0, 64\\)"):
        tok.decode(torch.tensor([[0, 64]]))
    with pytest.raises(ValueError, match="units \\[B, F\\]"):
        tok.decode(torch.tensor([1, 2]))


def test_save_load_identical(tok, wavs, tmp_path):
    tok.save(tmp_path / "tok")
    back = load_tokenizer(tmp_path / "tok")
    assert isinstance(back, BuiltinTokenizer) and back.checksum() == tok.checksum()
    for w in wavs[::7]:
        np.testing.assert_array_equal(back.encode_np(w), tok.encode_np(w))


def test_load_tokenizer_errors(tmp_path):
    with pytest.raises(TokenizerError, match="no tokenizer at"):
        load_tokenizer(tmp_path / "nothing")
    (tmp_path / "junk").mkdir()
    with pytest.raises(TokenizerError, match="is not a tokenizer"):
        load_tokenizer(tmp_path / "junk")


def test_frame_rate_25(wavs):
    tok = train_builtin(wavs[:10], n_units=16, frame_rate=25, seed=1, iters=3)
    assert tok.hop == 960
    assert tok.encode(torch.from_numpy(wavs[0])[None]).shape[1] == math.ceil(len(wavs[0]) / 960)
    assert tok.decode(torch.tensor([[1, 2, 3]])).shape == (1, 3 * 960)


def test_bad_settings(wavs):
    with pytest.raises(ValueError, match="frame_rate must divide"):
        train_builtin(wavs[:2], n_units=4, frame_rate=13)
    with pytest.raises(ValueError, match="at least n_units=5000 frames"):
        train_builtin(wavs[:2], n_units=5000)
    with pytest.raises(ValueError, match="encode expects wav \\[B, T\\]"):
        train_builtin(wavs[:4], n_units=4).encode(torch.zeros(100))


def test_seed_makes_training_reproducible(wavs):
    a = train_builtin(wavs[:8], n_units=16, seed=3, iters=3)
    b = train_builtin(wavs[:8], n_units=16, seed=3, iters=3)
    assert a.checksum() == b.checksum()
