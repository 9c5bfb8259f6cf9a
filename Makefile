# tinydeploy: `make demo` runs the main job, `make test` runs the tests (both set up what is missing).
PY := .venv/bin/python
PYTEST_ARGS ?= -n 2 --durations=15

.PHONY: setup demo test bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PY) -m tinydeploy.demo

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	@$(PY) benchmarks/host_bench.py

clean:
	rm -rf build .pytest_cache
