"""load_audio: every accepted input form, and every rejected one with its message."""

import io
import warnings

import numpy as np
import pytest
import soundfile as sf

from slmlab.constants import SAMPLE_RATE
from slmlab.speech import AudioError, load_audio


def _tone(sr=SAMPLE_RATE, seconds=1.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_wav_file_native_rate(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, _tone(), SAMPLE_RATE)
    wav = load_audio(path)
    assert wav.dtype == np.float32 and wav.shape == (SAMPLE_RATE,)
    assert np.abs(wav - _tone()).max() < 1e-3  # 16-bit PCM round trip
    assert load_audio(str(path)).shape == wav.shape


@pytest.mark.parametrize("fmt", ["flac", "ogg"])
def test_flac_and_ogg_resampled(tmp_path, fmt):
    path = tmp_path / f"a.{fmt}"
    sf.write(path, _tone(48000), 48000)
    wav = load_audio(path)
    assert abs(len(wav) - SAMPLE_RATE) <= 1 and np.abs(wav).max() > 0.4


def test_mp3_reads_or_says_why(tmp_path):
    path = tmp_path / "a.mp3"
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no mp3 support")
    sf.write(path, _tone(), SAMPLE_RATE)
    assert abs(len(load_audio(path)) - SAMPLE_RATE) < 2000  # mp3 adds encoder padding


def test_bytes():
    buf = io.BytesIO()
    sf.write(buf, _tone(16000), 16000, format="WAV")
    wav = load_audio(buf.getvalue())
    assert abs(len(wav) - SAMPLE_RATE) <= 1


def test_gradio_tuple_int16_stereo_44k():
    t = _tone(44100)
    stereo = (np.stack([t, 0.5 * t], 1) * 32767).astype(np.int16)  # [T, 2], as Gradio gives
    wav = load_audio((44100, stereo))
    assert wav.dtype == np.float32 and abs(len(wav) - SAMPLE_RATE) <= 1
    assert 0.3 < np.abs(wav).max() < 0.4  # mixed to mono: (0.5 + 0.25) / 2


def test_gradio_tuple_float_mono():
    wav = load_audio((SAMPLE_RATE, _tone().astype(np.float64)))
    assert np.allclose(wav, _tone(), atol=1e-6)


def test_loud_float_is_scaled_with_a_warning_not_clipped():
    from slmlab.speech.audio import AudioWarning

    with pytest.warns(AudioWarning, match="float samples reach 5e\\+05 .*scaled down"):
        wav = load_audio((SAMPLE_RATE, _tone(amp=1e6) * 0.5))
    assert 0.99 < np.abs(wav).max() <= 1.0
    assert np.allclose(wav, _tone(amp=1.0), atol=1e-3)  # the shape survives: no hard clipping
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # audio within [-1, 1] reads without a warning
        load_audio((SAMPLE_RATE, _tone(amp=0.9)))


def test_truncated_wav_warns_with_both_lengths(tmp_path):
    from slmlab.speech.audio import AudioWarning

    path = tmp_path / "cut.wav"
    sf.write(path, _tone(seconds=2.94), SAMPLE_RATE, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: 44 + int(1.77 * SAMPLE_RATE) * 2])
    with pytest.warns(AudioWarning, match="cut.wav is truncated: its header says 2.94 s but it "
                                          "holds 1.77 s"):
        wav = load_audio(path)
    assert abs(len(wav) - 1.77 * SAMPLE_RATE) < 2
    whole = tmp_path / "whole.wav"
    whole.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_audio(whole)
        load_audio(data)  # bytes of an intact file


@pytest.mark.parametrize("src,message", [
    ((SAMPLE_RATE, np.zeros(0, np.float32)), "empty"),
    (b"", "empty"),
    ((SAMPLE_RATE, _tone(seconds=0.2)), "too short .*at least 0.3 s"),
    ((SAMPLE_RATE, _tone(seconds=61)), "too long .*limit 60 s.*trim"),
    ((SAMPLE_RATE, np.full(SAMPLE_RATE, np.nan, np.float32)), "NaN or infinite"),
    ((SAMPLE_RATE, np.r_[_tone(), [np.inf]].astype(np.float32)), "NaN or infinite"),
    ((SAMPLE_RATE, np.zeros(SAMPLE_RATE, np.float32)), "silent.*record again"),
    ((SAMPLE_RATE, np.zeros(SAMPLE_RATE, np.int16)), "silent"),
    ((4000, _tone(4000)), "unsupported sample rate 4000 Hz; use between 8000"),
    ((24000.5, _tone()), "unsupported sample rate"),
    (("abc", _tone()), "sample rate must be a number"),
    ((SAMPLE_RATE, np.zeros((2, 2, 2))), "must be \\[samples\\] or \\[samples, channels\\]"),
    ((SAMPLE_RATE, np.array(["a"] * 10000)), "integers or floats"),
    (_tone(), "no sample rate; pass \\(sample_rate, array\\)"),
    (12, "cannot read audio from int"),
    (b"RIFF not really a wav file at all", "not a readable audio file"),
])
def test_rejections_say_what_to_do(src, message):
    with pytest.raises(AudioError, match=message):
        load_audio(src)


def test_max_seconds_is_configurable():
    load_audio((SAMPLE_RATE, _tone(seconds=61)), max_seconds=120)
    with pytest.raises(AudioError, match="limit 0.5 s"):
        load_audio((SAMPLE_RATE, _tone()), max_seconds=0.5)


def test_bad_files(tmp_path):
    fake = tmp_path / "notes.wav"
    fake.write_text("this is a text file renamed to .wav")
    with pytest.raises(AudioError, match="notes.wav: not a readable audio file.*convert"):
        load_audio(fake)
    truncated = tmp_path / "cut.flac"
    sf.write(truncated, _tone(), SAMPLE_RATE)
    truncated.write_bytes(truncated.read_bytes()[:40])
    with pytest.raises(AudioError, match="not a readable audio file|too short|empty"):
        load_audio(truncated)
    with pytest.raises(AudioError, match="no audio file at"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="is a directory"):
        load_audio(tmp_path)
    assert issubclass(AudioError, ValueError)
