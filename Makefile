# Two commands on a fresh machine: `make demo` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-slow lint bench docs clean

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

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict engage_core
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	HYPOTHESIS_PROFILE=slow $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict engage_core adapters

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Regenerate the diagrams and tables of docs/lifecycles.md from the Machines.
docs: $(STAMP)
	$(BIN)/python -c 'import pathlib; from engage_core.lifecycles.reference import refresh; \
	p = pathlib.Path("docs/lifecycles.md"); p.write_text(refresh(p.read_text()))'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
