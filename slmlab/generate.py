"""Speech continuation: audio prompt -> units -> sampled continuation units -> audio.

The model sees `[BOS] + prompt units` and samples one unit at a time with a KV cache
(temperature, top-k). Special ids are never emitted as units: BOS, SEP and any id past the
vocabulary are masked out; EOS stays allowed and ends the continuation (SEP, masked, can
therefore never stop it). `temperature=0` is greedy decoding.

The limits below are the one place both front ends (`slmlab generate`, the app) take them from:
a prompt longer than MAX_PROMPT_SECONDS, a continuation past MAX_CONTINUATION_SECONDS or a typed
prompt past MAX_TEXT_CHARS is refused before any model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from slmlab.config import ConfigError, check_positive, check_range, check_seed
from slmlab.constants import SAMPLE_RATE

MAX_PROMPT_SECONDS = 30.0  # audio prompt (units grow at 12.5 Hz; generation is live)
MAX_CONTINUATION_SECONDS = 20.0  # new speech per request
MAX_TEXT_CHARS = 600  # a typed prompt: about 40 s of speech
MAX_TEMPERATURE = 5.0  # beyond this sampling is uniform noise


@dataclass
class SamplingConfig:
    """How a continuation is sampled; invalid values fail at construction naming the field."""

    seconds: float = 5.0  # length of the continuation, (0, MAX_CONTINUATION_SECONDS]
    temperature: float = 0.8  # 0 = greedy, up to MAX_TEMPERATURE
    top_k: int = 50  # keep the k likeliest units (0 = no top-k)
    seed: int | None = None  # sampling seed (None: nondeterministic)

    def __post_init__(self) -> None:
        check_positive("seconds", self.seconds)
        if self.seconds > MAX_CONTINUATION_SECONDS:
            raise ConfigError(f"seconds must be at most {MAX_CONTINUATION_SECONDS:g}; got "
                              f"{self.seconds!r}")
        check_range("temperature", self.temperature, 0.0, MAX_TEMPERATURE)
        if not isinstance(self.top_k, int) or isinstance(self.top_k, bool) or self.top_k < 0:
            raise ConfigError(f"top_k must be a whole number >= 0 (0 = off); got {self.top_k!r}")
        check_seed("seed", self.seed, allow_none=True)


def check_text(text: str) -> str:
    """A typed prompt, stripped; empty or longer than MAX_TEXT_CHARS is a ConfigError."""
    text = (text or "").strip()
    if not text:
        raise ConfigError("the text is empty; type a sentence to speak as the prompt")
    if len(text) > MAX_TEXT_CHARS:
        raise ConfigError(f"the text is too long ({len(text)} characters, limit "
                          f"{MAX_TEXT_CHARS}); shorten it")
    return text


def _special_mask(vocab_size: int, n_units: int, device: torch.device) -> torch.Tensor:
    """[V] additive mask: 0 on units and EOS, -inf on every other special id."""
    mask = torch.full((vocab_size,), float("-inf"), device=device)
    mask[:n_units] = 0.0
    mask[n_units + 1] = 0.0  # EOS
    return mask


def _sample(logits: torch.Tensor, temperature: float, top_k: int | None,
            gen: torch.Generator | None) -> torch.Tensor:
    """logits [B, V] float -> ids [B]."""
    if temperature <= 0:
        return logits.argmax(-1)
    logits = logits / temperature
    if top_k:
        vals, idx = logits.topk(min(top_k, logits.shape[-1]), dim=-1)
        choice = torch.multinomial(torch.softmax(vals, -1), 1, generator=gen)
        return idx.gather(-1, choice)[:, 0]
    return torch.multinomial(torch.softmax(logits, -1), 1, generator=gen)[:, 0]


@torch.no_grad()
def sample_units(model: Any, prompt: Sequence[int], *, n_units: int, max_new: int,
                 temperature: float = 0.8, top_k: int | None = 50, seed: int | None = None,
                 use_cache: bool = True) -> list[int]:
    """Continue `[BOS] + prompt` by up to `max_new` units; stops early at EOS (not returned).

    Returns the new unit ids (each in 0..n_units-1).
    """
    device = next(model.parameters()).device
    ids = torch.tensor([[n_units] + [int(u) for u in prompt]], device=device)
    if ids.numel() > 1 and (ids[0, 1:].min() < 0 or ids[0, 1:].max() >= n_units):
        raise ValueError(f"prompt units must be in [0, {n_units})")
    gen = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    use_bf16 = device.type == "cuda"
    new: list[int] = []
    past = None
    step_in = ids
    mask = None
    for _ in range(max_new):
        with torch.autocast(device.type, torch.bfloat16, enabled=use_bf16):
            if use_cache:
                out = model(input_ids=step_in, past_key_values=past, use_cache=True)
                past = out.past_key_values
            else:
                out = model(input_ids=ids)
        logits = out.logits[:, -1].float()  # [1, V]
        if mask is None:
            mask = _special_mask(logits.shape[-1], n_units, device)
        tok = _sample(logits + mask, temperature, top_k, gen)  # [1]
        if int(tok) == n_units + 1:  # EOS
            break
        new.append(int(tok))
        step_in = tok[:, None]
        ids = torch.cat([ids, step_in], 1)
    return new


def continue_speech(model: Any, tokenizer: Any, wav: np.ndarray, seconds: float = 5.0,
                    temperature: float = 0.8, top_k: int | None = 50, seed: int | None = None,
                    n_units: int | None = None, include_prompt: bool = False
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Continue a spoken prompt by about `seconds` of speech.

    wav: float32 [T] at 24 kHz. Returns `(prompt_units [P], new_units [F], audio float32)`:
    audio is the continuation only ([F * hop] samples; decoded together with the prompt so a
    codec has its context, then cut), or prompt + continuation ([(P + F) * hop]) with
    `include_prompt=True`.
    """
    SamplingConfig(seconds, temperature, top_k or 0, seed)  # the same limits as the front ends
    n_units = n_units or tokenizer.vocab_size
    vocab = model.get_input_embeddings().num_embeddings
    if n_units + 3 > vocab:
        raise ValueError(f"tokenizer has {n_units} units but the model only {vocab - 3}: "
                         "use the tokenizer the model's corpus was built with")
    wav_t = torch.as_tensor(np.asarray(wav, dtype=np.float32))[None]
    prompt = tokenizer.encode(wav_t)[0].cpu().long()  # [P]
    max_new = max(1, int(round(seconds * tokenizer.frame_rate)))
    new = torch.tensor(sample_units(model, prompt.tolist(), n_units=n_units, max_new=max_new,
                                    temperature=temperature, top_k=top_k, seed=seed),
                       dtype=torch.long)
    audio = units_to_audio(tokenizer, torch.cat([prompt, new]))
    if not include_prompt:
        audio = audio[len(audio) - len(new) * tokenizer.hop:] if len(new) else audio[:0]
    return prompt.numpy(), new.numpy(), audio


def units_to_audio(tokenizer: Any, units: Sequence[int] | torch.Tensor) -> np.ndarray:
    """Units [F] -> float32 audio [F * hop] at the tokenizer's rate (24 kHz)."""
    u = torch.as_tensor(units, dtype=torch.long).reshape(1, -1)
    if u.shape[1] == 0:
        return np.zeros(0, dtype=np.float32)
    with torch.no_grad():
        audio = tokenizer.decode(u)[0]
    return audio.float().cpu().numpy().astype(np.float32)


def write_wav(path: str, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    import soundfile as sf

    sf.write(path, np.asarray(audio, dtype=np.float32), sample_rate)
