# nxgeo — the two commands a user needs: `make run` and `make test`.
# Everything is set up from scratch on a machine with Python 3.11+, make and git.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nxgeo-installed
GUARD  := $(VENV)/.nxgeo-yamlguard
CONFIG ?= config/config.yaml
CORES  ?= 2
# test workers (pytest-xdist, whole files per worker; the workflow tests share one tiny run)
TEST_WORKERS ?= 2
# more pytest arguments, e.g. make test PYTEST_ARGS="-k survey"
PYTEST_ARGS ?=

.PHONY: run test test-slow lint env sample validate clean-results bench bench-quick bench-reach10 help peers

help:
	@echo "make run    - set up, build the embedded sample if missing, run the whole pipeline"
	@echo "make test   - set up, check the code (make lint) and run the test suite"
	@echo "make lint   - ruff (lint + format) and mypy (types of src/nxgeo)"
	@echo "make test-slow - the tests that make whole extra pipeline runs (CI runs them too)"
	@echo "make sample - (re)build only the embedded sample region"
	@echo "make validate - check the inputs named in CONFIG ($(CONFIG))"
	@echo "make bench  - whole pipeline at 120/60/30 m + GDAL/exactextract comparisons -> benchmarks/report.md (~1.5 h on 2 cores; +6 min the first time: samples)"
	@echo "make bench-quick - the same at 120 m only -> benchmarks/runs/report_quick.md (~5 min)"
	@echo "make bench-reach10 - one reach ($(REACH10)) at 10 m on the region cut to its counties, + the same at 30 m -> benchmarks/runs/reach_10m.md"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nxgeo needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

# Config files are read as data only, even by Snakemake's own start-up (nxgeo.yamlguard)
$(GUARD): $(STAMP) src/nxgeo/yamlguard.py
	$(BIN)/python -m nxgeo.yamlguard --install
	@touch $(GUARD)

env: $(STAMP) $(GUARD)

sample: env
	$(BIN)/nxgeo sample --config $(CONFIG)

validate: env
	$(BIN)/nxgeo validate --config $(CONFIG)

run: env
	$(BIN)/snakemake --profile workflow/profiles/default --configfile $(CONFIG) --cores $(CORES)
	@$(BIN)/python -m nxgeo.cli where --config $(CONFIG)

# the code's own checks first: lint and formatting (ruff), types (mypy: src/nxgeo, settings in
# pyproject.toml [tool.mypy]); a failure names file and line
lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: env lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# the tests that each make a whole extra pipeline run (marked slow; CI runs them in make test's session: .ci/run)
test-slow: env
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m slow $(PYTEST_ARGS)

clean-results:
	rm -rf results/*/ .snakemake/log

# InVEST (test-only peer) in its own environment, for the `peer` comparison tests
peers:
	bash scripts/install_peers.sh

# Benchmarks (not part of `make test`): the sample at 120, 60 and 30 m is generated once and
# cached in benchmarks/cache/ (git-ignored; 30 m: ~3 min, 3.2 GB peak). The comparisons need
# the GDAL command-line tools (apt-get install gdal-bin python3-gdal) and rasterstats.
BENCH_DEPS := $(VENV)/.nxgeo-bench-deps
$(BENCH_DEPS): $(STAMP)
	$(BIN)/python -c "import rasterstats" 2>/dev/null || $(BIN)/python -m pip install --quiet rasterstats
	@touch $(BENCH_DEPS)

bench: env $(BENCH_DEPS)
	$(BIN)/python benchmarks/run_bench.py --resolutions 120 60 30 --cores $(CORES) --repeat 2

bench-quick: env $(BENCH_DEPS)
	$(BIN)/python benchmarks/run_bench.py --resolutions 120 --cores $(CORES) --report benchmarks/runs/report_quick.md

# One reach at true 10 m (issue #20): the whole pipeline on the region cut down to the counties
# the reach overlaps, inputs from the 30 m sample (built once, ~3 min); the same cut at 30 m
# beside it. Wants a quiet machine.
# yinchuan: the one reach whose counties can be cut out today (benchmarks/reach_10m.py says why)
REACH10 ?= yinchuan
bench-reach10: env
	$(BIN)/python benchmarks/reach_10m.py --reach $(REACH10) --resolution 10 --sample-resolution 30 --compare-resolution 30 --cores $(CORES)
