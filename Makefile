# Bookly's two everyday commands: `make run` and `make test`. Everything else they need
# (uv, the virtual environment, the locked dependencies) is set up on first use.

SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test lint clean bench bench-pooler bench-scale bench-soak bench-storm bench-burst bench-workers bench-relevance wrk pgbouncer

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python python3
	touch $@

install: $(VENV)/.synced  ## the environment, from the lock file

# Serving needs no test or lint tools: `make run` installs the runtime dependencies only (and
# leaves alone whatever else an earlier `make install` put there).
$(VENV)/.synced-serving: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --no-dev --inexact --python python3
	touch $@

run: $(VENV)/.synced-serving  ## migrate the database and serve on http://$(HOST):$(PORT)
	$(VENV)/bin/bookly migrate
	$(VENV)/bin/bookly serve --host $(HOST) --port $(PORT)

test: install  ## the whole suite on SQLite, then on PostgreSQL + Redis when they answer
	scripts/test-all

lint: install  ## what CI checks besides the tests
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy src

# Benchmarks (bench/README.md): PostgreSQL + Redis, servers on core 0, wrk on core 1.
# BENCH_ARGS passes options to bench/run.py, e.g. BENCH_ARGS="--quick --scenarios S4".
BENCH := $(VENV)/bin/python bench/run.py

wrk:
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)

bench: install wrk  ## Bookly against the raw baseline, every scenario (about 15 minutes)
	$(BENCH) $(BENCH_ARGS)

# Debian's PgBouncer (in /usr/sbin; its service stays stopped: the benchmark starts its own).
pgbouncer:
	@[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null || (apt-get update && apt-get install -y pgbouncer)

bench-pooler: install wrk pgbouncer  ## S1, S2 through PgBouncer (transaction pooling) against direct
	$(BENCH) --mode pooler $(BENCH_ARGS)

bench-scale: install wrk  ## S2, S6, S3, S3t, S7 latency at 10k and at 1M books (seeding 1M takes long)
	$(BENCH) --mode scale $(BENCH_ARGS)

bench-soak: install wrk  ## RSS of one server over 10 minutes of S1-S5
	$(BENCH) --mode soak $(BENCH_ARGS)

bench-storm: install wrk  ## S1 p99 alone and while 16 clients log in without pause
	$(BENCH) --mode storm $(BENCH_ARGS)

bench-burst: install wrk  ## 32 sign-ins at once to one process; then sign-ins past capacity, shed
	$(BENCH) --mode burst $(BENCH_ARGS)

bench-workers: install wrk  ## S1 and S4 with 1 and 2 worker processes (not pinned): the ratio
	$(BENCH) --mode workers $(BENCH_ARGS)

# The relevance benchmark's own dependency (tantivy) is in the `bench-relevance` group, not the app's.
bench-relevance: $(UV)  ## search relevance on goodbooks-10k: Bookly (PostgreSQL, SQLite), pg_trgm, tantivy
	$(UV) sync --frozen --python python3 --group bench-relevance
	$(VENV)/bin/python bench/relevance/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
