"""Corpus builder: schema, meta.json, eval files, resume after a crash, CLI, user audio."""

from __future__ import annotations

import json
import shutil

import pytest

from slmlab import corpus as K
from slmlab.cli import main
from slmlab.config import ConfigError
from slmlab.corpus import build_corpus_from_audio
from slmlab.evaluate import load_eval
from slmlab.world import CONDITIONS

# the built-in k-means tokenizer, named (not the default): these tests train it on corpus audio
SMALL = dict(n_stories=4, heldout_fraction=0.25, shard_size=2, workers=1, n_units=32,
             tokenizer="builtin", tokenizer_sentences=16, keep_audio_sample=2, progress=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "c"
    cfg = K.CorpusConfig(out=str(out), eval_items=3, aligned_pairs=4, **SMALL)
    K.build_corpus(cfg)
    return out


def test_schema_and_meta(built):
    ds, meta = K.load_corpus(built)
    assert set(ds.column_names) == {"story_id", "sentence_idx", "lang", "voice", "text",
                                    "units", "split"}
    assert ds.features["units"].feature.dtype == "int16"
    assert set(ds["split"]) == {"train", "heldout"} and set(ds["lang"]) == {"en", "fr"}
    assert meta["counts"]["stories_by_split"] == {"heldout": 1, "train": 4}
    assert meta["counts"]["shards"] == 3 and meta["counts"]["rows"] == len(ds)
    t = meta["tokenizer"]
    assert t["kind"] == "builtin" and t["vocab_size"] == 32 and t["frame_rate"] == 12.5
    assert t["path"].endswith("tokenizer") and len(t["checksum"]) >= 8
    assert meta["hours"] > 0 and meta["config"]["n_stories"] == 4
    for row in ds:
        assert 0 < len(row["units"]) and max(row["units"]) < 32 and row["text"]
    # each story: the same number of sentences in both languages, EN then FR per sentence
    first = ds.filter(lambda r: r["story_id"] == ds[0]["story_id"])
    assert first["lang"][:2] == ["en", "fr"] and first["sentence_idx"][:2] == [0, 0]
    # held-out stories are spoken by held-out voices only
    from slmlab.speech import voices
    test_voices = {v.name for lang in ("en", "fr") for v in voices(lang, "test")}
    assert set(ds.filter(lambda r: r["split"] == "heldout")["voice"]) <= test_voices
    assert not set(ds.filter(lambda r: r["split"] == "train")["voice"]) & test_voices
    assert len(list((built / "samples").glob("*.wav"))) == 2


def test_eval_files(built):
    ev = load_eval(built)  # the corpus dir: its eval/ is found
    assert (built / "eval" / "eval.json").exists()  # written last: the set is finished
    assert {r["condition"] for r in ev.cloze} == set(CONDITIONS)
    assert {r["kind"] for r in ev.cloze} == {"story", "topic"}
    by_item = {}
    for r in ev.cloze:
        by_item.setdefault(r["item_id"], []).append(r["condition"])
        assert len(r["context"]) > len(r["right"]) > 0 and len(r["wrong"]) > 0
        assert max(r["context"] + r["right"] + r["wrong"]) < 32
    assert all(sorted(c) == sorted(CONDITIONS) for c in by_item.values())
    assert {r["kind"] for r in ev.pairs} == {"lexical", "syntactic"}
    assert all(r["good"] and r["bad"] and r["lang"] in ("en", "fr") for r in ev.pairs)
    assert len(ev.aligned) == 4
    assert all(r["en"] and r["fr"] and r["en_text"] != r["fr_text"] for r in ev.aligned)
    # a context spoken twice (two conditions share it) gives the same units: cached per build
    same = [r for r in ev.cloze if r["item_id"] == ev.cloze[0]["item_id"]]
    ctx = {r["condition"][:2]: r["context"] for r in same}
    assert all(r["context"] == ctx[r["condition"][:2]] for r in same)


def test_resume_after_crash_gives_the_same_rows(built, tmp_path):
    common = dict(SMALL, tokenizer=str(built / "tokenizer"), eval_items=0)
    ref = K.build_corpus(K.CorpusConfig(out=str(tmp_path / "ref"), **dict(common, workers=2)))
    out = K.build_corpus(K.CorpusConfig(out=str(tmp_path / "resumed"), **common))
    # a crash after shard 0: later shards and meta.json missing, a half-written tmp shard left
    for name in ("shard-00001", "shard-00002"):
        shutil.rmtree(out / "shards" / name)
    (out / "meta.json").unlink()
    (out / "shards" / ".tmp-shard-00001-999").mkdir()
    with pytest.raises(K.CorpusError, match="unfinished"):
        K.load_corpus(out)
    done = out / "shards" / "shard-00000"
    mtime = done.stat().st_mtime_ns
    K.build_corpus(K.CorpusConfig(out=str(out), **common))
    assert done.stat().st_mtime_ns == mtime  # shard 0 not redone
    a, _ = K.load_corpus(ref)
    b, meta = K.load_corpus(out)
    assert meta["build"]["shards_built"] == 2
    # 2 workers vs 1, uninterrupted vs resumed: the same rows, units included (each shard is
    # synthesized from a fresh espeak-ng engine with a fixed seed)
    assert a.to_list() == b.to_list()
    # other settings on the same directory: refused, not mixed
    with pytest.raises(K.CorpusError, match="other settings"):
        K.build_corpus(K.CorpusConfig(out=str(out), **dict(common, seed=1)))


def test_config_validation():
    with pytest.raises(ConfigError, match="n_stories"):
        K.CorpusConfig(n_stories=0)
    with pytest.raises(ConfigError, match="langs"):
        K.CorpusConfig(langs=("en", "de"))
    with pytest.raises(ConfigError, match="heldout_fraction"):
        K.CorpusConfig(heldout_fraction=0.9)
    with pytest.raises(K.CorpusError, match="no corpus"):
        K.load_corpus("/nonexistent/corpus")


def test_cli(built, tmp_path, capsys):
    wav = sorted((built / "samples").glob("*.wav"))[0]
    tok = str(built / "tokenizer")
    assert main(["tokenize", str(wav), "--tokenizer", tok]) == 0
    units = capsys.readouterr().out.split()
    assert len(units) > 5 and all(0 <= int(u) < 32 for u in units)
    assert main(["resynth", str(wav), "-o", str(tmp_path / "rs.wav"), "--tokenizer", tok]) == 0
    import soundfile as sf
    audio, sr = sf.read(tmp_path / "rs.wav")
    assert sr == 24000 and len(audio) == len(units) * 1920
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    assert main(["tokenize", str(bad), "--tokenizer", tok]) == 2
    assert "bad.wav" in capsys.readouterr().err
    out = tmp_path / "cli-corpus"
    assert main(["corpus", "build", "--out", str(out), "--stories", "2", "--tokenizer", tok,
                 "--workers", "1", "--eval-items", "0", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "rows" in text and "units/s" in text and str(out) in text
    assert main(["tokenizer", "train", "--corpus-audio", str(built / "samples"), "--units", "8",
                 "--out", str(tmp_path / "tok")]) == 0
    assert json.loads((tmp_path / "tok" / "tokenizer.json").read_text())["vocab_size"] == 8


def test_corpus_from_audio(built, tmp_path):
    wavs = sorted((built / "samples").glob("*.wav"))
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(
        {"story_id": "u1", "sentence_idx": i, "lang": "en" if i % 2 == 0 else "fr",
         "path": str(w), "text": f"sentence {i}"}) for i, w in enumerate(wavs)))
    out = build_corpus_from_audio(manifest, str(built / "tokenizer"), tmp_path / "u",
                                    progress=False)
    ds, meta = K.load_corpus(out)
    ref, _ = K.load_corpus(built)
    assert ds["units"][0] == ref["units"][0]  # same audio, same tokenizer, same units
    assert meta["tokenizer"]["checksum"] == K.load_corpus(built)[1]["tokenizer"]["checksum"]
    manifest.write_text(json.dumps({"story_id": "x", "sentence_idx": 0, "lang": "en",
                                    "path": "missing.wav", "text": "t"}))
    with pytest.raises(ValueError, match="line 1"):
        build_corpus_from_audio(manifest, str(built / "tokenizer"), tmp_path / "v",
                                  progress=False)


def test_neural_units_are_encoded_where_the_build_can(monkeypatch):
    # a visible GPU: the neural encoder runs there inside each worker, Mimi in one process per
    # GPU, the built-in k-means on the CPU; device 'cpu' keeps everything on the CPU
    import torch
    from types import SimpleNamespace

    from slmlab.corpus.build import encode_devices, worker_device

    neural, mimi, builtin = (SimpleNamespace(kind=k) for k in ("neural", "mimi", "builtin"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    auto, cpu = K.CorpusConfig(device="auto"), K.CorpusConfig(device="cpu")
    assert [worker_device(auto, t) for t in (neural, mimi, builtin)] == ["cuda", "cpu", "cpu"]
    assert encode_devices(auto, mimi) == ["cuda:0", "cuda:1"] and encode_devices(auto, neural) == []
    assert worker_device(cpu, neural) == "cpu" and encode_devices(cpu, mimi) == []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert worker_device(auto, neural) == "cpu"
    with pytest.raises(ConfigError, match="no GPU"):
        worker_device(K.CorpusConfig(device="cuda"), neural)


def test_a_grown_corpus_equals_one_built_at_that_size(tmp_path):
    # --grow-from: the small corpus's shards are placed where the larger build makes them
    # (held-out ones renumbered) and only the rest is built; every row, units included, equals
    # a build of the larger size from scratch
    kw = dict(heldout_fraction=0.5, shard_size=1, workers=1, tokenizer="neural", eval_items=0,
              keep_audio_sample=1, progress=False)
    small = K.build_corpus(K.CorpusConfig(out=str(tmp_path / "small"), n_stories=2, **kw))
    grown = K.build_corpus(K.CorpusConfig(out=str(tmp_path / "grown"), n_stories=4,
                                          grow_from=str(small), **kw))
    fresh = K.build_corpus(K.CorpusConfig(out=str(tmp_path / "fresh"), n_stories=4, **kw))
    assert json.loads((grown / "meta.json").read_text())["build"]["shards_built"] == 3  # of 6
    (g, _), (f, _) = K.load_corpus(grown), K.load_corpus(fresh)
    assert g.to_list() == f.to_list() and len(g) > 0
    with pytest.raises(K.CorpusError, match="cannot seed"):  # other content settings
        K.build_corpus(K.CorpusConfig(out=str(tmp_path / "other"), n_stories=4, grow_from=str(small),
                                      **{**kw, "seed": 1}))
