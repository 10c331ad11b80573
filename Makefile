# nxgeo — the two commands a user needs: `make run` and `make test`.
# Everything is set up from scratch on a machine with Python 3.11+, make and git.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nxgeo-installed
CONFIG ?= config/config.yaml
CORES  ?= 2

.PHONY: run test env sample validate clean-results bench help peers

help:
	@echo "make run    - set up, build the embedded sample if missing, run the whole pipeline"
	@echo "make test   - set up and run the test suite"
	@echo "make sample - (re)build only the embedded sample region"
	@echo "make validate - check the inputs named in CONFIG ($(CONFIG))"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nxgeo needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

env: $(STAMP)

sample: env
	$(BIN)/nxgeo sample --config $(CONFIG)

validate: env
	$(BIN)/nxgeo validate --config $(CONFIG)

run: env
	$(BIN)/snakemake --profile workflow/profiles/default --configfile $(CONFIG) --cores $(CORES)
	@$(BIN)/python -m nxgeo.cli where --config $(CONFIG)

test: env
	$(BIN)/python -m pytest

clean-results:
	rm -rf results/*/ .snakemake/log

# InVEST (test-only peer) in its own environment, for the `peer` comparison tests
peers:
	bash scripts/install_peers.sh
