# Two commands for a newcomer: `make run` (set up + run the bot on the
# embedded default: SQLite, the bundled data, dry-run) and `make test` (set up
# + every check CI runs). Both create .venv from nothing the first time, and
# say what they are doing while they do it.
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP_INSTALL := $(BIN)/pip install --disable-pip-version-check --progress-bar off

.PHONY: run test lint browser bench bundle clean

$(BIN)/govbot: pyproject.toml
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> installing govbot and its dependencies into $(VENV) (a minute or two the first time)"
	$(PIP_INSTALL) -e '.[dev]' | grep --line-buffered -E '^(Collecting|Successfully|ERROR)'
	@$(BIN)/govbot --version >/dev/null && echo "==> installed: $$($(BIN)/govbot --version)"
	@touch $@

# The browser tests' driver (Playwright for Python; the browser is Debian's Chromium).
$(VENV)/.browser: $(BIN)/govbot
	@echo "==> installing Playwright for Python (the browser tests drive /usr/bin/chromium)"
	$(PIP_INSTALL) -e '.[browser]' | grep --line-buffered -E '^(Collecting|Successfully|ERROR)'
	@touch $@

run: $(BIN)/govbot
	@echo "==> validating the bundled data (errors only)"
	$(BIN)/govbot validate --severity error
	@echo "==> starting govbot up (receiver, worker and clock); Ctrl-C stops it"
	$(BIN)/govbot up

lint: $(BIN)/govbot
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(VENV)/.browser
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
