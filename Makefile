# Two commands for a newcomer: `make run` (set up + run the bot on the
# embedded default: SQLite, the bundled data, dry-run) and `make test` (set up
# + every check CI runs). Both create .venv from nothing the first time.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bundle clean

$(BIN)/govbot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

run: $(BIN)/govbot
	$(BIN)/govbot validate --severity error
	$(BIN)/govbot up

lint: $(BIN)/govbot
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(BIN)/govbot
	$(BIN)/govbot bench validate

# Regenerate the bundled guidelines from the interop repo copy in ../shared.
# (The drafts then need the fixes of commit "Fix the defects govbot validate
# finds in the bundled drafts" re-applied: review the diff.)
bundle: $(BIN)/govbot
	rm -rf /tmp/govbot-bundle
	$(BIN)/govbot import interop ../shared/interop /tmp/govbot-bundle || true
	rm -rf guidelines && cp -r /tmp/govbot-bundle/guidelines guidelines

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
