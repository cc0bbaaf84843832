# Two commands on a fresh machine: `make demo` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-slow lint bench bench-quick docs clean postgres browser

# (Re)create the virtual environment when pyproject.toml changes; `make install` forces a refresh.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgres,server,testing,dev]'
	touch $(STAMP)

install:
	rm -f $(STAMP)
	$(MAKE) $(STAMP)

# The demo needs Engage alone: a fresh machine installs it bare (no dev tools, a quick start);
# the venv `make test` made already has it. Runs on a fresh store in demo/ each time.
DEMO_STAMP := $(VENV)/.demo-stamp
DEMO := demo
DEMO_STORE := sqlite:///$(CURDIR)/$(DEMO)/engage.db
$(DEMO_STAMP): pyproject.toml
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then :; else \
	  $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip && \
	  $(BIN)/python -m pip install --quiet -e .; fi
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	@echo "== 10,000 simulated messages (SMS, email, WhatsApp), signed as each provider signs them"
	$(BIN)/engage --store $(DEMO_STORE) simulate --messages 10000 --seed 1 --out $(DEMO)/traffic
	@echo "== the Segment events delivered to a JSON Lines file"
	$(BIN)/engage --store $(DEMO_STORE) deliver --once
	@echo "== every view rebuilt from the log, then the live digests: the same"
	$(BIN)/engage --store $(DEMO_STORE) rebuild --all > $(DEMO)/rebuilt.json
	$(BIN)/engage --store $(DEMO_STORE) digest > $(DEMO)/live.json
	@$(BIN)/python -c "import json,sys; r=json.load(open('$(DEMO)/rebuilt.json')); \
	  l=json.load(open('$(DEMO)/live.json')); bad=[v for v in l if l[v]['digest']!=r[v]['digest']]; \
	  [print(f'  {v:<16} {l[v][\"rows\"]:>7} rows  {l[v][\"digest\"][:16]}  ' + \
	  ('matches' if v not in bad else 'DIFFERS')) for v in l]; sys.exit(1 if bad else 0)"
	@echo "== files: store $(DEMO)/engage.db, views $(DEMO)/engage.views.db,"
	@echo "   events $(DEMO)/engage.events.jsonl, traffic and truth.json in $(DEMO)/traffic/"
	@echo "== try next:"
	@echo "   $(BIN)/engage --store $(DEMO_STORE) events --limit 5"
	@echo "   $(BIN)/engage --store sqlite:///$(CURDIR)/$(DEMO)/hostile.db simulate --messages 2000 --seed 2 --profile hostile"
	@echo "   $(BIN)/engage --store $(DEMO_STORE) subscription sms +14155550007 --history"

# The tests start a private PostgreSQL server of their own (tests/postgres_server.py); this
# installs the server when the machine has none.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { echo "installing PostgreSQL for the tests"; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

# The preference pages' tests drive a real headless browser: Debian's chromium through
# chromium-driver (browser builds that download themselves are not used).
browser:
	@command -v chromedriver >/dev/null 2>&1 && \
	  { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } || \
	  { echo "installing chromium and chromium-driver for the browser tests"; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: $(STAMP) postgres browser
	$(BIN)/ruff check .
	$(BIN)/mypy --strict engage_core adapters tests
	$(BIN)/python -m pytest -q

test-slow: $(STAMP) postgres browser
	HYPOTHESIS_PROFILE=slow $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict engage_core adapters tests
	$(BIN)/python -m tests.shape_report engage_core adapters benchmarks

# Every goal's workload at full size, then scaling at 10k/100k/1M inputs; rewrites both tables
# of docs/benchmarks.md (20-30 minutes). bench-quick: small inputs, the table as JSON on
# stdout and nothing else there (under 2 minutes; no PostgreSQL, no scaling).
bench: $(STAMP) postgres
	$(BIN)/python -m benchmarks --table --scaling --write

bench-quick: $(STAMP)
	@$(BIN)/python -m benchmarks --table --quick --json \
	  --only ingest --only sendgrid --only rebuild --only consent --only cli --only footprint \
	  --only service

# Regenerate the diagrams and tables of docs/lifecycles.md from the Machines, and the event
# reference of docs/events.md from the Segment mapping.
docs: $(STAMP)
	$(BIN)/python -c 'import pathlib; from engage_core.lifecycles.reference import refresh; \
	p = pathlib.Path("docs/lifecycles.md"); p.write_text(refresh(p.read_text()))'
	$(BIN)/python -c 'import pathlib; from engage_core.segment.reference import refresh; \
	p = pathlib.Path("docs/events.md"); p.write_text(refresh(p.read_text()))'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .schemathesis build dist *.egg-info
