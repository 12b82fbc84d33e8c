# Every target sets up what it needs: a fresh clone only needs `make run` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
SETUP_LOG := $(VENV)/setup.log
# Set-up steps say one line each; a step's own output goes to $(SETUP_LOG), shown if it fails.
QUIETLY = >>$(SETUP_LOG) 2>&1 || { cat $(SETUP_LOG); echo "set-up failed (log: $(SETUP_LOG))"; exit 1; }

.DEFAULT_GOAL := help
.PHONY: help run test unit integration lint fmt bench package deploy dashboards docs docs-check system-packages clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "opsbundle needs Python 3.11 or later as $(PYTHON)"; exit 2; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { echo "installing python3-venv"; \
		apt-get update -qq >/dev/null && apt-get install -y -qq python3-venv >/dev/null; }
	@echo "creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV) && : > $(SETUP_LOG)
	@echo "upgrading pip"
	@$(BIN)/pip install -q --upgrade pip $(QUIETLY)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing opsbundle and what it needs to run"
	@$(BIN)/pip install -q -e . $(QUIETLY)
	@touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing opsbundle with the test and lint tools"
	@$(BIN)/pip install -q -e '.[dev]' $(QUIETLY)
	@touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP) ## preview the lead report on the built-in sample data (nothing is posted)
	$(BIN)/opsbundle report run --source sample --dry-run

system-packages: ## Debian packages the checks run for real (Prometheus, Pushgateway, node_exporter; Chromium)
	@scripts/ensure-system-packages

test: $(STAMP) ## the whole test suite: unit, then integration against local servers
	@scripts/ensure-system-packages tests
	$(BIN)/pytest -q -m unit
	$(BIN)/pytest -q -m integration

unit: $(STAMP) ## unit tests only (no network)
	$(BIN)/pytest -q -m unit

integration: $(STAMP) ## integration tests only (local servers on 127.0.0.1)
	@scripts/ensure-system-packages tests
	$(BIN)/pytest -q -m integration

REPORTS := $(if $(wildcard reports.yml),reports.yml,reports.example.yml)

lint: $(STAMP) docs-check ## ruff, mypy, the reports file, cfn-lint and checkov on every template, parliament on every IAM policy, the manual
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/opsbundle report validate reports.example.yml
	@if [ -f reports.yml ]; then $(BIN)/opsbundle report validate reports.yml; fi
	@rm -rf .cache/rendered && $(BIN)/python -m opsbundle.deployment.report_stack $(REPORTS) .cache/rendered
	@bin=$$(.ci/cfn-tools.sh) && $$bin/cfn-lint cloudformation/*.yaml .cache/rendered/*.json && \
	  $$bin/checkov -d cloudformation --framework cloudformation --quiet --compact --skip-download && \
	  $$bin/checkov -d .cache/rendered --framework cloudformation --quiet --compact --skip-download
	.ci/iam-lint.sh

# Material for MkDocs prints a banner about its successor on every run; the build says enough.
DOCS_ENV := NO_MKDOCS_2_WARNING=1

docs: $(STAMP) ## serve the manual (docs/) on http://127.0.0.1:8000, rebuilt as you edit
	$(DOCS_ENV) $(BIN)/mkdocs serve

docs-check: $(STAMP) ## build the manual strictly (a broken link or page fails) and render every diagram in Chromium
	@scripts/ensure-system-packages docs
	$(DOCS_ENV) $(BIN)/mkdocs build --strict --quiet
	$(BIN)/python scripts/check_docs_diagrams.py .cache/site

fmt: $(STAMP) ## format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## every benchmark in bench/ (each prints its figures and its budget)
	@failed=""; for script in bench/*_bench.py; do echo "== $$script"; \
		$(BIN)/python $$script || failed="$$failed $$script"; done; \
	if [ -n "$$failed" ]; then echo "over budget:$$failed"; exit 1; fi

dashboards: $(RUN_STAMP) ## write the Grafana dashboards and Prometheus rules to dashboards/generated/
	$(BIN)/opsbundle dashboards build

deploy: package ## deploy every stack to ENV (make deploy ENV=dev), asking before each change
	$(BIN)/opsbundle deploy --env $(or $(ENV),dev)

package: $(STAMP) ## one zip per Lambda under dist/
	$(BIN)/python -m opsbundle.deployment.packaging dist

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) dist .pytest_cache .mypy_cache .ruff_cache
