"""Paths and validation helpers shared by every config dataclass.

Each stage defines its own `@dataclass` config with a comment per field and calls these
helpers from `__post_init__`, so an invalid value fails at construction with a message
naming the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

from tqdm.auto import tqdm


class ConfigError(ValueError):
    """An invalid configuration value; the message names the field."""


def check_choice(field: str, value: Any, allowed: Iterable[Any]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(f"{field} must be one of {', '.join(map(str, allowed))}; got {value!r}")


def _is_number(value: Any) -> bool:
    """A finite int/float (bools are not numbers here; inf and NaN never make a valid setting)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def check_range(field: str, value: float, lo: float, hi: float) -> None:
    if not _is_number(value) or not lo <= value <= hi:
        raise ConfigError(f"{field} must be in [{lo}, {hi}]; got {value!r}")


def check_positive(field: str, value: float, allow_zero: bool = False) -> None:
    ok = _is_number(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{field} must be a finite number {bound}; got {value!r}")


# One seed fits every RNG we feed (torch, numpy and python accept [0, 2**63)).
SEED_MAX = 2**63 - 1


def check_seed(field: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= SEED_MAX:
        raise ConfigError(f"{field} must be a whole number in [0, 2**63 - 1]; got {value!r}")


def runs_dir() -> Path:
    """Where run directories live: $SLMLAB_RUNS, else ./runs (git-ignored)."""
    return Path(os.environ.get("SLMLAB_RUNS", "runs"))


def cache_dir() -> Path:
    """Downloaded or built artifacts reused across runs: $SLMLAB_CACHE, else ~/.cache/slmlab."""
    default = Path.home() / ".cache" / "slmlab"
    return Path(os.environ.get("SLMLAB_CACHE", default)).expanduser()


def to_dict(cfg: Any) -> dict:
    """A config dataclass as JSON-ready data (paths become strings)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def writable_dir(directory: str | Path) -> Path:
    """`directory` (created) when it can be written; else a fallback beside the user's work,
    ./slmlab-results/<name> (then the temp dir), with a one-line warning saying where.

    Results computed for minutes must not be lost because the run dir is read-only."""
    import sys
    import tempfile

    directory = Path(directory)
    fallbacks = [Path.cwd() / "slmlab-results" / directory.name,
                 Path(tempfile.gettempdir()) / "slmlab-results" / directory.name]
    for d in [directory, *fallbacks]:
        try:
            d.mkdir(parents=True, exist_ok=True)
            probe = d / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError:
            continue
        if d != directory:
            print(f"slmlab: warning: {directory} is not writable; results written to {d} instead",
                  file=sys.stderr, flush=True)
        return d
    raise OSError(f"no writable place for results: {directory}, {fallbacks[0]}, {fallbacks[1]}")


def writable_path(path: str | Path, name_in_dir: str = "results.json") -> Path:
    """`path`, or the same file name in `writable_dir`'s fallback when its dir is read-only.

    A path that is an existing directory gets `name_in_dir` inside it (said in one line)."""
    import sys

    path = Path(path)
    if path.is_dir():
        print(f"slmlab: warning: {path} is a directory; results written to "
              f"{path / name_in_dir}", file=sys.stderr, flush=True)
        path = path / name_in_dir
    return writable_dir(path.parent) / path.name


def check_device(field: str, device: str | None) -> str | None:
    """None (auto), cpu, cuda or cuda:N that this machine has; else a ConfigError naming
    `field` (a CPU-only torch asked for cuda is the common case)."""
    import torch

    if device in (None, "auto"):
        return None
    ok = device == "cpu" or device == "cuda" or (device.startswith("cuda:")
                                                  and device[5:].isdigit())
    if not ok:
        raise ConfigError(f"{field} must be cpu, cuda or cuda:N; got {device!r}")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            why = "this torch build has no CUDA" if torch.version.cuda is None else "no GPU is visible"
            raise ConfigError(f"{field} {device}: {why} (torch {torch.__version__}); use "
                              f"{field} cpu")
        if ":" in device and int(device[5:]) >= torch.cuda.device_count():
            raise ConfigError(f"{field} {device}: only {torch.cuda.device_count()} GPU(s) visible")
    return device


def progress_bar(total: int, desc: str, progress: bool | None = None, **kw: Any):
    """The one progress bar: tqdm on stderr. progress None shows it on a terminal only (tqdm's
    own disable=None), True always, False never."""
    return tqdm(total=total, desc=desc, disable=None if progress is None else not progress, **kw)
