# Set-up and everyday commands. Each target builds .venv from the pinned dependencies first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: demo docs test bench lint format lock clean

# The scripts, styles and fonts the Data Docs load from CDNs, vendored from the npm registry at
# the versions package-lock.json pins (tonghop/data/data_docs/assets.txt lists what is taken).
VENDOR := tonghop/data/data_docs/vendor
ASSETS := tonghop/data/data_docs/assets.txt

$(VENDOR)/.complete: package.json package-lock.json $(ASSETS)
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR)
	grep -v '^#' $(ASSETS) | while read -r asset; do \
		[ -n "$$asset" ] || continue; \
		mkdir -p "$(VENDOR)/$$(dirname "$$asset")"; \
		cp -R "node_modules/$$asset" "$(VENDOR)/$$asset"; \
	done
	touch $@

$(BIN)/tonghop: pyproject.toml constraints.txt $(VENDOR)/.complete
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip 2>/dev/null
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@test -x $(BIN)/tonghop
	@touch $(BIN)/tonghop

demo: $(BIN)/tonghop
	$(BIN)/tonghop demo

# The first two pages of each drafted report of the demo and the first page of each of its
# workbooks, printed by LibreOffice, as PNG files in docs/ (needs libreoffice-writer-nogui,
# libreoffice-calc-nogui and poppler-utils).
docs: demo
	$(BIN)/python -m tests.rendering workspace/published/$$(ls workspace/published | sort | tail -1) docs

# Tests run in parallel, one worker per core by default, each test file on one worker (module
# fixtures are built once); e.g. `make test TEST_WORKERS=1` for one process.
TEST_WORKERS ?= auto

test: $(BIN)/tonghop
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# Measures the pipeline against the reading floor and a naive baseline at N = 2,000 and 20,000
# forms on SQLite and appends the figures to bench/results.md; options in bench/run.py, e.g.
# make bench BENCH_ARGS="--forms 300 --skip-naive --no-record".
bench: $(BIN)/tonghop
	$(BIN)/python -m bench.run $(BENCH_ARGS)

format: $(BIN)/tonghop
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-freeze constraints.txt after changing a dependency in pyproject.toml.
lock: $(BIN)/tonghop
	(echo "# Every package of a working environment, frozen with 'make lock'; make installs with these as constraints so a fresh machine gets the same versions."; \
	 $(BIN)/pip freeze --exclude-editable) > constraints.txt

# Removes only what the build made: the virtualenv, build output and caches. Never ./workspace,
# which is also the default production workspace (the demo's is rebuilt by `make demo` anyway).
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache bench/.cache node_modules $(VENDOR)
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
