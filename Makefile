# The two commands a newcomer needs: `make run` and `make test`. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install ingest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch is installed first so that its pinned CPU build is the one every other package sees.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

ingest: $(STAMP)
	$(BIN)/python -m retrieval ingest

# Starts the Discord bot when DISCORD_TOKEN is set (environment or .env); otherwise the terminal Q&A.
run: $(STAMP)
	@$(BIN)/python -m retrieval ingest
	@if $(BIN)/python -c "import sys; from bot.settings import BotSecrets; sys.exit(not BotSecrets().discord_token)"; then \
		$(BIN)/python -m bot; \
	else \
		echo "DISCORD_TOKEN is not set, so the terminal Q&A starts instead of the Discord bot (Ctrl-D quits)."; \
		$(BIN)/python -m retrieval chat; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check bot retrieval tests benchmarks
	$(BIN)/ruff format --check bot retrieval tests benchmarks
	$(BIN)/mypy bot retrieval

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
