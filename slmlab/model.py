"""Causal LM presets over speech units (transformers models, SDPA attention).

Presets (the vocabulary is always `Vocab.size` = units + 3 specials, not padded, so token
ids, `config.vocab_size` and the logits' last dim agree everywhere):
- `tiny`  (Llama shape, ~4.7M params at 2051 tokens): CPU tests, teaching, the demo.
- `small` (Llama shape, ~35M): a real run on one GPU in minutes.
- `360m`  (Qwen2.5-0.5B shape: hidden 896, 24 layers, 14 heads, 2 KV heads, FFN 4864, tied).
- `1b`    (Llama-3.2-1B shape: hidden 2048, 16 layers, 32 heads, 8 KV heads, FFN 8192, tied).

`init_from_text_lm` starts from a local text LM and swaps its vocabulary for speech units
(embeddings and LM head resized and re-initialised, the transformer body kept), as TWIST/Slam.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from slmlab.checkpoint import INFO_FILE, latest_checkpoint
from slmlab.config import check_choice
from slmlab.interleave import Vocab

MAX_POSITIONS = 4096  # rope tables; training context is set by SequenceConfig.context

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(arch="llama", hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                 num_key_value_heads=4, intermediate_size=1024, tie_word_embeddings=True),
    "small": dict(arch="llama", hidden_size=512, num_hidden_layers=8, num_attention_heads=8,
                  num_key_value_heads=8, intermediate_size=2048, tie_word_embeddings=True),
    "360m": dict(arch="qwen2", hidden_size=896, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, intermediate_size=4864, tie_word_embeddings=True,
                 rope_theta=1_000_000.0),
    "1b": dict(arch="llama", hidden_size=2048, num_hidden_layers=16, num_attention_heads=32,
               num_key_value_heads=8, intermediate_size=8192, tie_word_embeddings=True,
               rope_theta=500_000.0),
}


def model_config(preset: str, vocab: Vocab):
    """The transformers config of a preset for `vocab` (no weights)."""
    check_choice("preset", preset, PRESETS)
    from transformers import LlamaConfig, Qwen2Config

    spec = dict(PRESETS[preset])
    arch = spec.pop("arch")
    rope_theta = spec.pop("rope_theta", 10_000.0)
    cls = Qwen2Config if arch == "qwen2" else LlamaConfig
    cfg = cls(vocab_size=vocab.size, bos_token_id=vocab.bos, eos_token_id=vocab.eos,
              pad_token_id=vocab.eos, max_position_embeddings=MAX_POSITIONS,
              rms_norm_eps=1e-6, **spec)
    # transformers 5 keeps rope settings in rope_parameters; older versions in rope_theta
    if getattr(cfg, "rope_parameters", None) is not None:
        cfg.rope_parameters["rope_theta"] = rope_theta
    else:
        cfg.rope_theta = rope_theta
    return cfg


def build_model(preset: str, vocab: Vocab, dtype: torch.dtype = torch.float32):
    """A freshly initialised causal LM of `preset` over `vocab` (SDPA attention)."""
    from transformers import AutoModelForCausalLM

    cfg = model_config(preset, vocab)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="sdpa", dtype=dtype)
    return model


def _reinit_(weight: torch.Tensor, std: float) -> None:
    with torch.no_grad():
        weight.normal_(0.0, std)


def load_pretrained(path: str | Path, dtype: torch.dtype = torch.float32):
    """A saved transformers causal LM with SDPA attention (the one loader of saved weights)."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(path), attn_implementation="sdpa", dtype=dtype)


def init_from_text_lm(path: str | Path, vocab: Vocab, dtype: torch.dtype = torch.float32):
    """A text LM from a local dir with its vocabulary replaced by the speech units.

    Embeddings (and an untied LM head) are resized to `vocab.size` and re-initialised with
    the model's initializer_range: text token embeddings carry no meaning for units.
    """
    path = Path(path)
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"{path} is not a transformers model dir (no config.json); "
                                "point --init-from at a local save_pretrained directory")
    model = load_pretrained(path, dtype)
    model.resize_token_embeddings(vocab.size, mean_resizing=False)
    std = getattr(model.config, "initializer_range", 0.02)
    _reinit_(model.get_input_embeddings().weight, std)
    head = model.get_output_embeddings()
    if head is not None and head.weight is not model.get_input_embeddings().weight:
        _reinit_(head.weight, std)
    model.config.vocab_size = vocab.size
    model.config.bos_token_id, model.config.eos_token_id = vocab.bos, vocab.eos
    model.config.pad_token_id = vocab.eos
    if getattr(model, "generation_config", None) is not None:
        gc = model.generation_config
        gc.bos_token_id, gc.eos_token_id, gc.pad_token_id = vocab.bos, vocab.eos, vocab.eos
    return model


def count_params(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """Parameters counted once each (tied embeddings count once)."""
    seen, total = set(), 0
    for p in model.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def read_info(ckpt: str | Path) -> dict:
    """The slmlab.json of a checkpoint dir ({} for a plain transformers dir)."""
    path = Path(ckpt) / INFO_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint dir from itself or from a run dir holding a `latest` pointer."""
    path = Path(path)
    if (path / "config.json").exists():
        return path
    # a run dir: the newest intact checkpoint (a damaged `latest` falls back, with a warning)
    found = latest_checkpoint(path, need_state=False) if path.is_dir() else None
    if found is None:
        raise FileNotFoundError(f"no checkpoint at {path} (neither config.json nor a `latest` file)")
    return found


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu",
                    dtype: torch.dtype = torch.float32):
    """(model in eval mode, info) from a checkpoint dir or a run dir with `latest`.

    info is slmlab.json: vocab layout, tokenizer, stage, tokens_seen, step, data position.
    """
    ckpt = resolve_checkpoint(path)
    model = load_pretrained(ckpt, dtype)
    info = read_info(ckpt)
    info.setdefault("vocab", Vocab(model.config.vocab_size - 3).to_dict())
    info["path"] = str(ckpt)
    return model.to(device).eval(), info


def flops_per_token(model: torch.nn.Module, context: int) -> float:
    """Training FLOPs per token: 6 N (weights, fwd + bwd) + 12 * layers * hidden * context
    (attention scores and mixing, PaLM's count). Embedding lookups are free, but with tied
    embeddings the LM head matmul costs what N counts for them once."""
    cfg = model.config
    return 6.0 * count_params(model) + 12.0 * cfg.num_hidden_layers * cfg.hidden_size * context
