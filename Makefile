# The README's two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/hub.toml
# The shared sample reports when they sit beside the checkout, else the copies the tests use.
SAMPLES ?= $(firstword $(wildcard ../shared/samples/records) tests/data/samples/records)

.PHONY: run test test-mongo test-edge install init-demo lint typecheck bench bench-quick clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,mongo,dev]'
	touch $(STAMP)

install: $(STAMP)

# Set up from scratch (idempotent), initialise the embedded SQLite hub with demo data, serve it.
run: install
	$(BIN)/taxii-hub --config $(CONFIG) init --demo --samples $(SAMPLES)
	$(BIN)/taxii-hub --config $(CONFIG) serve

# Set up from scratch, then the whole suite: layer contracts, lint, strict types, then every test.
test: install
	$(BIN)/lint-imports
	$(BIN)/ruff check taxii_server converters tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The MongoDB tests (storage contract, backend tests, 503 path) against a real server as well as mongomock:
# TAXII_HUB_TEST_MONGO_URI=mongodb://host1,host2,host3/?replicaSet=rs0 make test-mongo (databases are per test).
test-mongo: install
	@test -n "$$TAXII_HUB_TEST_MONGO_URI" || { echo "set TAXII_HUB_TEST_MONGO_URI to a MongoDB replica set" >&2; exit 2; }
	$(BIN)/python -m pytest -k mongo

# The example edge (deploy/nginx/taxii-hub.conf) in front of a real hub: TLS policy, body and header limits,
# slow clients, request smuggling, identity headers (tests/edge/, marker `edge`; not part of `make test`).
# Installs Debian's nginx when it is missing (as root: apt-get update, then nginx-light if the archive has
# it, else nginx). The tests run their own nginx on 127.0.0.1 from a temporary directory.
test-edge: install
	@if ! command -v nginx >/dev/null 2>&1 && ! test -x /usr/sbin/nginx; then \
	  test "$$(id -u)" = 0 || { echo "nginx is missing; as root: apt-get install nginx-light" >&2; exit 2; }; \
	  apt-get update && \
	  if apt-cache policy nginx-light | grep -q 'Candidate: [0-9]'; then pkg=nginx-light; else pkg=nginx; fi && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y $$pkg; \
	fi
	$(BIN)/python -m pytest -m edge tests/edge

# The web console's message catalogues: extract the texts of its templates and views, merge them into each
# language's .po (translate the new, empty ones there), compile the .mo files Flask-Babel reads (committed).
CONSOLE := taxii_server/web/console
translations: install
	$(BIN)/pybabel extract -F $(CONSOLE)/babel.cfg -k N_ --no-location --sort-output --omit-header \
	  -o $(CONSOLE)/translations/messages.pot $(CONSOLE)
	$(BIN)/pybabel update -i $(CONSOLE)/translations/messages.pot -d $(CONSOLE)/translations --width 120 \
	  --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(CONSOLE)/translations --statistics

lint: install
	$(BIN)/ruff check taxii_server converters tests bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.run

bench-quick: install
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .hypothesis
