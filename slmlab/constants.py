"""Numbers of the paper's setup, shared by every stage (Mimi's shape)."""

SAMPLE_RATE = 24_000  # Hz, Mimi's input rate; every waveform in slmlab is at this rate
FRAME_RATE = 12.5  # unit frames per second (Mimi's rate)
HOP = int(SAMPLE_RATE / FRAME_RATE)  # 1920 samples per unit frame
N_UNITS = 2048  # size of Mimi's first (semantic) codebook
LANGS = ("en", "fr")  # the languages of the embedded world
INT16_SCALE = 32768.0  # int16 PCM <-> float32 audio in [-1, 1): the one scale, both directions
