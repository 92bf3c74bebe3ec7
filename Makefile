# OnPace — the two commands: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: help demo test lint typecheck unit integration browser bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements/dev.txt layers/deps/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The layers' lock constrains the tools' install too: the tests run the versions the functions ship.
	$(BIN)/pip install --quiet -r requirements/dev.txt -c layers/deps/requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP) ## replay the demo district's term on moto server, then serve the console (ARGS=--no-serve to exit)
	$(BIN)/onpace demo $(ARGS)

test: $(STAMP) ## lint, type-check and run the whole suite (installs Chromium for the browser tests, dynalite for the DynamoDB ones)
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-dynalite.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	# Two workers, each test file on one worker (its module fixtures, such as the demo run, once):
	# the suite takes about half as long, and no process holds a whole session of moto's state.
	$(BIN)/python -m pytest -n 2 --dist loadfile $(ARGS)

lint: $(STAMP) ## ruff only
	$(BIN)/ruff check .

typecheck: $(STAMP) ## mypy only
	$(BIN)/mypy

unit: $(STAMP) ## unit tests only
	$(BIN)/python -m pytest tests/unit $(ARGS)

integration: $(STAMP) ## integration tests against moto server (DynamoDB ones on dynalite too)
	bash scripts/ensure-dynalite.sh
	$(BIN)/python -m pytest tests/integration $(ARGS)

browser: $(STAMP) ## console tests in headless Chromium
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest tests/browser $(ARGS)

bench: $(STAMP) ## benchmarks (not part of the test suite)
	$(BIN)/python -m bench.run $(ARGS)

clean: ## remove the virtualenv, the installed dynalite and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tools/dynalite/node_modules

messages: $(STAMP) ## extract the notice templates' messages and merge them into every catalogue (docs/i18n.md)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header -o functions/notify/locales/messages.pot functions/notify/templates
	$(BIN)/pybabel update -D messages -i functions/notify/locales/messages.pot -d functions/notify/locales --no-fuzzy-matching --ignore-obsolete

catalogues: $(STAMP) ## compile the .po catalogues into the .mo files the notify function reads (committed)
	$(BIN)/pybabel compile -D messages -d functions/notify/locales --statistics
