"""The demo's engine (app/session.py, app/reference.py) without a server: finding a model and
its tokenizer, the reference set, the UMAP maps and their pickle-free cache, the bounded
speech cache, the cloze controls, and `slmlab app`'s arguments."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from app.reference import FittedMap, LayerMaps
from app.session import ByteLRU, DemoSession, ModelNotFoundError, find_tokenizer
from helpers import ROOT, free_port


def test_model_card_says_what_it_was_trained_on(demo_session):
    assert "stand-in: tiny model" in demo_session.card and "64 units" in demo_session.card


def test_missing_model_says_how_to_get_one(tmp_path):
    with pytest.raises(ModelNotFoundError, match="slmlab quickstart"):
        DemoSession(tmp_path / "nothing")
    r = subprocess.run([sys.executable, "-m", "slmlab", "app", "--model", str(tmp_path),
                        "--port", "0"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "slmlab quickstart" in r.stderr and "Traceback" not in r.stderr


def test_port_in_use_and_missing_app_dir_are_one_line_errors(tmp_path):
    import socket

    with socket.socket() as busy:
        port = free_port()
        busy.bind(("127.0.0.1", port))
        busy.listen()
        r = subprocess.run([sys.executable, "-m", "slmlab", "app", "--port", str(port)],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and f"127.0.0.1:{port}" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "slmlab", "app", "--port", "0"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--app-dir" in r.stderr and "Traceback" not in r.stderr


def test_cli_validates_arguments():
    from slmlab.cli import build_parser

    args = build_parser().parse_args(["app"])
    assert (args.host, args.port, args.share, args.model) == ("127.0.0.1", 7860, False, None)
    args = build_parser().parse_args(["app", "--share", "yes", "--port", "0"])
    assert args.share is True and args.port == 0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["app", "--share", "maybe"])


def test_reference_is_synthesised_from_world_and_cached(standin_ckpt, tmp_path):
    """A checkpoint without aligned.jsonl gets one from slmlab.world held-out stories."""
    ckpt = tmp_path / "ckpt"
    shutil.copytree(standin_ckpt, ckpt, ignore=shutil.ignore_patterns("reference"))
    s = DemoSession(ckpt, umap=False, cache=tmp_path / "cache", reference_pairs=6)
    assert "slmlab.world" in s.reference_source and len(s.reference) == 6
    rows = [json.loads(x) for x in (tmp_path / "cache" / "reference.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(r["en"] and r["fr"] and r["en_text"] != r["fr_text"] for r in rows)
    assert all(0 <= u < 64 for r in rows for u in r["en"] + r["fr"])
    again = DemoSession(ckpt, umap=False, cache=tmp_path / "cache", reference_pairs=6)
    assert "synthesised earlier" in again.reference_source
    assert [r["en"] for r in again.reference] == [r["en"] for r in rows]


def test_run_dir_with_latest_and_corpus_eval_set(standin_ckpt, demo_session, tmp_path):
    """A training-run layout: ckpt/latest -> step dir, tokenizer and eval set in the corpus that
    slmlab.json names (absolute tokenizer path, config.corpus), no files next to the weights."""
    corpus = tmp_path / "corpus"
    shutil.copytree(standin_ckpt / "tokenizer", corpus / "tokenizer")
    (corpus / "eval").mkdir()
    shutil.copy(standin_ckpt / "reference" / "aligned.jsonl", corpus / "eval" / "aligned.jsonl")
    step = tmp_path / "run" / "ckpt" / "step-000002"
    shutil.copytree(standin_ckpt, step, ignore=shutil.ignore_patterns("tokenizer", "reference"))
    (step.parent / "latest").write_text("step-000002\n")
    info = json.loads((step / "slmlab.json").read_text())
    info["tokenizer"]["path"] = str((corpus / "tokenizer").resolve())
    info["config"] = {"corpus": str(corpus), "preset": "tiny"}
    (step / "slmlab.json").write_text(json.dumps(info))
    s = DemoSession(step.parent, umap=False, cache=tmp_path / "cache")
    assert s.ckpt == step and s.reference_source == str(corpus / "eval" / "aligned.jsonl")
    assert s.tokenizer.vocab_size == 64 and len(s.reference) == len(demo_session.reference)


def test_relative_tokenizer_path_is_resolved_against_the_checkpoint(standin_ckpt, tmp_path,
                                                                    monkeypatch):
    ckpt = tmp_path / "deep" / "ckpt"
    shutil.copytree(standin_ckpt, ckpt, ignore=shutil.ignore_patterns("tokenizer"))
    shutil.copytree(standin_ckpt / "tokenizer", ckpt / "units")
    monkeypatch.chdir(tmp_path)  # a relative path must not be read from the working directory
    tok = find_tokenizer(ckpt, {"tokenizer": {"kind": "builtin", "path": "units"}})
    assert tok.vocab_size == 64
    with pytest.raises(ModelNotFoundError, match="no tokenizer"):
        find_tokenizer(ckpt, {"tokenizer": {"kind": "builtin", "path": "nowhere"}})


def test_speech_cache_is_bounded_by_bytes():
    cache = ByteLRU(1000)
    for i in range(10):
        cache.put(i, np.zeros(50, np.float32))  # 200 bytes each
    assert cache.bytes <= 1000 and len(cache) == 5 and cache.get(9) is not None
    assert cache.get(0) is None  # the oldest went first
    cache.get(5)
    cache.put("big", np.zeros(150, np.float32))  # 600 bytes: evicts the least recent, not 5
    assert cache.get(5) is not None and cache.get(6) is None and cache.bytes <= 1000
    cache.put("huge", np.zeros(1000, np.float32))  # larger than the whole cache: not kept
    assert cache.get("huge") is None


def test_typed_prompts_reuse_one_synthesis(demo_session):
    a = demo_session.prompt_from_text("The dog runs to the sea.", "en")
    b = demo_session.prompt_from_text("The dog runs to the sea.", "en")
    assert a is b and len(demo_session.speech_cache) >= 1
    with pytest.raises(ValueError, match="too long"):
        demo_session.prompt_from_text("a" * 601, "en")


def test_a_recording_is_trimmed_and_normalised_before_the_model_hears_it(demo_session):
    """Real voices: silence around a quiet recording with a little noise goes, the level is set."""
    from helpers import speech_like

    speech = 0.03 * speech_like(2.0, 24000)  # a quiet microphone
    rng = np.random.default_rng(0)
    wav = np.concatenate([np.zeros(24000), speech, np.zeros(36000)]).astype(np.float32)
    wav += 0.0005 * rng.standard_normal(len(wav)).astype(np.float32)
    prompt = demo_session.prompt_from_audio((24000, wav))
    assert 1.5 < len(prompt) / 24000 < 2.5  # the 2.5 s of silence around the speech are gone
    rms_db = 20 * np.log10(np.sqrt(np.mean(prompt.astype(np.float64) ** 2)))
    assert -26 < rms_db < -14 and np.abs(prompt).max() <= 0.95  # loudness-normalised, no clip
    c = demo_session.continue_speech(prompt, seconds=1.0, seed=0)
    assert len(c.heard) == len(c.prompt_units) * demo_session.tokenizer.hop  # what it heard


def test_cloze_controls_score_the_true_no_and_another_context(demo_session):
    it = demo_session.cloze_items()[0]
    res = demo_session.cloze_controls(it["context"], it["ending_a"], it["ending_b"],
                                      it["context_lang"], it["ending_lang"])
    a_units = demo_session.units_of(it["ending_a"], it["ending_lang"])
    assert res["none"].n_units["A"] == len(a_units)  # no context: BOS + ending only
    assert res["story"].n_units["A"] > res["none"].n_units["A"]
    other = demo_session.other_context(it["context"], it["context_lang"])
    assert other != it["context"] and res["other"].n_units["A"] == (
        len(demo_session.units_of(other, it["context_lang"])) + len(a_units))
    direct = demo_session.score_units(demo_session.units_of(it["context"], it["context_lang"]),
                                      {"A": a_units, "B": demo_session.units_of(
                                          it["ending_b"], it["ending_lang"])})
    assert res["story"].scores == pytest.approx(direct.scores)


def test_umap_maps_are_fitted_cached_as_arrays_and_reused(demo_session, tmp_path):
    """The UMAP path: fit in the background, cache coordinates as .npz (no pickle), load them
    on the next start, refit when the states change; prompts land near their neighbours."""
    en, fr = demo_session.maps.en[:2], demo_session.maps.fr[:2]  # layers 0 and 1
    texts = ([r["en_text"] for r in demo_session.reference],
             [r["fr_text"] for r in demo_session.reference])
    maps = LayerMaps(en, fr, texts, tmp_path, use_umap=True)
    maps.start([1, 0])
    maps.thread.join(240)
    assert maps.umap_error is None and set(maps.umap) == {0, 1}
    assert maps.get(1).method == "umap"
    f = maps.cache_file(1)
    with np.load(f, allow_pickle=False) as z:  # plain arrays: loads without pickle
        coords = z["coords"]
    assert coords.shape == (2 * en.shape[1], 2)
    again = LayerMaps(en, fr, texts, tmp_path, use_umap=True).load_or_fit(1)
    assert isinstance(again, FittedMap) and np.array_equal(again.coords, coords)
    ref = maps.states(1)
    span = np.ptp(coords, axis=0).max()
    assert np.abs(again.transform(ref) - coords).max() < 1e-3 * span  # each on its own point
    mid = again.transform((ref[0] + ref[1])[None] / 2)[0]  # between two: inside their box
    box = np.sort(coords[:2], axis=0)
    assert np.all(mid >= box[0] - 0.25 * span) and np.all(mid <= box[1] + 0.25 * span)
    changed = LayerMaps(en + 1.0, fr, texts, tmp_path, use_umap=True).load_or_fit(1)
    assert not np.array_equal(changed.coords, coords)  # other states: refitted, not reused
    assert not list(tmp_path.glob("*.joblib")) and not list(tmp_path.glob("*.pkl"))


def test_mimi_checkpoints_load_a_real_stand_in_mimi_named_in_slmlab_json(tmp_path):
    """slmlab.json naming a Mimi (transformers dir, absolute or relative to the checkpoint)
    loads that Mimi for real; 'mimi' without weights in the local cache says how to get them."""
    from test_mimi import _tiny_transformers_tok  # a 2-quantizer Mimi with random codebooks

    ckpt = tmp_path / "ckpt"
    _tiny_transformers_tok().save(ckpt / "codec")
    wav = np.random.default_rng(0).standard_normal(24000).astype(np.float32)
    for path in (str(ckpt / "codec"), "codec"):  # absolute; relative to the checkpoint
        tok = find_tokenizer(ckpt, {"tokenizer": {"kind": "mimi", "name": "mimi-transformers",
                                                  "path": path}})
        assert tok.name == "mimi-transformers" and tok.frame_rate == 12.5
        assert tok.encode_np(wav).shape == (13,)  # 1 s at 12.5 Hz, rounded up
    try:
        tok = find_tokenizer(tmp_path, {"tokenizer": {"kind": "mimi", "name": "mimi"}})
    except FileNotFoundError as e:  # the usual case offline: nothing cached
        assert "Hugging Face cache" in str(e)
    else:  # a machine with Mimi's weights cached loads them
        assert tok.name.startswith("mimi")
