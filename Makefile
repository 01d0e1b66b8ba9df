# ID Chat: two commands for a fresh Debian machine (as root).
#   make demo   — the whole stack with the core simulator; Ctrl-C (or SIGTERM) stops and cleans up
#   make test   — installs what is missing, then runs every test tier
VENV := .venv
PY := $(VENV)/bin/python
SERVER ?= prosody
DEMO_ARGS ?=

.PHONY: demo test setup bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PY) scripts/demo.py --server $(SERVER) $(DEMO_ARGS)

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
test: setup
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; exit $$rc

bench: setup
	@$(PY) bench/http_sessions.py

clean:
	rm -rf run/ .pytest_cache
