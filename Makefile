# Companion: two commands for a newcomer (`make run`, `make test`); the rest are steps they use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: install install-test run test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(PIP) install --quiet -c requirements.lock -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -c requirements.lock -e '.[test]'
	touch $@

## install: create .venv and install the pinned runtime dependencies
install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## run: set up on first run (database, keys, demo accounts) and serve on http://127.0.0.1:8000
run: install
	$(BIN)/companion serve --demo

## test: install what the tests need and run the whole suite
test: install-test
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check companion flows safety tests benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/turn_latency.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
