# slmlab: the two commands a newcomer needs are `make quickstart` and `make test`.
# Both create .venv and install everything on first use; later runs skip straight to the job.
PY ?= python3
VENV ?= .venv
# CPU machines: the 2.13.0 CPU build. GPU machines: make TORCH_SPEC=torch (or any CUDA build).
TORCH_SPEC ?= torch==2.13.0
MOSHI_SPEC ?= moshi==0.2.13
BIN := $(VENV)/bin
STAMP := $(VENV)/.slmlab-installed

.PHONY: quickstart setup test test-unit test-e2e test-all browser wordlists lab app bench clean-runs

quickstart: setup ## build the offline world, train, evaluate, print the table (CPU, ~10 min)
	$(BIN)/slmlab quickstart

setup: $(STAMP) ## create .venv and install slmlab with everything it needs (idempotent)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# keep a torch that is already there (a user's CUDA build); else install TORCH_SPEC
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	@# moshi pins torch<2.10 and huggingface-hub<1.0; its Mimi code runs fine without them
	$(BIN)/python -m pip install -q --no-deps "$(MOSHI_SPEC)"
	@touch $(STAMP)

browser: ## Debian's Chromium for the real-browser tests (no browser download)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else echo "note: chromium missing and not root: browser tests will be skipped (sudo apt-get install chromium)"; fi; }
	@# flite and festival: English engines held out from tokenizer training (units benchmark)
	@command -v flite >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq flite festival festvox-kallpc16k >/dev/null; \
	  else echo "note: flite/festival missing and not root: held-out engine checks will be skipped"; fi; }

wordlists: ## Debian's word lists, for the benchmark's non-word audit (tests/test_bench_audit.py)
	@test -f /usr/share/dict/american-english-large -a -f /usr/share/dict/british-english -a -f /usr/share/dict/french || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wamerican-large wbritish wfrench >/dev/null; \
	  else echo "note: word lists missing and not root: the non-word audit will be skipped (sudo apt-get install wamerican-large wbritish wfrench)"; fi; }

test: setup browser wordlists ## the whole test suite: unit tier, then end-to-end tier (CI runs exactly this)
	$(BIN)/python -m pytest -q -m "not slow and not e2e"
	$(BIN)/python -m pytest -q -m "e2e and not slow"

test-unit: setup wordlists ## the fast unit tests only
	$(BIN)/python -m pytest -q -m "not slow and not e2e"

test-e2e: setup browser ## the end-to-end tests only (browser, load, notebooks, quickstart, torchrun)
	$(BIN)/python -m pytest -q -m "e2e and not slow"

test-all: setup browser ## also the slow tests
	$(BIN)/python -m pytest -q -m ""

lab: setup ## open JupyterLab on the teaching notebooks
	$(BIN)/jupyter lab notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

app: setup ## the live Gradio demo on 127.0.0.1:7860
	$(BIN)/slmlab app

bench: setup ## CPU benchmarks; each prints its figure and writes JSON under runs/bench/
	$(BIN)/python benchmarks/run_all.py

clean-runs:
	rm -rf runs
