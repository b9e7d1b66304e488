# Smallbatch — everyday commands. `make` alone runs the whole fleet in one process.
#
# uv drives everything. UV is `uv` when that runs, otherwise `python3 -m uv`, which the `uv`
# target installs with pip on first use. Override either on the command line:
#   make test UV="python3 -m uv"      make run PYTHON=python3.12

.DEFAULT_GOAL := run
SHELL := /bin/bash

PYTHON ?= python3
ifeq ($(origin UV),undefined)
UV := $(shell uv --version >/dev/null 2>&1 && echo uv || echo $(PYTHON) -m uv)
endif
COMPOSE ?= docker compose
PYTEST_ARGS ?=

.PHONY: run fleet migrate test test-fast test-fleet lint compose-up compose-down sync uv help

help:
	@echo "make run           the whole fleet in one process on http://127.0.0.1:8000 (default)"
	@echo "make fleet         each service as its own process (PostgreSQL, RabbitMQ, Redis)"
	@echo "make migrate       create the databases and run every service's migrations"
	@echo "make test          every test (needs PostgreSQL, RabbitMQ, Redis on 127.0.0.1)"
	@echo "make test-fast     every test but the fleet and chaos ones"
	@echo "make test-fleet    only the fleet and chaos tests"
	@echo "make lint          ruff check"
	@echo "make compose-up    the fleet in Docker Compose; make compose-down stops it"

run: sync
	$(UV) run --frozen python -m launcher embedded

fleet: sync
	$(UV) run --frozen python -m launcher fleet

migrate: sync
	$(UV) run --frozen python -m launcher migrate

# pytest exits 5 when it collected nothing: that is a failure here, never a silent pass.
define run_pytest
	@$(UV) run --frozen pytest $(1) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: pytest collected no tests" >&2; fi; exit $$rc
endef

test: sync
	$(call run_pytest,)

test-fast: sync
	$(call run_pytest,-m "not fleet and not chaos")

test-fleet: sync
	$(call run_pytest,-m "fleet or chaos")

lint: sync
	$(UV) run --frozen ruff check .

compose-up:
	$(COMPOSE) up --build --detach

compose-down:
	$(COMPOSE) down

sync: uv
	$(UV) sync --frozen

uv:
	@$(UV) --version >/dev/null 2>&1 || { \
	  echo "uv not found: installing it with pip" >&2; \
	  $(PYTHON) -m pip install --quiet --user uv 2>/dev/null \
	    || $(PYTHON) -m pip install --quiet uv \
	    || $(PYTHON) -m pip install --quiet --user --break-system-packages uv; \
	}
	@$(UV) --version >/dev/null 2>&1 || { echo "uv is still not runnable as '$(UV)'" >&2; exit 1; }
