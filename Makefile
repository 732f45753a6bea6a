# The habits of this project, one target each. `make run` and `make test` do all set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install services services-stop run test test-unit test-reliability lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "eventwire needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

services:
	PYTHON=$(PYTHON) scripts/services.sh start

services-stop:
	scripts/services.sh stop

# A development admin token, so the admin API and CLI work out of the box; set your own.
run: export EVENTWIRE_ADMIN_TOKEN ?= dev-admin-token
run: install services
	$(BIN)/eventwire config check
	$(BIN)/eventwire worker

test: install services
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: install
	$(BIN)/pytest -m "not services" $(PYTEST_ARGS)

# The reliability suite at full size (CI runs it with small counts inside `make test`).
test-reliability: install services
	EVENTWIRE_RELIABILITY=full EVENTWIRE_FUZZ_EXAMPLES=2000 $(BIN)/pytest -m reliability -s $(PYTEST_ARGS)

bench: install services
	$(BIN)/eventwire bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
