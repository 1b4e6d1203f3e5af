# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The suites run on this many xdist workers (CI and this machine have 2 cores).
WORKERS ?= 2
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install run test lint format package check-deploy measure bench reliability clean vendor browser-test screenshots

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'pip==26.2.1'  # chalice 1.34 needs pip<26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Local stack: moto server + provisioning + seeds + chalice local + scheduler + S3 event bridge.
run: install
	$(PY) scripts/local_stack.py

## Lint, format check, the whole test suite with coverage, the packaged template, the pages in Chromium.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/coverage erase
	$(VENV)/bin/coverage run -m pytest -n $(WORKERS) -p no:cov
	$(VENV)/bin/coverage combine -q
	$(VENV)/bin/coverage report --skip-covered
	$(MAKE) --no-print-directory check-deploy
	$(MAKE) --no-print-directory browser-test

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Deploy artefacts (docs/deploy.md): the prod package with our merged template, its lint, its size.
## build/package: sam.json, deployment.zip (function code), layer.zip (dependencies, Lambda's wheels).
package: install
	$(PY) -m infra.template build/merge.json
	$(PY) scripts/lambda_package.py build/merge.json build/package

check-deploy: package
	$(VENV)/bin/cfn-lint build/package/sam.json
	@echo "cfn-lint: build/package/sam.json has no errors"

measure: package
	$(PY) scripts/measure.py build/package

## Requests per hot path, the nightly at 1x/20x not-due data, a 1M-lot projection (not part of `test`).
bench: install
	$(PY) scripts/bench.py

## Web pages (web/, README "Web pages"): their pinned third-party files, their browser tests, their pictures.
## The browser targets need Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium).
vendor: install
	$(PY) scripts/vendor_web.py

browser-test: install
	scripts/ensure_chromium.sh
	$(PY) -m pytest -m browser tests/browser

screenshots: install
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .coverage build

## The reliability suite (tests/reliability, marker `reliability`): access matrix, crash and resume, ledger model, fuzz, schemathesis, load; prints its figures.
reliability: install
	$(PY) -m pytest -n $(WORKERS) -m reliability tests/reliability -p no:logging -p no:cov -q
