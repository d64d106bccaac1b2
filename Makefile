# Two commands do all set-up on a fresh Linux machine:
#   make demo   create .venv if missing, install, run the end-to-end demo -> reports/demo/index.html
#   make test   same environment, run the test suite
# PYTHON=/path/to/python3.12 overrides the interpreter search.

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

PYTHON ?= $(shell for p in python3.13 python3.12 python3 python; do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
	  then command -v $$p; break; fi; done)

.PHONY: demo test lint bench clean-venv java

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: bayescausal needs Python >= 3.12 and none was found on PATH."; \
	  echo "       Install one (e.g. 'pyenv install 3.12' or your distribution's python3.12) or run 'make PYTHON=/path/to/python3.12 ...'."; \
	  exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || \
	  { echo "error: $(PYTHON) is older than Python 3.12; pymc>=6 and arviz>=1 need 3.12+."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@$(MAKE) --no-print-directory java
	@touch $(STAMP)

# Apache Spark (engine = "spark", and its tests) runs on a Java runtime: install the distribution's when missing.
java:
	@command -v java >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing a Java runtime for Spark (default-jre-headless)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  else \
	    echo "note: no Java runtime found; install one (e.g. 'sudo apt-get install default-jre-headless') for the Spark engine and its tests"; \
	  fi; }

demo: $(STAMP)
	$(BIN)/bayescausal demo --out reports/demo --force

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

lint: $(STAMP)
	$(BIN)/ruff check bayescausal tests scripts benchmarks
	$(BIN)/ruff format --check bayescausal tests scripts benchmarks

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/ab.py

clean-venv:
	rm -rf $(VENV)
