# ID Chat: two commands for a fresh Debian machine (as root).
#   make demo   — the whole stack with the core simulator; Ctrl-C (or SIGTERM) stops and cleans up
#   make test   — installs what is missing, then runs every test tier
VENV := .venv
PY := $(VENV)/bin/python
SERVER ?= prosody
DEMO_ARGS ?=

.PHONY: demo test test-js setup bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PY) scripts/demo.py --server $(SERVER) $(DEMO_ARGS)

# The JavaScript tests first (a second), then pytest, whose summary closes the output.
# pytest exits 5 when it collected no test: that is a failure here, not a pass.
test: setup
	@$(MAKE) --no-print-directory test-js; js=$$?; \
	  $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; rc=1; fi; \
	  if [ $$js -ne 0 ]; then echo "make test: the JavaScript tests failed" >&2; rc=1; fi; exit $$rc

# The web clients' pure functions under Node's built-in test runner (tests/js/run.sh fails
# on a failed, skipped or todo test, on a file without tests and on no test at all).
test-js:
	@bash tests/js/run.sh

bench: setup
	@$(PY) bench/http_sessions.py

clean:
	rm -rf run/ .pytest_cache
