# The README's two commands: `make run` and `make test`. Everything else is optional.
#
# `make run` installs only what the hub needs to run; `make test` adds the test, MongoDB and development extras
# and, as root on Debian, the Chromium and CJK fonts the console's browser tests drive (otherwise it stops at
# once and names the one command to run). Both install the versions pinned in constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := constraints.txt
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# setuptools warns on every editable install that a folder of the package's name could shadow it: noise here.
PIP_INSTALL := PYTHONWARNINGS='ignore:Editable installation' $(BIN)/pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS)
CONFIG ?= config/hub.toml
# The shared sample reports when they sit beside the checkout, else the copies the tests use.
SAMPLES ?= $(firstword $(wildcard ../shared/samples/records) tests/data/samples/records)
# What the browser tests need from Debian (tests/web/console/test_console_browser.py).
BROWSER_PACKAGES := chromium fonts-noto-cjk
BROWSER_FILES := /usr/bin/chromium /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
# `step` prints a progress line; a command between $(TIMED) and $(DONE) says how long it took.
comma := ,
step = @printf '==> %s\n' $(1)
TIMED := start=$$(date +%s);
DONE := && printf '    done in %s s\n' $$(( $$(date +%s) - start ))

.PHONY: run test test-min test-mongo test-edge test-system install install-run init-demo lint typecheck bench \
	bench-quick clean translations constraints

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "taxii-hub needs Python 3.11 or newer; '$(PYTHON)' is not. Run: make $(MAKECMDGOALS) PYTHON=python3.11" >&2; \
	  exit 2; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || $(MAKE) --no-print-directory python-venv
	$(call step,"creating the Python environment $(VENV) ($(PYTHON) -m venv)")
	@$(TIMED) $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel $(DONE)

# Debian's python3 has no venv module until python3-venv is installed.
.PHONY: python-venv
python-venv:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  printf '==> %s\n' "installing Debian's python3-venv (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	else \
	  echo "$(PYTHON) cannot create virtual environments; as root run: apt-get install -y python3-venv" >&2; exit 2; \
	fi

$(RUN_STAMP): $(BIN)/python setup.cfg pyproject.toml $(CONSTRAINTS)
	$(call step,"installing taxii-hub and what it needs to run into $(VENV) (about a minute on a fresh machine)")
	@$(TIMED) $(PIP_INSTALL) -e . $(DONE)
	@touch $@

# The test extras include everything `make run` needs: a full install satisfies both stamps.
$(TEST_STAMP): $(BIN)/python setup.cfg pyproject.toml $(CONSTRAINTS)
	$(call step,"installing taxii-hub with its test$(comma) MongoDB and development extras into $(VENV) (2-3 minutes on a fresh machine)")
	@$(TIMED) $(PIP_INSTALL) -e '.[test,mongo,dev]' $(DONE)
	@touch $@ $(RUN_STAMP)

install-run: $(RUN_STAMP)

install: $(TEST_STAMP)

# What the browser tests need from the system: installed here as root with apt-get, else one line saying how.
test-system:
	@missing=""; for f in $(BROWSER_FILES); do [ -e "$$f" ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    printf '==> %s\n' "installing Debian's $(BROWSER_PACKAGES) for the console's browser tests (apt-get, a few minutes)"; \
	    start=$$(date +%s); \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null \
	      && printf '    done in %s s\n' $$(( $$(date +%s) - start )) || exit 2; \
	  else \
	    echo "make test: the browser tests need$$missing; as root run: apt-get install -y $(BROWSER_PACKAGES)" >&2; \
	    exit 2; \
	  fi; \
	fi

# Set up from scratch (idempotent), initialise the embedded SQLite hub with demo data, serve it.
run: install-run
	$(call step,"initialising the demo hub ($(CONFIG)$(comma) sample reports from $(SAMPLES))")
	@$(BIN)/taxii-hub --config $(CONFIG) init --demo --samples $(SAMPLES)
	$(call step,"starting the hub (Ctrl-C stops it)")
	@$(BIN)/taxii-hub --config $(CONFIG) serve

# Set up from scratch, then the whole suite: layer contracts, lint, strict types, then every test.
test: test-system install
	$(call step,"[1/4] import-layer contracts (lint-imports)")
	@$(BIN)/lint-imports --no-cache | tail -n 1
	$(call step,"[2/4] lint (ruff)")
	@$(BIN)/ruff check taxii_server converters tests bench
	$(call step,"[3/4] types (mypy --strict)")
	@$(BIN)/mypy
	$(call step,"[4/4] the test suite (pytest; about 8 minutes on 2 idle cores, longer on a busy machine)")
	@$(BIN)/python -m pytest

# The unit tests (no server processes, no browser, no API fuzzing) against the lowest versions setup.cfg
# declares, in a separate environment (.venv-min); test tools and indirect dependencies take what those allow.
MIN_VENV := .venv-min
test-min:
	$(call step,"creating $(MIN_VENV) with the lowest declared versions of taxii-hub's dependencies")
	@rm -rf $(MIN_VENV)
	@$(TIMED) $(PYTHON) -m venv $(MIN_VENV) && $(MIN_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel \
	  && $(PYTHON) .ci/minimum_versions.py setup.cfg > $(MIN_VENV)/minimum.txt \
	  && $(PYTHON) .ci/minimum_versions.py --unit-test-tools setup.cfg > $(MIN_VENV)/tools.txt \
	  && $(MIN_VENV)/bin/pip install --quiet --disable-pip-version-check -c $(MIN_VENV)/minimum.txt -e '.[mongo]' \
	     -r $(MIN_VENV)/tools.txt $(DONE)
	@sed 's/^/    /' $(MIN_VENV)/minimum.txt
	$(call step,"the unit tests against them (pytest -m 'not slow and not browser'; tests/api needs schemathesis)")
	@$(MIN_VENV)/bin/python -m pytest -q -p no:cacheprovider --ignore=tests/api -m "not slow and not browser and not edge"

# Pin what a fresh environment resolves today into constraints.txt (then run `make test`).
constraints:
	$(call step,"resolving every dependency in a fresh environment")
	@rm -rf .venv-pins && $(PYTHON) -m venv .venv-pins && .venv-pins/bin/pip install --quiet --upgrade pip setuptools wheel
	@.venv-pins/bin/pip install --quiet '.[test,mongo,dev]'
	@{ echo "# Versions CI and \`make run\`/\`make test\` install (pip -c). Regenerate with \`make constraints\`."; \
	  .venv-pins/bin/pip freeze --exclude taxii-hub; } > $(CONSTRAINTS)
	@rm -rf .venv-pins build
	@echo "wrote $(CONSTRAINTS)"

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
	$(BIN)/python -m bench.slowclients

bench-quick: install
	$(BIN)/python -m bench.run --quick
	$(BIN)/python -m bench.slowclients --quick

clean:
	rm -rf $(VENV) $(MIN_VENV) var .pytest_cache .mypy_cache .hypothesis
