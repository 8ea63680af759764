# OpenBuilder: `make demo` (set up and open the builder), `make test` (set up and run every test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8501
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo setup dev browser graphviz sandbox cjkfont prepare ui test test-fast lint typecheck clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# llama-cpp-python is built once, for any x86-64 with AVX2 (not -march=native: on CPUs with AMX
# that build computes garbage or crashes, and pip's cache would hand a native build to another CPU),
# into a wheel folder that every later install of this version takes (about 12 minutes on 2 cores).
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
WHEELS ?= $(HOME)/.cache/openbuilder/wheels/llama-avx2
LLAMA_WHEEL := $(WHEELS)/.built-$(LLAMA_VERSION)

$(LLAMA_WHEEL): | $(BIN)/python
	mkdir -p $(WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip wheel --no-deps --no-cache-dir \
	  --no-binary llama-cpp-python -w $(WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	touch $@

# --no-compile: bytecode is written on first import, for the modules a run uses (compiling every
# installed module up front took about 70 of the install's 115 s here).
$(VENV)/.setup-all: pyproject.toml $(LLAMA_WHEEL) | $(BIN)/python
	$(BIN)/pip install --no-compile --find-links $(WHEELS) -e '.[all]'
	$(BIN)/pip install --quiet --no-deps --no-index --force-reinstall --find-links $(WHEELS) \
	  llama-cpp-python==$(LLAMA_VERSION)
	touch $@

$(VENV)/.setup-dev: pyproject.toml $(LLAMA_WHEEL) | $(BIN)/python
	$(BIN)/pip install --no-compile --find-links $(WHEELS) -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps --no-index --force-reinstall --find-links $(WHEELS) \
	  llama-cpp-python==$(LLAMA_VERSION)
	touch $@ $(VENV)/.setup-all

setup: $(VENV)/.setup-all

dev: $(VENV)/.setup-dev browser graphviz sandbox cjkfont

# Headless Chromium from Debian's packages for the browser test of the builder (root only).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "note: Chromium not installed; the browser test will skip (apt-get install chromium)"; }

# bubblewrap from Debian's packages: the code connector runs Python only inside it (root only).
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) \
	  || echo "note: bubblewrap not installed; the code tool will refuse to run (apt-get install bubblewrap)"; }

# A CJK font from Debian's packages: Chinese labels in eval plots and pages (root only).
cjkfont:
	@[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || { [ "$$(id -u)" = 0 ] \
	  && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei) \
	  || echo "note: no CJK font; Chinese text in plots shows as boxes (apt-get install fonts-wqy-microhei)"; }

# Graphviz's dot from Debian's packages: `openbuilder graph APP --png FILE` draws offline (root only).
graphviz:
	@command -v dot >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz) \
	  || echo "note: Graphviz not installed; graph --png will ask for it (apt-get install graphviz)"; }

# Join the bundled model once and index the demo app's knowledge (progress bars on stderr).
prepare: setup
	$(BIN)/python -c "from framework.app.build import load_app; load_app('apps/kb_qa/app.yaml', progress=True).close()"

ui: setup
	$(BIN)/openbuilder ui --host $(HOST) --port $(PORT)

demo: prepare ui

lint: dev
	$(BIN)/ruff check .

# mypy's incremental cache lives beside the llama wheel, outside the checkout: a fresh clone
# re-checks only what changed (files are compared by hash), 5 s instead of 95 s here.
MYPY_CACHE ?= $(HOME)/.cache/openbuilder/mypy

typecheck: dev
	$(BIN)/mypy --cache-dir $(MYPY_CACHE)

# Test files run in parallel, one file per worker at a time (pytest-xdist; TEST_WORKERS=0 runs
# them in this process), in the order tests/conftest.py gives them: files with slow tests first
# (xdist would otherwise order files by their number of tests and start the longest ones last).
TEST_WORKERS ?= auto
PYTEST_PARALLEL = -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: lint typecheck
	$(BIN)/pytest $(PYTEST_PARALLEL) --durations=25

# The edit loop: lint and every test not marked slow (no real models, no extra processes).
test-fast: dev
	$(BIN)/ruff check .
	$(BIN)/pytest -q -m "not slow" $(PYTEST_PARALLEL)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
