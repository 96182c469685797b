"""Speech for the embedded world: espeak-ng synthesis (many voices) and audio input/validation.

Everything here is 24 kHz mono float32 [T]:
- `synthesize(text, voice)`, `voices(lang, split)`, `voice_for_story(story_id, lang, split)`;
- `load_audio(src)` for user audio (path, bytes, or Gradio's (sample_rate, array)),
  raising `AudioError` with a message that says what to do.
"""

from slmlab.speech.audio import AudioError, load_audio, resample, validate
from slmlab.speech.espeak import EspeakError, Phone
from slmlab.speech.tts import (Voice, extra_engines, phone_labels, synthesize, voice_by_name,
                               voice_for_story, voices)

__all__ = ["AudioError", "EspeakError", "Phone", "Voice", "extra_engines", "load_audio",
           "phone_labels", "resample", "synthesize", "validate", "voice_by_name",
           "voice_for_story", "voices"]
