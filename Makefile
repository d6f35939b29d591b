# Two commands a new user needs: `make demo` and `make test`. Each installs what it
# needs first (a Python virtual environment from PyPI, node_modules from npm), then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: demo test setup lint typecheck pytest contracts coverage bench clean

demo: setup
	$(BIN)/receivables demo

test: setup lint typecheck pytest contracts coverage

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -q -n 2

contracts: setup
	npx hardhat test

coverage: setup
	npx hardhat coverage
	node scripts/check-coverage.js

bench: setup
	$(BIN)/python scripts/bench_core.py

clean:
	rm -rf $(VENV) node_modules cache artifacts coverage coverage.json
