# Two entry points (see README): `make run` and `make test`. Everything else is set-up they need.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint setup setup-test assets npm browser bench screenshots

run: setup
	$(VENV)/bin/strike-atlas init
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

test: setup-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

lint: setup-test
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

setup: $(VENV)/.installed assets

setup-test: $(VENV)/.installed-test assets browser

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# Leaflet & co. from the npm registry into static/vendor (served by Streamlit, never a CDN).
assets: $(VENV)/.installed npm
	$(VENV)/bin/strike-atlas assets fetch

# npm is only the client that fetches the pinned asset tarballs from the npm registry.
npm:
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; \
	  else echo "npm missing: run 'sudo apt-get install npm'" >&2; exit 1; fi; }

# Debian's chromium for the end-to-end tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium missing: run 'sudo apt-get install chromium'" >&2; exit 1; fi; }

bench: setup
	$(PY) bench/map_cost.py

# README pictures: the map browser tests, saving docs/screenshots/*.png as they go.
screenshots: setup-test
	STRIKE_ATLAS_SCREENSHOTS=docs $(PY) -m pytest tests/e2e/test_map_browser.py -q
