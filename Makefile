# Hamkari: `make run` starts the server with the demo data; `make test` runs the suite.
# Both install what they need into .venv first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test test-fast lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: install
	$(BIN)/hamkari demo load
	$(BIN)/hamkari serve

test: install
	$(BIN)/pytest

# everything but the slow fault and load tests
test-fast: install
	$(BIN)/pytest -m "not slow"

lint: install
	$(BIN)/ruff check server schemas tests bench
	$(BIN)/ruff format --check server schemas tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var build *.egg-info
