# The two commands a new user needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrate demo ci smoke bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# The local demo runs with DEBUG on (an embedded dev secret) unless you set DEBUG yourself.
run: export DEBUG ?= true
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Studio CRM is starting on http://$(HOST):$(PORT)/ (Ctrl+C stops it)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/pytest $(PYTEST_ARGS)

# Every pre-commit hook (ruff, migrations, whitespace) on every file, as CI runs it.
lint: $(VENV)/.installed-dev
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The production roles (docker/entrypoint.sh) as processes behind Debian's nginx over HTTPS, on the
# PostgreSQL and Redis of SMOKE_POSTGRES_URL / SMOKE_REDIS_URL (see docker/smoke.py).
smoke: $(VENV)/.installed
	$(BIN)/python docker/smoke.py

ci:
	bash .ci/run

# Load the studio under gunicorn on PostgreSQL + Redis (DATABASE_URL, REDIS_URL; seeded with
# `manage.py seed_demo --bookings N`) beside a trivial view, with wrk; see bench/README.md.
bench: $(VENV)/.installed
	$(BIN)/python -m bench $(BENCH_ARGS)
