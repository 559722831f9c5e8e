# SPDX-License-Identifier: Apache-2.0
# The two commands a newcomer needs: `make demo` and `make test`. Both set everything up first.
SHELL     := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV      := .venv
PY        := $(VENV)/bin/python
FUZZ_RUNS ?= 20000
FUZZ_SEED ?= 0
TEST_FUZZ_SEED ?= 1
SOAK_SESSIONS ?= 1000
# `make fuzz FUZZ_RUNS=1000000` is the long run reported in closing notes.

.PHONY: setup demo test lint unit bench fuzz soak clean

setup:
	@bash .ci/setup

demo: setup
	$(VENV)/bin/ccy-sim demo

test: setup lint
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory fuzz FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SEED=$(TEST_FUZZ_SEED)

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

# Every target first replays the inputs that once crashed it (tests/fuzz/regressions/<target>/),
# then fuzzes FUZZ_RUNS inputs from FUZZ_SEED (0 = a new seed each run; `make test` fixes it
# so CI is reproducible). A crash prints the target's report and leaves the input in build/fuzz/.
fuzz: setup
	@mkdir -p build/fuzz; for f in tests/fuzz/fuzz_*.py; do \
	  name=$$(basename $$f .py); log=build/fuzz/$$name.log; \
	  echo "== $$f ($(FUZZ_RUNS) runs, seed $(FUZZ_SEED))"; \
	  regressions=; [ ! -d tests/fuzz/regressions/$$name ] || regressions=$$(find tests/fuzz/regressions/$$name -type f | sort); \
	  if [ -n "$$regressions" ] && ! $(PY) $$f $$regressions >$$log 2>&1; then \
	    tail -n 40 $$log; echo "fuzz: $$name fails on a recorded regression input"; exit 1; fi; \
	  if ! $(PY) $$f -atheris_runs=$(FUZZ_RUNS) -seed=$(FUZZ_SEED) -print_final_stats=1 \
	      -artifact_prefix=build/fuzz/$$name- >$$log 2>&1; then \
	    tail -n 40 $$log; echo "fuzz: $$name crashed; the input is build/fuzz/$$name-crash-*," \
	      "add it to tests/fuzz/regressions/$$name/ with the fix"; exit 1; fi; \
	  tail -n 4 $$log; \
	done

clean:
	rm -rf $(VENV) .cache build .mypy_cache .ruff_cache .pytest_cache
