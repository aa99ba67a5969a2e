# The two commands a newcomer needs: `make run` (demo marketplace) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
export FLASK_APP := wsgi:app
LOCALES := en zh_Hans ru ar tr kk

.PHONY: run test test-sqlite test-postgres lint fmt bench translations-extract translations-update translations-compile migrate migration system-deps clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $@

venv: $(VENV)/.installed

## System packages the app needs (fonts for customs documents); a no-op when present.
system-deps:
	@bash scripts/system-deps.sh

translations-extract: venv
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext --no-location --sort-output \
		--project silk-road-marketplace -o locales/messages.pot marketplace

translations-update: translations-extract
	for l in $(LOCALES); do \
		$(BIN)/pybabel update -i locales/messages.pot -d locales -l $$l --no-fuzzy-matching --ignore-obsolete; \
	done

translations-compile: venv
	$(BIN)/pybabel compile -d locales --use-fuzzy --statistics 2>&1 | grep -v "^$$" | tail -n 6

migrate: venv
	mkdir -p instance
	$(BIN)/flask db upgrade

migration: venv
	$(BIN)/flask db revision -m "$(m)"

run: venv system-deps translations-compile migrate
	$(BIN)/flask reference load
	$(BIN)/flask demo load
	@echo
	@echo "  Silk Road Marketplace is serving on http://$(HOST):$(PORT)"
	@echo "    API docs:     http://$(HOST):$(PORT)/api/v1/docs"
	@echo "    OpenAPI:      http://$(HOST):$(PORT)/api/v1/openapi.json"
	@echo "    Health:       http://$(HOST):$(PORT)/healthz"
	@echo "    Jobs worker:  flask worker (queue: REDIS_URL, or instance/tasks.sqlite)"
	@echo
	$(BIN)/flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c config/gunicorn.conf.py wsgi:app

test: venv system-deps translations-compile
	@bash scripts/run-tests.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv system-deps translations-compile
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
