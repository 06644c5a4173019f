# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit unit-shifted bench clean

$(STAMP): pyproject.toml
	@echo "Installing jamsostek-channels and its dependencies into $(VENV) (about a minute, once)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jamsostek-channels demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --strict bench
	$(BIN)/lint-imports --no-cache

unit: $(STAMP)
	$(BIN)/pytest

test: lint unit

# The suite under a clock shifted to 23:59 WIB on 31 December of next year (faketime): it starts a
# year or more ahead and crosses midnight Asia/Jakarta at a month's and a year's end while it runs.
# Only the wall clock moves: a shifted monotonic clock makes every timed wait block for the shift
# (.ci/faketime/sitecustomize.py says why time.sleep needs a stand-in then).
SHIFTED = FAKETIME_DONT_FAKE_MONOTONIC=1 PYTHONPATH=$(CURDIR)/.ci/faketime \
	faketime -f "+$$(( $(SHIFT_TO) - $$(date -u +%s) ))"
SHIFT_TO := $(shell date -u -d "$$(( $$(date -u +%Y) + 1 ))-12-31 16:59:30" +%s 2>/dev/null)
unit-shifted: $(STAMP)
	@command -v faketime >/dev/null || { echo "unit-shifted needs faketime (apt-get install faketime)"; exit 2; }
	$(SHIFTED) $(BIN)/python -c "import datetime as d; print('shifted clock:', d.datetime.now(d.timezone(d.timedelta(hours=7))))"
	$(SHIFTED) $(BIN)/pytest -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
