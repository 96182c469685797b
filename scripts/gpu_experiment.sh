#!/usr/bin/env bash
# The GPU reproduction (issue 6) and the demo's default model (issue 8), on one GPU machine.
# Corpus synthesis uses the machine's CPU cores; training, evaluation and probing the GPU.
#   RUN=runs/gpu STORIES=16000 BUDGET=1.2e7 SEEDS="0 1" bash scripts/gpu_experiment.sh [corpus|exp|app|all]
set -euo pipefail
RUN=${RUN:-runs/gpu}
STORIES=${STORIES:-16000}
BUDGET=${BUDGET:-1.2e7}       # tokens per seed: stage 1 + each arm (matched)
SEEDS=${SEEDS:-0 1}
UNITS=${UNITS:-2048}
PRESET=${PRESET:-small}
WORKERS=${WORKERS:-$(nproc)}
DEVICE=${DEVICE:-cuda}
EVAL_ITEMS=${EVAL_ITEMS:-1000}
what=${1:-all}

corpus() {
  ${PY:-python3} -m slmlab corpus build --out "$RUN/corpus" --stories "$STORIES" --workers "$WORKERS" \
    --eval-items "$EVAL_ITEMS" --aligned-pairs 500 --units "$UNITS" --tokenizer-sentences 4000 --no-progress
}
exp() {
  ${PY:-python3} -m slmlab experiment --corpus "$RUN/corpus" --out "$RUN/exp-$PRESET" --preset "$PRESET" \
    --budget-tokens "$BUDGET" --seeds $SEEDS --arms en-only mixed interleave interleave+finetune \
    --context 1024 --batch-size 32 --lr 1e-3 --warmup 100 --log-every 100 --device "$DEVICE" \
    --compile off --eval-limit "$EVAL_ITEMS" --probe-limit 500
}
app() {  # the demo's default model: tiny preset, the paper's three stages, exported in bf16
  ${PY:-python3} -m slmlab stages --corpus "$RUN/corpus" --out "$RUN/app-ckpt" --preset tiny \
    --tokens "${APP_TOKENS:-3e7}" --batch-size 32 --context 1024 --device "$DEVICE" --compile off \
    --log-every 200
  ${PY:-python3} -m slmlab evaluate --ckpt "$RUN/app-ckpt/stage3" --eval "$RUN/corpus/eval" \
    --out "$RUN/app-ckpt/eval.json" --limit "$EVAL_ITEMS"
  ${PY:-python3} scripts/export_model.py --ckpt "$RUN/app-ckpt/stage3" --corpus "$RUN/corpus" \
    --out "$RUN/app-model" --card "slmlab tiny preset trained on a GPU through the paper's three \
stages (English, cross-lingual interleaving p=0.5, bilingual fine-tuning) on $STORIES synthetic \
EN/FR stories of slmlab.world spoken by espeak-ng voices only (no human speech); built-in \
log-mel k-means tokenizer ($UNITS units, 12.5 Hz)."
}
case "$what" in
  corpus) corpus ;; exp) exp ;; app) app ;;
  all) corpus; exp; app ;;
  *) echo "usage: $0 [corpus|exp|app|all]" >&2; exit 2 ;;
esac
