# Two commands matter (see README.md): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/mailflow demo

test: $(VENV)/.test-installed
	bash scripts/install-test-deps.sh
	$(BIN)/ruff check mailflow tests bench
	$(BIN)/pytest -q

lint: $(VENV)/.test-installed
	$(BIN)/ruff check mailflow tests bench

bench: $(VENV)/.test-installed
	bash scripts/install-test-deps.sh
	$(BIN)/python bench/poll_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
