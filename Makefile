# Two commands: `make run` (Studio on this machine) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
STUDIO_PORT ?= 8000
STUDIO_DATA_DIR ?= $(CURDIR)/var
STUDIO_PUBLIC_URL ?= http://127.0.0.1:$(STUDIO_PORT)
export STUDIO_PORT STUDIO_PUBLIC_URL
export STUDIO_DATA_DIR := $(abspath $(STUDIO_DATA_DIR))
# `make run` serves plain http on this machine only.
# The local scaler starts cluster/instance nodes as local processes (off when STUDIO_SCALER_COMMAND is set).
STUDIO_LOCAL_SCALER ?= true
RUN_ENV := DEBUG=false STUDIO_SECURE_SSL=false ALLOWED_HOSTS=127.0.0.1,localhost STUDIO_LOCAL_SCALER=$(STUDIO_LOCAL_SCALER)

.PHONY: run test venv lint contracts bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip install -q --python $(VENV)/bin/python -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	mkdir -p "$(STUDIO_DATA_DIR)"
	test -s "$(STUDIO_DATA_DIR)/secret_key" || $(VENV)/bin/python -c "import secrets; print(secrets.token_urlsafe(50))" > "$(STUDIO_DATA_DIR)/secret_key"
	$(RUN_ENV) $(VENV)/bin/python manage.py migrate --noinput -v0
	$(RUN_ENV) $(VENV)/bin/python manage.py collectstatic --noinput -v0
	$(RUN_ENV) $(VENV)/bin/python manage.py studio_bootstrap
	@echo "Studio on http://127.0.0.1:$(STUDIO_PORT)/  (data in $(STUDIO_DATA_DIR); Ctrl-C stops everything)"
	$(RUN_ENV) exec $(VENV)/bin/honcho start -f Procfile

test: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: contracts
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

# The layer contract (pyproject [tool.importlinter]) and the typed modules (pyproject [tool.mypy]).
contracts: venv
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Benchmarks print figures; dispatch and jobs need Redis (CELERY_BROKER_URL), env_builds Docker.
bench: venv
	$(VENV)/bin/python bench/pages.py
	$(VENV)/bin/python bench/models.py
	$(VENV)/bin/python bench/env_builds.py
	$(VENV)/bin/python bench/metrics.py
	$(VENV)/bin/python bench/dispatch.py
	$(VENV)/bin/python bench/jobs.py
	$(VENV)/bin/python bench/data.py
	$(VENV)/bin/python bench/datastore_check.py
	$(VENV)/bin/python bench/endpoints.py
	$(VENV)/bin/python bench/sweeps.py
	$(VENV)/bin/python bench/pipelines.py
	$(VENV)/bin/python bench/schedules.py

clean:
	rm -rf $(VENV) var
