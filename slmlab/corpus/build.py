"""The corpus: stories -> speech per sentence -> units -> a Hugging Face dataset on disk.

Layout of a corpus directory (`build_corpus(cfg)` returns it):
    build_config.json     the settings that decide the content (a resumed build must match)
    tokenizer/            the built-in tokenizer, trained on this corpus's own audio if needed
    shards/shard-00012/   one `datasets` dataset per shard of `shard_size` stories (train first,
                          then heldout); written to a tmp dir and renamed, so a shard that
                          exists is complete and is never redone
    samples/*.wav         a few synthesized sentences to listen to (raw audio is not kept)
    eval/                 cloze.jsonl, pairs.jsonl, aligned.jsonl (slmlab.corpus.eval_set)
    meta.json             tokenizer, config, counts, hours; written last: marks the corpus done

Rows: `story_id, sentence_idx, lang, voice, text, units (int16 list), split`; for each story,
sentence by sentence, EN then FR. Work is spread over CPU processes (each with its own espeak-ng
engine and tokenizer, one torch thread); with Mimi on GPUs, CPU processes synthesize and one
process per GPU encodes in batches (`Tokenizer.encode_list`); with the neural tokenizer and a
GPU, each worker encodes its own shard there in padded batches (`worker_device`).
"""

from __future__ import annotations

import errno
import json
import multiprocessing as mp
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from slmlab import config as C
from slmlab.checkpoint import RunLock
from slmlab.constants import LANGS, SAMPLE_RATE
from slmlab.corpus import worker as W
from slmlab.corpus.eval_set import build_eval
from slmlab.files import remove_stale_tmp, write_json_atomic
from slmlab.speech import voice_for_story
from slmlab.tokenizers import load_tokenizer
from slmlab.tokenizers.units import train_builtin
from slmlab.world import generate_stories

SHARD_FMT = "shard-{:05d}"
META_FILE = "meta.json"
BUILD_CONFIG_FILE = "build_config.json"
SAMPLE_VOICE_SPLIT = {"train": "train", "heldout": "test"}  # held-out stories: held-out voices


class CorpusError(ValueError):
    """A corpus directory that cannot be used as asked; the message says what to do."""


@dataclass
class CorpusConfig:
    out: str = "runs/corpus"  # corpus directory (created; an unfinished one is resumed)
    n_stories: int = 1500  # train stories
    heldout_fraction: float = 0.1  # held-out stories, as a fraction of n_stories (0 to 0.5)
    langs: tuple[str, ...] = LANGS  # languages to synthesize (a subset of LANGS)
    tokenizer: str = "neural"  # 'neural' (shipped, speaker-invariant), 'builtin' (k-means trained
    # on this corpus if absent), a tokenizer path, or 'mimi'
    workers: int = 0  # CPU processes (0: one per core)
    shard_size: int = 50  # stories per shard (the unit of parallel work and of resuming)
    keep_audio_sample: int = 8  # sentences kept as wavs under samples/ (0: none)
    seed: int = 0  # stories, voices, tokenizer training
    device: str = "auto"  # 'auto' (GPUs for Mimi when present), 'cpu', or 'cuda' (all GPUs)
    eval_items: int = 1000  # benchmark items per kind in eval/ (0: no eval set)
    aligned_pairs: int = 300  # held-out EN/FR sentence pairs in eval/aligned.jsonl
    tokenizer_sentences: int = 400  # built-in only: sentences of corpus audio to train it on
    n_units: int = 2048  # built-in only: number of units
    frame_rate: float = 12.5  # built-in only: unit frames per second
    progress: bool = True  # tqdm bars (only shown on a terminal)
    grow_from: str | None = None  # a finished smaller corpus of the same settings: its shards
    # are reused (train shards linked, held-out ones renumbered) and only the new stories built

    def __post_init__(self):
        C.check_positive("n_stories", self.n_stories)
        C.check_range("heldout_fraction", self.heldout_fraction, 0.0, 0.5)
        self.langs = tuple(self.langs)
        if not self.langs:
            raise C.ConfigError(f"langs must name at least one of {', '.join(LANGS)}")
        for lang in self.langs:
            C.check_choice("langs", lang, LANGS)
        C.check_positive("workers", self.workers, allow_zero=True)
        C.check_positive("shard_size", self.shard_size)
        C.check_positive("keep_audio_sample", self.keep_audio_sample, allow_zero=True)
        C.check_positive("eval_items", self.eval_items, allow_zero=True)
        C.check_positive("aligned_pairs", self.aligned_pairs, allow_zero=True)
        C.check_positive("tokenizer_sentences", self.tokenizer_sentences)
        C.check_positive("n_units", self.n_units)
        C.check_positive("frame_rate", self.frame_rate)
        C.check_choice("device", self.device, ("auto", "cpu", "cuda"))
        if not str(self.tokenizer).strip():
            raise C.ConfigError("tokenizer must be 'builtin', 'mimi' or a path; got ''")

    @property
    def n_heldout(self) -> int:
        return int(round(self.n_stories * self.heldout_fraction))

    def content_key(self) -> dict:
        """The fields that decide what the corpus holds (not how fast it is built)."""
        keep = ("n_stories", "heldout_fraction", "langs", "tokenizer", "shard_size", "seed",
                "n_units", "frame_rate", "tokenizer_sentences")
        data = C.to_dict(self)
        return {k: data[k] for k in keep}


def sentence_jobs(story, langs: Sequence[str]) -> list[dict]:
    """Rows to make for one story, sentence by sentence, each language in `langs` order."""
    split = story.split
    voices = {lang: voice_for_story(story.story_id, lang, SAMPLE_VOICE_SPLIT.get(split, "train"))
              for lang in langs}
    n = len(story.sentences[langs[0]])
    return [{"story_id": story.story_id, "sentence_idx": i, "lang": lang,
             "voice": voices[lang].name, "text": story.sentences[lang][i], "split": split}
            for i in range(n) for lang in langs]


def _shard_rows(stories, langs) -> list[dict]:
    return [row for story in stories for row in sentence_jobs(story, langs)]


def _synth_shard(task: dict) -> tuple[dict, list[np.ndarray]]:
    """Worker: synthesize one shard; audio travels back as int16 (half the bytes of float32)."""
    rows = _shard_rows(task["stories"], task["langs"])
    wavs = W.synthesize_rows(rows)
    return task, [W.to_int16(w) for w in wavs]


def _make_shard(task: dict) -> dict:
    """Worker: synthesize and tokenize one shard with this process's tokenizer, then write it."""
    rows = _shard_rows(task["stories"], task["langs"])
    wavs = W.synthesize_rows(rows)
    units = W.encode_wavs(W.worker_tokenizer(), wavs)
    return write_shard(Path(task["out"]), task["index"], rows, wavs, units, task["keep"])


def write_shard(out: Path, index: int, rows: list[dict], wavs: Sequence[np.ndarray],
                units: Sequence[np.ndarray], keep: int) -> dict:
    """Write shard `index` atomically (tmp dir, then rename) plus its sample wavs; its stats."""
    import datasets

    final = out / "shards" / SHARD_FMT.format(index)
    tmp = out / "shards" / f".tmp-{SHARD_FMT.format(index)}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    columns = {k: [r[k] for r in rows] for k in
               ("story_id", "sentence_idx", "lang", "voice", "text", "split")}
    columns["units"] = [u.astype(np.int16) for u in units]
    ds = datasets.Dataset.from_dict(columns, features=features())
    n_samples = sum(len(w) for w in wavs)
    stats = {"index": index, "rows": len(rows), "frames": int(sum(len(u) for u in units)),
             "audio_seconds": n_samples / SAMPLE_RATE,
             "stories": len({r["story_id"] for r in rows})}
    was_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # one bar per shard would flood the log
    try:
        ds.save_to_disk(str(tmp))
        (tmp / "shard.json").write_text(json.dumps(stats))
        if keep:
            _save_samples(out / "samples", rows[:keep], wavs[:keep])
        os.rename(tmp, final)  # atomic on one filesystem: a shard dir exists only when complete
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed write (disk full) leaves nothing
        if final.is_dir() and (final / "shard.json").exists() and err.errno in (
                errno.ENOTEMPTY, errno.EEXIST):
            return stats  # an orphaned worker of a killed build finished this same shard first
        raise
    finally:
        if was_on:
            datasets.enable_progress_bars()
    return stats


def _save_samples(directory: Path, rows: list[dict], wavs: Sequence[np.ndarray]) -> None:
    import soundfile as sf

    directory.mkdir(parents=True, exist_ok=True)
    for r, w in zip(rows, wavs):
        name = f"{r['story_id']}-{r['sentence_idx']:02d}-{r['lang']}.wav"
        sf.write(directory / name, W.from_int16(w), SAMPLE_RATE)


def features():
    import datasets

    return datasets.Features({
        "story_id": datasets.Value("string"), "sentence_idx": datasets.Value("int32"),
        "lang": datasets.Value("string"), "voice": datasets.Value("string"),
        "text": datasets.Value("string"), "units": datasets.Sequence(datasets.Value("int16")),
        "split": datasets.Value("string")})


# ---------------------------------------------------------------------------------------------
def make_stories(cfg: CorpusConfig) -> list:
    """Train stories then held-out stories (deterministic in cfg.seed)."""
    stories = list(generate_stories(cfg.n_stories, seed=cfg.seed, split="train"))
    if cfg.n_heldout:
        stories += list(generate_stories(cfg.n_heldout, seed=cfg.seed, split="heldout"))
    return stories


def ensure_tokenizer(cfg: CorpusConfig, out: Path, stories: list, progress: bool = False):
    """(tokenizer path, tokenizer): the given one, or the built-in trained on corpus audio."""
    if cfg.tokenizer != "builtin":
        return str(cfg.tokenizer), load_tokenizer(str(cfg.tokenizer), device="cpu")
    tdir = out / "tokenizer"
    if (tdir / "tokenizer.json").exists():
        return str(tdir), load_tokenizer(str(tdir))
    rows = tokenizer_training_rows(cfg, stories)
    wavs = synthesize_parallel(rows, cfg)
    tok = train_builtin(wavs, n_units=cfg.n_units, frame_rate=cfg.frame_rate, seed=cfg.seed,
                        progress=progress)
    tmp = out / ".tmp-tokenizer"
    shutil.rmtree(tmp, ignore_errors=True)
    tok.save(tmp)
    os.rename(tmp, tdir)
    return str(tdir), tok


def tokenizer_training_rows(cfg: CorpusConfig, stories: list) -> list[dict]:
    """A seeded sample of `tokenizer_sentences` train sentences, all languages alternating."""
    rng = np.random.default_rng(cfg.seed)
    train = [s for s in stories if s.split == "train"]
    order = rng.permutation(len(train))
    rows: list[dict] = []
    for i in order:
        jobs = sentence_jobs(train[i], cfg.langs)
        pick = rng.integers(0, len(jobs) // len(cfg.langs))  # one sentence, every language
        rows += [j for j in jobs if j["sentence_idx"] == pick]
        if len(rows) >= cfg.tokenizer_sentences:
            break
    return rows[: max(cfg.tokenizer_sentences, len(cfg.langs))]


def synthesize_parallel(rows: list[dict], cfg: CorpusConfig) -> list[np.ndarray]:
    """Synthesize rows over the worker processes (order kept)."""
    n = W.n_workers(cfg.workers)
    chunks = [rows[i:i + 25] for i in range(0, len(rows), 25)]
    with W.pool(n, None) as pool:
        return [w for part in pool.imap(W.synthesize_rows, chunks) for w in part]


def shard_tasks(cfg: CorpusConfig, out: Path, stories: list) -> list[dict]:
    """One task per shard of `shard_size` stories; the first shard keeps the audio sample."""
    return [{"index": k, "stories": stories[i:i + cfg.shard_size], "langs": cfg.langs,
             "out": str(out), "keep": cfg.keep_audio_sample if k == 0 else 0}
            for k, i in enumerate(range(0, len(stories), cfg.shard_size))]


def pending(tasks: list[dict], out: Path) -> list[dict]:
    return [t for t in tasks if not (out / "shards" / SHARD_FMT.format(t["index"])).exists()]


def _gpus(cfg: CorpusConfig) -> int:
    """How many GPUs the build may use (0 for device 'cpu' or none visible)."""
    import torch

    if cfg.device == "cpu":
        return 0
    if not torch.cuda.is_available():
        if cfg.device == "cuda":
            raise C.ConfigError("device is 'cuda' but no GPU is visible; use device='auto'")
        return 0
    return torch.cuda.device_count()


def encode_devices(cfg: CorpusConfig, tok) -> list[str]:
    """GPUs on which one process per GPU encodes Mimi's batches ([] means: encode inside the
    CPU workers). Only Mimi: its encoder is too big for one copy per worker."""
    if getattr(tok, "kind", "") != "mimi":
        return []
    return [f"cuda:{i}" for i in range(_gpus(cfg))]


def worker_device(cfg: CorpusConfig, tok) -> str:
    """Where each CPU worker runs the neural encoder on its own shard's padded batches: the
    GPU when one is visible (the encoder is ~60% of a worker's CPU time, a handful of launches
    per shard on a GPU), else the CPU. Audio then never leaves the worker that made it."""
    return "cuda" if getattr(tok, "kind", "") == "neural" and _gpus(cfg) else "cpu"


def run_cpu_shards(tasks: list[dict], tokenizer_path: str, cfg: CorpusConfig,
                   device: str = "cpu") -> list[dict]:
    """Each worker synthesizes, tokenizes (on `device`) and writes whole shards (always in
    worker processes, so the caller's torch thread settings are left alone). Each shard runs
    in a fresh process (see `worker.pool`), so a rebuilt shard is identical to the first build."""
    if not tasks:
        return []
    n = min(W.n_workers(cfg.workers), len(tasks))
    bar = W.progress(len(tasks), "corpus shards", cfg.progress)
    stats = []
    with W.pool(n, tokenizer_path, device) as pool:
        for s in pool.imap_unordered(_make_shard, tasks):
            stats.append(s)
            bar.update()
    bar.close()
    return stats


def run_device_shards(tasks: list[dict], tokenizer_path: str, cfg: CorpusConfig,
                      devices: list[str]) -> list[dict]:
    """One process per device encodes a slice of the shards in batches; CPU workers synthesize.

    With one device the main process does the encoding itself."""
    if not tasks:
        return []
    if len(devices) == 1:
        return _device_loop(tasks, tokenizer_path, devices[0], W.n_workers(cfg.workers), None)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    per = max(1, W.n_workers(cfg.workers) // len(devices))
    procs = [ctx.Process(target=_device_loop, args=(tasks[i::len(devices)], tokenizer_path, d,
                                                    per, queue)) for i, d in enumerate(devices)]
    for p in procs:
        p.start()
    bar = W.progress(len(tasks), "corpus shards", cfg.progress)
    stats = []
    while len(stats) < len(tasks) and any(p.is_alive() for p in procs) or not queue.empty():
        try:
            stats.append(queue.get(timeout=1.0))
            bar.update()
        except Exception:  # queue.Empty: poll the processes again
            continue
    bar.close()
    for p in procs:
        p.join()
    if len(stats) < len(tasks):
        raise RuntimeError(f"a device process died ({len(stats)}/{len(tasks)} shards done); "
                           "rerun the same build to resume")
    return stats


def _device_loop(tasks: list[dict], tokenizer_path: str, device: str, n_synth: int,
                 queue) -> list[dict]:
    """Encode `tasks` on `device` while a pool of CPU workers synthesizes the next shards."""
    tok = load_tokenizer(tokenizer_path, device=device)
    stats = []
    with W.pool(max(1, n_synth), None) as pool:
        for task, wavs16 in pool.imap(_synth_shard, tasks):
            wavs = [W.from_int16(w) for w in wavs16]
            rows = _shard_rows(task["stories"], task["langs"])
            s = write_shard(Path(task["out"]), task["index"], rows, wavs16,
                            W.encode_wavs(tok, wavs), task["keep"])
            stats.append(s)
            if queue is not None:
                queue.put(s)
    return stats


# ---------------------------------------------------------------------------------------------
def prepare_dir(cfg: CorpusConfig) -> Path:
    """Create the corpus dir, or check that an existing one was started with the same settings."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    f = out / BUILD_CONFIG_FILE
    key = cfg.content_key()
    old = read_build_config(out)
    if old is not None:
        diff = sorted(k for k in key if old.get(k) != key[k])
        if diff:
            raise CorpusError(f"{out} was started with other settings ({', '.join(diff)}: "
                              f"{[old.get(k) for k in diff]} vs {[key[k] for k in diff]}); "
                              "give a new --out or the same settings to resume")
    else:
        write_json_atomic(f, key)
    (out / "shards").mkdir(exist_ok=True)
    remove_stale_tmp(out / "shards", ".tmp-shard-")
    return out


def read_build_config(out: Path) -> dict | None:
    """build_config.json, or None when absent. A damaged one (a torn write by an older slmlab)
    counts as absent while no shard exists: nothing was built with it."""
    f = out / BUILD_CONFIG_FILE
    if not f.exists():
        return None
    try:
        return json.loads(f.read_text())
    except ValueError:
        if not shard_dirs(out):
            return None
        raise CorpusError(f"{f} is damaged but shards exist; restore it or build into a new "
                          "--out") from None


def check_tokenizer_checksum(out: Path, checksum: str) -> None:
    """The corpus is keyed on its tokenizer's checksum, not its path: files replaced at the same
    path between runs would otherwise mix two tokenizers in one corpus."""
    key = read_build_config(out) or {}
    old = key.get("tokenizer_checksum")
    if old is None:
        write_json_atomic(out / BUILD_CONFIG_FILE, {**key, "tokenizer_checksum": checksum})
    elif old != checksum:
        raise CorpusError(f"{out} was started with tokenizer checksum {old}, but the tokenizer "
                          f"now has {checksum} (its files changed); restore that tokenizer or "
                          "build into a new --out")


def build_corpus(cfg: CorpusConfig) -> Path:
    """Build (or resume) the corpus described by `cfg`; returns its directory.

    Steps: stories -> tokenizer (trained on corpus audio if built-in and absent) -> shards
    (finished ones skipped) -> eval set -> meta.json (written last). One build per directory
    at a time (`<out>/.lock`; a second one fails at once)."""
    with RunLock(Path(cfg.out)):
        return _build_corpus(cfg)


def grow_from(small: Path, cfg: CorpusConfig, out: Path, checksum: str) -> int:
    """Put a smaller finished corpus's shards into `out` where this larger build would make
    them; the number placed. Story i of a split is the same whatever the corpus size, and a
    shard is a fixed run of `shard_size` stories synthesized in a fresh process, so train shard
    k is shard k of both, and held-out shard j of the small corpus is shard n_train/shard_size
    + j here. Needs both sizes to be whole shards and every content setting but n_stories equal."""
    if not (small / META_FILE).exists():
        raise CorpusError(f"grow_from: {small} is not a finished corpus (no {META_FILE})")
    old = read_build_config(small) or {}
    key = {**cfg.content_key(), "tokenizer_checksum": checksum}
    diff = sorted(k for k in key if k != "n_stories" and old.get(k) != key[k])
    n_small, size = int(old.get("n_stories", 0)), cfg.shard_size
    if diff or n_small > cfg.n_stories or n_small % size or cfg.n_stories % size:
        raise CorpusError(f"grow_from: {small} cannot seed this build ({', '.join(diff) or 'sizes'}"
                          f" differ or are not whole shards of {size}); build without it")
    placed = 0
    for d in shard_dirs(small):
        k, stats = int(d.name.split("-")[1]), json.loads((d / "shard.json").read_text())
        new = k if k < n_small // size else k - n_small // size + cfg.n_stories // size
        target = out / "shards" / SHARD_FMT.format(new)
        if target.exists() or stats.get("stories") != size:  # a last, partial held-out shard
            continue  # holds fewer stories than the larger corpus's shard there: built anew
        tmp = out / "shards" / f".tmp-{SHARD_FMT.format(new)}-{os.getpid()}"
        shutil.copytree(d, tmp, copy_function=_link_or_copy)
        (tmp / "shard.json").unlink()  # a fresh file, not the linked one
        (tmp / "shard.json").write_text(json.dumps({**stats, "index": new}))
        os.rename(tmp, target)
        placed += 1
    if (small / "samples").is_dir() and not (out / "samples").exists():  # shard 0's, reused
        shutil.copytree(small / "samples", out / "samples")
    return placed


def _link_or_copy(src: str, dst: str) -> None:
    """A hard link (no second copy of the data), or a copy across file systems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _build_corpus(cfg: CorpusConfig) -> Path:
    t0 = time.time()
    out = prepare_dir(cfg)
    stories = make_stories(cfg)
    tok_path, tok = ensure_tokenizer(cfg, out, stories, progress=cfg.progress)
    checksum = tok.checksum()  # hashes every weight: once
    check_tokenizer_checksum(out, checksum)
    t_tok = time.time() - t0
    if cfg.grow_from:
        grow_from(Path(cfg.grow_from), cfg, out, checksum)
    tasks = shard_tasks(cfg, out, stories)
    todo = pending(tasks, out)
    devices, device = encode_devices(cfg, tok), worker_device(cfg, tok)
    if devices:
        run_device_shards(todo, tok_path, cfg, devices)
    else:
        run_cpu_shards(todo, tok_path, cfg, device)
    t_shards = time.time() - t0 - t_tok
    eval_counts = None
    if cfg.eval_items:
        # the eval set's workers encode on the CPU: its tasks are 40 sentences, and a fresh
        # worker per task would start CUDA for each (measured on the H200 machine: 300 s for
        # 45k sentences; the pilot's CPU-encoded eval set took 22 s for 26k)
        eval_counts = build_eval(out / "eval", tok_path, cfg, devices,
                                 tokenizer=tokenizer_info(tok, tok_path))
    write_meta(out, cfg, tok, tok_path, len(tasks), eval_counts,
               timing={"tokenizer_s": round(t_tok, 2), "shards_s": round(t_shards, 2),
                       "total_s": round(time.time() - t0, 2), "shards_built": len(todo),
                       "encode_device": ",".join(devices) or device})
    return out


def shard_dirs(out: Path) -> list[Path]:
    return sorted(p for p in (Path(out) / "shards").glob("shard-*") if p.is_dir())


def _concat(paths: Iterable[Path]):
    import datasets

    parts = [datasets.load_from_disk(str(p)) for p in paths]
    if not parts:
        return datasets.Dataset.from_dict({k: [] for k in features()}, features=features())
    return datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]


def write_meta(out: Path, cfg, tok, tok_path: str, n_shards: int, eval_counts: dict | None,
               timing: dict) -> dict:
    """Count the shards and write meta.json (the marker of a finished corpus)."""
    dirs = shard_dirs(out)
    if len(dirs) != n_shards:
        raise CorpusError(f"{out}: {len(dirs)} of {n_shards} shards exist; rerun the build")
    stats = [json.loads((d / "shard.json").read_text()) for d in dirs]
    ds = _concat(dirs)
    counts = _counts(ds)
    seconds = sum(s["audio_seconds"] for s in stats)
    frames = sum(s["frames"] for s in stats)
    meta = {
        "tokenizer": tokenizer_info(tok, tok_path),
        "config": C.to_dict(cfg) if not isinstance(cfg, dict) else cfg,
        "counts": {**counts, "shards": len(dirs), "units": frames},
        "hours": round(seconds / 3600, 4),
        "hours_by_split": {k: round(v / 3600, 4) for k, v in _seconds_by_split(ds, tok).items()},
        "eval": eval_counts,
        "build": {**timing, "units_per_s": round(frames / max(timing.get("total_s", 0), 1e-9), 1),
                  "created": time.strftime("%Y-%m-%dT%H:%M:%S")},
    }
    write_json_atomic(out / META_FILE, meta)  # fsynced: a corpus is done only when it is
    return meta


def tokenizer_info(tok, path: str) -> dict:
    p = Path(path)
    return {"kind": getattr(tok, "kind", type(tok).__name__), "name": tok.name,
            "frame_rate": float(tok.frame_rate), "vocab_size": int(tok.vocab_size),
            "checksum": tok.checksum(), "path": str(p.resolve()) if p.exists() else str(path)}


def _counts(ds) -> dict:
    splits, langs = ds["split"], ds["lang"]
    stories = {}
    for sid, sp in zip(ds["story_id"], splits):
        stories.setdefault(sp, set()).add(sid)
    return {"rows": len(ds), "rows_by_split": _tally(splits), "rows_by_lang": _tally(langs),
            "stories_by_split": {k: len(v) for k, v in sorted(stories.items())}}


def _tally(values) -> dict:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def _seconds_by_split(ds, tok) -> dict:
    # units are ceil(T / hop): frames / frame_rate is the audio length to within one frame
    out: dict[str, float] = {}
    for sp, n in zip(ds["split"], (len(u) for u in ds["units"])):
        out[sp] = out.get(sp, 0.0) + n / float(tok.frame_rate)
    return out


def load_corpus(directory: str | Path):
    """(datasets.Dataset of all shards, meta dict) of a finished corpus."""
    out = Path(directory)
    if not out.is_dir():
        raise CorpusError(f"no corpus at {out}; build one with `slmlab corpus build --out {out}`")
    if not (out / META_FILE).exists():
        done = len(shard_dirs(out))
        raise CorpusError(f"{out} is an unfinished corpus ({done} shards, no {META_FILE}); "
                          f"run the same `slmlab corpus build --out {out}` again to finish it")
    meta = json.loads((out / META_FILE).read_text())
    dirs = shard_dirs(out)
    expected = meta.get("counts", {}).get("shards")
    if expected is not None and len(dirs) != expected:
        raise CorpusError(f"{out} should hold {expected} shards but has {len(dirs)}; rebuild it")
    return _concat(dirs), meta
