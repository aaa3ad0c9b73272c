# Kinward: `make run` to try it, `make test` to check it. Needs only Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATABASE ?= sqlite:///$(CURDIR)/var/kinward.sqlite
HOST ?= 127.0.0.1
PORT ?= 8000
export KINWARD_DATABASE_URL ?= $(DATABASE)

.PHONY: run demo-reset test install install-test browser unit e2e bench fuzz clean migration

$(BIN)/kinward: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

install: $(BIN)/kinward

$(VENV)/.test-deps: $(BIN)/kinward
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install-test: $(VENV)/.test-deps

run: install
	mkdir -p var
	$(BIN)/kinward migrate
	$(BIN)/kinward demo --if-empty
	$(BIN)/kinward serve --host $(HOST) --port $(PORT)

# Start the demo afresh: empties the database (development only) and seeds the demo facility again.
demo-reset: install
	mkdir -p var
	$(BIN)/kinward migrate
	$(BIN)/kinward demo --reset

# A Chromium for the end-to-end tests: Playwright's own where it can be downloaded,
# otherwise the system's (Debian/Ubuntu packages `chromium` and `chromium-headless-shell`).
browser: install-test
	@$(BIN)/python -m e2e.browser --ensure

unit: install-test
	$(BIN)/python -m pytest tests -q

e2e: browser
	$(BIN)/python -m pytest e2e -q

# The suite in parallel processes, one per core (TEST_PROCESSES=0 runs it in this one); the browser tests
# come in two parts, each one unit of work with a server and demo data of its own (e2e/conftest.py).
# The 25 slowest steps are listed at the end, to see where the time goes.
TEST_PROCESSES ?= auto
test: install-test browser
	$(BIN)/python -m pytest tests e2e -q -n $(TEST_PROCESSES) --dist loadgroup --durations=25

# The route fuzzer's long run (make test runs a few examples per route): FUZZ_EXAMPLES per route.
FUZZ_EXAMPLES ?= 200
fuzz: install-test
	KINWARD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/web/test_route_fuzz.py -q -s \
		-W ignore::hypothesis.errors.HypothesisWarning

bench: install-test
	$(BIN)/python benchmarks/db_engine.py
	$(BIN)/python benchmarks/pages.py
	$(BIN)/python benchmarks/loop_stall.py

# After changing a tables.py: generate the next migration.
migration: install
	PICCOLO_CONF=app.db $(BIN)/piccolo migrations new kinward --auto

clean:
	rm -rf $(VENV) var .pytest_cache
