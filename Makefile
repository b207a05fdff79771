.DEFAULT_GOAL := help
UV ?= uv
HOST ?= 127.0.0.1
PORT ?= 8000

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

install: ## Install the locked dependencies into .venv
	$(UV) sync --frozen --compile-bytecode

run: ## Serve the API on the embedded default (SQLite, in-memory stores)
	$(UV) run meet serve --host $(HOST) --port $(PORT)

system-packages: ## Install the programs the tests run (Debian as root), or say which are missing
	@scripts/ensure-system-packages

lint: ## ruff, mypy (strict), the import-linter layer contract and hadolint (Dockerfile)
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench
	$(UV) run mypy
	$(UV) run lint-imports
	$(UV) run hadolint Dockerfile

test: system-packages install lint ## Set up what is missing, lint, then run the whole test suite against real services
	$(UV) run pytest

bench: ## Run the load benchmarks (PostgreSQL, Redis, several workers, wrk), then La Suite's surface, and update bench/results (BENCH_ARGS=--quick)
	$(UV) run python -m bench.run $(BENCH_ARGS)
	$(UV) run python -m bench.lasuite $(filter --quick,$(BENCH_ARGS))

.PHONY: help install system-packages run lint test bench
