# ID Chat: two commands for a fresh Debian machine (as root).
#   make demo   — the whole stack with the core simulator; Ctrl-C (or SIGTERM) stops and cleans up
#   make test   — installs what is missing, then lints, type-checks and runs every test tier
VENV := .venv
PY := $(VENV)/bin/python
SERVER ?= prosody
DEMO_ARGS ?=

.PHONY: demo test test-js lint setup bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PY) scripts/demo.py --server $(SERVER) $(DEMO_ARGS)

# The JavaScript tests first (a second), then ruff and mypy (seconds), then pytest, whose
# summary closes the output. Each part runs even when an earlier one failed; any failure
# fails make test. pytest exits 5 when it collected no test: a failure here, not a pass.
test: setup
	@$(MAKE) --no-print-directory test-js; js=$$?; \
	  $(MAKE) --no-print-directory lint; lint=$$?; \
	  $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; rc=1; fi; \
	  if [ $$js -ne 0 ]; then echo "make test: the JavaScript tests failed" >&2; rc=1; fi; \
	  if [ $$lint -ne 0 ]; then echo "make test: ruff or mypy found problems (make lint)" >&2; rc=1; fi; \
	  exit $$rc

# Lint (ruff) and static types (mypy), both configured in pyproject.toml; both always run.
lint:
	@rc=0; $(PY) -m ruff check . || rc=1; $(PY) -m mypy || rc=1; exit $$rc

# The web clients' pure functions under Node's built-in test runner (tests/js/run.sh fails
# on a failed, skipped or todo test, on a file without tests and on no test at all).
test-js:
	@bash tests/js/run.sh

bench: setup
	@$(PY) bench/http_sessions.py

clean:
	rm -rf run/ .pytest_cache .mypy_cache .ruff_cache
