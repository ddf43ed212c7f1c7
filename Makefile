# Task runner: each target is a thin wrapper over scripts/ (the README's commands).
.PHONY: help setup lint test prove vectors vectors-check bench all

help:
	@echo "setup          install Debian packages (swtpm, tpm2-tools) and .venv"
	@echo "prove          the main job: set up and run the Z3 proof suite"
	@echo "test           set up and pass every check (what CI runs)"
	@echo "lint           ruff check + format check"
	@echo "vectors        regenerate vectors/ from the spec"
	@echo "vectors-check  check the implementation against vectors/"
	@echo "bench          run the benchmarks (ratios against baselines)"

setup:
	bash scripts/setup.sh

prove:
	bash scripts/prove.sh

test:
	bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

vectors:
	.venv/bin/chainoftrust vectors generate

vectors-check:
	.venv/bin/chainoftrust vectors check

bench:
	.venv/bin/python benchmarks/bench_pcr.py

all: test
