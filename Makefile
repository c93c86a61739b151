# Two commands: `make run` and `make test`. Each bootstraps .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint lab bench clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian, apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/kizuna setup
	$(BIN)/kizuna serve

lab: $(VENV)/.installed
	$(BIN)/kizuna lab

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# With KIZUNA_TEST_DATABASE_URL set, the SQLite and PostgreSQL halves run side by side.
test: lint
	$(BIN)/python tests/run_suite.py

# Prints figures only (no pass/fail); PostgreSQL too when KIZUNA_TEST_DATABASE_URL is set.
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/timeline.py --posts 50000 --seconds 1
	$(BIN)/python bench/memory.py --posts 50000 --seconds 2
	$(BIN)/python bench/remote_lookup.py --rounds 100
	$(BIN)/python bench/inbox.py --seconds 3
	$(BIN)/python bench/fanout.py --followers 2000 --servers 50 --unshared 500 --workers 1,2
	$(BIN)/python bench/community_relay.py --rounds 30
	$(BIN)/python bench/domain_policy.py --seconds 0.5
	$(BIN)/python bench/html_cost.py
	$(BIN)/python bench/e2e_latency.py --posts 200 --posters 50 --local-posts 100 --local-posters 10

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
