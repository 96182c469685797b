"""The corpus's eval set: benchmark items spoken by held-out voices, as units.

`<corpus>/eval/`:
- `cloze.jsonl`: `{kind: story|topic, item_id, condition, pair_id, fact, context: [int],
  right: [int], wrong: [int]}`, one row per item and condition (`CONDITIONS`: context language - ending
  language); the context is the concatenated units of its sentences;
- `pairs.jsonl`: `{kind: lexical|syntactic, item_id, lang, good: [int], bad: [int]}`;
- `aligned.jsonl`: `{pair_id, en_text, fr_text, en: [int], fr: [int]}`, held-out aligned
  sentence pairs for probing;
- `eval.json`: the settings, the tokenizer (checksum, vocab) and counts (written last: marks
  the eval set done).

A rebuild (other settings or tokenizer) writes the new set beside the old one and swaps it in, so
a kill at any moment leaves the corpus with a complete eval set. `check_eval_set` is where a
checkpoint meets an eval set: another tokenizer, unit ids past the model's vocabulary, a
malformed line (file and line named) end there with one clear message.

Each cloze pair (`pair_id`: the two counterbalanced items) and minimal pair gets one voice
per language (hashed from its id, among the held-out "test" voices), so the right and wrong
endings differ only in content and an ending sounds the same in both items of its pair. Every distinct (text, voice) is
synthesized and tokenized once per build (contexts repeat across conditions).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from slmlab.corpus import worker as W
from slmlab.files import iter_jsonl, remove_stale_tmp, write_jsonl
from slmlab.speech import voice_for_story
from slmlab.tokenizers import load_tokenizer
from slmlab.world import CONDITIONS, generate_stories, make_benchmark

EVAL_FILE = "eval.json"
CHUNK = 40  # sentences per worker task


def _voice(key: str, lang: str) -> str:
    return voice_for_story(key, lang, "test").name


def plan_eval(cfg) -> tuple[dict, list[tuple[str, str]]]:
    """(rows per file with sentences as (text, voice) keys, the distinct keys to synthesize)."""
    bench = make_benchmark(cfg.eval_items, seed=cfg.seed)
    langs = set(cfg.langs)
    cloze, pairs = [], []
    for kind, items in (("story", bench.story_cloze), ("topic", bench.topic_cloze)):
        for item in items:
            for cond in CONDITIONS:
                cl, el = cond.split("-")
                if not {cl, el} <= langs:
                    continue
                # one voice per counterbalanced pair: ending a sounds the same in both items
                who = item.pair_id or item.item_id
                vc, ve = _voice(who, cl), _voice(who, el)
                cloze.append({"kind": kind, "item_id": item.item_id, "condition": cond,
                              "pair_id": item.pair_id, "fact": item.fact,
                              "context": [(s, vc) for s in item.context[cl]],
                              "right": [(item.right[el], ve)], "wrong": [(item.wrong[el], ve)]})
    for kind, items in (("lexical", bench.lexical), ("syntactic", bench.syntactic)):
        for p in items:
            if p.lang in langs:
                v = _voice(p.item_id, p.lang)
                pairs.append({"kind": kind, "item_id": p.item_id, "lang": p.lang,
                              "good": [(p.good, v)], "bad": [(p.bad, v)]})
    aligned = plan_aligned(cfg) if {"en", "fr"} <= langs else []
    files = {"cloze": cloze, "pairs": pairs, "aligned": aligned}
    keys = list(dict.fromkeys(k for rows in files.values() for r in rows for v in r.values()
                              if isinstance(v, list) for k in v))
    return files, keys


def plan_aligned(cfg) -> list[dict]:
    """`aligned_pairs` distinct EN/FR sentence pairs from held-out stories."""
    if not cfg.aligned_pairs:
        return []
    # ~2 new pairs per story: ask for enough stories, distinct from the corpus's held-out ones
    stories = generate_stories(cfg.aligned_pairs, seed=cfg.seed + 7919, split="heldout")
    rows, seen = [], set()
    for depth in range(2):  # first sentences of every story, then second ones, ...
        for st in stories:
            for i in range(depth * 3, min(len(st.sentences["en"]), depth * 3 + 3)):
                en, fr = st.sentences["en"][i], st.sentences["fr"][i]
                if en in seen:
                    continue
                seen.add(en)
                pid = f"{st.story_id}-{i}"
                rows.append({"pair_id": pid, "en_text": en, "fr_text": fr,
                             "en": [(en, _voice(pid, "en"))], "fr": [(fr, _voice(pid, "fr"))]})
                if len(rows) >= cfg.aligned_pairs:
                    return rows
    return rows


def _synth_encode(keys: list[tuple[str, str]]) -> list[np.ndarray]:
    """Worker: units for each (text, voice name) with this process's tokenizer."""
    rows = [{"text": t, "voice": v} for t, v in keys]
    return W.encode_wavs(W.worker_tokenizer(), W.synthesize_rows(rows))


def _synth_only(keys: list[tuple[str, str]]) -> list[np.ndarray]:
    wavs = W.synthesize_rows([{"text": t, "voice": v} for t, v in keys])
    return [W.to_int16(w) for w in wavs]


def tokenize_keys(keys: list[tuple[str, str]], tok_path: str, cfg, devices: list[str]) -> dict:
    """{(text, voice): units int16 [F]} over the worker processes (or workers + one GPU)."""
    chunks = [keys[i:i + CHUNK] for i in range(0, len(keys), CHUNK)]
    bar = W.progress(len(chunks), "eval sentences", cfg.progress, unit="chunk")
    units: list[np.ndarray] = []
    n = min(W.n_workers(cfg.workers), max(1, len(chunks)))
    if devices:
        tok = load_tokenizer(tok_path, device=devices[0])
        with W.pool(n, None) as pool:
            for part in pool.imap(_synth_only, chunks):
                units += W.encode_wavs(tok, [W.from_int16(w) for w in part])
                bar.update()
    elif n == 1:  # in-process (no torch thread change here: this is the caller's process)
        W.use_in_process(tok_path)
        for c in chunks:
            units += _synth_encode(c)
            bar.update()
    else:
        with W.pool(n, tok_path) as pool:
            for part in pool.imap(_synth_encode, chunks):
                units += part
                bar.update()
    bar.close()
    return dict(zip(keys, units))


def _resolve(rows: list[dict], table: dict) -> list[dict]:
    """Replace each list of (text, voice) keys by the concatenation of their units."""
    out = []
    for r in rows:
        out.append({k: ([int(u) for key in v for u in table[key]] if isinstance(v, list) else v)
                    for k, v in r.items()})
    return out


def eval_key(cfg, tokenizer: dict | None = None) -> dict:
    key = {"eval_items": cfg.eval_items, "aligned_pairs": cfg.aligned_pairs, "seed": cfg.seed,
           "langs": list(cfg.langs)}
    if tokenizer:
        key["tokenizer_checksum"] = tokenizer.get("checksum")
    return key


def _recover_swap(eval_dir: Path) -> None:
    """A kill between the two renames of a swap leaves `.old-eval-*` and no eval/: put it back."""
    if eval_dir.exists():
        for old in eval_dir.parent.glob(f".old-{eval_dir.name}-*"):
            shutil.rmtree(old, ignore_errors=True)
        return
    olds = sorted(eval_dir.parent.glob(f".old-{eval_dir.name}-*"))
    if olds and (olds[-1] / EVAL_FILE).exists():
        os.rename(olds[-1], eval_dir)


def build_eval(eval_dir: Path, tok_path: str, cfg, devices: list[str] | None = None,
               tokenizer: dict | None = None) -> dict:
    """Write the eval set (skipped when a finished one with the same settings exists).

    tokenizer: `corpus.tokenizer_info` of the tokenizer, recorded in eval.json and part of the
    key (a corpus whose tokenizer changed gets a new eval set)."""
    eval_dir = Path(eval_dir)
    _recover_swap(eval_dir)
    remove_stale_tmp(eval_dir.parent, f".tmp-{eval_dir.name}-")
    done = eval_dir / EVAL_FILE
    if done.exists():
        try:
            info = json.loads(done.read_text())
        except ValueError:
            info = {}
        if info.get("key") == eval_key(cfg, tokenizer):
            return info["counts"]
    files, keys = plan_eval(cfg)
    table = tokenize_keys(keys, tok_path, cfg, devices or [])
    tmp = eval_dir.parent / f".tmp-{eval_dir.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    counts = {}
    for name, rows in files.items():
        resolved = _resolve(rows, table)
        counts[name] = len(resolved)
        write_jsonl(resolved, tmp / f"{name}.jsonl", compact=True)
    counts["sentences"] = len(keys)
    counts["units"] = int(sum(len(u) for u in table.values()))
    (tmp / EVAL_FILE).write_text(json.dumps({"key": eval_key(cfg, tokenizer), "counts": counts,
                                             "tokenizer": tokenizer}, indent=1))
    _swap_in(tmp, eval_dir)
    return counts


def _swap_in(new: Path, eval_dir: Path) -> None:
    """Replace eval_dir by the finished `new` (the old set stays until the new one is in)."""
    old = eval_dir.parent / f".old-{eval_dir.name}-{os.getpid()}"
    if eval_dir.exists():
        os.rename(eval_dir, old)
    os.rename(new, eval_dir)
    shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------ where a checkpoint meets it

UNIT_FIELDS = {"cloze.jsonl": ("context", "right", "wrong"), "pairs.jsonl": ("good", "bad"),
               "aligned.jsonl": ("en", "fr")}
REQUIRED = {"cloze.jsonl": ("kind", "item_id", "condition"), "pairs.jsonl": ("kind", "lang"),
            "aligned.jsonl": ()}


class EvalSetError(ValueError):
    """An eval set that does not fit the checkpoint, or a malformed one; says what to do."""


def eval_dir_of(path) -> Path:
    """The eval dir itself, given it or the corpus dir that holds it as eval/."""
    d = Path(path)
    if (d / "eval").is_dir() and not (d / "cloze.jsonl").exists():
        return d / "eval"
    return d


def check_eval_set(eval_set, info: dict, n_units: int) -> None:
    """Refuse an eval set the checkpoint cannot be scored on, with one line naming why.

    eval_set: an eval dir, a corpus dir (its eval/), or an in-memory `EvalSet`; info: the
    checkpoint's slmlab.json; n_units: the model's unit ids are 0..n_units-1."""
    if not isinstance(eval_set, (str, Path)):
        for name, rows in (("cloze.jsonl", eval_set.cloze), ("pairs.jsonl", eval_set.pairs),
                           ("aligned.jsonl", eval_set.aligned)):
            for i, row in enumerate(rows, 1):
                _check_row(row, name, f"the eval set's {name} row {i}", n_units)
        return
    read_checked(eval_set, info, n_units)


def read_checked(eval_dir, info: dict, n_units: int) -> dict[str, list[dict]]:
    """The rows of each eval file (a missing file gives []), read once and checked on the way:
    the tokenizer against the checkpoint's, then every row (file and line named on error).

    eval_dir: an eval dir or a corpus dir (its eval/); info and n_units as in check_eval_set."""
    d = eval_dir_of(eval_dir)
    _check_tokenizer(d, info)
    hint = "rebuild the eval set (rerun the corpus build) or fix that line"
    files = {}
    for name in UNIT_FIELDS:
        path = d / name
        files[name] = []
        if not path.exists():
            continue
        for i, row in iter_jsonl(path, EvalSetError, hint):
            _check_row(row, name, f"{path} line {i}", n_units)
            files[name].append(row)
    return files


def _check_tokenizer(d: Path, info: dict) -> None:
    try:
        recorded = (json.loads((d / EVAL_FILE).read_text()).get("tokenizer") or {})
    except (OSError, ValueError):
        return  # an eval set without eval.json (hand-made): the unit range check still runs
    mine = (info.get("tokenizer") or {}) if isinstance(info, dict) else {}
    a, b = recorded.get("checksum"), mine.get("checksum")
    if a and b and a != b:
        raise EvalSetError(f"{d} was made with tokenizer {recorded.get('name', '?')} (checksum "
                           f"{a}), the checkpoint with {mine.get('name', '?')} (checksum {b}); "
                           "scores would be meaningless: use the eval set of the checkpoint's "
                           "corpus")


def _check_row(row: Any, name: str, where: str, n_units: int) -> None:
    if not isinstance(row, dict):
        raise EvalSetError(f"{where} is not a JSON object")
    missing = [k for k in REQUIRED[name] + UNIT_FIELDS[name] if k not in row]
    if missing:
        raise EvalSetError(f"{where} lacks {', '.join(missing)}")
    for k in UNIT_FIELDS[name]:
        units = row[k]
        if not isinstance(units, list) or not all(isinstance(u, int) for u in units):
            raise EvalSetError(f"{where}: {k} must be a list of unit ids")
        bad = [u for u in units if not 0 <= u < n_units]
        if bad:
            raise EvalSetError(f"{where}: unit id {bad[0]} in {k} is outside the model's "
                               f"0..{n_units - 1}; the eval set was made with another tokenizer: "
                               "use the eval set of the checkpoint's corpus")
