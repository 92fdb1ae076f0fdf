# Two commands on a fresh machine: `make demo` (the main job) and `make test` (the test suite).
# Each creates .venv and installs what it needs. TORCH picks the PyTorch build: the default is
# the CPU build; on a CUDA machine use e.g. `make TORCH=torch demo` to take pip's default build.
VENV ?= .venv
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench gpu-check

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(VENV)/bin/munit-fast demo

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -p no:cacheprovider tests
	$(PY) -m pytest -q -p no:cacheprovider benches --quick --benchmark-disable

lint: setup
	$(VENV)/bin/ruff check .

# Saved without pytest-benchmark's per-round samples (benches/conftest.py); files from elsewhere:
# munit-fast bench --compact FILE.json
bench: setup
	mkdir -p benches/results
	$(PY) -m pytest benches --benchmark-only --benchmark-json benches/results/cpu.json
	$(VENV)/bin/munit-fast bench --report benches/results/cpu.json

gpu-check:
	bash benches/gpu_check.sh
