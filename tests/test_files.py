"""slmlab.files: atomic writes keep the old file when a write fails; JSONL round-trips."""

import json
import os
import subprocess
import sys

import pytest

from slmlab.files import (atomic_open, read_jsonl, remove_stale_tmp, write_json_atomic,
                          write_jsonl)


def test_a_failed_write_leaves_the_old_file_and_no_tmp(tmp_path):
    path = tmp_path / "meta.json"
    write_json_atomic(path, {"done": True})
    with pytest.raises(RuntimeError):
        with atomic_open(path) as fh:
            fh.write('{"done": fal')  # half a file, then the writer dies
            raise RuntimeError("killed mid-write")
    assert json.loads(path.read_text()) == {"done": True}
    assert [p.name for p in tmp_path.iterdir()] == ["meta.json"]


def test_jsonl_round_trip_keeps_accents_and_compact_is_ascii(tmp_path):
    rows = [{"fr": "Élodie a trouvé le château", "units": [1, 2, 3]}, {"fr": "", "units": []}]
    people = write_jsonl(rows, tmp_path / "a" / "stories.jsonl")
    machines = write_jsonl(rows, tmp_path / "cloze.jsonl", compact=True)
    assert read_jsonl(people) == rows == read_jsonl(machines)
    assert "Élodie" in people.read_text(encoding="utf-8")
    text = machines.read_text(encoding="ascii")  # escapes only: ASCII all the way
    assert '"units":[1,2,3]' in text and ", " not in text
    assert read_jsonl(tmp_path / "missing.jsonl") == []


def test_stale_tmp_of_a_dead_writer_is_removed_a_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / f".tmp-shard-00001-{dead}").mkdir()
    (tmp_path / f".tmp-shard-00002-{os.getpid()}").mkdir()
    remove_stale_tmp(tmp_path, ".tmp-shard-")
    assert [p.name for p in tmp_path.iterdir()] == [f".tmp-shard-00002-{os.getpid()}"]
