"""User audio -> a corpus: `build_corpus_from_audio(manifest, tokenizer, out)`.

For speech that exists as files (e.g. the paper's corpus) rather than synthesized from the
story world: the same shard layout, rows and meta.json as `slmlab.corpus.build_corpus`, so
training and evaluation cannot tell the two apart. Resumable by shards of manifest lines.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from slmlab.constants import LANGS
from slmlab.corpus import worker as W
from slmlab.corpus.build import SHARD_FMT, CorpusError, write_meta, write_shard
from slmlab.files import iter_jsonl
from slmlab.speech import load_audio
from slmlab.tokenizers import load_tokenizer


def build_corpus_from_audio(manifest: str | Path, tokenizer: str, out: str | Path,
                            shard_size: int = 2000, device: str | None = None,
                            progress: bool = True) -> Path:
    """Tokenize user audio (e.g. the paper's corpus) into the same format as `build_corpus`.

    `manifest`: JSONL with `story_id, sentence_idx, lang, path, text` (optional `split`,
    `voice`); relative paths are relative to the manifest. Resumable by shards of lines."""
    manifest = Path(manifest)
    if not manifest.exists():
        raise CorpusError(f"manifest {manifest} not found (JSONL: story_id, sentence_idx, lang, "
                          "path, text per line)")
    entries = read_manifest(manifest)
    out = Path(out)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    tok = load_tokenizer(tokenizer, device=device)
    n_shards = math.ceil(len(entries) / shard_size)
    bar = W.progress(n_shards, "audio shards", progress)
    t0 = time.time()
    for k in range(n_shards):
        if (out / "shards" / SHARD_FMT.format(k)).exists():
            bar.update()
            continue
        part = entries[k * shard_size:(k + 1) * shard_size]
        wavs = []
        for e in part:
            try:
                wavs.append(load_audio(e["path"]))
            except ValueError as err:  # AudioError: name the line so it can be fixed
                raise CorpusError(f"{manifest} line {e['line']}: {err}") from None
        rows = [{"story_id": str(e["story_id"]), "sentence_idx": int(e["sentence_idx"]),
                 "lang": e["lang"], "voice": e.get("voice", "user"), "text": e["text"],
                 "split": e.get("split", "train")} for e in part]
        write_shard(out, k, rows, wavs, W.encode_wavs(tok, wavs), 0)
        bar.update()
    bar.close()
    cfg = {"manifest": str(manifest.resolve()), "tokenizer": str(tokenizer),
           "shard_size": shard_size}
    write_meta(out, cfg, tok, tokenizer, n_shards, None,
               timing={"total_s": round(time.time() - t0, 2)})
    return out


def read_manifest(manifest: Path) -> list[dict]:
    """Entries of a manifest (JSONL), each checked; a bad line is named with its number."""
    need = ("story_id", "sentence_idx", "lang", "path", "text")
    entries = []
    for i, e in iter_jsonl(manifest, CorpusError):
        missing = [k for k in need if k not in e]
        if missing:
            raise CorpusError(f"{manifest} line {i} lacks {', '.join(missing)}")
        if e["lang"] not in LANGS:
            raise CorpusError(f"{manifest} line {i}: lang must be one of {LANGS}; got {e['lang']!r}")
        p = Path(e["path"])
        e["path"] = str(p if p.is_absolute() else manifest.parent / p)
        e["line"] = i
        entries.append(e)
    if not entries:
        raise CorpusError(f"{manifest} has no entries")
    return entries
