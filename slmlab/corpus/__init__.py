"""The corpus: stories -> speech per sentence -> units -> a Hugging Face dataset on disk.

- `build.py`: `CorpusConfig`, `build_corpus(cfg)` (sharded, resumable), `load_corpus(dir)`;
- `worker.py`: the worker processes and the state each owns (espeak-ng engine, tokenizer);
- `eval_set.py`: the eval set `eval/{cloze,pairs,aligned}.jsonl` and `check_eval_set`;
- `audio.py`: a corpus from your own audio (`build_corpus_from_audio`, a JSONL manifest).
"""

from slmlab.corpus.audio import build_corpus_from_audio, read_manifest
from slmlab.corpus.build import (BUILD_CONFIG_FILE, META_FILE, SHARD_FMT, CorpusConfig,
                                 CorpusError, build_corpus, load_corpus, make_stories,
                                 prepare_dir, shard_dirs, synthesize_parallel, tokenizer_info,
                                 tokenizer_training_rows, write_shard)
from slmlab.corpus.eval_set import EvalSetError, build_eval, check_eval_set

__all__ = ["BUILD_CONFIG_FILE", "META_FILE", "SHARD_FMT", "CorpusConfig", "CorpusError",
           "EvalSetError", "build_corpus", "build_corpus_from_audio", "build_eval",
           "check_eval_set", "load_corpus", "make_stories", "prepare_dir", "read_manifest",
           "shard_dirs", "synthesize_parallel", "tokenizer_info", "tokenizer_training_rows",
           "write_shard"]
