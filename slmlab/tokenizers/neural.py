"""The neural built-in tokenizer: a small conv encoder over log-mel, trained to be speaker-invariant,
whose L2-normalised frame embeddings are clustered into units, plus a canonical-voice decoder.

Encoder (`UnitEncoder`): per-utterance normalised 80-band log-mel at 10 ms [B, 8F, 80] ->
two stride-2 convs (50 Hz, 25 Hz) -> residual conv blocks at 25 Hz -> one stride-2 conv to the
unit rate (12.5 Hz) -> residual blocks -> a `dim`-channel bottleneck, L2-normalised: z [B, F, dim].
Receptive field ~0.9 s. Units are the nearest of K centroids on the unit sphere (cosine).
Training (see `slmlab.tokenizers.neural_train`) distils espeak-ng's frame phone labels from z
under heavy speaker perturbation, and/or predicts one perturbed copy's cluster from the other's
(Spin-style swapped prediction); the language model never sees those labels, only units.

Decoder (`UnitDecoder`): units [B, F] -> embeddings -> convs at 12.5 Hz -> x8 upsampling ->
convs at 100 Hz -> log-mel [B, 8F, 80] of ONE canonical espeak-ng voice, then Griffin-Lim
(`slmlab.tokenizers.units`), so whoever spoke the prompt, continuations sound the same.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from slmlab.constants import FRAME_RATE, SAMPLE_RATE
from slmlab.tokenizers.base import TokenizerError, check_units, check_wav, encode_np
from slmlab.tokenizers.units import (A_HOP, DEC_FFT, DEC_GAIN, LOG_FLOOR, N_MELS, _mel_to_linear,
                                     griffin_lim, log_mel, mel_filterbank)

SUB = 8  # analysis frames (10 ms) per unit frame (80 ms at 12.5 Hz)
# Optional floor: log-mel values more than DYN_RANGE nats below the utterance's loudest bin are
# clamped to it, so digital silence, empty high bands and faint noise look alike. Measured on
# the shipped encoder (trained WITHOUT it, as 0 here reproduces): units of espeak-ng audio are
# fragile to faint noise (white noise 60 dB down moves ~60% of the deduplicated units);
# switching a 7-nat floor on at inference fixes that (-> 2%) but, without retraining, costs
# cross-voice agreement (0.62 -> 0.83). A retrain with DYN_RANGE = 7 is the next GPU step.
DYN_RANGE = 0.0
# Noise gate (dB below the loudest 10 ms block): quieter blocks are set to zero, so faint noise
# and Praat's low-level residue become the digital silence espeak-ng produces, which is what the
# encoder saw. Measured on 6 sentences (unit edit distance to the clean original, no gate -> 45):
# noise 60 dB down 0.60 -> 0.03, pitch x1.4 0.77 -> ~0.2, formant x1.15 0.89 -> ~0.4; held-out
# voices unchanged (0.65). It does not help against noise louder than -45 dB (SNR 30: 0.9).
GATE_DB = 45.0


def _exact_convs():
    """cuDNN without TF32: GPU units then match CPU units (TF32's 10-bit mantissa flips
    near-tie nearest centroids). No effect on the CPU."""
    return torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=False,
                                      allow_tf32=False)


def _length_batches(order: list[int], lengths: list[int], budget: int) -> list[list[int]]:
    """Split `order` (indices sorted by length) into runs whose padded size (count x longest)
    stays within `budget` samples; one item alone may exceed it."""
    batches: list[list[int]] = []
    for i in order:
        if batches and (len(batches[-1]) + 1) * lengths[i] <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


class ConvBlock(nn.Module):
    """Residual block: LayerNorm over channels (per frame: no time statistics, so a frame's
    output never depends on padding far away) -> conv -> GELU -> 1x1 conv."""

    def __init__(self, width: int, kernel: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.conv = nn.Conv1d(width, width, kernel, padding=kernel // 2)
        self.mix = nn.Conv1d(width, width, 1)

    def forward(self, x: torch.Tensor, keep=None) -> torch.Tensor:  # x [B, C, T]
        h = self.norm(x.transpose(1, 2)).transpose(1, 2)
        if keep is not None:  # padded frames: zero, as the conv's own padding (see UnitEncoder)
            h = keep(h)
        return x + self.mix(nn.functional.gelu(self.conv(h)))


class UnitEncoder(nn.Module):
    """Normalised log-mel [B, 8F, 80] -> unit-rate embeddings z [B, F, dim], |z| = 1."""

    def __init__(self, width: int = 256, dim: int = 64, blocks25: int = 3, blocks12: int = 2):
        super().__init__()
        self.width, self.dim = width, dim
        self.down = nn.Sequential(nn.Conv1d(N_MELS, width, 5, 2, 2), nn.GELU(),
                                  nn.Conv1d(width, width, 5, 2, 2), nn.GELU())
        self.mid = nn.Sequential(*[ConvBlock(width, 5) for _ in range(blocks25)])
        self.pool = nn.Conv1d(width, width, 4, 2, 1)  # 25 Hz -> 12.5 Hz
        self.top = nn.Sequential(*[ConvBlock(width, 3) for _ in range(blocks12)])
        self.norm = nn.LayerNorm(width)
        self.proj = nn.Linear(width, dim)

    def forward(self, lm: torch.Tensor, frames: torch.Tensor | None = None) -> torch.Tensor:
        """lm [B, 8F, 80] -> z [B, F, dim]. `frames` [B] (unit frames of each item, <= F): the
        items are padded to F, and every conv input is zeroed past its item's end, exactly as
        a conv zero-pads an item given alone, so a padded batch gives each item the z it gets
        on its own (up to float rounding). None: every item fills all F frames."""
        if lm.shape[1] % SUB:
            raise ValueError(f"log-mel length must be a multiple of {SUB}; got {lm.shape[1]}")
        def keep(per: int):
            return _keeper(frames, per)

        conv1, act1, conv2, act2 = self.down
        x = keep(SUB)(lm.transpose(1, 2))  # [B, 80, 8F] at 100 Hz
        x = keep(4)(act1(conv1(x)))  # 50 Hz
        x = act2(conv2(x))  # [B, C, 2F] at 25 Hz
        for block in self.mid:
            x = block(x, keep(2))
        h = self.pool(keep(2)(x))  # [B, C, F] at 12.5 Hz
        for block in self.top:
            h = block(h, keep(1))
        z = self.proj(self.norm(h.transpose(1, 2)))
        return nn.functional.normalize(z, dim=-1)


def _keeper(frames: torch.Tensor | None, per: int):
    """x [B, C, T] -> x with frames t >= frames[b] * per zeroed (a rate of `per` per unit);
    no frames: x unchanged."""
    def keep(x: torch.Tensor) -> torch.Tensor:
        if frames is None:
            return x
        valid = torch.arange(x.shape[-1], device=x.device)[None] < (frames * per)[:, None]
        return x * valid[:, None, :].to(x.dtype)
    return keep


class UnitDecoder(nn.Module):
    """Units [B, F] -> canonical-voice log-mel [B, 8F, 80] (natural log of mel magnitudes)."""

    def __init__(self, n_units: int, width: int = 256, blocks: int = 3):
        super().__init__()
        self.emb = nn.Embedding(n_units, width)
        self.low = nn.Sequential(*[ConvBlock(width, 5) for _ in range(2)])
        self.up = nn.ConvTranspose1d(width, width, SUB, SUB)  # 12.5 Hz -> 100 Hz
        self.high = nn.Sequential(*[ConvBlock(width, 5) for _ in range(blocks)])
        self.out = nn.Conv1d(width, N_MELS, 1)

    def forward(self, units: torch.Tensor) -> torch.Tensor:
        h = self.low(self.emb(units).transpose(1, 2))
        return self.out(self.high(self.up(h))).transpose(1, 2)


def noise_gate(wav: torch.Tensor, db: float = GATE_DB) -> torch.Tensor:
    """wav [B, T] -> the same with every 10 ms block more than `db` dB below the item's
    loudest block set to zero (see GATE_DB). db <= 0: unchanged."""
    b, t = wav.shape
    if db <= 0 or t < A_HOP:
        return wav
    n = -(-t // A_HOP) * A_HOP
    blocks = torch.nn.functional.pad(wav, (0, n - t)).view(b, n // A_HOP, A_HOP)
    rms = blocks.pow(2).mean(-1).sqrt()  # [B, blocks]
    keep = rms >= rms.amax(1, keepdim=True) * 10 ** (-db / 20)
    return (blocks * keep[..., None]).reshape(b, n)[:, :t]


def normalised_logmel(wav: torch.Tensor, fb: torch.Tensor, dyn_range: float = DYN_RANGE,
                      frames: torch.Tensor | None = None) -> torch.Tensor:
    """wav [B, T] -> per-utterance, per-band standardised log-mel [B, 8F, 80], F = ceil(T/1920).
    Standardising per band removes the channel's and much of the speaker's spectral tilt;
    `dyn_range` > 0 first clamps the floor (see DYN_RANGE). `frames` [B]: unit frames of each
    zero-padded item; statistics then cover each item's own 8 * frames[b] rows only, and the
    rows past its end are 0 (what an item given alone never has)."""
    f = math.ceil(wav.shape[-1] / (SUB * A_HOP))
    lm = log_mel(wav.float(), fb, f * SUB)  # a zero-padded item's own rows are unchanged
    if frames is None:
        if dyn_range > 0:
            lm = torch.maximum(lm, lm.amax((1, 2), keepdim=True) - dyn_range)
        mu, sd = lm.mean(1, keepdim=True), lm.std(1, keepdim=True).clamp(min=1e-3)
        return (lm - mu) / sd
    valid = torch.arange(f * SUB, device=lm.device)[None] < (frames * SUB)[:, None]  # [B, 8F]
    m = valid[..., None].to(lm.dtype)  # [B, 8F, 1]
    if dyn_range > 0:
        top = lm.masked_fill(~valid[..., None], -torch.inf).amax((1, 2), keepdim=True)
        lm = torch.maximum(lm, top - dyn_range)
    n = m.sum(1, keepdim=True).clamp(min=1)
    mu = (lm * m).sum(1, keepdim=True) / n
    var = ((lm - mu) * m).pow(2).sum(1, keepdim=True) / (n - 1).clamp(min=1)  # unbiased, as std
    return (lm - mu) / var.sqrt().clamp(min=1e-3) * m


class NeuralTokenizer:
    """Speaker-invariant units at 12.5 Hz with a canonical-voice decoder (see module doc)."""

    kind = "neural"
    sample_rate = SAMPLE_RATE
    frame_rate = FRAME_RATE
    hop = SUB * A_HOP

    def __init__(self, encoder: UnitEncoder, centroids: torch.Tensor,
                 decoder: UnitDecoder | None = None, info: dict | None = None, gl_iters: int = 32,
                 dyn_range: float = DYN_RANGE, gate_db: float = GATE_DB,
                 device: str | None = None):
        # the encoder runs on `device` (a GPU encodes a corpus's padded batches); the decoder
        # and Griffin-Lim stay on the CPU
        self.device = torch.device(device or "cpu")
        self.encoder = encoder.eval().to(self.device)
        self.centroids = centroids.float().contiguous()  # [K, dim], unit rows (trainer normalises)
        self._centroids_dev: torch.Tensor | None = None  # their copy on `device`, made once
        self.decoder = decoder.eval().cpu() if decoder is not None else None
        self.vocab_size = int(centroids.shape[0])
        self.name = f"neural-{self.vocab_size}-{self.frame_rate:g}hz"
        self.info = dict(info or {})  # training facts for the card (objective, data, figures)
        self.gl_iters = gl_iters
        self.dyn_range = float(dyn_range)
        self.gate_db = float(gate_db)
        self.fb = mel_filterbank().to(self.device)  # the encoder's log-mel runs there too
        self.fb_dec = mel_filterbank(n_fft=DEC_FFT)

    def n_frames(self, n_samples: int) -> int:
        return math.ceil(n_samples / self.hop)

    @torch.no_grad()
    def embed(self, wav: torch.Tensor, frames: torch.Tensor | None = None) -> torch.Tensor:
        """wav [B, T] at 24 kHz -> unit-rate embeddings z [B, ceil(T / 1920), dim] (on the
        CPU). `frames` [B]: unit frames of each zero-padded item (see UnitEncoder.forward)."""
        return self._embed(wav, frames).cpu()

    def _embed(self, wav: torch.Tensor, frames: torch.Tensor | None) -> torch.Tensor:
        """`embed` on the encoder's device."""
        wav = noise_gate(wav.to(self.device, torch.float32), self.gate_db)  # pad stays silent
        if frames is not None:
            frames = frames.to(self.device)
        with _exact_convs():
            return self.encoder(normalised_logmel(wav, self.fb, self.dyn_range, frames), frames)

    @torch.no_grad()
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, T] float at 24 kHz -> units [B, ceil(T / 1920)] long (on the CPU)."""
        if check_wav(wav) is None:
            return torch.zeros(wav.shape[0], 0, dtype=torch.long)
        return self._nearest(self._embed(wav, None))

    def _nearest(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, F, dim] on the encoder's device -> units [B, F] on the CPU: the nearest
        centroid on the sphere (on a GPU too: [B*F, dim] x [dim, K] is most of a CPU's work)."""
        if self._centroids_dev is None:
            self._centroids_dev = self.centroids.to(self.device)
        return (z @ self._centroids_dev.T).argmax(-1).cpu()

    def encode_np(self, wav: np.ndarray) -> np.ndarray:
        return encode_np(self, wav)

    @torch.no_grad()
    def encode_list(self, wavs: Sequence[np.ndarray],
                    batch_samples: int = 2 ** 23) -> list[np.ndarray]:
        """Units (int16 [ceil(T_i / 1920)]) of each float32 wav [T_i], encoded in zero-padded
        batches of similar lengths (at most `batch_samples` samples, padding included) with
        each item masked to its own length: the units equal `encode_np` item by item (up to
        float rounding), in a handful of launches on a GPU instead of one per sentence."""
        out: list[np.ndarray] = [np.zeros(0, np.int16)] * len(wavs)
        order = sorted((i for i in range(len(wavs)) if len(wavs[i])), key=lambda i: len(wavs[i]))
        for batch in _length_batches(order, [len(w) for w in wavs], batch_samples):
            t = len(wavs[batch[-1]])  # the longest (sorted)
            wav = torch.zeros(len(batch), t)
            for row, i in enumerate(batch):
                wav[row, :len(wavs[i])] = torch.from_numpy(np.asarray(wavs[i], np.float32))
            frames = torch.tensor([self.n_frames(len(wavs[i])) for i in batch])
            units = self._nearest(self._embed(wav, frames)).numpy().astype(np.int16)
            for row, i in enumerate(batch):
                out[i] = units[row, :int(frames[row])]
        return out

    @torch.no_grad()
    def decode(self, units: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """units [B, F] long -> wav [B, F * 1920] at 24 kHz in the canonical voice."""
        if self.decoder is None:
            raise TokenizerError(f"{self.name} was saved without a decoder; retrain it with "
                                 "`slmlab tokenizer train --kind neural`")
        units = check_units(units, self.vocab_size)
        b, f = units.shape
        if f == 0:
            return torch.zeros(b, 0)
        lm = self.decoder(units)  # [B, 8F, 80]
        lm = torch.cat([lm, lm[:, -1:]], 1)  # center=True istft wants one frame more
        mag = DEC_GAIN * _mel_to_linear(torch.exp(lm) - LOG_FLOOR, self.fb_dec)
        wav = griffin_lim(mag, f * self.hop, self.gl_iters, seed)
        peak = wav.abs().amax(1, keepdim=True).clamp(min=1e-8)
        return wav * torch.clamp(0.95 / peak, max=1.0)

    # -- persistence ----------------------------------------------------------------------
    def tensors(self) -> dict[str, torch.Tensor]:
        out = {f"encoder.{k}": v for k, v in self.encoder.state_dict().items()}
        out["centroids"] = self.centroids
        if self.decoder is not None:
            out.update({f"decoder.{k}": v for k, v in self.decoder.state_dict().items()})
        return {k: v.detach().float().cpu().contiguous() for k, v in out.items()}

    def _config(self) -> dict:
        return {"kind": self.kind, "name": self.name, "frame_rate": self.frame_rate,
                "hop": self.hop, "vocab_size": self.vocab_size, "sample_rate": self.sample_rate,
                "encoder": {"width": self.encoder.width, "dim": self.encoder.dim,
                            "blocks25": len(self.encoder.mid), "blocks12": len(self.encoder.top)},
                "decoder": None if self.decoder is None else
                {"width": self.decoder.emb.embedding_dim, "blocks": len(self.decoder.high)},
                "gl_iters": self.gl_iters, "n_mels": N_MELS, "analysis_hop": A_HOP,
                **({"dyn_range": self.dyn_range} if self.dyn_range else {}),
                **({"gate_db": self.gate_db} if self.gate_db else {})}

    def checksum(self) -> str:
        h = hashlib.sha256()
        for k, v in sorted(self.tensors().items()):
            h.update(k.encode())
            h.update(v.numpy().tobytes())
        h.update(json.dumps(self._config(), sort_keys=True).encode())
        return h.hexdigest()[:12]

    def save(self, path: str | Path) -> None:
        """Write `tokenizer.json` + `weights.safetensors` (fp16: half the size, same units in
        practice) into directory `path`."""
        from safetensors.torch import save_file

        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        self._round_to_fp16()
        save_file({k: v.half() for k, v in self.tensors().items()}, str(p / "weights.safetensors"))
        meta = {**self._config(), "checksum": self.checksum(), "info": self.info}
        (p / "tokenizer.json").write_text(json.dumps(meta, indent=2) + "\n")

    def _round_to_fp16(self) -> None:
        """Make the in-memory weights equal to what is saved, so the checksum matches on load."""
        with torch.no_grad():
            for m in (self.encoder, self.decoder):
                if m is not None:
                    for t in m.state_dict().values():
                        t.copy_(t.half().float())
            self.centroids = self.centroids.half().float()
            self._centroids_dev = None

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> "NeuralTokenizer":
        from safetensors.torch import load_file

        p = Path(path)
        try:
            meta = json.loads((p / "tokenizer.json").read_text())
            w = {k: v.float() for k, v in load_file(str(p / "weights.safetensors")).items()}
        except (OSError, json.JSONDecodeError) as e:
            raise TokenizerError(f"cannot load the neural tokenizer at {p} ({e}); "
                                 "train it again with `slmlab tokenizer train --kind neural`") from None
        enc = UnitEncoder(**meta["encoder"])
        enc.load_state_dict({k[8:]: v for k, v in w.items() if k.startswith("encoder.")})
        dec = None
        if meta.get("decoder"):
            dec = UnitDecoder(meta["vocab_size"], **meta["decoder"])
            dec.load_state_dict({k[8:]: v for k, v in w.items() if k.startswith("decoder.")})
        tok = cls(enc, w["centroids"], dec, meta.get("info"), meta.get("gl_iters", 32),
                  meta.get("dyn_range", 0.0), meta.get("gate_db", 0.0), device)  # absent: off
        if meta.get("checksum") not in (None, tok.checksum()):
            raise TokenizerError(f"checksum mismatch in {p}: the weights or the model code "
                                 "changed after saving; retrain it")
        return tok

    def __repr__(self) -> str:
        return f"NeuralTokenizer({self.name}, checksum={self.checksum()})"
