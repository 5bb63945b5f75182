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

# The whole suite on SQLite, then the store and end-to-end tests again on PostgreSQL (a
# private cluster the fixtures start: tests/harness/postgres.py), each in parallel workers
# (pytest-xdist). The tests mostly wait on servers and subprocesses, so more workers than
# cores still pay off; PYTEST_WORKERS=1 runs them one at a time.
PYTEST_WORKERS ?= 4
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist loadfile
# Bytecode is cached even where the environment says PYTHONDONTWRITEBYTECODE: every worker
# collects the whole suite (9 s without cached bytecode, 4.5 s with) and the end-to-end tests
# start a few hundred `mailflow` processes, each compiling the package again without it.
PYTEST = env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest

test: lint
	bash scripts/install-test-deps.sh
	$(PYTEST) -q $(PYTEST_PARALLEL)
	MAILFLOW_TEST_DB=postgresql $(PYTEST) -q $(PYTEST_PARALLEL) tests/store tests/e2e

# Style (ruff), the package's layers (lint-imports, contracts in pyproject.toml), types
# (mypy --strict) and sizes (modules <= 400 lines, functions <= 60). Every check runs even
# when an earlier one fails, so one run shows everything to fix; any failure fails lint.
lint: $(VENV)/.test-installed
	@status=0; \
	echo "== ruff"; $(BIN)/ruff check mailflow tests bench scripts || status=1; \
	echo "== lint-imports"; $(BIN)/lint-imports --no-logo || status=1; \
	echo "== mypy"; $(BIN)/mypy mailflow || status=1; \
	echo "== check_shape"; $(BIN)/python scripts/check_shape.py || status=1; \
	exit $$status

bench: $(VENV)/.test-installed
	bash scripts/install-test-deps.sh
	$(BIN)/python bench/issue10.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .grimp_cache
