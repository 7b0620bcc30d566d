.PHONY: run test bench lint format
run:    ## set up and start the app on http://127.0.0.1:8000 (SQLite)
	bash scripts/run.sh
test:   ## set up and run every check and test (SQLite, PostgreSQL, browser)
	bash scripts/test.sh
bench:  ## engine, estimator and load benchmarks; numbers in bench/results/
	bash scripts/bench.sh
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports
format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .
