# Two commands do all the set-up on a fresh machine (Python 3.10+ with pip):
#   make app    launch the explorer in Voila on the bundled synthetic sample
#   make test   run every test, browser tests included, on pytest-xdist workers (two more than the cores)
#   make test-binder   build the Binder recipe from the package index, as Binder does (opt-in: needs the network)
# Both create (or reuse) .venv and install what they need into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.aef-widgets-installed
PORT ?= 8866

.PHONY: app test test-binder lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[app,test]"
	touch $(STAMP)

app: $(STAMP)
	cd notebooks && ../$(BIN)/voila explorer.ipynb --port=$(PORT)

test: $(STAMP)
	scripts/ensure-chromium
	$(BIN)/python -m ruff check aef_widgets tests benchmarks tools
	$(BIN)/python -m pytest

# The network build of binder/ (`make test` checks the same recipe offline; see tests/test_binder.py)
test-binder: $(STAMP)
	$(BIN)/python -m pytest -m network tests/test_binder.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
