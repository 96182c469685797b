"""Unit tokenizers: 24 kHz audio <-> discrete units at 12.5 Hz.

- `Tokenizer` protocol and `load_tokenizer(path)` (built-in dir, Mimi checkpoint, 'mimi', or
  'neural' = the shipped tokenizer in `pretrained/neural-2048`, the default that runs offline);
- `NeuralTokenizer` (`slmlab.tokenizers.neural`, trained by `neural_train`): speaker-invariant
  encoder units with a canonical-voice decoder;
- `BuiltinTokenizer` / `train_builtin(wavs, n_units=2048, frame_rate=12.5, seed=0)`: log-mel
  k-means with a Griffin-Lim decoder (older; trained per corpus with `--tokenizer builtin`);
- Mimi (`slmlab.tokenizers.mimi`), imported lazily because it pulls in moshi/transformers.
"""

from slmlab.tokenizers.base import Tokenizer, TokenizerError
from slmlab.tokenizers.loading import (PRETRAINED, load_tokenizer, pretrained_dir,
                                       recorded_tokenizer)
from slmlab.tokenizers.units import BuiltinTokenizer, train_builtin

__all__ = ["PRETRAINED", "BuiltinTokenizer", "Tokenizer", "TokenizerError", "load_tokenizer",
           "pretrained_dir", "recorded_tokenizer", "train_builtin"]
