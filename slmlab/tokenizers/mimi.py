"""Mimi (Kyutai) as a slmlab tokenizer: the first (semantic) codebook only, 2048 units at 12.5 Hz.

Two backends load the same model from two weight formats:
- `moshi`: `moshi.models.loaders.get_mimi(file)` on the original safetensors file
  (`tokenizer-e351c8d8-checkpoint125.safetensors` in `kyutai/moshiko-pytorch-bf16`);
- `transformers`: `MimiModel.from_pretrained(dir)` on a `kyutai/mimi` directory.

Nothing is ever downloaded: `load_mimi("mimi")` looks in the local Hugging Face cache only and
otherwise says how to fetch the weights on a machine with internet.

Mimi is causal (causal convolutions, causal transformer), so the code of frame j depends only on
samples up to the end of frame j: right-padding a batch to its longest waveform does not change
the codes of the shorter ones, which is what `encode_list` relies on to batch sentences.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from slmlab.constants import FRAME_RATE, HOP, N_UNITS, SAMPLE_RATE

MOSHI_REPO = "kyutai/moshiko-pytorch-bf16"
MOSHI_FILE = "tokenizer-e351c8d8-checkpoint125.safetensors"
HF_REPO = "kyutai/mimi"
BACKENDS = ("moshi", "transformers")
PRECISIONS = ("fp32", "bf16")
SAVED_MOSHI_FILE = "mimi.safetensors"  # weights file inside a dir written by MimiTokenizer.save
SAVED_INFO_FILE = "tokenizer.json"  # {kind: mimi, backend, file}, as slmlab.tokenizers.base reads

_HOW_TO_GET = (
    "Mimi weights are not on this machine and slmlab never downloads. On a machine with "
    f"internet run `huggingface-cli download {HF_REPO} --local-dir mimi/` (transformers format) "
    f"or `huggingface-cli download {MOSHI_REPO} {MOSHI_FILE} --local-dir mimi/` (moshi format), "
    "copy the folder here and pass `--tokenizer mimi/` (or the .safetensors file); copying the "
    "Hugging Face cache (~/.cache/huggingface/hub) also works with `--tokenizer mimi`."
)


class MimiTokenizer:
    """Mimi's first codebook behind the slmlab `Tokenizer` protocol.

    `encode(wav [B, T]) -> LongTensor [B, ceil(T / 1920)]`, `decode(units [B, F]) -> [B, F*1920]`.
    Inputs may live on any device; outputs are on the CPU.
    """

    kind = "mimi"
    frame_rate = FRAME_RATE
    vocab_size = N_UNITS
    sample_rate = SAMPLE_RATE
    hop = HOP
    causal = True  # right-padding a batch leaves earlier codes unchanged (see module doc)

    def __init__(self, model: torch.nn.Module, backend: str, source: str | None = None,
                 device: str | torch.device | None = None, precision: str = "fp32"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.backend = backend
        self.source = source  # where the weights came from (a path), for meta.json
        self.precision = precision  # bf16 autocast is faster on GPU but may flip near-tie codes
        self._checksum: str | None = None
        if backend == "moshi":
            self.model.set_num_codebooks(1)

    @property
    def name(self) -> str:
        return f"mimi-{self.backend}"

    @property
    def path(self) -> str | None:
        return self.source

    def _autocast(self):
        enabled = self.precision == "bf16"
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)

    @torch.inference_mode()
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """wav: float [B, T] at 24 kHz -> LongTensor [B, ceil(T / 1920)] (CPU)."""
        wav = torch.as_tensor(wav)
        if wav.dim() != 2:
            raise ValueError(f"encode expects a waveform batch [B, T]; got shape {tuple(wav.shape)}")
        n_frames = math.ceil(wav.shape[-1] / HOP)
        x = wav.to(self.device, torch.float32)[:, None, :]  # [B, 1, T]
        with self._autocast():
            if self.backend == "moshi":
                codes = self.model.encode(x)  # [B, 1, F]
            else:
                codes = self.model.encode(x, num_quantizers=1).audio_codes  # [B, 1, F]
        return codes[:, 0, :n_frames].long().cpu()

    @torch.inference_mode()
    def decode(self, units: torch.Tensor) -> torch.Tensor:
        """units: LongTensor [B, F] -> float waveform [B, F * 1920] (CPU)."""
        units = torch.as_tensor(units)
        if units.dim() != 2:
            raise ValueError(f"decode expects units [B, F]; got shape {tuple(units.shape)}")
        if units.numel() and (units.min() < 0 or units.max() >= N_UNITS):
            raise ValueError(f"units must be in [0, {N_UNITS}); got [{units.min()}, {units.max()}]")
        codes = units.to(self.device, torch.long)[:, None, :]  # [B, 1, F]
        with self._autocast():
            if self.backend == "moshi":
                audio = self.model.decode(codes)  # [B, 1, T']
            else:
                audio = self.model.decode(codes).audio_values  # [B, 1, T']
        n = units.shape[1] * HOP
        audio = audio[:, 0, :n].float()
        if audio.shape[-1] < n:  # never expected; keep the contract's length anyway
            audio = torch.nn.functional.pad(audio, (0, n - audio.shape[-1]))
        return audio.cpu()

    def encode_np(self, wav: np.ndarray) -> np.ndarray:
        """wav float32 [T] -> units int16 [ceil(T / 1920)]."""
        units = self.encode(torch.from_numpy(np.ascontiguousarray(wav, np.float32))[None])
        return units[0].numpy().astype(np.int16)

    def encode_list(self, wavs: Sequence[np.ndarray], batch_size: int = 16,
                    max_batch_seconds: float = 320.0) -> list[np.ndarray]:
        """Encode many waveforms (float32 [T_i]) in right-padded batches of similar length.

        Returns one int64 array [ceil(T_i / 1920)] per input, in input order. A batch holds at
        most `batch_size` items and `max_batch_seconds` of padded audio (bounds GPU memory).
        """
        order = sorted(range(len(wavs)), key=lambda i: len(wavs[i]))
        out: list[np.ndarray | None] = [None] * len(wavs)
        start = 0
        while start < len(order):
            longest = max(len(wavs[order[start]]), 1)
            # sorted ascending, so the batch's padded length is that of its last item
            end = start + 1
            while (end < len(order) and end - start < batch_size
                   and (end - start + 1) * len(wavs[order[end]]) <= max_batch_seconds * SAMPLE_RATE):
                end += 1
            idx = order[start:end]
            longest = max(len(wavs[i]) for i in idx)
            batch = np.zeros((len(idx), max(longest, 1)), dtype=np.float32)
            for row, i in enumerate(idx):
                batch[row, : len(wavs[i])] = wavs[i]
            codes = self.encode(torch.from_numpy(batch)).numpy()
            for row, i in enumerate(idx):
                out[i] = codes[row, : math.ceil(len(wavs[i]) / HOP)]
            start = end
        return out  # type: ignore[return-value]

    def save(self, directory: str | Path) -> Path:
        """Write the weights (moshi: `mimi.safetensors`; transformers: save_pretrained) + info."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.backend == "moshi":
            from safetensors.torch import save_file

            state = {k: v.detach().cpu().contiguous().clone() for k, v in
                     self.model.state_dict().items()}
            save_file(state, str(directory / SAVED_MOSHI_FILE))
        else:
            with _quiet_transformers():
                self.model.save_pretrained(directory)
        info = {"kind": "mimi", "backend": self.backend, "name": self.name,
                "file": SAVED_MOSHI_FILE if self.backend == "moshi" else None,
                "checksum": self.checksum()}
        (directory / SAVED_INFO_FILE).write_text(json.dumps(info, indent=1))
        return directory

    def checksum(self) -> str:
        """sha256 (16 hex) of the state dict (names, dtypes, shapes, bytes): same weights, same id."""
        if self._checksum is None:
            self._checksum = state_dict_checksum(self.model.state_dict())
        return self._checksum


def state_dict_checksum(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().cpu().contiguous()
        h.update(f"{key}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def randomize_codebooks(model: torch.nn.Module, seed: int = 0,
                        calibration: torch.Tensor | None = None) -> int:
    """Give an untrained Mimi (either backend) random codebooks whose codes actually vary.

    Untrained Mimi has all-zero codebooks, so every frame maps to unit 0, and unit-scale random
    centroids fail too (untrained latents are ~0.01 in scale, so one small-norm centroid wins
    everywhere). So the first (semantic) codebook is drawn from a Gaussian fitted per dimension
    to the latents of `calibration` (float [B, T] at 24 kHz; default: seeded chirps + noise);
    the others get N(0, 0.01). Also drops the cached normalised embeddings, so the new values are
    used even after an encode. Returns the number of codebooks changed.
    """
    gen = torch.Generator().manual_seed(seed)
    books = [m for m in model.modules() if hasattr(m, "cluster_usage")
             and (hasattr(m, "embedding_sum") or hasattr(m, "embed_sum"))]
    for book in books:
        _set_codebook(book, torch.randn(_codebook_sum(book).shape, generator=gen) * 0.01)
    if books:
        latents = _first_codebook_inputs(model, books[0], calibration, gen)  # [N, D]
        mean, std = latents.mean(0), latents.std(0).clamp(min=1e-6)
        shape = _codebook_sum(books[0]).shape
        _set_codebook(books[0], mean + std * torch.randn(shape, generator=gen))
    return len(books)


def _codebook_sum(book: torch.nn.Module) -> torch.Tensor:
    return book.embedding_sum if hasattr(book, "embedding_sum") else book.embed_sum


def _set_codebook(book: torch.nn.Module, centroids: torch.Tensor) -> None:
    _codebook_sum(book).data.copy_(centroids)
    book.cluster_usage.data.fill_(1.0)  # embedding = sum / usage, so the centroids as given
    if hasattr(book, "embedding_sum"):  # moshi caches the normalised embedding as a buffer
        book.register_buffer("_embedding", None, persistent=False)
    else:  # transformers caches it as a plain attribute
        book._embed = None


@torch.inference_mode()
def _first_codebook_inputs(model: torch.nn.Module, book: torch.nn.Module,
                           calibration: torch.Tensor | None, gen: torch.Generator) -> torch.Tensor:
    """The vectors [N, D] that `book` quantizes when `model` encodes `calibration` [B, T]."""
    if calibration is None:
        t = torch.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
        f0 = 100 + 300 * torch.rand(4, 1, generator=gen)
        amp = 0.05 + 0.3 * torch.rand(4, 1, generator=gen) * (1 + torch.sin(3 * t))
        calibration = amp * torch.sin(2 * math.pi * f0 * t * (1 + t)) \
            + 0.02 * torch.randn(4, t.numel(), generator=gen)
    captured: list[torch.Tensor] = []
    original = book.encode

    def spy(x: torch.Tensor) -> torch.Tensor:
        captured.append(x.reshape(-1, x.shape[-1]).float().cpu())
        return original(x)

    book.encode = spy  # instance attribute: the quantizer calls self._codebook.encode(x)
    try:
        device = next(model.parameters()).device
        x = calibration.to(device, torch.float32)[:, None, :]
        if hasattr(model, "set_num_codebooks"):
            model.encode(x)
        else:
            model.encode(x, num_quantizers=1)
    finally:
        del book.encode
    return torch.cat(captured[:1])


def _import_moshi_loaders():
    try:
        from moshi.models import loaders
    except ImportError as err:
        raise ImportError(
            "the moshi backend needs the `moshi` package: pip install --no-deps moshi==0.2.13 "
            "'einops>=0.7,<0.9' 'sentencepiece>=0.2,<0.3' 'sphn>=0.2,<0.3'") from err
    return loaders


def build_moshi(weights: str | Path | None, device: str | torch.device = "cpu") -> torch.nn.Module:
    """moshi's Mimi (untrained when `weights` is None) with one codebook."""
    loaders = _import_moshi_loaders()
    model = loaders.get_mimi(str(weights) if weights is not None else None, device=str(device),
                             num_codebooks=8)
    model.set_num_codebooks(1)
    return model


def build_transformers(directory: str | Path, device: str | torch.device = "cpu") -> torch.nn.Module:
    from transformers import MimiModel

    with _quiet_transformers():
        return MimiModel.from_pretrained(str(directory)).to(device)


@contextlib.contextmanager
def _quiet_transformers():
    """No per-shard progress bars when saving/loading (one-off, noisy in logs and tests)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def is_mimi_path(path: str | Path) -> bool:
    """Whether `path` names Mimi weights (the string `mimi`, a safetensors file, a Mimi dir)."""
    if str(path) == "mimi":
        return True
    try:
        _detect(Path(path))
        return True
    except (FileNotFoundError, ValueError):
        return False


def _detect(path: Path) -> tuple[str, Path]:
    """(backend, weights path) for a local file or directory, or raise with what was expected."""
    if not path.exists():
        raise FileNotFoundError(f"Mimi weights not found at {path}. {_HOW_TO_GET}")
    if path.is_file():
        if path.suffix not in (".safetensors", ".sft", ".sfts"):
            raise ValueError(f"{path} is not a Mimi weights file (expected .safetensors)")
        if path.name == "model.safetensors" and _is_transformers_dir(path.parent):
            return "transformers", path.parent
        return "moshi", path
    if _is_transformers_dir(path):
        return "transformers", path
    info = path / SAVED_INFO_FILE
    if info.exists():
        data = json.loads(info.read_text())
        if data.get("kind") == "mimi" and data.get("file"):
            return "moshi", path / data["file"]
    files = sorted(path.glob("*.safetensors"))
    if len(files) == 1 and files[0].name != "model.safetensors":
        return "moshi", files[0]
    if (path / MOSHI_FILE).exists():
        return "moshi", path / MOSHI_FILE
    raise ValueError(f"{path} holds no Mimi weights: expected config.json (model_type mimi) + "
                     f"model.safetensors, or one moshi .safetensors file. {_HOW_TO_GET}")


def _is_transformers_dir(path: Path) -> bool:
    config = path / "config.json"
    if not config.exists():
        return False
    try:
        return json.loads(config.read_text()).get("model_type") == "mimi"
    except json.JSONDecodeError:
        return False


def _from_hf_cache(backend: str | None) -> tuple[str, Path]:
    """Weights from the local Hugging Face cache (never the network), moshi file first."""
    from huggingface_hub import snapshot_download, try_to_load_from_cache

    if backend in (None, "moshi"):
        found = try_to_load_from_cache(MOSHI_REPO, MOSHI_FILE)
        if isinstance(found, str) and Path(found).exists():
            return "moshi", Path(found)
    if backend in (None, "transformers"):
        try:
            snap = Path(snapshot_download(HF_REPO, local_files_only=True))
            if _is_transformers_dir(snap):
                return "transformers", snap
        except Exception:  # LocalEntryNotFoundError, offline errors: treated as "not cached"
            pass
    raise FileNotFoundError(f"`mimi` is not in the local Hugging Face cache. {_HOW_TO_GET}")


def load_mimi(path: str | Path = "mimi", backend: str | None = None,
              device: str | torch.device | None = None, precision: str = "fp32") -> MimiTokenizer:
    """Load Mimi from a moshi safetensors file, a transformers dir, a saved dir, or `"mimi"`.

    `"mimi"` means the local Hugging Face cache (`kyutai/moshiko-pytorch-bf16` or `kyutai/mimi`).
    `backend` forces one format; a path in the other format is an error (no conversion).
    """
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if str(path) == "mimi":
        found_backend, weights = _from_hf_cache(backend)
    else:
        found_backend, weights = _detect(Path(path).expanduser())
    if backend is not None and backend != found_backend:
        raise ValueError(f"{path} holds Mimi in the {found_backend} format, not {backend}; "
                         f"use backend={found_backend!r}")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if found_backend == "moshi":
        model = build_moshi(weights, device)
    else:
        model = build_transformers(weights, device)
    return MimiTokenizer(model, found_backend, source=str(weights), device=device,
                         precision=precision)
