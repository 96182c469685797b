"""`load_tokenizer(path)`: any saved tokenizer, the shipped one ('neural') or Mimi ('mimi').

Mimi is imported only when asked for: it pulls in moshi (installed separately, see README) and
transformers' Mimi model, seconds of import time that no other tokenizer needs."""

from __future__ import annotations

from pathlib import Path

from slmlab.tokenizers.base import Tokenizer, TokenizerError, read_tokenizer_json
from slmlab.tokenizers.neural import NeuralTokenizer
from slmlab.tokenizers.units import BuiltinTokenizer

PRETRAINED = "neural"  # the name of the shipped speaker-invariant tokenizer


def pretrained_dir(name: str = "neural-2048") -> Path:
    """Directory of a tokenizer shipped inside the package (`slmlab/tokenizers/pretrained/`)."""
    return Path(__file__).parent / "pretrained" / name


def load_tokenizer(path: str | Path, device: str | None = None) -> Tokenizer:
    """Load a tokenizer: a saved built-in dir (its tokenizer.json says "kind": "builtin" for
    log-mel k-means or "neural" for the speaker-invariant encoder),
    a Mimi checkpoint file or directory, the string 'mimi' (Mimi from the local cache) or
    'neural' (the shipped speaker-invariant tokenizer, `pretrained_dir()`)."""
    if str(path) == "mimi":
        return _mimi("mimi", device)
    if str(path) == PRETRAINED:  # the shipped tokenizer, wherever the package is installed
        path = pretrained_dir()
    p = Path(path)
    if not p.exists():
        raise TokenizerError(f"no tokenizer at {p}; give a directory saved by "
                             "`slmlab tokenizer train`, a Mimi checkpoint, or 'mimi'")
    meta = read_tokenizer_json(p) if p.is_dir() else None
    if meta is not None and meta.get("kind") == "builtin":
        return BuiltinTokenizer.load(p)
    if meta is not None and meta.get("kind") == "neural":
        return NeuralTokenizer.load(p, device)
    if meta is not None or p.suffix in (".safetensors", ".pt", ".bin") or \
            (p.is_dir() and (any(p.glob("*.safetensors")) or (p / "config.json").exists())):
        return _mimi(p, device)
    raise TokenizerError(f"{p} is not a tokenizer: expected a built-in tokenizer directory "
                         "(with tokenizer.json) or a Mimi checkpoint (.safetensors or a "
                         "transformers directory)")


def _mimi(path, device):
    from slmlab.tokenizers.mimi import load_mimi  # heavy (moshi/transformers): import lazily

    return load_mimi(path, backend=None, device=device)


def recorded_tokenizer(info: dict, ckpt: str | Path) -> str:
    """The tokenizer a checkpoint was trained with, as a `load_tokenizer` spec.

    info: the checkpoint's slmlab.json. A shipped name ('neural', 'mimi') is returned as is; a
    recorded path is resolved against the checkpoint dir (where an exported model keeps its
    copy), then the working dir; a Mimi not found there is 'mimi' (the local cache, whose
    checksum the caller compares); failing all that, a `tokenizer/` dir in the checkpoint or
    one of its three parents (a run dir that kept its tokenizer beside the checkpoints).
    """
    ckpt = Path(ckpt)
    entry = info.get("tokenizer")
    spec = str(entry.get("path") or "") if isinstance(entry, dict) else str(entry or "")
    if spec in ("mimi", PRETRAINED):
        return spec
    if spec:
        p = Path(spec)
        for candidate in ([p] if p.is_absolute() else [ckpt / p, Path.cwd() / p]):
            if candidate.exists():
                return str(candidate)
    named_mimi = entry.get("kind") == "mimi" if isinstance(entry, dict) else spec.startswith("mimi")
    if named_mimi:  # Mimi without weights at the recorded place: the local Hugging Face cache
        return "mimi"
    for d in (ckpt, *list(ckpt.parents)[:3]):
        if (d / "tokenizer" / "tokenizer.json").exists():
            return str(d / "tokenizer")
    raise FileNotFoundError(f"no tokenizer for {ckpt}: slmlab.json records {spec or 'none'}, "
                            f"found neither in {ckpt} nor in {Path.cwd()}; pass --tokenizer DIR")
