"""Files that must never be seen half-written, and JSON Lines: the one place for both.

- `write_text_atomic` / `write_json_atomic`: tmp file, fsync, rename, fsync the directory; a
  reader sees the old content or the new one, never a torn file (checkpoints, `latest`,
  build_config.json, meta.json, results).
- `remove_stale_tmp`: `<prefix>...-<pid>` leftovers of writers that were killed.
- `read_jsonl` / `iter_jsonl` (line numbers, one-line errors) / `write_jsonl`: one JSON object
  per line, UTF-8 (written atomically too).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """fsync every file under `path`, then `path` itself."""
    for f in path.rglob("*"):
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    fsync_dir(path)


@contextmanager
def atomic_open(path: Path) -> Iterator[IO[str]]:
    """A text file that replaces `path` only when the block ends without an error (tmp file in
    the same dir, fsync, rename, fsync the dir): readers see the old content or the new one,
    never half. The tmp name carries the process and thread, so concurrent writers of one path
    do not share it (the last rename wins)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` by `text` atomically (see `atomic_open`)."""
    with atomic_open(path) as fh:
        fh.write(text)


def write_json_atomic(path: Path, data: Any, indent: int | None = 1) -> None:
    write_text_atomic(Path(path), json.dumps(data, indent=indent))


def remove_stale_tmp(directory: Path, prefix: str) -> None:
    """Delete `<prefix>...-<pid>` dirs whose writer process is gone (killed builds)."""
    for p in Path(directory).glob(f"{prefix}*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSONL file, one JSON object per line; [] when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def iter_jsonl(path: Path, error: type[Exception] = ValueError,
               hint: str = "") -> Iterator[tuple[int, Any]]:
    """(line number, row) of each non-blank line of a JSONL file; a line that is not JSON
    raises `error` naming the file and the line (and `hint`, what to do)."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as err:
                raise error(f"{path} line {n} is not JSON ({err.msg})"
                            + (f"; {hint}" if hint else "")) from None


def write_jsonl(rows: Iterable[Any], path: Path, compact: bool = False) -> Path:
    """Write dicts (or dataclasses) one per line, atomically (see `atomic_open`); returns
    `path`. compact: no spaces and ASCII escapes (the eval set: long unit lists, read by
    machines); else accents are kept as UTF-8 (stories people read)."""
    seps = (",", ":") if compact else None
    with atomic_open(Path(path)) as fh:
        for row in rows:
            fh.write(json.dumps(asdict(row) if is_dataclass(row) else row,
                                ensure_ascii=compact, separators=seps))
            fh.write("\n")
    return Path(path)
