# Two commands: `make run` starts the bot (the playground without a token), `make test` runs
# lint + types + tests (browser tests included).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: run test clean locales

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(STAMP_RUN)

# Without a BOT_TOKEN (environment or .env) Iris opens the playground, a local web chat.
run: $(STAMP_RUN)
	@if [ -n "$$BOT_TOKEN" ] || grep -Eqs '^[[:space:]]*BOT_TOKEN[[:space:]]*=[[:space:]]*[^[:space:]#]' .env; then \
		exec $(BIN)/python -m bot; \
	else \
		exec $(BIN)/python -m bot playground; \
	fi

test: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	# Four workers on two cores: the tests mostly wait on sockets and child processes.
	$(BIN)/pytest -n 4

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

locales: $(STAMP_DEV)
	$(BIN)/python scripts/update_locales.py

STAMP_BENCH := $(VENV)/.installed-bench

$(STAMP_BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $@ $(STAMP_DEV) $(STAMP_RUN)

.PHONY: bench
bench: $(STAMP_BENCH)
	$(BIN)/python -m bench
