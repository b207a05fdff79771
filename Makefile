.DEFAULT_GOAL := help
UV ?= uv
HOST ?= 127.0.0.1
PORT ?= 8000

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

install: ## Install the locked dependencies into .venv
	$(UV) sync --frozen

run: ## Serve the API on the embedded default (SQLite, in-memory stores)
	$(UV) run meet serve --host $(HOST) --port $(PORT)

lint: ## ruff, mypy (strict) and the import-linter layer contract
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench
	$(UV) run mypy
	$(UV) run lint-imports

test: lint ## Lint, then run the whole test suite against real services
	$(UV) run pytest

bench: ## Run the load benchmarks (PostgreSQL, Redis, several workers, wrk) and update bench/results (BENCH_ARGS=--quick)
	$(UV) run python -m bench.run $(BENCH_ARGS)

.PHONY: help install run lint test bench
