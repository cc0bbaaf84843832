# Two commands on a fresh machine: `make demo` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-slow lint bench docs clean postgres

# (Re)create the virtual environment when pyproject.toml changes; `make install` forces a refresh.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgres,server,testing,dev]'
	touch $(STAMP)

install:
	rm -f $(STAMP)
	$(MAKE) $(STAMP)

demo: $(STAMP)
	$(BIN)/engage demo

# The tests start a private PostgreSQL server of their own (tests/postgres_server.py); this
# installs the server when the machine has none.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { echo "installing PostgreSQL for the tests"; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

test: $(STAMP) postgres
	$(BIN)/ruff check .
	$(BIN)/mypy --strict engage_core adapters tests
	$(BIN)/python -m pytest -q

test-slow: $(STAMP) postgres
	HYPOTHESIS_PROFILE=slow $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict engage_core adapters tests
	$(BIN)/python -m tests.shape_report engage_core adapters benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Regenerate the diagrams and tables of docs/lifecycles.md from the Machines, and the event
# reference of docs/events.md from the Segment mapping.
docs: $(STAMP)
	$(BIN)/python -c 'import pathlib; from engage_core.lifecycles.reference import refresh; \
	p = pathlib.Path("docs/lifecycles.md"); p.write_text(refresh(p.read_text()))'
	$(BIN)/python -c 'import pathlib; from engage_core.segment.reference import refresh; \
	p = pathlib.Path("docs/events.md"); p.write_text(refresh(p.read_text()))'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .schemathesis build dist *.egg-info
