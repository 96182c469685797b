"""espeak-ng synthesis: real engine, EN and FR voices, 24 kHz output, phone events."""

import multiprocessing as mp

import numpy as np
import pytest

from slmlab.constants import SAMPLE_RATE
from slmlab.speech import (Voice, phone_labels, synthesize, voice_by_name, voice_for_story,
                           voices)
from slmlab.speech.tts import PAUSE_S, PEAK

EN = "The little cat sleeps on the red mat."
FR = "Le petit chat dort sur le tapis rouge."


def _spectrum(wav):
    """Average magnitude spectrum (shape [257]) to compare voices independent of length."""
    frames = np.lib.stride_tricks.sliding_window_view(wav, 512)[::256]
    return np.abs(np.fft.rfft(frames * np.hanning(512), axis=1)).mean(0)


@pytest.mark.parametrize("lang,text", [("en", EN), ("fr", FR)])
def test_output_is_24k_float32_speech(lang, text):
    wav = synthesize(text, voices(lang)[0])
    assert wav.dtype == np.float32 and wav.ndim == 1
    assert 1.0 < len(wav) / SAMPLE_RATE < 6.0  # a short sentence, at 24 kHz
    assert np.abs(wav).max() <= PEAK + 1e-6 and np.abs(wav).max() > 0.5
    assert np.isfinite(wav).all()
    pad = int(PAUSE_S * SAMPLE_RATE)
    # silence trimmed to the fixed pause: quiet edges, speech right after them
    assert np.abs(wav[:pad - 10]).max() < 1e-3 and np.abs(wav[-pad + 10:]).max() < 1e-3
    assert np.abs(wav[pad:pad + 2400]).max() > 0.01


def test_voices_are_many_distinct_and_split():
    for lang in ("en", "fr"):
        train, test = voices(lang, "train"), voices(lang, "test")
        assert len(train) >= 8 and len(test) >= 2
        assert not set(train) & set(test)
        assert len({v.name for v in voices(lang, "all")}) == len(train) + len(test)
        assert voices(lang, "heldout") == test
        assert all(v.lang == lang for v in voices(lang, "all"))
        assert voice_by_name(test[0].name) == test[0]
    with pytest.raises(ValueError, match="lang must be one of"):
        voices("de")


def test_different_voices_give_different_audio():
    a, b = voices("en")[0], voices("en")[5]
    wa, wb = synthesize(EN, a), synthesize(EN, b)
    sa, sb = _spectrum(wa), _spectrum(wb)
    assert len(wa) != len(wb) or not np.allclose(wa, wb)
    assert _similarity(wa, wb) < 0.99  # spectral envelope differs, not just a time shift
    # same voice, same text: the same sound (espeak-ng is not bit-exact across calls: its
    # wave generator keeps state from one utterance to the next)
    assert _similarity(wa, synthesize(EN, a)) > 0.995


def _similarity(a, b):
    return np.corrcoef(np.log(_spectrum(a) + 1e-6), np.log(_spectrum(b) + 1e-6))[0, 1]


def test_en_and_fr_differ():
    v_en, v_fr = voices("en")[0], voices("fr")[0]
    _, ph_en = synthesize(EN, v_en, with_phones=True)
    _, ph_fr = synthesize(FR, v_fr, with_phones=True)
    assert [p.phone for p in ph_en] != [p.phone for p in ph_fr]
    # the same French text read by an English voice is pronounced differently
    _, ph_fr_en = synthesize(FR, v_en, with_phones=True)
    assert [p.phone for p in ph_fr_en] != [p.phone for p in ph_fr]


def test_voice_for_story_is_stable_and_varied():
    picks = [voice_for_story(f"story-{i}", "fr", "train") for i in range(60)]
    assert picks == [voice_for_story(f"story-{i}", "fr", "train") for i in range(60)]
    assert len(set(picks)) >= 8
    assert voice_for_story("s1", "en", "test") in voices("en", "test")


def test_phones_cover_the_audio():
    wav, phones = synthesize(FR, voices("fr")[1], with_phones=True)
    dur = len(wav) / SAMPLE_RATE
    assert len(phones) > 10
    assert all(0 <= p.start < p.end <= dur + 1e-6 for p in phones)
    labels = phone_labels(phones, int(np.ceil(len(wav) / 1920)), 1920)
    assert len(labels) == int(np.ceil(len(wav) / 1920))
    assert len(set(labels) - {"_"}) >= 5  # several phones, not all pause


def test_unknown_voice_and_empty_text():
    bad = Voice("espeak:xx", "en", "espeak", "en-gb")  # 'en-gb' is not a voice file name
    with pytest.raises(RuntimeError, match="no voice 'en-gb'"):
        synthesize(EN, bad)
    with pytest.raises(ValueError, match="empty"):
        synthesize("  ", voices("en")[0])


def _worker(i):
    return synthesize(f"Sentence number {i}.", voices("en")[i % 4])


def test_works_in_worker_processes():
    ref = [_worker(i) for i in range(4)]  # initialise the engine in the parent first
    for method in ("fork", "spawn"):
        with mp.get_context(method).Pool(2) as pool:
            got = pool.map(_worker, range(4))
        for a, b in zip(ref, got):
            assert abs(len(a) - len(b)) < 0.02 * len(a), method
            assert _similarity(a, b) > 0.995, method


def test_phone_metrics():
    from slmlab.speech.phones import (labelled_utterance, phone_purity, pnmi, shuffled,
                                      unit_phone_accuracy)

    wav, labels = labelled_utterance(FR, voices("fr")[0], 1920)
    assert len(labels) == -(-len(wav) // 1920) and any(lab.startswith("fr:") for lab in labels)
    phones = ["a", "b", "c", "a"] * 50
    assert pnmi([0, 1, 2, 0] * 50, phones) == pytest.approx(1.0)
    assert pnmi([0] * 200, phones) == pytest.approx(0.0)
    assert phone_purity([0, 1, 2, 0] * 50, phones) == 1.0
    assert pnmi([0, 1, 2, 0] * 50, shuffled(phones)) < 0.2
    assert unit_phone_accuracy([0, 1, 2], ["a", "b", "c"], [2, 1, 9], ["c", "x", "a"]) == \
        pytest.approx(2 / 3)  # unit 9 unseen: falls back to the most frequent phone


# -- voice pool, speaker perturbation, held-out engines, prompt preparation -----------------
from slmlab.speech import AudioError  # noqa: E402
from slmlab.speech.perturb import Perturbation, perturb, random_perturbation  # noqa: E402
from slmlab.speech.phones import dedup, edit_distance, unit_edit_distance  # noqa: E402
from slmlab.speech.prompt import prepare_prompt  # noqa: E402
from slmlab.speech.tts import (HELDOUT_FAMILIES, TRAIN_FAMILIES, canonical_voice,  # noqa: E402
                               engine_voices, sample_voice)


def test_voice_families_split_and_continuous_parameters():
    assert not set(TRAIN_FAMILIES) & set(HELDOUT_FAMILIES)
    rng = np.random.default_rng(0)
    train = [sample_voice("fr", rng, "train") for _ in range(50)]
    held = [sample_voice("en", rng, "heldout") for _ in range(20)]
    assert all(v.ident.split("+")[1] in TRAIN_FAMILIES for v in train)
    assert all(v.ident.split("+")[1] in HELDOUT_FAMILIES for v in held)
    assert len({v.rate for v in train}) > 20 and len({v.pitch_range for v in train}) > 20
    wav = synthesize(FR, sample_voice("fr", rng, "heldout"))
    assert len(wav) > SAMPLE_RATE
    assert canonical_voice("en").ident.split("+")[1] == canonical_voice("fr").ident.split("+")[1]


def test_perturbation_keeps_length_and_level_but_changes_the_voice():
    wav = synthesize(EN, voices("en")[0])
    rng = np.random.default_rng(1)
    for _ in range(3):
        out = perturb(wav, random_perturbation(rng))
        assert out.shape == wav.shape and out.dtype == np.float32
        assert abs(float(np.abs(out).max()) - float(np.abs(wav).max())) < 1e-4
    hi = perturb(wav, Perturbation(pitch=1.6, formant=1.25))
    assert np.abs(_spectrum(hi) - _spectrum(wav)).sum() > 0.2 * np.abs(_spectrum(wav)).sum()
    slow = perturb(wav, Perturbation(speed=1.2))
    assert abs(len(slow) / len(wav) - 1.2) < 0.02
    with pytest.raises(ValueError, match="formant"):
        Perturbation(formant=9.0)


@pytest.mark.skipif(not engine_voices(), reason="flite/festival not installed (make browser)")
def test_held_out_engines_speak_english_at_24k():
    for v in engine_voices():
        wav = synthesize(EN, v)
        assert wav.dtype == np.float32 and 1.0 < len(wav) / SAMPLE_RATE < 6.0
        assert 0.5 < float(np.abs(wav).max()) <= PEAK + 1e-6


def test_unit_edit_distance():
    assert dedup([3, 3, 5, 5, 5, 3]) == [3, 5, 3]
    assert edit_distance("kitten", "sitting") == 3
    assert unit_edit_distance([1, 1, 2, 3], [1, 2, 2, 3]) == 0.0
    assert unit_edit_distance([1, 2, 3, 4], [5, 6, 7, 8]) == 1.0
    assert unit_edit_distance([1, 2, 3, 4], [1, 2, 9, 4]) == 0.25


def test_prepare_prompt_trims_silence_and_noise_and_normalises():
    wav = synthesize(EN, voices("en")[3])
    rng = np.random.default_rng(0)
    lead, tail = SAMPLE_RATE, int(1.5 * SAMPLE_RATE)
    quiet = np.concatenate([np.zeros(lead), wav * 0.03, np.zeros(tail)]).astype(np.float32)
    quiet += (rng.standard_normal(len(quiet)) * 0.001).astype(np.float32)
    out = prepare_prompt(quiet)
    assert len(wav) - 0.3 * SAMPLE_RATE < len(out) < len(wav) + 0.5 * SAMPLE_RATE
    loud = prepare_prompt(np.concatenate([np.zeros(lead), wav * 0.9]).astype(np.float32))
    rms = [float(np.sqrt(np.mean(x ** 2))) for x in (out, loud)]
    assert abs(20 * np.log10(rms[0] / rms[1])) < 1.5  # same level whatever the input level
    assert float(np.abs(out).max()) <= 0.95 + 1e-6


def test_prepare_prompt_rejects_noise_and_silence():
    rng = np.random.default_rng(0)
    with pytest.raises(AudioError, match="no speech"):
        prepare_prompt((rng.standard_normal(2 * SAMPLE_RATE) * 0.1).astype(np.float32))
    with pytest.raises(AudioError, match="silent"):
        prepare_prompt(np.zeros(SAMPLE_RATE, np.float32))
