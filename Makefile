# evaltools: two commands on a fresh machine.
#   make demo   create .venv, install, build the sample data if missing, execute every notebook into build/report/
#   make test   create .venv, install, lint (ruff, mypy), run the full test suite (notebooks included)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install demo test test-slow lint bench sample clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python -m evaltools.demo --out build/report

sample: install
	$(BIN)/python -m evaltools.demo --sample-only

lint: install
	$(BIN)/python -m ruff check evaltools tests benchmarks
	$(BIN)/python -m mypy evaltools

test: install lint
	MPLBACKEND=Agg $(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

test-slow: install
	MPLBACKEND=Agg $(BIN)/python -m pytest -n 2 --dist loadfile --run-slow $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf build .pytest_cache .ruff_cache
