#!/usr/bin/env bash
# Install what ID Chat needs and is missing: Debian packages, the venv, npm packages.
# Idempotent and quiet when everything is there already.
set -euo pipefail
cd "$(dirname "$0")/.."

# prosody-modules: mod_firewall (guest isolation, prosody/common.cfg.lua). ejabberd
# brings erlang-base, whose erlc compiles ejabberd/mod_idchat_guests.erl.
# prometheus: the monitoring test scrapes the test stack with Debian's real Prometheus.
# redis-sentinel: the Redis failover tests run a primary, a replica and three Sentinels.
# tzdata: opening hours are Europe/Amsterdam wall-clock time (zoneinfo; priority required
# on Debian 12, optional since Debian 13).
packages=(redis-server redis-sentinel prosody prosody-modules ejabberd chromium prometheus tzdata)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The project runs its own Redis, Prosody and ejabberd from run/ and test folders:
  # keep the packages' system services from starting (policy-rc.d, exit 101).
  policy=/usr/sbin/policy-rc.d
  [ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; trap 'rm -f "$policy"' EXIT; }
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages: exactly the versions and files in requirements.lock (pip checks every
# hash), then our own code without resolving anything again. Regenerate the lock after
# changing a dependency in pyproject.toml (CONTRIBUTING.md, "Dependencies").
if [ ! -x .venv/bin/python ] || [ pyproject.toml -nt .venv/.installed ] \
   || [ requirements.lock -nt .venv/.installed ]; then
  echo "setup: preparing the Python venv (requirements.lock)" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  touch .venv/.installed
fi

if [ -f web/package.json ] && { [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.installed ]; }; then
  echo "setup: installing the web packages (npm ci)" >&2
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  # Pre-compressed copies: the HTTP service sends converse.min.js (1.3 MB) as gzip.
  find web/node_modules/converse.js/dist -type f \( -name '*.js' -o -name '*.css' -o -name '*.svg' \) \
    -exec gzip -9 -k -f {} +
  touch web/node_modules/.installed
fi
