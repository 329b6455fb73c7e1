# The two set-up commands: `make demo` runs the lecture walkthrough, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test fuzz bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[extras]"
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(BIN)/ember demo --out demo-out

# The suite, then its CUDA cases again on CuPy's stand-in (tests/cupy_double.py): no GPU needed.
test: $(VENV)/.dev
	$(BIN)/python -m pytest -n 2 tests
	EMBER_CUDA_DOUBLE=1 $(BIN)/python -m pytest -n 2 -m cuda tests

# The fuzzer (tests/fuzz) with its deep profile: ten times the examples, random, failures replayed.
fuzz: $(VENV)/.dev
	$(BIN)/python -m pytest tests/fuzz --deep

bench: $(VENV)/.dev
	$(BIN)/python bench/run.py

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) demo-out
