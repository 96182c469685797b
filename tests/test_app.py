"""The live demo through gradio_client against a real launched server (127.0.0.1, free port).

Every action: continue from text, continue from uploaded audio (rates, channels, formats),
cloze (benchmark item and typed, with its context controls), projection per layer; bad audio
-> a clear message (never a traceback) and the server keeps serving. The model is the stand-in
of tests/standins.py (trained by slmlab.train); fixtures in conftest.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from helpers import ROOT, plot_json, speech_like, values, write_wav

AppError = pytest.importorskip("gradio_client.exceptions").AppError
LAYER = 2
OPTS = dict(seconds=2.0, temperature=0.8, top_k=50, seed=0)


pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cl(make_client):
    return make_client()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("app-test")


def _continue_text(cl, text="The little cat finds a red ball.", lang="en", seconds=2.0, seed=0):
    return cl.predict(text, lang, seconds, 0.8, 50, seed, api_name="/continue_text")


def _continue_audio(cl, path, seconds=2.0):
    from gradio_client import handle_file

    return cl.predict(handle_file(str(path)), seconds, 0.8, 50, 0, api_name="/continue_audio")


def _cont_ok(cont, status) -> bool:
    """A continuation came back, or the model predicted EOS at once and the status says so."""
    return (cont is None and "stopped early" in status) or len(_read(cont)[0]) > 0


def _read(path) -> tuple[np.ndarray, int]:
    wav, sr = sf.read(path)
    return wav, sr


def test_continue_from_text_plays_prompt_heard_prompt_and_continuation(cl, demo_session):
    prompt, cont, units, status, heard = _continue_text(cl, seconds=2.0)
    p, sr = _read(prompt)
    c, sr2 = _read(cont)
    h, sr3 = _read(heard)
    s = demo_session
    assert sr == sr2 == sr3 == 24000
    assert 0.5 < len(p) / sr < 5 and np.abs(p).max() > 0.1  # spoken, not silence
    n_new = round(2.0 * s.frame_rate)
    assert len(c) <= n_new * s.tokenizer.hop and len(c) % s.tokenizer.hop == 0 and len(c) > 0
    fig = plot_json(units)
    names = [t.get("name") for t in fig["data"]]
    assert "prompt" in names and "continuation" in names
    n_prompt = len(values(next(t for t in fig["data"] if t["name"] == "prompt")["y"]))
    assert f"{n_prompt} units" in status
    assert len(h) == n_prompt * s.tokenizer.hop and np.abs(h).max() > 0.01  # units, resynthesised
    _, neighbours = cl.predict(LAYER, api_name="/project")  # the prompt is now on the map
    assert "EN" in neighbours and "FR" in neighbours and f"layer {LAYER}" in neighbours


def test_same_seed_same_continuation_other_seed_differs(cl):
    a = _read(_continue_text(cl, seed=3)[1])[0]
    b = _read(_continue_text(cl, seed=3)[1])[0]
    c = _read(_continue_text(cl, seed=4)[1])[0]
    assert np.array_equal(a, b)
    assert len(a) != len(c) or not np.array_equal(a, c)


def test_continue_from_french_text(cl):
    prompt, cont, _, status, *_ = _continue_text(cl, "Le petit chat trouve une balle rouge.", "fr")
    assert len(_read(prompt)[0]) > 0 and _cont_ok(cont, status)


@pytest.mark.parametrize("sr,channels,fmt,subtype", [
    (24000, 1, "wav", None), (48000, 2, "wav", "PCM_16"), (44100, 1, "flac", None),
    (8000, 1, "wav", "PCM_16"), (96000, 2, "wav", "FLOAT"), (22050, 1, "ogg", None)])
def test_continue_from_uploaded_audio_any_rate_and_channels(cl, workdir, sr, channels, fmt, subtype):
    seconds = 1.6
    path = write_wav(workdir / f"in_{sr}_{channels}.{fmt}", speech_like(seconds, sr, channels),
                     sr, subtype)
    prompt, cont, units, status, *_ = _continue_audio(cl, path)
    p, psr = _read(prompt)
    # resampled, mixed to mono, trimmed to the speech (the tiled utterance keeps its pauses)
    assert psr == 24000 and seconds - 0.5 < len(p) / psr <= seconds + 0.01
    assert p.ndim == 1 and _cont_ok(cont, status)
    assert "units" in status


BAD = {  # name -> (writer of the upload, words the message must contain)
    "empty": (lambda p: p.write_bytes(b""), "empty"),
    "silent": (lambda p: write_wav(p, np.zeros(24000, np.float32), 24000), "silent"),
    "too_long": (lambda p: write_wav(p, speech_like(31, 8000), 8000, "PCM_16"), "too long"),
    "corrupt": (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8),
                "not a readable audio file"),
    "nan": (lambda p: write_wav(p, np.full(24000, np.nan, np.float32), 24000, "FLOAT"), "NaN"),
    "too_short": (lambda p: write_wav(p, speech_like(0.1, 24000), 24000), "too short"),
    "text_file": (lambda p: p.write_text("hello, I am not audio\n" * 50), "not a readable audio"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_audio_gives_a_clear_message_and_server_keeps_serving(cl, workdir, name):
    write, words = BAD[name]
    suffix = ".txt" if name == "text_file" else ".wav"
    path = workdir / f"bad_{name}{suffix}"
    write(path)
    with pytest.raises(AppError) as err:
        _continue_audio(cl, path)
    msg = str(err.value)
    assert words.lower() in msg.lower(), msg
    assert "Traceback" not in msg and "internal error" not in msg and "/tmp" not in msg
    prompt, cont, _, status, *_ = _continue_text(cl, seconds=1.0)  # the server still works
    assert len(_read(prompt)[0]) > 0 and _cont_ok(cont, status)


def test_no_audio_and_empty_text_and_bad_options_are_messages(cl, demo_session):
    with pytest.raises(AppError, match="no audio"):
        cl.predict(None, 2.0, 0.8, 50, 0, api_name="/continue_audio")
    with pytest.raises(AppError, match="type a sentence"):
        _continue_text(cl, text="   ")
    with pytest.raises(AppError, match="less than minimum"):  # Gradio checks slider bounds
        _continue_text(cl, seconds=0)
    with pytest.raises(ValueError, match="temperature must be"):  # the session checks too
        demo_session.continue_speech(np.zeros(2400, np.float32), 2.0, -1.0)
    with pytest.raises(AppError, match="give a seed"):  # a cleared seed box
        cl.predict("The cat.", "en", 1.0, 0.8, 50, None, api_name="/continue_text")


def test_cloze_benchmark_item_and_typed_with_context_controls(cl, demo_session):
    s = demo_session
    item = s.cloze_items()[0]
    ctx, ctx_lang, a, b, end_lang = cl.predict(item["label"], api_name="/pick_cloze")
    assert (ctx, a, b) == (item["context"], item["ending_a"], item["ending_b"])
    bars, verdict = cl.predict(ctx, ctx_lang, a, b, end_lang, api_name="/cloze")
    expected = s.cloze_controls(ctx, a, b, ctx_lang, end_lang)
    assert set(expected) == {"story", "none", "other"}
    fig = plot_json(bars)
    for trace, name in zip(fig["data"], ("A", "B")):  # one trace per ending, a bar per condition
        heights = np.asarray(values(trace["y"])) + trace["base"]  # bars rise from a floor
        want = [expected[c].scores[name] for c in ("story", "none", "other")]
        assert heights.tolist() == pytest.approx(want, abs=1e-4)
        assert values(trace["x"]) == ["with the story", "no context", "another story"]
    assert f"ending {expected['story'].preferred}**" in verdict
    assert ("right ending" in verdict) or ("The right ending was" in verdict)
    for key, name in (("none", "no context"), ("other", "another story")):  # the controls' rows
        row = next(line for line in verdict.splitlines() if line.startswith(f"| {name} |"))
        assert f"| {expected[key].preferred} |" in row
    # typed, cross-lingual (EN context, FR endings)
    bars, verdict = cl.predict("Tom goes to the beach with his dog.", "en", "Le chien court.",
                               "La fusée vole vers la lune.", "fr", api_name="/cloze")
    assert "prefers" in verdict and "The right ending" not in verdict
    assert len(values(plot_json(bars)["data"][0]["y"])) == 3
    with pytest.raises(AppError, match="both endings"):
        cl.predict("Tom goes to the beach.", "en", "", "x", "fr", api_name="/cloze")


def test_projection_every_layer_places_the_prompt(cl, demo_session):
    _continue_text(cl)  # sets this client's prompt state
    s = demo_session
    for layer in range(s.n_layers):
        plot, neighbours = cl.predict(layer, api_name="/project")
        fig = plot_json(plot)
        names = [t.get("name") for t in fig["data"]]
        assert {"en", "fr", "translations", "you"} <= set(names), names
        n = len(s.reference)
        assert len(values(next(t for t in fig["data"] if t["name"] == "en")["x"])) == n
        assert f"layer {layer}" in neighbours and "EN" in neighbours and "FR" in neighbours
    with pytest.raises(AppError, match="greater than maximum"):  # the slider's bounds
        cl.predict(s.n_layers, api_name="/project")
    with pytest.raises(ValueError, match="layer must be"):
        s.project([1, 2, 3], s.n_layers)


def test_projection_without_prompt_shows_the_reference_map(make_client):
    fresh = make_client("fresh")
    plot, text = fresh.predict(1, api_name="/project")
    names = [t.get("name") for t in plot_json(plot)["data"]]
    assert "you" not in names and "en" in names and "Continue a prompt" in text
