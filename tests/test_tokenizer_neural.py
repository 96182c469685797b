"""The shipped speaker-invariant tokenizer (`slmlab/tokenizers/pretrained/neural-2048`) and its
trainer, on real espeak-ng speech. No GPU: the trainer runs at toy size on the CPU."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from slmlab.constants import HOP
from slmlab.speech import synthesize, voices
from slmlab.speech.perturb import Perturbation, perturb
from slmlab.speech.phones import unit_edit_distance
from slmlab.tokenizers import BuiltinTokenizer, TokenizerError, load_tokenizer
from slmlab.tokenizers import pretrained_dir
from slmlab.tokenizers.neural import (NeuralTokenizer, UnitDecoder, UnitEncoder,
                                     _length_batches)
from slmlab.tokenizers.neural_train import (NeuralTrainConfig, sinkhorn, spherical_kmeans,
                                            train_neural)

ROOT = Path(__file__).resolve().parents[1]

EN = ["The little fox found a red ball near the river.",
      "Sam was very happy because the sun was shining."]
FR = "Le petit chat noir dormait sous la grande table."


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer("neural")


@pytest.fixture(scope="module")
def speech():
    v = voices("en")[0]
    return [synthesize(t, v) for t in EN]


def test_shipped_tokenizer_is_small_documented_package_data():
    d = pretrained_dir()
    size = sum(f.stat().st_size for f in d.iterdir())
    assert size <= 20 * 2**20, f"shipped tokenizer is {size / 2**20:.1f} MB (limit 20)"
    card = (d / "CARD.md").read_text()
    for needed in ("slmlab tokenizer train", "phone", "Training data", "held-out"):
        assert needed in card, f"CARD.md should mention {needed!r}"
    meta = json.loads((d / "tokenizer.json").read_text())
    assert meta["kind"] == "neural" and meta["vocab_size"] == 2048


def test_loads_encodes_and_decodes_at_mimi_shape(tok, speech):
    assert isinstance(tok, NeuralTokenizer)
    assert (tok.vocab_size, tok.frame_rate, tok.sample_rate, tok.hop) == (2048, 12.5, 24000, HOP)
    n = min(len(w) for w in speech)
    wav = torch.from_numpy(np.stack([w[:n] for w in speech]))
    units = tok.encode(wav)
    assert units.shape == (2, math.ceil(n / HOP)) and units.dtype == torch.long
    assert 0 <= int(units.min()) and int(units.max()) < 2048
    audio = tok.decode(units)
    assert audio.shape == (2, units.shape[1] * HOP)
    assert float(audio.abs().max()) <= 0.95 + 1e-6 and float(audio.std()) > 0.01  # sound, no clip


def test_encoding_is_deterministic_and_batch_invariant(tok, speech):
    n = min(len(w) for w in speech)
    a, b = (torch.from_numpy(w[:n])[None] for w in speech)
    both = tok.encode(torch.cat([a, b]))
    assert torch.equal(both[0], tok.encode(a)[0]) and torch.equal(both[1], tok.encode(b)[0])
    assert torch.equal(tok.encode(a), tok.encode(a.clone()))


def test_padded_batches_give_each_sentence_its_own_units(tok, speech):
    # sentences of different lengths (and an empty one) batched with zero padding: each item is
    # masked to its own length, so its units are exactly those it gets alone; the naive
    # padded batch (statistics and convs over the padding) moves them
    fr = synthesize(FR, voices("fr")[0])
    wavs = [speech[0], fr, np.zeros(0, np.float32), speech[1][: len(speech[1]) // 3]]
    alone = [tok.encode_np(w) for w in wavs]
    batched = tok.encode_list(wavs)
    assert [len(u) for u in batched] == [len(u) for u in alone] and len(batched[2]) == 0
    for a, b in zip(alone, batched):
        assert np.array_equal(a, b)
    short = wavs[3]
    padded = torch.zeros(1, len(speech[0]))
    padded[0, : len(short)] = torch.from_numpy(short)
    naive = tok.encode(padded)[0, : len(alone[3])].numpy()
    assert (naive != alone[3]).mean() > 0.05, "padding should matter when it is not masked"


def test_padded_embeddings_match_alone_and_batches_respect_the_budget():
    t = _toy(1)
    rng = np.random.default_rng(0)
    wavs = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (3000, 24_000, 9_000)]
    frames = torch.tensor([t.n_frames(len(w)) for w in wavs])
    pad = torch.zeros(3, len(wavs[1]))
    for i, w in enumerate(wavs):
        pad[i, : len(w)] = torch.from_numpy(w)
    z = t.embed(pad, frames)  # [3, F_max, dim]
    for i, w in enumerate(wavs):
        alone = t.embed(torch.from_numpy(w)[None])[0]
        assert torch.allclose(z[i, : int(frames[i])], alone, atol=1e-5)
    # two items of 24,000 samples exceed a 40,000-sample budget: the batches split
    assert _length_batches([0, 2, 1], [3000, 24_000, 9_000], 40_000) == [[0, 2], [1]]
    assert _length_batches([0, 2, 1], [3000, 24_000, 9_000], 10**6) == [[0, 2, 1]]
    assert [len(u) for u in t.encode_list(wavs, batch_samples=10_000)] == frames.tolist()


# Same words under a voice change vs different words (the floor, ~1). Limits are the values
# measured with the shipped tokenizer on this utterance plus a margin (pitch 0.14, formant
# 0.28, both 0.44, speed 0.60, faint noise 0.03; without the noise gate they were 0.7-0.9).
PERTURBED = {"pitch": (Perturbation(pitch=1.4), 0.3),
             "formant": (Perturbation(formant=1.15), 0.45),
             "pitch+formant": (Perturbation(pitch=0.8, formant=0.9), 0.6),
             "speed": (Perturbation(speed=1.12), 0.75),
             "faint-noise": (Perturbation(snr_db=60.0), 0.15)}


@pytest.mark.parametrize("name", list(PERTURBED))
def test_perturbed_copy_maps_to_nearly_the_same_units(tok, speech, name):
    p, limit = PERTURBED[name]
    ref = tok.encode_np(speech[0])
    same = unit_edit_distance(ref, tok.encode_np(perturb(speech[0], p)))
    other = unit_edit_distance(ref, tok.encode_np(speech[1]))
    assert other >= 0.9, f"different sentences should be far apart; got {other:.2f}"
    assert same <= limit, f"{name} moved the units by {same:.2f} (limit {limit})"


def test_old_builtin_tokenizer_directories_still_load(speech):
    old = load_tokenizer(ROOT / "tests" / "data" / "builtin-kmeans-v1")
    assert isinstance(old, BuiltinTokenizer)
    assert old.encode_np(speech[0]).shape == (math.ceil(len(speech[0]) / HOP),)


def _toy(seed=0):
    torch.manual_seed(seed)
    return NeuralTokenizer(UnitEncoder(32, 8, 1, 1),
                           torch.nn.functional.normalize(torch.randn(16, 8), dim=-1),
                           UnitDecoder(16, 32, 1), info={"objective": "toy"})


def test_save_load_round_trip_and_tampering(tmp_path, speech):
    t = _toy()
    t.save(tmp_path / "t")
    back = load_tokenizer(tmp_path / "t")
    assert isinstance(back, NeuralTokenizer) and back.checksum() == t.checksum()
    assert np.array_equal(back.encode_np(speech[0]), t.encode_np(speech[0]))
    meta = json.loads((tmp_path / "t" / "tokenizer.json").read_text())
    meta["gate_db"] = 20.0  # different features than the weights were saved with
    (tmp_path / "t" / "tokenizer.json").write_text(json.dumps(meta))
    with pytest.raises(TokenizerError, match="checksum"):
        load_tokenizer(tmp_path / "t")


def test_decode_rejects_bad_units():
    with pytest.raises(ValueError, match="units must be in"):
        _toy().decode(torch.tensor([[0, 16]]))


def test_sinkhorn_balances_and_kmeans_gives_unit_centroids():
    g = torch.Generator().manual_seed(0)
    q = sinkhorn(torch.rand(512, 8, generator=g) * 2 - 1)  # cosine scores, as in training
    assert torch.allclose(q.sum(1), torch.ones(512), atol=1e-3)  # a distribution per row
    assert float(q.sum(0).std() / q.sum(0).mean()) < 0.1  # prototypes used about equally
    x = torch.nn.functional.normalize(torch.randn(2000, 4, generator=g), dim=-1)
    c = spherical_kmeans(x, 10, iters=5)
    assert c.shape == (10, 4) and torch.allclose(c.norm(dim=-1), torch.ones(10), atol=1e-4)
    with pytest.raises(ValueError, match="at least"):
        spherical_kmeans(x[:5], 10)


def test_config_is_validated():
    with pytest.raises(ValueError, match="crop"):
        NeuralTrainConfig(out="x", crop=100)
    with pytest.raises(ValueError, match="objectives"):
        NeuralTrainConfig(out="x", objectives=("words",))


def test_trainer_runs_tiny_on_cpu(tmp_path):
    """The whole recipe (data with perturbation, two objectives, clustering, scoring, decoder)
    at toy size; the saved tokenizer loads and the report compares both objectives."""
    cfg = NeuralTrainConfig(out=str(tmp_path / "tok"), utterances=10, canonical=6,
                            eval_sentences=2, objectives=("phones-perturb", "spin"), seconds=0.5,
                            decoder_seconds=0.5, units=24, width=32, dim=8, batch=4, crop=64,
                            workers=1, device="cpu")
    tok, report = train_neural(cfg)
    assert set(report["objectives"]) == {"phones-perturb", "spin"}
    for fig in report["objectives"].values():
        assert 0.0 <= fig["edit_same"] <= 1.0 and 0.0 <= fig["pnmi_heldout"] <= 1.0
    back = load_tokenizer(tmp_path / "tok")
    assert back.vocab_size == 24 and back.info["objective"] == report["kept"]
    assert back.info["phone_labels_used"] == ("phones" in report["kept"])
    wav = synthesize(FR, voices("fr")[0])
    assert back.decode(back.encode(torch.from_numpy(wav)[None])).shape[1] % HOP == 0


def test_noise_gate_silences_faint_blocks_only():
    from slmlab.tokenizers.neural import noise_gate

    g = torch.Generator().manual_seed(0)
    loud = torch.randn(1, 2400, generator=g) * 0.5
    faint = torch.randn(1, 2400, generator=g) * 0.5e-3  # 60 dB down: gated
    x = torch.cat([faint, loud, faint[:, :1000]], 1)
    y = noise_gate(x, 45.0)
    assert y.shape == x.shape
    assert torch.equal(y[:, 2400:4800], x[:, 2400:4800])
    assert float(y[:, :2400].abs().max()) == 0.0 and float(y[:, 4800:].abs().max()) == 0.0
    both = noise_gate(torch.cat([x, x * 0.01]), 45.0)  # per item: level-independent
    assert torch.equal(both[0] != 0, both[1] != 0)
    assert torch.equal(noise_gate(x, 0.0), x)


def test_units_benchmark_lm_check_at_toy_size(tmp_path, monkeypatch):
    """bench_units.lm_check: held-out stories re-spoken by training and held-out voices, scored
    by a checkpoint (here a toy transformers model standing in for a trained one)."""
    import importlib.util
    from pathlib import Path

    import datasets
    from transformers import LlamaConfig, LlamaForCausalLM

    import slmlab.model

    spec = importlib.util.spec_from_file_location(
        "bench_units", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_units.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    _toy().save(tmp_path / "tok")
    rows = [{"story_id": f"h{s}", "sentence_idx": i, "lang": "en", "voice": "v", "text": t,
             "units": [1, 2], "split": "heldout"} for s in range(2) for i, t in enumerate(EN)]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "corpus"))
    (tmp_path / "corpus" / "meta.json").write_text(json.dumps(
        {"tokenizer": {"path": str(tmp_path / "tok"), "vocab_size": 16}}))
    torch.manual_seed(0)
    lm = LlamaForCausalLM(LlamaConfig(vocab_size=19, hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=1, num_attention_heads=2,
                                      num_key_value_heads=2)).eval()
    monkeypatch.setattr(slmlab.model, "load_checkpoint",
                        lambda path, device="cpu": (lm, {"vocab": {"n_units": 16}}))
    res = bench.lm_check(str(tmp_path / "corpus"), "ckpt", n_stories=2)
    a, b = res["nll_heldout_stories_training_voices"], res["nll_heldout_stories_heldout_voices"]
    assert res["stories"] == 2 and 0 < a < 10 and 0 < b < 10  # ~ln(19) for an untrained model
    assert res["ratio"] == pytest.approx(b / a, abs=1e-3)
