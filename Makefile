# Hamkari: `make run` starts the server with the demo data; `make test` runs the suite.
# Both install what they need into .venv first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install chromium wrk run test test-fast soak lint bench screenshots clean replicated

install: $(STAMP)

# the browser of tests/web: Debian's chromium (Playwright drives it; it downloads nothing)
chromium:
	test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# the HTTP load generator of `make bench`
wrk:
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: install
	$(BIN)/hamkari demo load
	$(BIN)/hamkari serve

test: install chromium
	$(BIN)/pytest

# a primary and a synchronous hot standby from the embedded binaries, until Ctrl-C
# (docs/operator-guide.md, "Replication, failover and the read replica")
replicated: install
	$(BIN)/python -m server.database.replicated

# everything but the slow fault and load tests
test-fast: install chromium
	$(BIN)/pytest -m "not slow"

# the soak of tests/faults for ten minutes instead of one (HAMKARI_SOAK_SECONDS)
soak: install
	HAMKARI_SOAK_SECONDS=$${HAMKARI_SOAK_SECONDS:-600} $(BIN)/pytest tests/faults/test_soak.py -s

# a PNG of every dashboard page in both languages into docs/dashboard/ (tests/web/screenshots.py)
screenshots: install chromium
	$(BIN)/pytest tests/web/screenshots.py -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check server schemas tests bench
	$(BIN)/ruff format --check server schemas tests bench
	$(BIN)/mypy

bench: install wrk
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var build *.egg-info
