"""Model presets, text-LM initialisation, checkpoint loading."""

from __future__ import annotations

import json

import pytest
import torch

from slmlab.config import ConfigError
from slmlab.interleave import Vocab
from slmlab.model import (build_model, count_params, flops_per_token, init_from_text_lm,
                          load_checkpoint, model_config)

VOCAB = Vocab(64)


def test_paper_shapes_on_meta_device():
    """The 360m / 1b presets have the paper's parameter counts (no memory allocated)."""
    full = Vocab(2048)
    with torch.device("meta"):
        m360 = build_model("360m", full)
        m1b = build_model("1b", full)
    assert abs(count_params(m360) / 1e6 - 359.7) < 0.5
    assert abs(count_params(m1b) / 1e6 - 977.3) < 0.5
    c = m360.config
    assert (c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads,
            c.intermediate_size, c.tie_word_embeddings) == (896, 24, 14, 2, 4864, True)
    assert type(m1b).__name__ == "LlamaForCausalLM" and m1b.config.intermediate_size == 8192
    assert m360.config._attn_implementation == "sdpa"


def test_tiny_forward_and_vocab():
    torch.manual_seed(0)
    model = build_model("tiny", VOCAB)
    assert model.config.vocab_size == VOCAB.size
    assert 0.3e6 < count_params(model) < 6e6
    x = torch.randint(0, VOCAB.size, (2, 16))
    out = model(input_ids=x, labels=x)
    assert out.logits.shape == (2, 16, VOCAB.size)
    assert torch.isfinite(out.loss) and abs(out.loss.item() - torch.log(torch.tensor(67.0))) < 1.0
    assert flops_per_token(model, 16) > 6 * count_params(model)


def test_unknown_preset_names_field():
    with pytest.raises(ConfigError, match="preset"):
        model_config("huge", VOCAB)


def test_init_from_text_lm(tmp_path):
    """A tiny text LM saved by the test: body kept, vocabulary swapped for speech units."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(1)
    text_cfg = Qwen2Config(vocab_size=500, hidden_size=64, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, intermediate_size=128,
                           tie_word_embeddings=True)
    text_lm = Qwen2ForCausalLM(text_cfg)
    text_lm.save_pretrained(tmp_path / "text")
    speech = init_from_text_lm(tmp_path / "text", VOCAB)
    assert speech.get_input_embeddings().weight.shape == (VOCAB.size, 64)
    assert speech.config.vocab_size == VOCAB.size and speech.config.eos_token_id == VOCAB.eos
    body_a = text_lm.model.layers[1].mlp.up_proj.weight
    body_b = speech.model.layers[1].mlp.up_proj.weight
    assert torch.equal(body_a, body_b)
    # the first rows were re-initialised, not copied from the text embeddings
    assert not torch.allclose(speech.get_input_embeddings().weight[:64],
                              text_lm.get_input_embeddings().weight[:64])
    x = torch.randint(0, VOCAB.size, (1, 12))
    assert speech(input_ids=x).logits.shape == (1, 12, VOCAB.size)
    with pytest.raises(FileNotFoundError, match="config.json"):
        init_from_text_lm(tmp_path / "missing", VOCAB)


def test_load_checkpoint_roundtrip(tmp_path):
    torch.manual_seed(2)
    model = build_model("tiny", VOCAB)
    ckpt = tmp_path / "run" / "step-000001"
    model.save_pretrained(ckpt)
    (ckpt / "slmlab.json").write_text(json.dumps({"vocab": VOCAB.to_dict(), "stage": "1"}))
    (tmp_path / "run" / "latest").write_text("step-000001")
    loaded, info = load_checkpoint(tmp_path / "run")
    assert info["stage"] == "1" and info["vocab"]["size"] == VOCAB.size
    x = torch.randint(0, VOCAB.size, (1, 8))
    with torch.no_grad():
        assert torch.equal(model.eval()(input_ids=x).logits, loaded(input_ids=x).logits)
