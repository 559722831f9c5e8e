# SPDX-License-Identifier: Apache-2.0
# The two commands a newcomer needs: `make demo` and `make test`. Both set everything up first.
SHELL     := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV      := .venv
PY        := $(VENV)/bin/python
FUZZ_RUNS ?= 20000
SOAK_SESSIONS ?= 1000
# `make fuzz FUZZ_RUNS=1000000` is the long run reported in closing notes.

.PHONY: setup demo test lint unit bench fuzz soak clean

setup:
	@bash .ci/setup

demo: setup
	$(VENV)/bin/ccy-sim demo

test: setup lint
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory fuzz FUZZ_RUNS=$(FUZZ_RUNS)

lint:
	$(VENV)/bin/ruff check services tests benchmarks
	$(VENV)/bin/ruff format --check services tests benchmarks
	$(VENV)/bin/mypy

bench: setup
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

# SOAK_SESSIONS consecutive EV-simulator sessions against the whole stack: zero failures,
# RSS growth <= 5 % per unit, file descriptors stable, retention limits held.
soak: setup
	$(PY) benchmarks/soak.py $(SOAK_SESSIONS)

fuzz: setup
	@set -e; for f in tests/fuzz/fuzz_*.py; do \
	  [ -e "$$f" ] || continue; echo "== $$f ($(FUZZ_RUNS) runs)"; \
	  $(PY) $$f -atheris_runs=$(FUZZ_RUNS) -print_final_stats=1 2>&1 | tail -n 4; \
	done

clean:
	rm -rf $(VENV) .cache build .mypy_cache .ruff_cache .pytest_cache
