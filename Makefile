# The two commands a newcomer needs:
#   make run    install, create the SQLite database under ./var/, load the demo district, serve on :8000
#   make test   install with the test tools (and Debian's Chromium for browser tests), check the
#               architecture's contracts, lint and types (make lint), run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
RUN_DATABASE_URL ?= $(or $(TONGBAN_DATABASE_URL),sqlite:///./var/tongban.db)
# Test files run in parallel, one worker per core (each worker has its own databases, servers and
# brokers); a file's tests stay together in order on one worker. TEST_WORKERS=0 runs them in-process.
TEST_WORKERS ?= auto

.PHONY: run test lint install install-test assets browser clean

run: install assets
	TONGBAN_DATABASE_URL=$(RUN_DATABASE_URL) $(BIN)/tongban db upgrade
	TONGBAN_DATABASE_URL=$(RUN_DATABASE_URL) $(BIN)/tongban demo load
	TONGBAN_DATABASE_URL=$(RUN_DATABASE_URL) $(BIN)/tongban serve --host $(HOST) --port $(PORT)

test: install-test assets browser lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The architecture's import rules (.importlinter, docs/architecture.md), lint and types: part of `make test`.
lint: install-test
	PYTHONPATH=tools $(BIN)/lint-imports --no-cache
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/mypy

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

# Browser assets (htmx) come from npm into node_modules/ and are served from there.
assets: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: pages work without htmx, but install Node.js/npm for the full experience"; fi

browser:
	@scripts/install-browser

clean:
	rm -rf $(VENV) node_modules var test-artifacts
