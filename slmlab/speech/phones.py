"""How phonetic are the units? Frame-level phone labels from espeak-ng, and unit/phone metrics.

Evaluation only. espeak-ng reports each phone's start time while it synthesises
(`synthesize(..., with_phones=True)`); every unit frame gets the phone at its centre. Then:
- `pnmi(units, phones)`: phone-normalised mutual information I(U; P) / H(P) (HuBERT paper).
  With many units and few frames the plug-in estimate is biased upwards: compare with
  `pnmi(units, shuffled phones)` (what chance gives) on the same frames.
- `phone_purity(units, phones)`: share of frames whose phone is their unit's majority phone.
  Biased upwards in the same way; `unit_phone_accuracy` learns the unit -> phone map on one set
  of frames and scores it on another (held-out voices and sentences), which is not.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from slmlab.speech.tts import Voice, phone_labels, synthesize


def labelled_utterance(text: str, voice: Voice, hop: int) -> tuple[np.ndarray, list[str]]:
    """Synthesise text -> (wav float32 [T], phone label per unit frame [ceil(T / hop)]),
    labels prefixed by language ('en:a', 'fr:a') since espeak's phone names overlap."""
    wav, phones = synthesize(text, voice, with_phones=True)
    labels = phone_labels(phones, -(-len(wav) // hop), hop)
    return wav, [lab if lab == "_" else f"{voice.lang}:{lab}" for lab in labels]


def _joint(units, phones) -> tuple[np.ndarray, list]:
    pid = {p: i for i, p in enumerate(sorted(set(phones)))}
    u = np.asarray(units, np.int64)
    _, uidx = np.unique(u, return_inverse=True)
    counts = np.zeros((uidx.max() + 1, len(pid)))
    np.add.at(counts, (uidx, [pid[p] for p in phones]), 1)
    return counts, list(pid)


def pnmi(units, phones) -> float:
    """I(U; P) / H(P) from frame counts; units [N] ints, phones [N] labels."""
    if len(units) != len(phones) or not len(units):
        raise ValueError(f"need as many units as phones (>0); got {len(units)} and {len(phones)}")
    joint, _ = _joint(units, phones)
    p = joint / joint.sum()
    pu, pp = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / (pu @ pp)[nz])).sum())
    hp = float(-(pp[pp > 0] * np.log(pp[pp > 0])).sum())
    return mi / hp if hp > 0 else 0.0


def phone_purity(units, phones) -> float:
    """Share of frames labelled with their unit's most frequent phone."""
    joint, _ = _joint(units, phones)
    return float(joint.max(1).sum() / joint.sum())


def unit_phone_accuracy(train_units, train_phones, test_units, test_phones) -> float:
    """Map each unit to its majority phone on the train frames; accuracy on the test frames
    (units unseen in training predict the overall most frequent phone)."""
    by_unit: dict[int, Counter] = defaultdict(Counter)
    for u, p in zip(train_units, train_phones):
        by_unit[int(u)][p] += 1
    fallback = Counter(train_phones).most_common(1)[0][0]
    best = {u: c.most_common(1)[0][0] for u, c in by_unit.items()}
    hits = sum(best.get(int(u), fallback) == p for u, p in zip(test_units, test_phones))
    return hits / max(1, len(test_phones))


def shuffled(phones, seed: int = 0) -> list:
    """The same labels in a random order: the chance level for pnmi / purity."""
    rng = np.random.default_rng(seed)
    return [phones[i] for i in rng.permutation(len(phones))]


def dedup(units) -> list[int]:
    """Run-length deduplicate a unit sequence: [5, 5, 7, 7, 7, 5] -> [5, 7, 5]."""
    out: list[int] = []
    for u in units:
        u = int(u)
        if not out or out[-1] != u:
            out.append(u)
    return out


def edit_distance(a, b) -> int:
    """Levenshtein distance between two sequences (insert, delete, substitute: cost 1)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def unit_edit_distance(a, b) -> float:
    """Levenshtein distance of the run-length deduplicated unit sequences / the longer length:
    0 = the same units in the same order, ~1 = unrelated."""
    da, db = dedup(a), dedup(b)
    return edit_distance(da, db) / max(1, len(da), len(db))
