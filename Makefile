# twofactor: `make run` for a local server with demo data, `make test` for the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_ENV := DJANGO_DEBUG=1

.PHONY: run test test-django6 lint bench bench-load bench-export bench-mail profile screenshots migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite (browser tests aside) on the newest Django 6.x, which needs Python 3.12 or later.
# PYTHON_LATEST names that interpreter; .ci/run finds one when the machine has it.
PYTHON_LATEST ?= python3.12
VENV6 := .venv-django6
test-django6:
	test -x $(VENV6)/bin/python || $(PYTHON_LATEST) -m venv $(VENV6)
	$(VENV6)/bin/python -m pip install --quiet --upgrade pip
	$(VENV6)/bin/python -m pip install --quiet "Django>=6,<7" -e ".[test]"
	$(VENV6)/bin/python -m pytest -p no:cacheprovider --ignore=tests/browser -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Complete sign-ins against gunicorn on DATABASE_URL's PostgreSQL and REDIS_URL's Redis: flows/s,
# latency and SQL per step, server CPU per flow (bench/load.py; BENCH_ARGS="--help" for more).
bench-load: $(STAMP)
	$(BIN)/python bench/load.py $(BENCH_ARGS)

# Memory of a security log export: 100,000 seeded events against an empty log, through the real
# view (bench/export_memory.py; BENCH_ARGS="--events 500000" for more). Exits 1 over target.
bench-export: $(STAMP)
	$(BIN)/python bench/export_memory.py $(BENCH_ARGS)

# The password step with a mail server that takes 2 s to answer: it must not take 2 s longer
# (bench/mail.py; the email is queued, the worker sends it).
bench-mail: $(STAMP)
	$(BIN)/python bench/mail.py $(BENCH_ARGS)

# A flamegraph of one worker under that load (py-spy, from the bench extra): bench/out/.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(BENCH_STAMP)

profile: $(BENCH_STAMP)
	$(BIN)/python bench/load.py --profile $(BENCH_ARGS)

screenshots: $(STAMP)
	SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser/test_screenshots.py -p no:cacheprovider -q

clean:
	rm -rf $(VENV) $(VENV6) staticfiles .pytest_cache .ruff_cache
