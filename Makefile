# The two commands of the README. Both create .venv and install regwatch with its dev tools first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench browser

$(BIN)/regwatch: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --ignore-requires-python 'opa-golib-python-bindings==0.4.4'
	touch $(BIN)/regwatch

install: $(BIN)/regwatch

# Main job on the embedded defaults (default ruleset, sample inventory).
demo: install
	$(BIN)/regwatch demo

# Headless Chromium for the HTML report test (Debian package; as root, or the test skips with a reason).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1)) ; } || \
	  echo "chromium not installed: the HTML report screenshot test will be skipped"

# Lint, types, then the whole test suite (what .ci/run calls; pytest's summary is the last line).
test: install browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_rules.py
