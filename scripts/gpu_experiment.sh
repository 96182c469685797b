#!/usr/bin/env bash
# The GPU reproduction (issue 13) and the demo's default model, on one GPU machine.
# Corpus synthesis uses the machine's CPU cores; training (compiled), evaluation with context
# controls, probing and the units LM check use the GPU.
#   RUN=runs/gpu STORIES=12000 BUDGET=2.5e7 SEEDS="0" bash scripts/gpu_experiment.sh [corpus|exp|sweep|lm|app|all]
set -euo pipefail
RUN=${RUN:-runs/gpu}
STORIES=${STORIES:-36000}
BUDGET=${BUDGET:-1e8}         # tokens per seed: stage 1 + each arm (matched), 50:20:15
SEEDS=${SEEDS:-0 1 2}
TOKENIZER=${TOKENIZER:-neural} # the shipped speaker-invariant units (slmlab/tokenizers/pretrained)
PRESET=${PRESET:-small}
WORKERS=${WORKERS:-$(nproc)}
DEVICE=${DEVICE:-cuda}
EVAL_ITEMS=${EVAL_ITEMS:-1000}
SWEEP_P=${SWEEP_P:-0.1 0.3 0.7 0.9}
ARMS=${ARMS:-en-only mixed interleave interleave+finetune}
FR_ONLY=${FR_ONLY:-1}          # also fr-only for the first seed
COMPILE=${COMPILE:-on}
PY=${PY:-python3}
what=${1:-all}

corpus() {
  $PY -m slmlab corpus build --out "$RUN/corpus" --stories "$STORIES" --workers "$WORKERS" \
    --eval-items "$EVAL_ITEMS" --aligned-pairs 500 --tokenizer "$TOKENIZER" --no-progress
}
train_flags() {
  echo --preset "$PRESET" --budget-tokens "$BUDGET" --context 1024 --batch-size 32 --lr 1e-3 \
    --warmup 100 --log-every 100 --device "$DEVICE" --compile $COMPILE --eval-limit "$EVAL_ITEMS" \
    --probe-limit 500
}
exp() {  # the four arms x seeds (+ fr-only for the first seed), evaluated with controls
  $PY -m slmlab experiment --corpus "$RUN/corpus" --out "$RUN/exp-$PRESET" $(train_flags) \
    --seeds $SEEDS --arms $ARMS
  [ "$FR_ONLY" = 1 ] || return 0
  $PY -m slmlab experiment --corpus "$RUN/corpus" --out "$RUN/exp-$PRESET-fr" $(train_flags) \
    --seeds ${SEEDS%% *} --arms fr-only
}
sweep() {  # the paper's next check: French probability p of interleave+finetune, one seed
  $PY -m slmlab experiment --corpus "$RUN/corpus" --out "$RUN/sweep-$PRESET" $(train_flags) \
    --seeds ${SEEDS%% *} --arms interleave+finetune --sweep-p $SWEEP_P
}
lm() {  # issue 12's LM check: held-out stories, training vs held-out voices, stage-1 model
  $PY benchmarks/bench_units.py --tokenizer "$TOKENIZER" --lm-corpus "$RUN/corpus" \
    --lm-checkpoint "$RUN/exp-$PRESET/seed${SEEDS%% *}/stage1" --device "$DEVICE" \
    --out "$RUN/units" --tag "lm-$PRESET"
}
app() {  # the demo's default model: tiny preset, the paper's three stages, exported in bf16
  $PY -m slmlab stages --corpus "$RUN/corpus" --out "$RUN/app-ckpt" --preset tiny \
    --tokens "${APP_TOKENS:-3e7}" --batch-size 32 --context 1024 --device "$DEVICE" --compile $COMPILE \
    --log-every 200
  $PY -m slmlab evaluate --ckpt "$RUN/app-ckpt/stage3" --eval "$RUN/corpus/eval" \
    --out "$RUN/app-ckpt/eval.json" --limit "$EVAL_ITEMS"
  $PY scripts/export_model.py --ckpt "$RUN/app-ckpt/stage3" --corpus "$RUN/corpus" \
    --out "$RUN/app-model" --extra "$RUN/app-ckpt/eval.json" --card "slmlab tiny preset trained \
on a GPU through the paper's three stages (English, cross-lingual interleaving p=0.5, bilingual \
fine-tuning) on $STORIES synthetic EN/FR stories of slmlab.world spoken by espeak-ng voices only \
(no human speech); units from the shipped speaker-invariant tokenizer ($TOKENIZER)."
}
case "$what" in
  corpus) corpus ;; exp) exp ;; sweep) sweep ;; lm) lm ;; app) app ;;
  all) corpus; exp; sweep; lm; app ;;
  *) echo "usage: $0 [corpus|exp|sweep|lm|app|all]" >&2; exit 2 ;;
esac
