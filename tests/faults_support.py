"""Shared pieces of the fault-injection tests (tests/test_faults*.py): a tmpfs that can fill up
or turn read-only, the run-dir snapshot that proves nothing earlier was lost, CLI capture."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import uuid
from pathlib import Path

import pytest


def can_mount() -> str | None:
    """None when this process may mount a tmpfs, else the reason to skip."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root (run the fault tests as root, e.g. in CI's container)"
    probe = Path(f"/tmp/slmlab-mount-probe-{uuid.uuid4().hex[:8]}")
    probe.mkdir()
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)],
                           capture_output=True, text=True)
        if r.returncode:
            return f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode})"
        subprocess.run(["umount", str(probe)], check=True)
        return None
    finally:
        probe.rmdir()


@contextlib.contextmanager
def tmpfs(path: Path, size_kb: int):
    """A tmpfs of `size_kb` KiB mounted at `path` for the block; skips where not allowed."""
    why = can_mount()
    if why:
        pytest.skip(why)
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
                   check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount_readonly(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """{relative path: sha256} of every file under root (what 'nothing lost' compares)."""
    out = {}
    for f in sorted(Path(root).rglob("*")):
        rel = str(f.relative_to(root))
        if f.is_file() and not any(rel.startswith(s) for s in skip):
            out[rel] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """(exit code, stderr) of `slmlab ARGV` run in-process."""
    from slmlab.cli import main

    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as err:  # argparse errors
        code = err.code
    err = capsys.readouterr().err
    # progress bars (transformers' "Loading weights") are not messages: drop their lines
    lines = err.split("\n")
    return code, "\n".join(line for line in lines if "\r" not in line and "it/s]" not in line)
