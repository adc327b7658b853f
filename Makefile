# The one interface people and CI use. `make run` starts the product locally, `make test` proves it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

# Find a Python 3.12: on PATH, through pyenv, or in pyenv's versions folder.
PYTHON312 ?= $(shell for c in python3.12 "env PYENV_VERSION=3.12.1 python3.12" $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
	p=$$($$c -c 'import sys; print(sys.executable) if sys.version_info[:2] == (3, 12) else None' 2>/dev/null) && [ -n "$$p" ] && [ "$$p" != None ] && { echo $$p; break; }; done)

.PHONY: help env run test test-ahead lint types unit integration e2e infra-test bench fuzz lock calendar clean build-artifact artifact-requirements browser

help:
	@echo "make run    start Trigly locally (embedded AWS emulation, demo tenant) on http://127.0.0.1:$${PORT:-3000}"
	@echo "make test   install everything and run lint, types and every test suite"
	@echo "make bench  run the benchmarks (results go to docs/benchmarks.md)"
	@echo "make fuzz   fuzz every API operation from /openapi.json for longer than make test does"

$(UV):
	@if [ -z "$(PYTHON312)" ]; then \
		echo "Trigly needs Python 3.12 (Lambda's runtime). None was found on PATH or under ~/.pyenv."; \
		echo "Install it (e.g. 'pyenv install 3.12' or your OS package) or run: make PYTHON312=/path/to/python3.12 ..."; \
		exit 1; fi
	@echo "==> bootstrapping uv $(UV_VERSION) with $(PYTHON312)"
	@$(PYTHON312) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	@echo "==> installing locked dependencies into $(VENV)"
	@$(UV) sync --frozen --python $(PYTHON312) --quiet
	@touch $@

env: $(VENV)/.synced

run: env
	@$(PY) -m infra.local

lint: env
	@echo "==> ruff (lint + format check)"
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

types: env
	@echo "==> mypy (strict on shared/)"
	@$(VENV)/bin/mypy

unit: env
	@echo "==> unit tests (pure domain, no sockets)"
	@$(VENV)/bin/pytest -q tests/unit

infra-test: env
	@echo "==> template tests (cfn-lint, SAM translate, deploy into moto)"
	@$(VENV)/bin/pytest -q tests/infrastructure

integration: env
	@echo "==> integration tests (handlers with real AWS event shapes against moto)"
	@$(VENV)/bin/pytest -q tests/integration

# Browser tests drive Debian's Chromium (Playwright cannot download its own browsers here).
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	echo "==> installing Debian's chromium for the browser tests (apt-get)"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
		echo "Browser tests need $(CHROMIUM). Install it as root: apt-get install -y --no-install-recommends chromium"; \
		exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	if ! { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
		|| [ ! -x $(CHROMIUM) ]; then \
		echo "Could not install Debian's chromium package; browser tests need $(CHROMIUM)."; \
		exit 1; fi; \
	$(CHROMIUM) --version 2>/dev/null

e2e: env browser
	@echo "==> end-to-end tests (the local stack over HTTP)"
	@$(VENV)/bin/pytest -q tests/e2e

test: lint types browser
	@echo "==> all test suites"
	@$(VENV)/bin/pytest -q -n 2 --dist loadfile tests

# The same suites with business time starting a year ahead of the wall clock: a test that pins a
# date the wall clock will pass fails here today instead of on that day.
test-ahead: lint types browser
	@echo "==> all test suites, business time one year ahead"
	@TRIGLY_CLOCK_AHEAD=P1Y $(VENV)/bin/pytest -q -n 2 --dist loadfile tests

bench: env
	@$(PY) -m benchmarks

# The same schemathesis run `make test` makes (2 examples per operation and phase), 25 times longer.
FUZZ_EXAMPLES ?= 50
fuzz: env
	@echo "==> fuzzing every API operation ($(FUZZ_EXAMPLES) examples each)"
	@TRIGLY_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -q -p no:randomly tests/integration/test_api_fuzz.py

lock: $(UV)
	@$(UV) lock --python $(PYTHON312)

# The Russian production calendar the booking slots follow, from the `holidays` package: run
# after upgrading it (a unit test says when the shipped data is behind).
calendar: env
	@$(PY) -m trigly.booking.calendar

# SAM's `BuildMethod: makefile` calls build-<LogicalId>; every function gets the same artifact.
build-WebhookFunction build-IngestFunction build-ApiFunction build-SchedulerFunction build-OutboundFunction build-ChannelWorkerFunction build-ImportFunction build-FeedbackFunction build-AnalyticsFunction build-AnalyticsCompactionFunction:
	@$(MAKE) --no-print-directory build-artifact

# What Lambda gets: the runtime dependencies only (no dev or bench groups).
artifact-requirements: $(UV)
	@$(UV) export --frozen --no-default-groups --no-hashes --no-emit-project --quiet

build-artifact: $(UV)
	@$(MAKE) --no-print-directory artifact-requirements > $(ARTIFACTS_DIR)/requirements.txt
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r $(ARTIFACTS_DIR)/requirements.txt \
		--platform manylinux2014_aarch64 --implementation cp --python-version 3.12 --only-binary=:all: -t $(ARTIFACTS_DIR)
	@cp -r shared/trigly functions $(ARTIFACTS_DIR)/
	@rm -f $(ARTIFACTS_DIR)/requirements.txt
	@# phonenumbers' geocoding and carrier data (~19 MB) are never imported; keep the artifact small.
	@rm -rf $(ARTIFACTS_DIR)/phonenumbers/geodata $(ARTIFACTS_DIR)/phonenumbers/carrierdata
	@# Lambda's file system is read-only: ship bytecode so cold starts do not recompile.
	@$(PYTHON312) -m compileall -q --invalidation-mode unchecked-hash $(ARTIFACTS_DIR)/trigly $(ARTIFACTS_DIR)/functions

clean:
	rm -rf $(VENV) $(TOOLS) .trigly .pytest_cache .mypy_cache .ruff_cache
