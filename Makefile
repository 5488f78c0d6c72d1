# The README's two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/hub.toml
# The shared sample reports when they sit beside the checkout, else the copies the tests use.
SAMPLES ?= $(firstword $(wildcard ../shared/samples/records) tests/data/samples/records)

.PHONY: run test test-mongo install init-demo lint typecheck bench bench-quick clean

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

# Set up from scratch, then the whole suite: layer contracts, then every test.
test: install
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# The MongoDB tests (storage contract, backend tests, 503 path) against a real server as well as mongomock:
# TAXII_HUB_TEST_MONGO_URI=mongodb://host1,host2,host3/?replicaSet=rs0 make test-mongo (databases are per test).
test-mongo: install
	@test -n "$$TAXII_HUB_TEST_MONGO_URI" || { echo "set TAXII_HUB_TEST_MONGO_URI to a MongoDB replica set" >&2; exit 2; }
	$(BIN)/python -m pytest -k mongo

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
