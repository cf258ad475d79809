# The two commands a newcomer needs: `make run` and `make test`. Both install what they need first:
# the system packages (scripts/system-packages.sh: installed as root, else the command to run),
# then the pinned Python packages into .venv.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lock lint typecheck bench system-run system-test
# The system check must stop a run before pip installs anything, so prerequisites run in order.
.NOTPARALLEL:

run: system-run $(STAMP)
	$(BIN)/interview-bot validate
	$(BIN)/interview-bot index
	$(BIN)/interview-bot serve --host $(HOST) --port $(PORT)

test: system-test $(STAMP)
	$(BIN)/python -m pytest

system-run system-test: system-%:
	PYTHON=$(PYTHON) scripts/system-packages.sh $*

install: $(STAMP)

# The lock pins every package: installing it with plain pip takes about a minute, where an
# unpinned install of this stack backtracks for more than 15 minutes.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Refresh the lock after changing dependencies in pyproject.toml (needs `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra test --python-version 3.11 -o requirements.lock

lint: $(STAMP)
	$(BIN)/ruff check bot tests

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/app.py
